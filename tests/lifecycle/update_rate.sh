#!/usr/bin/env bash
# shoal update --rate-per-host 0 clears a job's per-host rate (before, 0
# was taken for "not given": "nothing to change"). A job of 60 requests to
# one host at 0.5 a second would need two minutes; once the rate is
# cleared the rest go at once.
. "$(dirname "$0")/../lib.sh"

t_db
t_fault_server
t_broker --heartbeat-ms 200
t_worker w1 --slots 8
t_wait_workers 1
job=$(shoal submit --url-template "http://127.0.0.1:$FAULT_PORT/ok?n={1..60}" --rate-per-host 0.5 -q --name slow)
t_wait "the first requests" 30 t_results_at_least "$job" 2
early=$(t_results "$job")
[ "$early" -le 10 ] || t_fail "the rate did not hold: $early results already"
out=$(shoal update "$job" --rate-per-host 0) || t_fail "update --rate-per-host 0: $out"
t_log "$out"
echo "$out" | grep -q "rate_per_host=0" || t_fail "the update does not say what changed: $out"
t_assert_eq "logged" "rate_per_host=0" "$(t_sql "SELECT note FROM job_updates WHERE job_id = $job")"
# the rest within 30 s (at the old rate: over 100 s more)
t_wait_done "$job" 30
# a negative rate is refused, naming it
out=$(shoal update "$job" --rate-per-host -2 2>&1) && t_fail "a negative rate was taken"
echo "$out" | grep -q -- "--rate-per-host: -2 is negative" || t_fail "bad rate message: $out"
t_log "ok"
