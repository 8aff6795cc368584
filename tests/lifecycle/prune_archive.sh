#!/usr/bin/env bash
# shoal prune by age (issue 18, test 3): jobs of several ages and states
# (finished_at set back with SQL), --state picks how they ended, --archive
# writes each job's results as gzip JSONL equal to `shoal results JOB`
# before the rows go, young and active jobs stay; deleting an active job
# is refused without --cancel and works with it; bad ages and states are
# refused naming the value.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 200
t_worker w1 --slots 8
t_wait_workers 1
ARCH="$T_DIR/archive"
mkdir -p "$ARCH"

ok_old=$(shoal submit --count 40 --name ok-old -q)
# a job with failed tasks: nothing listens on port 1, one attempt each
printf '{"url":"http://127.0.0.1:1/a"}\n{"url":"http://127.0.0.1:1/b"}\n' > "$T_DIR/refused.jsonl"
failed_old=$(shoal submit --name failed-old --max-attempts 1 -q "$T_DIR/refused.jsonl")
ok_young=$(shoal submit --count 10 --name ok-young -q)
ok_mid=$(shoal submit --count 10 --name ok-10-days -q)
for j in "$ok_old" "$failed_old" "$ok_young" "$ok_mid"; do t_wait_done "$j" 60; done
cancelled_old=$(shoal submit --count 30 --sleep-ms 600000 --name cancelled-old -q)
t_wait "cancelled-old running" 30 t_busy_at_least w1 1
shoal cancel "$cancelled_old" >/dev/null
running=$(shoal submit --count 20 --sleep-ms 600000 --name running -q)
t_wait "the running job running" 30 t_busy_at_least w1 8
t_sql "UPDATE jobs SET finished_at = now() - interval '40 days' WHERE id IN ($ok_old, $failed_old, $cancelled_old);
       UPDATE jobs SET finished_at = now() - interval '10 days' WHERE id = $ok_mid" >/dev/null
t_assert_eq "failed tasks of failed-old" 2 "$(t_sql "SELECT n_failed FROM jobs WHERE id = $failed_old")"
for j in "$ok_old" "$failed_old" "$cancelled_old"; do shoal results "$j" > "$T_DIR/results-$j.jsonl"; done
exists() { [ "$(t_sql "SELECT count(*) FROM jobs WHERE id = $1")" = 1 ]; }

# bad input is refused, naming what is wrong
rc=0; out=$(shoal prune --older-than 30x --yes 2>&1) || rc=$?
t_assert_eq "exit code of a bad age" 2 "$rc"
echo "$out" | grep -q "'30x'.*'x' is not a unit" || t_fail "bad age message: $out"
out=$(shoal prune --older-than 30 --yes 2>&1) && t_fail "an age without a unit was taken"
echo "$out" | grep -q "no unit" || t_fail "no-unit message: $out"
out=$(shoal prune --older-than 30d --state finished --yes 2>&1) && t_fail "a bad --state was taken"
echo "$out" | grep -q "'finished' is not done, failed or cancelled" || t_fail "bad state message: $out"
out=$(shoal prune --older-than 30d </dev/null 2>&1) && t_fail "pruned without confirmation"
echo "$out" | grep -q "not a terminal" || t_fail "no-confirmation message: $out"

# --dry-run lists, deletes nothing
out=$(shoal prune --older-than 30d --dry-run)
t_log "$out"
echo "$out" | grep -q "3 jobs would be deleted" || t_fail "dry run: $out"
exists "$ok_old" || t_fail "--dry-run deleted"

# --state done: only the old job that ended without failures
out=$(shoal -o json prune --older-than 30d --state done --yes) || t_fail "prune done: $out"
t_assert_eq "jobs pruned with --state done" "$ok_old" "$(echo "$out" | jq -s -r 'map(.id) | join(",")')"
exists "$ok_old" && t_fail "ok-old still there"
exists "$failed_old" || t_fail "failed-old pruned by --state done"

