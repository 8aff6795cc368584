#!/usr/bin/env python3
"""A small HTTP/1.1 server that misbehaves on purpose, for shoal's tests.

It records, per Host header, the largest number of requests it was serving
at once and the timestamps of all requests, so tests can check per-host
limits from the server's side.

    fault-server.py PORTFILE        binds 0.0.0.0 on a free port, writes it to PORTFILE

Endpoints:
    /ok?size=N              200 with N bytes (default 100)
    /status/CODE            that status; ?retry_after=S adds Retry-After
    /flaky/KEY?fail=N&status=S   the first N requests for KEY answer S (503), then 200;
                            ?retry_after=S adds Retry-After to the failures
    /slow?ms=N              waits N ms, then 200
    /endless                200 that never ends (chunked)
    /redirect/N             302 to /redirect/N-1; /redirect/0 is 200
    /reset                  closes the connection with a TCP reset
    /headers                200 with the request's headers as JSON
    /bighead?line=N         200 with one response header line of N bytes
    /bighead?lines=N        200 with N response header lines of 1000 bytes each
    /weird                  200 with response headers full of quotes, backslashes, non-UTF-8
    /echo                   POST/PUT: 200 with JSON {"bytes": n, "sha256": hex, "method": m}
    /upload                 multipart POST: JSON with each part's name, filename, bytes, sha256
    /stats                  JSON per host: max_concurrent, requests, max_per_second
    /reset-stats            forget the stats
"""
import email.parser
import email.policy
import hashlib
import json
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCK = threading.Lock()
STATS = {}          # host -> {"current", "max_concurrent", "times", "connections"}
FLAKY = {}          # key -> requests seen


def stats_for(host):
    return STATS.setdefault(host, {"current": 0, "max_concurrent": 0, "times": [], "connections": 0})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        # connections by the address they came to, in the Host header's form
        addr, port = self.connection.getsockname()[:2]
        with LOCK:
            stats_for("%s:%d" % (addr, port))["connections"] += 1

    def uncount(self):
        # the request stops counting as in progress before the response
        # goes out, so a client's next request never overlaps it here
        if getattr(self, "counted", False):
            self.counted = False
            with LOCK:
                stats_for(self.headers.get("Host", ""))["current"] -= 1

    def send_body(self, code, body, ctype="text/plain", headers=None):
        self.uncount()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_one(self):
        url = urlparse(self.path)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        parts = [p for p in url.path.split("/") if p]
        head = parts[0] if parts else ""
        if head == "ok":
            size = int(q.get("size", 100))
            self.send_body(200, b"x" * size)
        elif head == "status":
            code = int(parts[1])
            headers = {"Retry-After": q["retry_after"]} if "retry_after" in q else {}
            self.send_body(code, ("status %d\n" % code).encode(), headers=headers)
        elif head == "flaky":
            key = parts[1]
            with LOCK:
                FLAKY[key] = FLAKY.get(key, 0) + 1
                seen = FLAKY[key]
            if seen <= int(q.get("fail", 1)):
                headers = {"Retry-After": q["retry_after"]} if "retry_after" in q else {}
                self.send_body(int(q.get("status", 503)), b"try again\n", headers=headers)
            else:
                self.send_body(200, b"fine now\n")
        elif head == "slow":
            time.sleep(int(q.get("ms", 1000)) / 1000.0)
            self.send_body(200, b"slow\n")
        elif head == "endless":
            self.uncount()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"z" * 65536
            frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
            try:
                while True:
                    self.wfile.write(frame)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
        elif head == "redirect":
            n = int(parts[1]) if len(parts) > 1 else 0
            if n > 0:
                self.send_body(302, b"", headers={"Location": "/redirect/%d" % (n - 1)})
            else:
                self.send_body(200, b"arrived\n")
        elif head == "reset":
            self.uncount()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif head == "echo":
            body = self.read_body()
            out = {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest(), "method": self.command,
                   "content_type": self.headers.get("Content-Type", "")}
            self.send_body(200, json.dumps(out).encode(), "application/json")
        elif head == "upload":
            body = self.read_body()
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + self.headers.get("Content-Type", "").encode() + b"\r\n\r\n" + body)
            parts_out = []
            for part in msg.iter_parts():
                data = part.get_payload(decode=True) or b""
                parts_out.append({"name": part.get_param("name", header="content-disposition"),
                                  "filename": part.get_filename(), "bytes": len(data),
                                  "sha256": hashlib.sha256(data).hexdigest(),
                                  "content_type": part.get_content_type()})
            self.send_body(200, json.dumps({"parts": parts_out}).encode(), "application/json")
        elif head == "weird":
            # quotes, a backslash, a control character and bytes that are not UTF-8
            self.send_body(200, b"weird\n", 'text/plain; x="a\\b"\x01',
                           headers={"ETag": '"\xff\xfe"', "Last-Modified": "\\"})
        elif head == "bighead":
            self.uncount()
            self.close_connection = True
            try:
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                if "line" in q:
                    self.wfile.write(b"X-Big: " + b"y" * int(q["line"]) + b"\r\n")
                for i in range(int(q.get("lines", 0))):
                    self.wfile.write(b"X-Fill-%d: %s\r\n" % (i, b"y" * 1000))
                self.wfile.write(b"Content-Length: 3\r\n\r\nok\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif head == "headers":
            out = {k.lower(): v for k, v in self.headers.items()}
            self.send_body(200, json.dumps(out).encode(), "application/json")
        elif head == "stats":
            with LOCK:
                out = {}
                for host, s in STATS.items():
                    times = sorted(s["times"])
                    best, j = 0, 0
                    for i in range(len(times)):
                        while times[i] - times[j] >= 1.0:
                            j += 1
                        best = max(best, i - j + 1)
                    out[host] = {"max_concurrent": s["max_concurrent"], "requests": len(times),
                                 "max_per_second": best, "connections": s["connections"],
                                 "span_s": (times[-1] - times[0]) if times else 0}
            self.send_body(200, json.dumps(out).encode(), "application/json")
        elif head == "reset-stats":
            with LOCK:
                STATS.clear()
                FLAKY.clear()
            self.send_body(200, b"ok\n")
        else:
            self.send_body(404, b"no such endpoint\n")

    def dispatch(self):
        host = self.headers.get("Host", "")
        self.counted = not self.path.startswith(("/stats", "/reset-stats"))
        if self.counted:
            with LOCK:
                s = stats_for(host)
                s["current"] += 1
                s["max_concurrent"] = max(s["max_concurrent"], s["current"])
                s["times"].append(time.monotonic())
        try:
            self.handle_one()
        finally:
            self.uncount()

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = dispatch


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512

    def handle_error(self, request, client_address):
        pass    # clients hang up on purpose (timeouts, cut bodies)


def main():
    server = Server(("0.0.0.0", 0), Handler)
    with open(sys.argv[1], "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
