#!/usr/bin/env bash
# What can be checked of the deployment files without a Docker engine or a
# running systemd:
#   docker/compose.yml  parses with the compose client (docker compose or
#                       docker-compose) and has the promised shape
#   docker/Dockerfile   multi-stage on bookworm-slim, builds with the test
#                       suite's own steps, runs as a non-root user, has a
#                       healthcheck, and its runtime packages provide every
#                       library the built programs need
#   docker/*.sh         the key maker and the healthcheck work against a
#                       real broker with CURVE on
#   deploy/*.service    pass systemd-analyze verify, drain on SIGTERM with a
#                       stop timeout above the worker's grace period
#   deploy/*.env.example name only variables the programs read
. "$(dirname "$0")/../lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
export PATH="$SHOAL_BIN:$PATH"

# ---- compose
compose=""
if docker compose version >/dev/null 2>&1; then
    compose="docker compose"
elif command -v docker-compose >/dev/null; then
    compose="docker-compose"
fi
have_yaml=0
python3 -c 'import yaml' 2>/dev/null && have_yaml=1
[ -n "$compose" ] || [ $have_yaml = 1 ] || t_skip "neither a compose client nor python3-yaml to read docker/compose.yml"
if [ -n "$compose" ]; then
    $compose -f "$SRC/docker/compose.yml" config -q || t_fail "$compose rejects docker/compose.yml"
    t_log "ok: $compose config accepts docker/compose.yml"
    $compose -f "$SRC/docker/compose.yml" -f "$SRC/docker/compose.standby.yml" config -q \
        || t_fail "$compose rejects docker/compose.yml + docker/compose.standby.yml"
    t_log "ok: $compose config accepts docker/compose.yml with docker/compose.standby.yml"
else
    t_log "no compose client here: docker/compose.yml is only parsed as YAML"
fi
if [ $have_yaml = 1 ]; then
    python3 - "$SRC/docker/compose.yml" <<'EOF' || t_fail "docker/compose.yml does not have the promised shape"
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
s = c["services"]
def need(cond, what):
    if not cond:
        sys.exit("compose.yml: " + what)
pg = s["postgres"]
need(pg["image"].startswith("postgres:15"), "postgres is not postgres:15")
need("pg_isready" in " ".join(pg["healthcheck"]["test"]), "postgres healthcheck does not use pg_isready")
b = s["broker"]
need(b["depends_on"]["postgres"]["condition"] == "service_healthy", "the broker does not wait for a healthy postgres")
need(b["depends_on"]["keys"]["condition"] == "service_completed_successfully", "the broker does not wait for the keys")
need("SHOAL_CURVE_SECRET" in b["environment"] and "SHOAL_CURVE_ALLOW" in b["environment"], "the broker runs without CURVE")
w = s["worker"]
need("container_name" not in w and "ports" not in w, "worker cannot be scaled (container_name or host ports)")
need(w["depends_on"]["broker"]["condition"] == "service_healthy", "workers do not wait for a healthy broker")
need("SHOAL_CURVE_SERVER_KEY" in w["environment"] and "SHOAL_CURVE_KEY" in w["environment"], "workers run without CURVE")
m = s["monitor"]
need(m.get("tty") is True, "the monitor has no TTY")
g = s["gateway"]
need(g["depends_on"]["broker"]["condition"] == "service_healthy", "the gateway does not wait for a healthy broker")
need(g["ports"] == ["127.0.0.1:8080:8080"], "the gateway's port is not published on localhost only")
need("/healthz" in " ".join(g["healthcheck"]["test"]), "the gateway's healthcheck does not use /healthz")
need("SHOAL_TOKEN_FILE" in g["environment"], "the gateway runs without a token file")
need("SHOAL_CURVE_SERVER_KEY" in g["environment"] and "SHOAL_CURVE_KEY" in g["environment"], "the gateway runs without CURVE")
for name in ("keys", "broker", "worker", "monitor", "cli", "gateway"):
    need(s[name]["build"]["dockerfile"] == "docker/Dockerfile", name + " is not built from docker/Dockerfile")
print("compose.yml: postgres healthcheck, broker waits for it and for the keys, workers scalable, monitor on a TTY, gateway on localhost with a /healthz check, CURVE everywhere")
EOF
    # the standby option: a second broker on the same database and keys,
    # started after the first leads, and every client told of both
    python3 - "$SRC/docker/compose.yml" "$SRC/docker/compose.standby.yml" <<'EOF' || t_fail "docker/compose.standby.yml does not have the promised shape"
import sys, yaml
base = yaml.safe_load(open(sys.argv[1]))["services"]
s = yaml.safe_load(open(sys.argv[2]))["services"]
def need(cond, what):
    if not cond:
        sys.exit("compose.standby.yml: " + what)
