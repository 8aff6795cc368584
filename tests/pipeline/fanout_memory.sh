#!/usr/bin/env bash
# Test 5 of issue 10: broker memory on a fan-out of 2,000 listing pages x
# 500 links = 1,000,000 child tasks (noop steps tagged with their link, so
# the test measures the broker, not downloads). Children are paged like
# any task: the broker's RSS, sampled throughout, stays under the same
# 150 MB bound as a 2,000,000-task plain job (tests/fault/bounded_memory.sh,
# docs/pipelines.md), and every child has its one result.
. "$(dirname "$0")/helpers.bash"
[ "${SHOAL_SANITIZED:-0}" = 1 ] && t_skip "memory figures are meaningless under AddressSanitizer"

PAGES=${PAGES:-2000}
LINKS=500
bound_kb=$((150 * 1024))
t_db
p_server $LINKS
cat > "$T_DIR/fan.json" <<JSON
{"max_each": $LINKS, "steps": [
  {"name": "page", "url": "$S/list?page={{page}}",
   "extract": {"links": "all:regex:href=\"(/pdf/[^\"]+)\""}},
  {"name": "link", "each": "links", "kind": "noop", "tag": "{{links}}"}
]}
JSON
# the default heartbeat: on a loaded machine a 200 ms one loses workers,
# and pages that run out of attempts would leave links uncreated
t_broker
t_worker w1 --slots 64
t_worker w2 --slots 64
t_wait_workers 2

rss() { awk '/VmRSS/ { print $2 }' "/proc/${PID[broker]}/status"; }
max=0
sample() { local r; r=$(rss); [ "$r" -gt "$max" ] && max=$r; echo "$r" >> "$T_DIR/rss"; }
job=$(shoal submit --pipeline "$T_DIR/fan.json" --range "page=1..$PAGES" --max-attempts 20 --key fan-1 -q)
deadline=$(( $(date +%s) + 600 ))
until t_job_done "$job"; do
    sample
    [ "$(date +%s)" -lt $deadline ] || t_fail "job not done in 600 s ($(t_results "$job") results)"
    sleep 0.2
done
sample
t_log "broker RSS: at most $((max / 1024)) MB over $(wc -l < "$T_DIR/rss") samples (bound $((bound_kb / 1024)) MB)"
[ "$max" -lt "$bound_kb" ] || t_fail "broker RSS reached $((max / 1024)) MB"
t_assert_eq "every page and child once, each with its result" "$((PAGES * (LINKS + 1)))|$((PAGES * (LINKS + 1)))" \
    "$(t_sql "SELECT count(*), count(r.seq) FROM tasks t LEFT JOIN results r USING (job_id, seq) WHERE t.job_id = $job")"
t_assert_eq "pages fetched once" "$PAGES 0" "$(p_stats | jq -r '"\(.list) \(.pages_twice)"')"
t_log "pass"
