#!/usr/bin/env bash
# Pipeline overhead: a 3-step noop pipeline over N items (3N step tasks,
# each step created by the previous one's result in its transaction)
# against 3N plain noop tasks, same broker, same workers; the figure is
# tasks/s from the workers' start to the job's finish, and the ratio.
# Target (issue 10): steps cost at most 1.5x plain tasks. Also the CPU
# the broker and PostgreSQL (its server processes) used during each run,
# in microseconds per task (from /proc/PID/stat), to tell where it goes.
#
#   bench/pipeline.sh [ITEMS]      default 50,000 (150,000 step tasks)
#   SHOAL_BENCH_PERF=DIR           also record the broker with perf during each run
#                                  (DIR/NAME.data; perf report -i DIR/pipeline.data)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${1:-50000}
SLOTS=${SHOAL_BENCH_SLOTS:-64}
bench_setup pipeline build
"$bin/shoal-broker" --db "$DB" --frontend tcp://127.0.0.1:* --backend tcp://127.0.0.1:* --progress tcp://127.0.0.1:* \
    --recovery-ms 0 2>"$work/broker.log" &
pids+=($!)
broker_pid=$!
until grep -qs broker_started "$work/broker.log"; do sleep 0.05; done
# CPU ticks (user + system) of a list of pids
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $t; }
pg_pids() { pgrep -P "$(head -n 1 "$work/pg/data/postmaster.pid" 2>/dev/null || echo 1)" | tr '\n' ' '; }
hz=$(getconf CLK_TCK)
export SHOAL_BROKER=$(grep 'socket=frontend' "$work/broker.log" | sed 's/.*endpoint=//')
BE=$(grep 'socket=backend' "$work/broker.log" | sed 's/.*endpoint=//')
cat > "$work/noop3.json" <<'JSON'
{"steps": [{"name": "a", "kind": "noop"}, {"name": "b", "kind": "noop"}, {"name": "c", "kind": "noop"}]}
JSON

# run_job NAME SUBMIT-ARGS...: store the job, then time the workers through it
run_job() {
    local name=$1 job t0 t1 tasks wp=(); shift
    local ts; ts=$(ms)
    job=$("$bin/shoal" submit "$@" --chunk 5000 -q)
    local pgs; pgs=$(pg_pids)
    local b0 p0; b0=$(ticks "$broker_pid"); p0=$(ticks $pgs)
    local perf=
    if [ -n "${SHOAL_BENCH_PERF:-}" ]; then
        perf record -q -g -p "$broker_pid" -o "$SHOAL_BENCH_PERF/$name.data" 2>/dev/null &
        perf=$!
    fi
    t0=$(ms)
    for i in 1 2; do
        "$bin/shoal-worker" --broker "$BE" --slots $SLOTS --kinds noop --worker-id "bench-$name-$i" \
            2>"$work/worker-$name-$i.log" &
        wp+=($!)
    done
    "$bin/shoal" status "$job" --wait --interval-ms 100 >/dev/null 2>&1 || true
    t1=$(psql "$DB" -qAtc "SELECT (extract(epoch FROM finished_at) * 1000)::bigint FROM jobs WHERE id = $job")
    tasks=$(psql "$DB" -qAtc "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok'")
    local b1 p1; b1=$(ticks "$broker_pid"); p1=$(ticks $pgs)
    if [ -n "$perf" ]; then kill -INT "$perf"; wait "$perf" 2>/dev/null || true; fi
    kill "${wp[@]}" 2>/dev/null || true
    wait "${wp[@]}" 2>/dev/null || true
    echo "$name: $tasks noop tasks in $((t1 - t0)) ms = $(rate "$tasks" $((t1 - t0))) tasks/s;" \
         "CPU per task: broker $(( (b1 - b0) * 1000000 / hz / tasks )) us, PostgreSQL $(( (p1 - p0) * 1000000 / hz / tasks )) us;" \
         "submit $((t0 - ts)) ms before" >&2
    echo "$((t1 - t0)) $((t1 - ts))"
}

echo "machine: $(nproc) cores; 2 workers x $SLOTS slots; $N items" >&2
seq 1 "$N" | awk 'BEGIN { print "n" } { print }' > "$work/items.csv"
plain=$(run_job plain --count $((3 * N)) --name plain)
steps=$(run_job pipeline --pipeline "$work/noop3.json" "$work/items.csv" --name pipeline)
# the plain tasks' rows are written by the submit, before the clock starts;
# the pipeline's later steps are written during the run: both ratios
awk -v p="$plain" -v s="$steps" 'BEGIN { split(p, a, " "); split(s, b, " ");
    printf "3-step noop pipeline / plain noop tasks: %.2fx the time for the same number of tasks (%.2fx counting the submit)\n",
           b[1] / a[1], b[2] / a[2] }'
