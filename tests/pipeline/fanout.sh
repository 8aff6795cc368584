#!/usr/bin/env bash
# Test 2 of issue 10: a fan-out crawl, 500 listing pages (--range) x 40
# links each (an all:regex extraction) -> 20,000 downloads: one task and
# one result row per link, created by its page's result (element = the
# link's index, unique per parent), every PDF fetched once, the items view
# says 500 complete items of 41 tasks; then a page with more links than
# max_each fails with the reason and creates nothing.
. "$(dirname "$0")/helpers.bash"

PAGES=${PAGES:-500}
LINKS=40
t_db
p_server $LINKS
p_crawl_pipeline 500
# the default heartbeat: at 200 ms a stalled machine (the sanitizer build
# under ctest -j2) declared both workers lost and 64 of their tasks ran
# twice, as at-least-once allows, and this test counts every fetch
t_broker
t_worker w1 --slots 32 --body-dir "$T_DIR/bodies"
t_worker w2 --slots 32 --body-dir "$T_DIR/bodies"
t_wait_workers 2

job=$(shoal submit --pipeline "$T_DIR/crawl.json" --range "page=1..$PAGES" --key crawl-1 -q)
# the job's items while it runs (an item is complete once its last PDF is):
# "complete running waiting" sampled from shoal status until the job is done
while [ "$(shoal -o json status "$job" | tee "$T_DIR/status.json" | jq -r .state)" = active ]; do
    jq -r '.items | "\(.complete) \(.running) \(.waiting) \(.total)"' "$T_DIR/status.json" >> "$T_DIR/items.seq"
    sleep 0.2
done
t_wait_done "$job" 300
cut -d' ' -f1 "$T_DIR/items.seq" | sort -n -c || t_fail "complete items went down: $(cut -d' ' -f1 "$T_DIR/items.seq" | xargs)"
awk -v n="$PAGES" '$1 + $2 + $3 != n || $4 != n { bad++ } END { exit bad > 0 }' "$T_DIR/items.seq" \
    || t_fail "complete + running + waiting is not every page: $(head -c 600 "$T_DIR/items.seq")"
t_assert_eq "items seen running mid-job" 1 "$(awk '$2 > 0 { n++ } END { print (n > 0) }' "$T_DIR/items.seq")"
t_log "ok: $(wc -l < "$T_DIR/items.seq") samples of the items, complete never went back"
t_assert_eq "status: every page an item, complete" "$PAGES $PAGES 0 0 0 0" \
    "$(shoal -o json status "$job" | jq -r '.items | "\(.total) \(.complete) \(.failed) \(.cancelled) \(.running) \(.waiting)"')"
total=$((PAGES * (LINKS + 1)))
t_assert_eq "pages and links: one task and one ok result each" "$total|$total|$total" \
    "$(t_sql "SELECT count(*), count(r.seq), count(*) FILTER (WHERE r.outcome = 'ok')
              FROM tasks t LEFT JOIN results r USING (job_id, seq) WHERE t.job_id = $job")"
t_assert_eq "each page fetched once, each PDF once" "$PAGES $((PAGES * LINKS)) 0 0" \
    "$(p_stats | jq -r '"\(.list) \(.pdf) \(.pages_twice) \(.pdfs_twice)"')"
t_assert_eq "children: element 0..39 under each page, unique (root, step, element)" "$((PAGES * LINKS))|$PAGES|0|39|0" \
    "$(t_sql "SELECT count(*), count(DISTINCT parent), min(element), max(element),
              (SELECT count(*) FROM (SELECT 1 FROM tasks WHERE job_id = $job AND root IS NOT NULL
                                     GROUP BY root, step, element HAVING count(*) > 1) d)
              FROM tasks WHERE job_id = $job AND step = 1")"
t_assert_eq "a child's URL is its link" "GET http://127.0.0.1:$CHECK_PORT/pdf/7-3.pdf" \
    "$(t_sql "SELECT c.target FROM tasks c JOIN tasks p ON p.job_id = c.job_id AND p.seq = c.parent
              WHERE c.job_id = $job AND c.element = 3 AND p.seq = 6")"
t_assert_eq "items view: every page an item, complete, with 41 tasks" "$PAGES|$PAGES|41|41|pdf" \
    "$(t_sql "SELECT count(*), count(*) FILTER (WHERE outcome = 'complete'), min(tasks), max(tasks), min(step_name)
              FROM items WHERE job_id = $job")"
t_assert_eq "the bodies are in the body directory" "$((PAGES * LINKS))" \
    "$(t_sql "SELECT count(DISTINCT body_path) FROM results r JOIN tasks t USING (job_id, seq)
              WHERE t.job_id = $job AND t.step = 1")"

# over the cap: 40 links, max_each 10
p_crawl_pipeline 10
job2=$(shoal submit --pipeline "$T_DIR/crawl.json" --range "page=1..3" --key crawl-cap -q)
t_wait_done "$job2" 60
t_assert_eq "pages over the cap fail, nothing created" "3|3|0" \
    "$(t_sql "SELECT count(*), count(*) FILTER (WHERE outcome = 'failed'), (SELECT count(*) FROM tasks WHERE job_id = $job2 AND step = 1)
              FROM items WHERE job_id = $job2")"
t_assert_eq "the reason" "next step 'pdf': each 'links' has 40 elements, more than max_each 10" \
    "$(t_sql "SELECT DISTINCT error FROM items WHERE job_id = $job2")"
t_log "pass"
