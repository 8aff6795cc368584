#!/usr/bin/env bash
# Two runs of the same `shoal submit --key K` at once, the second finishing
# first: it seals the job. The first run's next chunk then meets a sealed
# job; it asks for the job again, finds it complete and exits 0 with the
# job id, like a rerun of a complete job (no error, nothing doubled). A
# cancelled job still refuses with the broker's words.
. "$(dirname "$0")/helpers.bash"

t_db
t_broker

M=40000
seq 1 $M | awk '{ printf "{\"kind\":\"noop\",\"tag\":\"s%d\"}\n", $1 }' > "$T_DIR/lines.jsonl"
committed() { t_sql "SELECT coalesce(max(n_tasks), 0) FROM jobs WHERE idem_key = '$1'"; }
committed_ge() { [ "$(committed "$1")" -ge "$2" ]; }

mkfifo "$T_DIR/a.pipe"
"$SHOAL_BIN/shoal" submit --key sealed-1 --chunk 1000 -f jsonl -q - < "$T_DIR/a.pipe" \
    > "$T_DIR/a.out" 2> "$T_DIR/a.err" &
PID[submit_a]=$!
exec 3> "$T_DIR/a.pipe"
head -n 10000 "$T_DIR/lines.jsonl" >&3
t_wait "the first run's first part committed" 60 committed_ge sealed-1 8000

job=$(shoal submit --key sealed-1 --chunk 1000 -f jsonl -q "$T_DIR/lines.jsonl") || t_fail "the second run failed"
t_assert_eq "sealed by the second run" t "$(t_sql "SELECT sealed FROM jobs WHERE id = $job")"

# (the first run may stop reading as soon as it learns the job is complete)
(trap '' PIPE; tail -n +10001 "$T_DIR/lines.jsonl" >&3 2>/dev/null) || true
exec 3>&-
rc=0
wait "${PID[submit_a]}" || rc=$?
unset 'PID[submit_a]'
t_assert_eq "the first run's exit code (stderr: $(tail -c 400 "$T_DIR/a.err"))" 0 "$rc"
t_assert_eq "the first run's job" "$job" "$(cat "$T_DIR/a.out")"
grep -q "was completed by an earlier run" "$T_DIR/a.err" || t_fail "the first run did not say the job was complete: $(cat "$T_DIR/a.err")"
t_assert_eq "task rows" $M "$(t_sql "SELECT count(*) FROM tasks WHERE job_id = $job")"
t_assert_eq "distinct specs" $M "$(t_sql "SELECT count(DISTINCT spec) FROM tasks WHERE job_id = $job")"

# a job cancelled under a running submit: refused, with the broker's words
mkfifo "$T_DIR/c.pipe"
"$SHOAL_BIN/shoal" submit --key cancelled-1 --chunk 1000 -f jsonl -q - < "$T_DIR/c.pipe" \
    > "$T_DIR/c.out" 2> "$T_DIR/c.err" &
PID[submit_c]=$!
exec 4> "$T_DIR/c.pipe"
head -n 5000 "$T_DIR/lines.jsonl" >&4
t_wait "the cancelled job's first part committed" 60 committed_ge cancelled-1 3000
shoal cancel "$(t_sql "SELECT id FROM jobs WHERE idem_key = 'cancelled-1'")" > /dev/null
(trap '' PIPE; tail -n +5001 "$T_DIR/lines.jsonl" >&4 2>/dev/null) || true
exec 4>&-
rc=0
wait "${PID[submit_c]}" || rc=$?
unset 'PID[submit_c]'
[ "$rc" -ne 0 ] || t_fail "a submit into a cancelled job exited 0"
grep -q "not open for tasks" "$T_DIR/c.err" || t_fail "the refusal does not say why: $(tail -c 400 "$T_DIR/c.err")"
t_log "pass"
