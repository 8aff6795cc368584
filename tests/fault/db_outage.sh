#!/usr/bin/env bash
# Stop PostgreSQL (-m immediate) mid-job and start it again: the broker
# keeps dispatching what it holds, keeps the results, refuses submits
# with a clear error meanwhile, and writes everything when the database
# is back: the job completes, nothing lost, no duplicates.
. "$(dirname "$0")/../lib.sh"

t_db private
t_broker --heartbeat-ms 100 --liveness 5 --window 4000
t_worker w1 --slots 16 --log-level debug
t_worker w2 --slots 16 --log-level debug
t_wait_workers 2

total=10000
job=$(shoal submit --count $total --sleep-ms 20 --name outage -q)
t_wait "results flowing" 60 t_results_at_least "$job" 500
"$T_SCRIPTS/pg-sandbox.sh" stop "$T_PRIVATE_PG" immediate
t_log "PostgreSQL stopped (immediate)"
t_wait "the broker notices" 30 grep -q "msg=write_failed" "$T_DIR/broker.log"

# dispatch goes on from memory while the database is away
done_before=$(shoal -o json workers | jq '[.[].done] | add')
t_wait "tasks still run" 30 bash -c "[ \$($SHOAL_BIN/shoal -o json workers | jq '[.[].done] | add') -gt $((done_before + 200)) ]"

# a submit is refused, never acknowledged unsaved
set +e
shoal submit --count 10 --name during-outage -q > "$T_DIR/refused.out" 2> "$T_DIR/refused.err"
rc=$?
set -e
t_assert_eq "submit exit status during the outage" 5 "$rc"
grep -qi "database unavailable" "$T_DIR/refused.err" || t_fail "no clear message: $(cat "$T_DIR/refused.err")"
t_log "ok: refused with: $(head -n 1 "$T_DIR/refused.err")"

# results wait for the database; the workers resend the overdue ones. The
# broker must not ack what it has not stored: kill it before the database
# returns, and the workers still hold every result it never wrote.
t_wait "workers resend overdue results" 30 grep -q "msg=results_resent" "$T_DIR/w1.log" "$T_DIR/w2.log"
kill -9 "${PID[broker]}"
t_log "broker killed while results waited for the database"
"$T_SCRIPTS/pg-sandbox.sh" restart "$T_PRIVATE_PG"
t_log "PostgreSQL started again"
# the restarted broker hands out nothing until both workers are back and
# have said what they run and hold (t_hold_jobs, tests/lib.sh), however
# slowly they reconnect on a loaded machine: no time window to trust
t_hold_jobs "$job"
t_broker --heartbeat-ms 100 --liveness 5 --window 4000
t_release_jobs 2 "$job"
t_wait_done "$job" 180
grep -h 'msg=task_started' "$T_DIR/w1.log" "$T_DIR/w2.log" | sed 's/.*task=\([^ ]*\).*/\1/' | sort > "$T_DIR/started"
t_assert_eq "tasks started twice" 0 "$(uniq -d "$T_DIR/started" | wc -l)"
t_assert_one_result_each "$job" $total
t_assert_eq "failed" 0 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome <> 'ok'")"
t_assert_eq "jobs (the refused submit left none)" 1 "$(t_sql "SELECT count(*) FROM jobs")"
t_log "pass"
