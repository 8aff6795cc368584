#!/usr/bin/env bash
# Response headers larger than curl takes (one 4 MiB header line; 4 MB of
# header lines) fail at once with an error that says so: not "Out of
# memory", not retried (the same server sends the same headers again).
# The worker's memory stays bounded meanwhile.
. "$(dirname "$0")/../lib.sh"

t_db
t_fault_server
t_broker --heartbeat-ms 200
t_worker w1 --slots 4
t_wait_workers 1
F="http://127.0.0.1:$FAULT_PORT"
retry='"retry": {"max_attempts": 3, "backoff_ms": 50, "jitter_pct": 0}'
{
    echo "{\"url\": \"$F/bighead?line=4194304\", $retry, \"tag\": \"line\"}"
    echo "{\"url\": \"$F/bighead?lines=4000\", $retry, \"tag\": \"lines\"}"
    echo "{\"url\": \"$F/bighead?lines=20\", $retry, \"tag\": \"fine\"}"
} > "$T_DIR/tasks.jsonl"
job=$(shoal submit "$T_DIR/tasks.jsonl" --name big-headers -q)
t_wait_done "$job" 60
shoal results "$job" > "$T_DIR/results.jsonl"
r() { jq -r "select(.tag == \"$1\") | $2" "$T_DIR/results.jsonl"; }

for tag in line lines; do
    t_assert_eq "$tag: failed on the first attempt" "failed|1" "$(r $tag '"\(.outcome)|\(.attempt)"')"
    err=$(r $tag .error)
    t_log "$tag: $err"
    grep -q "response headers too large" <<<"$err" || t_fail "$tag: the error does not say the headers are too large: $err"
    grep -qi "out of memory" <<<"$err" && t_fail "$tag: the error blames memory: $err"
done
t_assert_eq "no attempt was retried" 0 "$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $job")"
t_assert_eq "20 kB of headers are fine" "ok|200" "$(r fine '"\(.outcome)|\(.http.status)"')"
rss=$(awk '/VmRSS/ { print $2 }' "/proc/${PID[w1]}/status")
t_log "worker RSS after: $((rss / 1024)) MB"
[ "$rss" -lt $((64 * 1024)) ] || [ "${SHOAL_SANITIZED:-0}" = 1 ] || t_fail "worker RSS reached $((rss / 1024)) MB"
t_log "pass"
