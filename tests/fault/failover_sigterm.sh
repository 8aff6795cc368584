#!/usr/bin/env bash
# Issue 14, test 3: SIGTERM the leader mid-job: it stores what it holds,
# resigns its lease and exits 0, and the standby takes over at once, not a
# lease TTL later: the lease here lasts 10 s, so a standby that waited it
# out would lead 10 s after the resignation at the soonest; the bound
# asserted (6 s) leaves a loaded machine room and still tells the two
# apart. The job completes with one result row per task.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib_failover.sh"

t_db
fo_ports 2
fo_broker 1 --lease-ttl-ms 10000 --lease-renew-ms 1000
fo_wait_leads 1
fo_broker 2 --lease-ttl-ms 10000 --lease-renew-ms 1000
t_wait "broker 2 stands by" 30 grep -q "msg=role role=standby" "$T_DIR/b2.log"
for w in w1 w2; do t_worker $w --slots 16; done
t_wait_workers 2

total=10000
job=$(shoal submit --count $total --sleep-ms 10 --name sigterm-leader -q)
t_wait "results flowing" 60 t_results_at_least "$job" 2000
term_ms=$(date +%s%3N)
kill -TERM "${PID[b1]}"
t_wait "the old leader exits" 30 t_exited "${PID[b1]}"
rc=0
wait "${PID[b1]}" || rc=$?
t_assert_eq "exit status of the resigned leader" 0 "$rc"
grep -q "msg=role role=resigned" "$T_DIR/b1.log" || t_fail "the leader did not resign: $(tail -n 3 "$T_DIR/b1.log")"
fo_wait_leads 2
lead_ms=$(fo_ms_of "$T_DIR/b2.log" 'msg=role role=leader')
took=$((lead_ms - term_ms))
t_log "hand-over: broker 2 leads $took ms after SIGTERM (lease TTL 10000 ms)"
[ "$took" -lt 6000 ] || t_fail "the hand-over took $took ms: the standby waited for the lease to lapse"
t_wait_done "$job" 120
t_assert_one_result_each "$job" $total
t_log "pass"
