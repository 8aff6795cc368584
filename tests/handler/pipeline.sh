#!/usr/bin/env bash
# Handlers as pipeline steps: a handler sees every variable known at its
# step (the item's and the earlier steps'), the vars of its answer go to
# the next step (named in the step's "sets"), and a pipeline that uses a
# handler's variable it did not declare is refused at submit, naming the
# file, the line and the step.
. "$(dirname "$0")/../lib.sh"
EX=$(cd "$(dirname "$0")/../../examples/handlers" && pwd)
N=300

cat > "$T_DIR/split.py" <<PY
import sys
sys.path.insert(0, "$EX")
import shoal_handler

def split(payload, vars, task):
    words = payload["text"].split()
    return shoal_handler.Answer({"saw_id": vars.get("id")}, {"first": words[0], "n": str(len(words))})

shoal_handler.serve(split)
PY
cat > "$T_DIR/steps.json" <<'JSON'
{"steps": [
  {"name": "split", "handler": "split", "payload": {"text": "{{text}}"}, "sets": ["first", "n"]},
  {"name": "echo", "handler": "echo", "payload": {"got": "{{id}}:{{first}}:{{n}}"}}
]}
JSON
{
    echo "id,text"
    for i in $(seq 1 $N); do echo "i$i,word$i and $((i % 7)) more"; done
} > "$T_DIR/items.csv"

t_db
t_broker
t_worker w1 --slots 8 --kinds noop \
    --handler "split[procs=2]=python3 $T_DIR/split.py" --handler "echo[procs=2]=python3 $EX/echo.py"
t_wait_workers 1

job=$(shoal submit --pipeline "$T_DIR/steps.json" -q "$T_DIR/items.csv")
t_wait_done "$job" 120
t_assert_eq "tasks: 2 steps per item, all ok" "$((2 * N))|0" \
    "$(t_sql "SELECT count(*), count(*) FILTER (WHERE r.outcome <> 'ok')
              FROM tasks t JOIN results r USING (job_id, seq) WHERE t.job_id = $job")"
t_assert_eq "the first step's handler saw the item's variables" "$N" \
    "$(t_sql "SELECT count(*) FROM results r JOIN tasks t USING (job_id, seq)
              WHERE t.job_id = $job AND coalesce(t.step, 0) = 0 AND r.output->>'saw_id' LIKE 'i%'")"
#  the second step got the first's answer vars: item i (root seq i - 1)
#  has the first word 'word<i>' and 4 words
bad=$(t_sql "SELECT count(*) FROM results r JOIN tasks t USING (job_id, seq), tasks root
             WHERE t.job_id = $job AND t.step = 1 AND root.job_id = t.job_id AND root.seq = t.root
               AND r.output->'payload'->>'got' <> 'i' || (root.seq + 1) || ':word' || (root.seq + 1) || ':4'")
t_assert_eq "second steps whose payload is not id:first:n of their item" 0 "$bad"
t_assert_eq "the results of the second step keep the handler's vars" "word1|4" \
    "$(t_sql "SELECT r.vars->>'first' || '|' || (r.vars->>'n') FROM results r JOIN tasks t USING (job_id, seq)
              WHERE t.job_id = $job AND t.step = 1 AND t.root = 0")"

# the same pipeline without "sets": refused before anything is sent
jq -c '.steps[0] |= del(.sets)' "$T_DIR/steps.json" > "$T_DIR/nosets.json"
set +e
"$SHOAL_BIN/shoal" --broker "$FRONTEND" submit --pipeline "$T_DIR/nosets.json" --key nosets "$T_DIR/items.csv" \
    > "$T_DIR/nosets.out" 2> "$T_DIR/nosets.err"
rc=$?
set -e
t_assert_eq "a handler's undeclared variable: exit code" 3 "$rc"
grep -q "items.csv:2: .*nosets.json:1: step 'echo': unknown variable 'first' in payload (the vars of a handler's answer are named in its step's \"sets\")" \
    "$T_DIR/nosets.err" || t_fail "the error does not name the file, step and variable: $(cat "$T_DIR/nosets.err")"
t_assert_eq "nothing accepted" 0 "$(t_sql "SELECT n_tasks FROM jobs WHERE idem_key = 'nosets'")"
t_log "pass"
