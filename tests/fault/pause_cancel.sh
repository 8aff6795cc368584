#!/usr/bin/env bash
# Pause stops dispatch at once (nothing new starts once the tasks running
# at the pause are through); resume continues; cancel aborts the running
# tasks at the workers and leaves every unfinished task `cancelled`.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 200 --liveness 5
t_worker w1 --slots 8 --log-level debug
t_worker w2 --slots 8 --log-level debug
t_wait_workers 2
starts() { grep -h 'msg=task_started' "$T_DIR/w1.log" "$T_DIR/w2.log" | wc -l; }
running() { shoal -o json status "$job" | jq .running; }

job=$(shoal submit --count 2000 --sleep-ms 100 --name pause -q)
t_wait "tasks running" 30 t_results_at_least "$job" 50
shoal pause "$job" > /dev/null
pause_ms=$(date +%s%3N)
t_assert_eq "state" paused "$(t_job_state "$job")"
# what was running finishes; nothing new starts
t_wait "running tasks drain" 30 t_test_eq 0 running
paused_starts=$(starts)
t_assert_eq "the broker holds none at the workers" 0 "$(shoal -o json workers | jq '[.[].busy] | add')"
r1=$(t_results "$job")
t_log "paused with $r1 results; $paused_starts tasks started"

resume_ms=$(date +%s%3N)
shoal resume "$job" > /dev/null
t_assert_eq "state" active "$(t_job_state "$job")"
t_wait "work continues" 30 t_results_at_least "$job" $((r1 + 100))
# between one heartbeat (200 ms) after the pause and the resume, no task started
late=$(t_sql "SELECT count(*) FROM results WHERE job_id = $job
              AND started_at > to_timestamp(($pause_ms + 200) / 1000.0) AND started_at < to_timestamp($resume_ms / 1000.0)")
t_assert_eq "tasks started more than a heartbeat after the pause" 0 "$late"

# cancel: unfinished tasks become `cancelled`, nothing starts any more
shoal cancel "$job" > /dev/null
t_assert_eq "state" cancelled "$(t_job_state "$job")"
t_wait "no task running anywhere" 10 t_test_eq 0 bash -c "$SHOAL_BIN/shoal -o json workers | jq '[.[].busy] | add'"
t_assert_one_result_each "$job" 2000
ok=$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok'")
cancelled=$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'cancelled'")
t_assert_eq "ok + cancelled" 2000 $((ok + cancelled))
[ "$cancelled" -gt 0 ] || t_fail "nothing was cancelled"
t_assert_eq "job counts" "$ok|$cancelled|cancelled" "$(t_sql "SELECT n_ok, n_cancelled, state FROM jobs WHERE id = $job")"

# cancel aborts running tasks at the workers: these would run 60 s each
long=$(shoal submit --count 100 --sleep-ms 60000 --name long -q)
t_wait "workers busy with long tasks" 30 t_test_eq 16 bash -c "$SHOAL_BIN/shoal -o json workers | jq '[.[].busy] | add'"
n=$(starts)
shoal cancel "$long" > /dev/null
t_wait "the broker holds nothing at the workers" 10 t_test_eq 0 bash -c "$SHOAL_BIN/shoal -o json workers | jq '[.[].busy] | add'"
t_assert_one_result_each "$long" 100
t_assert_eq "long tasks ok" 0 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $long AND outcome = 'ok'")"
t_assert_eq "tasks started after the cancel" "$n" "$(starts)"
# the workers themselves run nothing: asked to stop, they exit at once
# instead of finishing 60 s tasks
kill -TERM "${PID[w1]}" "${PID[w2]}"
t_wait "workers drained" 10 bash -c "! kill -0 ${PID[w1]} 2>/dev/null && ! kill -0 ${PID[w2]} 2>/dev/null"
t_log "pass"
