#!/usr/bin/env bash
# /metrics scraped by a real Prometheus: after a job, PromQL over its HTTP
# API gives shoal_tasks_total equal to the SQL counts; `promtool check
# metrics` is clean; the counters do not go backwards when the gateway and
# the broker restart (Prometheus sees no reset): the per-job task counts,
# the HTTP status classes and the histograms (persisted by the broker with
# each result batch); nor does a job's failed count after `retry` of it.
. "$(dirname "$0")/helpers.bash"
command -v prometheus >/dev/null || t_skip "prometheus not installed (scripts/deps.sh test)"

t_db
t_broker
t_worker w1 --slots 8
t_wait_workers 1
t_gateway
t_wait "gateway healthy" 20 t_healthy

# ok tasks, failed tasks (one attempt), tasks that succeed on their 2nd attempt
{
    for i in $(seq 1 300); do echo '{"kind":"noop"}'; done
    for i in $(seq 1 20); do echo '{"kind":"noop","fail_until_attempt":9,"max_attempts":1}'; done
    for i in $(seq 1 10); do echo '{"kind":"noop","fail_until_attempt":2,"max_attempts":3,"backoff_ms":10,"backoff_max_ms":10}'; done
} > "$T_DIR/tasks.ndjson"
t_http submit POST "/v1/jobs?name=metrics" -H 'Content-Type: application/x-ndjson' --data-binary @"$T_DIR/tasks.ndjson"
t_code "submit" 201
job=$(jq -r .job "$T_DIR/submit.body")
t_wait_done "$job" 60

# ---- the exposition format is clean
t_http metrics GET /metrics
t_code "GET /metrics" 200
promtool check metrics < "$T_DIR/metrics.body" > "$T_DIR/promtool.out" 2>&1 || t_fail "promtool: $(cat "$T_DIR/promtool.out")"
[ ! -s "$T_DIR/promtool.out" ] || t_fail "promtool reports: $(cat "$T_DIR/promtool.out")"
t_log "ok: promtool check metrics is clean"
CODE=$(curl -s -o /dev/null -w '%{http_code}' "$GW/metrics")
t_code "/metrics without a token" 401

# ---- a real Prometheus scrapes it
printf '%s' "$TOKEN" > "$T_DIR/prom-token"
cat > "$T_DIR/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: shoal
    authorization:
      credentials_file: $T_DIR/prom-token
    static_configs:
      - targets: ['127.0.0.1:$GW_PORT']
YML
promtool check config "$T_DIR/prometheus.yml" >/dev/null || t_fail "prometheus.yml does not check"
PROM_PORT=$(t_port)
prometheus --config.file="$T_DIR/prometheus.yml" --storage.tsdb.path="$T_DIR/tsdb" \
    --web.listen-address="127.0.0.1:$PROM_PORT" >"$T_DIR/prometheus.log" 2>&1 &
