#!/usr/bin/env bash
# Two uploads of the same job (the same key) at once. A sends its first
# part and waits; B, with the same key, resumes behind A, commits further
# and is cut off; A goes on, and its next chunk starts behind what B
# committed: the broker refuses it (a conflict). A must carry on from the
# committed count, as `shoal submit` does, and end with 201: the job has
# every line once, in order, sealed. Then the same with a B that finishes
# and seals the job first: A's next chunk meets a sealed job, and A ends
# with 201 too, the job's (resumed), not with an error.
. "$(dirname "$0")/helpers.bash"

t_db
t_broker
t_gateway --chunk 1000
t_wait "gateway healthy" 20 t_healthy

M=40000
seq 1 $M | awk '{ printf "{\"kind\":\"noop\",\"tag\":\"k%d\"}\n", $1 }' > "$T_DIR/lines.ndjson"
KEY=same-1
committed() { t_sql "SELECT coalesce(max(n_tasks), 0) FROM jobs WHERE idem_key = '$KEY'"; }
# post NAME < input & : the upload (curl itself, so that $! is curl); its
# HTTP code lands in NAME.code
post() {
    exec curl -sS -o "$T_DIR/$1.body" -w '%{http_code}' -X POST -T - -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/x-ndjson' "$GW/v1/jobs?name=same&key=$KEY" > "$T_DIR/$1.code"
}

mkfifo "$T_DIR/a.pipe" "$T_DIR/b.pipe" "$T_DIR/c.pipe"
post a < "$T_DIR/a.pipe" &
PID[curl_a]=$!
exec 3> "$T_DIR/a.pipe"
head -n 10000 "$T_DIR/lines.ndjson" >&3
t_wait "A's first part committed" 60 t_test_ge 8000 committed

post b < "$T_DIR/b.pipe" &
PID[curl_b]=$!
exec 4> "$T_DIR/b.pipe"
head -n 25000 "$T_DIR/lines.ndjson" >&4
t_wait "B committed past A" 60 t_test_ge 20000 committed
kill -9 "${PID[curl_b]}" 2>/dev/null || true
wait "${PID[curl_b]}" 2>/dev/null || true
unset 'PID[curl_b]'
exec 4>&-
t_assert_eq "not sealed after B's cut" f "$(t_sql "SELECT sealed FROM jobs WHERE idem_key = '$KEY'")"
t_log "B cut off with $(committed) of $M committed"

# A's next chunk starts near 10,000, behind B's
tail -n +10001 "$T_DIR/lines.ndjson" >&3
exec 3>&-
wait "${PID[curl_a]}" || t_fail "curl A failed"
unset 'PID[curl_a]'
t_assert_eq "A's answer (body: $(head -c 300 "$T_DIR/a.body"))" 201 "$(cat "$T_DIR/a.code")"
job=$(jq -r .job "$T_DIR/a.body")
t_assert_eq "tasks in A's answer" $M "$(jq -r .tasks "$T_DIR/a.body")"
t_assert_eq "task rows" $M "$(t_sql "SELECT count(*) FROM tasks WHERE job_id = $job")"
t_assert_eq "distinct specs (each line once)" $M "$(t_sql "SELECT count(DISTINCT spec) FROM tasks WHERE job_id = $job")"
t_assert_eq "sealed" t "$(t_sql "SELECT sealed FROM jobs WHERE id = $job")"
# in order: the task at seq 12,345 is line 12,346
t_assert_eq "the line of task 12345" t \
    "$(t_sql "SELECT encode(spec, 'escape') ~ 'k12346([^0-9]|$)' FROM tasks WHERE job_id = $job AND seq = 12345")"
# ---- B finishes first and seals the job
KEY=same-2
post c < "$T_DIR/c.pipe" &
PID[curl_c]=$!
exec 3> "$T_DIR/c.pipe"
head -n 10000 "$T_DIR/lines.ndjson" >&3
t_wait "A's first part committed (same-2)" 60 t_test_ge 8000 committed
(post d) < "$T_DIR/lines.ndjson"   # in a subshell: post execs curl
t_assert_eq "B's answer (body: $(head -c 300 "$T_DIR/d.body"))" 201 "$(cat "$T_DIR/d.code")"
t_assert_eq "sealed by B" t "$(t_sql "SELECT sealed FROM jobs WHERE idem_key = '$KEY'")"
tail -n +10001 "$T_DIR/lines.ndjson" >&3
exec 3>&-
wait "${PID[curl_c]}" || t_fail "curl A (same-2) failed"
unset 'PID[curl_c]'
t_assert_eq "A's answer after B sealed (body: $(head -c 300 "$T_DIR/c.body"))" 201 "$(cat "$T_DIR/c.code")"
t_assert_eq "A resumed the job B completed" "true $M" "$(jq -r '"\(.resumed) \(.tasks)"' "$T_DIR/c.body")"
job2=$(jq -r .job "$T_DIR/c.body")
t_assert_eq "task rows (same-2)" $M "$(t_sql "SELECT count(DISTINCT spec) FROM tasks WHERE job_id = $job2")"
t_log "pass"
