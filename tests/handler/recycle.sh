#!/usr/bin/env bash
# Test 1: a Python handler that reports its pid and a per-process counter.
# 2,000 tasks over 2 workers x 4 processes with max_tasks 50: every process
# serves at most 50, recycled processes are seen, every task has exactly
# one result carrying the handler's output for its own payload.
. "$(dirname "$0")/../lib.sh"
EX=$(cd "$(dirname "$0")/../../examples/handlers" && pwd)

t_db
t_broker
for w in w1 w2; do
    t_worker $w --slots 4 --kinds noop --handler "echo[procs=4,max_tasks=50]=python3 $EX/echo.py"
done
t_wait_workers 2
t_wait "handlers announced" 30 bash -c \
    "[ \"\$('$SHOAL_BIN/shoal' -o json workers | jq '[.[].handlers[] | select(.name == \"echo\")] | length')\" = 2 ]"

seq 0 1999 | jq -c '{handler: "echo", payload: {i: .}}' > "$T_DIR/tasks.jsonl"
job=$(shoal submit "$T_DIR/tasks.jsonl" --name recycle -q)
t_wait_done "$job" 240

t_assert_one_result_each "$job" 2000
t_assert_eq "tasks not ok" 0 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome <> 'ok'")"
t_assert_eq "results carrying their own payload" 2000 "$(t_sql "
    SELECT count(*) FROM results WHERE job_id = $job AND (output->'payload'->>'i')::int = seq")"
t_assert_eq "workers used" 2 "$(t_sql "SELECT count(DISTINCT worker) FROM results WHERE job_id = $job")"
# per process: at most 50 tasks, counters 1..n without a gap
over=$(t_sql "SELECT count(*) FROM (SELECT output->>'pid', count(*) c, max((output->>'n')::int) m
              FROM results WHERE job_id = $job GROUP BY 1) p WHERE c > 50 OR m > 50 OR m <> c")
t_assert_eq "processes over max_tasks (or with lost counts)" 0 "$over"
procs=$(t_sql "SELECT count(DISTINCT output->>'pid') FROM results WHERE job_id = $job")
[ "$procs" -ge 40 ] || t_fail "expected at least 40 processes (2000 / 50), saw $procs"
t_log "ok: $procs processes served 2000 tasks, none more than 50"
# the counts reach the broker with each worker's next heartbeat: wait for them
s_restarts() { shoal -o json workers | jq '[.[].handlers[].restarts] | add // 0'; }
s_enough_restarts() { [ "$(s_restarts)" -ge 32 ]; }
t_wait "the workers to report at least 32 handler restarts" 15 s_enough_restarts
t_log "ok: workers report $(s_restarts) handler restarts"
shoal workers | grep -q "handlers  echo .* up" || t_fail "shoal workers does not show the handler"
grep -q "msg=handler_stopping handler=echo .*reason=\"max_tasks 50\"" "$T_DIR/w1.log" || t_fail "no recycling logged"
t_log "pass"
