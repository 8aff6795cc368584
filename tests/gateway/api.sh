#!/usr/bin/env bash
# The HTTP API end to end with curl: submit as JSON and as a 200,000-line
# NDJSON stream, poll to done, export results as JSONL and CSV and compare
# them with `shoal results`, control a job, list workers; an NDJSON upload
# cut off mid-body and sent again with the same key has every task once.
. "$(dirname "$0")/helpers.bash"

t_db
t_broker
t_worker w1 --slots 16
t_wait_workers 1
t_gateway
t_wait "gateway healthy" 20 t_healthy

# ---- a small job as one JSON document
t_http small POST /v1/jobs -H 'Content-Type: application/json' \
    -d '{"name":"small","key":"small-1","priority":2,"defaults":{"timeout_ms":5000},
         "tasks":[{"kind":"noop","tag":"a"},{"kind":"noop","tag":"b","sleep_ms":5},{"kind":"noop","tag":"c"}]}'
t_code "POST /v1/jobs (JSON)" 201
small=$(jq -r .job "$T_DIR/small.body")
t_assert_eq "tasks committed" 3 "$(jq -r .tasks "$T_DIR/small.body")"
t_assert_eq "tasks in the database" 3 "$(t_sql "SELECT n_tasks FROM jobs WHERE id = $small")"
# the same POST again (a retried request): the same job, nothing doubled
t_http small2 POST /v1/jobs -H 'Content-Type: application/json' \
    -d '{"name":"small","key":"small-1","tasks":[{"kind":"noop","tag":"a"},{"kind":"noop","tag":"b","sleep_ms":5},{"kind":"noop","tag":"c"}]}'
t_code "the same POST again" 201
t_assert_eq "same job" "$small" "$(jq -r .job "$T_DIR/small2.body")"
t_assert_eq "resumed" true "$(jq -r .resumed "$T_DIR/small2.body")"
t_assert_eq "still 3 tasks" 3 "$(t_sql "SELECT count(*) FROM tasks WHERE job_id = $small")"

# ---- poll status to done over HTTP
gw_state() { t_http st GET "/v1/jobs/$1"; jq -r .state "$T_DIR/st.body"; }
gw_done() { [ "$(gw_state "$1")" = done ]; }
t_wait "job $small done (GET /v1/jobs/$small)" 60 gw_done "$small"
t_http st GET "/v1/jobs/$small"
t_code "GET /v1/jobs/{id}" 200
# the same figures as `shoal -o json status`, apart from the moving ones
filter='del(.rate, .eta_ms)'
t_assert_eq "status = shoal -o json status" "$(shoal -o json status "$small" | jq -S "$filter")" \
    "$(jq -S "$filter" "$T_DIR/st.body")"

# ---- 200,000 tasks streamed as NDJSON
N=200000
seq 1 $N | awk '{ printf "{\"kind\":\"noop\",\"tag\":\"n%d\"}\n", $1 }' > "$T_DIR/big.ndjson"
t_http big POST "/v1/jobs?name=big&key=big-1" -H 'Content-Type: application/x-ndjson' -T "$T_DIR/big.ndjson" -X POST
t_code "POST /v1/jobs (NDJSON, $N lines)" 201
big=$(jq -r .job "$T_DIR/big.body")
t_assert_eq "NDJSON tasks committed" $N "$(jq -r .tasks "$T_DIR/big.body")"
t_assert_eq "NDJSON tasks in the database" $N "$(t_sql "SELECT count(*) FROM tasks WHERE job_id = $big")"
t_assert_eq "job sealed" t "$(t_sql "SELECT sealed FROM jobs WHERE id = $big")"
t_wait "job $big done" 180 gw_done "$big"
t_http one GET "/v1/jobs/$big/results?after=123454&limit=1"
t_assert_eq "the task of line 123,456" n123456 "$(jq -r .tag "$T_DIR/one.body")"

# ---- results: JSONL and CSV, the same as `shoal results`
t_http rj GET "/v1/jobs/$big/results"
t_code "GET results (jsonl)" 200
shoal results "$big" > "$T_DIR/cli.jsonl"
t_assert_eq "JSONL rows" $N "$(wc -l < "$T_DIR/rj.body")"
cmp -s "$T_DIR/rj.body" "$T_DIR/cli.jsonl" || t_fail "JSONL export differs from shoal results"
t_log "ok: JSONL export = shoal results"
t_http rc GET "/v1/jobs/$big/results?format=csv"
t_code "GET results (csv)" 200
shoal results "$big" --format csv > "$T_DIR/cli.csv"
cmp -s "$T_DIR/rc.body" "$T_DIR/cli.csv" || t_fail "CSV export differs from shoal results --format csv"
t_log "ok: CSV export = shoal results --format csv"
# paging: after= and limit=
t_http page GET "/v1/jobs/$big/results?after=99&limit=5"
t_assert_eq "after=99&limit=5 seqs" "100 101 102 103 104" "$(jq -r .seq "$T_DIR/page.body" | xargs)"
t_http pagecsv GET "/v1/jobs/$big/results?format=csv&after=199997"
t_assert_eq "CSV tail: header + 2 rows" 3 "$(wc -l < "$T_DIR/pagecsv.body")"
t_http badfmt GET "/v1/jobs/$big/results?format=xml"
t_code "format=xml" 400
t_http nojob GET "/v1/jobs/999999/results"
t_code "results of a job that does not exist" 404
t_http nojob2 GET "/v1/jobs/999999"
t_code "a job that does not exist" 404

