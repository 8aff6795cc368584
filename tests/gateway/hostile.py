#!/usr/bin/env python3
"""Hostile HTTP clients for tests/gateway/hostile.sh (not a test itself).

  hostile.py headers PORT N          one GET with N headers; prints the status
  hostile.py slowloris PORT N FILE   N connections that trickle a header line
                                     each second and never finish; writes how
                                     many are open to FILE every second
  hostile.py stall PORT              a request line and nothing more; prints
                                     the seconds until the server closes it
"""
import socket
import sys
import time


def status_of(sock):
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    line = data.split(b"\r\n", 1)[0].split()
    return line[1].decode() if len(line) > 1 else "000"


def headers(port, n):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    head = "GET /healthz HTTP/1.1\r\nHost: x\r\n" + "".join("X-H%d: v\r\n" % i for i in range(n)) + "\r\n"
    try:
        s.sendall(head.encode())
    except OSError:
        pass            # the server may close before reading it all
    print(status_of(s))


def slowloris(port, n, path):
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    while True:
        alive = []
        for s in socks:
            try:
                s.sendall(b"X-Slow: 1\r\n")
                alive.append(s)
            except OSError:
                s.close()
        socks = alive
        with open(path, "w") as f:
            f.write("%d\n" % len(socks))
        time.sleep(1)


def stall(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(b"GET /healthz HTTP/1.1\r\n")
    start = time.monotonic()
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    print("%.1f" % (time.monotonic() - start))


if __name__ == "__main__":
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "headers":
        headers(port, int(sys.argv[3]))
    elif cmd == "slowloris":
        slowloris(port, int(sys.argv[3]), sys.argv[4])
    elif cmd == "stall":
        stall(port)
