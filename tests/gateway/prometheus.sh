#!/usr/bin/env bash
# /metrics scraped by a real Prometheus: after a job, PromQL over its HTTP
# API gives shoal_tasks_total equal to the SQL counts; `promtool check
# metrics` is clean; the counters do not go backwards when the gateway and
# the broker restart (Prometheus sees no reset).
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
t_log "PASS"
