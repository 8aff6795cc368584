#!/usr/bin/env bash
# Helpers for black-box tests: real programs on loopback ports, a real
# PostgreSQL, synchronisation on observed state (never on sleeps).
#
# A test sources this file, then:
#   t_db                      # a fresh database -> $DB
#   t_broker                  # start shoal-broker -> $FRONTEND $BACKEND $PROGRESS
#   t_worker name [flags]     # start shoal-worker, pid in ${PID[name]}
#   t_wait "what" timeout_s cmd...   # poll until cmd succeeds
#   t_sql "select ..."        # one value from the database
# Everything started is killed when the test exits.
set -euo pipefail
# sourced once per test, even when two helper files both source it
if [ -n "${T_LIB_LOADED:-}" ]; then return 0; fi
T_LIB_LOADED=1

: "${SHOAL_BIN:?SHOAL_BIN must point at the build directory}"
T_NAME=$(basename "$0" .sh)
T_DIR=$(mktemp -d "/tmp/shoal-test-$T_NAME.XXXXXX")
chmod 755 "$T_DIR"
declare -A PID=()
T_PRIVATE_PG=""
T_PG_DIRS=()    # more private PostgreSQL servers (t_db_replicated)
T_ON_EXIT=()    # commands t_cleanup runs after killing the processes (t_on_exit)
# under the sanitizer build, every report lands in a file the test checks
if [ "${SHOAL_SANITIZED:-0}" = 1 ]; then
    export ASAN_OPTIONS="detect_leaks=1:log_path=$T_DIR/sanitizer"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$T_DIR/sanitizer"
fi
T_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../scripts" && pwd)

