#!/usr/bin/env python3
"""echo_once -- examples/handlers/echo.py as a program run once per task
(bench/handler.sh's exec baseline): the same interpreter, the same answer
for the payload {"i": ARGV1}, printed to stdout."""
import json
import os
import sys

print(json.dumps({"payload": {"i": int(sys.argv[1])}, "pid": os.getpid(), "n": 1}))
