#!/usr/bin/env bash
# An unreachable broker is a clear message and exit 4 after the timeout,
# never a hang, for every subcommand: nothing listening at the endpoint,
# a broker that is stopped (SIGSTOP: the port accepts, nothing answers),
# and a broker stopped in the middle of an export. A broker that comes
# back within the loss window (a restart) does not end --wait; one that
# stays away does, with exit 4. (`timeout 60` only catches a hang.)
. "$(dirname "$0")/helpers.bash"

TIMEOUT_MS=1000
printf 'https://u.example/1\n' > "$T_DIR/one.txt"

free_port() {
    local p
    for _ in $(seq 1 100); do
        p=$(( 20000 + RANDOM % 20000 ))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
    t_fail "no free port"
}

# every subcommand that talks to the broker
commands=(
    "jobs" "workers" "status 1" "status 1 --watch" "status 1 --wait" "results 1" "results 1 --format csv"
    "pause 1" "resume 1" "cancel 1" "retry 1" "retry 1 --status 5xx"
    "submit --count 10" "submit --count 10 --wait" "submit --format urls $T_DIR/one.txt"
    "submit --url-template https://u.example/{1..5}"
)

# all_unreachable ENDPOINT LABEL: each command exits 4 with a message naming
# the endpoint. The commands run side by side (each waits out its own
# timeout), each into files of its own.
all_unreachable() {
    local ep=$1 label=$2 i pids=()
    for i in "${!commands[@]}"; do
        (
            t0=$(date +%s%N)
            set +e
            # shellcheck disable=SC2086
            timeout 60 "$SHOAL_BIN/shoal" --broker "$ep" --broker-timeout-ms $TIMEOUT_MS ${commands[$i]} \
                > "$T_DIR/unreach$i.out" 2> "$T_DIR/unreach$i.err"
            echo "$? $(( ($(date +%s%N) - t0) / 1000000 ))" > "$T_DIR/unreach$i.rc"
        ) &
        pids+=($!)
    done
    wait "${pids[@]}"
    for i in "${!commands[@]}"; do
        local c=${commands[$i]} ms
        read -r RC ms < "$T_DIR/unreach$i.rc"
        [ "$RC" != 124 ] || t_fail "$label: 'shoal $c' hung"
        T_LAST=unreach$i t_rc "$label: 'shoal $c' (${ms} ms)" 4
        t_grep "$label: 'shoal $c' names the broker" "(cannot reach|no answer from) the broker at $ep" "$T_DIR/unreach$i.err"
    done
    cp "$T_DIR/unreach0.err" "$T_DIR/unreach.err"
}

# ---------------------------------------------------------------- nothing listening
port=$(free_port)
all_unreachable "tcp://127.0.0.1:$port" "nothing listening"
t_grep "says what to check" "is shoal-broker running there\\? set --broker or SHOAL_BROKER" "$T_DIR/unreach.err"
t_run envonly env SHOAL_BROKER="tcp://127.0.0.1:$port" SHOAL_BROKER_TIMEOUT_MS=$TIMEOUT_MS "$SHOAL_BIN/shoal" jobs
t_rc "SHOAL_BROKER and SHOAL_BROKER_TIMEOUT_MS from the environment" 4

# ---------------------------------------------------------------- a stopped broker
t_db
t_broker --heartbeat-ms 100 --liveness 5
t_worker w1 --slots 32
t_wait_workers 1
job=$(shoal submit --count 30000 --name export-me -q)
t_wait_done "$job" 120
kill -STOP "${PID[broker]}"
all_unreachable "$FRONTEND" "stopped broker"
kill -CONT "${PID[broker]}"
t_assert_eq "the broker answers again" done "$(shoal -o json status "$job" | jq -r .state)"

# ---------------------------------------------------------------- stopped in the middle of an export
set +e
"$SHOAL_BIN/shoal" --broker-timeout-ms $TIMEOUT_MS results "$job" --page 100 2> "$T_DIR/midexport.err" \
    | { head -n 150 > "$T_DIR/midexport.head"; kill -STOP "${PID[broker]}"; cat > /dev/null; }
rcs=("${PIPESTATUS[@]}")
set -e
kill -CONT "${PID[broker]}"
RC=${rcs[0]} T_LAST=midexport t_rc "results when the broker stops mid-export" 4
t_grep "says which job and how far it got" "shoal results: results of job $job, after [0-9]+ rows: no answer from the broker" "$T_DIR/midexport.err"

# ---------------------------------------------------------------- --wait across a broker restart, and a broker that stays away
slow=$(shoal submit --count 400 --sleep-ms 25 --name slow -q)
"$SHOAL_BIN/shoal" --broker-timeout-ms $TIMEOUT_MS status "$slow" --wait > "$T_DIR/wait.out" 2> "$T_DIR/wait.err" &
waiter=$!
t_wait "some of the slow job done" 30 t_results_at_least "$slow" 50
kill -9 "${PID[broker]}"
t_wait "the waiter notices" 30 grep -q "asking again" "$T_DIR/wait.err"
t_broker --heartbeat-ms 100 --liveness 5
set +e; timeout 120 tail --pid="$waiter" -f /dev/null; wait "$waiter"; RC=$?; set -e
T_LAST=wait t_rc "status --wait across a broker restart" 0
t_grep "said once that the broker was away" "(cannot reach|no answer from) the broker .*; asking again" "$T_DIR/wait.err"
t_grep "and that it came back" "the broker answers again" "$T_DIR/wait.err"
t_grep "and the summary" "job $slow done: 400 ok, 0 failed, 0 cancelled" "$T_DIR/wait.err"
t_assert_eq "one 'away' line in a pipe" 1 "$(grep -c 'asking again' "$T_DIR/wait.err")"

slow2=$(shoal submit --count 400 --sleep-ms 25 -q)
"$SHOAL_BIN/shoal" --broker-timeout-ms 500 status "$slow2" --watch > "$T_DIR/watch.out" 2> "$T_DIR/watch.err" &
watcher=$!
t_wait "the watcher shows progress" 30 grep -q "job $slow2 active" "$T_DIR/watch.out"
kill -STOP "${PID[broker]}"
set +e; timeout 60 tail --pid="$watcher" -f /dev/null; wait "$watcher"; RC=$?; set -e
kill -CONT "${PID[broker]}"
T_LAST=watch t_rc "status --watch when the broker stays away past the loss window (12 x 500 ms)" 4
t_grep "says the job keeps running" "no answer from the broker at $FRONTEND for 6s; job $slow2 keeps running there" "$T_DIR/watch.err"
t_log "pass"
