#!/usr/bin/env bash
# A worker pointed at the wrong port of a broker says so plainly. At the
# progress port (a PUB socket) the ZeroMQ handshake cannot succeed, libzmq
# reports nothing but a closed connection and never tries again: the
# worker's socket monitor names it. At the client port (--frontend) the
# broker answers a worker's messages with where the worker belongs.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker
"$SHOAL_BIN/shoal-worker" --broker "$PROGRESS" --worker-id at-progress >>"$T_DIR/at-progress.log" 2>&1 &
PID[at-progress]=$!
t_wait "the worker names the failed handshake" 20 \
    grep -q "msg=broker_handshake_failed broker=$PROGRESS reason=closed_before_handshake.*frontend or progress port" \
    "$T_DIR/at-progress.log"

"$SHOAL_BIN/shoal-worker" --broker "$FRONTEND" --worker-id at-frontend >>"$T_DIR/at-frontend.log" 2>&1 &
PID[at-frontend]=$!
t_wait "the broker tells the worker where it belongs" 20 \
    grep -q "msg=broker_error .*'hello' is a worker's message.*a worker connects to the backend" \
    "$T_DIR/at-frontend.log"
# neither counts as a worker
t_assert_eq "workers the broker knows" 0 "$(t_workers_connected)"
t_log "pass"
