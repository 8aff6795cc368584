#!/usr/bin/env bash
# A throwaway PostgreSQL: its own data directory and port, run as an
# unprivileged user (so it works when we are root), never touching the
# system's cluster.
#
#   scripts/pg-sandbox.sh start DIR [PORT]   -> prints the connection URI
#   scripts/pg-sandbox.sh stop DIR [MODE]    -> MODE: fast (default) or immediate
#   scripts/pg-sandbox.sh restart DIR        -> start again after a stop
#   scripts/pg-sandbox.sh uri DIR
# A primary and a synchronous streaming standby (docs/postgres-ha.md):
#   scripts/pg-sandbox.sh primary DIR         -> a primary that can stream WAL; prints its URI
#   scripts/pg-sandbox.sh standby DIR PRIMARY_DIR NAME
#                                             -> pg_basebackup of the primary, started
#                                                as standby NAME; then the primary's
#                                                commits wait for it (synchronous_standby_names)
#   scripts/pg-sandbox.sh promote DIR         -> the standby becomes a primary
set -euo pipefail

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|restart|uri|primary|standby|promote DIR [...]" >&2; exit 2; }

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pgbin/initdb" ] || { echo "pg-sandbox: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
pguser=shoal-pg

# run a command as the unprivileged owner of the cluster
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$pguser" -- "$@"
    else
        "$@"
    fi
}

# below the kernel's ephemeral range (32768+), where outgoing connections
# would otherwise take the port between this check and the bind
free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$(( 10000 + RANDOM % 20000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"; return 0
        fi
    done
    echo "pg-sandbox: no free port found" >&2; return 1
}

start_server() {
    local port; port=$(cat "$dir/port")
    rm -f "$dir/server.log"
    as_owner "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB -c fsync=${PG_FSYNC:-on} -c synchronous_commit=on -c wal_level=minimal -c max_wal_senders=0 -c max_wal_size=4GB -c checkpoint_timeout=15min $(cat "$dir/options" 2>/dev/null)" \
        start >/dev/null
}

# what replication needs, for the primary and the standby alike (later
# -c options override the defaults above)
replication_options="-c wal_level=replica -c max_wal_senders=4 -c hot_standby=on"

case "$cmd" in
primary)
    mkdir -p "$dir"
    echo "$replication_options" > "$dir/options"
    exec "$0" start "$dir"
    ;;
standby)
    primary=${3:?usage: $0 standby DIR PRIMARY_DIR NAME}; name=${4:?usage: $0 standby DIR PRIMARY_DIR NAME}
    mkdir -p "$dir/sock"
    free_port > "$dir/port"
    # no synchronous_standby_names of its own: once promoted, its commits
    # must not wait for a standby it does not have
    echo "$replication_options -c cluster_name=$name" > "$dir/options"
    [ "$(id -u)" = 0 ] && chown -R "$pguser" "$dir"
    chmod o+x "$(dirname "$dir")" 2>/dev/null || true
    # -R: standby.signal and primary_conninfo; the walreceiver introduces
    # itself by cluster_name, which synchronous_standby_names names
    as_owner "$pgbin/pg_basebackup" -h 127.0.0.1 -p "$(cat "$primary/port")" -U shoal \
        -D "$dir/data" -R -X stream --checkpoint=fast --no-sync >/dev/null
    start_server || { echo "pg-sandbox: standby did not start; log:" >&2; tail -n 20 "$dir/server.log" >&2; exit 1; }
    # from now on the primary acknowledges a commit once the standby has it
    on_primary() { as_owner "$pgbin/psql" -h 127.0.0.1 -p "$(cat "$primary/port")" -U shoal -d shoal -qAtX -c "$1"; }
    on_primary "ALTER SYSTEM SET synchronous_standby_names = '$name'" >/dev/null
    on_primary "SELECT pg_reload_conf()" >/dev/null
    for _ in $(seq 1 600); do
        state=$(on_primary "SELECT sync_state FROM pg_stat_replication WHERE application_name = '$name'" 2>/dev/null || true)
        [ "$state" = sync ] && break
        sleep 0.1
    done
    [ "$state" = sync ] || { echo "pg-sandbox: standby $name not streaming in sync (state '$state')" >&2; exit 1; }
    echo "postgresql://shoal@127.0.0.1:$(cat "$dir/port")/shoal"
    ;;
promote)
    as_owner "$pgbin/pg_ctl" -D "$dir/data" -w -t 60 promote >/dev/null
    ;;
start)
    if [ "$(id -u)" = 0 ] && ! id "$pguser" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$pguser"
    fi
    mkdir -p "$dir"
    port=${3:-$(free_port)}
    echo "$port" > "$dir/port"
    mkdir -p "$dir/sock"
    [ "$(id -u)" = 0 ] && chown -R "$pguser" "$dir"
    # the owner must be able to reach the directory
    chmod o+x "$(dirname "$dir")" 2>/dev/null || true
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$pgbin/initdb" -D "$dir/data" -A trust -U shoal -E UTF8 --locale=C --no-sync >/dev/null
    fi
    # another process may take the port first: try a few
    for attempt in 1 2 3 4 5; do
        start_server && break
        if [ $attempt = 5 ] || ! grep -q "could not bind\|could not create any TCP" "$dir/server.log"; then
            echo "pg-sandbox: server did not start; log:" >&2; tail -n 20 "$dir/server.log" >&2; exit 1
        fi
        port=$(free_port); echo "$port" > "$dir/port"
    done
    port=$(cat "$dir/port")
    as_owner "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U shoal shoal 2>/dev/null || true
    echo "postgresql://shoal@127.0.0.1:$port/shoal"
    ;;
restart)
    start_server || { echo "pg-sandbox: server did not start; log:" >&2; tail -n 20 "$dir/server.log" >&2; exit 1; }
    ;;
stop)
    mode=${3:-fast}
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$pgbin/pg_ctl" -D "$dir/data" -m "$mode" -w -t 60 stop >/dev/null || true
    fi
    ;;
uri)
    echo "postgresql://shoal@127.0.0.1:$(cat "$dir/port")/shoal"
    ;;
*)
    echo "usage: $0 start|stop|restart|uri|primary|standby|promote DIR ..." >&2; exit 2 ;;
esac
