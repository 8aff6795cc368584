#!/usr/bin/env bash
# What one broker carries (docs/scaling.md, figures in docs/benchmarks.md):
# connected workers and noop tasks/s, with thousands of simulated workers
# on loopback (bench/sim_workers.c: each a DEALER that speaks the worker
# protocol and answers noop tasks at once).
#
#   bench/scaling.sh [TASKS] [WORKER_COUNTS]    default 200000 "2000 5000"
#
# For each worker count N:
#   join      N workers say Hello: ms until the broker lists all N
#   idle      broker CPU (% of one core) and RSS with N idle workers
#             heartbeating (1 s), over 10 s
#   tasks/s   a TASKS-task noop job drained by the N workers (1 slot each,
#             then 8 slots each), every result committed
# and the baseline: the same job on 2 real shoal-workers x 64 slots.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${1:-200000}
COUNTS=${2:-"2000 5000"}
bench_setup scaling build
# as many descriptors as allowed: a simulated worker takes about two, the broker one each
ulimit -n "$(ulimit -Hn)"

start_broker() {
    rm -f "$work/endpoints"
    "$bin/shoal-broker" --db "$DB" --frontend tcp://127.0.0.1:0 --backend tcp://127.0.0.1:0 \
        --progress tcp://127.0.0.1:0 --endpoints-file "$work/endpoints" --recovery-ms 0 2>>"$work/broker.log" &
    broker=$!
    pids+=("$broker")
    until [ -s "$work/endpoints" ] && grep -q '^progress=' "$work/endpoints"; do sleep 0.05; done
    FE=$(sed -n 's/^frontend=//p' "$work/endpoints")
    BE=$(sed -n 's/^backend=//p' "$work/endpoints")
    export SHOAL_BROKER=$FE
}
stop_all() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    pids=()
}
workers() { "$bin/shoal" -o json workers 2>/dev/null | jq length 2>/dev/null || echo 0; }
wait_workers() {  # wait_workers N: until the broker lists N, at most 120 s
    local deadline=$(( $(date +%s) + 120 ))
    until [ "$(workers)" -ge "$1" ]; do
        [ "$(date +%s)" -lt $deadline ] || { echo "the broker did not list $1 workers within 120 s"; return 1; }
        sleep 0.1
    done
}
# CPU ticks (user + system) of processes, summed
cpu_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $t; }
pg_pids() { local pm; pm=$(head -n 1 "$work/pg/data/postmaster.pid"); echo "$pm" $(ps -o pid= --ppid "$pm"); }
rss_mib() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
# run_job LABEL WORKER_PIDS...: a noop job of N tasks, tasks/s to the job
# done, and the CPU the broker, the workers and PostgreSQL used meanwhile
run_job() {
    local label=$1 t0 t1 job b0 b1 w0 w1 p0 p1 pg; shift
    pg=$(pg_pids)
    b0=$(cpu_ticks "$broker"); w0=$(cpu_ticks "$@"); p0=$(cpu_ticks $pg)
    t0=$(ms); job=$("$bin/shoal" submit --count "$N" --chunk 5000 -q)
    "$bin/shoal" status "$job" --wait >/dev/null 2>&1; t1=$(ms)
    b1=$(cpu_ticks "$broker"); w1=$(cpu_ticks "$@"); p1=$(cpu_ticks $pg)
    local secs; secs=$(awk -v ms=$((t1 - t0)) 'BEGIN { print ms / 1000 }')
    pct() { awk -v d="$1" -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.0f", d * 100 / hz / s }'; }
    echo "tasks/s $label: $N tasks in $((t1 - t0)) ms = $(rate "$N" $((t1 - t0))) tasks/s;" \
         "CPU (% of a core) broker $(pct $((b1 - b0))) workers $(pct $((w1 - w0))) postgres $(pct $((p1 - p0)));" \
         "broker $(awk -v d=$((b1 - b0)) -v hz="$hz" -v n="$N" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }') us CPU per task, RSS $(rss_mib "$broker") MiB"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "open files limit: $(ulimit -n); tasks per job: $N; PostgreSQL $(psql "$DB" -qAtc 'SHOW server_version') fsync=$(psql "$DB" -qAtc 'SHOW fsync')"
hz=$(getconf CLK_TCK)

start_broker
real=()
for i in 1 2; do
    "$bin/shoal-worker" --broker "$BE" --slots 64 --worker-id "real-$i" 2>>"$work/worker-$i.log" &
    pids+=($!); real+=($!)
done
wait_workers 2
run_job "2 real workers x 64 slots" "${real[@]}"
stop_all

for count in $COUNTS; do
    for slots in 1 8; do
        start_broker
        t0=$(ms)
        "$bin/bench/bench_sim_workers" --backend "$BE" --count "$count" --slots "$slots" \
            >>"$work/sim.out" 2>>"$work/sim.log" &
        sim=$!; pids+=($sim)
        wait_workers "$count" || { stop_all; continue; }
        t1=$(ms)
        if [ "$slots" = 1 ]; then
            echo "join: $count workers listed by the broker $((t1 - t0)) ms after the simulator started ($(tail -n 1 "$work/sim.log" | sed 's/.*hello in //') to open them all)"
            c0=$(cpu_ticks "$broker"); sleep 10; c1=$(cpu_ticks "$broker")
            echo "idle: $count workers heartbeating: broker CPU $(awk -v d=$((c1 - c0)) -v hz="$hz" 'BEGIN { printf "%.1f", d * 100 / hz / 10 }') % of a core, RSS $(rss_mib "$broker") MiB"
        fi
        run_job "$count simulated workers x $slots slots" "$sim"
        stop_all
    done
done
