#!/usr/bin/env bash
# The bare libcurl multi loop (bench/curl_multi.c) against the peers' nginx,
# printed as one side_by_side.jsonl line (system "curl_multi"), so that
# bench/peers.sh measures it in the same run as shoal and the peers.
#   bench/peers_curl.sh N CONCURRENCY      (SHOAL_BIN: the build directory)
set -euo pipefail
n=$1 conc=$2
url=${PEERS_URL:-http://127.0.0.1:18080/2k.txt}
out=$(/usr/bin/time -f 'cpu_s=%U %S' "$SHOAL_BIN/bench/bench_curl_multi" "$url" "$n" "$conc" 2>&1)
# curl_multi_requests=N concurrency=C failed=F seconds=S requests_per_s=R, then cpu_s=USER SYS
kv() { printf '%s\n' "$out" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }
cpu=$(printf '%s\n' "$out" | sed -n 's/^cpu_s=//p')
[ -n "$(kv requests_per_s)" ] || { echo "peers_curl.sh: bench_curl_multi failed: $out" >&2; exit 1; }
printf '{"system": "curl_multi", "workload": "http", "N": %s, "concurrency": %s, "failed": %s, "process_s": %s, "process_rate": %s, "wall_s": %s, "cpu_s": %s}\n' \
    "$n" "$conc" "$(kv failed)" "$(kv seconds)" "$(kv requests_per_s)" "$(kv seconds)" \
    "$(awk -v u="${cpu% *}" -v s="${cpu#* }" 'BEGIN { printf "%.2f", u + s }')"
