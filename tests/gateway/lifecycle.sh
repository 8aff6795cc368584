#!/usr/bin/env bash
# PATCH /v1/jobs/{id} changes a running job's defaults like shoal update
# (bad fields: 400 naming the field); DELETE /v1/jobs/{id} deletes a
# finished job like shoal delete, refuses an active one (409) unless
# ?cancel=1, and the job is gone from every route afterwards.
. "$(dirname "$0")/helpers.bash"

t_db
t_fault_server
t_broker --heartbeat-ms 200
t_worker w1 --slots 4
t_wait_workers 1
t_gateway
t_wait "gateway healthy" 20 t_healthy

# ---- PATCH: a job held to 0.5 requests a second, then freed
job=$(shoal submit --url-template "http://127.0.0.1:$FAULT_PORT/headers?n={1..40}" --rate-per-host 0.5 -q --name slow)
t_wait "the first requests" 30 t_results_at_least "$job" 1
t_http bad PATCH "/v1/jobs/$job" -H 'Content-Type: application/json' -d '{"timeout_ms": 5000, "colour": "red"}'
t_code "PATCH with an unknown field" 400
jq -r .error "$T_DIR/bad.body" | grep -q "unknown field 'colour'" || t_fail "unclear: $(t_body bad)"
t_http bad PATCH "/v1/jobs/$job" -H 'Content-Type: application/json' -d '{"timeout_ms": "soon"}'
t_code "PATCH with a wrong type" 400
jq -r .error "$T_DIR/bad.body" | grep -q "timeout_ms" || t_fail "the field is not named: $(t_body bad)"
t_http bad PATCH "/v1/jobs/$job" -H 'Content-Type: application/json' -d '{"priority": 0}'
t_code "PATCH with priority 0" 400
jq -r .error "$T_DIR/bad.body" | grep -q "priority" || t_fail "the field is not named: $(t_body bad)"
t_http bad PATCH "/v1/jobs/$job" -H 'Content-Type: application/json' -d '{}'
t_code "PATCH with nothing" 400
t_http bad PATCH "/v1/jobs/$job" -H 'Content-Type: application/json' -d '{"timeout_ms": '
t_code "PATCH that is not JSON" 400
t_http bad PATCH /v1/jobs/999999 -H 'Content-Type: application/json' -d '{"timeout_ms": 5000}'
t_code "PATCH of no job" 404
t_http patch PATCH "/v1/jobs/$job" -H 'Content-Type: application/json' \
    -d '{"headers": {"X-Session": "fresh"}, "rate_per_host": 0, "priority": 3, "timeout_ms": 20000}'
t_code "PATCH /v1/jobs/{id}" 200
t_log "$(t_body patch)"
t_assert_eq "what changed" "timeout_ms=20000; header X-Session; rate_per_host=0; priority=3" \
    "$(jq -r .last_update "$T_DIR/patch.body")"
t_assert_eq "the priority" 3 "$(jq -r .priority "$T_DIR/patch.body")"
t_assert_eq "logged" 1 "$(t_sql "SELECT count(*) FROM job_updates WHERE job_id = $job")"
# the rate is gone: the rest within 30 s (at 0.5/s over a minute), with the header
t_wait_done "$job" 30
fresh=$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND convert_from(body, 'UTF8') LIKE '%fresh%'")
[ "$fresh" -ge 20 ] || t_fail "only $fresh requests carried the new header"

# ---- DELETE: a done job
t_http del DELETE "/v1/jobs/$job"
t_code "DELETE /v1/jobs/{id}" 200
t_log "$(t_body del)"
t_assert_eq "tasks deleted" 40 "$(jq -r .tasks "$T_DIR/del.body")"
t_assert_eq "results deleted" 40 "$(jq -r .results "$T_DIR/del.body")"
t_assert_eq "updates deleted" 1 "$(jq -r .updates "$T_DIR/del.body")"
t_http gone GET "/v1/jobs/$job"
t_code "GET of the deleted job" 404
t_http gone GET "/v1/jobs/$job/results"
t_code "its results" 404
t_http list GET /v1/jobs
jq -e --argjson j "$job" 'any(.[]; .id == $j)' "$T_DIR/list.body" >/dev/null && t_fail "the list still has job $job"
t_http again DELETE "/v1/jobs/$job"
t_code "DELETE again" 404

# ---- DELETE of an active job: 409, then ?cancel=1
active=$(shoal submit --count 12 --sleep-ms 600000 -q --name active)
t_wait "the active job running" 30 t_busy_at_least w1 4
t_http refused DELETE "/v1/jobs/$active"
t_code "DELETE of an active job" 409
jq -r .error "$T_DIR/refused.body" | grep -q "cancel=1" || t_fail "unclear refusal: $(t_body refused)"
t_assert_eq "still there" 12 "$(t_sql "SELECT count(*) FROM tasks WHERE job_id = $active")"
t_http bad DELETE "/v1/jobs/$active?cancel=maybe"
t_code "cancel=maybe" 400
t_http cancel DELETE "/v1/jobs/$active?cancel=1"
t_code "DELETE ?cancel=1" 200
t_assert_eq "cancelled first" true "$(jq -r .cancelled "$T_DIR/cancel.body")"
t_assert_eq "its tasks deleted" 12 "$(jq -r .tasks "$T_DIR/cancel.body")"
t_assert_eq "its results deleted" 12 "$(jq -r .results "$T_DIR/cancel.body")"
for t in tasks results attempts job_updates job_deletions; do
    t_assert_eq "rows left in $t" 0 "$(t_sql "SELECT count(*) FROM $t WHERE job_id IN ($job, $active)")"
done
t_wait "its running tasks aborted" 30 t_test_eq 0 t_busy w1
t_log "ok"
