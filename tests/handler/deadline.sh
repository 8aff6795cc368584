#!/usr/bin/env bash
# Test 3: a handler that hangs past the task's deadline is killed (its
# process group gets SIGTERM), the task fails retryably and runs again in
# a new process; one that ignores SIGTERM gets SIGKILL after kill_grace.
# Meanwhile the other tasks go on.
. "$(dirname "$0")/../lib.sh"
MIS="python3 $(cd "$(dirname "$0")" && pwd)/misbehave.py"

t_db
t_broker
# exec: the Python process leads its group, so ignoring SIGTERM is up to it
t_worker w1 --slots 4 --kinds noop --handler "mis[procs=4,warm,kill_grace=1s]=exec $MIS"
t_wait_workers 1
t_wait "4 warm processes" 60 bash -c \
    "[ \"\$('$SHOAL_BIN/shoal' -o json workers | jq '.[0].handlers[0].up')\" = 4 ]"
mkdir -p "$T_DIR/pids"
{
    echo "{\"handler\": \"mis\", \"timeout_ms\": 3000, \"payload\": {\"do\": \"hang\", \"until\": 2, \"record\": \"$T_DIR/pids\"}}"
    echo "{\"handler\": \"mis\", \"timeout_ms\": 3000, \"payload\": {\"do\": \"stubborn\", \"until\": 2, \"record\": \"$T_DIR/pids\"}}"
    seq 0 199 | jq -c '{handler: "mis", payload: {i: ., sleep_ms: 5}}'
} > "$T_DIR/tasks.jsonl"
job=$(shoal submit "$T_DIR/tasks.jsonl" --name deadline --backoff-ms 100 -q)
t_wait_done "$job" 120

t_assert_one_result_each "$job" 202
t_assert_eq "ok tasks" 202 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok'")"
t_assert_eq "the hanging tasks: ok at attempt 2" "2|2" "$(t_sql "SELECT count(*), max(attempt) FROM results WHERE job_id = $job AND seq < 2 AND attempt = 2")"
t_assert_eq "timed-out attempts" 2 "$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $job AND seq < 2 AND outcome = 'timeout' AND counted")"
# the quick tasks were not held up behind the hanging ones
early=$(t_sql "SELECT count(*) FROM results r WHERE job_id = $job AND seq >= 2
               AND finished_at < (SELECT min(finished_at) FROM attempts WHERE job_id = $job AND seq < 2)")
[ "$early" -ge 20 ] || t_fail "only $early of 200 quick tasks finished while the hanging ones ran"
t_log "ok: $early quick tasks finished while two processes hung"
grep -q "msg=handler_stopping handler=mis .*reason=\"its task was cancelled or timed out\"" "$T_DIR/w1.log" \
    || t_fail "no kill for the deadline logged"
# the retry can finish the job before the stubborn process's kill_grace (1 s) is up
t_wait "the stubborn handler SIGKILLed after kill_grace" 15 \
    grep -q "msg=handler_killed handler=mis pid=.* SIGTERM: SIGKILL" "$T_DIR/w1.log"
# the processes of the first attempts are gone, and so are their groups
for f in "$T_DIR"/pids/[0-9]*; do
    [[ $f == *.tmp ]] && continue
    pid=$(basename "$f")
    if grep -q "\"pid\": $pid" <(t_sql "SELECT output::text FROM results WHERE job_id = $job AND seq < 2"); then
        continue    # the second attempt's process
    fi
    t_wait "process $pid gone" 10 t_exited "$pid"
    read -r pgid _ < "$f"
    t_wait "process group $pgid empty" 10 bash -c "! pgrep -g $pgid >/dev/null"
done
t_log "pass"
