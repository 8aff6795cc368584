#!/usr/bin/env bash
# A broker whose start-up fails half-way (the database is connected, the
# state is loaded, then an endpoint cannot be bound) exits non-zero with a
# message naming the endpoint, and frees everything it had allocated (the
# sanitizer build's LeakSanitizer reports any leak; lib.sh fails on it).
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 100
job=$(shoal submit --count 20 --sleep-ms 1 --name loaded -q)
t_assert_eq "tasks committed" 20 "$(t_sql "SELECT n_tasks FROM jobs WHERE id = $job")"

# a second broker on the same database whose backend port is taken by the first
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
# the first broker is unharmed
t_worker w1 --slots 4
t_wait_done "$job" 60
t_assert_one_result_each "$job" 20
t_log "pass"