b2 = s["broker2"]
need(b2["command"] == base["broker"]["command"], "broker2 does not run shoal-broker")
need(b2["build"] == base["broker"]["build"] and b2["image"] == base["broker"]["image"], "broker2 is not the same image")
for k in ("SHOAL_DB", "SHOAL_CURVE_SECRET", "SHOAL_CURVE_ALLOW"):
    need(b2["environment"][k] == base["broker"]["environment"][k], "broker2's " + k + " differs from the broker's")
need("ports" not in b2, "broker2 publishes host ports that clash with the broker's")
need(b2["depends_on"]["broker"]["condition"] == "service_healthy", "broker2 may win the lease before the broker the workers wait for")
for name, port in (("worker", 5556), ("monitor", 5555), ("gateway", 5555), ("cli", 5555)):
    need(s[name]["environment"]["SHOAL_BROKER"] == "tcp://broker:%d,tcp://broker2:%d" % (port, port), name + " is not told of both brokers")
    need(set(s[name]["environment"]) <= set(base[name]["environment"]), name + " gets a setting compose.yml does not have")
print("compose.standby.yml: broker2 on the broker's database and keys, after it, no host ports; every client lists both")
EOF
fi

# ---- Dockerfile
D=$SRC/docker/Dockerfile
t_assert_eq "stages FROM debian:bookworm-slim" 2 "$(grep -c '^FROM debian:bookworm-slim' "$D")"
grep -q '^RUN scripts/deps.sh build' "$D" || t_fail "the build stage does not install scripts/deps.sh build"
grep -q 'cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo' "$D" || t_fail "the build stage does not build like scripts/test.sh"
grep -q -- '-DCMAKE_BUILD_TYPE=RelWithDebInfo' "$SRC/scripts/test.sh" || t_fail "scripts/test.sh changed its build type: update the Dockerfile"
[ "$(grep '^USER ' "$D" | tail -n 1)" = "USER shoal" ] || t_fail "the image does not run as the shoal user"
grep -q '^HEALTHCHECK .*CMD \["shoal-healthcheck"\]' "$D" || t_fail "no HEALTHCHECK"
for f in $(sed -n 's/^COPY \(docker\/[^ ]*\|scripts\/[^ ]*\) .*/\1/p' "$D"); do
    [ -f "$SRC/$f" ] || t_fail "the Dockerfile copies $f, which does not exist"
done
# the runtime packages: between "apt-get install" and the list's end
runtime=$(sed -n '/^FROM debian:bookworm-slim$/,$p' "$D" | sed -n '/apt-get install/,/rm -rf/p' \
          | tr ' \\' '\n\n' | grep -E '^lib|^zlib1g$|^ca-certificates$' | sort -u)
t_log "runtime packages: $(echo $runtime)"
for p in $runtime; do
    apt-cache show "$p" >/dev/null 2>&1 || t_fail "runtime package $p does not exist in this Debian"
done
needed=$(for prog in shoal-broker shoal-worker shoal-monitor shoal shoal-gateway; do
              readelf -d "$SHOAL_BIN/$prog" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p'
          done | sort -u)
owners=$(dpkg -S $(for lib in $needed; do echo "*/$lib"; done) 2>/dev/null)
for lib in $needed; do
    pkg=$(grep "/$lib\$" <<<"$owners" | grep "/$(gcc -dumpmachine)/" | head -n 1 | cut -d: -f1)
    case "$pkg" in
        libc6|libgcc-s1) continue ;;          # in every Debian image
        libasan*|libubsan*) continue ;;       # the sanitizer build's runtimes
        "") t_fail "the programs need $lib, which no installed package provides" ;;
    esac
    grep -qx "$pkg" <<<"$runtime" || t_fail "the programs need $lib from $pkg, not in the runtime stage"
done
t_log "ok: the runtime stage provides every library the five programs link against"

# ---- the key maker and the healthcheck, against a real broker
K=$T_DIR/keys
"$SRC/docker/make-keys.sh" "$K" >/dev/null
"$SRC/docker/make-keys.sh" "$K" >/dev/null        # a second run keeps the keys
t_assert_eq "allowed keys" "client.key worker.key" "$(ls "$K/allowed" | tr '\n' ' ' | sed 's/ $//')"
t_db
t_broker --curve-secret "$K/broker.key_secret" --curve-allow "$K/allowed"
t_worker w1 --curve-server-key "$K/broker.key" --curve-key "$K/worker.key_secret"
export SHOAL_CURVE_SERVER_KEY=$K/broker.key SHOAL_CURVE_KEY=$K/client.key_secret
t_wait_workers 1
SHOAL_HEALTH_PID=${PID[broker]} SHOAL_HEALTH_BROKER=$FRONTEND "$SRC/docker/healthcheck.sh" \
    || t_fail "healthcheck: the broker is reported unhealthy"
