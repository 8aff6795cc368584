#!/usr/bin/env bash
# Takeover times of a standby broker at the default lease settings (TTL
# 3000 ms, renewal every 1000 ms, standby poll 250 ms); docs/benchmarks.md
# records the output. Two brokers on one database, two workers (16 slots)
# running a long job of 10 ms noop tasks; ROUNDS times in turn:
#   kill -9: the leader is killed; takeover = until the standby logs
#            role=leader; served = until the first result batch of the new
#            term is committed (shoal_batches), i.e. the workers are back;
#   SIGTERM: the leader resigns (after storing what it holds); the same two
#            figures, from the signal.
# The broker that was stopped starts again as the next standby.
#
#   bench/failover.sh [ROUNDS]     default 5 of each
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ROUNDS=${1:-5}
bench_setup failover build

port() { echo $(( 20000 + RANDOM % 20000 )); }
declare -A FE BE PR BPID
for i in 1 2; do FE[$i]=$(port); BE[$i]=$(port); PR[$i]=$(port); done
export SHOAL_BROKER="tcp://127.0.0.1:${FE[1]},tcp://127.0.0.1:${FE[2]}"
backends="tcp://127.0.0.1:${BE[1]},tcp://127.0.0.1:${BE[2]}"
start() {
    "$bin/shoal-broker" --db "$DB" --frontend "tcp://127.0.0.1:${FE[$1]}" --backend "tcp://127.0.0.1:${BE[$1]}" \
        --progress "tcp://127.0.0.1:${PR[$1]}" >>"$work/b$1.log" 2>&1 &
    BPID[$1]=$!
    pids+=($!)
}
leads() { [ "$(grep -c 'msg=role role=leader' "$work/b$1.log" || true)" -ge "$2" ]; }
ts_ms() { date -d "$(grep 'msg=role role=leader' "$work/b$1.log" | sed -n "$2p" | sed 's/^ts=\([^ ]*\) .*/\1/')" +%s%3N; }
term() { psql "$DB" -qAtXc "SELECT term FROM shoal_leader"; }
served() { [ "$(psql "$DB" -qAtXc "SELECT count(*) FROM shoal_batches WHERE epoch = $1")" -gt 0 ]; }

: > "$work/b1.log"; : > "$work/b2.log"
start 1
until leads 1 1; do sleep 0.02; done
start 2
for w in w1 w2; do
    "$bin/shoal-worker" --broker "$backends" --worker-id $w --slots 16 >>"$work/$w.log" 2>&1 &
    pids+=($!)
done
"$bin/shoal" submit --count 5000000 --sleep-ms 10 --name failover-bench -q \
    >"$work/submit.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do
    [ "$(psql "$DB" -qAtXc 'SELECT count(*) FROM results')" -gt 1000 ] && break
    sleep 0.1
done
[ "$(psql "$DB" -qAtXc 'SELECT count(*) FROM results')" -gt 1000 ] \
    || { tail -n 5 "$work"/*.log "$work/submit.out" >&2; exit 1; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)"
echo "defaults: lease TTL 3000 ms, renewal 1000 ms, standby poll 250 ms"
leader=1 standby=2
declare -A nlead=([1]=1 [2]=0)
for how in KILL TERM; do
    tk=() sv=()
    for r in $(seq 1 "$ROUNDS"); do
        sleep 1.5    #  a bench, not a test: let the new leader settle and renew
        t0=$(ms)
        kill -$how "${BPID[$leader]}"
        nlead[$standby]=$(( ${nlead[$standby]} + 1 ))
        until leads $standby ${nlead[$standby]}; do sleep 0.01; done
        t1=$(ts_ms $standby ${nlead[$standby]})
        t=$(term)
        until served "$t"; do sleep 0.01; done
        t2=$(ms)
        tk+=($((t1 - t0))); sv+=($((t2 - t0)))
        wait "${BPID[$leader]}" 2>/dev/null || true
        start $leader
        x=$leader; leader=$standby; standby=$x
    done
    stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "min %d ms, median %d ms, max %d ms", a[1], a[int((NR+1)/2)], a[NR]}'; }
    name=$([ $how = KILL ] && echo "kill -9" || echo "SIGTERM")
    echo "$name x$ROUNDS: takeover $(stats "${tk[@]}") | served again $(stats "${sv[@]}")"
    echo "  each (takeover/served): $(for i in "${!tk[@]}"; do printf '%s/%s ' "${tk[$i]}" "${sv[$i]}"; done)"
done
