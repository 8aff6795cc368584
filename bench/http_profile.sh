#!/usr/bin/env bash
# Where the CPU of an HTTP task goes, per process (issue 16): N tasks of a
# 2 KB file from a local nginx (bodies in the rows, the default store), 2
# workers x 64 slots, one broker, a throwaway PostgreSQL (fsync on). Prints
# the CPU microseconds per task of the workers, the broker, the PostgreSQL
# processes and nginx (from /proc/PID/stat, before and after), the workers'
# and broker's system calls (strace -c -f on one worker and the broker when
# SHOAL_PROFILE_STRACE=1), and with perf (when perf_event_open is allowed)
# the top symbols of each process.
#
#   bench/http_profile.sh [TASKS]        default 50,000
#   SHOAL_PROFILE_PERF=0                 skip perf record
#   SHOAL_PROFILE_SQL="..."              run on the database before the job is submitted
#   SHOAL_PROFILE_BIN=DIR                the programs from DIR (an A/B against another build)
#   SHOAL_PROFILE_LOOP=1                 then the bare libcurl loop (bench/curl_multi.c), the
#                                        same N and URL at shoal's concurrency: its rate, CPU
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${1:-50000}
SLOTS=64
bench_setup http-profile test
bin=${SHOAL_PROFILE_BIN:-$bin}
mkdir -p "$work/www"
head -c 1536 /dev/urandom | base64 -w 0 > "$work/www/file.txt"       # 2,048 bytes
port=$(scripts/nginx-sandbox.sh start "$work/nginx" "$work/www" 1)
URL="http://127.0.0.1:$port/file.txt"
hz=$(getconf CLK_TCK)
ticks() { local p; for p in "$@"; do awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null; done | awk '{ s += $1 } END { print s + 0 }'; }
# context switches of every thread of the processes given (voluntary + not)
switches() { local p; for p in "$@"; do cat /proc/"$p"/task/*/status 2>/dev/null; done | awk '/ctxt_switches/ { s += $2 } END { print s + 0 }'; }
per_task() { awk -v t="$1" -v hz="$hz" -v n="$N" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }'; }

cg=()
[ "${SHOAL_PROFILE_CALLGRIND:-0}" = 1 ] && cg=(valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p")
"${cg[@]}" "$bin/shoal-broker" --db "$DB" --frontend tcp://127.0.0.1:* --backend tcp://127.0.0.1:* --progress tcp://127.0.0.1:* \
    --recovery-ms 0 2>"$work/broker.log" &
broker=$!; pids+=($broker)
until grep -qs broker_started "$work/broker.log"; do sleep 0.05; done
export SHOAL_BROKER=$(grep 'socket=frontend' "$work/broker.log" | sed 's/.*endpoint=//')
BE=$(grep 'socket=backend' "$work/broker.log" | sed 's/.*endpoint=//')
# an experiment on the schema, e.g. SHOAL_PROFILE_SQL="ALTER TABLE results RESET (toast_tuple_target)"
[ -n "${SHOAL_PROFILE_SQL:-}" ] && psql "$DB" -qc "$SHOAL_PROFILE_SQL"
job=$("$bin/shoal" submit --url-template "$URL?i={1..$N}" --chunk 5000 -q)
# callgrind: the job waits (paused) until both workers are connected, then
# every counter starts from zero
[ ${#cg[@]} -gt 0 ] && "$bin/shoal" pause "$job" >/dev/null
pm=$(head -1 "$work/pg/data/postmaster.pid")
pg=($pm $(pgrep -P "$pm")); ngx=($(cat "$work/nginx/nginx.pid") $(pgrep -P "$(cat "$work/nginx/nginx.pid")" || true))
wp=()
# the worker itself: under strace, strace's child (a worker's own child is its guard, same name)
worker_pid() { if [ "$(cat "/proc/$1/comm" 2>/dev/null)" = strace ]; then pgrep -x -P "$1" shoal-worker || echo "$1"; else echo "$1"; fi; }
# SHOAL_PROFILE_CALLGRIND=1: worker 1 and the broker under valgrind's callgrind,
# user-space instructions per task of each (steady where CPU time is not:
# this machine has no hardware counters for perf stat); use a small TASKS
for i in 1 2; do
    wrap=()
    [ "$i" = 1 ] && [ "${SHOAL_PROFILE_STRACE:-0}" = 1 ] && wrap=(strace -c -f -o "$work/strace-worker.txt")
    [ ${#cg[@]} -gt 0 ] && wrap=("${cg[@]}")
    "${wrap[@]}" "$bin/shoal-worker" --broker "$BE" --slots $SLOTS --kinds http --worker-id "prof-$i" 2>"$work/worker-$i.log" &
    wp+=($!); pids+=($!)
done
if [ ${#cg[@]} -gt 0 ]; then
    until [ "$("$bin/shoal" -o json workers | jq length)" = 2 ]; do sleep 0.1; done
    callgrind_control -z "$broker" >/dev/null; for p in "${wp[@]}"; do callgrind_control -z "$p" >/dev/null; done
    "$bin/shoal" resume "$job" >/dev/null
fi
t0=$(ms); b0=$(ticks $broker); p0=$(ticks "${pg[@]}"); n0=$(ticks "${ngx[@]}")
perf_pids=""
if [ "${SHOAL_PROFILE_PERF:-1}" = 1 ] && perf record -o "$work/probe.data" -- true >/dev/null 2>&1; then
    sleep 0.3   # the workers' processes exist (and their PostgreSQL-side backends, already: the broker's)
    wk=$(for p in "${wp[@]}"; do worker_pid "$p"; done | tr '\n' ',')
    perf record -F 999 ${SHOAL_PROFILE_CALLGRAPH:--g} -o "$work/perf.data" -p "${wk}$broker,$(IFS=,; echo "${pg[*]}")" >/dev/null 2>"$work/perf.log" &
    perf_pids=$!
fi
"$bin/shoal" status "$job" --wait --interval-ms 100 >/dev/null 2>&1 || true
t1=$(ms)
cs_w=$(switches $(for p in "${wp[@]}"; do worker_pid "$p"; done)); cs_b=$(switches $broker)
w=$(ticks "${wp[@]}" $(for p in "${wp[@]}"; do pgrep -P "$p" || true; done)); b=$(( $(ticks $broker) - b0 )); p=$(( $(ticks "${pg[@]}") - p0 )); n=$(( $(ticks "${ngx[@]}") - n0 ))
[ -n "$perf_pids" ] && kill -INT "$perf_pids" && wait "$perf_pids" 2>/dev/null || true
ok=$(psql "$DB" -qAtc "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok' AND http_status = 200")
echo "load: $(cut -d' ' -f1-3 /proc/loadavg); tasks $N ($ok ok) in $((t1 - t0)) ms = $(rate "$N" $((t1 - t0))) tasks/s, 2 workers x $SLOTS slots"
echo "CPU us per task: workers $(per_task "$w"), broker $(per_task "$b"), PostgreSQL $(per_task "$p"), nginx $(per_task "$n")"
awk -v w="$cs_w" -v b="$cs_b" -v n="$N" 'BEGIN { printf "context switches per task (all threads, from their start): workers %.2f, broker %.2f\n", w / n, b / n }'
if [ "${SHOAL_PROFILE_LOOP:-0}" = 1 ]; then
    out=$(/usr/bin/time -f 'cpu_s=%U %S' "$bin/bench/bench_curl_multi" "$URL" "$N" $((2 * SLOTS)) 2>&1)
    lr=$(echo "$out" | sed -n 's/.*requests_per_s=\([0-9.]*\).*/\1/p')
    lc=$(echo "$out" | sed -n 's/.*cpu_s=\([0-9.]*\) \([0-9.]*\).*/\1 \2/p')
    awk -v r="$lr" -v c="$lc" -v n="$N" -v s="$(rate "$N" $((t1 - t0)))" 'BEGIN { split(c, x, " ");
        printf "bare libcurl loop: %.0f requests/s, CPU %.1f us per request; shoal / loop = %.0f%%\n", r, (x[1] + x[2]) * 1e6 / n, 100 * s / r }'