SHOAL_HEALTH_PID=${PID[w1]} "$SRC/docker/healthcheck.sh" || t_fail "healthcheck: the worker is reported unhealthy"
# a broker that does not answer is unhealthy (stopped, not killed: the
# process is still there, its frontend is not)
kill -STOP "${PID[broker]}"
SHOAL_HEALTH_PID=${PID[broker]} SHOAL_HEALTH_BROKER=$FRONTEND "$SRC/docker/healthcheck.sh" \
    && t_fail "healthcheck: a frozen broker is reported healthy"
kill -CONT "${PID[broker]}"
t_log "ok: healthcheck says healthy for a live broker and worker, unhealthy for a frozen broker"
# the gateway: healthy while /healthz says 200, not once the broker is frozen
[ -s "$K/gateway.tokens" ] || t_fail "make-keys.sh wrote no gateway token"
"$SHOAL_BIN/shoal-gateway" --listen 127.0.0.1:0 --broker "$FRONTEND" --progress "$PROGRESS" \
    --token-file "$K/gateway.tokens" >"$T_DIR/gateway.log" 2>&1 &
PID[gateway]=$!
gw_listening() { grep -q 'msg=listening' "$T_DIR/gateway.log"; }
t_wait "gateway start" 20 gw_listening
GW=http://127.0.0.1:$(sed -n 's/.*msg=listening port=\([0-9]*\).*/\1/p' "$T_DIR/gateway.log")
gw_healthy() { SHOAL_HEALTH_PID=${PID[gateway]} SHOAL_HEALTH_GATEWAY=$GW "$SRC/docker/healthcheck.sh"; }
t_wait "healthcheck: the gateway is healthy" 20 gw_healthy
kill -STOP "${PID[broker]}"
gw_healthy && t_fail "healthcheck: a gateway whose broker is frozen is reported healthy"
kill -CONT "${PID[broker]}"
t_log "ok: healthcheck follows the gateway's /healthz"

# ---- systemd units
W=$SRC/deploy/shoal-worker@.service
BR=$SRC/deploy/shoal-broker.service
for u in "$BR" "$W"; do
    grep -qx 'KillSignal=SIGTERM' "$u" || t_fail "$(basename "$u"): no KillSignal=SIGTERM"
    grep -qx 'Restart=on-failure' "$u" || t_fail "$(basename "$u"): no Restart=on-failure"
    grep -q '^EnvironmentFile=/etc/shoal/' "$u" || t_fail "$(basename "$u"): no EnvironmentFile"
done
grep -qx 'KillMode=mixed' "$W" || t_fail "the worker unit would SIGTERM exec tasks' processes too (KillMode=mixed)"
stop=$(sed -n 's/^TimeoutStopSec=//p' "$W")
grace=$(sed -n 's/^SHOAL_GRACE_MS=//p' "$SRC/deploy/worker.env.example")
[ $((stop * 1000)) -gt $((grace + 10000)) ] || t_fail "worker TimeoutStopSec=${stop}s is not above SHOAL_GRACE_MS=${grace} + 10 s"
t_log "ok: worker stop timeout ${stop}s > grace ${grace} ms + 10 s"
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$T_DIR/units"
    sed "s#/usr/local/bin/#$SHOAL_BIN/#" "$BR" > "$T_DIR/units/shoal-broker.service"
    sed "s#/usr/local/bin/#$SHOAL_BIN/#" "$W" > "$T_DIR/units/shoal-worker@1.service"
    (cd "$T_DIR/units" && systemd-analyze verify ./shoal-broker.service ./shoal-worker@1.service) \
        > "$T_DIR/verify.out" 2>&1 || true
    [ ! -s "$T_DIR/verify.out" ] || t_fail "systemd-analyze verify: $(cat "$T_DIR/verify.out")"
    t_log "ok: systemd-analyze verify is silent on both units"
else
    t_log "systemd-analyze is not installed: units checked by grep only"
fi

# ---- the env examples name real settings
check_env() {
    local prog=$1 file=$2
    local known; known=$("$SHOAL_BIN/$prog" --help | sed -n 's/.*\[env \(SHOAL_[A-Z_]*\)\].*/\1/p')
    for v in $(sed -n 's/^#\{0,1\}\(SHOAL_[A-Z_]*\)=.*/\1/p' "$file"); do
        grep -qx "$v" <<<"$known" || t_fail "$(basename "$file"): $v is not a $prog setting"
    done
}
check_env shoal-broker "$SRC/deploy/broker.env.example"
check_env shoal-worker "$SRC/deploy/worker.env.example"
t_log "ok: every variable in the env examples is a setting of its program"
t_log "pass"
