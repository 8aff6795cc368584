#!/usr/bin/env bash
# Per-host politeness, verified from the server's side: at most N requests
# at once per host, at most R requests per second per host, and a host
# answering 429 without end slows down alone: the other hosts' tasks go
# on at full speed.
. "$(dirname "$0")/../lib.sh"

t_db
t_fault_server
t_broker --heartbeat-ms 200
t_worker w1 --slots 32
t_worker w2 --slots 32
t_wait_workers 2
url() { echo "http://127.0.0.$1:$FAULT_PORT/$2"; }
stat() { t_fault_stats | jq -r --arg h "127.0.0.$1:$FAULT_PORT" ".[\$h].$2"; }
reset_stats() { curl -s "http://127.0.0.1:$FAULT_PORT/reset-stats" > /dev/null; }

# 1) concurrency: 3 hosts, 40 slow requests each, at most 2 at once per host
for h in 2 3 4; do for i in $(seq 1 40); do echo "{\"url\": \"$(url $h 'slow?ms=60')\"}"; done; done > "$T_DIR/conc.jsonl"
job=$(shoal submit "$T_DIR/conc.jsonl" --per-host 2 --name per-host -q)
t_wait_done "$job" 120
for h in 2 3 4; do
    t_assert_eq "host 127.0.0.$h: most requests at once" 2 "$(stat $h max_concurrent)"
    # connections are kept alive and reused: 40 requests, a handful of connections
    conns=$(stat $h connections)
    [ "$conns" -le 4 ] || t_fail "host 127.0.0.$h: $conns connections for 40 requests (no reuse)"
done
t_log "ok: connections reused ($(t_fault_stats | jq -c '[.[] | .connections]'))"
t_assert_eq "all ok" 120 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok'")"
reset_stats

# 2) rate: 2 hosts, 30 requests each, at most 10 per second per host
for h in 2 3; do for i in $(seq 1 30); do echo "{\"url\": \"$(url $h ok)\"}"; done; done > "$T_DIR/rate.jsonl"
job=$(shoal submit "$T_DIR/rate.jsonl" --rate-per-host 10 --name rate -q)
t_wait_done "$job" 120
for h in 2 3; do
    per_s=$(stat $h max_per_second)
    span=$(stat $h span_s)
    t_log "host 127.0.0.$h: at most $per_s requests in any second, 30 requests over ${span}s"
    [ "$per_s" -le 11 ] || t_fail "host 127.0.0.$h saw $per_s requests in one second (limit 10)"
    awk -v s="$span" 'BEGIN { exit !(s >= 2.8) }' || t_fail "30 requests at 10/s took only ${span}s"
done
reset_stats

# 3) one host answers 429 forever: the others go on at full speed.
#    Baseline first: the same healthy tasks alone, in this run.
healthy() { for h in 3 4; do for i in $(seq 1 300); do echo "{\"url\": \"$(url $h 'slow?ms=20')\"}"; done; done; }
healthy > "$T_DIR/healthy.jsonl"
t0=$(date +%s%3N)
base=$(shoal submit "$T_DIR/healthy.jsonl" --per-host 8 --name baseline -q)
t_wait_done "$base" 120
base_ms=$(( $(date +%s%3N) - t0 ))
{ for i in $(seq 1 20); do echo "{\"url\": \"$(url 2 'status/429?retry_after=1')\"}"; done; healthy; } > "$T_DIR/mixed.jsonl"
t0=$(date +%s%3N)
mixed=$(shoal submit "$T_DIR/mixed.jsonl" --per-host 8 --max-attempts 3 --name mixed -q)
t_wait "the healthy hosts' tasks done" 120 bash -c "[ \$(psql '$DB' -qAtXc \"SELECT count(*) FROM results WHERE job_id = $mixed AND seq >= 20\") = 600 ]"
mixed_ms=$(( $(date +%s%3N) - t0 ))
ratio=$(awk -v m="$mixed_ms" -v b="$base_ms" 'BEGIN { printf "%.2f", m / b }')
t_log "600 healthy tasks: ${base_ms} ms alone, ${mixed_ms} ms beside a host answering 429 (ratio $ratio)"
awk -v r="$ratio" 'BEGIN { exit !(r < 1.6) }' || t_fail "the healthy hosts slowed down ($ratio x)"
# the 429 host was throttled as a whole: after a round of 8 answered 429,
# Retry-After (1 s) holds every task for that host, not only the 8 retried
t429=$(stat 2 max_per_second)
t_log "the 429 host got at most $t429 requests in any second"
[ "$t429" -le 12 ] || t_fail "the 429 host was not throttled ($t429 requests in one second)"
t_wait_done "$mixed" 120
t_assert_eq "429 tasks failed after 3 attempts" 20 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $mixed AND outcome = 'failed' AND attempt = 3 AND http_status = 429")"
t_log "pass"
