#!/usr/bin/python3
"""The table of bench/peers.sh: from the last run in a side_by_side.jsonl,
each measurement with the load average before it, then shoal's ratios to
the peers and to the bare libcurl loop, run by run (the runs alternate, so
run k of shoal is compared with run k of the peer).
    peers_table.py FILE [BACK]     BACK = 1 (default): the last run, 2: the one before"""
import json
import sys
from collections import defaultdict

path = sys.argv[1]
runs, cur, load = [], None, "?"
for line in open(path):
    line = line.strip()
    if line.startswith("# ") and " shoal " in line:
        cur = defaultdict(list)
        runs.append((line, cur))
    elif line.startswith("# load "):
        load = line[len("# load "):]
    elif cur is not None and line.startswith("{"):
        r = json.loads(line[: line.rfind("}") + 1])
        r["load"] = load
        cur[(r["system"], r["workload"])].append(r)
if not runs:
    sys.exit(f"{path}: no run found")
back = int(sys.argv[2]) if len(sys.argv) > 2 else 1
if back < 1 or back > len(runs):
    sys.exit(f"{path}: {len(runs)} runs, no run {back} from the end")
head, d = runs[-back]
print(head)
print()
print("| system | workload | N | jobs/s | start->first pickup s | load before |")
print("|---|---|---|---|---|---|")
for (sy, wl), rs in sorted(d.items()):
    for r in rs:
        print(f"| {sy} | {wl} | {r['N']} | {r['process_rate']} | {r.get('worker_start_to_first_pickup_s', '-')} | {r['load']} |")


def rate(sy, wl, k):
    rs = d.get((sy, wl), [])
    return rs[k]["process_rate"] if k < len(rs) else None


reps = max((len(v) for v in d.values()), default=0)
print()
print("| ratio | " + " | ".join(f"run {k + 1}" for k in range(reps)) + " | target | met |")
print("|---|" + "---|" * reps + "---|---|")


def row(name, values, target, fmt):
    vs = [v for v in values if v is not None]
    met = "-" if target is None or not vs else ("yes" if min(vs) >= target else "no")
    cells = " | ".join("-" if v is None else fmt(v) for v in values)
    tgt = "-" if target is None else fmt(target).replace(" ", "")
    print(f"| {name} | {cells} | >= {tgt} | {met} |" if target is not None else f"| {name} | {cells} | - | - |")


def ratio(a, b):
    return a / b if a and b else None


x = lambda v: f"{v:.2f}x"
pct = lambda v: f"{100 * v:.0f}%"
row("shoal http (bodies in rows) / gearmand http",
    [ratio(rate("shoal", "http", k), rate("gearmand", "http", k)) for k in range(reps)], 2.0, x)
row("shoal http (bodies in rows) / bare libcurl multi loop",
    [ratio(rate("shoal", "http", k), rate("curl_multi", "http", k)) for k in range(reps)], 0.8, pct)
row("shoal http_discard / gearmand http",
    [ratio(rate("shoal", "http_discard", k), rate("gearmand", "http", k)) for k in range(reps)], None, x)
durable = ("graphile-worker", "bullmq")
row("shoal null / best durable peer null (graphile-worker, BullMQ)",
    [ratio(rate("shoal", "null", k), max((rate(p, "null", k) or 0) for p in durable)) for k in range(reps)], 5.0, x)
for sy in sorted({s for s, _ in d}):
    cells = []
    for k in range(reps):
        ts = [str(d[(sy, wl)][k].get("worker_start_to_first_pickup_s")) for wl in ("null", "http")
              if len(d.get((sy, wl), [])) > k and d[(sy, wl)][k].get("worker_start_to_first_pickup_s") is not None]
        cells.append(" / ".join(ts) or "-")
    if any(c != "-" for c in cells):
        print(f"| first pickup after the workers start, {sy} (s, null / http) | " + " | ".join(cells) + " | - | - |")
