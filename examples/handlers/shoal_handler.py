"""shoal_handler -- write a shoal handler in Python, with no library.

A handler is a long-lived process that shoal-worker feeds one task at a
time: a JSON line on stdin, one JSON line back on stdout (the protocol is
docs/handlers.md). This module is that loop; copy it next to your script
or put it on PYTHONPATH.

    import shoal_handler

    def ocr(payload, vars, task):
        text = run_ocr(payload["image"])            # your code
        return {"text": text}                       # -> results.output

    shoal_handler.serve(ocr)

Return any JSON value: it becomes the task's output. Return
shoal_handler.Answer(output, vars) to also hand variables to the next
pipeline step. Raise shoal_handler.Fail("why", retry=False) for a failure
that retrying cannot fix; any other exception fails the task retryably
(its traceback goes to stderr, which lands in the worker's log).

print() is safe: while serving, sys.stdout is redirected to stderr, so
only answers reach the worker.
"""
import json
import sys
import traceback

__all__ = ["serve", "Answer", "Fail"]


class Answer:
    """An output and the variables for the next pipeline step."""

    def __init__(self, output=None, vars=None):
        self.output = output
        self.vars = vars


class Fail(Exception):
    """A failure the handler reports; retry=False makes it final."""

    def __init__(self, error, retry=True):
        super().__init__(error)
        self.retry = retry


def _answer(task_id, fn, task):
    try:
        result = fn(task.get("payload"), task.get("vars") or {}, task)
    except Fail as e:
        return {"id": task_id, "ok": False, "error": str(e), "retry": e.retry}
    except Exception as e:  # the task failed, the process goes on
        traceback.print_exc(file=sys.stderr)
        return {"id": task_id, "ok": False, "error": "%s: %s" % (type(e).__name__, e), "retry": True}
    if isinstance(result, Answer):
        answer = {"id": task_id, "ok": True, "output": result.output}
        if result.vars is not None:
            answer["vars"] = result.vars
        return answer
    return {"id": task_id, "ok": True, "output": result}


def serve(fn, ready=True):
    """Answer tasks with fn(payload, vars, task) until stdin ends.

    task holds the whole line: id, attempt, deadline_ms (Unix ms), payload,
    vars. ready=True says {"ready": true} first, which tells the worker the
    process started (so a crash on a task is not taken for a bad command).
    """
    out = sys.stdout
    sys.stdout = sys.stderr
    if ready:
        out.write('{"ready": true}\n')
        out.flush()
    for line in sys.stdin:
        try:
            task = json.loads(line)
            task_id = task["id"]
        except (ValueError, KeyError, TypeError):
            print("shoal_handler: not a task line: %.200r" % line, file=sys.stderr)
            continue
        answer = _answer(task_id, fn, task)
        try:
            text = json.dumps(answer, ensure_ascii=False)
        except (TypeError, ValueError) as e:
            text = json.dumps({"id": task_id, "ok": False, "retry": False,
                               "error": "the output is not JSON: %s" % e})
        out.write(text + "\n")
        out.flush()
