#!/usr/bin/env bash
# A rogue peer on the frontend and the backend (plaintext: anyone can
# connect) sends empty, random, truncated, bit-flipped, oversized and
# multi-frame junk, a wrong protocol version, requests on the wrong socket,
# stale results, Hellos claiming tasks under duplicate leases, a frame over
# the decoder's limit, one over ZMQ_MAXMSGSIZE, and non-ZMTP bytes, while a
# real job runs. The broker drops and counts all of it and keeps serving:
# `shoal status` answers throughout, the job ends with one result per task,
# a job submitted afterwards (whose task ids the rogue claimed) completes,
# and the broker stops cleanly on SIGTERM (under the sanitizer build: no
# report, no leak).
. "$(dirname "$0")/../lib.sh"

t_db
# start the broker twice: the rogue's Hellos claim tasks under leases of
# the first run (epoch 1), which the second run must take with care
t_broker --heartbeat-ms 100 --liveness 5
kill -TERM "${PID[broker]}"
t_wait "the first broker run exits" 30 t_exited "${PID[broker]}"
t_broker --heartbeat-ms 100 --liveness 5
t_worker w1 --slots 8
t_worker w2 --slots 8
t_wait_workers 2

# many attempts allowed: phantom workers (a Hello that survived a bit flip)
# may take tasks and vanish, which counts an attempt; what must hold is that
# every task still ends ok, once
job=$(shoal submit --count 3000 --sleep-ms 40 --max-attempts 1000 --name under-attack -q)
"$SHOAL_BIN/tests/shoal_rogue" --frontend "$FRONTEND" --backend "$BACKEND" --seconds 8 --rate 1000 \
    --seed $$ > "$T_DIR/rogue.out" 2>"$T_DIR/rogue.log" &
rogue=$!
answered=0
while kill -0 "$rogue" 2>/dev/null; do
    state=$(shoal --broker-timeout-ms 3000 -o json status "$job" | jq -r .state) \
        || t_fail "shoal status got no answer during the attack"
    answered=$((answered + 1))
done
wait "$rogue" || t_fail "the rogue failed: $(cat "$T_DIR/rogue.log")"
t_log "rogue: $(cat "$T_DIR/rogue.out")"
t_log "ok: shoal status answered $answered times during the attack (last state: $state)"
kill -0 "${PID[broker]}" || t_fail "the broker died"

t_wait_done "$job" 180
t_assert_one_result_each "$job" 3000
t_assert_eq "ok results" 3000 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok'")"
others=$(t_sql "SELECT seq, worker, attempt, outcome, error FROM results WHERE job_id = $job AND worker NOT IN ('w1','w2')")
[ -z "$others" ] || t_fail "results stored from someone else than the workers: $others; attempts: $(t_sql "SELECT seq, attempt, worker, outcome, error FROM attempts WHERE job_id = $job AND seq IN (SELECT seq FROM results WHERE job_id = $job AND worker NOT IN ('w1','w2'))")"
t_log "ok: every result came from w1 or w2"

# the rogue claimed tasks of jobs 1..8 as held under duplicate leases; the
# next jobs' tasks are paged in after its phantom workers are gone
for n in 2 3; do
    j=$(shoal submit --count 100 --name "after-$n" -q)
    t_wait_done "$j" 60
    t_assert_one_result_each "$j" 100
done

snap=$(timeout 10 "$SHOAL_BIN/shoal-monitor" --json --broker "$FRONTEND" --progress "$PROGRESS" | head -n 1 || true)
bad=$(jq -r .cluster.bad_messages <<<"$snap")
frames=$(sed 's/.*frames=\([0-9]*\).*/\1/' "$T_DIR/rogue.out")
[ "$bad" -gt $((frames / 2)) ] || t_fail "bad_messages $bad for $frames rogue frames"
t_log "ok: bad_messages = $bad for $frames rogue frames (the rest: stale results, phantom Hellos, junk libzmq itself refused)"
# a flood of junk is not a flood of log lines (30 a minute per kind)
lines=$(grep -c 'msg=bad_message' "$T_DIR/broker.log")
[ "$lines" -ge 1 ] && [ "$lines" -le 30 ] || t_fail "$lines bad_message lines logged: the log budget does not hold"
t_log "ok: $lines bad_message lines logged for $bad bad messages"

# and it still stops cleanly (under the sanitizer build: no leak either)
kill -TERM "${PID[broker]}"
t_wait "the broker exits" 30 t_exited "${PID[broker]}"
wait "${PID[broker]}" && rc=0 || rc=$?
unset 'PID[broker]'
t_assert_eq "broker exit status after SIGTERM" 0 "$rc"
grep -q 'msg=shutdown_complete' "$T_DIR/broker.log" || t_fail "no shutdown_complete"
t_log "pass"
