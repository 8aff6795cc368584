#!/usr/bin/env bash
# Three "machines" as network namespaces: PostgreSQL and the broker in A,
# a worker in B and one in C, each linked to A by its own veth pair; CURVE
# on. A job runs across both workers; B's link is cut mid-job (link down):
# the broker declares B lost, its tasks run again on C, and the job ends
# with exactly one result per task. When the link comes back, B rejoins and
# takes work again. Skipped (not passed) where namespaces cannot be made.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || t_skip "network namespaces need root (run the suite as root to include this test)"
command -v ip >/dev/null || t_skip "the ip command (iproute2) is not installed"
tag=$$
NSA=shoal-a-$tag NSB=shoal-b-$tag NSC=shoal-c-$tag
# at exit: stop PostgreSQL cleanly, then whatever still runs inside the
# namespaces (only this test's processes are there), then the namespaces
net_down() {
    if [ -n "$T_PRIVATE_PG" ]; then
        ip netns exec "$NSA" "$T_SCRIPTS/pg-sandbox.sh" stop "$T_PRIVATE_PG" immediate >/dev/null 2>&1 || true
        T_PRIVATE_PG=""
    fi
    for ns in "$NSA" "$NSB" "$NSC"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -9 "$pid" 2>/dev/null || true
        done
        ip netns del "$ns" 2>/dev/null || true
    done
}
trap 's_rc=$?; net_down; (exit $s_rc); t_cleanup' EXIT
ip netns add "$NSA" 2>"$T_DIR/netns.err" || t_skip "cannot create network namespaces here: $(cat "$T_DIR/netns.err")"
ip netns add "$NSB" && ip netns add "$NSC"
inA() { ip netns exec "$NSA" "$@"; }
# point-to-point links A<->B (10.201.1.0/30) and A<->C (10.201.2.0/30)
link() {
    local ns=$1 net=$2 a=sa$tag$3 w=sw$tag$3
    ip link add "$a" type veth peer name "$w" 2>"$T_DIR/veth.err" \
        || t_skip "cannot create veth pairs here: $(cat "$T_DIR/veth.err")"
    ip link set "$a" netns "$NSA"
    ip link set "$w" netns "$ns"
    ip -n "$NSA" addr add "$net.1/30" dev "$a"
    ip -n "$ns" addr add "$net.2/30" dev "$w"
    ip -n "$NSA" link set "$a" up
    ip -n "$ns" link set "$w" up
    ip -n "$ns" link set lo up
}
ip -n "$NSA" link set lo up
link "$NSB" 10.201.1 b
link "$NSC" 10.201.2 c
LINK_B=sa${tag}b     # A's end of B's link: the one we cut
t_log "namespaces $NSA (broker, PostgreSQL), $NSB, $NSC (workers) linked by veth pairs"

# keys: the broker's, one per worker machine, one for the CLI
K=$T_DIR/keys
for name in broker worker-b worker-c client; do
    "$SHOAL_BIN/shoal" keygen "$name" --dir "$K" >/dev/null
done
mkdir -p "$K/allowed"
cp "$K/worker-b.key" "$K/worker-c.key" "$K/client.key" "$K/allowed/"

# PostgreSQL in A, on A's loopback
T_PRIVATE_PG="$T_DIR/pg"
DB=$(inA "$T_SCRIPTS/pg-sandbox.sh" start "$T_PRIVATE_PG")
export DB
t_sql() { inA psql "$DB" -qAtX -c "$1"; }

# the broker in A: clients on A's loopback, workers over the links only
ip netns exec "$NSA" "$SHOAL_BIN/shoal-broker" --db "$DB" --frontend tcp://127.0.0.1:5555 --backend 'tcp://*:5556' \
    --progress tcp://127.0.0.1:5557 --heartbeat-ms 200 --liveness 5 \
    --curve-secret "$K/broker.key_secret" --curve-allow "$K/allowed" >>"$T_DIR/broker.log" 2>&1 &
