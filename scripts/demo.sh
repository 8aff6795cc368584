#!/usr/bin/env bash
# A local shoal cluster with a throwaway PostgreSQL: a broker, four workers
# and a local HTTP server that answers some requests with 429, 503, 404 or
# slowly; a job of HTTP tasks against it, live progress until it is done,
# then SQL over the results. Ctrl-C (or Enter) stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh demo
echo "== building" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
bin=$PWD/build

work=$(mktemp -d /tmp/shoal-demo.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    scripts/pg-sandbox.sh stop "$work/pg" >/dev/null 2>&1 || true
    echo "stopped; logs were in $work" >&2
}
trap cleanup EXIT

echo "== starting a throwaway PostgreSQL" >&2
DB=$(scripts/pg-sandbox.sh start "$work/pg")
echo "== starting a local HTTP server (scripts/fault-server.py)" >&2
python3 scripts/fault-server.py "$work/http.port" 2>"$work/http.log" &
pids+=($!)
until [ -s "$work/http.port" ]; do sleep 0.1; done
hp=$(cat "$work/http.port")

port() { echo $(( 10000 + RANDOM % 20000 )); }
fe=$(port); be=$((fe + 1)); pr=$((fe + 2))
export SHOAL_BROKER=tcp://127.0.0.1:$fe
echo "== broker on :$fe (clients) :$be (workers) :$pr (progress)" >&2
"$bin/shoal-broker" --db "$DB" --frontend "tcp://127.0.0.1:$fe" --backend "tcp://127.0.0.1:$be" \
    --progress "tcp://127.0.0.1:$pr" 2>"$work/broker.log" &
pids+=($!)
for i in 1 2 3 4; do
    "$bin/shoal-worker" --broker "tcp://127.0.0.1:$be" --slots 32 --worker-id "demo-worker-$i" \
        2>"$work/worker-$i.log" &
    pids+=($!)
done
until [ "$("$bin/shoal" -o json workers 2>/dev/null | jq length)" = 4 ]; do sleep 0.2; done

# three "sites" on one server, told apart by address: 127.0.0.2 serves
# pages, .3 is slow and sometimes overloaded (503), .4 rate-limits (429)
a="http://127.0.0.2:$hp" b="http://127.0.0.3:$hp" c="http://127.0.0.4:$hp"
{
    for i in $(seq 1 6000); do echo "{\"url\": \"$a/ok?size=$(( 500 + i % 3000 ))\", \"tag\": \"page-$i\"}"; done
    for i in $(seq 1 1500); do echo "{\"url\": \"$b/slow?ms=150\", \"tag\": \"slow-$i\"}"; done
    for i in $(seq 1 500); do echo "{\"url\": \"$b/flaky/busy-$i?fail=1&status=503\", \"tag\": \"busy-$i\"}"; done
    for i in $(seq 1 200); do echo "{\"url\": \"$c/flaky/limited-$i?fail=2&status=429\", \"tag\": \"limited-$i\"}"; done
    for i in $(seq 1 50); do echo "{\"url\": \"$a/status/404\", \"tag\": \"missing-$i\"}"; done
} > "$work/tasks.jsonl"
echo "== submitting $(wc -l < "$work/tasks.jsonl") HTTP tasks (at most 16 at once per host, 4 attempts each)" >&2
job=$("$bin/shoal" submit "$work/tasks.jsonl" --name demo --per-host 16 --max-attempts 4 --backoff-ms 200 -q)
echo "job $job submitted; progress from the monitor:" >&2
"$bin/shoal-monitor" --plain --interval-ms 1000 --progress "tcp://127.0.0.1:$pr" &
mon=$!
pids+=($mon)
"$bin/shoal" status "$job" --wait >/dev/null 2>&1 || true
kill "$mon" 2>/dev/null || true
echo
"$bin/shoal" status "$job"
sql() { echo; echo "$1"; psql "$DB" -X -c "$1"; }
cat <<TXT

The results are in PostgreSQL ($DB). A few questions to ask them:
TXT
sql "SELECT outcome, http_status, count(*) FROM results WHERE job_id = $job GROUP BY 1, 2 ORDER BY 1, 2;"
sql "SELECT split_part(final_url, '/', 3) AS host, count(*), round(avg(total_ms)::numeric, 1) AS avg_ms,
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY total_ms)::numeric, 1) AS p99_ms
FROM results WHERE job_id = $job GROUP BY 1 ORDER BY 1;"
sql "SELECT attempt, count(*) FROM results WHERE job_id = $job GROUP BY 1 ORDER BY 1;"
sql "SELECT seq, attempt, worker, outcome, http_status, error FROM attempt_log
WHERE job_id = $job AND seq = (SELECT min(seq) FROM attempts WHERE job_id = $job AND http_status = 429)
ORDER BY attempt;"
cat <<TXT

More: psql '$DB'     export: SHOAL_BROKER=$SHOAL_BROKER $bin/shoal results $job --format csv | head
TXT
if [ -t 0 ]; then
    echo "The cluster keeps running for you to explore; press Enter (or Ctrl-C) to stop it." >&2
    read -r _ || true
fi
