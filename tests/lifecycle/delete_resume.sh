#!/usr/bin/env bash
# A broker killed (-9) in the middle of a deletion: the job is already
# gone from every view (its jobs row went in the first transaction), and
# the next broker finds it in job_deletions and deletes the rest, without
# anyone asking again. 100,000 tasks in transactions of 1,000 seqs, so the
# deletion is still under way when the kill comes.
. "$(dirname "$0")/../lib.sh"

N=100000
t_db
t_broker --delete-batch 1000
t_worker w1 --slots 16
t_wait_workers 1
a=$(shoal submit --count 1000 --name old -q)
t_wait_done "$a" 60
t_sql "INSERT INTO tasks (job_id, seq, kind, target, spec)
         SELECT $a, g, t.kind, t.target, t.spec FROM tasks t, generate_series(1000, $N - 1) g
         WHERE t.job_id = $a AND t.seq = 0;
       INSERT INTO results (job_id, seq, outcome, attempt) SELECT $a, g, 'ok', 1 FROM generate_series(1000, $N - 1) g;
       UPDATE jobs SET n_tasks = $N, n_ok = $N WHERE id = $a" >/dev/null
keep=$(shoal submit --count 50 --name keep -q)
t_wait_done "$keep" 60

shoal --broker-timeout-ms 1000 delete "$a" --yes > "$T_DIR/delete.out" 2>&1 &
PID[delete]=$!
claimed() { [ "$(t_sql "SELECT count(*) FROM jobs WHERE id = $a")" = 0 ]; }
t_wait "the job claimed" 30 claimed
kill -9 "${PID[broker]}"
wait "${PID[broker]}" 2>/dev/null || true
left=$(t_sql "SELECT count(*) FROM tasks WHERE job_id = $a")
t_log "killed with $left of $N tasks' rows left"
[ "$left" -gt 0 ] || t_fail "the deletion was over before the kill: nothing to resume"
t_assert_eq "pending deletions" "$a" "$(t_sql "SELECT job_id FROM job_deletions")"
wait "${PID[delete]}" 2>/dev/null && t_fail "the CLI reported success: $(cat "$T_DIR/delete.out")"
t_log "the CLI said: $(cat "$T_DIR/delete.out")"

t_broker --delete-batch 1000
gone() { [ "$(t_sql "SELECT (SELECT count(*) FROM tasks WHERE job_id = $a) + (SELECT count(*) FROM results WHERE job_id = $a)
                     + (SELECT count(*) FROM job_deletions)")" = 0 ]; }
t_wait "the rest deleted by the next broker" 60 gone
grep -q "job_deleted job=$a .*resumed=yes" "$T_DIR/broker.log" || t_fail "no job_deleted ... resumed=yes line"
shoal status "$a" >/dev/null 2>&1 && t_fail "status shows the deleted job"
t_assert_eq "the other job's results" 50 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $keep")"
t_assert_eq "the other job" done "$(t_job_state "$keep")"
t_log "ok"