t_log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S.%3N)" "$T_NAME" "$*" >&2; }
t_fail() {
    t_log "FAIL: $*"
    for f in "$T_DIR"/*.log; do
        [ -f "$f" ] || continue
        echo "---- $(basename "$f") (last 30 lines)" >&2
        tail -n 30 "$f" >&2
    done
    exit 1
}

t_cleanup() {
    local rc=$?
    for name in "${!PID[@]}"; do
        kill -CONT "${PID[$name]}" 2>/dev/null || true
        kill -9 "${PID[$name]}" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    local c
    for c in "${T_ON_EXIT[@]}"; do eval "$c" || rc=1; done
    if compgen -G "$T_DIR/sanitizer.*" >/dev/null; then
        t_log "FAIL: sanitizer reports:"
        cat "$T_DIR"/sanitizer.* >&2
        rc=1
    fi
    if [ -n "${T_NGINX:-}" ]; then
        "$T_SCRIPTS/nginx-sandbox.sh" stop "$T_NGINX" >/dev/null 2>&1 || true
    fi
    for d in "${T_PG_DIRS[@]}"; do
        "$T_SCRIPTS/pg-sandbox.sh" stop "$d" immediate >/dev/null 2>&1 || true
    done
    if [ -n "$T_PRIVATE_PG" ]; then
        "$T_SCRIPTS/pg-sandbox.sh" stop "$T_PRIVATE_PG" immediate >/dev/null 2>&1 || true
    elif [ -n "${DB_NAME:-}" ] && [ -n "${SHOAL_TEST_PG:-}" ]; then
        psql "$SHOAL_TEST_PG" -qAtc "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    if [ $rc -eq 0 ] && [ -z "${T_KEEP:-}" ]; then
        rm -rf "$T_DIR"
    else
        t_log "logs kept in $T_DIR"
    fi
    exit $rc
}
trap t_cleanup EXIT

# Run a command (a string, eval-ed) when the test exits, pass or fail,
# after the processes it started are gone: t_on_exit "undo something"
t_on_exit() { T_ON_EXIT+=("$1"); }

# Poll a condition: t_wait "description" TIMEOUT_S command args...
t_wait() {
    local what=$1 timeout=$2; shift 2
    local deadline=$(( $(date +%s%N) / 1000000 + timeout * 1000 ))
    until "$@" >/dev/null 2>&1; do
        if [ $(( $(date +%s%N) / 1000000 )) -gt $deadline ]; then
            t_fail "timed out after ${timeout}s waiting for: $what"
        fi
        sleep 0.05
    done
}

# A fresh database: on the shared sandbox if the runner gave one, else a
# private PostgreSQL for this test (t_db private forces that).
t_db() {
    if [ -n "${SHOAL_TEST_PG:-}" ] && [ "${1:-}" != private ]; then
        DB_NAME="t_${T_NAME//[^a-z0-9_]/_}_$$"
        psql "$SHOAL_TEST_PG" -qAtc "CREATE DATABASE $DB_NAME" >/dev/null
        DB="${SHOAL_TEST_PG%/*}/$DB_NAME"
    else
        T_PRIVATE_PG="$T_DIR/pg"
        DB=$("$T_SCRIPTS/pg-sandbox.sh" start "$T_PRIVATE_PG")
    fi
    export DB
}

t_sql() { psql "$DB" -qAtX -c "$1"; }

# A private primary ($T_PG_PRIMARY) and a synchronous streaming standby
# ($T_PG_STANDBY), docs/postgres-ha.md; DB is the multi-host URI of both,
# the standby first, so libpq skips it only while it is read-only.
t_db_replicated() {
    T_PG_PRIMARY="$T_DIR/pg-primary"; T_PG_STANDBY="$T_DIR/pg-standby"
    T_PG_DIRS+=("$T_PG_PRIMARY")
    "$T_SCRIPTS/pg-sandbox.sh" primary "$T_PG_PRIMARY" >/dev/null
    T_PG_DIRS+=("$T_PG_STANDBY")
    "$T_SCRIPTS/pg-sandbox.sh" standby "$T_PG_STANDBY" "$T_PG_PRIMARY" standby1 >/dev/null
    DB="postgresql://shoal@127.0.0.1:$(cat "$T_PG_STANDBY/port"),127.0.0.1:$(cat "$T_PG_PRIMARY/port")/shoal?target_session_attrs=read-write"
    export DB T_PG_PRIMARY T_PG_STANDBY
}

# A random free port below the kernel's ephemeral range, for a server that
# cannot bind port 0 and say which port it got (Prometheus). Probed, so
# another process may take it first; shoal's own programs bind port 0.
t_port() {
    local p
    for _ in $(seq 1 200); do
        p=$(( 10000 + RANDOM % 20000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"; return 0
        fi
    done
    return 1
}

# Start the broker: t_broker [flags...]. The first start in a test binds
# port 0 on loopback, so the kernel picks three free ports, which the
# broker writes to $T_DIR/endpoints (--endpoints-file); no port is probed
# and then raced for. A later start (a restart) binds the same ports again,
# where the workers reconnect. The kernel picks bind(0) ports at random
# over the ephemeral range, of the other parity than the ports it gives
# outgoing connections, so a worker left over from another test, still
# reconnecting to its old broker's port, is unlikely to find this broker
# there (unlike CZMQ's "*", which takes the first free port from 49152 up,
# the same for every broker on the machine), and no client's connection
# takes a port a restarting broker needs.
t_broker() {
    local log="$T_DIR/broker.log" file="$T_DIR/endpoints"
    local fe=${FRONTEND:-tcp://127.0.0.1:0} be=${BACKEND:-tcp://127.0.0.1:0} pr=${PROGRESS:-tcp://127.0.0.1:0}
    : >> "$log"
    local before; before=$(grep -c broker_started "$log" || true)
    rm -f "$file"
    "$SHOAL_BIN/shoal-broker" --db "$DB" --frontend "$fe" --backend "$be" --progress "$pr" \
        --endpoints-file "$file" "$@" >>"$log" 2>&1 &
    PID[broker]=$!
    t_wait "broker start" 30 t_broker_started "$before"
    FRONTEND=$(sed -n 's/^frontend=//p' "$file")
    BACKEND=$(sed -n 's/^backend=//p' "$file")
    PROGRESS=$(sed -n 's/^progress=//p' "$file")
    [ -n "$FRONTEND" ] && [ -n "$BACKEND" ] && [ -n "$PROGRESS" ] || t_fail "no endpoints in $file"
    export FRONTEND BACKEND PROGRESS
    export SHOAL_BROKER=$FRONTEND
}
t_broker_started() {
    [ "$(grep -c broker_started "$T_DIR/broker.log" || true)" -gt "$1" ] || {
        kill -0 "${PID[broker]}" 2>/dev/null || t_fail "broker exited at start"
        return 1
    }
}

# t_worker NAME [flags...]
t_worker() {
    local name=$1; shift
    "$SHOAL_BIN/shoal-worker" --broker "$BACKEND" --worker-id "$name" "$@" >>"$T_DIR/$name.log" 2>&1 &
    PID[$name]=$!
}

# the number of workers the broker knows
t_workers_connected() {
    "$SHOAL_BIN/shoal" -o json workers | jq length
}
t_wait_workers() {
    local n=$1
    t_wait "$n workers connected" 30 t_test_eq "$n" t_workers_connected
}
# Around a broker restart, hold its jobs until every worker is back:
# t_hold_jobs ID... before t_broker marks the active jobs paused in the
# database; t_release_jobs N ID... waits until N workers have said Hello
# to the new broker (with the tasks they run and the results they hold)
# and resumes the jobs. The restarted broker then hands out nothing before
# it knows what each worker runs, however slowly the workers reconnect.
t_hold_jobs() {
    local j
    for j in "$@"; do t_sql "UPDATE jobs SET state = 'paused' WHERE id = $j AND state = 'active'" >/dev/null; done
}
t_release_jobs() {
    local n=$1 j; shift
    t_wait_workers "$n"
    #  a held job may finish meanwhile (the workers' results of its
    #  tasks are taken while it is paused): nothing left to resume
    for j in "$@"; do shoal resume "$j" >/dev/null 2>&1 || t_job_done "$j" \
        || t_fail "cannot resume job $j: $(shoal resume "$j" 2>&1)"; done
}
t_test_eq() { local want=$1; shift; [ "$("$@")" = "$want" ]; }

shoal() { "$SHOAL_BIN/shoal" "$@"; }

t_job_state() { shoal -o json status "$1" | jq -r .state; }
t_job_done() { [ "$(t_job_state "$1")" = done ]; }
t_wait_done() { t_wait "job $1 done" "${2:-120}" t_job_done "$1"; }

t_assert_eq() {
    local what=$1 want=$2 got=$3
    [ "$want" = "$got" ] || t_fail "$what: expected '$want', got '$got'"
    t_log "ok: $what = $got"
}

# Rows per task must be exactly one: no task missing, none doubled.
t_assert_one_result_each() {
    local job=$1 n=$2
    t_assert_eq "result rows of job $job" "$n" "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job")"
    t_assert_eq "distinct tasks with results" "$n" "$(t_sql "SELECT count(DISTINCT seq) FROM results WHERE job_id = $job")"
    t_assert_eq "tasks without a result" 0 "$(t_sql "SELECT count(*) FROM tasks t WHERE job_id = $job AND NOT EXISTS (SELECT 1 FROM results r WHERE r.job_id = t.job_id AND r.seq = t.seq)")"
}

# workers' busy count as the broker sees it: t_busy NAME
t_busy() { shoal -o json workers | jq -r --arg id "$1" '.[] | select(.id == $id) | .busy'; }
t_busy_at_least() { local b; b=$(t_busy "$1"); [ -n "$b" ] && [ "$b" -ge "$2" ]; }
t_results() { t_sql "SELECT count(*) FROM results WHERE job_id = $1"; }
t_results_at_least() { [ "$(t_results "$1")" -ge "$2" ]; }
t_exited() { ! kill -0 "$1" 2>/dev/null; }
# skip (ctest SKIP_RETURN_CODE 77) with a reason
t_skip() { t_log "SKIP: $*"; exit 77; }

# The project's fault server (tests/http/fault_server.py) -> $FAULT_PORT
t_fault_server() {
    python3 "$T_SCRIPTS/fault-server.py" "$T_DIR/fault.port" 2>"$T_DIR/fault.log" &
    PID[fault]=$!
    t_wait "fault server" 10 test -s "$T_DIR/fault.port"
    FAULT_PORT=$(cat "$T_DIR/fault.port")
    export FAULT_PORT
}
t_fault_stats() { curl -s "http://127.0.0.1:$FAULT_PORT/stats"; }

# nginx serving $T_DIR/www -> $NGINX_PORT
t_nginx() {
    mkdir -p "$T_DIR/www"
    NGINX_PORT=$("$T_SCRIPTS/nginx-sandbox.sh" start "$T_DIR/nginx" "$T_DIR/www")
    T_NGINX="$T_DIR/nginx"
    export NGINX_PORT
}
