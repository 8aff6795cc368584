# Helpers shared by the gateway tests (tests/gateway/*.sh source this; it
# is not a test itself). On top of tests/lib.sh:
#   t_gateway [flags...]      start shoal-gateway on a free port -> $GW (http://127.0.0.1:PORT),
#                             with the token $TOKEN from $T_DIR/tokens
#   t_http NAME METHOD PATH [curl args...]
#                             one request with the token: body in $T_DIR/NAME.body,
#                             the status in $CODE
#   t_code WHAT WANT          assert the last t_http's status
#   t_rss_kib PID             VmRSS of a process in KiB
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TOKEN=tok-$RANDOM$RANDOM$RANDOM
t_gateway() {
    [ -f "$T_DIR/tokens" ] || printf '# gateway test tokens\n%s\n' "$TOKEN" > "$T_DIR/tokens"
    local log="$T_DIR/gateway.log"
    : >> "$log"
    local before; before=$(grep -c 'msg=listening' "$log" || true)
    "$SHOAL_BIN/shoal-gateway" --listen "127.0.0.1:${GW_PORT:-0}" --broker "$FRONTEND" --progress "$PROGRESS" \
        --token-file "$T_DIR/tokens" "$@" >>"$log" 2>&1 &
    PID[gateway]=$!
    t_wait "gateway start" 20 t_gateway_started "$before"
    GW_PORT=$(grep 'msg=listening' "$log" | tail -n 1 | sed 's/.*port=\([0-9]*\).*/\1/')
    GW=http://127.0.0.1:$GW_PORT
    export GW GW_PORT
}
t_gateway_started() {
    [ "$(grep -c 'msg=listening' "$T_DIR/gateway.log" || true)" -gt "$1" ] || {
        kill -0 "${PID[gateway]}" 2>/dev/null || t_fail "gateway exited at start"
        return 1
    }
}

t_http() {
    local name=$1 method=$2 path=$3; shift 3
    T_LAST_HTTP=$name
    CODE=$(curl -sS -o "$T_DIR/$name.body" -w '%{http_code}' -X "$method" \
        -H "Authorization: Bearer $TOKEN" "$@" "$GW$path") || CODE=000
}
t_code() {
    local what=$1 want=$2
    [ "$CODE" = "$want" ] || t_fail "$what: HTTP $CODE, expected $want; body: $(head -c 800 "$T_DIR/$T_LAST_HTTP.body" 2>/dev/null)"
    t_log "ok: $what -> $CODE"
}
t_body() { cat "$T_DIR/$1.body"; }
t_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
t_healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$GW/healthz")" = 200 ]; }
t_test_ge() { local want=$1; shift; [ "$("$@")" -ge "$want" ]; }
