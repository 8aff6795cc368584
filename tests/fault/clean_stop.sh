#!/usr/bin/env bash
# The start-up recovery window (--recovery-ms) waits for results workers may
# hold from an earlier run. A broker stopped by SIGTERM with no task out (none
# leased, every result committed) says so as it resigns the lease
# (shoal_meta clean_stop_term): the next broker dispatches a job queued
# meanwhile at once. A SIGTERM with a task out, and a kill -9, leave no such
# mark: the next start waits the window (fresh_start.sh: a database with no
# unfinished task never waits).
. "$(dirname "$0")/../lib.sh"

window_ms=30000
started_line() { grep "msg=broker_started" "$T_DIR/broker.log" | tail -n 1; }
stop_broker() {
    kill "-$1" "${PID[broker]}"
    wait "${PID[broker]}" 2>/dev/null || true
}
t_db
t_broker --heartbeat-ms 100 --liveness 100 --recovery-ms $window_ms

# a job queued with no worker: never leased; a clean stop
job=$(shoal submit --count 1 --name queued -q)
stop_broker TERM
grep -q "msg=role role=resigned .*clean=yes" "$T_DIR/broker.log" \
    || t_fail "no clean resignation: $(grep 'msg=role' "$T_DIR/broker.log" | tail -n 1)"
t_broker --heartbeat-ms 100 --liveness 100 --recovery-ms $window_ms
started_line | grep -q "recovery_ms=0" || t_fail "a recovery window after a clean stop: $(started_line)"
grep "msg=role role=leader" "$T_DIR/broker.log" | tail -n 1 | grep -q "previous_stop=clean" \
    || t_fail "the clean stop was not seen: $(grep 'msg=role role=leader' "$T_DIR/broker.log" | tail -n 1)"
t_worker w1 --slots 2
# well inside the window: the job ran and its result is committed
t_wait "the queued job's result" $((window_ms / 1000 / 2)) t_job_done "$job"

# a task out at SIGTERM (leased to a stopped worker, which --liveness 100
# keeps from being declared lost for 10 s): no clean mark
kill -STOP "${PID[w1]}"
job2=$(shoal submit --count 1 --name leased -q)
t_wait "the task leased" 10 t_busy_at_least w1 1
stop_broker TERM
grep "msg=role role=resigned" "$T_DIR/broker.log" | tail -n 1 | grep -q "clean=no" \
    || t_fail "a task was out, yet: $(grep 'msg=role role=resigned' "$T_DIR/broker.log" | tail -n 1)"
t_broker --heartbeat-ms 100 --liveness 100 --recovery-ms $window_ms
started_line | grep -q "recovery_ms=$window_ms" || t_fail "a task was out but no window: $(started_line)"

# kill -9 of a term that handed out no lease: a job queued, no worker. No
# task can be out, so no window (shoal_meta leased_term, store_term.c)
kill -CONT "${PID[w1]}"
t_wait_done "$job2" 30
kill -TERM "${PID[w1]}"
wait "${PID[w1]}" 2>/dev/null || true
stop_broker TERM
grep "msg=role role=resigned" "$T_DIR/broker.log" | tail -n 1 | grep -q "clean=yes" \
    || t_fail "nothing was out, yet: $(grep 'msg=role role=resigned' "$T_DIR/broker.log" | tail -n 1)"
t_broker --heartbeat-ms 100 --liveness 100 --recovery-ms $window_ms
job3=$(shoal submit --count 1 --name killed -q)
stop_broker 9
t_broker --heartbeat-ms 100 --liveness 100 --recovery-ms $window_ms
started_line | grep -q "recovery_ms=0" || t_fail "kill -9 of a term that leased nothing, yet a window: $(started_line)"
grep "msg=role role=leader" "$T_DIR/broker.log" | tail -n 1 | grep -q "leases_out=none" \
    || t_fail "leases out after a term that leased nothing: $(grep 'msg=role role=leader' "$T_DIR/broker.log" | tail -n 1)"

# kill -9 of a term with a task out (leased to a stopped worker): the window
t_worker w2 --slots 1
t_wait_done "$job3" 30
job4=$(shoal submit --count 1 --sleep-ms 600000 --name leased-killed -q)
t_wait "the task leased" 10 t_busy_at_least w2 1
kill -STOP "${PID[w2]}"
stop_broker 9
t_broker --heartbeat-ms 100 --liveness 100 --recovery-ms $window_ms
started_line | grep -q "recovery_ms=$window_ms" || t_fail "kill -9 with a task out but no window: $(started_line)"
grep "msg=role role=leader" "$T_DIR/broker.log" | tail -n 1 | grep -q "leases_out=maybe" \
    || t_fail "no leases out after a term that leased: $(grep 'msg=role role=leader' "$T_DIR/broker.log" | tail -n 1)"
kill -9 "${PID[w2]}"
t_log "pass"
