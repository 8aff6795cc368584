#!/usr/bin/env bash
# A monitor stopped with kill -STOP (^Z, a frozen terminal) costs the
# cluster nothing: the same job runs as fast with every monitor stopped as
# with them reading. The broker publishes 20 snapshots a second here, and
# the test checks that the stopped monitors' connections were backed up
# (data queued at the broker) for the whole stopped runs, so the broker
# really had subscribers that did not read. After kill -CONT the monitors
# catch up, show the job as the database has it, and do not take the time
# they were stopped for a silent broker.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.bash"
command -v ss >/dev/null || t_skip "ss is not installed (iproute2; scripts/deps.sh test installs it)"

t_db
t_broker --snapshot-ms 50 --heartbeat-ms 200 --liveness 5
t_worker w1 --slots 16
t_worker w2 --slots 16
t_wait_workers 2
m_start mon 120 40 LC_ALL=C --
"$SHOAL_BIN/shoal-monitor" --json --broker "$FRONTEND" --progress "$PROGRESS" > "$T_DIR/json.out" 2> "$T_DIR/monitor-json.log" &
PID[json]=$!
m_wait_screen mon "the monitor shows the workers" 20 '^  w2 '
t_wait "--json has a snapshot" 20 grep -q '"type":"snapshot"' "$T_DIR/json.out"
# a few finished jobs make every snapshot bigger, so connections back up sooner
for i in $(seq 1 12); do shoal submit --count 1 --name "filler-$i" -q > /dev/null; done

n=30000
# seconds from the job's first start to its last finish
took() {
    t_sql "SELECT extract(epoch FROM max(finished_at) - min(started_at)) FROM results WHERE job_id = $1"
}
# bytes the broker holds for each progress subscriber because it does not read
port=${PROGRESS##*:}
sendq() { ss -tnH state established "( sport = :$port )" | awk '{print $2}'; }
# each of the two connections holds at least 100 kB the monitor did not
# read (a few hundred bytes come and go while a receive buffer still fills)
all_backed_up() {
    local q; q=$(sendq)
    [ "$(wc -w <<<"$q")" = 2 ] && [ "$(awk '$1 >= 100000' <<<"$q" | wc -l)" = 2 ]
}
run() {
    local job; job=$(shoal submit --count $n --sleep-ms 1 --name "$1" -q)
    t_wait_done "$job" 120
    echo "$job"
}

# The machine is shared, so the runs go live, stopped, stopped, live and
# each side is judged on both of its runs (drift in the load cancels out).
live1=$(run live)

# 1) every monitor stopped, their connections backed up, then two runs
kill -STOP "${PID[monitor-mon]}" "${PID[json]}"
t_wait "both stopped monitors' connections back up at the broker" 60 all_backed_up
t_log "backed up: send queues $(sendq | paste -sd' ') bytes"
stopped1=$(run stopped)
stopped2=$(run stopped)
all_backed_up || t_fail "a stopped monitor's connection drained during the runs; nothing was tested"
t_log "still backed up after the runs: $(sendq | paste -sd' ') bytes"
kill -CONT "${PID[monitor-mon]}" "${PID[json]}"

# 2) the monitors catch up and show the job as the database has it
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
t_wait "the monitors drained their backlog" 30 t_test_eq "0 0" bash -c "ss -tnH state established '( sport = :$port )' | awk '{print \$2}' | paste -sd' '"

# 3) the second run with the monitors reading
live2=$(run live)
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
t_log "pass"
