#!/usr/bin/env bash
# SIGTERM a worker mid-job: it stops taking tasks, finishes the ones it is
# running, sends their results, says Bye and exits 0. Its tasks are not
# run again.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 100 --liveness 5
t_worker leaver --slots 8 --log-level debug
t_worker stayer --slots 8 --log-level debug
t_wait_workers 2

job=$(shoal submit --count 200 --sleep-ms 200 --name sigterm -q)
t_wait "the leaver busy" 30 t_busy_at_least leaver 8
kill -TERM "${PID[leaver]}"
t_log "SIGTERM to the leaver while it runs 8 tasks"
t_wait "the leaver exits" 30 t_exited "${PID[leaver]}"
wait "${PID[leaver]}" && rc=0 || rc=$?
t_assert_eq "leaver exit status" 0 "$rc"
unset 'PID[leaver]'
grep -q "msg=drained" "$T_DIR/leaver.log" || t_fail "the leaver did not drain"
t_wait_done "$job" 120

t_assert_one_result_each "$job" 200
t_assert_eq "attempts (nothing requeued or retried)" 0 "$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $job")"
t_assert_eq "results not on the first attempt" 0 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND attempt <> 1")"
# what the leaver was running when signalled, it finished itself
finished_after=$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND worker = 'leaver'")
[ "$finished_after" -ge 8 ] || t_fail "the leaver stored only $finished_after results"
grep -h 'msg=task_started' "$T_DIR/leaver.log" "$T_DIR/stayer.log" | sed 's/.*task=\([^ ]*\).*/\1/' | sort > "$T_DIR/started"
t_assert_eq "tasks started twice" 0 "$(uniq -d "$T_DIR/started" | wc -l)"
grep -q "worker_left worker=leaver" "$T_DIR/broker.log" || t_fail "the broker did not see the Bye"
t_log "pass"