PID[prometheus]=$!
PROM=http://127.0.0.1:$PROM_PORT
t_wait "prometheus ready" 60 curl -sf "$PROM/-/ready"
promql() { curl -s "$PROM/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // "none"'; }
promql_eq() { [ "$(promql "$1")" = "$2" ]; }

# (Prometheus keeps its own `job` label, the target's, and stores ours as
# exported_job)
ok=$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok'")
failed=$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'failed'")
retries=$(t_sql "SELECT n_retries FROM jobs WHERE id = $job")
t_assert_eq "SQL: ok results" 310 "$ok"
t_assert_eq "SQL: failed results" 20 "$failed"
t_wait "PromQL shoal_tasks_total ok = $ok" 60 promql_eq "shoal_tasks_total{exported_job=\"$job\",outcome=\"ok\"}" "$ok"
t_assert_eq "PromQL failed" "$failed" "$(promql "shoal_tasks_total{exported_job=\"$job\",outcome=\"failed\"}")"
t_assert_eq "PromQL sum over outcomes = tasks" 330 "$(promql "sum(shoal_tasks_total{exported_job=\"$job\"})")"
t_assert_eq "PromQL retries = jobs.n_retries" "$retries" "$(promql shoal_task_retries_total)"
t_assert_eq "PromQL workers" 1 "$(promql shoal_workers)"
t_assert_eq "PromQL slots" 8 "$(promql shoal_worker_slots)"
t_assert_eq "PromQL broker up" 1 "$(promql shoal_broker_up)"
t_assert_eq "PromQL scrape health" 1 "$(promql 'up{job="shoal"}')"
# the histograms count every finished task (since the broker started)
t_assert_eq "duration histogram count = results" 330 "$(promql shoal_task_duration_seconds_count)"
t_assert_eq "wait histogram count = results" 330 "$(promql shoal_task_wait_seconds_count)"
t_assert_eq "duration +Inf bucket = count" 330 "$(promql 'shoal_task_duration_seconds_bucket{le="+Inf"}')"
p99=$(promql 'histogram_quantile(0.99, shoal_task_duration_seconds_bucket)')
awk -v q="$p99" 'BEGIN { exit !(q > 0 && q <= 0.25) }' || t_fail "p99 of noop tasks is $p99 s"
t_log "ok: PromQL histogram_quantile(0.99) of task durations = ${p99}s"

# ---- HTTP tasks: status classes (a second job, so the figures above stay exact)
t_fault_server
F="http://127.0.0.1:$FAULT_PORT"
{
    for i in $(seq 1 20); do echo "{\"url\": \"$F/status/200?i=$i\"}"; done
    for i in $(seq 1 5); do echo "{\"url\": \"$F/status/404?i=$i\", \"max_attempts\": 1}"; done
} > "$T_DIR/http.ndjson"
t_http submit2 POST "/v1/jobs?name=metrics-http" -H 'Content-Type: application/x-ndjson' --data-binary @"$T_DIR/http.ndjson"
t_code "submit of the HTTP job" 201
job2=$(jq -r .job "$T_DIR/submit2.body")
t_wait_done "$job2" 60
c2xx=$(t_sql "SELECT count(*) FROM results WHERE job_id = $job2 AND http_status BETWEEN 200 AND 299")
c4xx=$(t_sql "SELECT count(*) FROM results WHERE job_id = $job2 AND http_status BETWEEN 400 AND 499")
t_assert_eq "SQL: 2xx results" 20 "$c2xx"
t_assert_eq "SQL: 4xx results" 5 "$c4xx"
t_wait "PromQL 2xx = $c2xx" 60 promql_eq 'shoal_http_responses_total{class="2xx"}' "$c2xx"
t_assert_eq "PromQL 4xx" "$c4xx" "$(promql 'shoal_http_responses_total{class="4xx"}')"
t_wait "PromQL duration count = 355" 30 promql_eq shoal_task_duration_seconds_count 355
t_assert_eq "wait histogram count" 355 "$(promql shoal_task_wait_seconds_count)"
dsum=$(promql shoal_task_duration_seconds_sum)
awk -v s="$dsum" 'BEGIN { exit !(s > 0) }' || t_fail "duration sum is $dsum"

# ---- restarts: the broker and the gateway; the counters carry on
kill -9 "${PID[gateway]}"; wait "${PID[gateway]}" 2>/dev/null || true
kill -9 "${PID[broker]}"; wait "${PID[broker]}" 2>/dev/null || true
t_wait "Prometheus sees the gateway down" 30 promql_eq 'up{job="shoal"}' 0
t_broker
t_gateway
t_wait "gateway healthy again" 30 t_healthy
t_wait "broker up again in Prometheus" 30 promql_eq shoal_broker_up 1
t_assert_eq "ok after the restarts" "$ok" "$(promql "shoal_tasks_total{exported_job=\"$job\",outcome=\"ok\"}")"
t_assert_eq "no counter reset seen" 0 "$(promql 'sum(resets(shoal_tasks_total[10m])) + sum(resets(shoal_task_retries_total[10m]))')"
# the broker-wide counters come back from the database, not from zero
t_assert_eq "2xx after the restarts" "$c2xx" "$(promql 'shoal_http_responses_total{class="2xx"}')"
t_assert_eq "4xx after the restarts" "$c4xx" "$(promql 'shoal_http_responses_total{class="4xx"}')"
t_assert_eq "duration count after the restarts" 355 "$(promql shoal_task_duration_seconds_count)"
t_assert_eq "wait count after the restarts" 355 "$(promql shoal_task_wait_seconds_count)"
t_assert_eq "duration +Inf after the restarts" 355 "$(promql 'shoal_task_duration_seconds_bucket{le="+Inf"}')"
t_assert_eq "duration sum after the restarts" "$dsum" "$(promql shoal_task_duration_seconds_sum)"
t_assert_eq "no reset of the HTTP classes or the histograms" 0 "$(promql 'sum(resets(shoal_http_responses_total[10m]))
    + sum(resets(shoal_task_duration_seconds_count[10m])) + sum(resets(shoal_task_wait_seconds_count[10m]))
    + sum(resets(shoal_task_duration_seconds_bucket[10m])) + sum(resets(shoal_task_wait_seconds_bucket[10m]))')"
t_log "ok: HTTP classes and histograms carried across the broker restart"

# ---- retry of the failed tasks: the failed counter keeps them. The worker
# is stopped first, so that the retried tasks wait and the scrapes see the
# job between the retry and the tasks' second results.
t_wait_workers 1
kill -TERM "${PID[w1]}"; wait "${PID[w1]}" 2>/dev/null || true
t_wait_workers 0
t_http retry POST "/v1/jobs/$job/retry"
t_code "retry of the failed tasks" 200
t_assert_eq "tasks retried" "$failed" "$(jq -r .affected "$T_DIR/retry.body")"
t_wait "PromQL sees the retried tasks queued" 30 promql_eq "shoal_tasks{exported_job=\"$job\",state=\"queued\"}" "$failed"
t_assert_eq "PromQL failed after the retry" "$failed" "$(promql "shoal_tasks_total{exported_job=\"$job\",outcome=\"failed\"}")"
t_worker w1 --slots 8
t_wait_workers 1
t_wait_done "$job" 60
t_assert_eq "SQL: failed results after the second run" "$failed" \
    "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'failed'")"
t_assert_eq "SQL: n_failed_total counts both runs" $((2 * failed)) "$(t_sql "SELECT n_failed_total FROM jobs WHERE id = $job")"
t_wait "PromQL failed = both runs" 30 promql_eq "shoal_tasks_total{exported_job=\"$job\",outcome=\"failed\"}" $((2 * failed))
t_assert_eq "no reset after the retry" 0 "$(promql 'sum(resets(shoal_tasks_total[10m]))')"
t_log "PASS"
