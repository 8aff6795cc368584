# Helpers shared by the S3 tests (tests/s3/*.sh source this; it is not a
# test itself). On top of tests/lib.sh:
#   s3_moto [auth]          start moto_server on a free loopback port -> $S3_EP, $S3_PORT;
#                           with "auth", signatures are checked and an IAM user
#                           with s3:* is made: its keys go in AWS_ACCESS_KEY_ID/SECRET
#   s3_moto_stop            stop it (the state it holds is lost)
#   s3py CMD ARGS...        tests/s3/s3check.py (boto3) against $S3_EP
#   s3_worker NAME [flags]  a worker storing to $S3_EP, path-style
#   s3_rss_watch PID FILE   sample a process's RSS (KiB) every 20 ms until it exits
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

S3_CHECK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/s3check.py"
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-shoal-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-shoal-test-secret}
export AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_REGION

s3_need_tools() {
    command -v moto_server >/dev/null 2>&1 ||
        t_fail "moto_server is not installed: the S3 tests need the Python moto package with its server" \
               "(pipx install 'moto[server]', which scripts/deps.sh test does)"
    python3 -c 'import boto3' 2>/dev/null ||
        t_fail "Python boto3 is not installed: apt-get install python3-boto3 (scripts/deps.sh test)"
}

s3_moto() {
    s3_need_tools
    S3_PORT=${S3_PORT:-$(t_port)}
    S3_EP=http://127.0.0.1:$S3_PORT
    if [ "${1:-}" = auth ]; then
        # the first 3 requests (the IAM set-up) go unchecked, every later one is verified
        INITIAL_NO_AUTH_ACTION_COUNT=3 moto_server -H 127.0.0.1 -p "$S3_PORT" >>"$T_DIR/moto.log" 2>&1 &
    else
        moto_server -H 127.0.0.1 -p "$S3_PORT" >>"$T_DIR/moto.log" 2>&1 &
    fi
    PID[moto]=$!
    t_wait "moto_server on port $S3_PORT" 30 curl -sf -o /dev/null "$S3_EP/moto-api/"
    if [ "${1:-}" = auth ]; then
        local keys; keys=$(s3py user)
        AWS_ACCESS_KEY_ID=${keys% *} AWS_SECRET_ACCESS_KEY=${keys#* }
        export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    fi
    export S3_EP S3_PORT
}

s3_moto_stop() {
    kill "${PID[moto]}" 2>/dev/null || true
    wait "${PID[moto]}" 2>/dev/null || true
    unset 'PID[moto]'
}

s3py() { local cmd=$1; shift; python3 "$S3_CHECK" "$cmd" "$S3_EP" "$@"; }

s3_worker() {
    local name=$1; shift
    t_worker "$name" --s3-endpoint "$S3_EP" --s3-path-style "$@"
}

s3_rss_kib() { awk '/^VmRSS:/ { print $2; f = 1 } END { if (!f) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0; }
s3_rss_watch() {
    local pid=$1 out=$2
    : > "$out"
    while kill -0 "$pid" 2>/dev/null; do
        s3_rss_kib "$pid" >> "$out"
        sleep 0.02
    done
}
