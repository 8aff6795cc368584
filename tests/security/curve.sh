#!/usr/bin/env bash
# CURVE on: a worker, a client and a monitor with allowed keys work; a
# worker, a client and a monitor with an unknown key, with a wrong server
# key, or in plaintext get nothing: no task, no progress, no control. The
# broker counts and logs the refused handshakes. A key copied into the
# allow directory while the broker runs is accepted at the next handshake.
. "$(dirname "$0")/../lib.sh"

K=$T_DIR/keys
for name in broker worker client monitor stranger impostor; do
    shoal keygen "$name" --dir "$K" >/dev/null
done
mkdir -p "$K/allowed"
cp "$K/worker.key" "$K/client.key" "$K/monitor.key" "$K/allowed/"
t_assert_eq "secret key file mode" 600 "$(stat -c %a "$K/worker.key_secret")"

t_db
t_broker --heartbeat-ms 100 --liveness 5 --curve-secret "$K/broker.key_secret" --curve-allow "$K/allowed"
grep -q "msg=listening socket=backend curve=on" "$T_DIR/broker.log" || t_fail "backend is not CURVE"
grep -q "msg=listening socket=progress curve=on" "$T_DIR/broker.log" || t_fail "progress is not CURVE"
# the intruders start first, so they would be in line for the tasks
t_worker unknown-key --slots 8 --log-level debug --curve-server-key "$K/broker.key" --curve-key "$K/stranger.key_secret"
t_worker wrong-server --slots 8 --log-level debug --curve-server-key "$K/impostor.key" --curve-key "$K/worker.key_secret"
t_worker plaintext --slots 8 --log-level debug
# the server key given as Z85 text works as well as the file
z85=$(sed -n 's/.*public-key = "\(.*\)"/\1/p' "$K/broker.key")
t_worker good --slots 8 --log-level debug --curve-server-key "$z85" --curve-key "$K/worker.key_secret"
# the allowed client: every helper (shoal, t_workers_connected, ...) uses
# these (set only now: workers read the same variables)
export SHOAL_CURVE_SERVER_KEY=$K/broker.key SHOAL_CURVE_KEY=$K/client.key_secret
t_wait_workers 1

job=$(shoal submit --count 300 --sleep-ms 5 --name curve -q)
t_wait_done "$job" 120
t_assert_one_result_each "$job" 300
t_assert_eq "workers that ran tasks" "good" "$(t_sql "SELECT string_agg(DISTINCT worker, ',') FROM results WHERE job_id = $job")"
t_assert_eq "workers the broker knows" '["good"]' "$(shoal -o json workers | jq -c '[.[].id]')"
for w in unknown-key wrong-server plaintext; do
    kill -0 "${PID[$w]}" || t_fail "$w exited"
    if grep -q 'msg=task_started\|msg=welcomed' "$T_DIR/$w.log"; then
        t_fail "$w got a Welcome or a task"
    fi
    t_log "ok: $w got no Welcome and no task"
done

# the monitor: allowed key -> snapshots; the others -> nothing at all
# monitor SECONDS ARGS: its output for that long, then SIGTERM; one that
# does not stop within 10 s of it is killed and named (a CI run once hung
# here for the test's whole timeout, with nothing to say which one)
monitor() {
    local rc=0
    timeout -k 10 "$1" env -u SHOAL_CURVE_KEY -u SHOAL_CURVE_SERVER_KEY "$SHOAL_BIN/shoal-monitor" --json \
        --broker "$FRONTEND" --progress "$PROGRESS" "${@:2}" 2>>"$T_DIR/monitors.err" || rc=$?
    [ "$rc" != 137 ] || echo "shoal-monitor ${*:2} did not stop on SIGTERM" >> "$T_DIR/monitor-hangs"
}
monitor 5 --curve-server-key "$K/broker.key" --curve-key "$K/monitor.key_secret" | head -n 1 > "$T_DIR/mon-good"
t_assert_eq "allowed monitor: first line" snapshot "$(jq -r .type "$T_DIR/mon-good")"
hs_before=$(jq -r .cluster.handshake_failures "$T_DIR/mon-good")
# the three intruding monitors listen at the same time for 2 s
listeners=()
for who in unknown wrong plain; do
    case $who in
        unknown) args=(--curve-server-key "$K/broker.key" --curve-key "$K/stranger.key_secret") ;;
        wrong)   args=(--curve-server-key "$K/impostor.key" --curve-key "$K/monitor.key_secret") ;;
        plain)   args=() ;;
    esac
    monitor 2 "${args[@]}" > "$T_DIR/mon-$who" &
    listeners+=($!)
