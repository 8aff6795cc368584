#!/usr/bin/env bash
# A local shoal cluster with a throwaway PostgreSQL: a broker, four
# workers, a demo job, live progress until it is done, then how to look at
# the results with psql. Ctrl-C stops everything and removes the database.
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
port() { local p; p=$(( 30000 + RANDOM % 20000 )); echo "$p"; }
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
until "$bin/shoal" workers >/dev/null 2>&1; do sleep 0.2; done

echo "== submitting a demo job of 200,000 tasks" >&2
job=$("$bin/shoal" submit --name demo --count 200000 --sleep-ms 0 -q)
echo "job $job submitted; progress from the monitor:" >&2
"$bin/shoal-monitor" --plain --interval-ms 1000 --progress "tcp://127.0.0.1:$pr" &
mon=$!
pids+=($mon)
"$bin/shoal" status "$job" --wait >/dev/null || true
kill "$mon" 2>/dev/null || true
echo
"$bin/shoal" status "$job"
cat <<TXT

The results are in PostgreSQL. Look at them with psql:

  psql '$DB'
  SELECT outcome, count(*) FROM results WHERE job_id = $job GROUP BY outcome;
  SELECT worker, count(*), avg(duration_ms) FROM results WHERE job_id = $job GROUP BY worker;
  SELECT * FROM attempt_log WHERE job_id = $job ORDER BY seq LIMIT 5;

or export them:  SHOAL_BROKER=$SHOAL_BROKER $bin/shoal results $job --format csv | head

TXT
psql "$DB" -c "SELECT outcome, count(*) FROM results WHERE job_id = $job GROUP BY outcome" \
           -c "SELECT worker, count(*) AS tasks FROM results WHERE job_id = $job GROUP BY worker ORDER BY worker"
if [ -t 0 ]; then
    echo "The cluster keeps running for you to explore; press Enter (or Ctrl-C) to stop it." >&2
    read -r _ || true
fi
