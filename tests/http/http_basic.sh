#!/usr/bin/env bash
# HTTP tasks against nginx and the fault server: statuses, bytes, SHA-256,
# bodies kept inline / in the body directory / discarded, selected headers,
# timings, redirects followed / not / too many, job default headers with
# task overrides.
. "$(dirname "$0")/../lib.sh"

t_db
t_nginx
t_fault_server
head -c 3000 /dev/urandom | base64 -w 0 > "$T_DIR/www/small.txt"
head -c 1048576 /dev/urandom > "$T_DIR/www/big.bin"
small_sha=$(sha256sum < "$T_DIR/www/small.txt" | cut -d' ' -f1)
big_sha=$(sha256sum < "$T_DIR/www/big.bin" | cut -d' ' -f1)
small_size=$(stat -c %s "$T_DIR/www/small.txt")
t_broker --heartbeat-ms 200
t_worker w1 --slots 16 --body-dir "$T_DIR/bodies"
t_worker w2 --slots 16 --body-dir "$T_DIR/bodies"
t_wait_workers 2

N="http://127.0.0.1:$NGINX_PORT"
F="http://127.0.0.1:$FAULT_PORT"
{
    for i in $(seq 1 300); do echo "{\"url\": \"$N/small.txt\", \"tag\": \"small-$i\"}"; done
    echo "{\"url\": \"$N/big.bin\", \"tag\": \"big-default\"}"
    echo "{\"url\": \"$N/big.bin\", \"store\": \"dir\", \"tag\": \"big-dir\"}"
    echo "{\"url\": \"$N/big.bin\", \"store\": \"inline\", \"inline_limit\": 1000, \"tag\": \"big-inline\"}"
    echo "{\"url\": \"$N/small.txt\", \"store\": \"discard\", \"tag\": \"discard\"}"
    echo "{\"url\": \"$N/small.txt\", \"method\": \"HEAD\", \"tag\": \"head\"}"
    echo "{\"url\": \"$F/redirect/3\", \"tag\": \"redirect-followed\"}"
    echo "{\"url\": \"$F/redirect/3\", \"follow_redirects\": false, \"tag\": \"redirect-not-followed\"}"
    echo "{\"url\": \"$F/redirect/20\", \"max_redirects\": 5, \"tag\": \"redirect-too-many\"}"
    echo "{\"url\": \"$F/headers\", \"headers\": {\"X-Task\": \"t\", \"X-Both\": \"from-task\"}, \"tag\": \"headers\"}"
    echo "{\"url\": \"$F/weird\", \"tag\": \"weird\"}"
} > "$T_DIR/tasks.jsonl"
job=$(shoal submit "$T_DIR/tasks.jsonl" --name http-basic -H 'X-Job: j' -H 'X-Both: from-job' -q)
t_wait_done "$job" 120
shoal results "$job" --with-body > "$T_DIR/results.jsonl"
r() { jq -c "select(.tag == \"$1\")" "$T_DIR/results.jsonl"; }

t_assert_one_result_each "$job" 310
t_assert_eq "small files ok with status 200" 300 "$(jq -s '[.[] | select((.tag | startswith("small-")) and .outcome == "ok" and .http.status == 200)] | length' "$T_DIR/results.jsonl")"
t_assert_eq "small files: bytes" "$small_size" "$(r small-7 | jq .http.bytes)"
t_assert_eq "small files: sha256" "$small_sha" "$(r small-7 | jq -r .http.sha256)"
t_assert_eq "small files: body kept inline" "$(cat "$T_DIR/www/small.txt")" "$(r small-7 | jq -r .http.body)"
t_assert_eq "small files: content-type" "text/plain" "$(r small-7 | jq -r '.http.headers["content-type"]')"
t_assert_eq "small files: timings present" true "$(r small-7 | jq '.http.timings.total_ms > 0 and .http.timings.connect_ms >= 0')"
# 4 KB bodies stay in their rows' heap pages: nothing went to the TOAST table
# (before migration 9 each was pglz-compressed in vain, then moved there)
t_assert_eq "inline bodies under 8 KB are not toasted" 0 \
    "$(t_sql "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE relname = 'results'")"
t_assert_eq "the database has the columns" "200|$small_size|$small_sha" "$(t_sql "SELECT http_status, bytes, sha256 FROM results WHERE job_id = $job AND seq = 6")"

t_assert_eq "1 MiB default: no body kept, hash and size" "1048576|$big_sha|null" "$(r big-default | jq -r '"\(.http.bytes)|\(.http.sha256)|\(.http.body)"')"
path=$(r big-dir | jq -r .http.body_path)
t_assert_eq "stored in the body directory by hash" "$T_DIR/bodies/$big_sha" "$path"
cmp -s "$path" "$T_DIR/www/big.bin" || t_fail "the stored body differs from the file"
t_assert_eq "inline limit 1000" 1000 "$(t_sql "SELECT length(body) FROM results WHERE job_id = $job AND seq = 302")"
t_assert_eq "discard keeps hash and size only" "$small_sha|$small_size|null" "$(r discard | jq -r '"\(.http.sha256)|\(.http.bytes)|\(.http.body)"')"
t_assert_eq "HEAD" "200|0" "$(r head | jq -r '"\(.http.status)|\(.http.bytes)"')"

t_assert_eq "redirect followed" "ok|200|/redirect/0" "$(r redirect-followed | jq -r '"\(.outcome)|\(.http.status)|\(.http.final_url | sub(".*(?<p>/redirect/.*)"; "\(.p)"))"')"
t_assert_eq "redirect not followed" "ok|302|/redirect/2" "$(r redirect-not-followed | jq -r '"\(.outcome)|\(.http.status)|\(.http.headers.location)"')"
t_assert_eq "too many redirects: failed at once" "failed|1" "$(r redirect-too-many | jq -r '"\(.outcome)|\(.attempt)"')"
r redirect-too-many | jq -r .error | grep -qi "redirect" || t_fail "the error does not mention redirects"

sent=$(r headers | jq -r .http.body)
t_assert_eq "job header sent" j "$(jq -r '.["x-job"]' <<<"$sent")"
t_assert_eq "task header sent" t "$(jq -r '.["x-task"]' <<<"$sent")"
t_assert_eq "task header overrides the job's" from-task "$(jq -r '.["x-both"]' <<<"$sent")"
t_assert_eq "user agent" "shoal/" "$(jq -r '.["user-agent"]' <<<"$sent" | cut -c1-6)"
# hostile header values are stored as valid JSON text
t_assert_eq "odd headers stored (the control character becomes a space)" 'ok|text/plain; x="a\b" |"??"' \
    "$(t_sql "SELECT outcome, headers->>'content-type', headers->>'etag' FROM results WHERE job_id = $job AND seq = 309" | sed 's/[[:cntrl:]]//g')"
t_log "pass"
