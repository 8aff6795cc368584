#!/usr/bin/env bash
# POST /v1/jobs with a "pipeline" (issue 12): the same job as `shoal submit
# --pipeline` of the same steps and items (the same stored pipeline, the
# same first-step specs), run to the end with every step rendered from the
# item (and every step's result exported by `shoal results`, children too); as NDJSON with ?pipeline=; bad pipelines and bad items answer 400
# naming the field, the step and the item's index, and nothing is lost.
. "$(dirname "$0")/helpers.bash"

t_db
t_broker
t_worker w1 --slots 8
t_wait_workers 1
t_gateway
t_wait "gateway healthy" 20 t_healthy

PIPE='{"steps": [{"name": "one", "kind": "noop", "tag": "item-{{n}}"},
                 {"name": "two", "kind": "noop", "tag": "{{n|url}}-two"}]}'
ITEMS='[{"n": "a"}, {"n": 7}, {"n": "c d"}]'
t_http p POST /v1/jobs -H 'Content-Type: application/json' \
    -d "{\"name\": \"gw-pipe\", \"key\": \"gw-pipe-1\", \"pipeline\": $PIPE, \"tasks\": $ITEMS}"
t_code "POST /v1/jobs with a pipeline" 201
job=$(jq -r .job "$T_DIR/p.body")
t_assert_eq "three items committed" 3 "$(jq -r .tasks "$T_DIR/p.body")"
t_wait_done "$job" 60
t_assert_eq "every item complete, two steps each" "3|3|6" \
    "$(t_sql "SELECT count(*), count(*) FILTER (WHERE outcome = 'complete'), sum(tasks) FROM items WHERE job_id = $job")"
t_assert_eq "each step rendered from its item" "item-7,item-a,item-c d,7-two,a-two,c%20d-two" \
    "$(shoal results "$job" --format jsonl | jq -rs 'map(.tag) | (map(select(startswith("item-"))) | sort)
                                                     + (map(select(endswith("-two"))) | sort) | join(",")')"
t_http st GET "/v1/jobs/$job"
t_assert_eq "per-step counts in the job's status" "one 3 3 | two 3 3" \
    "$(jq -r '[.steps[] | "\(.name) \(.tasks) \(.ok)"] | join(" | ")' "$T_DIR/st.body")"

# the same steps and items through the CLI: the same job
printf '%s\n' "$PIPE" > "$T_DIR/p.json"
printf '{"n": "a"}\n{"n": 7}\n{"n": "c d"}\n' > "$T_DIR/items.jsonl"
cli=$(shoal submit --pipeline "$T_DIR/p.json" --format jsonl -q "$T_DIR/items.jsonl")
t_assert_eq "the same stored pipeline as shoal submit --pipeline" 1 \
    "$(t_sql "SELECT count(DISTINCT pipeline) FROM jobs WHERE id IN ($job, $cli)")"
t_assert_eq "the same first-step specs as shoal submit --pipeline, byte for byte" "3|3" \
    "$(t_sql "SELECT count(*), count(*) FILTER (WHERE a.spec = b.spec) FROM tasks a JOIN tasks b
              ON b.job_id = $cli AND b.seq = a.seq WHERE a.job_id = $job AND a.seq < 1073741824")"

# NDJSON: the pipeline as a query parameter, one item per line
enc=$(jq -rn --arg p "$PIPE" '$p | @uri')
printf '{"n": "x"}\n{"n": "y"}\n' > "$T_DIR/items.ndjson"
t_http nd POST "/v1/jobs?key=gw-pipe-nd&pipeline=$enc" -H 'Content-Type: application/x-ndjson' \
    --data-binary @"$T_DIR/items.ndjson"
t_code "NDJSON with ?pipeline=" 201
nd=$(jq -r .job "$T_DIR/nd.body")
t_wait_done "$nd" 60
t_assert_eq "NDJSON items complete" "2|4" \
    "$(t_sql "SELECT count(*) FILTER (WHERE outcome = 'complete'), sum(tasks) FROM items WHERE job_id = $nd")"

# errors: a bad pipeline names the step and the field; nothing is opened
t_http bad1 POST /v1/jobs -H 'Content-Type: application/json' \
    -d '{"key": "gw-bad-1", "pipeline": {"steps": [{"name": "one", "kind": "noop", "colour": "red"}]}, "tasks": [{"n": "a"}]}'
t_code "a bad pipeline" 400
t_assert_eq "the error names the step and the field" "pipeline: step 'one': unknown field 'colour'" \
    "$(jq -r .error "$T_DIR/bad1.body")"
t_assert_eq "no job for it" 0 "$(t_sql "SELECT count(*) FROM jobs WHERE idem_key = 'gw-bad-1'")"
t_http bad2 POST /v1/jobs -H 'Content-Type: application/json' \
    -d '{"key": "gw-bad-2", "pipeline": {"steps": []}, "tasks": []}'
t_code "a pipeline without steps" 400
t_assert_eq "the reason" 'pipeline: "steps" must be a non-empty array' "$(jq -r .error "$T_DIR/bad2.body")"
# an item missing a variable: 400 naming its index and the step; the items before it are kept
t_http bad3 POST /v1/jobs -H 'Content-Type: application/json' \
    -d "{\"key\": \"gw-bad-3\", \"pipeline\": $PIPE, \"tasks\": [{\"n\": \"a\"}, {\"n\": \"b\"}, {\"m\": \"c\"}]}"
t_code "an item without a variable its step uses" 400
t_assert_eq "index, step and variable" "2|index 2: step 'one': unknown variable 'n' in tag|2" \
    "$(jq -r '"\(.index)|\(.error)|\(.committed)"' "$T_DIR/bad3.body")"
t_http bad4 POST /v1/jobs -H 'Content-Type: application/json' \
    -d "{\"key\": \"gw-bad-4\", \"pipeline\": $PIPE, \"tasks\": [\"a\"]}"
t_code "an item that is not an object" 400
t_assert_eq "the reason" "index 0: an item is a JSON object of variables" "$(jq -r .error "$T_DIR/bad4.body")"
# fixed, the same key goes on after the committed items
t_http fix POST /v1/jobs -H 'Content-Type: application/json' \
    -d "{\"key\": \"gw-bad-3\", \"pipeline\": $PIPE, \"tasks\": [{\"n\": \"a\"}, {\"n\": \"b\"}, {\"n\": \"c\"}]}"
t_code "the fixed POST with the same key" 201
t_assert_eq "three items once each" 3 "$(t_sql "SELECT count(*) FROM tasks t JOIN jobs j ON j.id = t.job_id WHERE j.idem_key = 'gw-bad-3' AND t.seq < 1073741824")"
t_log "pass"
