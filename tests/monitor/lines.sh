#!/usr/bin/env bash
# --plain and --json as logs and scripts use them, started before anything
# else, through a job of noop and HTTP tasks with failures: every line
# parses, the progress numbers move, and the last ones match the database
# (counts, failures, HTTP status classes, top errors and failing hosts,
# per-worker counts, latency percentiles no lower than the tasks' sleep).
# The HTTP tasks go to closed ports: they fail with or without an HTTP
# executor in the worker, and count under "no response".
# Events say who joined and what finished; a killed broker is reported
# and so is its return.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 200 --liveness 5
"$SHOAL_BIN/shoal-monitor" --plain --interval-ms 300 --timeout-ms 1500 --broker "$FRONTEND" --progress "$PROGRESS" \
    > "$T_DIR/plain.out" 2> "$T_DIR/monitor-plain.log" &
PID[plain]=$!
"$SHOAL_BIN/shoal-monitor" --json --timeout-ms 1500 --broker "$FRONTEND" --progress "$PROGRESS" \
    > "$T_DIR/json.out" 2> "$T_DIR/monitor-json.log" &
PID[json]=$!
t_wait "--plain reached the broker" 20 grep -q " reachable" "$T_DIR/plain.out"
t_wait "--json has a snapshot" 20 grep -q '"type":"snapshot"' "$T_DIR/json.out"

t_worker w1 --slots 4
t_worker w2 --slots 4
t_wait_workers 2

# 1000 noop tasks of 25 ms, 40 that fail, 30 HTTP requests to closed ports
# on two hosts: one attempt each, so 70 tasks fail
{
    for i in $(seq 1 1000); do
        echo '{"kind": "noop", "sleep_ms": 25}'
        if [ $((i % 25)) = 0 ]; then echo '{"kind": "noop", "fail_until_attempt": 2}'; fi
        if [ $((i % 40)) = 0 ]; then echo "{\"url\": \"http://127.0.0.2:1/closed-$i\"}"; fi
        if [ $((i % 200)) = 0 ]; then echo "{\"url\": \"http://127.0.0.3:1/closed-$i\"}"; fi
    done
} > "$T_DIR/tasks.jsonl"
total=$(wc -l < "$T_DIR/tasks.jsonl")
job=$(shoal submit "$T_DIR/tasks.jsonl" --name lines --max-attempts 1 -q)
t_wait_done "$job" 120
t_wait "--plain printed the final line" 10 grep -q "job=$job .* state=done" "$T_DIR/plain.out"
last_json() { grep '"type":"snapshot"' "$T_DIR/json.out" | tail -n 1 | jq -c --argjson j "$job" '.jobs[] | select(.id == $j)'; }
json_done() { [ "$(last_json | jq -r .state)" = done ]; }
t_wait "--json printed the final snapshot" 10 json_done

ok=$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok'")
failed=$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'failed'")
t_assert_one_result_each "$job" "$total"
t_assert_eq "failed rows" 70 "$failed"

