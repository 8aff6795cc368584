#!/usr/bin/env bash
# The monitor's detail pane breaks a pipeline job down per step (issue 10,
# "Seeing it"): one row per step with its tasks, ok, failed and pending,
# the same figures as `shoal status`. Twenty items of three noop steps; the
# second step fails (fail_until_attempt, one attempt), so the third never
# starts: one 20/20 ok, two 20 failed, three 0 tasks; the job's row and
# its items row count the 20 items (all failed), not its 40 tasks.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.bash"

t_db
t_broker
t_worker w1 --slots 4
t_wait_workers 1
m_start mon 120 40 LC_ALL=C -- --timeout-ms 1500
m_wait_screen mon "the monitor shows the worker" 20 '^  w1 '

cat > "$T_DIR/p.json" <<'JSON'
{"steps": [
  {"name": "one", "kind": "noop"},
  {"name": "two", "kind": "noop", "fail_until_attempt": 5, "max_attempts": 1},
  {"name": "three", "kind": "noop"}
]}
JSON
{ echo n; seq 1 20; } > "$T_DIR/items.csv"
job=$(shoal submit --pipeline "$T_DIR/p.json" -q "$T_DIR/items.csv")
t_wait_done "$job" 60
t_assert_eq "status: the steps as the database has them" "one 20 20 0 0 | two 20 0 20 0 | three 0 0 0 0" \
    "$(shoal -o json status "$job" | jq -r '[.steps[] | "\(.name) \(.tasks) \(.ok) \(.failed) \(.pending)"] | join(" | ")')"
m_wait_screen mon "the job is done on screen" 10 "^> +$job .* done "
m_wait_screen mon "the job's row counts its 20 items, all failed" 10 "^> +$job .* done .* 100.0% +20/20 +20 "
m_wait_screen mon "the items row" 10 '^ items    complete 0   failed 20   running 0   waiting 0 *$'
m_wait_screen mon "step one's row" 10 '^ steps    one +tasks 20   ok 20   failed 0   pending 0 *$'
m_wait_screen mon "step two's row: its failures" 10 '^          two +tasks 20   ok 0   failed 20   pending 0 *$'
m_wait_screen mon "step three's row: never started" 10 '^          three +tasks 0   ok 0   failed 0   pending 0 *$'
m_quit mon
t_log "pass"