# the rest of the old ones, archived first
out=$(shoal -o json prune --older-than 30d --archive "$ARCH" --yes) || t_fail "prune: $out"
t_assert_eq "jobs pruned" "$failed_old,$cancelled_old" "$(echo "$out" | jq -s -r 'map(.id) | sort | join(",")')"
for j in "$failed_old" "$cancelled_old"; do
    exists "$j" && t_fail "job $j still there"
    zcat "$ARCH/job-$j.jsonl.gz" | cmp - "$T_DIR/results-$j.jsonl" || t_fail "archive of job $j differs from shoal results"
    t_assert_eq "archived rows of job $j" "$(wc -l < "$T_DIR/results-$j.jsonl")" "$(echo "$out" | jq -r --argjson j "$j" 'select(.id == $j) | .archived')"
done
t_assert_eq "rows of the cancelled job archived" 30 "$(zcat "$ARCH/job-$cancelled_old.jsonl.gz" | wc -l)"
ls -A "$ARCH" | grep -q part && t_fail "a partial archive was left"
for j in "$ok_young" "$ok_mid" "$running"; do exists "$j" || t_fail "job $j was pruned"; done
t_assert_eq "tasks of the jobs kept" 40 "$(t_sql "SELECT count(*) FROM tasks WHERE job_id IN ($ok_young, $ok_mid, $running)")"
for t in tasks results attempts job_updates job_deletions; do
    t_assert_eq "rows of pruned jobs in $t" 0 \
        "$(t_sql "SELECT count(*) FROM $t WHERE job_id IN ($ok_old, $failed_old, $cancelled_old)")"
done
# an archive is never overwritten: the job stays
t_sql "UPDATE jobs SET finished_at = now() - interval '40 days' WHERE id = $ok_mid" >/dev/null
touch "$ARCH/job-$ok_mid.jsonl.gz"
out=$(shoal prune --older-than 30d --archive "$ARCH" --yes 2>&1) && t_fail "an archive was overwritten"
echo "$out" | grep -q "job-$ok_mid.jsonl.gz exists" || t_fail "overwrite message: $out"
exists "$ok_mid" || t_fail "the job was deleted although its archive failed"

# an active job: refused without --cancel, deleted with it (archived first)
rc=0; out=$(shoal delete "$running" --yes 2>&1) || rc=$?
t_assert_eq "exit code for an active job" 5 "$rc"
echo "$out" | grep -q "job $running is active.*--cancel" || t_fail "unclear refusal: $out"
exists "$running" || t_fail "the active job was deleted without --cancel"
t_assert_eq "its tasks still running" 8 "$(t_busy w1)"
out=$(shoal -o json delete "$running" --cancel --yes --archive "$ARCH") || t_fail "delete --cancel: $out"
t_log "$out"
t_assert_eq "tasks of the running job deleted" 20 "$(echo "$out" | jq .tasks)"
t_assert_eq "archived rows of the running job" 20 "$(zcat "$ARCH/job-$running.jsonl.gz" | wc -l)"
exists "$running" && t_fail "the cancelled job is still there"
t_wait "its tasks aborted at the worker" 30 t_test_eq 0 t_busy w1
shoal status "$running" >/dev/null 2>&1 && t_fail "status still shows job $running"
# nor does a fresh snapshot (the monitor's, the gateway's view)
"$SHOAL_BIN/shoal-monitor" --json --progress "$PROGRESS" > "$T_DIR/monitor.jsonl" 2>/dev/null &
PID[monitor]=$!
has_snapshot() { grep -q '"cluster"' "$T_DIR/monitor.jsonl"; }
t_wait "a snapshot" 30 has_snapshot
kill "${PID[monitor]}"; wait "${PID[monitor]}" 2>/dev/null || true
grep '"cluster"' "$T_DIR/monitor.jsonl" | jq -e --argjson r "$running" 'any(.jobs[]; .id == $r)' >/dev/null \
    && t_fail "the snapshot still shows job $running"
# and a deleted job cannot be deleted again
out=$(shoal delete "$running" --yes 2>&1) && t_fail "deleted twice"
echo "$out" | grep -q "no job $running" || t_fail "second delete: $out"
t_log "ok"
