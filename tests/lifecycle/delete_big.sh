#!/usr/bin/env bash
# shoal delete of a big done job while another job runs at full speed
# (issue 18, test 2, scaled): 300,000 tasks instead of 2,000,000 — the
# deletion goes in transactions of 10,000 seqs either way, so what one
# transaction costs the other job does not depend on the job's size.
#
# The other job's commits are sampled from the progress feed (a snapshot
# every 100 ms: its ok count, which moves when a result batch commits).
# The longest time its count stands still while the delete runs must stay
# under STALL_BOUND_MS (docs/lifecycle.md: a batch holds the janitor's
# transaction for ~0.1-0.3 s here, and the writer never waits for it; the
# bound is generous against a loaded CI machine). The same job deleted in
# one transaction (--delete-batch 1000000000) stalls it for seconds:
# see docs/lifecycle.md for the figures.
. "$(dirname "$0")/../lib.sh"

N=${DELETE_N:-300000}
BUSY=${DELETE_BUSY:-300000}
STALL_BOUND_MS=${STALL_BOUND_MS:-1500}
t_db
t_broker --snapshot-ms 100 ${DELETE_BATCH:+--delete-batch $DELETE_BATCH}
t_worker w1 --slots 64
t_wait_workers 1

# the job to delete: 2,000 real tasks, then grown by SQL to N rows in
# tasks and results (and an attempt every 10th task, an update row)
a=$(shoal submit --count 2000 --name old -q)
t_wait_done "$a" 60
t_sql "INSERT INTO tasks (job_id, seq, kind, target, spec)
         SELECT $a, g, t.kind, t.target, t.spec FROM tasks t, generate_series(2000, $N - 1) g
         WHERE t.job_id = $a AND t.seq = 0;
       INSERT INTO results (job_id, seq, outcome, attempt, worker, started_at, finished_at, duration_ms)
         SELECT $a, g, 'ok', 1, 'w1', now(), now(), 1 FROM generate_series(2000, $N - 1) g;
       INSERT INTO attempts (job_id, seq, attempt, worker, outcome, error)
         SELECT $a, g, 1, 'w1', 'lost', 'grown by the test' FROM generate_series(0, $N - 1, 10) g;
       -- tasks pipeline steps created live above 2^30 (docs/pipelines.md)
       INSERT INTO tasks (job_id, seq, kind, target, spec, root, parent, step, element)
         SELECT $a, 1073741824 + g, t.kind, t.target, t.spec, g, g, 1, 0 FROM tasks t, generate_series(0, 999) g
         WHERE t.job_id = $a AND t.seq = 0;
       INSERT INTO results (job_id, seq, outcome, attempt) SELECT $a, 1073741824 + g, 'ok', 1
         FROM generate_series(0, 999) g;
       INSERT INTO job_updates (job_id, note) VALUES ($a, 'timeout_ms=1');
       UPDATE jobs SET n_tasks = $N, n_ok = $N WHERE id = $a; ANALYZE" >/dev/null
t_assert_eq "tasks of the big job" "$((N + 1000))" "$(t_sql "SELECT count(*) FROM tasks WHERE job_id = $a")"

# the other job: noop tasks of 5 ms on 64 slots (up to 12,800 results a
# second) for the whole delete
b=$(shoal submit --count "$BUSY" --sleep-ms 5 --name busy -q)
t_wait "the busy job running" 60 t_results_at_least "$b" 5000
"$SHOAL_BIN/shoal-monitor" --json --progress "$PROGRESS" > "$T_DIR/monitor.jsonl" 2>"$T_DIR/monitor.log" &
PID[monitor]=$!
has_samples() { [ "$(grep -c '"cluster"' "$T_DIR/monitor.jsonl")" -ge 10 ]; }
t_wait "progress samples" 30 has_samples

# an active job is refused without --cancel, nothing of it is touched
out=$(shoal delete "$b" --yes 2>&1) && t_fail "deleting an active job was accepted: $out"
echo "$out" | grep -q "job $b is active.*--cancel" || t_fail "unclear refusal: $out"
# without --yes and without a terminal: refused, nothing asked
out=$(shoal delete "$a" </dev/null 2>&1) && t_fail "deleted without confirmation: $out"
echo "$out" | grep -q "not a terminal.*--yes" || t_fail "unclear refusal without --yes: $out"

