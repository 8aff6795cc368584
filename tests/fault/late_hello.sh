#!/usr/bin/env bash
# A Hello from a connection the worker gave up can reach the broker after
# the Hello of its current connection (a reconnect while the broker was
# away). It lists what the worker held back then; a broker that reconciled
# with it would requeue tasks the worker is running, and they would run
# twice. shoal_late_hello takes 4 tasks, sends such an older Hello (same
# process, lower Hello.seq, nothing held), then finishes its tasks: the
# broker must ignore the late Hello and store those results as the
# worker's own; a real worker then runs the rest and none of those 4.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 100 --liveness 20
job=$(shoal submit --count 200 --name late-hello -q)
"$SHOAL_BIN/tests/shoal_late_hello" --backend "$BACKEND" --worker-id fake --slots 4 \
    > "$T_DIR/fake.out" 2> "$T_DIR/fake.err" || t_fail "the fake worker failed: $(cat "$T_DIR/fake.err")"
t_assert_eq "tasks the fake worker finished" 4 "$(wc -l < "$T_DIR/fake.out")"
grep -q 'msg=stale_hello worker=fake seq=1 latest=2' "$T_DIR/broker.log" \
    || t_fail "the broker did not report the late Hello as stale"
t_worker w1 --slots 8 --log-level debug
t_wait_done "$job" 60
t_assert_one_result_each "$job" 200
seqs=$(sed 's|.*/||' "$T_DIR/fake.out" | paste -sd,)
t_assert_eq "results of the fake worker's tasks stored as its own" 4 \
    "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND seq IN ($seqs) AND worker = 'fake' AND outcome = 'ok'")"
while read -r id; do
    ! grep -q "msg=task_started task=$id " "$T_DIR/w1.log" || t_fail "task $id ran a second time on w1"
done < "$T_DIR/fake.out"
t_assert_eq "attempts logged for those tasks" 0 \
    "$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $job AND seq IN ($seqs)")"
t_log "pass"
