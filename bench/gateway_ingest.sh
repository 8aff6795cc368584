#!/usr/bin/env bash
# The gateway's figures (docs/benchmarks.md records the output):
#   1. ingest: the same 1,000,000-task JSONL file submitted over HTTP as a
#      streamed NDJSON POST (curl -T) and with `shoal submit`, runs taken
#      in turn; the clock runs until the answer (201 / the CLI's exit),
#      i.e. until the sealing chunk is committed;
#   2. status requests/s: wrk on GET /v1/jobs/{id} with keep-alive.
#
#   bench/gateway_ingest.sh [TASKS] [RUNS]     default 1,000,000 tasks, 3 runs each
#
# A throwaway PostgreSQL (fsync on), a broker, no workers (nothing runs
# the tasks). Both clients use chunks of 5000 with 8 in flight.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${1:-1000000}
RUNS=${2:-3}
bench_setup gateway build
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

: > "$work/broker.log"
"$bin/shoal-broker" --db "$DB" --frontend tcp://127.0.0.1:* --backend tcp://127.0.0.1:* \
    --progress tcp://127.0.0.1:* 2>>"$work/broker.log" &
pids+=($!)
broker_pid=$!
until grep -q broker_started "$work/broker.log"; do sleep 0.05; done
export SHOAL_BROKER=$(grep 'socket=frontend' "$work/broker.log" | tail -n 1 | sed 's/.*endpoint=//')
progress=$(grep 'socket=progress' "$work/broker.log" | tail -n 1 | sed 's/.*endpoint=//')
token=bench-$RANDOM$RANDOM
echo "$token" > "$work/tokens"
: > "$work/gateway.log"
"$bin/shoal-gateway" --listen 127.0.0.1:0 --broker "$SHOAL_BROKER" --progress "$progress" \
    --token-file "$work/tokens" 2>>"$work/gateway.log" &
pids+=($!)
gateway_pid=$!
until grep -q 'msg=listening' "$work/gateway.log"; do sleep 0.05; done
port=$(sed -n 's/.*msg=listening port=\([0-9]*\).*/\1/p' "$work/gateway.log")
gw=http://127.0.0.1:$port

seq 1 "$N" | awk '{ printf "{\"url\":\"https://api.example.com/v2/items/%d?fields=all\"}\n", $1 }' > "$work/tasks.jsonl"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "input: $N tasks, $(du -m "$work/tasks.jsonl" | cut -f1) MiB of JSONL; PostgreSQL $(psql "$DB" -qAtc 'SHOW server_version') fsync=$(psql "$DB" -qAtc 'SHOW fsync')"

cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
check() {
    local n; n=$(psql "$DB" -qAtc "SELECT n_tasks FROM jobs WHERE id = $1 AND sealed")
    [ "$n" = "$N" ] || { echo "job $1 has '$n' tasks, expected $N" >&2; exit 1; }
}
# one run each; print "ms client_cpu_s server_cpu_s broker_cpu_s"
http_once() {
    local b0 g0 t0 t1
    b0=$(cpu_s "$broker_pid"); g0=$(cpu_s "$gateway_pid"); t0=$(ms)
    /usr/bin/time -o "$work/time" -f "%U %S" curl -sS -o "$work/answer" -X POST -T "$work/tasks.jsonl" \
        -H "Authorization: Bearer $token" -H 'Content-Type: application/x-ndjson' "$gw/v1/jobs?name=http-$1"
    t1=$(ms)
    check "$(jq -r .job "$work/answer")"
    awk -v ms=$((t1 - t0)) -v g="$(cpu_s "$gateway_pid")" -v g0="$g0" -v b="$(cpu_s "$broker_pid")" -v b0="$b0" \
        '{ printf "%d %.2f %.2f %.2f\n", ms, $1 + $2, g - g0, b - b0 }' "$work/time"
}
cli_once() {
    local b0 t0 t1
    b0=$(cpu_s "$broker_pid"); t0=$(ms)
    /usr/bin/time -o "$work/time" -f "%U %S" "$bin/shoal" submit --format jsonl -q --name "cli-$1" "$work/tasks.jsonl" > "$work/job"
    t1=$(ms)
    check "$(cat "$work/job")"
    awk -v ms=$((t1 - t0)) -v b="$(cpu_s "$broker_pid")" -v b0="$b0" '{ printf "%d %.2f 0 %.2f\n", ms, $1 + $2, b - b0 }' "$work/time"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
http_rates=(); cli_rates=()
for i in $(seq 1 "$RUNS"); do
    read -r took cpu _ broker < <(cli_once "$i")
    cli_rates+=("$(rate "$N" "$took")")
    echo "cli  run $i: $N tasks in $took ms = $(rate "$N" "$took") tasks/s (CPU: shoal ${cpu} s, broker ${broker} s)"
    read -r took cpu gcpu broker < <(http_once "$i")
    http_rates+=("$(rate "$N" "$took")")
    echo "http run $i: $N tasks in $took ms = $(rate "$N" "$took") tasks/s (CPU: curl ${cpu} s, gateway ${gcpu} s, broker ${broker} s)"
done
cm=$(printf '%s\n' "${cli_rates[@]}" | median)
hm=$(printf '%s\n' "${http_rates[@]}" | median)
echo "median: shoal submit $cm tasks/s, HTTP NDJSON $hm tasks/s = $(awk -v h="$hm" -v c="$cm" 'BEGIN { printf "%.0f", 100 * h / c }')% of the CLI"
echo "gateway peak RSS: $(awk '/^VmHWM:/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$gateway_pid/status")"

# status requests/s
job=$(jq -r .job "$work/answer")
cat > "$work/auth.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
LUA
for c in 1 8 32; do
    wrk -t "$(( c < 2 ? 1 : 2 ))" -c "$c" -d 10s -s "$work/auth.lua" "$gw/v1/jobs/$job" > "$work/wrk.out"
    echo "GET /v1/jobs/$job, $c connections: $(awk '/Requests\/sec/ { print $2 }' "$work/wrk.out") requests/s," \
         "latency $(awk '/Latency/ { print "avg " $2 ", max " $4 }' "$work/wrk.out")," \
         "non-2xx: $(grep -o 'Non-2xx or 3xx responses: [0-9]*' "$work/wrk.out" | grep -o '[0-9]*$' || echo 0)"
done
