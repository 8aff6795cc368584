#!/usr/bin/env bash
# A throwaway nginx serving a directory on a free loopback port, for tests
# and benchmarks. Never touches the system's nginx.
#
#   scripts/nginx-sandbox.sh start DIR DOCROOT [WORKERS]   -> prints the port
#   scripts/nginx-sandbox.sh stop DIR
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start DIR DOCROOT [WORKERS] | stop DIR" >&2; exit 2; }
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "nginx-sandbox: nginx not found (apt-get install nginx)" >&2; exit 1; }

free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$(( 10000 + RANDOM % 20000 ))   # below the ephemeral range
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}

case "$cmd" in
start)
    docroot=$(cd "${3:?DOCROOT}" && pwd)
    workers=${4:-1}
    mkdir -p "$dir/logs" "$dir/tmp"
    port=$(free_port)
    user_line=""
    [ "$(id -u)" = 0 ] && user_line="user nobody nogroup;"
    chmod o+rx "$docroot"
    cat > "$dir/nginx.conf" <<CONF
$user_line
worker_processes $workers;
daemon on;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $docroot;
    }
}
CONF
    "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log"
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { echo "$port"; exit 0; }
        sleep 0.05
    done
    echo "nginx-sandbox: nginx did not start" >&2; cat "$dir/logs/error.log" >&2; exit 1
    ;;
stop)
    [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
    ;;
*) echo "usage: $0 start DIR DOCROOT [WORKERS] | stop DIR" >&2; exit 2 ;;
esac
