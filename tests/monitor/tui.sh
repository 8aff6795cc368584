#!/usr/bin/env bash
# The full-screen monitor as a person uses it, in a 120x40 terminal while
# a real job runs: the numbers move and match the database at the end; p
# pauses the selected job (no task starts until r); c asks y/n before it
# cancels; a resize redraws at the new size (80x24 keeps ETA, last seen,
# help and quit); a killed broker is shown as
# unreachable and the view recovers by itself when the broker is back; q
# quits cleanly.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.bash"

t_db
t_broker --heartbeat-ms 200 --liveness 5
t_worker w1 --slots 4
t_worker w2 --slots 4
t_wait_workers 2
m_start mon 120 40 LC_ALL=C -- --timeout-ms 1500
m_wait_screen mon "the monitor shows both workers" 20 '^  w2 '
busy() { shoal -o json workers | jq '[.[].busy] | add'; }

# 1) the numbers move
job=$(shoal submit --count 1500 --sleep-ms 40 --name tui-a -q)
m_wait mon "job $job on screen with tasks done" 30 m_done_between mon "$job" 1 1499
d1=$(m_done mon "$job")
m_wait mon "the done count moves on" 30 m_done_between mon "$job" $((${d1%/*} + 1)) 1499
t_log "on screen: $d1, then $(m_done mon "$job")"

# 2) p pauses the selected job (the only one): nothing starts until r
m_keys mon p
t_wait "job paused" 10 t_test_eq paused t_job_state "$job"
pause_ms=$(date +%s%3N)
m_wait_screen mon "the screen says paused" 10 "^> +$job +tui-a +paused "
m_wait_screen mon "the footer confirms" 10 "job $job paused"
t_wait "running tasks drain" 10 t_test_eq 0 bash -c "$SHOAL_BIN/shoal -o json status $job | jq .running"
# while paused the screen settles on the database's count
screen_is_db() { [ "$(m_done mon "$job")" = "$(t_results "$job")/1500" ]; }
m_wait mon "the screen's done count equals the result rows" 10 screen_is_db
# and its rate falls to zero (a 5 s window): a paused job goes nowhere
m_wait_screen mon "the job's rate falls to 0.0/s" 15 "^> +$job +tui-a +paused .* 0\.0/s +paused "
t_log "paused at $(m_done mon "$job")"
resume_ms=$(date +%s%3N)
m_keys mon r
t_wait "job resumed" 10 t_test_eq active t_job_state "$job"
[ $((resume_ms - pause_ms)) -ge 1000 ] || t_fail "paused for $((resume_ms - pause_ms)) ms only; nothing was tested"
late=$(t_sql "SELECT count(*) FROM results WHERE job_id = $job
              AND started_at > to_timestamp(($pause_ms + 200) / 1000.0) AND started_at < to_timestamp($resume_ms / 1000.0)")
t_assert_eq "tasks started while paused ($((resume_ms - pause_ms)) ms)" 0 "$late"
m_wait_screen mon "the screen says active again" 10 "^> +$job +tui-a +active "

# 3) at the end the screen says what the database says
t_wait_done "$job" 60
m_wait_screen mon "the screen says done" 10 "^> +$job +tui-a +done "
t_assert_one_result_each "$job" 1500
t_assert_eq "DONE/TOTAL on screen" "$(t_results "$job")/1500" "$(m_done mon "$job")"
t_assert_eq "ok in the detail pane" "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok'")" \
    "$(m_detail mon ok)"
t_assert_eq "failed in the detail pane" 0 "$(m_detail mon failed)"

# 4) cancel asks first: n keeps the job, y cancels it
long=$(shoal submit --count 100 --sleep-ms 60000 --name tui-b -q)
m_wait_screen mon "job $long on screen" 10 "^  +$long +tui-b "
t_wait "workers busy with the long tasks" 20 t_test_eq 8 busy
# unfinished jobs are listed first: the new job is above the selected one
m_keys mon Up
m_wait_screen mon "job $long selected" 5 "^> +$long +tui-b "
m_keys mon c
m_wait_screen mon "the cancel asks" 5 "Cancel job $long \"tui-b\"\\? .*\\[y/N\\]"
m_keys mon n
m_wait_screen mon "n answers the prompt" 5 "job $long not cancelled"
# not cancelled: it can still be paused (a cancelled job cannot)
m_keys mon p
t_wait "job $long paused" 10 t_test_eq paused t_job_state "$long"
m_keys mon c
m_wait_screen mon "the cancel asks again" 5 "Cancel job $long "
m_keys mon y
t_wait "job $long cancelled" 10 t_test_eq cancelled t_job_state "$long"
m_wait_screen mon "the screen says cancelled, the job still selected" 10 "^> +$long +tui-b +cancelled "
t_wait "nothing running at the workers" 10 t_test_eq 0 busy
t_assert_one_result_each "$long" 100
cancelled=$(t_sql "SELECT count(*) FROM results WHERE job_id = $long AND outcome = 'cancelled'")
t_assert_eq "cancelled rows" 100 "$cancelled"
screen_cancelled() { [ "$(m_detail mon cancelled)" = "$cancelled" ]; }
m_wait mon "the detail pane shows $cancelled cancelled" 10 screen_cancelled
t_assert_eq "DONE/TOTAL of the cancelled job" "100/100" "$(m_done mon "$long")"

# 5) a resize redraws at the new size, smaller and larger
m_tmux resize-window -t mon -x 100 -y 30
m_wait mon "redrawn at 100x30" 10 m_drawn_at mon 100 30
# the usual 80x24 keeps what matters: ETA, last seen, help and quit
m_tmux resize-window -t mon -x 80 -y 24
m_wait mon "redrawn at 80x24" 10 m_drawn_at mon 80 24
m_has mon '^  JOB NAME .* ETA$' || { m_dump mon; t_fail "no ETA column at 80x24"; }
m_has mon '^  WORKER .* LAST SEEN$' || { m_dump mon; t_fail "no LAST SEEN column at 80x24"; }
m_tmux resize-window -t mon -x 140 -y 45
m_wait mon "redrawn at 140x45" 10 m_drawn_at mon 140 45
t_log "redrawn at 100x30, 80x24 and 140x45"

# 6) the broker dies: shown; it comes back on the same ports: recovered
epoch=$(t_sql "SELECT value FROM shoal_meta WHERE key = 'epoch'")
kill -9 "${PID[broker]}"
m_wait_screen mon "the screen shows the broker unreachable" 10 "BROKER UNREACHABLE"
m_wait_screen mon "the event tail says so" 5 "broker unreachable"
t_broker --heartbeat-ms 200 --liveness 5
m_wait_screen mon "the screen is live again with the new broker" 20 "\\[live\\].*epoch $((epoch + 1)) "
m_has mon "BROKER UNREACHABLE" && t_fail "still shown as unreachable"
m_wait_screen mon "the event tail says the broker is back" 5 "broker reachable again"
m_wait_screen mon "the workers are back on screen" 20 '^  w2 '

# 7) q quits, with status 0
m_quit mon
t_log "pass"