# ---- --plain: every line has the documented shape; numbers move; the
#      final line is printed once and says what the database says
bad=$(grep -cvE '^[0-9]{2}:[0-9]{2}:[0-9]{2} (job=[0-9]+ name="[^"]*" state=[a-z]+ done=[0-9,]+ total=[0-9,]+ pct=[0-9.]+ failed=[0-9,]+ cancelled=[0-9,]+ queued=[0-9]+ running=[0-9]+ rate=[0-9.]+k?/s eta=[^ ]+ p50=[^ ]+ p95=[^ ]+ p99=[^ ]+|idle workers=[0-9]+ slots=[0-9]+ busy=[0-9]+ rate=[^ ]+|event .*|broker [^ ]+ (reachable|unreachable)|leader broker [^ ]+  role [a-z]+  term [0-9]+  since [0-9-]+ [0-9:]+(  after [^ ]+)?)$' "$T_DIR/plain.out" || true)
t_assert_eq "--plain lines of another shape" 0 "$bad"
grep "job=$job " "$T_DIR/plain.out" | sed 's/.* done=\([0-9,]*\) .*/\1/' | tr -d , > "$T_DIR/plain.done"
sort -n -c "$T_DIR/plain.done" || t_fail "--plain done counts went backwards: $(tr '\n' ' ' < "$T_DIR/plain.done")"
moving=$(awk -v t="$total" '$1 > 0 && $1 < t' "$T_DIR/plain.done" | sort -u | wc -l)
[ "$moving" -ge 2 ] || t_fail "--plain showed $moving distinct counts while the job ran: $(tr '\n' ' ' < "$T_DIR/plain.done")"
t_assert_eq "--plain final lines" 1 "$(grep -c "job=$job .* state=done" "$T_DIR/plain.out")"
final=$(grep "job=$job .* state=done" "$T_DIR/plain.out")
field() { sed "s/.* $1=\([^ ]*\).*/\1/" <<<"$final" | tr -d ,; }
t_assert_eq "--plain done" "$(t_results "$job")" "$(field done)"
t_assert_eq "--plain total" "$total" "$(field total)"
t_assert_eq "--plain failed" "$failed" "$(field failed)"
t_assert_eq "--plain pct" 100.0 "$(field pct)"
grep -q "event worker w1 joined from .* with 4 slots" "$T_DIR/plain.out" || t_fail "--plain: no event for w1 joining"
grep -q "event job $job done: $ok ok, $failed failed, 0 cancelled" "$T_DIR/plain.out" \
    || t_fail "--plain: no event for the job finishing"

# ---- --json: every line is one JSON object; numbers move; the last
#      snapshot says what the database says
jq -e -s 'all(.[]; type == "object" and (.type | IN("snapshot", "event", "broker")))' "$T_DIR/json.out" > /dev/null \
    || t_fail "--json: a line is not a snapshot, event or broker object"
grep '"type":"snapshot"' "$T_DIR/json.out" | jq -r --argjson j "$job" '.jobs[] | select(.id == $j) | .ok + .failed + .cancelled' \
    > "$T_DIR/json.done"
sort -n -c "$T_DIR/json.done" || t_fail "--json done counts went backwards"
moving=$(awk -v t="$total" '$1 > 0 && $1 < t' "$T_DIR/json.done" | sort -u | wc -l)
[ "$moving" -ge 3 ] || t_fail "--json showed $moving distinct counts while the job ran"
t_assert_eq "--json snapshot seqs are distinct" 0 \
    "$(grep '"type":"snapshot"' "$T_DIR/json.out" | jq .seq | sort | uniq -d | wc -l)"
running=$(grep '"type":"snapshot"' "$T_DIR/json.out" | jq -c --argjson j "$job" '.jobs[] | select(.id == $j and .state == "active" and .ok > 0)')
[ -n "$running" ] || t_fail "--json: no snapshot while the job ran"
jq -e -s 'any(.[]; .rate > 0 and .eta_ms > 0)' <<<"$running" > /dev/null || t_fail "--json: never a rate and an ETA while running"
j=$(last_json)
t_assert_eq "--json ok" "$ok" "$(jq .ok <<<"$j")"
t_assert_eq "--json failed" "$failed" "$(jq .failed <<<"$j")"
t_assert_eq "--json total, queued, running" "$total 0 0" "$(jq -r '"\(.total) \(.queued) \(.running)"' <<<"$j")"
t_assert_eq "--json HTTP classes (none 2xx 4xx 5xx)" \
    "$(t_sql "SELECT count(*) FILTER (WHERE r.http_status IS NULL AND t.kind = 'http') || ' ' ||
                     count(*) FILTER (WHERE r.http_status / 100 = 2) || ' ' || count(*) FILTER (WHERE r.http_status / 100 = 4)
                     || ' ' || count(*) FILTER (WHERE r.http_status / 100 = 5)
              FROM results r JOIN tasks t USING (job_id, seq) WHERE job_id = $job")" \
    "$(jq -r '.http_status | "\(.none) \(."2xx") \(."4xx") \(."5xx")"' <<<"$j")"
