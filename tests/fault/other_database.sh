#!/usr/bin/env bash
# A lease names the database that issued it. Workers hold leases from a
# broker on database A; a broker on database B starts on the same ports
# (its job 1 has the same task ids, paused, never dispatched). B must store
# nothing for tasks it never handed out: the workers' results and held
# tasks are refused and counted as stale, B's job keeps no result rows.
. "$(dirname "$0")/../lib.sh"

t_db
DB_A=$DB
DB_B_NAME="${DB_NAME}_b"
psql "$SHOAL_TEST_PG" -qAtc "CREATE DATABASE $DB_B_NAME" >/dev/null
DB_B="${SHOAL_TEST_PG%/*}/$DB_B_NAME"
trap 'rc=$?; psql "$SHOAL_TEST_PG" -qAtc "DROP DATABASE IF EXISTS $DB_B_NAME WITH (FORCE)" >/dev/null 2>&1; (exit $rc); t_cleanup' EXIT

# B: job 1, paused before any worker exists
DB=$DB_B t_broker --heartbeat-ms 100 --liveness 5 --recovery-ms 500
job_b=$(shoal submit --count 8 --sleep-ms 1000 --name on-b -q)
shoal pause "$job_b" >/dev/null
kill -TERM "${PID[broker]}"
wait "${PID[broker]}" || true

# A on the same ports: its job 1 runs at the workers
DB=$DB_A t_broker --heartbeat-ms 100 --liveness 5 --recovery-ms 500
t_worker w1 --slots 8 --log-level debug
t_wait_workers 1
job_a=$(shoal submit --count 8 --sleep-ms 3000 --name on-a -q)
[ "$job_a" = "$job_b" ] || t_fail "the two jobs have different ids ($job_a, $job_b); nothing would be tested"
t_wait "A's tasks running" 30 t_busy_at_least w1 8
kill -9 "${PID[broker]}"
wait "${PID[broker]}" 2>/dev/null || true
t_log "broker on A killed with 8 tasks running under A's leases"

# B again, same ports: the worker says Hello with A's tasks, then sends their results
DB=$DB_B t_broker --heartbeat-ms 100 --liveness 5 --recovery-ms 500
t_wait "the worker rejoins B" 30 grep -q "msg=worker_rejoined worker=w1\|msg=worker_joined worker=w1" "$T_DIR/broker.log"
t_wait "A's 8 results refused by B as stale" 30 bash -c "[ \$(psql '$DB_B' -qAtXc 'SELECT n_stale FROM jobs WHERE id = $job_b') -ge 8 ]"
DB=$DB_B
t_assert_eq "result rows in B's job" 0 "$(t_results "$job_b")"
t_assert_eq "B's job" paused "$(t_job_state "$job_b")"
t_assert_eq "B's stale count in status" "$(t_sql "SELECT n_stale FROM jobs WHERE id = $job_b")" "$(shoal -o json status "$job_b" | jq .stale)"
t_log "pass"
