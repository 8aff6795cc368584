#!/usr/bin/env bash
# Null-task throughput of shoal on this machine, with this machine's
# ceilings measured in the same run (docs/benchmarks.md records the output).
#
#   bench/null_throughput.sh [TASKS]     default 1,000,000
#
# Measures, with results committed (fsync on, synchronous_commit on):
#   ingest      shoal submit --count N with no workers: tasks/s committed
#   e2e         N queued noop tasks, 2 workers x 64 slots: tasks/s from the
#               workers' start to the job done (every result committed)
#   e2e_live    submit and run at once (workers already up)
#   latency     submit -> result-committed of single-task jobs, idle cluster
#   ceilings    raw ROUTER/DEALER echo with the same window; raw binary COPY
#               of N result rows
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${1:-1000000}
bench_setup null build

start_broker() {
    "$bin/shoal-broker" --db "$DB" --frontend tcp://127.0.0.1:* --backend tcp://127.0.0.1:* \
        --progress tcp://127.0.0.1:* --recovery-ms 0 2>>"$work/broker.log" &
    pids+=($!)
    until grep -q broker_started "$work/broker.log"; do sleep 0.05; done
    FE=$(grep 'socket=frontend' "$work/broker.log" | tail -n 1 | sed 's/.*endpoint=//')
    BE=$(grep 'socket=backend' "$work/broker.log" | tail -n 1 | sed 's/.*endpoint=//')
    PR=$(grep 'socket=progress' "$work/broker.log" | tail -n 1 | sed 's/.*endpoint=//')
    export SHOAL_BROKER=$FE
}
start_workers() {
    for i in 1 2; do
        "$bin/shoal-worker" --broker "$BE" --slots 64 --worker-id "bench-$i" 2>>"$work/worker-$i.log" &
        pids+=($!)
    done
    until [ "$("$bin/shoal" -o json workers | jq length)" = 2 ]; do sleep 0.02; done
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "tasks: $N; PostgreSQL $(psql "$DB" -qAtc 'SHOW server_version') fsync=$(psql "$DB" -qAtc 'SHOW fsync') synchronous_commit=$(psql "$DB" -qAtc 'SHOW synchronous_commit')"
start_broker

# ingest: nothing runs the tasks
t0=$(ms); job=$("$bin/shoal" submit --count "$N" --chunk 5000 -q); t1=$(ms)
echo "ingest: $N tasks committed in $((t1 - t0)) ms = $(rate "$N" $((t1 - t0))) tasks/s"

# end to end: two workers drain the queued job
t0=$(ms); start_workers; "$bin/shoal" status "$job" --wait >/dev/null 2>&1; t1=$(ms)
echo "e2e: $N tasks run and committed in $((t1 - t0)) ms = $(rate "$N" $((t1 - t0))) tasks/s (2 workers x 64 slots)"

# submit and run at once
t0=$(ms); job2=$("$bin/shoal" submit --count "$N" --chunk 5000 -q); "$bin/shoal" status "$job2" --wait >/dev/null 2>&1; t1=$(ms)
echo "e2e_live: $N tasks submitted, run and committed in $((t1 - t0)) ms = $(rate "$N" $((t1 - t0))) tasks/s"

# idle latency
echo "latency (submit -> result committed, single-task jobs, idle): $("$bin/bench/bench_latency" "$FE" "$PR" 1000)"

# ceilings
echo "ceiling zmq echo, per-task messages, window 128: $("$bin/bench/bench_zmq_echo" "$N" 128 40)"
echo "ceiling zmq echo, 64-task messages (2.5 KB), window 2: $("$bin/bench/bench_zmq_echo" $((N / 64)) 2 2560)"
echo "ceiling copy, batches of 1000: $("$bin/bench/bench_copy_results" "$DB" "$N" 1000 2>/dev/null)"
echo "ceiling copy, batches of 10000: $("$bin/bench/bench_copy_results" "$DB" "$N" 10000 2>/dev/null)"
