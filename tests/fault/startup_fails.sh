#!/usr/bin/env bash
# A broker whose start-up fails half-way (the database is connected, the
# leadership taken, the state loaded, then an endpoint cannot be bound) exits non-zero with a
# message naming the endpoint, and frees everything it had allocated (the
# sanitizer build's LeakSanitizer reports any leak; lib.sh fails on it).
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 100
job=$(shoal submit --count 20 --sleep-ms 1 --name loaded -q)
t_assert_eq "tasks committed" 20 "$(t_sql "SELECT n_tasks FROM jobs WHERE id = $job")"

# the broker stops (resigning its lease, so the next one leads at once) and
# something else takes its backend port: the next broker loads the state,
# then cannot bind. (A second broker beside a leader would only stand by,
# binding nothing: docs/failover.md.)
kill -TERM "${PID[broker]}"
t_wait "broker exit" 30 t_exited "${PID[broker]}"
port=${BACKEND##*:}
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); print("bound", flush=True); time.sleep(600)' \
    "$port" > "$T_DIR/squatter.out" 2>&1 &
PID[squatter]=$!
t_wait "port taken" 10 grep -q bound "$T_DIR/squatter.out"
p=$(t_port)
rc=0
"$SHOAL_BIN/shoal-broker" --db "$DB" --frontend "tcp://127.0.0.1:$p" --backend "$BACKEND" \
    --progress "tcp://127.0.0.1:$((p + 2))" > "$T_DIR/second.log" 2>&1 || rc=$?
[ $rc -ne 0 ] || t_fail "the second broker exited 0 although its backend endpoint is taken"
grep -q 'msg=state_loaded' "$T_DIR/second.log" \
    || t_fail "the second broker did not get as far as loading its state; nothing was tested"
grep -qE "msg=startup_failed .*endpoint=$BACKEND" "$T_DIR/second.log" \
    || t_fail "no startup_failed line naming the endpoint: $(tail -n 3 "$T_DIR/second.log")"
t_log "ok: exit $rc, $(grep -o 'msg=startup_failed.*' "$T_DIR/second.log")"
kill "${PID[squatter]}"
# the state is unharmed: the next broker (a restart in place, its dead
# predecessor's lease taken at once) runs the job to the end
unset FRONTEND BACKEND PROGRESS
t_broker --heartbeat-ms 100
t_worker w1 --slots 4
t_wait_done "$job" 60
t_assert_one_result_each "$job" 20
t_log "pass"
