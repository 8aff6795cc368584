#!/usr/bin/env bash
# shoal against its peers in ONE run (issue 16): builds shoal (RelWithDebInfo),
# runs ../shared/peers/side_by_side.sh (shoal, gearmand, graphile-worker and
# BullMQ alternately, twice each, on the same PostgreSQL, nginx and Redis)
# with, after each of shoal's HTTP runs, the bare libcurl multi loop
# (bench/curl_multi.c) against the same nginx URL with shoal's concurrency
# (2 workers x 64 slots = 128), and prints one table of ratios.
#
#   bench/peers.sh [HTTP_N]     default 50000 (side_by_side.sh's own sizes,
#                               ~10 min on a quiet machine, far longer loaded)
#
# HTTP_N below 50000 scales every size of the run by HTTP_N/50000 (null jobs
# 200k -> 4 x HTTP_N, graphile/BullMQ 100k/20k -> 2 x / 0.4 x HTTP_N); the
# table says which sizes were used. The load average is recorded before each
# measurement. Needs the peers' set-up (scripts/deps.sh peers, then see
# ../shared/peers/README.md: the system PostgreSQL 15 cluster with a
# superuser role for the caller). Raw lines: $PEERS_WORK/results/side_by_side.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
HTTP_N=${1:-50000}
# the peers' folder: beside the checkout (../shared/peers), or beside a worktree's parent
peers=${SHOAL_PEERS:-}
[ -n "$peers" ] || for c in ../shared/peers ../../shared/peers; do [ -d "$c" ] && peers=$(cd "$c" && pwd) && break; done
[ -x "$peers/side_by_side.sh" ] || { echo "peers.sh: no side_by_side.sh in $peers (set SHOAL_PEERS)" >&2; exit 2; }
case $HTTP_N in ''|*[!0-9]*) echo "peers.sh: HTTP_N must be a number of tasks, got '$HTTP_N'" >&2; exit 2;; esac
[ "$HTTP_N" -ge 1000 ] && [ "$HTTP_N" -le 50000 ] || { echo "peers.sh: HTTP_N must be 1000..50000, got $HTTP_N" >&2; exit 2; }
scripts/deps.sh peers >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
export SHOAL_BIN=$PWD/build SHOAL_SRC=$PWD
export PEERS_WORK=${PEERS_WORK:-/tmp/shoal-peers}

# side_by_side.sh copies its own folder to PEERS_WORK and runs there: give it
# a copy whose script has the scaled sizes, a load line before each
# measurement and the bare curl loop after each shoal HTTP run.
src=$PEERS_WORK/.src
rm -rf "$src" && mkdir -p "$src" && cp -r "$peers"/. "$src"/ && chmod -R u+w "$src"
s=$src/side_by_side.sh
scale() { echo $(( $1 * HTTP_N / 50000 )); }
load='echo "# load $(cut -d" " -f1-3 /proc/loadavg)" >> $out; '
curl_line="  ${load}$SHOAL_SRC/bench/peers_curl.sh $(scale 50000) 128 | tee -a \$out"
n_shoal_http=$(grep -c '^  shoal/bench.py http 50000 64 ' "$s" || true)
n_bench=$(grep -c '| tee -a $out$' "$s" || true)
[ "$n_shoal_http" = 1 ] && [ "$n_bench" -ge 10 ] || {
    echo "peers.sh: $peers/side_by_side.sh no longer has the lines this script patches (shoal http runs: $n_shoal_http)" >&2; exit 2; }
# (each size is replaced before the larger one it could be scaled to)
sed -i -e "s/ null 100000 / null $(scale 100000) /; s/ null 200000 / null $(scale 200000) /" \
       -e "s/ http 20000 / http $(scale 20000) /" \
       -e "s/ http 50000 / http $(scale 50000) /; s/ http_discard 50000 / http_discard $(scale 50000) /" \
       -e "/| tee -a \$out\$/s/^  /  $(printf '%s' "$load" | sed 's/[&/\]/\\&/g')/" \
       -e "/shoal\/bench.py http [0-9]* 64 /a\\
$(printf '%s' "$curl_line" | sed 's/[&/\]/\\&/g')" "$s"
# shoal/bench.py draws its three ports at random in 30000-49999, inside the
# kernel's ephemeral range that every other test's connections use: draw
# again until the three can be bound (a broker that cannot bind its port
# stops the run, and a port taken by another helper's broker would receive
# this run's requests).
b=$src/shoal/bench.py
grep -q '^base = 30000 + random.randrange(20000)$' "$b" || { echo "peers.sh: $b no longer draws its ports as this script expects" >&2; exit 2; }
sed -i 's/^base = 30000 + random.randrange(20000)$/import socket\
def free(b):\
    try:\
        for i in range(3): socket.socket().bind(("127.0.0.1", b + i))\
    except OSError: return False\
    return True\
base = next(b for b in iter(lambda: 30000 + random.randrange(20000), None) if free(b))/' "$b"
echo "# peers.sh: HTTP_N=$HTTP_N, shoal $(git rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
PEERS_WORK=$PEERS_WORK "$s" | sed 's/^/  /'
# side_by_side.sh copies its reference results over results/ at every run:
# this run's lines (from its header on) are kept in peers_runs.jsonl beside it
runs=$PEERS_WORK/peers_runs.jsonl
awk '/^# [0-9-]+T.* shoal / { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' \
    "$PEERS_WORK/results/side_by_side.jsonl" >> "$runs"
echo "# raw lines: $runs"
/usr/bin/python3 bench/peers_table.py "$runs"
