#!/usr/bin/env bash
# Per-step counts of a pipeline job (issue 10 "Seeing it", issue 12's job
# status) and `shoal retry` of failed steps. Ten items of three steps:
# `first` (noop), `page` (a listing page; two items ask /gate, which
# answers 404 until it is opened), `pdf` (a fan-out over the page's five
# links). Checked, each against SQL over tasks and results:
#   - `shoal status` (text and -o json) and GET /v1/jobs/{id} of the
#     gateway list every step with tasks/ok/failed/cancelled/pending
#     (8 pages ok, 2 failed; 40 fan-out children), and failed_total;
#   - `shoal retry` re-runs the two failed `page` steps (not their items
#     from the first step), their items go on to their `pdf` children and
#     complete; the counts follow (read afresh after the retry), while
#     failed_total keeps the two failures;
#   - after a broker restart the counts are the same (read from the store).
# Small on purpose (70 tasks, a few seconds): the counting is the same
# for 16.9M tasks, its cost is in docs/pipelines.md.
. "$(dirname "$0")/helpers.bash"
. "$(dirname "$0")/../gateway/helpers.bash"

t_db
p_server 5
t_broker
t_worker w1 --slots 8
t_wait_workers 1
t_gateway

{ echo path; for i in 1 2 3 4 5 6 7 8; do echo "list?page=$i"; done; echo "gate?page=g1"; echo "gate?page=g2"; } \
    > "$T_DIR/items.csv"
cat > "$T_DIR/steps.json" <<JSON
{"steps": [
  {"name": "first", "kind": "noop"},
  {"name": "page", "url": "$S/{{path}}",
   "extract": {"links": "all:regex:href=\"(/pdf/[^\"]+\\\\.pdf)\""}},
  {"name": "pdf", "each": "links", "url": "$S{{links}}"}
]}
JSON
job=$(shoal submit --pipeline "$T_DIR/steps.json" -q "$T_DIR/items.csv")
t_wait_done "$job" 60

# the counts as SQL sees them: "name tasks ok failed cancelled pending" per step
sql_steps() {
    t_sql "SELECT string_agg(format('%s %s %s %s %s %s', s.name, coalesce(c.tasks, 0), coalesce(c.ok, 0),
                                     coalesce(c.failed, 0), coalesce(c.cancelled, 0), coalesce(c.pending, 0)),
                             ' | ' ORDER BY s.i)
           FROM (SELECT e.i - 1 AS i, e.step->>'name' AS name
                 FROM jobs j, jsonb_array_elements(j.pipeline::jsonb->'steps') WITH ORDINALITY AS e(step, i)
                 WHERE j.id = $job) s
           LEFT JOIN (SELECT coalesce(t.step, 0) AS step, count(*) AS tasks,
                             count(*) FILTER (WHERE r.outcome = 'ok') AS ok,
                             count(*) FILTER (WHERE r.outcome = 'failed') AS failed,
                             count(*) FILTER (WHERE r.outcome = 'cancelled') AS cancelled,
                             count(*) FILTER (WHERE r.seq IS NULL) AS pending
                      FROM tasks t LEFT JOIN results r USING (job_id, seq)
                      WHERE t.job_id = $job GROUP BY 1) c ON c.step = s.i"
}
json_steps() { jq -r '[.steps[] | "\(.name) \(.tasks) \(.ok) \(.failed) \(.cancelled) \(.pending)"] | join(" | ")'; }
# the items as the items view has them: "total complete failed cancelled running waiting"
sql_items_tally() {
    t_sql "SELECT format('%s %s %s %s %s %s', (SELECT count(*) FROM tasks WHERE job_id = $job AND root IS NULL),
                  count(*) FILTER (WHERE outcome = 'complete'), count(*) FILTER (WHERE outcome = 'failed'),
                  count(*) FILTER (WHERE outcome = 'cancelled'),
                  count(*) FILTER (WHERE outcome = 'running' AND tasks > 1), 0)
           FROM items WHERE job_id = $job"
}
json_items() { jq -r '.items | "\(.total) \(.complete) \(.failed) \(.cancelled) \(.running) \(.waiting)"'; }
cli_items_tally() { shoal -o json status "$job" | json_items; }
cli_steps() { shoal -o json status "$job" | json_steps; }
gw_steps() { curl -sf -H "Authorization: Bearer $TOKEN" "$GW/v1/jobs/$job" | json_steps; }

want="first 10 10 0 0 0 | page 10 8 2 0 0 | pdf 40 40 0 0 0"
t_assert_eq "SQL: 8 pages ok, 2 failed, 40 children" "$want" "$(sql_steps)"
t_assert_eq "shoal -o json status: the same per-step counts" "$want" "$(cli_steps)"
t_assert_eq "GET /v1/jobs/{id}: the same per-step counts" "$want" "$(gw_steps)"
t_assert_eq "GET /v1/jobs/{id}: failed_total" 2 \
    "$(curl -sf -H "Authorization: Bearer $TOKEN" "$GW/v1/jobs/$job" | jq .failed_total)"
t_assert_eq "SQL: 8 items complete, 2 failed" "10 8 2 0 0 0" "$(sql_items_tally)"
t_assert_eq "shoal -o json status: the items as the items view counts them" "$(sql_items_tally)" "$(cli_items_tally)"
t_assert_eq "GET /v1/jobs/{id}: the same items" "$(sql_items_tally)" \
    "$(curl -sf -H "Authorization: Bearer $TOKEN" "$GW/v1/jobs/$job" | json_items)"
