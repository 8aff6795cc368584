#!/usr/bin/env python3
"""wordcount -- an example with state kept warm between tasks and vars for
a next pipeline step: counts the words of payload["text"], returns the top
ones, and hands the total on as a variable.

    shoal-worker --handler 'wc[procs=2,max_tasks=1000]=python3 examples/handlers/wordcount.py'
    echo '{"handler": "wc", "payload": {"text": "a b a"}}' | shoal submit --wait -
"""
import collections
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shoal_handler  # noqa: E402

WORD = re.compile(r"\w+", re.UNICODE)     # compiled once, used for every task


def count(payload, vars, task):
    if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
        raise shoal_handler.Fail('payload must be {"text": "..."}', retry=False)
    words = collections.Counter(w.lower() for w in WORD.findall(payload["text"]))
    total = sum(words.values())
    return shoal_handler.Answer({"total": total, "top": words.most_common(5)}, {"words": str(total)})


shoal_handler.serve(count)
