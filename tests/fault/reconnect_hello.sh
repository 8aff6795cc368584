#!/usr/bin/env bash
# A broker restarted on the same endpoint gets work out at once: the worker
# watches its socket's connections and says Hello as soon as one comes up
# again, instead of at its next heartbeat (issue 16). The heartbeat here is
# 30 s, so without that the job below would wait about 30 s for the worker;
# the wait allows 15.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 30000
t_worker w1 --slots 2
t_wait_workers 1
job=$(shoal submit --count 2 --name before -q)
t_wait_done "$job" 30

for how in TERM 9; do
    kill "-$how" "${PID[broker]}"
    wait "${PID[broker]}" 2>/dev/null || true
    before=$(grep -c "msg=broker_reconnected" "$T_DIR/w1.log" || true)
    # the worker's last message was its Hello at start or a result: its
    # next heartbeat is about 30 s away
    t_broker --heartbeat-ms 30000 --recovery-ms 0
    job=$(shoal submit --count 2 --name "after-$how" -q)
    t_wait "job $job done after a broker $how, within half a heartbeat" 15 t_job_done "$job"
    [ "$(grep -c "msg=broker_reconnected" "$T_DIR/w1.log")" -gt "$before" ] \
        || t_fail "the worker did not notice the new connection: $(tail -n 3 "$T_DIR/w1.log")"
    t_assert_one_result_each "$job" 2
done
t_log "pass"
