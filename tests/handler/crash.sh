#!/usr/bin/env bash
# Test 2: a handler that exits mid-task costs that attempt only: the task
# runs again (a new process) and completes; a poison payload that always
# kills it ends failed after max attempts; the rest of the job completes.
# A handler whose command cannot start is reported broken and its tasks
# run on another worker that has it, uncharged.
. "$(dirname "$0")/../lib.sh"
MIS="python3 $(cd "$(dirname "$0")" && pwd)/misbehave.py"

t_db
t_broker --heartbeat-ms 200
MIS_WORKER=w1 t_worker w1 --slots 4 --kinds noop --handler "mis[procs=4]=$MIS"
MIS_WORKER=w2 t_worker w2 --slots 4 --kinds noop --handler "mis[procs=4]=$MIS"
t_wait_workers 2

{
    seq 0 99 | jq -c '{handler: "mis", payload: {i: .}}'
    for i in 1 2 3 4 5; do echo '{"handler": "mis", "payload": {"do": "crash", "until": 2}}'; done
    echo '{"handler": "mis", "payload": {"do": "crash"}, "tag": "poison"}'
} > "$T_DIR/tasks.jsonl"
job=$(shoal submit "$T_DIR/tasks.jsonl" --name crash --max-attempts 3 --backoff-ms 50 -q)
t_wait_done "$job" 120

t_assert_one_result_each "$job" 106
t_assert_eq "ok tasks" 105 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok'")"
t_assert_eq "crashed once, ok at attempt 2" 5 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job
    AND seq BETWEEN 100 AND 104 AND outcome = 'ok' AND attempt = 2")"
t_assert_eq "counted crash attempts of those" 5 "$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $job
    AND seq BETWEEN 100 AND 104 AND counted AND error LIKE 'handler mis (pid %) exit status 3 during the task'")"
t_assert_eq "poison payload" "failed|3" "$(t_sql "SELECT outcome, attempt FROM results WHERE job_id = $job AND seq = 105")"
t_sql "SELECT error FROM results WHERE job_id = $job AND seq = 105" | grep -q "exit status 3 during the task" \
    || t_fail "the poison task's error does not say the handler exited"
t_assert_eq "broken handlers after crashes mid-task" 0 "$(shoal -o json workers | jq '[.[].handlers[] | select(.broken)] | length')"

# a command that cannot start: w3 takes tasks, finds its handler broken,
# hands them back uncharged and gets no more; they wait for a worker that
# has the handler, then run there
t_worker w3 --slots 4 --kinds noop --handler "late[procs=2]=/nonexistent/handler --serve"
t_wait_workers 3
seq 0 39 | jq -c '{handler: "late", payload: {i: .}}' > "$T_DIR/late.jsonl"
job2=$(shoal submit "$T_DIR/late.jsonl" --name late -q)
t_wait "w3's handler broken" 30 bash -c \
    "'$SHOAL_BIN/shoal' -o json workers | jq -e '.[] | select(.id == \"w3\") | .handlers[] | select(.name == \"late\" and .broken)' >/dev/null"
shoal workers | grep -q "late [0-2]/2 up .* BROKEN" || t_fail "shoal workers does not show the broken handler"
t_wait "the late job waits for a worker" 30 bash -c \
    "'$SHOAL_BIN/shoal' status $job2 | grep -q 'waiting for a worker with handler late'"
MIS_WORKER=w4 t_worker w4 --slots 4 --kinds noop --handler "late[procs=4]=$MIS"
t_wait_done "$job2" 60
t_assert_eq "late tasks ok on w4" 40 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job2 AND outcome = 'ok' AND worker = 'w4'")"
t_assert_eq "attempts charged for the broken handler" 0 "$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $job2 AND counted")"
grep -q "msg=handler_broken handler=late failures=3" "$T_DIR/w3.log" || t_fail "w3 did not log the broken handler"
t_log "pass"
