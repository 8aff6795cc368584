#!/usr/bin/env bash
# Test 1 of issue 10: the four-step check (upload a ZIP -> file_id, fetch a
# CAPTCHA, solve it, submit with file_id, captcha id and answer) for 2,000
# items from an Excel CSV, against a server that issues the ids, checks
# every step's inputs and counts calls: every item submitted exactly once
# with the right file_id and answer, all with the job's cookie; each step
# a task (root, parent, step), the next one created with its variables
# rendered into its spec; results keep the variables; the items view says
# every item is complete.
. "$(dirname "$0")/helpers.bash"

N=${N:-2000}
t_db
p_server
p_check_pipeline
p_check_items "$N"
# the default heartbeat: this test counts every call, and a worker declared
# lost during a stall of the machine would run its steps again
t_broker
t_worker w1 --slots 32
t_worker w2 --slots 32
t_wait_workers 2

job=$(shoal submit --pipeline "$T_DIR/check.json" --defaults '{"cookies": "session=job-cookie-1"}' \
      --key check-1 -q "$T_DIR/checks.csv")
t_wait_done "$job" 240

t_assert_eq "every item submitted once, with the right ids" "$N 0 0 0" \
    "$(p_stats | jq -r '"\(.submitted_once) \(.submitted_twice) \(.submit_bad) \(.no_cookie)"')"
t_assert_eq "each step ran once per item" "$N $N $N $N" \
    "$(p_stats | jq -r '"\(.upload) \(.captcha) \(.solve) \(.submit)"')"
t_assert_eq "tasks: N items x 4 steps, each with a result" "$((4 * N))|$((4 * N))|0" \
    "$(t_sql "SELECT count(*), count(r.seq), count(*) FILTER (WHERE r.outcome <> 'ok')
              FROM tasks t LEFT JOIN results r USING (job_id, seq) WHERE t.job_id = $job")"
t_assert_eq "no step created twice: (root, step, element) unique" 0 \
    "$(t_sql "SELECT count(*) FROM (SELECT root, step, element FROM tasks WHERE job_id = $job AND root IS NOT NULL
              GROUP BY 1, 2, 3 HAVING count(*) > 1) d")"
t_assert_eq "each child's parent is the step before it" 0 \
    "$(t_sql "SELECT count(*) FROM tasks c JOIN tasks p ON p.job_id = c.job_id AND p.seq = c.parent
              WHERE c.job_id = $job AND coalesce(p.step, 0) + 1 <> c.step")"
# the next step's spec shows what was sent: file_id rendered into the body
t_decode TaskSpec "SELECT spec FROM tasks WHERE job_id = $job AND step = 3
                   AND root = (SELECT seq FROM tasks WHERE job_id = $job AND seq = 0)" > "$T_DIR/submit0.txt"
t_grep "the submit step's spec has the rendered body" 'body: "{\\"check\\": \\"K00001\\", \\"file_id\\": \\"F-K00001\\"' \
    "$T_DIR/submit0.txt"
t_assert_eq "results keep the variables" "F-K00001|ans-" \
    "$(t_sql "SELECT r.vars->>'file_id' || '|' || left(r.vars->>'answer', 4) FROM results r JOIN tasks t USING (job_id, seq)
              WHERE t.job_id = $job AND t.step = 2 AND t.root = 0")"
t_assert_eq "items view: every item complete at step submit" "$N|$N|submit" \
    "$(t_sql "SELECT count(*), count(*) FILTER (WHERE outcome = 'complete'), min(step_name) FROM items WHERE job_id = $job")"
t_log "pass"
