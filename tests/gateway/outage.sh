#!/usr/bin/env bash
# The broker goes away: /healthz says 503 with the reason and every API
# route answers 503 quickly (the gateway waits --down-timeout-ms, not the
# 30 s broker timeout); the broker comes back on the same ports and
# everything works again without restarting the gateway.
. "$(dirname "$0")/helpers.bash"

t_db
t_broker
t_worker w1 --slots 4
t_wait_workers 1
t_gateway --broker-timeout-ms 30000
t_wait "gateway healthy" 20 t_healthy
t_http before POST /v1/jobs -H 'Content-Type: application/json' -d '{"tasks":[{"kind":"noop"}]}'
t_code "submit with the broker up" 201
feed_up() { grep -q 'msg=broker_up' "$T_DIR/gateway.log"; }
t_wait "the gateway hears the progress feed" 20 feed_up

kill -9 "${PID[broker]}"; wait "${PID[broker]}" 2>/dev/null || true
unset 'PID[broker]'
t_log "broker killed"
hz() { curl -s -o "$T_DIR/hz.body" -w '%{http_code}' --max-time 8 "$GW/healthz"; }
t_wait "/healthz 503" 20 t_test_eq 503 hz
t_assert_eq "healthz status" unavailable "$(jq -r .status "$T_DIR/hz.body")"
grep -q unreachable "$T_DIR/hz.body" || t_fail "no reason in $(cat "$T_DIR/hz.body")"
# once the progress feed is silent the routes stop waiting the 30 s timeout;
# curl gives up after 8 s, so a hang shows as 000
feed_down() { grep -q 'msg=broker_down' "$T_DIR/gateway.log"; }
t_wait "the gateway sees the feed stop" 20 feed_down
for route in "GET /v1/jobs" "GET /v1/jobs/1" "GET /v1/workers" "GET /v1/jobs/1/results" "POST /v1/jobs/1/pause" \
             "GET /v1/jobs/1/events"; do
    set -- $route
    t_http down "$1" "$2" --max-time 8
    t_code "$route with the broker down" 503
done
t_http down POST /v1/jobs -H 'Content-Type: application/json' -d '{"tasks":[{"kind":"noop"}]}' --max-time 8
t_code "POST /v1/jobs with the broker down" 503
t_http downnd POST '/v1/jobs?key=nd-1' -H 'Content-Type: application/x-ndjson' --data-binary '{"kind":"noop"}' --max-time 8
t_code "NDJSON POST with the broker down" 503

# /metrics still answers, with the broker marked down and no task series
t_http m GET /metrics --max-time 8
t_code "/metrics with the broker down" 200
grep -q '^shoal_broker_up 0$' "$T_DIR/m.body" || t_fail "shoal_broker_up is not 0: $(head -c 300 "$T_DIR/m.body")"
! grep -q '^shoal_tasks_total' "$T_DIR/m.body" || t_fail "task counters served while the broker is down"
t_log "ok: /metrics says shoal_broker_up 0"

# back on the same ports: the same gateway process serves again
t_broker
t_wait "/healthz 200 again" 30 t_healthy
t_http after POST /v1/jobs -H 'Content-Type: application/json' -d '{"key":"after-1","tasks":[{"kind":"noop"},{"kind":"noop"}]}'
t_code "submit after the broker is back" 201
job=$(jq -r .job "$T_DIR/after.body")
t_wait_done "$job" 60
t_http status GET "/v1/jobs/$job"
t_code "status after the broker is back" 200
t_assert_eq "job done" done "$(jq -r .state "$T_DIR/status.body")"
t_http metrics GET /metrics
grep -q '^shoal_broker_up 1$' "$T_DIR/metrics.body" || t_fail "shoal_broker_up is not 1 after the broker came back"
t_log "PASS"
