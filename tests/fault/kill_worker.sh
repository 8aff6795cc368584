#!/usr/bin/env bash
# kill -9 a worker holding tasks: every task still ends with exactly one
# result row, and the lost worker's tasks ran again elsewhere.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 100 --liveness 5
t_worker victim --slots 8
t_worker survivor --slots 8
t_wait_workers 2

job=$(shoal submit --count 400 --sleep-ms 40 --name kill-worker -q)
t_wait "the victim holds tasks" 30 t_busy_at_least victim 8
kill -9 "${PID[victim]}"
t_log "killed the victim while it held 8 tasks"
t_wait_done "$job" 120

t_assert_one_result_each "$job" 400
t_assert_eq "failed tasks" 0 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome <> 'ok'")"
lost=$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $job AND outcome = 'lost' AND worker = 'victim'")
[ "$lost" -ge 1 ] && [ "$lost" -le 8 ] || t_fail "expected 1..8 lost attempts of the victim, got $lost"
t_log "ok: $lost tasks were lost with the victim"
t_assert_eq "lost tasks that finished on the survivor" "$lost" "$(t_sql "
    SELECT count(*) FROM attempts a JOIN results r USING (job_id, seq)
    WHERE a.job_id = $job AND a.outcome = 'lost' AND r.worker = 'survivor' AND r.attempt = 2")"
grep -q "worker_lost worker=victim" "$T_DIR/broker.log" || t_fail "the broker did not log the lost worker"
t_log "pass"
