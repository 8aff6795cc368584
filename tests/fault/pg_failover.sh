#!/usr/bin/env bash
# PostgreSQL failover under a running job (docs/postgres-ha.md): the broker
# is given a multi-host URI with target_session_attrs=read-write over a
# primary and a synchronous streaming standby. Mid-job the primary is
# stopped with -m immediate and the standby promoted: the same broker
# process (no restart) reconnects to the new primary, the job completes,
# and nothing acknowledged is lost: every task of the acknowledged submit
# is there, every result the broker acked to a worker is there as that
# worker's row, and no task ran twice. A submit after the promotion is
# taken and runs too. 6,000 tasks of 20 ms on 16 slots: about 8 s of work,
# enough to stop the primary with a third done.
. "$(dirname "$0")/../lib.sh"

t_db_replicated
t_broker --heartbeat-ms 100 --liveness 5
t_worker w1 --slots 8 --log-level debug
t_worker w2 --slots 8 --log-level debug
t_wait_workers 2

total=6000
job=$(shoal submit --count $total --sleep-ms 20 --name failover -q)
t_log "submitted job $job ($total tasks), acknowledged"
t_wait "results flowing" 60 t_results_at_least "$job" 1500

"$T_SCRIPTS/pg-sandbox.sh" stop "$T_PG_PRIMARY" immediate
t_log "primary stopped (immediate)"
# what the workers had been told was committed, before the promotion
grep -h 'msg=result_acked' "$T_DIR/w1.log" "$T_DIR/w2.log" | wc -l > "$T_DIR/acked_before"
t_wait "the broker notices" 30 grep -q "msg=db_down" "$T_DIR/broker.log"
"$T_SCRIPTS/pg-sandbox.sh" promote "$T_PG_STANDBY"
t_log "standby promoted"
t_assert_eq "in recovery, the promoted standby" f \
    "$(psql "$("$T_SCRIPTS/pg-sandbox.sh" uri "$T_PG_STANDBY")" -qAtX -c 'SELECT pg_is_in_recovery()')"

t_wait "the broker writes again" 60 grep -q "msg=db_up store=writer" "$T_DIR/broker.log"
job2=$(shoal submit --count 100 --name after-promotion -q)
t_wait_done "$job" 120
t_wait_done "$job2" 60
t_assert_eq "broker restarts" 1 "$(grep -c msg=broker_started "$T_DIR/broker.log")"

# the acknowledged submits: every task
t_assert_eq "tasks of job $job" $total "$(t_sql "SELECT count(*) FROM tasks WHERE job_id = $job")"
t_assert_one_result_each "$job" $total
t_assert_one_result_each "$job2" 100
# every result acked to a worker (before the stop and after): its row, by that worker
for w in w1 w2; do
    grep -h 'msg=result_acked' "$T_DIR/$w.log" | sed 's/.* task=\([0-9]*\)\/\([0-9]*\) .*/\1,\2,'$w'/' | sort -u > "$T_DIR/acked.$w"
done
sort -u "$T_DIR/acked.w1" "$T_DIR/acked.w2" > "$T_DIR/acked"
[ "$(cat "$T_DIR/acked_before")" -ge 1500 ] || t_fail "only $(cat "$T_DIR/acked_before") results acked before the stop"
t_log "ok: $(cat "$T_DIR/acked_before") results acked before the stop, $(wc -l < "$T_DIR/acked") in all"
t_sql "COPY (SELECT job_id, seq, worker FROM results) TO STDOUT WITH (FORMAT csv)" | sort -u > "$T_DIR/stored"
t_assert_eq "acked results missing from the new primary" 0 "$(comm -23 "$T_DIR/acked" "$T_DIR/stored" | wc -l)"
grep -h 'msg=task_started' "$T_DIR/w1.log" "$T_DIR/w2.log" | sed 's/.*task=\([^ ]*\).*/\1/' | sort > "$T_DIR/started"
t_assert_eq "tasks started twice" 0 "$(uniq -d "$T_DIR/started" | wc -l)"
t_assert_eq "failed" 0 "$(t_sql "SELECT count(*) FROM results WHERE outcome <> 'ok'")"
t_log "pass"
