#!/usr/bin/env bash
# Test 3 of issue 10: the four-step check of 2,000 items while things
# crash: kill -9 the broker mid-run (restarted on the same ports), then
# kill -9 a worker holding steps (another takes over), then PostgreSQL
# stops with -m immediate and comes back. No item is lost (every one
# complete), no step is created twice (unique (root, step, element) in
# tasks, exactly 4 tasks per item), and no committed step runs again:
# every call the server counted is a recorded attempt of that step, and
# only the steps the killed worker held may have reached the server twice.
. "$(dirname "$0")/helpers.bash"

N=${N:-2000}
t_db private
p_server
p_check_pipeline
p_check_items "$N"
B=(--heartbeat-ms 100 --liveness 5 --recovery-ms 1500)
t_broker "${B[@]}"
t_worker w1 --slots 16
t_worker w2 --slots 16
t_wait_workers 2
job=$(shoal submit --pipeline "$T_DIR/check.json" --defaults '{"cookies": "session=job-cookie-1"}' \
      --key crash-1 -q "$T_DIR/checks.csv")

# 1) kill -9 the broker with steps running and results on their way
t_wait "a quarter of the steps" 120 t_results_at_least "$job" $((N))
kill -9 "${PID[broker]}"
t_log "broker killed with $(t_results "$job") results committed"
t_broker "${B[@]}"

# 2) kill -9 a worker holding steps; a new one takes its place
t_wait "half of the steps" 120 t_results_at_least "$job" $((2 * N))
t_wait "w1 holds steps" 30 t_busy_at_least w1 1
kill -9 "${PID[w1]}"
t_log "worker w1 killed with $(t_results "$job") results committed"
t_worker w3 --slots 16

# 3) PostgreSQL stops at once (-m immediate) and comes back
t_wait "three quarters of the steps" 120 t_results_at_least "$job" $((3 * N))
"$T_SCRIPTS/pg-sandbox.sh" stop "$T_PRIVATE_PG" immediate
t_log "PostgreSQL stopped (immediate)"
t_wait "the broker notices" 30 grep -q "write_failed\|store_down\|db_down\|page_failed" "$T_DIR/broker.log"
"$T_SCRIPTS/pg-sandbox.sh" restart "$T_PRIVATE_PG"
t_log "PostgreSQL back"
t_wait_done "$job" 300

t_assert_eq "no item lost: every item complete" "$N|$N" \
    "$(t_sql "SELECT count(*), count(*) FILTER (WHERE outcome = 'complete') FROM items WHERE job_id = $job")"
t_assert_eq "status counts the items right across the kills" "$N $N 0 0 0 0" \
    "$(shoal -o json status "$job" | jq -r '.items | "\(.total) \(.complete) \(.failed) \(.cancelled) \(.running) \(.waiting)"')"
t_assert_eq "exactly 4 step tasks per item, each with one result" "$((4 * N))|$((4 * N))|$((4 * N))" \
    "$(t_sql "SELECT count(*), count(r.seq), count(DISTINCT (coalesce(t.root, t.seq), coalesce(t.step, 0)))
              FROM tasks t LEFT JOIN results r USING (job_id, seq) WHERE t.job_id = $job")"
t_assert_eq "no step created twice: (root, step, element) unique" 0 \
    "$(t_sql "SELECT count(*) FROM (SELECT root, step, element FROM tasks WHERE job_id = $job AND root IS NOT NULL
              GROUP BY 1, 2, 3 HAVING count(*) > 1) d")"
t_assert_eq "every step ok" 0 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome <> 'ok'")"
# the per-step counts of shoal status survive the crashes: loaded at the
# restart, added to per batch, read afresh after resent (duplicate) results
status_steps() { shoal -o json status "$job" | jq -r '[.steps[] | "\(.name) \(.tasks) \(.ok) \(.pending)"] | join(" | ")'; }
want="upload $N $N 0 | captcha $N $N 0 | solve $N $N 0 | submit $N $N 0"
t_wait "per-step counts: $want" 10 t_test_eq "$want" status_steps
t_log "ok: per-step counts after the crashes"
# every server call is an attempt the broker recorded (a result or an
# attempt row of a lost lease): a committed step never ran again
lost=$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $job")
calls=$(p_stats | jq '.upload + .captcha + .solve + .submit')
t_log "server calls $calls for $((4 * N)) steps; attempts: $(t_sql "SELECT string_agg(outcome || ' ' || n || ' ' || e, '; ') FROM (SELECT outcome, count(*) AS n, min(coalesce(error, '')) AS e FROM attempts WHERE job_id = $job GROUP BY 1) a")"
[ "$calls" -le $((4 * N + lost)) ] || t_fail "$calls server calls, more than the $((4 * N)) steps and $lost lost attempts"
killed=$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $job AND outcome IN ('lost', 'expired')")
[ "$killed" -le 16 ] || t_fail "$killed lost leases: more than the 16 steps the killed worker could hold"
t_assert_eq "every item accepted, with its own ids" "0 0" "$(p_stats | jq -r '"\(.submit_bad) \(.no_cookie)"')"
t_assert_eq "items accepted" "$N" "$(p_stats | jq -r '.submitted_once + .submitted_twice')"
grep -q "broker_restarted" "$T_DIR/w2.log" || t_fail "w2 never saw the broker restart; nothing was tested"
t_log "pass"
