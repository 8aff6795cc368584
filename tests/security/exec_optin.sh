#!/usr/bin/env bash
# exec tasks run commands, so only a worker started with --allow-exec gets
# them. One job mixes exec and noop tasks; a worker without the opt-in (and
# with every slot free) runs noop tasks and never receives an exec task.
# Asking for the exec kind without the opt-in is refused at start.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 100 --liveness 5

# --kinds exec without --allow-exec: refused, with the reason
"$SHOAL_BIN/shoal-worker" --broker "$BACKEND" --kinds noop,exec >"$T_DIR/refused.log" 2>&1 && t_fail "a worker took exec without --allow-exec"
grep -q "msg=exec_not_allowed" "$T_DIR/refused.log" || t_fail "no exec_not_allowed line"
t_log "ok: --kinds exec without --allow-exec is refused"

t_worker cautious --slots 32 --log-level debug
t_worker opted-in --slots 1 --log-level debug --allow-exec
t_wait_workers 2
t_assert_eq "kinds of cautious" '["noop","http"]' "$(shoal -o json workers | jq -c '.[] | select(.id == "cautious") | .kinds')"
shoal -o json workers | jq -e '.[] | select(.id == "opted-in") | .kinds | index("exec")' >/dev/null \
    || t_fail "opted-in does not announce exec"

# 40 exec tasks between 40 noop tasks; the opted-in worker has one slot, so
# exec tasks wait in the queue while the cautious one has 32 free slots
for i in $(seq 1 40); do
    echo '{"argv": ["true"]}'
    echo '{"kind": "noop", "sleep_ms": 20}'
done > "$T_DIR/mixed.jsonl"
job=$(shoal submit --format jsonl --name exec-optin --max-attempts 1 -q "$T_DIR/mixed.jsonl")
t_wait_done "$job" 120
t_assert_one_result_each "$job" 80

t_assert_eq "exec tasks run by someone else than opted-in" 0 "$(t_sql "
    SELECT count(*) FROM results r JOIN tasks t USING (job_id, seq)
    WHERE r.job_id = $job AND t.kind = 'exec' AND r.worker IS DISTINCT FROM 'opted-in'")"
t_assert_eq "exec attempts on cautious" 0 "$(t_sql "
    SELECT count(*) FROM attempts a JOIN tasks t USING (job_id, seq)
    WHERE a.job_id = $job AND t.kind = 'exec' AND a.worker = 'cautious'")"
# the cautious worker did take part: it ran noop tasks of the same job
n=$(t_sql "SELECT count(*) FROM results r JOIN tasks t USING (job_id, seq)
           WHERE r.job_id = $job AND t.kind = 'noop' AND r.worker = 'cautious'")
[ "$n" -gt 0 ] || t_fail "cautious ran no noop task"
t_log "ok: cautious ran $n noop tasks and no exec task"
# and from the worker's own log: every task it started is a noop task
seqs=$(grep 'msg=task_started' "$T_DIR/cautious.log" | sed "s/.*task=$job\/\([0-9]*\) .*/\1/" | paste -sd, -)
[ -n "$seqs" ] || t_fail "no task_started lines in cautious.log"
t_assert_eq "exec tasks among those cautious started" 0 \
    "$(t_sql "SELECT count(*) FROM tasks WHERE job_id = $job AND seq IN ($seqs) AND kind <> 'noop'")"
t_log "pass"
