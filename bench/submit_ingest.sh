#!/usr/bin/env bash
# Submit ingest rate from a URL file: how fast `shoal submit` gets a
# 1,000,000-line URL list committed (docs/benchmarks.md records the output).
#
#   bench/submit_ingest.sh [LINES] [RUNS]     default 1,000,000 lines, 3 runs
#
# A throwaway PostgreSQL (fsync on, synchronous_commit on) and a broker,
# no workers: nothing runs the tasks. Each run is a new job from the same
# file with the CLI's defaults (chunks of 5000, 8 in flight), then one run
# with --chunk 1000 for comparison. The clock runs from starting `shoal submit` to its
# exit, i.e. until the last chunk, which seals the job, is committed. The
# CPU time of the CLI and of the broker, and the CLI's peak resident set
# (/usr/bin/time), say where the time went.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${1:-1000000}
RUNS=${2:-3}
bench_setup ingest build

: > "$work/broker.log"
"$bin/shoal-broker" --db "$DB" --frontend tcp://127.0.0.1:* --backend tcp://127.0.0.1:* \
    --progress tcp://127.0.0.1:* 2>>"$work/broker.log" &
pids+=($!)
until grep -q broker_started "$work/broker.log"; do sleep 0.05; done
export SHOAL_BROKER=$(grep 'socket=frontend' "$work/broker.log" | tail -n 1 | sed 's/.*endpoint=//')

seq 1 "$N" | awk '{ printf "https://api.example.com/v2/items/%d?fields=all\n", $1 }' > "$work/urls.txt"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "input: $N lines, $(du -m "$work/urls.txt" | cut -f1) MiB; PostgreSQL $(psql "$DB" -qAtc 'SHOW server_version') fsync=$(psql "$DB" -qAtc 'SHOW fsync') synchronous_commit=$(psql "$DB" -qAtc 'SHOW synchronous_commit')"

# CPU seconds a process used so far (user + system)
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
broker_pid=${pids[0]}

# one timed submit; prints "ms cli_cpu_s peak_kib broker_cpu_s"
submit_once() {
    local t0 t1 b0 b1
    b0=$(cpu_s "$broker_pid")
    t0=$(ms)
    /usr/bin/time -o "$work/time" -f "%U %S %M" "$bin/shoal" submit --format urls -q "$@" "$work/urls.txt" > "$work/job"
    t1=$(ms)
    b1=$(cpu_s "$broker_pid")
    local job; job=$(cat "$work/job")
    local n; n=$(psql "$DB" -qAtc "SELECT n_tasks FROM jobs WHERE id = $job AND sealed")
    [ "$n" = "$N" ] || { echo "job $job has '$n' tasks, expected $N" >&2; exit 1; }
    awk -v ms=$((t1 - t0)) -v b="$(awk -v a="$b0" -v b="$b1" 'BEGIN { printf "%.2f", b - a }')" \
        '{ printf "%d %.2f %d %s\n", ms, $1 + $2, $3, b }' "$work/time"
}

rates=()
for i in $(seq 1 "$RUNS"); do
    read -r took cli peak broker < <(submit_once)
    rates+=("$(rate "$N" "$took")")
    echo "run $i: $N tasks committed in $took ms = $(rate "$N" "$took") tasks/s (chunk 5000, window 8; CPU: CLI ${cli} s, broker ${broker} s; CLI peak RSS $((peak / 1024)) MiB)"
done
median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
echo "median: $median tasks/s"
read -r took cli peak broker < <(submit_once --chunk 1000)
echo "chunk 1000: $N tasks committed in $took ms = $(rate "$N" "$took") tasks/s (CPU: CLI ${cli} s, broker ${broker} s; CLI peak RSS $((peak / 1024)) MiB)"
