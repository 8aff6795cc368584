#!/usr/bin/env bash
# shoal update: a job's login cookie expires while it runs (the server
# starts answering 401); `shoal update -H 'Cookie: ...'` gives the tasks
# handed out afterwards the fresh cookie, a broker restart in between
# keeps it (it is stored), `shoal status` shows when and what changed
# (the header's name, never its value), and `shoal retry --status 401`
# runs the 401s again with the new cookie.
. "$(dirname "$0")/../lib.sh"

t_db
# a server whose session cookie can expire: /item/N answers 200 to the
# current session, 401 to any other; /expire?new=S makes S the only valid one
cat > "$T_DIR/session.py" <<'PY'
import sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs
STATE = {"valid": "s1"}
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def reply(self, code, text):
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        u = urlparse(self.path)
        if u.path == "/expire":
            STATE["valid"] = parse_qs(u.query)["new"][0]
            return self.reply(200, "ok")
        time.sleep(0.03)
        cookie = self.headers.get("Cookie", "")
        self.reply(200 if cookie == "session=" + STATE["valid"] else 401, cookie)
srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(srv.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
PY
python3 "$T_DIR/session.py" "$T_DIR/session.port" 2>"$T_DIR/session.log" &
PID[session]=$!
t_wait "session server" 10 test -s "$T_DIR/session.port"
PORT=$(cat "$T_DIR/session.port")

t_broker --heartbeat-ms 200
t_worker w1 --slots 2
t_wait_workers 1
N=200
job=$(shoal submit --url-template "http://127.0.0.1:$PORT/item/{1..$N}" --name crawl -q \
      --per-host 1 -H 'Cookie: session=s1' -H 'Accept: text/plain')
count() { t_sql "SELECT count(*) FROM results WHERE job_id = $job AND $1"; }
at_least() { [ "$(count "$1")" -ge "$2" ]; }
t_wait "some tasks ok with the first cookie" 60 at_least "outcome = 'ok'" 5

# the cookie expires: tasks start failing with 401 (not retried by default)
curl -sf "http://127.0.0.1:$PORT/expire?new=s2" >/dev/null
t_wait "401s with the expired cookie" 60 at_least "http_status = 401" 3
out=$(shoal update "$job" -H 'Cookie: session=s2' --timeout-ms 20000) || t_fail "update: $out"
t_log "$out"
echo "$out" | grep -q "header Cookie" || t_fail "update output does not say what changed: $out"
grep -q "job_update job=$job changed=\"timeout_ms=20000; header Cookie\"" "$T_DIR/broker.log" \
    || t_fail "no job_update line in the broker's log"
t_assert_eq "the job's defaults stored" 1 "$(t_sql "SELECT count(*) FROM job_updates WHERE job_id = $job")"
# the running broker hands out the later tasks with the new cookie
t_wait "tasks ok with the new cookie" 60 at_least "convert_from(body, 'UTF8') = 'session=s2'" 5
shoal pause "$job" >/dev/null
before_restart=$(t_sql "SELECT count(*) FROM results WHERE job_id = $job")

# a broker restart in between: the new broker reads the new defaults back
kill "${PID[broker]}"; wait "${PID[broker]}" 2>/dev/null || true
t_broker --heartbeat-ms 200
t_release_jobs 1 "$job"
status=$(shoal status "$job")
echo "$status" | grep -qE "updated +[0-9-]+ [0-9:]+ +timeout_ms=20000; header Cookie" \
    || t_fail "status does not show the update after a restart: $status"
echo "$status" | grep -q "s2" && t_fail "status shows the cookie's value: $status"
t_wait_done "$job" 120
[ "$before_restart" -lt $((N - 20)) ] || t_fail "only $((N - before_restart)) tasks ran after the restart"
failed_401=$(count "http_status = 401")
ok=$(count "outcome = 'ok'")
t_log "after the update: ok $ok, 401 $failed_401"
t_assert_eq "every task has a result" "$N" "$((ok + failed_401))"
# tasks handed out after the update all got the new cookie: the last ones are ok
t_assert_eq "tasks after the update ok" 0 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome <> 'ok' AND seq >= $N - 50")"
# the other headers are kept, the old Cookie replaced (not doubled)
t_assert_eq "the cookie a late task sent" "session=s2" \
    "$(t_sql "SELECT convert_from(body, 'UTF8') FROM results WHERE job_id = $job AND seq = $N - 1")"

# the 401s again, with the new cookie
out=$(shoal retry "$job" --status 401)
echo "$out" | grep -q "$failed_401 failed tasks queued again" || t_fail "retry: $out"
t_wait_done "$job" 120
t_assert_eq "all ok after the retry" "$N" "$(count "outcome = 'ok'")"
t_assert_eq "json status shows it" "timeout_ms=20000; header Cookie" "$(shoal -o json status "$job" | jq -r .last_update)"
t_log "pass"
