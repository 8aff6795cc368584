#!/usr/bin/env bash
# HTTP failures and how they are retried: 429 with Retry-After, 503 then
# 200, a response slower than the timeout, a connection reset, a 404
# (permanent unless the job says otherwise), and an endless body cut at
# max_response_bytes while the worker's memory stays bounded.
. "$(dirname "$0")/../lib.sh"

t_db
t_fault_server
t_broker --heartbeat-ms 200
t_worker w1 --slots 8
t_wait_workers 1
F="http://127.0.0.1:$FAULT_PORT"
retry='"retry": {"max_attempts": 3, "backoff_ms": 100, "jitter_pct": 0}'
{
    echo "{\"url\": \"$F/status/429?retry_after=1\", $retry, \"tag\": \"429\"}"
    echo "{\"url\": \"$F/flaky/a?fail=1&status=503\", $retry, \"tag\": \"503-then-200\"}"
    echo "{\"url\": \"$F/slow?ms=3000\", \"timeout_ms\": 400, \"retry\": {\"max_attempts\": 2, \"backoff_ms\": 50}, \"tag\": \"slow\"}"
    echo "{\"url\": \"$F/reset\", $retry, \"tag\": \"reset\"}"
    echo "{\"url\": \"$F/status/404\", $retry, \"tag\": \"404\"}"
} > "$T_DIR/tasks.jsonl"
job=$(shoal submit "$T_DIR/tasks.jsonl" --name faults -q)
t_wait_done "$job" 60
shoal results "$job" > "$T_DIR/results.jsonl"
r() { jq -c "select(.tag == \"$1\")" "$T_DIR/results.jsonl"; }
attempts() { t_sql "SELECT string_agg(outcome || ':' || coalesce(http_status::text, '-'), ' ' ORDER BY attempt) FROM attempts WHERE job_id = $job AND seq = $1"; }

t_assert_eq "429: failed after 3 attempts" "failed|3|429" "$(r 429 | jq -r '"\(.outcome)|\(.attempt)|\(.http.status)"')"
t_assert_eq "429: attempts logged" "http_error:429 http_error:429" "$(attempts 0)"
# Retry-After (1 s) wins over the 100 ms backoff
gaps=$(t_sql "WITH a AS (SELECT attempt, started_at, finished_at FROM attempts WHERE job_id = $job AND seq = 0
               UNION ALL SELECT attempt, started_at, finished_at FROM results WHERE job_id = $job AND seq = 0)
              SELECT min(extract(epoch FROM (b.started_at - a.finished_at)) * 1000)::int FROM a JOIN a b ON b.attempt = a.attempt + 1")
[ "$gaps" -ge 1000 ] || t_fail "429 retried after $gaps ms, Retry-After said 1000"
t_log "ok: 429 retried no sooner than Retry-After ($gaps ms)"
t_assert_eq "503 then 200" "ok|2|200" "$(r 503-then-200 | jq -r '"\(.outcome)|\(.attempt)|\(.http.status)"')"
t_assert_eq "slow: timed out twice" "failed|2" "$(r slow | jq -r '"\(.outcome)|\(.attempt)"')"
t_assert_eq "slow: the attempt says timeout" "timeout:-" "$(attempts 2)"
r slow | jq -r .error | grep -qi "time" || t_fail "the slow task's error does not say it timed out"
t_assert_eq "reset: retried, then failed" "failed|3" "$(r reset | jq -r '"\(.outcome)|\(.attempt)"')"
t_assert_eq "reset: transport errors logged" "error:- error:-" "$(attempts 3)"
t_assert_eq "404: permanent" "failed|1|HTTP 404" "$(r 404 | jq -r '"\(.outcome)|\(.attempt)|\(.error)"')"

# the job may make 404 retryable
job2=$(echo "{\"url\": \"$F/status/404\"}" | shoal submit - --retry-status 404,503 --max-attempts 2 --backoff-ms 50 -q)
t_wait_done "$job2" 30
t_assert_eq "404 retried when the job lists it" "failed|2" "$(t_sql "SELECT outcome, attempt FROM results WHERE job_id = $job2" | tr -d '\n')"

# an endless body: cut at max_response_bytes; memory bounded meanwhile
job3=$(printf '%s\n' "{\"url\": \"$F/endless\", \"max_response_bytes\": 1500000000, \"store\": \"discard\"}" \
                     "{\"url\": \"$F/endless\", \"max_response_bytes\": 1500000000}" \
       | shoal submit - -q)
max=0
until t_job_done "$job3"; do
    rss=$(awk '/VmRSS/ { print $2 }' "/proc/${PID[w1]}/status")
    [ "$rss" -gt "$max" ] && max=$rss
done
t_log "worker RSS while receiving 2 x 1.5 GB: at most $((max / 1024)) MB"
[ "$max" -lt $((64 * 1024)) ] || [ "${SHOAL_SANITIZED:-0}" = 1 ] || t_fail "worker RSS reached $((max / 1024)) MB"
t_assert_eq "cut and marked" "ok:1500000000:true ok:1500000000:true" \
    "$(t_sql "SELECT string_agg(outcome || ':' || bytes || ':' || truncated, ' ' ORDER BY seq) FROM results WHERE job_id = $job3")"
t_sql "SELECT error FROM results WHERE job_id = $job3 AND seq = 0" | grep -q "max_response_bytes" || t_fail "no error text for the cut"
t_assert_eq "default store keeps no partial body" 0 "$(t_sql "SELECT coalesce(length(body), 0) FROM results WHERE job_id = $job3 AND seq = 1")"
t_log "pass"
