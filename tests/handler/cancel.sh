#!/usr/bin/env bash
# `shoal cancel` of a job kills the handler processes running its tasks
# (their process groups end), the job ends cancelled, and the worker's
# processes and slots serve the next job at once.
. "$(dirname "$0")/../lib.sh"
MIS="python3 $(cd "$(dirname "$0")" && pwd)/misbehave.py"

t_db
t_broker
t_worker w1 --slots 2 --kinds noop --handler "mis[procs=2,kill_grace=1s]=$MIS"
t_wait_workers 1
mkdir -p "$T_DIR/pids"
seq 1 6 | jq -c --arg d "$T_DIR/pids" '{handler: "mis", payload: {do: "hang", record: $d, i: .}}' > "$T_DIR/hang.jsonl"
job=$(shoal submit "$T_DIR/hang.jsonl" --name hang -q)
s_recorded() { [ "$(find "$T_DIR/pids" -name '[0-9]*' ! -name '*.tmp' | wc -l)" -ge 2 ]; }
t_wait "two handler processes busy on the job" 60 s_recorded
shoal cancel "$job" > /dev/null
t_wait "the job cancelled" 30 bash -c "[ \"\$('$SHOAL_BIN/shoal' -o json status $job | jq -r .state)\" = cancelled ]"
for f in "$T_DIR"/pids/[0-9]*; do
    pid=$(basename "$f")
    read -r pgid _ < "$f"
    t_wait "handler process $pid gone after the cancel" 15 bash -c "! kill -0 $pid 2>/dev/null"
    t_wait "its process group $pgid empty" 15 bash -c "! pgrep -g $pgid >/dev/null"
done
grep -q "msg=handler_stopping handler=mis .*reason=\"its task was cancelled or timed out\"" "$T_DIR/w1.log" \
    || t_fail "the worker did not log stopping the processes of the cancelled tasks"
t_assert_eq "results of the cancelled job that are ok" 0 \
    "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok'")"
# the next job runs on the same worker's (new) processes
seq 1 20 | jq -c '{handler: "mis", payload: {i: .}}' > "$T_DIR/next.jsonl"
next=$(shoal submit "$T_DIR/next.jsonl" --name next -q)
t_wait_done "$next" 60
t_assert_eq "the next job: all ok" 20 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $next AND outcome = 'ok'")"
t_log "pass"
