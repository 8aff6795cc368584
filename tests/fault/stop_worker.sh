#!/usr/bin/env bash
# kill -STOP a worker past the liveness timeout, then kill -CONT: the
# broker declared it lost and ran its tasks elsewhere; its late results
# are fenced (counted as stale, not stored); one row per task.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 100 --liveness 5 --log-level debug
t_worker sleeper --slots 8 --log-level debug
t_worker steady --slots 8
t_wait_workers 2

job=$(shoal submit --count 300 --sleep-ms 100 --name stop-worker -q)
t_wait "the sleeper busy" 30 t_busy_at_least sleeper 8
kill -STOP "${PID[sleeper]}"
t_log "sleeper stopped with 8 tasks"
t_wait "the broker declares it lost" 30 grep -q "msg=worker_lost worker=sleeper" "$T_DIR/broker.log"
# its tasks run elsewhere while it sleeps
t_wait_done "$job" 120
kill -CONT "${PID[sleeper]}"
t_log "sleeper continued"
t_wait "its late results fenced" 30 bash -c "[ \$(psql '$DB' -qAtXc 'SELECT n_stale FROM jobs WHERE id = $job') -ge 1 ]"
stale=$(t_sql "SELECT n_stale FROM jobs WHERE id = $job")
[ "$stale" -le 8 ] || t_fail "more stale results ($stale) than tasks the sleeper held"
t_log "ok: $stale late results counted as stale"
t_assert_eq "stale in status" "$stale" "$(shoal -o json status "$job" | jq .stale)"

t_assert_one_result_each "$job" 300
t_assert_eq "results by the sleeper for the tasks it lost" 0 "$(t_sql "
    SELECT count(*) FROM attempts a JOIN results r USING (job_id, seq)
    WHERE a.job_id = $job AND a.worker = 'sleeper' AND a.outcome = 'lost' AND r.worker = 'sleeper'")"
t_assert_eq "lost attempts of the sleeper" 8 "$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $job AND worker = 'sleeper' AND outcome = 'lost'")"
# the sleeper comes back: it says Hello again and is a worker like any other
t_wait "the sleeper rejoins" 30 bash -c "[ \$(grep -c 'msg=worker_joined worker=sleeper' '$T_DIR/broker.log') -ge 2 ]"
t_log "pass"
