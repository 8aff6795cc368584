#!/usr/bin/env bash
# SIGTERM the broker mid-job: it stops accepting work, writes the results
# it holds and exits 0. Started again, it finishes the job.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 100 --liveness 5
t_worker w1 --slots 16
t_worker w2 --slots 16
t_wait_workers 2

job=$(shoal submit --count 20000 --sleep-ms 2 --name sigterm-broker -q)
t_wait "results flowing" 60 t_results_at_least "$job" 2000
kill -TERM "${PID[broker]}"
wait "${PID[broker]}" && rc=0 || rc=$?
t_assert_eq "broker exit status" 0 "$rc"
grep -q "msg=shutdown_complete" "$T_DIR/broker.log" || t_fail "no clean shutdown logged"
held=$(grep "msg=shutdown_started" "$T_DIR/broker.log" | sed 's/.*held_results=//')
t_log "the broker held $held results at SIGTERM and wrote them before exiting"
# the counters in the jobs row match the rows written
t_assert_eq "n_ok matches the rows" "$(t_results "$job")" "$(t_sql "SELECT n_ok FROM jobs WHERE id = $job")"

t_broker --heartbeat-ms 100 --liveness 5
t_wait_done "$job" 120
t_assert_one_result_each "$job" 20000
t_log "pass"
