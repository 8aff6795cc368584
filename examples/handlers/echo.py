#!/usr/bin/env python3
"""echo -- the smallest useful handler: answers each task with its payload,
the process id and how many tasks this process has served.

    shoal-worker --handler 'echo[procs=4]=python3 examples/handlers/echo.py'
    echo '{"handler": "echo", "payload": {"hello": "world"}}' | shoal submit --wait -
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shoal_handler  # noqa: E402

served = 0


def echo(payload, vars, task):
    global served
    served += 1
    return {"payload": payload, "pid": os.getpid(), "n": served}


shoal_handler.serve(echo)
