#!/usr/bin/env bash
# The web dashboard in a real browser (Debian's chromium, driven by
# playwright-core from npm, both installed here when missing): load the
# page against a running cluster, see a job's progress move, pause it from
# the page and see `shoal status` agree, kill a worker and see it marked
# lost, stop the broker and see the outage, start it and see the page
# recover; a pipeline job's per-step rows; keyboard selection, a confirmed cancel, phone width. The
# screenshots are kept in $SHOAL_BIN/Testing/dashboard (test artefacts).
. "$(dirname "$0")/helpers.bash"
HERE=$(cd "$(dirname "$0")" && pwd)

# the browser and the driver
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || true
fi
command -v chromium >/dev/null || t_skip "no chromium (apt-get install chromium)"
command -v npm >/dev/null || t_skip "no npm (apt-get install npm)"
PW=${SHOAL_PLAYWRIGHT_DIR:-$SHOAL_BIN/playwright}
if [ ! -d "$PW/node_modules/playwright-core" ]; then
    mkdir -p "$PW"
    (cd "$PW" && npm install --silent --no-audit --no-fund playwright-core@1 >/dev/null 2>&1) \
        || t_skip "cannot install playwright-core from npm"
fi
SHOTS=$SHOAL_BIN/Testing/dashboard
rm -rf "$SHOTS"; mkdir -p "$SHOTS"

t_db
t_broker
t_worker w1 --slots 4
t_worker w2 --slots 4
t_wait_workers 2
t_gateway
t_wait "gateway healthy" 20 t_healthy
# ~2 minutes of work on 8 slots, longer with one worker; paused until the
# page shows it (the browser script resumes it): a browser that takes a
# minute to start on a loaded machine must not find it done already
seq 1 6000 | awk '{ print "{\"kind\":\"noop\",\"sleep_ms\":150}" }' > "$T_DIR/tasks.ndjson"
t_http submit POST "/v1/jobs?name=dashboard" -H 'Content-Type: application/x-ndjson' --data-binary @"$T_DIR/tasks.ndjson"
t_code "submit" 201
JOB=$(jq -r .job "$T_DIR/submit.body")
shoal pause "$JOB" > /dev/null
# a pipeline job (ten items, two noop steps, the second failing): its steps
# get a row each under the job's row
cat > "$T_DIR/p.json" <<'JSON'
{"steps": [{"name": "one", "kind": "noop"},
           {"name": "two", "kind": "noop", "fail_until_attempt": 5, "max_attempts": 1}]}
JSON
{ echo n; seq 1 10; } > "$T_DIR/items.csv"
PJOB=$(shoal submit --pipeline "$T_DIR/p.json" --name steps -q "$T_DIR/items.csv")

cp "$HERE/dashboard.mjs" "$PW/dashboard.mjs"
set +e
SHOTS=$SHOTS JOB=$JOB PJOB=$PJOB GW=$GW TOKEN=$TOKEN CHROMIUM=$(command -v chromium) W2_PID=${PID[w2]} BROKER_PID=${PID[broker]} \
    DB=$DB FRONTEND=$FRONTEND BACKEND=$BACKEND PROGRESS=$PROGRESS T_DIR=$T_DIR \
    timeout 300 node "$PW/dashboard.mjs"
rc=$?
set -e
[ -f "$T_DIR/broker2.pid" ] && PID[broker2]=$(cat "$T_DIR/broker2.pid")
[ $rc = 0 ] || t_fail "the browser test failed (screenshots in $SHOTS)"
for s in 1-progress 2-paused 3-worker-lost 4-outage 5-recovered 6-phone; do
    [ -s "$SHOTS/$s.png" ] || t_fail "no screenshot $s.png"
done
t_log "screenshots in $SHOTS"
t_log "PASS"
