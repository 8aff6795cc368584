#!/usr/bin/env bash
# A task that crashes its worker every time ends `failed` after its max
# attempts while the rest of the job completes. The test restarts crashed
# workers, as a supervisor (systemd, compose) would.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 100 --liveness 3
for w in w1 w2; do t_worker $w --slots 4 --test-hooks; done
t_wait_workers 2

# 300 ordinary tasks with the poison pill in the middle; the pill allows 3
# attempts, the job 10 (tasks that shared a worker with the pill lose an
# attempt each time it crashes)
{
    for i in $(seq 1 150); do echo '{"kind": "noop", "sleep_ms": 5}'; done
    echo '{"kind": "noop", "crash": true, "tag": "poison", "retry": {"max_attempts": 3}}'
    for i in $(seq 1 150); do echo '{"kind": "noop", "sleep_ms": 5}'; done
} > "$T_DIR/tasks.jsonl"
job=$(shoal submit "$T_DIR/tasks.jsonl" --max-attempts 10 --name poison -q)

restarts=0
supervise() {
    for w in w1 w2; do
        if ! kill -0 "${PID[$w]}" 2>/dev/null; then
            wait "${PID[$w]}" 2>/dev/null || true
            restarts=$((restarts + 1))
            t_worker $w --slots 4 --test-hooks
        fi
    done
    t_job_done "$job"
}
deadline=$(( $(date +%s) + 120 ))
until supervise; do
    [ "$(date +%s)" -lt $deadline ] || t_fail "job not done after 120 s ($restarts restarts)"
    sleep 0.1
done
t_log "job done after $restarts worker restarts"

t_assert_one_result_each "$job" 301
t_assert_eq "the poison task's outcome" failed "$(t_sql "SELECT outcome FROM results WHERE job_id = $job AND seq = 150")"
t_assert_eq "its attempts" 3 "$(t_sql "SELECT attempt FROM results WHERE job_id = $job AND seq = 150")"
t_assert_eq "its lost attempts logged" 2 "$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $job AND seq = 150 AND outcome = 'lost'")"
t_sql "SELECT error FROM results WHERE job_id = $job AND seq = 150" | grep -q "gave up after 3 attempts" \
    || t_fail "the poison task's error does not say why"
t_assert_eq "the other tasks ok" 300 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok'")"
[ "$restarts" -ge 3 ] || t_fail "expected at least 3 crashes, saw $restarts"
# every attempt, with its worker, is in the attempt log
t_assert_eq "attempt log rows of the poison task" 3 "$(t_sql "SELECT count(*) FROM attempt_log WHERE job_id = $job AND seq = 150")"
t_log "pass"