fi
# (strace -c, on TERM, would detach and leave its worker running: the worker is told)
for p in "${wp[@]}"; do kill -TERM $(worker_pid "$p") 2>/dev/null || true; done
wait "${wp[@]}" 2>/dev/null || true
if [ ${#cg[@]} -gt 0 ]; then
    kill -TERM "$broker"; wait "$broker" 2>/dev/null || true
    ir() { cat "$work"/cg."$1"* | awk '/^summary:/ { s += $2 } END { print s + 0 }'; }
    echo "callgrind, user-space instructions per task from the resume on: workers $(( ($(ir "${wp[0]}") + $(ir "${wp[1]}")) / N )), broker $(( $(ir "$broker") / N ))"
fi
if [ -s "$work/strace-worker.txt" ]; then
    n1=$(psql "$DB" -qAtc "SELECT count(*) FROM results WHERE job_id = $job AND worker = 'prof-1'")
    echo "strace -c -f, worker 1 ($n1 tasks; calls per task in the last column):"
    awk -v n="$n1" '$4 ~ /^[0-9]+$/ && NF >= 5 { printf "%s  %.2f\n", $0, $4 / n; next } { print }' \
        "$work/strace-worker.txt" | head -20
fi
if [ -s "$work/perf.data" ]; then
    [ -n "${SHOAL_PROFILE_KEEP:-}" ] && cp "$work/perf.data" "$SHOAL_PROFILE_KEEP"
    perf report -i "$work/perf.data" --no-children --sort comm --stdio > "$work/comm.txt" 2>/dev/null || true
    echo "perf, samples by process:"; grep -E '^ +[0-9]' "$work/comm.txt" | head -5
    for c in shoal-worker shoal-broker postgres; do
        echo "perf, $c: top symbols (self, % of the process's samples)"
        perf report -i "$work/perf.data" --comm "$c" --no-children --sort dso,sym --stdio --percentage relative \
            > "$work/top.txt" 2>/dev/null || true
        grep -E '^ +[0-9]' "$work/top.txt" | head -"${SHOAL_PROFILE_TOP:-25}"
        perf report -i "$work/perf.data" --comm "$c" --no-children --sort dso --stdio --percentage relative \
            > "$work/top.txt" 2>/dev/null || true
        echo "  by library:"; grep -E '^ +[0-9]' "$work/top.txt" | head -8
    done
fi
