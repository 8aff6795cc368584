#!/usr/bin/env bash
# The broker's lease deadline (task timeout + grace) is a backstop behind
# the worker's own timeout: a worker that keeps its connection but stops
# making progress on a task loses the task when the deadline passes, the
# task runs elsewhere, and the late result is fenced.
. "$(dirname "$0")/../lib.sh"

# liveness far away (60 s), lease grace short: only the deadline can fire
t_db
t_broker --heartbeat-ms 1000 --liveness 60 --lease-grace-ms 200
t_worker frozen --slots 4
t_wait_workers 1
# the task runs long enough to be seen running at the frozen worker and
# still be running when it is stopped, on a busy machine and under the
# sanitizer too (on a fresh database it goes out at once)
job=$(echo '{"kind": "noop", "sleep_ms": 3000, "timeout_ms": 4000}' | shoal submit - -q)
t_wait "the frozen worker holds the task" 30 t_busy_at_least frozen 1
kill -STOP "${PID[frozen]}"
t_worker rescuer --slots 4
t_wait_workers 2
t_wait "the lease expires and the task runs on the rescuer" 30 t_job_done "$job"
kill -CONT "${PID[frozen]}"
t_assert_eq "the expired attempt" "expired|frozen" "$(t_sql "SELECT outcome, worker FROM attempts WHERE job_id = $job")"
t_assert_eq "the result" "ok|rescuer|2" "$(t_sql "SELECT outcome, worker, attempt FROM results WHERE job_id = $job")"
grep -q "worker_lost worker=frozen" "$T_DIR/broker.log" && t_fail "the worker was declared lost; the deadline was not what fired"
t_wait "the late result fenced" 30 bash -c "[ \$(psql '$DB' -qAtXc 'SELECT n_stale FROM jobs WHERE id = $job') = 1 ]"
t_log "pass"
