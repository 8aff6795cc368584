#!/usr/bin/env bash
# A job of 2,000,000 noop tasks: the broker holds only a window of it in
# memory. Its RSS, sampled throughout the submit and the run, stays under
# 150 MB (docs/architecture.md explains the bound).
. "$(dirname "$0")/../lib.sh"
[ "${SHOAL_SANITIZED:-0}" = 1 ] && t_skip "memory figures are meaningless under AddressSanitizer"

bound_kb=$((150 * 1024))
t_db
t_broker --heartbeat-ms 200 --liveness 5
t_worker w1 --slots 64
t_worker w2 --slots 64
t_wait_workers 2

rss() { awk '/VmRSS/ { print $2 }' "/proc/${PID[broker]}/status"; }
max=0
sample() { local r; r=$(rss); [ "$r" -gt "$max" ] && max=$r; echo "$r" >> "$T_DIR/rss"; }

shoal submit --count 2000000 --name two-million --chunk 5000 -q > "$T_DIR/job" &
submit=$!
while kill -0 $submit 2>/dev/null; do sample; sleep 0.2; done
wait $submit || t_fail "the submit failed"
job=$(cat "$T_DIR/job")
t_log "submitted; broker RSS so far at most $((max / 1024)) MB"
deadline=$(( $(date +%s) + 300 ))
until t_job_done "$job"; do
    sample
    [ "$(date +%s)" -lt $deadline ] || t_fail "job not done in 300 s"
    sleep 0.2
done
sample
t_log "broker RSS: at most $((max / 1024)) MB over $(wc -l < "$T_DIR/rss") samples (bound $((bound_kb / 1024)) MB)"
[ "$max" -lt "$bound_kb" ] || t_fail "broker RSS reached $((max / 1024)) MB"
t_assert_eq "results" 2000000 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job")"
t_assert_eq "job state" done "$(t_sql "SELECT state FROM jobs WHERE id = $job")"
t_log "pass"
