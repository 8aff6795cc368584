#!/usr/bin/env bash
# Extraction on exec steps (issue 10: "exec steps get variables in
# argv/stdin/env", and extract from what they print): the rules read the
# command's stdout (json:, regex:, all:, status = the exit code), their
# variables reach the next steps (a fan-out over an all: list too); a rule
# that finds nothing fails the step permanently with the stdout's first
# bytes, and the next step never runs.
. "$(dirname "$0")/helpers.bash"

t_db
t_broker
t_worker w1 --slots 4 --allow-exec
t_wait_workers 1

cat > "$T_DIR/p.json" <<'JSON'
{"steps": [
  {"name": "make", "argv": ["sh", "-c", "printf '{\"id\": \"%s-x\", \"links\": [\"a\", \"b\"]}\\nserial=S%s\\n' \"$N\" \"$N\""],
   "env": {"N": "{{n}}"},
   "extract": {"id": "regex:\"id\": \"([^\"]+)\"", "serial": "regex:serial=(\\w+)", "code": "status",
               "links": "all:regex:\"([ab])\"[],]"}},
  {"name": "use", "each": "links", "argv": ["sh", "-c", "echo \"$0 $1 $2 $3\"", "{{id}}", "{{serial}}", "{{links}}", "{{code}}"],
   "extract": {"line": "regex:^(.*)$"}}
]}
JSON
{ echo n; echo 1; echo 2; } > "$T_DIR/items.csv"
job=$(shoal submit --pipeline "$T_DIR/p.json" -q "$T_DIR/items.csv")
t_wait_done "$job" 60
t_assert_eq "two items, each a make step and two fan-out children, all ok" "6|6" \
    "$(t_sql "SELECT count(*), count(*) FILTER (WHERE outcome = 'ok') FROM results WHERE job_id = $job")"
t_assert_eq "variables from stdout reached the next step's argv" "1-x S1 a 0,1-x S1 b 0,2-x S2 a 0,2-x S2 b 0" \
    "$(t_sql "SELECT string_agg(r.vars->>'line', ',' ORDER BY r.vars->>'line') FROM results r JOIN tasks t USING (job_id, seq)
              WHERE r.job_id = $job AND t.step = 1")"
t_assert_eq "the items are complete" "2|2" \
    "$(t_sql "SELECT count(*), count(*) FILTER (WHERE outcome = 'complete') FROM items WHERE job_id = $job")"

# a rule that finds nothing on stdout: permanent, named, the next step never runs
cat > "$T_DIR/bad.json" <<'JSON'
{"steps": [
  {"name": "make", "argv": ["echo", "no id here"], "extract": {"id": "json:/id"}},
  {"name": "use", "argv": ["echo", "{{id}}"]}
]}
JSON
job=$(shoal submit --pipeline "$T_DIR/bad.json" --max-attempts 3 -q "$T_DIR/items.csv")
t_wait_done "$job" 60
t_assert_eq "both items failed at make, once each" "2|make|0" \
    "$(t_sql "SELECT count(*) FILTER (WHERE outcome = 'failed'), min(failed_step), (SELECT count(*) FROM attempts WHERE job_id = $job) FROM items WHERE job_id = $job")"
t_sql "SELECT error FROM items WHERE job_id = $job AND item = 0" > "$T_DIR/err.out"
t_grep "the error names the rule and shows stdout" '^extract id: .*no id here' "$T_DIR/err.out"
t_log "pass"