# ---- the job list and the workers
t_http jobs GET "/v1/jobs?limit=10"
t_code "GET /v1/jobs" 200
t_assert_eq "jobs listed" "$big $small" "$(jq -r '.[].id' "$T_DIR/jobs.body" | xargs)"
t_http workers GET /v1/workers
t_code "GET /v1/workers" 200
t_assert_eq "workers" w1 "$(jq -r '.[].id' "$T_DIR/workers.body")"
t_assert_eq "worker slots" 16 "$(jq -r '.[0].slots' "$T_DIR/workers.body")"

# ---- control: pause, resume, cancel; retry of failed tasks
#  tasks that outlast the test (the broker cancels them at the workers), so
#  the job cannot finish before the cancel however slow the machine is
seq 1 40 | awk '{ print "{\"kind\":\"noop\",\"sleep_ms\":600000}" }' > "$T_DIR/slow.ndjson"
t_http slow POST "/v1/jobs?name=slow" -H 'Content-Type: application/x-ndjson' --data-binary @"$T_DIR/slow.ndjson"
t_code "POST slow job" 201
slow=$(jq -r .job "$T_DIR/slow.body")
t_http pause POST "/v1/jobs/$slow/pause"
t_code "pause" 200
t_assert_eq "state after pause (HTTP)" paused "$(jq -r .state "$T_DIR/pause.body")"
t_assert_eq "state after pause (shoal status)" paused "$(t_job_state "$slow")"
t_http resume POST "/v1/jobs/$slow/resume"
t_code "resume" 200
t_assert_eq "state after resume" active "$(t_job_state "$slow")"
t_http cancel POST "/v1/jobs/$slow/cancel"
t_code "cancel" 200
t_assert_eq "state after cancel" cancelled "$(t_job_state "$slow")"
t_http again POST "/v1/jobs/$slow/pause"
t_code "pause a cancelled job" 409
t_http get405 GET "/v1/jobs/$slow/pause"
t_code "GET on a control route" 405
t_http unknown GET "/v1/nothing"
t_code "unknown route" 404
printf '{"kind":"noop","fail_until_attempt":9,"max_attempts":1}\n{"kind":"noop"}\n' > "$T_DIR/fail.ndjson"
t_http fail POST "/v1/jobs?name=fail" -H 'Content-Type: application/x-ndjson' --data-binary @"$T_DIR/fail.ndjson"
t_code "POST failing job" 201
fail=$(jq -r .job "$T_DIR/fail.body")
t_wait "job $fail done" 60 gw_done "$fail"
t_assert_eq "failed tasks" 1 "$(shoal -o json status "$fail" | jq .failed)"
t_http retry POST "/v1/jobs/$fail/retry"
t_code "retry" 200
t_assert_eq "tasks retried" 1 "$(jq -r .affected "$T_DIR/retry.body")"
t_http retrybad POST "/v1/jobs/$fail/retry?status=7xx"
t_code "retry with a bad status filter" 400

# ---- an NDJSON upload cut off mid-body, then the same POST with the same key
M=150000
seq 1 $M | awk '{ printf "{\"kind\":\"noop\",\"tag\":\"r%d\"}\n", $1 }' > "$T_DIR/resume.ndjson"
mkfifo "$T_DIR/pipe"
( head -n 60000 "$T_DIR/resume.ndjson"; sleep 120 ) > "$T_DIR/pipe" &
PID[feeder]=$!
curl -sS -o "$T_DIR/cut.body" -X POST -T - -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/x-ndjson' "$GW/v1/jobs?name=resume&key=resume-1" < "$T_DIR/pipe" &
PID[curl]=$!
committed() { t_sql "SELECT coalesce(max(n_tasks), 0) FROM jobs WHERE idem_key = 'resume-1'"; }
t_wait "part of the cut-off upload committed" 60 t_test_ge 40000 committed
kill -9 "${PID[curl]}" "${PID[feeder]}" 2>/dev/null || true
unset 'PID[curl]' 'PID[feeder]'
before=$(committed)
t_assert_eq "not sealed after the cut" f "$(t_sql "SELECT sealed FROM jobs WHERE idem_key = 'resume-1'")"
t_log "cut off with $before tasks committed"
t_http resumed POST "/v1/jobs?name=resume&key=resume-1" -H 'Content-Type: application/x-ndjson' -T "$T_DIR/resume.ndjson" -X POST
t_code "the same POST again after the cut" 201
rj=$(jq -r .job "$T_DIR/resumed.body")
t_assert_eq "resumed" true "$(jq -r .resumed "$T_DIR/resumed.body")"
t_assert_eq "tasks after the resume" $M "$(jq -r .tasks "$T_DIR/resumed.body")"
t_assert_eq "task rows" $M "$(t_sql "SELECT count(*) FROM tasks WHERE job_id = $rj")"
t_assert_eq "distinct tags (each task once)" $M "$(t_sql "SELECT count(DISTINCT spec) FROM tasks WHERE job_id = $rj")"
t_assert_eq "task 0 is line 1" 0 "$(t_sql "SELECT count(*) FROM tasks WHERE job_id = $rj AND seq >= $M")"
t_wait "resumed job done" 120 gw_done "$rj"
# one result per task: M rows, keyed (job, seq), every seq in 0..M-1
# (cheaper than lib.sh's anti-join, which a planner without statistics
# on 150,000 fresh rows can take minutes over)
t_assert_eq "result rows" $M "$(t_sql "SELECT count(*) FROM results WHERE job_id = $rj")"
t_assert_eq "result seqs" "0|$((M - 1))|$M" "$(t_sql "SELECT min(seq), max(seq), count(DISTINCT seq) FROM results WHERE job_id = $rj")"
t_log "PASS"
