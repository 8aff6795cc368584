#!/usr/bin/env python3
"""misbehave -- a handler for the fault tests, built on
examples/handlers/shoal_handler.py. It answers {"payload", "pid", "n",
"worker"} and misbehaves on request, while task["attempt"] is below the
payload's "until" (default: always):

    crash      exit mid-task            hang       never answer
    stubborn   ignore SIGTERM and hang  garbage    write a line that is not JSON
    huge       write a 100 MiB line     wrong_id   answer for another id
    twice      answer twice (always)    sleep_ms   take this long

With "record": DIR it writes DIR/<pid> holding its process group id and
$MIS_WORKER."""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../examples/handlers"))
import shoal_handler  # noqa: E402

served = 0
out = sys.stdout


def work(payload, vars, task):
    global served
    served += 1
    p = payload if isinstance(payload, dict) else {}
    if p.get("record"):
        # written aside and renamed: a process killed meanwhile leaves no empty record
        path = os.path.join(p["record"], str(os.getpid()))
        with open(path + ".tmp", "w") as f:
            f.write("%d %s\n" % (os.getpgrp(), os.environ.get("MIS_WORKER", "")))
        os.replace(path + ".tmp", path)
    if p.get("sleep_ms"):
        time.sleep(p["sleep_ms"] / 1000.0)
    act = p.get("do")
    if act == "twice":
        out.write(json.dumps({"id": task["id"], "ok": True, "output": {"payload": payload}}) + "\n")
        out.flush()
    elif act and task["attempt"] < p.get("until", 1 << 30):
        if act == "crash":
            os._exit(3)
        if act in ("hang", "stubborn"):
            if act == "stubborn":
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
            while True:
                time.sleep(1)
        if act == "garbage":
            out.write("this is not JSON\n")
        elif act == "huge":
            chunk = "x" * (1 << 20)
            out.write('{"id": "%s", "ok": true, "output": "' % task["id"])
            for _ in range(100):
                out.write(chunk)
            out.write('"}\n')
        elif act == "wrong_id":
            out.write(json.dumps({"id": "0/0", "ok": True, "output": {}}) + "\n")
        out.flush()
        time.sleep(30)      # the worker recycles this process meanwhile
    return {"payload": payload, "pid": os.getpid(), "n": served, "worker": os.environ.get("MIS_WORKER", "")}


shoal_handler.serve(work)
