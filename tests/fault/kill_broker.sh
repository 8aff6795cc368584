#!/usr/bin/env bash
# kill -9 the broker mid-job (twice: during the submit and while tasks
# run), restart it on the same ports: the job completes, every
# acknowledged task has exactly one result row, and no task runs twice:
# results the workers held across the restart are stored, and tasks still
# running there are adopted, not handed to someone else.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 100 --liveness 5
t_worker w1 --slots 16 --log-level debug
t_worker w2 --slots 16 --log-level debug
t_wait_workers 2

total=60000
# 1) kill during the submit: the CLI fails, acknowledged chunks are kept
shoal submit --count $total --sleep-ms 1 --name kill-broker --key kb-1 --chunk 500 -q \
    > "$T_DIR/submit1.out" 2> "$T_DIR/submit1.err" &
submit=$!
t_wait "some chunks committed" 30 bash -c "[ \$(psql '$DB' -qAtXc 'SELECT coalesce(sum(n_tasks),0) FROM jobs') -ge 5000 ]"
kill -9 "${PID[broker]}"
wait "$submit" && t_fail "the submit should fail when the broker dies" || true
committed=$(t_sql "SELECT n_tasks FROM jobs WHERE idem_key = 'kb-1'")
t_log "broker killed during the submit with $committed tasks committed"
[ "$committed" -lt $total ] || t_fail "the submit finished before the kill; nothing was tested"

# the restarted broker hands out nothing until both workers are back and
# have said what they run and hold (t_hold_jobs: no time window to trust)
first=$(t_sql "SELECT id FROM jobs WHERE idem_key = 'kb-1'")
t_hold_jobs "$first"
t_broker --heartbeat-ms 100 --liveness 5
# 2) the same command resumes where the committed count ends
job=$(shoal submit --count $total --sleep-ms 1 --name kill-broker --key kb-1 --chunk 500 -q)
t_assert_eq "tasks after resuming" $total "$(t_sql "SELECT n_tasks FROM jobs WHERE id = $job")"
t_release_jobs 2 "$job"

# 3) kill while tasks run: long tasks are running at the workers and
#    finished results are waiting for their ack
t_wait "results flowing" 60 t_results_at_least "$job" 20000
#  long enough to outlast a restart on a loaded machine (the sanitizer build
#  under load took over 2 s to start and take the lease)
long=$(shoal submit --count 16 --sleep-ms 6000 --name long --priority 1000 -q)
t_wait "the long tasks running" 30 bash -c "[ \$($SHOAL_BIN/shoal -o json status $long | jq .running) -eq 16 ]"
kill -9 "${PID[broker]}"
t_log "broker killed again with $(t_results "$job") results committed and 16 long tasks running"
t_hold_jobs "$job" "$long"
t_broker --heartbeat-ms 100 --liveness 5
t_release_jobs 2 "$job" "$long"
t_wait_done "$job" 180
t_wait_done "$long" 60

t_assert_one_result_each "$job" $total
t_assert_one_result_each "$long" 16
t_assert_eq "failed" 0 "$(t_sql "SELECT count(*) FROM results WHERE outcome <> 'ok'")"
grep -qE "broker_restarted epoch=3 previous=2 unacked=[1-9]" "$T_DIR/w1.log" "$T_DIR/w2.log" \
    || t_fail "no worker held unacked results across the second restart; nothing was tested"
grep -qE "worker_joined worker=w. .* held=[1-9]" "$T_DIR/broker.log" \
    || t_fail "no worker reported running tasks to the restarted broker; nothing was tested"
# every task started exactly once across both restarts
grep -h 'msg=task_started' "$T_DIR/w1.log" "$T_DIR/w2.log" | sed 's/.*task=\([^ ]*\).*/\1/' | sort > "$T_DIR/started"
t_assert_eq "task starts" $((total + 16)) "$(wc -l < "$T_DIR/started")"
t_assert_eq "tasks started twice" 0 "$(uniq -d "$T_DIR/started" | wc -l)"
t_assert_eq "epoch" 3 "$(t_sql "SELECT value FROM shoal_meta WHERE key = 'epoch'")"
t_log "pass"
