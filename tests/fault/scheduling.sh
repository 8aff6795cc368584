#!/usr/bin/env bash
# Credits and fair share: a worker never holds more tasks than its slots;
# two jobs with priorities 1 and 3 share the workers about 1:3 while both
# have work.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 200 --liveness 5
# job 1: a paused job gets nothing (paused before any worker is there to
# run its task, which would otherwise finish before the pause on a busy
# machine)
shoal pause "$(shoal submit --count 1 -q)" > /dev/null
# both jobs queued before any worker joins: they compete from the first task
low=$(shoal submit --count 3000 --sleep-ms 5 --priority 1 --name low -q)
high=$(shoal submit --count 3000 --sleep-ms 5 --priority 3 --name high -q)
t_worker w1 --slots 6
t_worker w2 --slots 6
t_wait_workers 2

over=0
until t_job_done "$high"; do
    busy=$(shoal -o json workers | jq -r '.[] | "\(.busy) \(.slots)"')
    while read -r b s; do [ "$b" -le "$s" ] || over=$((over + 1)); done <<<"$busy"
done
t_assert_eq "samples with a worker over its slots" 0 "$over"
# the first 2000 results, when both jobs had plenty queued
share=$(t_sql "SELECT string_agg(job_id || ':' || n, ' ' ORDER BY job_id) FROM
    (SELECT job_id, count(*) AS n FROM (SELECT job_id FROM results WHERE job_id IN ($low, $high)
     ORDER BY finished_at LIMIT 2000) f GROUP BY job_id) s")
t_log "first 2000 results by job: $share"
n_low=$(sed "s/.*$low:\([0-9]*\).*/\1/" <<<"$share")
n_high=$(sed "s/.*$high:\([0-9]*\).*/\1/" <<<"$share")
ratio=$(awk -v h="$n_high" -v l="$n_low" 'BEGIN { printf "%.2f", h / l }')
t_log "high:low = $ratio (priorities 3:1)"
awk -v r="$ratio" 'BEGIN { exit !(r > 2.4 && r < 3.6) }' || t_fail "share $ratio is not about 3"
t_assert_eq "the paused job's tasks run" 0 "$(t_sql "SELECT count(*) FROM results WHERE job_id = 1")"
t_wait_done "$low" 60

# within a job, task kinds take turns like hosts do: http tasks mixed into
# noop tasks do not wait for all of them
t_fault_server
{ for i in $(seq 1 600); do echo '{"kind": "noop", "sleep_ms": 5}'
      [ $((i % 10)) = 0 ] && echo "{\"url\": \"http://127.0.0.1:$FAULT_PORT/ok\"}"; done; } > "$T_DIR/mixed.jsonl"
mixed=$(shoal submit "$T_DIR/mixed.jsonl" --name mixed -q)
t_wait_done "$mixed" 60
early=$(t_sql "WITH r AS (SELECT kind, row_number() OVER (ORDER BY finished_at) AS n FROM results JOIN tasks USING (job_id, seq)
               WHERE job_id = $mixed) SELECT count(*) FROM r WHERE kind = 'http' AND n <= 330")
t_log "http tasks among the first half of the results: $early of 60"
[ "$early" -ge 15 ] || t_fail "http tasks waited for the noop tasks ($early of 60 in the first half)"
t_log "pass"
