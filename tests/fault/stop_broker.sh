#!/usr/bin/env bash
# kill -STOP the broker past the workers' liveness, then kill -CONT: the
# stall was the broker's, so no worker is declared lost, no attempt is
# counted, nothing runs twice, and every task ends ok with one row.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 100 --liveness 5 --log-level debug
workers="w1 w2 w3 w4 w5 w6"
for w in $workers; do t_worker $w --slots 4 --log-level debug; done
t_wait_workers 6

job=$(shoal submit --count 400 --sleep-ms 150 --name stop-broker -q)
for w in $workers; do t_wait "$w busy" 30 t_busy_at_least $w 4; done
kill -STOP "${PID[broker]}"
t_log "broker stopped with 24 tasks running"
# well past liveness: every worker notices the silence twice (each time
# it reconnects, after 1 + 2 liveness windows)
t_lost_twice() { [ "$(grep -c msg=broker_lost "$T_DIR/$1.log")" -ge 2 ]; }
for w in $workers; do t_wait "$w loses the broker twice" 30 t_lost_twice $w; done
kill -CONT "${PID[broker]}"
t_log "broker continued"
t_wait_done "$job" 120
if grep -q "msg=worker_lost" "$T_DIR/broker.log"; then
    t_fail "a worker was declared lost for the broker's own stall: $(grep msg=worker_lost "$T_DIR/broker.log" | head -n 2)"
fi
t_assert_eq "counted attempts" 0 "$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $job AND counted")"
t_assert_eq "stale results" 0 "$(t_sql "SELECT n_stale FROM jobs WHERE id = $job")"
t_assert_one_result_each "$job" 400
t_assert_eq "failed" 0 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome <> 'ok'")"
cat "$T_DIR"/w?.log | grep 'msg=task_started' | sed 's/.*task=\([^ ]*\).*/\1/' | sort > "$T_DIR/started"
t_assert_eq "tasks started twice" 0 "$(uniq -d "$T_DIR/started" | wc -l)"
grep -q "msg=broker_stalled" "$T_DIR/broker.log" || t_fail "the broker did not notice its stall"
t_log "pass"
