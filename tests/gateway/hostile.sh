#!/usr/bin/env bash
# Hostile input: no token, a wrong token, a 1 GiB body (with and without
# Content-Length), 10,000 headers, slowloris connections, a stalled client,
# invalid JSON, invalid UTF-8, an over-long line, a bad task at line 70,001
# of a stream (400 naming it, the tasks before it kept, a resume with the
# same key completes the job) -> the right status codes, the gateway's RSS
# sampled and bounded, and other clients served all along.
. "$(dirname "$0")/helpers.bash"
HOSTILE="python3 $(dirname "$0")/hostile.py"

t_db
t_broker
t_worker w1 --slots 16
t_wait_workers 1
t_gateway --client-timeout-s 3 --max-body 1048576 --max-header 32768
t_wait "gateway healthy" 20 t_healthy
gw_pid=${PID[gateway]}
# RSS every 50 ms for the whole test
( while kill -0 "$gw_pid" 2>/dev/null; do t_rss_kib "$gw_pid"; sleep 0.05; done ) > "$T_DIR/rss.samples" &
PID[rss]=$!
# another client, served while the hostile ones run
served() { t_http other GET /v1/jobs --max-time 5; [ "$CODE" = 200 ]; }
assert_served() { served || t_fail "another client was not served while $1 (HTTP $CODE)"; t_log "ok: another client served while $1"; }

# ---- tokens
CODE=$(curl -s -o "$T_DIR/none.body" -w '%{http_code}' "$GW/v1/jobs")
t_code "no token" 401
CODE=$(curl -s -o "$T_DIR/wrong.body" -w '%{http_code}' -H "Authorization: Bearer wrong-$TOKEN" "$GW/v1/jobs")
t_code "a wrong token" 401
CODE=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic $TOKEN" "$GW/v1/jobs")
t_code "another scheme" 401
CODE=$(curl -s -o /dev/null -w '%{http_code}' "$GW/healthz")
t_code "/healthz needs no token" 200
# a token added to the file works without a restart; the old one revoked
echo "fresh-$TOKEN" > "$T_DIR/tokens.new"; mv "$T_DIR/tokens.new" "$T_DIR/tokens"
fresh_ok() { [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer fresh-$TOKEN" "$GW/v1/jobs")" = 200 ]; }
t_wait "the new token accepted" 10 fresh_ok
CODE=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$GW/v1/jobs")
t_code "the revoked token" 401
TOKEN=fresh-$TOKEN

# ---- 1 GiB bodies
truncate -s 1G "$T_DIR/1g.bin"          # sparse: no disk used
curl -s -o "$T_DIR/big.body" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -T "$T_DIR/1g.bin" "$GW/v1/jobs" > "$T_DIR/big.code" &
big=$!
assert_served "a 1 GiB upload is refused"
wait $big || true
CODE=$(cat "$T_DIR/big.code")
t_code "1 GiB JSON body with Content-Length" 413
head -c 1073741824 /dev/zero | curl -s -o "$T_DIR/bigc.body" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -T - "$GW/v1/jobs" > "$T_DIR/bigc.code" &
bigc=$!
assert_served "a chunked 1 GiB upload runs"
wait $bigc || true
CODE=$(cat "$T_DIR/bigc.code")
t_code "1 GiB chunked JSON body" 413
head -c 1073741824 /dev/zero | curl -s -o "$T_DIR/bign.body" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/x-ndjson' -T - "$GW/v1/jobs?key=zeros" > "$T_DIR/bign.code" || true
CODE=$(cat "$T_DIR/bign.code")
t_code "1 GiB NDJSON body without a newline" 400
grep -q 'line 1: longer than' "$T_DIR/bign.body" || t_fail "no line in $(cat "$T_DIR/bign.body")"

# ---- 10,000 headers
CODE=$($HOSTILE headers "$GW_PORT" 10000)
t_code "10,000 headers" 431
CODE=$($HOSTILE headers "$GW_PORT" 20)
t_code "20 headers" 200

# ---- slowloris and a stalled client
$HOSTILE slowloris "$GW_PORT" 100 "$T_DIR/slow.open" > "$T_DIR/slowloris.log" 2>&1 &
PID[slowloris]=$!
t_wait "100 slowloris connections open" 20 t_test_eq 100 cat "$T_DIR/slow.open"
assert_served "100 slowloris connections trickle headers"
stalled=$($HOSTILE stall "$GW_PORT")
awk -v s="$stalled" 'BEGIN { exit !(s >= 2.5 && s < 20) }' || t_fail "a stalled client was closed after ${stalled}s (--client-timeout-s 3)"
t_log "ok: a stalled client was closed after ${stalled}s"
assert_served "slowloris connections keep trickling"
kill "${PID[slowloris]}"; unset 'PID[slowloris]'

