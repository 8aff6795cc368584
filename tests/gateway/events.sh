#!/usr/bin/env bash
# Server-Sent Events: a client following a job sees progress events with
# growing counts, then the job-finished event, and the stream ends there.
. "$(dirname "$0")/helpers.bash"

t_db
t_broker
t_worker w1 --slots 4
t_wait_workers 1
t_gateway
t_wait "gateway healthy" 20 t_healthy

# ~3 s of work: 240 tasks of 50 ms on 4 slots
seq 1 240 | awk '{ print "{\"kind\":\"noop\",\"sleep_ms\":50}" }' > "$T_DIR/tasks.ndjson"
t_http submit POST "/v1/jobs?name=sse" -H 'Content-Type: application/x-ndjson' --data-binary @"$T_DIR/tasks.ndjson"
t_code "submit" 201
job=$(jq -r .job "$T_DIR/submit.body")

curl -sS -N -D "$T_DIR/sse.headers" -H "Authorization: Bearer $TOKEN" "$GW/v1/jobs/$job/events" > "$T_DIR/sse.out" &
PID[sse]=$!
# clients joining mid-job: the figures sent on connect come from a request
# to the broker, the later ones from its progress feed; a snapshot taken
# before the request but arriving after it must not take counts back
ok_now() { curl -s -H "Authorization: Bearer $TOKEN" "$GW/v1/jobs/$job" | jq -r '.ok // 0'; }
for n in 20 60 100 140 180; do
    t_wait "job at $n ok" 60 t_test_ge "$n" ok_now
    curl -sS -N -H "Authorization: Bearer $TOKEN" "$GW/v1/jobs/$job/events" > "$T_DIR/late$n.out" &
    PID[late$n]=$!
done
t_wait "the event stream ends after the job finished" 60 t_exited "${PID[sse]}"
wait "${PID[sse]}" || t_fail "curl on the event stream failed"
unset 'PID[sse]'
for n in 20 60 100 140 180; do
    t_wait "stream joined at $n ends" 60 t_exited "${PID[late$n]}"
    unset "PID[late$n]"
    awk '$0 == "event: progress" { getline; sub(/^data: /, ""); print }' "$T_DIR/late$n.out" | jq -r .ok > "$T_DIR/late$n.seq"
    sort -n -c "$T_DIR/late$n.seq" || t_fail "stream joined at $n ok: ok went down: $(xargs < "$T_DIR/late$n.seq")"
    grep -qx 'event: finished' "$T_DIR/late$n.out" || t_fail "stream joined at $n: no finished event"
done
t_log "ok: 5 streams joined mid-job, counts never went back"
grep -qi '^content-type: text/event-stream' "$T_DIR/sse.headers" || t_fail "not text/event-stream: $(cat "$T_DIR/sse.headers")"
# the data lines of each kind of event
events() { awk -v want="event: $1" '$0 == want { getline; sub(/^data: /, ""); print }' "$T_DIR/sse.out"; }
progress=$(events progress | wc -l)
[ "$progress" -ge 3 ] || t_fail "expected several progress events, got $progress: $(head -c 600 "$T_DIR/sse.out")"
t_log "ok: $progress progress events"
events progress | jq -r '.ok' > "$T_DIR/ok.seq"
sort -n -c "$T_DIR/ok.seq" || t_fail "ok went down between progress events: $(xargs < "$T_DIR/ok.seq")"
[ "$(head -n 1 "$T_DIR/ok.seq")" -lt 240 ] || t_fail "the first progress event came after the job was done"
[ "$(sort -un "$T_DIR/ok.seq" | wc -l)" -ge 2 ] || t_fail "progress never moved: $(xargs < "$T_DIR/ok.seq")"
t_log "ok: progress moved: $(sort -un "$T_DIR/ok.seq" | head -n 5 | xargs) ..."
t_assert_eq "one finished event" 1 "$(events finished | wc -l)"
t_assert_eq "finished: state" done "$(events finished | jq -r .state)"
t_assert_eq "finished: ok" 240 "$(events finished | jq -r .ok)"
t_assert_eq "the finished event is the last" "event: finished" "$(grep '^event:' "$T_DIR/sse.out" | tail -n 1)"

# a finished job: its final figures at once, then the end
t_http late GET "/v1/jobs/$job/events" --max-time 10
t_code "events of a finished job" 200
t_assert_eq "late stream: just the finished event" "event: finished" "$(grep '^event:' "$T_DIR/late.body" | xargs -0)"
t_http none GET "/v1/jobs/999999/events" --max-time 10
t_code "events of a job that does not exist" 404
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$GW/v1/jobs/$job/events")
t_code "events without a token" 401
t_log "PASS"
