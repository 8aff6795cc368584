#!/usr/bin/env bash
# Idle latency and the first task after a broker start (issue 16), with
# results committed (fsync on, synchronous_commit on):
#   latency   submit -> result committed of one-task jobs on an idle
#             cluster (bench/latency.c), with PostgreSQL's WAL writes and
#             fsyncs per sample (pg_stat_wal)
#   first     a job stored, nothing leased under an earlier epoch, one
#             worker waiting: from starting a broker (the default recovery
#             window) to the first task's start, and to its result committed
#
#   bench/latency.sh [SAMPLES] [STARTS]     default 1000 samples, 5 broker starts
#   SHOAL_LATENCY_BIN=DIR                   the programs from DIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SAMPLES=${1:-1000}
STARTS=${2:-5}
bench_setup latency build
bin=${SHOAL_LATENCY_BIN:-$bin}     # the programs of another build (an A/B)
sql() { psql "$DB" -qAtc "$1"; }
# (the store-only broker below listens on ipc only: CZMQ gives "*" ports in
# order from 49152, so its tcp sockets would take the backend port just
# freed, and the worker, connecting there, would meet a PUB or a ROUTER of
# the wrong broker; libzmq drops an endpoint whose peer fails the handshake)
start_broker() {       # default --recovery-ms: the broker decides whether it needs a window
    : > "$work/broker.log"
    local fe=tcp://127.0.0.1:* pr=tcp://127.0.0.1:*
    [ -n "${STORE_ONLY:-}" ] && { fe=ipc://$work/store-only-fe.sock; pr=ipc://$work/store-only-pr.sock; }
    "$bin/shoal-broker" --db "$DB" --frontend "$fe" --backend "${BE_FIXED:-tcp://127.0.0.1:*}" \
        --progress "$pr" "$@" 2>>"$work/broker.log" &
    broker=$!; pids+=($broker)
    until grep -q broker_started "$work/broker.log"; do sleep 0.005; done
    FE=$(grep 'socket=frontend' "$work/broker.log" | tail -n 1 | sed 's/.*endpoint=//')
    BE=$(grep 'socket=backend' "$work/broker.log" | tail -n 1 | sed 's/.*endpoint=//')
    PR=$(grep 'socket=progress' "$work/broker.log" | tail -n 1 | sed 's/.*endpoint=//')
    export SHOAL_BROKER=$FE
}
stop_broker() { kill "-${1:-TERM}" "$broker"; wait "$broker" 2>/dev/null || true; }

echo "load: $(cut -d' ' -f1-3 /proc/loadavg); PostgreSQL $(sql 'SHOW server_version') fsync=$(sql 'SHOW fsync') synchronous_commit=$(sql 'SHOW synchronous_commit')"
BE_FIXED= start_broker
"$bin/shoal-worker" --broker "$BE" --slots 64 --worker-id lat 2>>"$work/worker.log" &
pids+=($!)
until [ "$("$bin/shoal" -o json workers | jq length)" = 1 ]; do sleep 0.02; done
w0=$(sql "SELECT wal_write || ' ' || wal_sync FROM pg_stat_wal")
echo "latency (submit -> result committed, one-task jobs, idle): $("$bin/bench/bench_latency" "$FE" "$PR" "$SAMPLES")"
w1=$(sql "SELECT wal_write || ' ' || wal_sync FROM pg_stat_wal")
awk -v a="$w0" -v b="$w1" -v n="$SAMPLES" 'BEGIN { split(a, x, " "); split(b, y, " ");
    printf "PostgreSQL per sample (open+chunk+result, all writers): WAL writes %.2f, WAL fsyncs %.2f\n", (y[1] - x[1]) / n, (y[2] - x[2]) / n }'

# the first task after a broker start, the worker up all along (it
# reconnects to the same backend endpoint):
#   empty   nothing unfinished in the database; the job is submitted as soon
#           as the broker has started
#   queued  a job stored by a broker on another backend endpoint (ipc, which
#           no worker reaches): unfinished, but never leased to anyone; that
#           broker stopped by SIGTERM with no task out (a clean stop: no
#           recovery window after it)
#   killed  the same, that broker ended by kill -9: it handed out no lease
#           (shoal_meta leased_term), so no window either
wait_done() { for _ in $(seq 1 400); do [ -n "$(sql "SELECT finished_at FROM jobs WHERE id = $1")" ] && return 0; sleep 0.05; done; return 1; }
report() {
    local started done_at
    started=$(sql "SELECT (extract(epoch FROM started_at) * 1e6)::bigint FROM results WHERE job_id = $2")
    done_at=$(sql "SELECT (extract(epoch FROM finished_at) * 1e6)::bigint FROM jobs WHERE id = $2")
    echo "start $k, $1: broker exec -> first task started $(( (started - t0) / 1000 )) ms, -> job done (committed) $(( (done_at - t0) / 1000 )) ms ($(grep -o 'recovery_ms=[0-9]*' "$work/broker.log" | tail -1))"
}
BE0=$BE
for k in $(seq 1 "$STARTS"); do
    stop_broker
    t0=$(date +%s%6N)
    BE_FIXED=$BE0 start_broker
    job=$("$bin/shoal" submit --count 1 -q)
    wait_done "$job" && report empty "$job"
    stop_broker
    for how in TERM KILL; do
        STORE_ONLY=1 BE_FIXED=ipc://$work/store-only.sock start_broker --recovery-ms 0
        job=$("$bin/shoal" submit --count 1 -q)
        stop_broker $how
        t0=$(date +%s%6N)
        BE_FIXED=$BE0 start_broker
        wait_done "$job" && report "$([ $how = TERM ] && echo queued || echo killed)" "$job"
        [ $how = TERM ] && stop_broker
    done
done