# ---- invalid JSON and UTF-8
t_http badjson POST /v1/jobs -H 'Content-Type: application/json' -d '{"tasks": [ {"kind": "noop"}, ]'
t_code "invalid JSON" 400
grep -q 'not valid JSON' "$T_DIR/badjson.body" || t_fail "message: $(cat "$T_DIR/badjson.body")"
printf '{"name": "caf\xc3\x28", "tasks": []}' > "$T_DIR/badutf8.json"
t_http badutf8 POST /v1/jobs -H 'Content-Type: application/json' --data-binary @"$T_DIR/badutf8.json"
t_code "invalid UTF-8 in a JSON body" 400
printf '{"kind":"noop"}\n{"kind":"noop"}\n{"kind":"noop","tag":"\xff\xfe"}\n' > "$T_DIR/badutf8.ndjson"
t_http badutf8nd POST "/v1/jobs?key=utf8" -H 'Content-Type: application/x-ndjson' --data-binary @"$T_DIR/badutf8.ndjson"
t_code "invalid UTF-8 on NDJSON line 3" 400
t_assert_eq "the line named" 3 "$(jq -r .line "$T_DIR/badutf8nd.body")"
t_http badtask POST /v1/jobs -H 'Content-Type: application/json' -d '{"tasks":[{"kind":"noop"},{"url":"ftp://x"}]}'
t_code "a bad task in a JSON body" 400
t_assert_eq "the index named" 1 "$(jq -r .index "$T_DIR/badtask.body")"
t_http badtype POST /v1/jobs -H 'Content-Type: text/plain' -d 'x'
t_code "another content type" 415

# ---- a bad task at line 70,001 of a stream; then the fixed stream with the same key
N=100000
seq 1 $N | awk '{ if ($1 == 70001) print "{\"url\":\"notaurl\"}"; else printf "{\"kind\":\"noop\",\"tag\":\"b%d\"}\n", $1 }' > "$T_DIR/bad.ndjson"
curl -s -o "$T_DIR/bad.body" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/x-ndjson' \
    -T "$T_DIR/bad.ndjson" "$GW/v1/jobs?name=bad&key=bad-70001" > "$T_DIR/bad.code" &
badpid=$!
assert_served "a bad stream is read"
wait $badpid || true
CODE=$(cat "$T_DIR/bad.code")
t_code "bad task at line 70,001" 400
t_assert_eq "line named" 70001 "$(jq -r .line "$T_DIR/bad.body")"
grep -q 'line 70001: ' "$T_DIR/bad.body" || t_fail "message: $(cat "$T_DIR/bad.body")"
job=$(jq -r .job "$T_DIR/bad.body")
t_assert_eq "committed before the bad line (answer)" 70000 "$(jq -r .committed "$T_DIR/bad.body")"
t_assert_eq "committed before the bad line (SQL)" 70000 "$(t_sql "SELECT count(*) FROM tasks WHERE job_id = $job")"
t_assert_eq "the job stays open" f "$(t_sql "SELECT sealed FROM jobs WHERE id = $job")"
sed -i '70001s/.*/{"kind":"noop","tag":"b70001"}/' "$T_DIR/bad.ndjson"
t_http fixed POST "/v1/jobs?name=bad&key=bad-70001" -H 'Content-Type: application/x-ndjson' -T "$T_DIR/bad.ndjson" -X POST
t_code "the fixed stream, same key" 201
t_assert_eq "same job" "$job" "$(jq -r .job "$T_DIR/fixed.body")"
t_assert_eq "tasks" $N "$(t_sql "SELECT count(*) FROM tasks WHERE job_id = $job")"
t_assert_eq "each task once" $N "$(t_sql "SELECT count(DISTINCT spec) FROM tasks WHERE job_id = $job")"
t_assert_eq "sealed" t "$(t_sql "SELECT sealed FROM jobs WHERE id = $job")"

# ---- still alive, still serving; memory stayed bounded
kill -0 "$gw_pid" || t_fail "the gateway died"
t_wait "gateway healthy at the end" 20 t_healthy
kill "${PID[rss]}" 2>/dev/null || true; unset 'PID[rss]'
samples=$(wc -l < "$T_DIR/rss.samples")
max=$(sort -n "$T_DIR/rss.samples" | tail -n 1)
t_log "gateway RSS: $samples samples, max ${max} KiB"
[ "$samples" -gt 100 ] || t_fail "too few RSS samples ($samples)"
# (the bound holds for the normal build; under AddressSanitizer its
# quarantine and shadow memory make RSS no measure of the gateway's own)
if [ "${SHOAL_SANITIZED:-0}" != 1 ]; then
    [ "$max" -lt 131072 ] || t_fail "the gateway's RSS reached ${max} KiB (bound 128 MiB) on hostile input"
fi
t_log "PASS"