PID[broker]=$!
t_wait "broker start" 30 grep -q msg=broker_started "$T_DIR/broker.log"
reaches() { timeout 3 ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/5556" 2>/dev/null; }
reaches "$NSB" 10.201.1.1 || t_fail "B cannot reach the broker over its link"
reaches "$NSB" 10.201.2.1 && t_fail "B reaches C's link: the machines are not separate"
# from outside (this machine's own namespace) nothing answers on the
# workers' endpoint, even with an allowed key (a ZMTP exchange, not just a
# TCP connect: some sandboxes accept any outgoing TCP connection)
rc=0
"$SHOAL_BIN/shoal" --broker tcp://10.201.1.1:5556 --broker-timeout-ms 1500 --curve-server-key "$K/broker.key" \
    --curve-key "$K/client.key_secret" workers >/dev/null 2>&1 || rc=$?
t_assert_eq "shoal from outside the namespaces (4: unreachable)" 4 "$rc"

worker() {
    local name=$1 ns=$2 ep=$3
    ip netns exec "$ns" "$SHOAL_BIN/shoal-worker" --broker "$ep" --worker-id "$name" --slots 4 \
        --log-level debug --curve-server-key "$K/broker.key" --curve-key "$K/$name.key_secret" \
        >>"$T_DIR/$name.log" 2>&1 &
    PID[$name]=$!
}
worker worker-b "$NSB" tcp://10.201.1.1:5556
worker worker-c "$NSC" tcp://10.201.2.1:5556

export SHOAL_BROKER=tcp://127.0.0.1:5555 SHOAL_CURVE_SERVER_KEY=$K/broker.key SHOAL_CURVE_KEY=$K/client.key_secret
shoal() { inA "$SHOAL_BIN/shoal" "$@"; }
t_workers_connected() { shoal -o json workers | jq length; }
t_has_worker() { shoal -o json workers | jq -e --arg id "$1" 'any(.[]; .id == $id)' >/dev/null; }
t_wait_workers 2

job=$(shoal submit --count 600 --sleep-ms 100 --name across-machines -q)
# mid-job: both machines have delivered results and worker-b holds tasks
t_wait "results from both machines" 60 t_test_eq 2 t_sql "SELECT count(DISTINCT worker) FROM results WHERE job_id = $job"
t_wait "worker-b busy" 30 t_busy_at_least worker-b 4
ip -n "$NSA" link set "$LINK_B" down
t_log "cut worker-b's link with $(t_results "$job") results stored"
t_wait "the broker declares worker-b lost" 30 grep -q "msg=worker_lost worker=worker-b" "$T_DIR/broker.log"
t_wait_done "$job" 180
t_assert_one_result_each "$job" 600
t_assert_eq "failed results" 0 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome <> 'ok'")"
lost=$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $job AND worker = 'worker-b' AND outcome = 'lost'")
[ "$lost" -ge 1 ] && [ "$lost" -le 4 ] || t_fail "expected 1..4 tasks lost with worker-b, got $lost"
t_assert_eq "tasks lost with worker-b that finished on worker-c" "$lost" "$(t_sql "
    SELECT count(*) FROM attempts a JOIN results r USING (job_id, seq)
    WHERE a.job_id = $job AND a.worker = 'worker-b' AND a.outcome = 'lost' AND r.worker = 'worker-c'")"
t_assert_eq "results stored from both machines" 2 "$(t_sql "SELECT count(DISTINCT worker) FROM results WHERE job_id = $job")"

# the link returns: worker-b comes back by itself, and works again
ip -n "$NSA" link set "$LINK_B" up
t_log "restored worker-b's link"
t_wait "worker-b rejoins" 60 t_has_worker worker-b
grep -q "broker_lost" "$T_DIR/worker-b.log" || t_fail "worker-b never noticed the cut"
t_log "ok: worker-b rejoined ($(grep -c 'msg=worker_joined worker=worker-b' "$T_DIR/broker.log") joins in the broker log)"
job2=$(shoal submit --count 200 --sleep-ms 20 --name after-rejoin -q)
t_wait_done "$job2" 120
t_assert_one_result_each "$job2" 200
n=$(t_sql "SELECT count(*) FROM results WHERE job_id = $job2 AND worker = 'worker-b'")
[ "$n" -gt 0 ] || t_fail "worker-b ran nothing after rejoining"
t_log "ok: worker-b ran $n of $job2's tasks after rejoining"
# what worker-b finished while cut off was sent again on rejoining, and
# refused as stale: still one row per task
t_wait "worker-b's results from before the cut refused as stale" 30 bash -c "[ \$(ip netns exec $NSA $SHOAL_BIN/shoal -o json status $job | jq .stale) -ge $lost ]"
t_assert_one_result_each "$job" 600
t_log "pass"
