#!/usr/bin/env bash
# HTTP task throughput: N tasks fetching a ~2 KB file from a local nginx,
# every result committed, beside (same run, same concurrency) wrk against
# the same URL and a raw libcurl multi loop.
#
#   bench/http_throughput.sh [TASKS]     default 200,000
#   SHOAL_BENCH_WRAP="perf record -g -o /tmp/w.perf" bench/http_throughput.sh   profile the workers
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${1:-200000}
SLOTS=${SHOAL_BENCH_SLOTS:-64}
bench_setup http test
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
mkdir -p "$work/www"
head -c 1536 /dev/urandom | base64 -w 0 > "$work/www/file.txt"       # 2,048 bytes
port=$(scripts/nginx-sandbox.sh start "$work/nginx" "$work/www" 1)
URL="http://127.0.0.1:$port/file.txt"
# CPU seconds used so far by processes named $1 (or with the pids given)
hz=$(getconf CLK_TCK)
cpu_named() { local p; for p in $(pgrep -x "$1"); do awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null; done | awk -v hz="$hz" '{ s += $1 } END { printf "%.1f", s / hz }'; }
cpu_pids() { local p; for p in "$@"; do awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null; done | awk -v hz="$hz" '{ s += $1 } END { printf "%.1f", s / hz }'; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }

echo "machine: $(nproc) cores; nginx 1 worker process; file $(stat -c %s "$work/www/file.txt") bytes; tasks $N; concurrency $((2 * SLOTS))"
"$bin/shoal-broker" --db "$DB" --frontend tcp://127.0.0.1:* --backend tcp://127.0.0.1:* --progress tcp://127.0.0.1:* \
    --recovery-ms 0 2>"$work/broker.log" &
pids+=($!)
until grep -qs broker_started "$work/broker.log"; do sleep 0.05; done
export SHOAL_BROKER=$(grep 'socket=frontend' "$work/broker.log" | sed 's/.*endpoint=//')
BE=$(grep 'socket=backend' "$work/broker.log" | sed 's/.*endpoint=//')
# the job is stored first; the clock runs from the workers' start to the
# last result committed. Once with the default body store (a 2 KB body
# fits the 16 KiB inline limit: every body is in its row), once discarding
# bodies (hash and size only).
run_shoal() {
    local store=$1 job t0 t1 ok wp=()
    job=$("$bin/shoal" submit --url-template "$URL?$store={1..$N}" --chunk 5000 --store "$store" -q)
    local b0 p0 n0
    b0=$(cpu_pids "${pids[0]}"); p0=$(cpu_named postgres); n0=$(cpu_named nginx)
    t0=$(ms)
    for i in 1 2; do
        ${SHOAL_BENCH_WRAP:-} "${SHOAL_BENCH_WORKER:-$bin/shoal-worker}" --broker "$BE" --slots $SLOTS --kinds http --worker-id "bench-$store-$i" \
            2>"$work/worker-$store-$i.log" &
        wp+=($!)
    done
    "$bin/shoal" status "$job" --wait --interval-ms 100 >/dev/null 2>&1 || true
    # the end is when the broker marked the job done (after the last commit)
    t1=$(psql "$DB" -qAtc "SELECT (extract(epoch FROM finished_at) * 1000)::bigint FROM jobs WHERE id = $job")
    ok=$(psql "$DB" -qAtc "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok' AND http_status = 200")
    echo "shoal, store $store: $N http tasks run and committed in $((t1 - t0)) ms = $(rate "$N" $((t1 - t0))) tasks/s ($ok ok, 2 workers x $SLOTS slots)"
    echo "  CPU seconds during the run: workers $(cpu_pids "${wp[@]}"), broker $(sub "$(cpu_pids "${pids[0]}")" "$b0"), PostgreSQL $(sub "$(cpu_named postgres)" "$p0"), nginx $(sub "$(cpu_named nginx)" "$n0") (wall $(awk -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", ms / 1000 }') s x $(nproc) cores)"
    for p in "${wp[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait "${wp[@]}" 2>/dev/null || true
}
run_shoal default
run_shoal discard
n0=$(cpu_named nginx)
echo "raw libcurl multi: $(/usr/bin/time -f 'cpu_s=%U+%S' "$bin/bench/bench_curl_multi" "$URL" "$N" $((2 * SLOTS)) 2>&1 | tr '\n' ' ')nginx_cpu_s=$(sub "$(cpu_named nginx)" "$n0")"
echo "wrk: $(wrk -t2 -c$((2 * SLOTS)) -d10s "$URL" | grep -E 'Requests/sec' | tr -s ' ')"
