#!/usr/bin/env python3
"""The pipeline tests' HTTP server: the four-step check of docs/pipelines.md
(upload -> captcha -> solve -> submit) with ids it issues and checks, and a
court-records listing with links (page -> pdf). It counts every call, so
the tests can say that each item was submitted once and no committed step
ran again.

  POST /upload    multipart file + check      -> {"file_id": "F-<check>"}
  GET  /captcha   needs the job cookie        -> {"captcha_id": "C-n", "image": "img-n"}
  POST /solve     {"image": ...}              -> {"text": "ans-<image>"}
  POST /submit    {"check", "file_id", "captcha_id", "answer"}: each must
                  match what was issued; 422 when not
  GET  /list?page=N                           -> HTML with LINKS links /pdf/N-i.pdf
  GET  /pdf/...                               -> a small body
  GET  /fail/N                                -> status N
  GET  /echo/...                              -> {"id": "E-<last segment>", "links": [...]}, logged
  GET  /echolog                               -> every /echo path asked, in order
  GET  /stats                                 -> the counters as JSON
Usage: check_server.py PORT_FILE [LINKS_PER_PAGE]
"""
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

LOCK = threading.Lock()
STATS = {"upload": 0, "captcha": 0, "solve": 0, "submit": 0, "submit_ok": 0, "submit_bad": 0,
         "list": 0, "pdf": 0, "no_cookie": 0}
SUBMITTED = {}          # check -> times accepted
CAPTCHAS = {}           # captcha_id -> image
PAGES = {}              # page -> calls
PDFS = {}               # path -> calls
UPLOADS = {}            # check -> calls
LINKS = int(sys.argv[2]) if len(sys.argv) > 2 else 40
COOKIE = "session=job-cookie-1"
GATE = {"open": False}  # /gate answers 404 until /open is called, then as /list
ECHOED = []             # every /echo path (with its query), in arrival order


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def count(self, key):
        with LOCK:
            STATS[key] += 1

    def cookie_ok(self):
        if COOKIE not in (self.headers.get("Cookie") or ""):
            self.count("no_cookie")
            self.reply(401, '{"error": "no session cookie"}')
            return False
        return True

    def do_GET(self):
        u = urlparse(self.path)
        if u.path == "/stats":
            with LOCK:
                out = dict(STATS)
                out["submitted_once"] = sum(1 for v in SUBMITTED.values() if v == 1)
                out["submitted_twice"] = sum(1 for v in SUBMITTED.values() if v > 1)
                out["pages_twice"] = sum(1 for v in PAGES.values() if v > 1)
                out["pdfs_twice"] = sum(1 for v in PDFS.values() if v > 1)
                out["uploads_twice"] = sum(1 for v in UPLOADS.values() if v > 1)
            return self.reply(200, json.dumps(out))
        if u.path == "/captcha":
            if not self.cookie_ok():
                return
            with LOCK:
                STATS["captcha"] += 1
                n = STATS["captcha"]
                cid = "C-%d" % n
                CAPTCHAS[cid] = "img-%d" % n
            return self.reply(200, json.dumps({"captcha_id": cid, "image": CAPTCHAS[cid]}))
        if u.path == "/open":
            GATE["open"] = True
            return self.reply(200, '{"open": true}')
        if u.path == "/gate" and not GATE["open"]:
            return self.reply(404, '{"error": "gate closed"}')
        if u.path in ("/list", "/gate"):
            page = parse_qs(u.query).get("page", ["0"])[0]
            with LOCK:
                STATS["list"] += 1
                PAGES[page] = PAGES.get(page, 0) + 1
            links = "".join('<a href="/pdf/%s-%d.pdf">doc %d</a>\n' % (page, i, i) for i in range(LINKS))
            return self.reply(200, "<html><body>\n%s</body></html>" % links, "text/html")
        if u.path.startswith("/pdf/"):
            with LOCK:
                STATS["pdf"] += 1
                PDFS[u.path] = PDFS.get(u.path, 0) + 1
            return self.reply(200, b"%PDF-1.4 " + u.path.encode(), "application/pdf")
        if u.path == "/echolog":
            with LOCK:
                return self.reply(200, json.dumps(ECHOED))
        if u.path.startswith("/echo/"):
            with LOCK:
                ECHOED.append(self.path)
            last = u.path.rsplit("/", 1)[-1]
            links = ["/echo/l/%s-%d" % (last, i) for i in range(2)]
            return self.reply(200, json.dumps({"id": "E-" + last, "links": links}))
        m = re.match(r"^/fail/(\d+)$", u.path)
        if m:
            return self.reply(int(m.group(1)), '{"error": "as asked"}')
        self.reply(404, '{"error": "no such path"}')

    def do_POST(self):
        u = urlparse(self.path)
        data = self.body()
        if u.path == "/upload":
            if not self.cookie_ok():
                return
            m = re.search(rb'name="check"\r\n\r\n([^\r]*)\r\n', data)
            if not m or b'name="file"' not in data:
                return self.reply(400, '{"error": "file and check fields required"}')
            check = m.group(1).decode()
            with LOCK:
                STATS["upload"] += 1
                UPLOADS[check] = UPLOADS.get(check, 0) + 1
            return self.reply(200, json.dumps({"file_id": "F-" + check}))
        if u.path == "/solve":
            self.count("solve")
            try:
                image = json.loads(data)["image"]
            except Exception:
                return self.reply(400, '{"error": "image required"}')
            return self.reply(200, json.dumps({"text": "ans-" + image}))
        if u.path == "/submit":
            if not self.cookie_ok():
                return
            self.count("submit")
            try:
                d = json.loads(data)
                check, fid, cid, ans = d["check"], d["file_id"], d["captcha_id"], d["answer"]
            except Exception:
                self.count("submit_bad")
                return self.reply(422, '{"error": "fields missing"}')
            with LOCK:
                image = CAPTCHAS.get(cid)
            if fid != "F-" + check or image is None or ans != "ans-" + image:
                self.count("submit_bad")
                return self.reply(422, json.dumps({"error": "wrong file_id or answer"}))
            with LOCK:
                SUBMITTED[check] = SUBMITTED.get(check, 0) + 1
                STATS["submit_ok"] += 1
            return self.reply(200, json.dumps({"receipt": "R-" + check}))
        self.reply(404, '{"error": "no such path"}')


class Server(ThreadingHTTPServer):
    request_queue_size = 512    # many workers' connections at once
    daemon_threads = True


def main():
    server = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
