#!/usr/bin/env bash
# Test 6: kill -9 of a worker while its handler processes run tasks: the
# tasks run again elsewhere and no handler process is left behind (each
# process group the handler used is empty afterwards). And SIGTERM: the
# running handler tasks finish, then the processes are stopped and the
# worker exits 0 with nothing left over.
. "$(dirname "$0")/../lib.sh"
MIS="python3 $(cd "$(dirname "$0")" && pwd)/misbehave.py"

t_db
t_broker --heartbeat-ms 200
mkdir -p "$T_DIR/pids"
# the handler starts a child of its own, so the group holds more than the worker's child
MIS_WORKER=victim t_worker victim --slots 4 --kinds noop --handler "mis[procs=4]=sleep 600 & $MIS"
MIS_WORKER=survivor t_worker survivor --slots 4 --kinds noop --handler "mis[procs=4]=$MIS"
t_wait_workers 2
seq 0 199 | jq -c --arg dir "$T_DIR/pids" '{handler: "mis", payload: {i: ., sleep_ms: 100, record: $dir}}' > "$T_DIR/tasks.jsonl"
job=$(shoal submit "$T_DIR/tasks.jsonl" --name kill-worker -q)
t_wait "the victim runs 4 handler tasks" 60 t_busy_at_least victim 4
t_wait "the victim's processes recorded" 30 bash -c "[ \$(cat '$T_DIR'/pids/* 2>/dev/null | grep -c victim) -ge 4 ]"
kill -9 "${PID[victim]}"
t_log "killed the victim"
t_wait_done "$job" 120
t_assert_one_result_each "$job" 200
t_assert_eq "tasks not ok" 0 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome <> 'ok'")"
lost=$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $job AND outcome = 'lost' AND worker = 'victim'")
[ "$lost" -ge 1 ] || t_fail "no task of the victim was lost and run again"
t_assert_eq "lost tasks finished on the survivor" "$lost" "$(t_sql "
    SELECT count(*) FROM attempts a JOIN results r USING (job_id, seq)
    WHERE a.job_id = $job AND a.outcome = 'lost' AND r.worker = 'survivor'")"
n_victim=0
for f in "$T_DIR"/pids/[0-9]*; do
    [[ $f == *.tmp ]] && continue
    read -r g who < "$f"
    [ "$who" = victim ] || continue
    n_victim=$((n_victim + 1))
    t_wait "the victim's process group $g empty" 10 bash -c "! pgrep -g $g >/dev/null"
done
[ "$n_victim" -ge 4 ] || t_fail "expected at least 4 process groups of the victim, found $n_victim"
t_log "ok: $n_victim process groups of the killed worker are empty"

# SIGTERM: tasks finish, handler processes stop, exit 0, nothing left
rm -f "$T_DIR"/pids/*
seq 0 7 | jq -c --arg dir "$T_DIR/pids" '{handler: "mis", payload: {i: ., sleep_ms: 3000, record: $dir}}' > "$T_DIR/slow.jsonl"
job2=$(shoal submit "$T_DIR/slow.jsonl" --name sigterm -q)
t_wait "the survivor runs 4 slow tasks" 60 t_busy_at_least survivor 4
t_wait "slow tasks recorded" 30 bash -c "[ \$(ls '$T_DIR/pids' | grep -vc tmp) -ge 4 ]"
kill -TERM "${PID[survivor]}"
t_wait "survivor exit" 60 t_exited "${PID[survivor]}"
wait "${PID[survivor]}" && rc=0 || rc=$?
t_assert_eq "survivor exit status" 0 "$rc"
finished=$(t_sql "SELECT count(*) FROM results WHERE job_id = $job2 AND worker = 'survivor' AND outcome = 'ok'")
[ "$finished" -ge 4 ] || t_fail "the draining worker finished $finished of its 4 running tasks"
t_assert_eq "tasks aborted by the draining worker" 0 "$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $job2 AND outcome = 'aborted'")"
for f in "$T_DIR"/pids/[0-9]*; do
    [[ $f == *.tmp ]] && continue
    read -r g _ < "$f"
    t_wait "process group $g empty after SIGTERM" 10 bash -c "! pgrep -g $g >/dev/null"
done
grep -q "msg=handler_stopping handler=mis .*reason=\"worker stopping\"" "$T_DIR/survivor.log" || t_fail "no stop of the handlers logged"
t_log "pass"
