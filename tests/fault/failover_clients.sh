#!/usr/bin/env bash
# Issue 14, test 5: a `shoal submit` and a monitor, both given the list of
# the two brokers, run across a takeover (kill -9 of the leader): the
# submit gets no answer in time, asks whichever broker answers for the
# committed count by the job's key and goes on from there, and exits 0
# with every task committed once; the monitor shows the new leader, with
# the term and the broker it took over from.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib_failover.sh"

t_db
fo_ports 2
fo_broker 1
fo_wait_leads 1
fo_broker 2
t_wait "broker 2 stands by" 30 grep -q "msg=role role=standby" "$T_DIR/b2.log"

"$SHOAL_BIN/shoal-monitor" --plain --interval-ms 300 --timeout-ms 1500 > "$T_DIR/plain.out" \
    2> "$T_DIR/monitor.log" &
PID[monitor]=$!
t_wait "the monitor shows the leader" 20 grep -q " leader broker .* role leader  term 1 " "$T_DIR/plain.out"
b1=$(sed -n 's/.* leader broker \([^ ]*\) .*term 1 .*/\1/p' "$T_DIR/plain.out" | head -n 1)

total=200000
shoal submit --count $total --sleep-ms 1 --name across --key across-1 --chunk 200 --broker-timeout-ms 2000 \
    > "$T_DIR/submit.out" 2> "$T_DIR/submit.err" &
submit=$!
t_wait "some chunks committed" 30 bash -c "[ \$(psql '$DB' -qAtXc 'SELECT coalesce(sum(n_tasks),0) FROM jobs') -ge 4000 ]"
kill -9 "${PID[b1]}"
at=$(t_sql "SELECT n_tasks FROM jobs WHERE idem_key = 'across-1'")
t_log "leader killed with $at tasks of the submit committed"
[ "$at" -lt $total ] || t_fail "the submit finished before the kill; nothing was tested"
fo_wait_leads 2
rc=0
wait "$submit" || rc=$?
t_assert_eq "exit status of the submit across the takeover" 0 "$rc"
grep -q "asking the brokers" "$T_DIR/submit.err" || t_fail "the submit did not notice the takeover: $(cat "$T_DIR/submit.err")"
t_assert_eq "tasks committed" $total "$(t_sql "SELECT n_tasks FROM jobs WHERE idem_key = 'across-1'")"
t_assert_eq "task rows" $total "$(t_sql "SELECT count(*) FROM tasks")"
t_assert_eq "sealed" t "$(t_sql "SELECT sealed FROM jobs WHERE idem_key = 'across-1'")"
t_assert_eq "jobs" 1 "$(t_sql "SELECT count(*) FROM jobs")"
t_wait "the monitor shows the new leader" 30 grep -q " leader broker .* role leader  term 2 .* after $b1" "$T_DIR/plain.out"
t_log "monitor: $(grep ' leader broker' "$T_DIR/plain.out" | tail -n 1)"
kill -0 "${PID[monitor]}" || t_fail "the monitor exited"
t_log "pass"
