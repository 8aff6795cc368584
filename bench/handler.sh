#!/usr/bin/env bash
# Handler round trip (issue 11): a trivial Python handler (echo) at 1 and at
# 8 processes per worker, against exec of the same Python program once per
# task. One worker with 8 slots, the same broker, N tasks per run. Figures:
#   - tasks/s from the worker's start to the job's finish;
#   - p50 / p99 of the task's time at the worker (results.duration_ms: the
#     line written to the handler until its answer; for exec the process
#     from fork to exit);
#   - shoal CPU per task: user + system time of the broker and the worker
#     processes (not the handlers, not PostgreSQL) over the run, / tasks.
# Targets: the handler path at least 20x the exec rate; under 100 us of
# shoal CPU per task.
#
#   bench/handler.sh [TASKS]       default 20,000 (exec runs a tenth of them)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${1:-20000}
SLOTS=8
bench_setup handler build
EX=$PWD/examples/handlers
#  the interpreter itself, not a version manager's shim (pyenv's adds a
#  shell script to every exec)
PY=${SHOAL_BENCH_PYTHON:-/usr/bin/python3}
"$bin/shoal-broker" --db "$DB" --frontend tcp://127.0.0.1:* --backend tcp://127.0.0.1:* --progress tcp://127.0.0.1:* \
    --recovery-ms 0 2>"$work/broker.log" &
broker=$!
pids+=($broker)
until grep -qs broker_started "$work/broker.log"; do sleep 0.05; done
export SHOAL_BROKER=$(grep 'socket=frontend' "$work/broker.log" | sed 's/.*endpoint=//')
BE=$(grep 'socket=backend' "$work/broker.log" | sed 's/.*endpoint=//')
tck=$(getconf CLK_TCK)
# cpu_ticks PID: utime + stime of the process so far
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run NAME TASKS-FILE WORKER-ARGS...: time one worker through the job
run() {
    local name=$1 file=$2 job t0 t1 tasks b0 b1 w1 wp; shift 2
    job=$("$bin/shoal" submit "$file" --name "$name" -q)
    b0=$(cpu_ticks "$broker")
    t0=$(ms)
    "$bin/shoal-worker" --broker "$BE" --slots $SLOTS --kinds noop,exec --allow-exec --worker-id "bench-$name" "$@" \
        2>"$work/worker-$name.log" &
    wp=$!
    "$bin/shoal" status "$job" --wait --interval-ms 100 >/dev/null 2>&1 || true
    w1=$(cpu_ticks "$wp")
    b1=$(cpu_ticks "$broker")
    t1=$(psql "$DB" -qAtc "SELECT (extract(epoch FROM finished_at) * 1000)::bigint FROM jobs WHERE id = $job")
    tasks=$(psql "$DB" -qAtc "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok'")
    local lat
    lat=$(psql "$DB" -qAtc "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms)::numeric, 2) || ' ' ||
                                   round(percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms)::numeric, 2)
                            FROM results WHERE job_id = $job")
    [ "${SHOAL_BENCH_DEBUG:-}" ] && tail -n 5 "$work/worker-$name.log" "$work/broker.log" >&2
    kill "$wp" 2>/dev/null || true
    wait "$wp" 2>/dev/null || true
    local us_task
    us_task=$(awk -v t=$((w1 + b1 - b0)) -v hz="$tck" -v n="$tasks" 'BEGIN { printf "%.0f", t * 1e6 / hz / n }')
    printf '%-16s %7d tasks in %6d ms = %6s tasks/s; p50 %s ms, p99 %s ms; shoal CPU %s us/task\n' \
        "$name" "$tasks" $((t1 - t0)) "$(rate "$tasks" $((t1 - t0)))" ${lat% *} ${lat#* } "$us_task" >&2
    rate "$tasks" $((t1 - t0))
}

echo "machine: $(nproc) cores; 1 worker x $SLOTS slots; $N handler tasks, $((N / 10)) exec tasks" >&2
seq 0 $((N - 1)) | awk '{ printf "{\"handler\": \"echo\", \"payload\": {\"i\": %d}}\n", $1 }' > "$work/handler.jsonl"
seq 0 $((N / 10 - 1)) | awk -v bench="$PWD/bench" -v py="$PY" '{ printf "{\"argv\": [\"%s\", \"%s/echo_once.py\", \"%d\"]}\n", py, bench, $1 }' \
    > "$work/exec.jsonl"
r1=$(run handler-1proc "$work/handler.jsonl" --handler "echo[procs=1]=$PY $EX/echo.py")
r8=$(run handler-8proc "$work/handler.jsonl" --handler "echo[procs=8]=$PY $EX/echo.py")
rx=$(run exec "$work/exec.jsonl")
awk -v a="$r1" -v b="$r8" -v x="$rx" \
    'BEGIN { printf "handler / exec rate: %.1fx at 1 process, %.1fx at 8 processes (target: 20x)\n", a / x, b / x }'
