# Helpers shared by the CLI tests (tests/cli/*.sh source this; it is not a
# test itself). On top of tests/lib.sh:
#   t_run NAME cmd...            run a command, keep stdout/stderr in
#                                $T_DIR/NAME.out/.err and its exit code in $RC
#   t_rc WHAT WANT               assert the last t_run's exit code
#   t_grep WHAT REGEX FILE       assert that FILE matches an extended regex
#   t_nogrep WHAT REGEX FILE     assert that it does not
#   t_decode TYPE SQL            a protobuf bytea (the SQL's one value) as text
#   t_rss_kib PID                the VmRSS of a process, in KiB (0 when gone)
#   t_watch_rss PID FILE         sample PID's RSS every 20 ms into FILE until it exits
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

T_PROTO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../proto" && pwd)

t_run() {
    local name=$1; shift
    T_LAST=$name
    set +e
    "$@" > "$T_DIR/$name.out" 2> "$T_DIR/$name.err"
    RC=$?
    set -e
}

t_rc() {
    local what=$1 want=$2
    if [ "$RC" != "$want" ]; then
        t_fail "$what: exit code $RC, expected $want; stderr: $(head -c 800 "$T_DIR/$T_LAST.err" 2>/dev/null)"
    fi
    t_log "ok: $what exits $RC"
}

t_grep() {
    local what=$1 re=$2 file=$3
    grep -qE -- "$re" "$file" || t_fail "$what: /$re/ not in $(basename "$file"): $(head -c 800 "$file")"
    t_log "ok: $what"
}

t_nogrep() {
    local what=$1 re=$2 file=$3
    if grep -qE -- "$re" "$file"; then
        t_fail "$what: /$re/ unexpectedly in $(basename "$file"): $(grep -m 3 -E -- "$re" "$file")"
    fi
    t_log "ok: $what"
}

t_decode() {
    local type=$1 sql=$2
    command -v protoc-c >/dev/null || t_skip "protoc-c is needed to decode stored specs"
    t_sql "SELECT encode(($sql), 'hex')" | xxd -r -p \
        | protoc-c --decode="shoal.$type" -I"$T_PROTO_DIR" "$T_PROTO_DIR/shoal.proto"
}

t_rss_kib() {
    awk '/^VmRSS:/ { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}

t_watch_rss() {
    local pid=$1 out=$2
    : > "$out"
    while kill -0 "$pid" 2>/dev/null; do
        t_rss_kib "$pid" >> "$out"
        sleep 0.02
    done
}

# the largest sample in an RSS file, in KiB
t_rss_max() { sort -n "$1" | tail -n 1; }

# job row fields: t_job_row JOB "n_tasks, sealed"
t_job_row() { t_sql "SELECT $2 FROM jobs WHERE id = $1"; }
