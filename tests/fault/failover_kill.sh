#!/usr/bin/env bash
# Issue 14, test 1: two brokers on one database, three workers; kill -9 the
# leader mid-job. The standby takes over by itself (the takeover time is
# measured and printed; the 5 s target is recorded by bench/failover.sh in
# docs/benchmarks.md, here only a generous bound is asserted), the workers
# follow it on their broker list, the job completes with one result row per
# task, and no task ran twice, so none whose result was committed ran again
# (the attempts table has no row for the job: nothing was lost or retried).
# Scaled to 30,000 tasks instead of the issue's 300,000: the property does
# not depend on the size, and the suite has a time budget.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib_failover.sh"

t_db
fo_ports 2
fo_broker 1
fo_wait_leads 1
fo_broker 2
t_wait "broker 2 stands by" 30 grep -q "msg=role role=standby" "$T_DIR/b2.log"
grep -q "msg=listening" "$T_DIR/b2.log" && t_fail "the standby bound a socket"
for w in w1 w2 w3; do t_worker $w --slots 16 --log-level debug; done
t_wait_workers 3

total=30000
job=$(shoal submit --count $total --sleep-ms 10 --name failover -q)
t_wait "results flowing" 60 t_results_at_least "$job" 6000
# hold the job in the database: the new leader then hands out nothing
# before every worker has told it what it runs and holds (t_hold_jobs)
t_hold_jobs "$job"
at=$(t_results "$job")
kill_ms=$(date +%s%3N)
kill -9 "${PID[b1]}"
t_log "leader killed with $at of $total results committed"
[ "$at" -lt $total ] || t_fail "the job finished before the kill; nothing was tested"
fo_wait_leads 2
lead_ms=$(fo_ms_of "$T_DIR/b2.log" 'msg=role role=leader')
t_log "takeover: broker 2 leads $((lead_ms - kill_ms)) ms after kill -9 (lease TTL 3000 ms)"
[ $((lead_ms - kill_ms)) -lt 15000 ] || t_fail "takeover took $((lead_ms - kill_ms)) ms"
t_assert_eq "the new term in the database" "$(t_sql "SELECT term FROM shoal_leader")" \
    "$(sed -n 's/.*msg=role role=leader term=\([0-9]*\).*/\1/p' "$T_DIR/b2.log" | head -n 1)"
t_release_jobs 3 "$job"
# the CLI, given both brokers, says who answers: the new leader and its term
term=$(t_sql "SELECT term FROM shoal_leader")
shoal workers | head -n 1 | grep -qE "^broker [^ ]+  role leader  term $term  since .*  after " \
    || t_fail "shoal workers does not name the new leader: $(shoal workers | head -n 1)"
shoal status "$job" | tail -n 1 | grep -qE "^broker [^ ]+  role leader  term $term " \
    || t_fail "shoal status does not name the new leader: $(shoal status "$job" | tail -n 1)"
t_wait_done "$job" 180
grep -q "msg=broker_restarted" "$T_DIR/w1.log" || t_fail "worker 1 did not meet the new leader"
t_assert_one_result_each "$job" $total
grep -h 'msg=task_started' "$T_DIR"/w?.log | sed 's/.*task=\([^ ]*\).*/\1/' | sort > "$T_DIR/started"
t_assert_eq "tasks started twice" 0 "$(uniq -d "$T_DIR/started" | wc -l)"
t_assert_eq "attempts rows of the job" 0 "$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $job")"
t_log "pass"
