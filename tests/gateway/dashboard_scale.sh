#!/usr/bin/env bash
# The dashboard with 1,000 jobs and 500 workers in a real Chromium: paged
# tables (25 rows each), keyboard paging, a job on page 3 paused from the
# page (seen by shoal status). The workers are idle fakes in one process
# (tests/tools/many_workers.c: exec only, so the noop jobs stay queued).
. "$(dirname "$0")/helpers.bash"
HERE=$(cd "$(dirname "$0")" && pwd)
command -v chromium >/dev/null || t_skip "no chromium (tests/gateway/dashboard.sh installs it)"
PW=${SHOAL_PLAYWRIGHT_DIR:-$SHOAL_BIN/playwright}
[ -d "$PW/node_modules/playwright-core" ] || (mkdir -p "$PW" && cd "$PW" && npm install --silent --no-audit --no-fund playwright-core@1 >/dev/null 2>&1) \
    || t_skip "cannot install playwright-core from npm"
SHOTS=$SHOAL_BIN/Testing/dashboard
mkdir -p "$SHOTS"

t_db
t_broker
"$SHOAL_BIN/tests/shoal_many_workers" --backend "$BACKEND" --count 500 >"$T_DIR/fakes.log" 2>&1 &
PID[fakes]=$!
t_wait_workers 500
t_gateway
t_wait "gateway healthy" 20 t_healthy
# 1,000 jobs of one task each, over one keep-alive connection
for i in $(seq 1 1000); do
    printf 'url = "%s/v1/jobs"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata = "{\\"name\\":\\"job-%d\\",\\"tasks\\":[{\\"kind\\":\\"noop\\"}]}"\noutput = /dev/null\nwrite-out = "%%{http_code}\\n"\nnext\n' \
        "$GW" "$TOKEN" "$i"
done | sed '$d' > "$T_DIR/posts.curl"          # no "next" after the last
curl -s -K "$T_DIR/posts.curl" > "$T_DIR/posts.codes"
t_assert_eq "1,000 jobs submitted" 1000 "$(grep -c '^201$' "$T_DIR/posts.codes")"

cp "$HERE/dashboard_scale.mjs" "$PW/dashboard_scale.mjs"
set +e
SHOTS=$SHOTS GW=$GW TOKEN=$TOKEN CHROMIUM=$(command -v chromium) FRONTEND=$FRONTEND timeout 300 node "$PW/dashboard_scale.mjs"
rc=$?
set -e
[ $rc = 0 ] || t_fail "the browser test failed (screenshots in $SHOTS)"
t_log "PASS"