jq -e '[.top_failing_hosts[] | [(.name | test("^127\\.0\\.0\\.[23](:1)?$")), .count]] == [[true, 25], [true, 5]]
       and (.top_failing_hosts[0].name | startswith("127.0.0.2"))' <<<"$j" > /dev/null \
    || t_fail "--json top failing hosts: $(jq -c .top_failing_hosts <<<"$j")"
t_assert_eq "--json top error counts" "$(t_sql "SELECT string_agg(n::text, ' ' ORDER BY n DESC) FROM
        (SELECT left(error, 95), count(*) AS n FROM results WHERE job_id = $job AND outcome = 'failed' GROUP BY 1 ORDER BY 2 DESC LIMIT 5) e")" \
    "$(jq -r '[.top_errors[].count] | join(" ")' <<<"$j")"
t_assert_eq "--json top error" "$(t_sql "SELECT left(error, 95) FROM results WHERE job_id = $job AND outcome = 'failed'
        GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")" "$(jq -r '.top_errors[0].name' <<<"$j")"
jq -e '.p50_us >= 25000 and .p50_us <= .p95_us and .p95_us <= .p99_us' <<<"$j" > /dev/null \
    || t_fail "--json latency percentiles: $(jq -c '[.p50_us, .p95_us, .p99_us]' <<<"$j")"
snap=$(grep '"type":"snapshot"' "$T_DIR/json.out" | tail -n 1)
t_assert_eq "--json cluster workers/slots" "2 8" "$(jq -r '.cluster | "\(.workers) \(.slots)"' <<<"$snap")"
for w in w1 w2; do
    t_assert_eq "--json $w done/failed" \
        "$(t_sql "SELECT count(*) FILTER (WHERE outcome = 'ok') || ' ' || count(*) FILTER (WHERE outcome = 'failed') FROM results WHERE job_id = $job AND worker = '$w'")" \
        "$(jq -r --arg w $w '.workers[] | select(.id == $w) | "\(.done) \(.failed)"' <<<"$snap")"
done
t_assert_eq "--json worker_joined events (id, slots)" "w1 4,w2 4" \
    "$(jq -r 'select(.type == "event" and .event == "worker_joined") | "\(.worker) \(.count)"' "$T_DIR/json.out" | sort | paste -sd,)"
t_assert_eq "--json job_finished event" "$total" \
    "$(jq -r --argjson j "$job" 'select(.type == "event" and .event == "job_finished" and .job == $j) | .count' "$T_DIR/json.out")"
sampled=$(jq -r --argjson j "$job" 'select(.type == "event" and .event == "task_failed" and .job == $j) | .job' "$T_DIR/json.out" | wc -l)
[ "$sampled" -ge 1 ] && [ "$sampled" -le 70 ] || t_fail "--json: $sampled task_failed events for 70 failures"

# ---- the broker dies and comes back: both say so
kill -9 "${PID[broker]}"
t_wait "--plain says unreachable" 10 grep -q " unreachable$" "$T_DIR/plain.out"
t_wait "--json says unreachable" 10 grep -q '"type":"broker","reachable":false' "$T_DIR/json.out"
t_broker --heartbeat-ms 200 --liveness 5
t_wait "--plain says reachable again" 20 bash -c "tail -n 20 '$T_DIR/plain.out' | grep -q ' reachable$'"
t_wait "--json says reachable again" 20 grep -q '"type":"broker","reachable":true' "$T_DIR/json.out"
# and they stop on SIGTERM with status 0
kill -TERM "${PID[plain]}" "${PID[json]}"
wait "${PID[plain]}" || t_fail "--plain exited with $?"
wait "${PID[json]}" || t_fail "--json exited with $?"
unset "PID[plain]" "PID[json]"
t_log "pass: $(wc -l < "$T_DIR/plain.out") plain lines, $(wc -l < "$T_DIR/json.out") JSON lines"
