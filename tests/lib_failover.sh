# Helpers for the failover tests (tests/fault/failover_*.sh): several
# brokers on one database, one leading (docs/failover.md). Source after
# tests/lib.sh:
#   fo_ports N                   # fixed ports for brokers 1..N; exports the
#                                #   lists SHOAL_BROKER (frontends) and BACKEND
#   fo_broker I [flags]          # start broker I (log $T_DIR/bI.log, pid ${PID[bI]})
#   fo_leads I [N]               # broker I logged its N-th (default 1st) role=leader
#   fo_wait_leads I [N]          # ... wait for it
#   fo_ms_of LOG PATTERN [N]     # unix ms of the N-th line matching PATTERN
# A standby binds nothing until it leads, so its ports cannot be the
# kernel's port-0 choice known in advance: they are probed (t_port).
declare -A FE=() BE=() PR=()

fo_ports() {
    local n=$1 i used=" " p
    for i in $(seq 1 "$n"); do
        for which in FE BE PR; do
            while :; do
                p=$(t_port)
                case "$used" in *" $p "*) continue ;; esac
                used="$used$p "
                break
            done
            eval "$which[$i]=$p"
        done
    done
    local fe="" be="" pr=""
    for i in $(seq 1 "$n"); do
        fe="$fe${fe:+,}tcp://127.0.0.1:${FE[$i]}"
        be="$be${be:+,}tcp://127.0.0.1:${BE[$i]}"
        pr="$pr${pr:+,}tcp://127.0.0.1:${PR[$i]}"
    done
    export SHOAL_BROKER=$fe BACKEND=$be FRONTEND=$fe PROGRESS=$pr
}

fo_broker() {
    local i=$1; shift
    "$SHOAL_BIN/shoal-broker" --db "$DB" --frontend "tcp://127.0.0.1:${FE[$i]}" \
        --backend "tcp://127.0.0.1:${BE[$i]}" --progress "tcp://127.0.0.1:${PR[$i]}" \
        "$@" >>"$T_DIR/b$i.log" 2>&1 &
    PID[b$i]=$!
}

fo_leads() {
    [ "$(grep -c 'msg=role role=leader' "$T_DIR/b$1.log" 2>/dev/null || true)" -ge "${2:-1}" ] \
        && grep -q "msg=broker_started" "$T_DIR/b$1.log"
}
fo_wait_leads() { t_wait "broker $1 leads" 60 fo_leads "$@"; }

fo_ms_of() {
    local line ts
    line=$(grep -E "$2" "$1" | sed -n "${3:-1}p")
    ts=$(sed -n 's/^ts=\([^ ]*\) .*/\1/p' <<<"$line")
    [ -n "$ts" ] || return 1
    date -d "$ts" +%s%3N
}
