#!/usr/bin/env bash
# A task programmed to fail twice succeeds on attempt 3, and the gaps
# between attempts respect the backoff policy (first delay 400 ms, doubling,
# no jitter): attempt 2 starts >= 400 ms after attempt 1 ended, attempt 3
# >= 800 ms after attempt 2.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 100 --liveness 5
t_worker w1 --slots 4
t_wait_workers 1

echo '{"kind": "noop", "fail_until_attempt": 3, "tag": "flaky", "retry": {"max_attempts": 5, "backoff_ms": 400, "jitter_pct": 0}}' \
    | shoal submit - --name retry -q > "$T_DIR/job"
job=$(cat "$T_DIR/job")
t_wait_done "$job" 60

t_assert_eq "outcome" "ok|3" "$(t_sql "SELECT outcome, attempt FROM results WHERE job_id = $job")"
t_assert_eq "failed attempts logged" "1|error|2|error" "$(t_sql "SELECT string_agg(attempt || '|' || outcome, '|' ORDER BY attempt) FROM attempts WHERE job_id = $job")"
t_sql "SELECT error FROM attempts WHERE job_id = $job AND attempt = 1" | grep -q "programmed failure" \
    || t_fail "the attempt's error was not logged"
# gaps in milliseconds, from the timestamps the workers reported
gaps=$(t_sql "
    WITH a AS (SELECT attempt, started_at, finished_at, retry_at FROM attempts WHERE job_id = $job
               UNION ALL SELECT attempt, started_at, finished_at, NULL FROM results WHERE job_id = $job)
    SELECT string_agg(round(extract(epoch FROM (b.started_at - a.finished_at)) * 1000)::text, ' ' ORDER BY a.attempt)
    FROM a JOIN a b ON b.attempt = a.attempt + 1")
t_log "gaps between attempts (ms): $gaps"
read -r gap1 gap2 <<<"$gaps"
[ "$gap1" -ge 400 ] || t_fail "gap 1 is $gap1 ms, policy says at least 400"
[ "$gap2" -ge 800 ] || t_fail "gap 2 is $gap2 ms, policy says at least 800"
# the schedule is recorded with each attempt (the broker adds the delay to
# the moment it took the failure in, so it is at least the policy's delay)
sched=$(t_sql "SELECT string_agg(floor(extract(epoch FROM (retry_at - finished_at)) * 1000)::text, ' ' ORDER BY attempt) FROM attempts WHERE job_id = $job")
read -r s1 s2 <<<"$sched"
t_log "retry delays recorded (ms): $sched"
[ "$s1" -ge 400 ] && [ "$s2" -ge 800 ] || t_fail "recorded delays $sched, policy says 400 then 800"
t_assert_eq "job retries" 2 "$(shoal -o json status "$job" | jq .retries)"

# the retry schedule survives a broker restart: a task waiting out a 3 s
# backoff when the broker is killed still waits it out afterwards
echo '{"kind": "noop", "fail_until_attempt": 2, "retry": {"backoff_ms": 3000, "jitter_pct": 0}}' \
    | shoal submit - --name retry-restart -q > "$T_DIR/job2"
job2=$(cat "$T_DIR/job2")
t_wait "the first attempt failed" 30 bash -c "[ \$(psql '$DB' -qAtXc 'SELECT count(*) FROM attempts WHERE job_id = $job2') = 1 ]"
kill -9 "${PID[broker]}"
t_broker --heartbeat-ms 100 --liveness 5 --recovery-ms 0
t_wait_done "$job2" 60
early=$(t_sql "SELECT count(*) FROM results r JOIN attempts a USING (job_id, seq)
               WHERE r.job_id = $job2 AND r.started_at < a.retry_at")
t_assert_eq "attempts that started before their retry time" 0 "$early"
t_assert_eq "outcome after the restart" "ok|2" "$(t_sql "SELECT outcome, attempt FROM results WHERE job_id = $job2")"
t_log "pass"