done
wait "${listeners[@]}"
[ ! -s "$T_DIR/monitor-hangs" ] || t_fail "$(cat "$T_DIR/monitor-hangs"); stderr: $(tail -c 600 "$T_DIR/monitors.err")"
for who in unknown wrong plain; do
    t_assert_eq "monitor ($who): lines in 2 s" 0 "$(wc -l < "$T_DIR/mon-$who")"
done

# control: pause a job with the allowed client, then the intruders try to
# resume, cancel, submit and read results (exec tasks: no worker here runs
# them, so the job stays unfinished)
job2=$(for i in 1 2 3 4 5; do echo '{"argv": ["true"]}'; done | shoal submit --format jsonl --name paused -q -)
shoal pause "$job2" >/dev/null
t_wait "job $job2 paused" 10 t_test_eq paused t_job_state "$job2"
intruder() {
    local who=$1; shift
    case $who in
        unknown) env SHOAL_CURVE_KEY="$K/stranger.key_secret" "$SHOAL_BIN/shoal" --broker-timeout-ms 1500 "$@" ;;
        wrong)   env SHOAL_CURVE_SERVER_KEY="$K/impostor.key" "$SHOAL_BIN/shoal" --broker-timeout-ms 1500 "$@" ;;
        plain)   env -u SHOAL_CURVE_KEY -u SHOAL_CURVE_SERVER_KEY "$SHOAL_BIN/shoal" --broker-timeout-ms 1500 "$@" ;;
    esac
}
# every intruder tries every command, all at once (each waits 1.5 s for
# an answer that does not come)
cmds=("resume $job2" "cancel $job2" "submit --count 5 -q" "results $job" "workers")
tries=()
for who in unknown wrong plain; do
    for i in "${!cmds[@]}"; do
        # shellcheck disable=SC2086
        ( rc=0; intruder "$who" ${cmds[$i]} >"$T_DIR/out-$who-$i" 2>"$T_DIR/err-$who-$i" || rc=$?
          echo "$rc" >"$T_DIR/rc-$who-$i" ) &
        tries+=($!)
    done
done
wait "${tries[@]}"
for who in unknown wrong plain; do
    for i in "${!cmds[@]}"; do
        cmd=${cmds[$i]} rc=$(cat "$T_DIR/rc-$who-$i") err=$T_DIR/err-$who-$i
        [ ! -s "$T_DIR/out-$who-$i" ] || t_fail "$who: 'shoal $cmd' printed: $(cat "$T_DIR/out-$who-$i")"
        case $who in
            unknown) [ "$rc" = 5 ] && grep -q "refused our CURVE key" "$err" \
                         || t_fail "$who: 'shoal $cmd' exit $rc: $(cat "$err")" ;;
            # the plaintext client is told the broker (probably) uses CURVE:
            # "uses CURVE" when it sees the mechanism mismatch itself, "does
            # it use CURVE?" when the broker hung up first
            plain)   [ "$rc" = 4 ] && grep -q "CURVE" "$err" \
                         || t_fail "$who: 'shoal $cmd' exit $rc: $(cat "$err")" ;;
            wrong)   [ "$rc" = 4 ] || t_fail "$who: 'shoal $cmd' exit $rc: $(cat "$err")" ;;
        esac
    done
    t_log "ok: $who client: no control, no results, no listing (says: $(head -c 120 "$T_DIR/err-$who-0"))"
done
t_assert_eq "job $job2 state after the intruders" paused "$(t_job_state "$job2")"
t_assert_eq "jobs in the database" 2 "$(t_sql "SELECT count(*) FROM jobs")"

# the broker saw every kind of refusal, and counts them
for reason in key_refused cryptographic mechanism_mismatch; do
    grep -q "msg=handshake_failed .*reason=$reason" "$T_DIR/broker.log" || t_fail "no handshake_failed reason=$reason logged"
done
hs_after=$(monitor 5 --curve-server-key "$K/broker.key" --curve-key "$K/monitor.key_secret" | head -n 1 | jq -r .cluster.handshake_failures)
[ "$hs_after" -gt "$hs_before" ] || t_fail "handshake_failures did not go up ($hs_before -> $hs_after)"
t_log "ok: handshake_failures $hs_before -> $hs_after"

# allow the stranger's key while everything runs: its worker gets in
cp "$K/stranger.key" "$K/allowed/"
t_wait "the unknown-key worker admitted" 30 t_test_eq 2 t_workers_connected
shoal cancel "$job2" >/dev/null
t_wait "job $job2 cancelled by the allowed client" 10 t_test_eq cancelled t_job_state "$job2"
t_log "pass"
