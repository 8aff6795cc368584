#!/usr/bin/env bash
# Test 4: protocol abuse -- garbage lines, a 100 MiB line, answers for
# another id, two answers for one task -- fails the attempt (retryable),
# recycles the process, keeps the worker's memory bounded and never
# stores a wrong result.
. "$(dirname "$0")/../lib.sh"
MIS="python3 $(cd "$(dirname "$0")" && pwd)/misbehave.py"

t_db
t_broker
t_worker w1 --slots 4 --kinds noop --handler "mis[procs=4]=$MIS"
t_wait_workers 1
# every payload carries i = its task's seq, so a result is checked against its own task
{
    i=0
    for act in garbage huge wrong_id; do
        for _ in 1 2; do echo "{\"handler\": \"mis\", \"payload\": {\"do\": \"$act\", \"until\": 2, \"i\": $i}}"; i=$((i + 1)); done
    done
    echo '{"handler": "mis", "payload": {"do": "twice", "i": 6}}'
    seq 7 106 | jq -c '{handler: "mis", payload: {i: .}}'
} > "$T_DIR/tasks.jsonl"
job=$(shoal submit "$T_DIR/tasks.jsonl" --name protocol --backoff-ms 50 -q)
t_wait_done "$job" 120

t_assert_one_result_each "$job" 107
t_assert_eq "ok tasks" 107 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok'")"
# never a wrong result: each row's output is the answer to its own payload
t_assert_eq "results answering their own task" 107 "$(t_sql "
    SELECT count(*) FROM results WHERE job_id = $job AND (output->'payload'->>'i')::int = seq")"
# each kind of abuse failed its task's first attempt (counted) and the
# retry went through (a later attempt may also catch the stray second
# answer of "twice", so "at attempt 2 or later")
for act in garbage:not.JSON huge:a.line.longer wrong_id:an.answer.for.id..0/0; do
    what=${act%%:*} why=${act#*:}
    t_assert_eq "$what: ok on a retry" 2 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job
        AND outcome = 'ok' AND attempt >= 2 AND output->'payload'->>'do' = '$what'")"
    t_assert_eq "$what: first attempts refused" 2 "$(t_sql "SELECT count(*) FROM attempts a JOIN results r USING (job_id, seq)
        WHERE a.job_id = $job AND a.attempt = 1 AND a.counted AND r.output->'payload'->>'do' = '$what'
        AND a.error ~ 'broke the protocol: $why'")"
done
grep -q 'error="not JSON' "$T_DIR/w1.log" || t_fail "the garbage line was not logged"
grep -q 'error="a line longer than 4194304 bytes (max_line)"' "$T_DIR/w1.log" || t_fail "the 100 MiB line was not refused"
grep -q 'error="an answer for id \\"0/0\\" while running' "$T_DIR/w1.log" || t_fail "the wrong id was not refused"
# the second answer of "twice" broke the protocol for that process
grep -q 'error="an answer for id \\"1/6\\" \(with no task running\|while running\)' "$T_DIR/w1.log" \
    || t_fail "the second answer was not refused"
# memory: the 100 MiB line cost at most max_line (4 MiB) on top of the worker's own
hwm=$(awk '/VmHWM/ {print $2}' "/proc/${PID[w1]}/status")
t_log "worker peak RSS ${hwm} kB"
[ "$hwm" -lt 65536 ] || t_fail "worker peak RSS ${hwm} kB: the huge line was buffered"
t_log "pass"
