#!/usr/bin/env bash
# Nothing an exec task starts outlives it (issue 17 #4), with each
# containment: cgroup (where the worker can make one) and reaper. Daemons
# that call setsid, double-fork or ignore SIGTERM are gone when the task
# ends; a command that ignores SIGTERM and keeps running until its timeout
# does not hold up the other tasks of its worker (#10).
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 200
n=$$                # unique sleep durations: other tests run sleeps too
alive() { pgrep -fx "sleep $1" || true; }
cleanup_sleeps() { for p in $(pgrep -fx "sleep 3$n[0-9]" || true); do kill -9 "$p" 2>/dev/null || true; done; }
trap 'cleanup_sleeps; t_cleanup' EXIT

for mode in auto reaper; do
    t_worker "w-$mode" --slots 4 --allow-exec --exec-containment "$mode"
    t_wait "worker w-$mode says its containment" 10 grep -q "msg=exec_containment" "$T_DIR/w-$mode.log"
    t_log "$mode: $(grep -o 'msg=exec_containment.*' "$T_DIR/w-$mode.log")"
    t_wait_workers 1
    cat > "$T_DIR/$mode.jsonl" <<JSONL
{"argv": ["setsid", "-f", "sleep", "3${n}1"], "tag": "setsid"}
{"argv": ["sh", "-c", "(sh -c 'sleep 3${n}2' &) ; exit 0"], "tag": "double-fork"}
{"argv": ["sh", "-c", "setsid sh -c 'trap \"\" TERM HUP; sleep 3${n}3' & sleep 0.2; exit 0"], "tag": "ignores-term"}
JSONL
    job=$(shoal submit "$T_DIR/$mode.jsonl" --name "contain-$mode" -q)
    t_wait_done "$job" 60
    t_assert_eq "$mode: every task ok" "ok ok ok" \
        "$(t_sql "SELECT string_agg(outcome, ' ' ORDER BY seq) FROM results WHERE job_id = $job")"
    # no waiting: the task ends only when its processes are gone
    for i in 1 2 3; do
        t_assert_eq "$mode: nothing of task $i is alive when it ends" "" "$(alive "3$n$i")"
    done
    kill -TERM "${PID[w-$mode]}"
    t_wait "worker w-$mode gone" 30 t_exited "${PID[w-$mode]}"
    t_wait "the broker forgets w-$mode" 30 t_test_eq 0 t_workers_connected
done
if grep -q "mode=cgroup" "$T_DIR/w-auto.log"; then
    t_assert_eq "the task cgroups are removed" "" "$(find /sys/fs/cgroup -maxdepth 3 -name "shoal-exec-${PID[w-auto]}" 2>/dev/null)"
fi

# a command that ignores SIGTERM and runs on: the worker's other tasks go on
t_worker w-busy --slots 4 --allow-exec
t_wait_workers 1
{ echo "{\"argv\": [\"sh\", \"-c\", \"trap '' TERM; sleep 3${n}4\"], \"timeout_ms\": 4000, \"retry\": {\"max_attempts\": 1}, \"tag\": \"stuck\"}"
  for i in $(seq 1 30); do echo "{\"argv\": [\"echo\", \"$i\"], \"tag\": \"quick\"}"; done; } > "$T_DIR/busy.jsonl"
job=$(shoal submit "$T_DIR/busy.jsonl" --name busy -q)
t_wait "the 30 quick tasks, while the stuck one runs" 20 t_test_eq 30 \
    t_sql "SELECT count(*) FROM results WHERE job_id = $job AND seq > 0 AND outcome = 'ok'"
t_assert_eq "the stuck task is still running then" 0 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND seq = 0")"
t_wait_done "$job" 30
t_assert_eq "the stuck task timed out" "failed" "$(t_sql "SELECT outcome FROM results WHERE job_id = $job AND seq = 0")"
t_wait "the stuck task's processes are gone" 10 t_test_eq "" alive "3${n}4"
t_log "pass"