t_assert_eq "the job's tasks: queued counts none of the children as waiting" 0 "$(shoal -o json status "$job" | jq .queued)"
t_assert_eq "the fan-out step says what it fans out over" links \
    "$(shoal -o json status "$job" | jq -r '.steps[2].each')"
t_run status shoal status "$job"
t_grep "text: progress by items" '^  progress   100.0%  10 of 10 items done$' "$T_DIR/status.out"
t_grep "text: the items" '^  items      complete 8  failed 2  cancelled 0  running 0  waiting 0$' "$T_DIR/status.out"
t_run jobs shoal jobs
t_grep "shoal jobs: a pipeline job's row counts items" "^ *$job  done .*100.0% .* 10 .* 8 .* 2 .*\\(items\\)\$" "$T_DIR/jobs.out"
t_grep "text: one line per step" '^  steps      first  tasks 10  ok 10  failed 0  cancelled 0  pending 0$' "$T_DIR/status.out"
t_grep "text: the failed step" '^             page   tasks 10  ok 8  failed 2  cancelled 0  pending 0$' "$T_DIR/status.out"
t_grep "text: the fan-out step" '^             pdf    tasks 40  ok 40  failed 0  cancelled 0  pending 0  \(each links\)$' \
    "$T_DIR/status.out"

# shoal results --items: one row per item, as the items view has it
sql_items() {
    t_sql "SELECT string_agg(format('%s %s %s %s %s', item, outcome, tasks, step_name, coalesce(failed_step, '-')),
                             ',' ORDER BY item) FROM items WHERE job_id = $job"
}
cli_items() { shoal results "$job" --items | jq -rs 'map("\(.item) \(.outcome) \(.tasks) \(.step) \(.failed_step // "-")") | join(",")'; }
t_assert_eq "--items: item, outcome, tasks, furthest step, failed step as the items view" "$(sql_items)" "$(cli_items)"
t_assert_eq "--items: 8 complete, 2 failed at page" "8 2" \
    "$(shoal results "$job" --items | jq -rs '"\(map(select(.outcome == "complete")) | length) \(map(select(.failed_step == "page")) | length)"')"
t_assert_eq "--items: the furthest variables of an item" \
    "$(t_sql "SELECT vars FROM items WHERE job_id = $job AND item = 0" | jq -cS .)" \
    "$(shoal results "$job" --items | jq -cS 'select(.item == 0) | .vars')"
t_assert_eq "--items: a failed item's error" "HTTP 404" \
    "$(shoal results "$job" --items | jq -r 'select(.item == 8) | .error')"
t_run items_csv shoal results "$job" --items --format csv --page 3
t_rc "--items --format csv, 3 items a page" 0
t_assert_eq "--items csv: the header and one line per item" "job,item,outcome,tasks,last_step,step,failed_step,error,vars|11" \
    "$(head -n 1 "$T_DIR/items_csv.out")|$(wc -l < "$T_DIR/items_csv.out")"
t_grep "--items csv: a complete item" "^$job,0,complete,7,2,pdf,,,\"\\{" "$T_DIR/items_csv.out"
plain=$(shoal submit --count 2 -q)
t_run items_plain shoal results "$plain" --items
t_rc "--items of a plain job is refused" 5
t_grep "--items of a plain job says why" "not a pipeline job" "$T_DIR/items_plain.err"

# retry: the failed `page` steps run again (the gate is open now) and their
# items carry on with their children; `first` does not run again
curl -sf "$S/open" >/dev/null
calls_before=$(p_stat list)
shoal retry "$job" >/dev/null
t_wait_done "$job" 60
t_assert_eq "retried pages ran once each, nothing else re-ran" "$((calls_before + 2))" "$(p_stat list)"
t_assert_eq "every item complete after the retry" "10|10" \
    "$(t_sql "SELECT count(*), count(*) FILTER (WHERE outcome = 'complete') FROM items WHERE job_id = $job")"
t_assert_eq "one result per task, the first steps not re-created" "70|10" \
    "$(t_sql "SELECT count(*), count(*) FILTER (WHERE coalesce(step, 0) = 0) FROM tasks t JOIN results r USING (job_id, seq) WHERE t.job_id = $job")"
want="first 10 10 0 0 0 | page 10 10 0 0 0 | pdf 50 50 0 0 0"
t_assert_eq "SQL after the retry" "$want" "$(sql_steps)"
t_wait "status counts after the retry" 10 t_test_eq "$want" cli_steps
t_assert_eq "gateway counts after the retry" "$want" "$(gw_steps)"
t_assert_eq "items after the retry (read afresh)" "10 10 0 0 0 0" "$(cli_items_tally)"
t_assert_eq "failed_total keeps the two failures" 2 "$(shoal -o json status "$job" | jq .failed_total)"

# a broker restart: the same counts, read from the store
kill -TERM "${PID[broker]}"
t_wait "broker exit" 30 t_exited "${PID[broker]}"
t_broker
t_assert_eq "counts after a broker restart" "$want" "$(cli_steps)"
t_assert_eq "items after a broker restart (read from the store)" "10 10 0 0 0 0" "$(cli_items_tally)"
t_log "pass"
