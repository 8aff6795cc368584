#!/usr/bin/env bash
# A monitor stopped with kill -STOP (^Z, a frozen terminal) costs the
# cluster nothing: jobs run as fast with every monitor stopped as with
# them reading. To make that mean something the broker publishes 20 big
# snapshots a second (40 jobs with 250-character names, ~34 kB each) and
# keeps at most 10 per subscriber (--progress-hwm 10); the runs start only
# once both stopped monitors' connections are full (the kernel's send
# queues stop growing while the broker keeps publishing), and the --json
# monitor's output proves afterwards that the broker was dropping
# snapshots for it throughout the stopped runs, rather than waiting.
# After kill -CONT the monitors catch up, show the jobs as the database
# has them, and do not take their own stop for a silent broker.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.bash"
command -v ss >/dev/null || t_skip "ss is not installed (iproute2; scripts/deps.sh test installs it)"

t_db
t_broker --snapshot-ms 50 --progress-hwm 10 --heartbeat-ms 200 --liveness 5
t_worker w1 --slots 16
t_worker w2 --slots 16
t_wait_workers 2
m_start mon 120 40 LC_ALL=C --
"$SHOAL_BIN/shoal-monitor" --json --broker "$FRONTEND" --progress "$PROGRESS" > "$T_DIR/json.out" 2> "$T_DIR/monitor-json.log" &
PID[json]=$!
m_wait_screen mon "the monitor shows the workers" 20 '^  w2 '
t_wait "--json has a snapshot" 20 grep -q '"type":"snapshot"' "$T_DIR/json.out"
long=$(printf 'x%.0s' $(seq 1 250))
for i in $(seq 1 40); do shoal submit --count 1 --name "${long}-$i" --key "${long:0:190}-$i" -q > /dev/null; done
t_log "snapshot size: $(grep '"type":"snapshot"' "$T_DIR/json.out" | tail -n 1 | wc -c) bytes as JSON"

n=30000
# seconds from the job's first start to its last finish
took() {
    t_sql "SELECT extract(epoch FROM max(finished_at) - min(started_at)) FROM results WHERE job_id = $1"
}
# run NAME: a job of n tasks to its end; its id in $job
run() {
    job=$(shoal submit --count $n --sleep-ms 1 --name "$1" -q) || t_fail "submitting the $1 run failed"
    t_wait_done "$job" 120
}
# bytes the kernel holds for each progress subscriber because it does not read
port=${PROGRESS##*:}
sendq() { ss -tnH state established "( sport = :$port )" | awk '{print $2}' | sort -n | paste -sd' '; }
# both connections full: a megabyte or more queued, and no byte more
# accepted over 20 polls (a second, 20 snapshots published meanwhile)
full_polls=0
last_q=""
both_full() {
    local q; q=$(sendq)
    if [ "$(wc -w <<<"$q")" = 2 ] && [ "$(tr ' ' '\n' <<<"$q" | awk '$1 >= 1000000' | wc -l)" = 2 ] \
       && [ "$q" = "$last_q" ]; then
        full_polls=$((full_polls + 1))
    else
        full_polls=0
    fi
    last_q=$q
    [ $full_polls -ge 20 ]
}

# The machine is shared, so the runs go live, stopped, stopped, live and
# each side is judged on both of its runs (drift in the load cancels out).
run live; live1=$job

# 1) every monitor stopped, their connections full, then two runs
kill -STOP "${PID[monitor-mon]}" "${PID[json]}"
t_wait "both stopped monitors' connections are full" 60 both_full
t_log "full: send queues $(sendq) bytes"
from_us=$(( $(date +%s%N) / 1000 ))
run stopped; stopped1=$job
run stopped; stopped2=$job
to_us=$(( $(date +%s%N) / 1000 ))
kill -CONT "${PID[monitor-mon]}" "${PID[json]}"

# 2) the monitors catch up and show the jobs as the database has them
m_wait_screen mon "the monitor shows the stopped runs done" 30 "^(> |  ) *$stopped2 +stopped +done "
t_assert_eq "DONE/TOTAL on screen" "$(t_results "$stopped2")/$n" "$(m_done mon "$stopped2")"
json_done() {
    grep '"type":"snapshot"' "$T_DIR/json.out" | tail -n 1 |
        jq -e --argjson j "$1" --argjson n "$2" '.jobs[] | select(.id == $j) | .state == "done" and .ok == $n' > /dev/null
}
t_wait "--json shows the stopped runs done" 30 json_done "$stopped2" $n
# the time they were stopped was not the broker's silence
m_has mon "BROKER UNREACHABLE|broker unreachable" && { m_dump mon; t_fail "the monitor took its own stop for a lost broker"; }
grep -q '"type":"broker"' "$T_DIR/json.out" && t_fail "--json took its own stop for a lost broker"
# the broker dropped snapshots for the stopped --json monitor during the runs
published=$(( (to_us - from_us) / 50000 ))
got=$(grep '"type":"snapshot"' "$T_DIR/json.out" | jq --argjson a "$from_us" --argjson b "$to_us" 'select(.time_us >= $a and .time_us <= $b) | .seq' | wc -l)
t_log "--json received $got of the ~$published snapshots published while the runs went on"
[ $((got * 2)) -lt "$published" ] || t_fail "the stopped monitor got $got of ~$published snapshots: its queue was not full; nothing was tested"

# 3) the second run with the monitors reading
run live; live2=$job
m_wait_screen mon "the monitor shows the live run done" 30 "^(> |  ) *$live2 +live +done "
t_assert_eq "DONE/TOTAL on screen" "$(t_results "$live2")/$n" "$(m_done mon "$live2")"

t_assert_eq "result rows and distinct tasks of the four runs" "$n $n|$n $n|$n $n|$n $n" \
    "$(t_sql "SELECT string_agg(n || ' ' || d, '|' ORDER BY job_id) FROM (SELECT job_id, count(*) AS n,
              count(DISTINCT seq) AS d FROM results WHERE job_id IN ($live1, $stopped1, $stopped2, $live2) GROUP BY 1) r")"
r_live=$(awk -v n=$n -v a="$(took "$live1")" -v b="$(took "$live2")" 'BEGIN { printf "%d", 2 * n / (a + b) }')
r_stopped=$(awk -v n=$n -v a="$(took "$stopped1")" -v b="$(took "$stopped2")" 'BEGIN { printf "%d", 2 * n / (a + b) }')
t_log "runs took: live $(took "$live1") s and $(took "$live2") s, stopped $(took "$stopped1") s and $(took "$stopped2") s"
t_log "throughput: monitors stopped $r_stopped tasks/s, monitors reading $r_live tasks/s"
[ $((r_stopped * 10)) -ge $((r_live * 7)) ] \
    || t_fail "with the monitors stopped the jobs ran at $r_stopped/s, below 0.7 x $r_live/s"
m_quit mon
kill -TERM "${PID[json]}"
wait "${PID[json]}" || t_fail "--json exited with $? on SIGTERM"
unset "PID[json]"
t_log "pass"
