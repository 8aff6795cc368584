#!/usr/bin/env bash
# Test 5: routing. Tasks requiring region=eu run only on the eu worker
# (results.worker says so); handler tasks no connected worker can run
# wait -- visibly, in shoal status -- while the job's other tasks go on,
# and run as soon as a worker with the handler joins.
. "$(dirname "$0")/../lib.sh"
EX=$(cd "$(dirname "$0")/../../examples/handlers" && pwd)

t_db
t_broker
t_worker eu --slots 4 --label region=eu --label proxy=p1
t_worker us --slots 4 --label region=us
t_wait_workers 2
shoal workers | grep -q "labels    region=eu,proxy=p1" || t_fail "shoal workers does not show the labels"

# a job's requirement (--require) and a task's own (which wins for its key)
{
    seq 0 149 | jq -c '{kind: "noop", sleep_ms: 2}'
    seq 0 49 | jq -c '{kind: "noop", sleep_ms: 2, require: {region: "us"}}'
} > "$T_DIR/regional.jsonl"
job=$(shoal submit "$T_DIR/regional.jsonl" --name regional --require region=eu -q)
t_wait_done "$job" 60
t_assert_one_result_each "$job" 200
t_assert_eq "eu tasks on eu" "150" "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND seq < 150 AND worker = 'eu'")"
t_assert_eq "us tasks on us" "50" "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND seq >= 150 AND worker = 'us'")"

# handler tasks with no capable worker wait; the noop tasks of the same job do not
{
    seq 0 19 | jq -c '{handler: "echo", payload: {i: .}}'
    seq 0 99 | jq -c '{kind: "noop"}'
} > "$T_DIR/mixed.jsonl"
job2=$(shoal submit "$T_DIR/mixed.jsonl" --name mixed -q)
t_wait "the noop tasks of the mixed job" 60 t_results_at_least "$job2" 100
t_assert_eq "handler tasks run meanwhile" 0 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job2 AND seq < 20")"
shoal status "$job2" | grep -q "waiting        20  waiting for a worker with handler echo" \
    || { shoal status "$job2"; t_fail "shoal status does not say what the handler tasks wait for"; }
shoal -o json status "$job2" | jq -e '.waiting[0].name == "waiting for a worker with handler echo" and .waiting[0].count == 20' >/dev/null \
    || t_fail "the JSON status does not list the waiting tasks"
t_assert_eq "job state while waiting" active "$(t_job_state "$job2")"
t_worker h1 --slots 4 --kinds noop --handler "echo[procs=2]=python3 $EX/echo.py"
t_wait_done "$job2" 60
t_assert_eq "handler tasks on the worker that joined" 20 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job2 AND seq < 20 AND worker = 'h1' AND outcome = 'ok'")"
t_log "pass"
