#!/usr/bin/env bash
# The S3 server is down: uploads fail with a connection error, which is
# retryable, so the tasks wait with backoff; when the server is back every
# task ends ok and every object is there. "Down" is a relay in front of
# moto_server that is stopped and started again (moto keeps its state).
. "$(dirname "$0")/s3.bash"

t_db
t_nginx
s3_moto
s3py bucket shoal
FWD_PORT=$(t_port)
relay_up() {
    python3 "$S3_CHECK" forward "$S3_EP" "$FWD_PORT" > "$T_DIR/relay.out" 2>>"$T_DIR/relay.log" &
    PID[relay]=$!
    t_wait "the relay" 10 grep -q listening "$T_DIR/relay.out"
}
relay_up
for i in $(seq 1 20); do head -c 2000 /dev/urandom > "$T_DIR/www/$i.bin"; done
t_broker
t_worker w1 --slots 8 --s3-endpoint "http://127.0.0.1:$FWD_PORT" --s3-path-style
t_wait_workers 1
kill "${PID[relay]}"
wait "${PID[relay]}" 2>/dev/null || true
N="http://127.0.0.1:$NGINX_PORT"
for i in $(seq 1 20); do
    echo "{\"url\": \"$N/$i.bin\", \"s3_key\": \"o/{{filename}}\"}"
done > "$T_DIR/tasks.jsonl"
job=$(shoal submit "$T_DIR/tasks.jsonl" --name s3-outage -q \
      --defaults '{"store": "s3", "s3_bucket": "shoal", "max_attempts": 50, "backoff_ms": 200, "backoff_max_ms": 1000}')
failed_uploads() { t_sql "SELECT count(DISTINCT seq) FROM attempts WHERE job_id = $job AND error LIKE 'S3 PUT s3://shoal/o/%: Couldn''t connect to server%'"; }
t_wait "every task failed an upload" 60 t_test_eq 20 failed_uploads
t_assert_eq "nothing finished while S3 is down" 0 "$(t_results "$job")"
relay_up
t_wait_done "$job" 120
t_assert_eq "all stored after the outage" 20 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok' AND attempt > 1 AND body_url LIKE 's3://shoal/o/%.bin'")"
s3py objects shoal > "$T_DIR/objects.txt"
for i in $(seq 1 20); do
    want="o/$i.bin 2000 $(sha256sum < "$T_DIR/www/$i.bin" | cut -d' ' -f1)"
    grep -qx "$want .*" "$T_DIR/objects.txt" || t_fail "object o/$i.bin missing or wrong"
done
t_log "ok: 20 objects with the right SHA-256"
t_log "pass"
