#!/usr/bin/env bash
# The start-up recovery window (--recovery-ms) exists for tasks an earlier
# broker run may have handed out. On a fresh database, and on one whose
# jobs are all finished, nothing can be running anywhere: the first task
# goes out at once, not after the window. Where tasks are unfinished, the
# window holds (kill_broker.sh, db_outage.sh test what it is for).
. "$(dirname "$0")/../lib.sh"

window_ms=30000
t_db
t_broker --heartbeat-ms 100 --recovery-ms $window_ms
started=$(date +%s%N)
t_worker w1 --slots 4
t_wait_workers 1
job=$(shoal submit --count 1 --name first -q)
# well inside the window: the task ran and its result is committed
t_wait "the first result" $((window_ms / 1000 / 2)) t_job_done "$job"
t_log "first result after $(( ($(date +%s%N) - started) / 1000000 )) ms (window ${window_ms} ms)"
grep -q "msg=broker_started .*recovery_ms=0" "$T_DIR/broker.log" \
    || t_fail "a fresh database got a recovery window: $(grep msg=broker_started "$T_DIR/broker.log")"

# an idle database (every job finished): the same after a restart
kill -9 "${PID[broker]}"
wait "${PID[broker]}" 2>/dev/null || true
t_broker --heartbeat-ms 100 --recovery-ms $window_ms
grep "msg=broker_started" "$T_DIR/broker.log" | tail -n 1 | grep -q "recovery_ms=0" \
    || t_fail "an idle database got a recovery window"
job2=$(shoal submit --count 1 --name second -q)
t_wait "the second job's result" $((window_ms / 1000 / 2)) t_job_done "$job2"

# with an unfinished task in the database the window applies
kill -STOP "${PID[w1]}"
job3=$(shoal submit --count 1 --name unfinished -q)
kill -9 "${PID[broker]}"
wait "${PID[broker]}" 2>/dev/null || true
kill -CONT "${PID[w1]}"
t_broker --heartbeat-ms 100 --recovery-ms $window_ms
grep "msg=broker_started" "$T_DIR/broker.log" | tail -n 1 | grep -q "recovery_ms=$window_ms" \
    || t_fail "unfinished tasks but no recovery window: $(grep msg=broker_started "$T_DIR/broker.log" | tail -n 1)"
t_wait_done "$job3" 60
t_log "pass"