start_us=$(date +%s%6N)
out=$(shoal -o json delete "$a" --yes) || t_fail "delete failed: $out"
end_us=$(date +%s%6N)
t_log "delete: $out ($(( (end_us - start_us) / 1000 )) ms)"
kill "${PID[monitor]}" 2>/dev/null; wait "${PID[monitor]}" 2>/dev/null || true
# the samples mean something only while the busy job still had work
[ "$(t_job_state "$b")" = active ] || t_fail "the busy job finished during the delete: make it bigger"
t_assert_eq "tasks deleted" "$((N + 1000))" "$(echo "$out" | jq .tasks)"
t_assert_eq "results deleted" "$((N + 1000))" "$(echo "$out" | jq .results)"
t_assert_eq "attempts deleted" "$((N / 10))" "$(echo "$out" | jq .attempts)"
t_assert_eq "updates deleted" 1 "$(echo "$out" | jq .updates)"

# the busy job's commits during the delete: the longest time its ok count
# stood still between two snapshots
stall=$(jq -r --arg b "$b" --argjson s "$start_us" --argjson e "$end_us" '
    select(.jobs) | select(.time_us >= $s and .time_us <= $e)
    | [.time_us, (.jobs[] | select(.id == ($b | tonumber)) | .ok)] | @tsv' "$T_DIR/monitor.jsonl" \
  | awk 'NR == 1 { t = $1; ok = $2; last = $1; next }
         { last = $1 }
         $2 > ok { if ($1 - t > max) max = $1 - t; t = $1; ok = $2 }
         END { if (last - t > max) max = last - t; printf "%d %d\n", max / 1000, NR }')
read -r stall_ms samples <<<"$stall"
t_log "busy job: longest stand-still during the delete ${stall_ms} ms over $samples samples"
[ "$samples" -ge 5 ] || t_fail "only $samples progress samples during the delete"
[ "$stall_ms" -le "$STALL_BOUND_MS" ] \
    || t_fail "the busy job's commits stood still ${stall_ms} ms during the delete (bound $STALL_BOUND_MS ms)"
# and no transaction of the delete held its locks longer than the bound
longest=$(echo "$out" | jq .longest_batch_ms)
[ "$longest" -le "$STALL_BOUND_MS" ] \
    || t_fail "a transaction of the delete took ${longest} ms (bound $STALL_BOUND_MS ms)"
batches=$(echo "$out" | jq .batches)
[ "$batches" -ge $((N / 10000)) ] || t_fail "only $batches transactions for $N tasks"

# nothing of the deleted job in any table; its status is gone
for table in $(t_sql "SELECT table_name FROM information_schema.columns c JOIN information_schema.tables t
                      USING (table_schema, table_name)
                      WHERE c.table_schema = 'public' AND c.column_name = 'job_id' AND t.table_type = 'BASE TABLE'"); do
    t_assert_eq "rows of job $a in $table" 0 "$(t_sql "SELECT count(*) FROM $table WHERE job_id = $a")"
done
t_assert_eq "jobs row" 0 "$(t_sql "SELECT count(*) FROM jobs WHERE id = $a")"
shoal status "$a" >/dev/null 2>&1 && t_fail "status still shows job $a"
shoal -o json jobs | jq -e --argjson a "$a" 'any(.[]; .id == $a)' >/dev/null && t_fail "jobs lists job $a"

# the busy job is whole: paused and quiet, each of its tasks is there and
# its result rows are what its counters say
shoal pause "$b" >/dev/null
t_wait "the busy job's tasks finished" 60 t_test_eq 0 t_busy w1
counted() { t_sql "SELECT count(*) = (SELECT n_ok + n_failed + n_cancelled FROM jobs WHERE id = $b)
                   FROM results WHERE job_id = $b"; }
t_wait "the busy job's results committed" 30 t_test_eq t counted
t_assert_eq "tasks of the busy job" "$BUSY" "$(t_sql "SELECT count(*) FROM tasks WHERE job_id = $b")"
t_assert_eq "the busy job's state" paused "$(t_job_state "$b")"
t_log "ok"
