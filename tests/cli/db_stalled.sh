#!/usr/bin/env bash
# A broker whose database does not answer (a table locked by another
# session) is not "unreachable": a request that waits on the database
# ends after --broker-timeout-ms with exit 5 and a message saying the
# broker answers but its database does not, while a stopped broker
# (SIGSTOP) is still exit 4, "no answer from the broker". When the lock
# goes, the same requests work again.
. "$(dirname "$0")/helpers.bash"

TIMEOUT_MS=1500
t_db
t_broker --heartbeat-ms 100 --liveness 5
t_worker w1 --slots 8
t_wait_workers 1
job=$(shoal submit --count 20 --name before-the-lock -q)
t_wait_done "$job" 60

# another session holds an ACCESS EXCLUSIVE lock on jobs and results
psql "$DB" -qAtX > "$T_DIR/locker.out" 2>&1 <<'SQL' &
BEGIN;
LOCK TABLE jobs, results IN ACCESS EXCLUSIVE MODE;
SELECT 'locked ' || pg_backend_pid();
SELECT pg_sleep(600);
SQL
PID[locker]=$!
t_wait "the lock taken" 30 grep -q locked "$T_DIR/locker.out"

# requests that wait on the locked tables (a job the broker does not hold
# in memory, the job list, a results page, a pause) and a submit
for c in "jobs" "status 999" "results $job" "pause $job" "submit --count 10"; do
    # shellcheck disable=SC2086
    t_run stalled timeout 60 "$SHOAL_BIN/shoal" --broker-timeout-ms $TIMEOUT_MS $c
    [ "$RC" != 124 ] || t_fail "'shoal $c' hung"
    t_rc "'shoal $c' while the database does not answer" 5
    t_grep "'shoal $c' says the broker answers and its database does not" \
        "the broker at $FRONTEND answers, but its database did not answer within $TIMEOUT_MS ms" "$T_DIR/stalled.err"
    t_nogrep "'shoal $c' does not call the broker unreachable" "is shoal-broker running there" "$T_DIR/stalled.err"
done
# the worker list needs no database: it answers at once
t_run workers "$SHOAL_BIN/shoal" --broker-timeout-ms $TIMEOUT_MS -o json workers
t_rc "'shoal workers' while the database does not answer" 0

# a stopped broker is still unreachable
kill -STOP "${PID[broker]}"
t_run stopped timeout 60 "$SHOAL_BIN/shoal" --broker-timeout-ms $TIMEOUT_MS jobs
kill -CONT "${PID[broker]}"
t_rc "'shoal jobs' when the broker is stopped" 4
t_grep "names the broker as silent" "(cannot reach|no answer from) the broker at $FRONTEND" "$T_DIR/stopped.err"

locker=$(sed -n 's/^locked //p' "$T_DIR/locker.out")
t_sql "SELECT pg_terminate_backend($locker)" >/dev/null
t_wait "the lock released" 30 t_exited "${PID[locker]}"
unset 'PID[locker]'
t_run after "$SHOAL_BIN/shoal" --broker-timeout-ms 10000 -o json status "$job"
t_rc "status after the lock" 0
t_log "pass"
