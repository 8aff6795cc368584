#!/usr/bin/env bash
# Issue 14, test 2: SIGSTOP the leader past its lease; the standby takes
# over; SIGCONT the old leader: it commits nothing more (no result batch of
# its term written after the takeover: shoal_batches keeps the last batch
# of every term with its time), notices it was deposed, closes its sockets
# and stands by; the job completes with one result row per task. The old
# leader has something to commit when it comes back: the workers, which
# reach both brokers while the frozen one still holds its port, sent it
# results meanwhile.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib_failover.sh"

t_db
fo_ports 2
fo_broker 1 --heartbeat-ms 200
fo_wait_leads 1
fo_broker 2 --heartbeat-ms 200
t_wait "broker 2 stands by" 30 grep -q "msg=role role=standby" "$T_DIR/b2.log"
for w in w1 w2 w3; do t_worker $w --slots 16; done
t_wait_workers 3

total=20000
job=$(shoal submit --count $total --sleep-ms 10 --name stop-leader -q)
t_wait "results flowing" 60 t_results_at_least "$job" 3000
term1=$(t_sql "SELECT term FROM shoal_leader")
kill -STOP "${PID[b1]}"
t_log "leader (term $term1) stopped with $(t_results "$job") results committed"
fo_wait_leads 2
term2=$(t_sql "SELECT term FROM shoal_leader")
[ "$term2" -gt "$term1" ] || t_fail "the term did not move on: $term1 -> $term2"
since=$(t_sql "SELECT since FROM shoal_leader")
t_log "broker 2 leads, term $term2 since $since"
# the new leader works with the workers before the old one comes back
at=$(t_results "$job")
t_wait "the new leader commits results" 60 t_results_at_least "$job" $((at + 1000))
kill -CONT "${PID[b1]}"
t_log "old leader continued"
t_wait "the old leader stands by" 30 grep -q "msg=role role=standby term=$term1" "$T_DIR/b1.log"
grep -E "msg=leadership_lost|msg=lease_lapsed" "$T_DIR/b1.log" | head -n 3 >&2
t_wait_done "$job" 120
t_assert_eq "result batches of term $term1 written after the takeover" 0 \
    "$(t_sql "SELECT count(*) FROM shoal_batches WHERE epoch = $term1 AND written_at >= '$since'")"
t_assert_eq "a batch of term $term1 before it (the evidence is kept)" 1 \
    "$(t_sql "SELECT count(*) FROM shoal_batches WHERE epoch = $term1")"
t_assert_one_result_each "$job" $total
t_assert_eq "the leader" "$term2" "$(t_sql "SELECT term FROM shoal_leader")"
kill -0 "${PID[b1]}" || t_fail "the deposed broker exited instead of standing by"
t_wait "the deposed broker watches the lease" 30 grep -q "msg=role role=standby leader=" "$T_DIR/b1.log"
t_log "pass"
