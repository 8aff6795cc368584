#!/usr/bin/env bash
# Test 4 of issue 10: what goes wrong in a pipeline is said where it
# happens. An extraction that finds nothing fails its step permanently
# with the rule, the status and the body's first bytes, and the item stops
# there; a 4xx mid-pipeline fails that step and the item; an unknown
# variable is refused at submit time (FILE:LINE, exit 3, nothing sent);
# bad pipeline files are FILE:LINE errors with exit 3; a submit stopped at
# a bad item keeps the items before it and continues with --key.
. "$(dirname "$0")/helpers.bash"

t_db
p_server
t_broker --heartbeat-ms 200
t_worker w1 --slots 8
t_wait_workers 1
printf 'check_no\nA1\nA2\nA3\n' > "$T_DIR/items.csv"

# 1) extraction finds nothing: the step fails at once (no retry), the item ends
cat > "$T_DIR/extract.json" <<JSON
{"steps": [
  {"name": "captcha", "url": "$S/captcha", "extract": {"file_id": "json:/file_id"}},
  {"name": "submit", "url": "$S/submit", "method": "POST", "body": "{{file_id}}"}
]}
JSON
job=$(shoal submit --pipeline "$T_DIR/extract.json" --defaults '{"cookies": "session=job-cookie-1"}' \
      --max-attempts 3 -q "$T_DIR/items.csv")
t_wait_done "$job" 60
t_assert_eq "items failed at the extracting step, once each" "3|3|captcha|3" \
    "$(t_sql "SELECT count(*), count(*) FILTER (WHERE outcome = 'failed'), min(failed_step), sum(tasks) FROM items WHERE job_id = $job")"
t_assert_eq "one attempt each: extraction failures are permanent" 0 \
    "$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $job")"
t_grep_sql() { t_sql "$2" > "$T_DIR/sql.out"; t_grep "$1" "$3" "$T_DIR/sql.out"; }
t_grep_sql "the error names the rule, the status and the body" \
    "SELECT error FROM items WHERE job_id = $job AND item = 0" \
    '^extract file_id: json:/file_id not found \(status 200, [0-9]+ body bytes: \{"captcha_id": "C-[0-9]+", "image"'
t_assert_eq "the next step never ran" 0 "$(p_stat submit)"

# 2) a 4xx in the middle: that step fails, the item stops there
cat > "$T_DIR/http4xx.json" <<JSON
{"steps": [
  {"name": "first", "kind": "noop"},
  {"name": "gone", "url": "$S/fail/404"},
  {"name": "never", "url": "$S/submit", "method": "POST", "body": "x"}
]}
JSON
job=$(shoal submit --pipeline "$T_DIR/http4xx.json" -q "$T_DIR/items.csv")
t_wait_done "$job" 60
t_assert_eq "a 4xx fails its step and the item" "3|gone|HTTP 404|6" \
    "$(t_sql "SELECT count(*) FILTER (WHERE outcome = 'failed'), min(failed_step), min(error), sum(tasks) FROM items WHERE job_id = $job")"
t_assert_eq "the step after it never ran" 0 "$(p_stat submit)"

# 3) an unknown variable: refused at submit time, FILE:LINE, nothing sent
cat > "$T_DIR/unknown.json" <<JSON
{"steps": [
  {"name": "get", "url": "$S/captcha?x={{check_no}}", "extract": {"id": "json:/captcha_id"}},
  {"name": "post", "url": "$S/submit",
   "body": "{{id}} {{chek_no}}"}
]}
JSON
t_run unknown shoal submit --pipeline "$T_DIR/unknown.json" --key unknown-1 "$T_DIR/items.csv"
t_rc "an unknown variable" 3
t_grep "named with the item's line and the step" "items.csv:2: .*unknown.json:4: step 'post': unknown variable 'chek_no' in body" \
    "$T_DIR/unknown.err"
t_assert_eq "nothing accepted" "0" "$(t_sql "SELECT n_tasks FROM jobs WHERE idem_key = 'unknown-1'")"

# 4) bad pipeline files: FILE:LINE, exit 3, no job
bad() {
    local name=$1 want=$2
    t_run "bad-$name" shoal submit --pipeline "$T_DIR/$name.json" --key "bad-$name" "$T_DIR/items.csv"
    t_rc "bad pipeline $name" 3
    t_grep "bad pipeline $name: FILE:LINE" "$want" "$T_DIR/bad-$name.err"
    t_assert_eq "bad pipeline $name: no job" 0 "$(t_sql "SELECT count(*) FROM jobs WHERE idem_key = 'bad-$name'")"
}
printf '{"steps": [\n  {"name": "a", "kind": "noop"},\n  {"name": "b" "kind": "noop"}\n]}\n' > "$T_DIR/syntax.json"
bad syntax "syntax.json:3: bad JSON at column"
printf '{"steps": [\n  {"name": "a", "kind": "noop"},\n  {"name": "b",\n   "colour": "red"}\n]}\n' > "$T_DIR/field.json"
bad field "field.json:4: step 'b': unknown field 'colour'"
printf '{"steps": [\n  {"name": "a", "url": "http://h/",\n   "extract": {"x": "regex:(open"}}\n]}\n' > "$T_DIR/regex.json"
bad regex "regex.json:3: step 'a': extract x: bad regex at offset 5"
printf '{"steps": [\n  {"name": "a", "kind": "noop"},\n  {"name": "b", "url": "http://h/{{l}}",\n   "each": "l"}\n]}\n' > "$T_DIR/each.json"
bad each "each.json:4: step 'b': \"each\": 'l' is not a list an earlier step extracts"
t_run missing shoal submit --pipeline "$T_DIR/nope.json" "$T_DIR/items.csv"
t_rc "a missing pipeline file" 3

# 5) a bad item stops the submit before sealing, the items before it kept;
#    the fixed file continues with the same key
printf 'check_no\nA1\nA2\n\xff\nA4\n' > "$T_DIR/baditem.csv"
cat > "$T_DIR/noop.json" <<'JSON'
{"steps": [{"name": "one", "kind": "noop", "tag": "{{check_no}}"}, {"name": "two", "kind": "noop"}]}
JSON
t_run baditem shoal submit --pipeline "$T_DIR/noop.json" --key bad-item "$T_DIR/baditem.csv"
t_rc "a bad item" 3
t_grep "the bad item's line" "baditem.csv:4: column 'check_no': not valid UTF-8" "$T_DIR/baditem.err"
printf 'check_no\nA1\nA2\nA3\nA4\n' > "$T_DIR/baditem.csv"
job=$(shoal submit --pipeline "$T_DIR/noop.json" --key bad-item -q "$T_DIR/baditem.csv")
t_wait_done "$job" 60
t_assert_eq "every item once after the fix, two steps each" "4|4|8" \
    "$(t_sql "SELECT count(*), count(*) FILTER (WHERE outcome = 'complete'), sum(tasks) FROM items WHERE job_id = $job")"
t_log "pass"
