#!/usr/bin/env bash
# A server's Retry-After is honoured up to a cap: the broker's
# --retry-after-max-ms, or the job's retry_after_max_ms. A host that asks
# for a day is tried again after the cap, and `shoal status` shows the host
# held back and until when.
. "$(dirname "$0")/../lib.sh"

t_db
t_fault_server
t_broker --heartbeat-ms 200 --retry-after-max-ms 3000
t_worker w1 --slots 4
t_wait_workers 1
url() { echo "http://127.0.0.$1:$FAULT_PORT/$2"; }
held_host() { shoal -o json status "$1" | jq -r '.held_hosts[0].host // empty'; }
held_until_s() { shoal -o json status "$1" | jq -r '(.held_hosts[0].until_us // 0) / 1000000 | floor'; }

# 1) the broker's cap: Retry-After one day, held back 3 s
echo "{\"url\": \"$(url 2 'flaky/day?fail=1&status=429&retry_after=86400')\"}" > "$T_DIR/day.jsonl"
asked=$(date +%s)
job=$(shoal submit "$T_DIR/day.jsonl" --name day -q)
t_wait "the host held back" 30 t_test_eq "127.0.0.2:$FAULT_PORT" held_host "$job"
until_s=$(held_until_s "$job")
t_log "held back until $until_s (asked at $asked)"
[ "$until_s" -le $((asked + 3 + 10)) ] || t_fail "held back until $until_s: past the 3 s cap (asked at $asked)"
[ "$until_s" -ge "$asked" ] || t_fail "held back until $until_s, before the request ($asked)"
shoal status "$job" | grep -qE "held back +until .* 127\.0\.0\.2:$FAULT_PORT" \
    || t_fail "shoal status does not show the held host: $(shoal status "$job")"
t_wait_done "$job" 60
t_assert_eq "outcome" ok "$(t_sql "SELECT outcome FROM results WHERE job_id = $job")"
t_assert_eq "attempt" 2 "$(t_sql "SELECT attempt FROM results WHERE job_id = $job")"
t_assert_eq "no host held back after" "" "$(held_host "$job")"
retry_at=$(t_sql "SELECT extract(epoch FROM retry_at - finished_at) FROM attempts WHERE job_id = $job")
t_log "the attempt's retry_at is ${retry_at}s after it finished"
awk -v d="$retry_at" 'BEGIN { exit !(d >= 2.9 && d <= 5) }' || t_fail "retry_at ${retry_at}s after the attempt, not the 3 s cap"

# 2) the job's own cap (a job option) wins over the broker's
echo "{\"url\": \"$(url 3 'flaky/job?fail=1&status=503&retry_after=86400')\"}" > "$T_DIR/job.jsonl"
job=$(shoal submit "$T_DIR/job.jsonl" --name job-cap --defaults '{"retry_after_max_ms": 1500}' -q)
t_wait_done "$job" 60
retry_at=$(t_sql "SELECT extract(epoch FROM retry_at - finished_at) FROM attempts WHERE job_id = $job")
awk -v d="$retry_at" 'BEGIN { exit !(d >= 1.4 && d <= 2.8) }' || t_fail "retry_at ${retry_at}s after the attempt, not the job's 1.5 s cap"
t_log "ok: the job's cap: retry ${retry_at}s after"

# 3) a Retry-After below the backoff does not shorten it; one above it, below the cap, is honoured
echo "{\"url\": \"$(url 4 'flaky/two?fail=1&status=429&retry_after=2')\"}" > "$T_DIR/two.jsonl"
job=$(shoal submit "$T_DIR/two.jsonl" --name two --backoff-ms 100 -q)
t_wait_done "$job" 60
retry_at=$(t_sql "SELECT extract(epoch FROM retry_at - finished_at) FROM attempts WHERE job_id = $job")
awk -v d="$retry_at" 'BEGIN { exit !(d >= 1.9 && d <= 2.9) }' || t_fail "retry_at ${retry_at}s after the attempt, not Retry-After's 2 s"
t_log "pass"
