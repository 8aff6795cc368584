#!/usr/bin/env bash
# shoal results with the fields of HTTP and exec results: headers, status,
# timings, text and binary bodies (--with-body: JSON string or {"base64"},
# CSV base64 column), exec exit codes and output tails. Bodies stay out
# unless asked for. 70 stored bodies of 1 MiB (more than one 64 MiB frame
# together) export completely: the broker cuts pages by size.
# No worker runs these tasks: the result rows are written with SQL, the
# way the schema is documented.
. "$(dirname "$0")/helpers.bash"

t_db
t_broker

job=$(shoal submit --url-template 'https://b.example/{1..73}' -q)
t_sql "INSERT INTO results (job_id, seq, outcome, attempt, worker, started_at, finished_at, http_status, final_url,
           headers, bytes, sha256, body, truncated, dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms)
       VALUES ($job, 0, 'ok', 1, 'wx', now(), now(), 200, 'https://b.example/1',
           '{\"content-type\": \"text/plain\", \"etag\": \"x1\"}', 13, 'abc123', convert_to(E'hello, world\\n', 'UTF8'),
           false, 1.5, 2.5, 3.5, 10.25, 12.75),
              ($job, 1, 'ok', 1, 'wx', now(), now(), 200, NULL, NULL, 3, 'def456', '\\x0001ff'::bytea, false,
           NULL, NULL, NULL, NULL, 4),
              ($job, 2, 'failed', 3, 'wx', now(), now(), 404, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 2)" >/dev/null
t_sql "UPDATE results SET error = 'HTTP 404' WHERE job_id = $job AND seq = 2" >/dev/null
t_sql "INSERT INTO results (job_id, seq, outcome, attempt, worker, http_status, bytes, body)
       SELECT $job, s, 'ok', 1, 'wx', 200, 1048576, convert_to(repeat(chr(65 + s % 26), 1048576), 'UTF8')
       FROM generate_series(3, 72) s" >/dev/null

# without --with-body: every field but the body
t_run plain shoal results "$job"
t_rc "results" 0
t_assert_eq "rows" 73 "$(wc -l < "$T_DIR/plain.out")"
t_assert_eq "no body without --with-body" 0 "$(jq -r 'select(.http.body != null) | .seq' "$T_DIR/plain.out" | wc -l)"
t_assert_eq "row 0: status, final_url, header, bytes, sha256, timings, target" \
    "200 https://b.example/1 text/plain 13 abc123 1.5 12.75 GET https://b.example/1" \
    "$(jq -r 'select(.seq == 0) | "\(.http.status) \(.http.final_url) \(.http.headers["content-type"]) \(.http.bytes) \(.http.sha256) \(.http.timings.dns_ms) \(.http.timings.total_ms) \(.target)"' "$T_DIR/plain.out")"
t_assert_eq "row 2: a failure" "failed 3 404 HTTP 404" \
    "$(jq -r 'select(.seq == 2) | "\(.outcome) \(.attempt) \(.http.status) \(.error)"' "$T_DIR/plain.out")"

# --with-body: text as a string, binary as base64
t_run body shoal results "$job" --with-body
t_rc "results --with-body over more than 64 MiB of bodies" 0
t_assert_eq "rows with bodies" 73 "$(wc -l < "$T_DIR/body.out")"
t_assert_eq "a text body" '"hello, world\n"' "$(jq -c 'select(.seq == 0) | .http.body' "$T_DIR/body.out")"
t_assert_eq "a binary body" '{"base64":"AAH/"}' "$(jq -c 'select(.seq == 1) | .http.body' "$T_DIR/body.out")"
t_assert_eq "no body stored, none shown" null "$(jq -c 'select(.seq == 2) | .http.body' "$T_DIR/body.out")"
t_assert_eq "70 bodies of 1 MiB, each its own letter" "70 0" \
    "$(jq -r 'select(.seq >= 3) | "\(.seq) \(.http.body | length) \(.http.body[0:1])"' "$T_DIR/body.out" \
       | awk '{ n++; want = sprintf("%c", 65 + $1 % 26); if ($2 != 1048576 || $3 != want) bad++ } END { print n, bad + 0 }')"

# CSV: the body as base64 in the last column
t_run csv shoal results "$job" --with-body --format csv
t_rc "results --with-body --format csv" 0
t_assert_eq "CSV header ends with body_b64" body_b64 "$(head -n 1 "$T_DIR/csv.out" | awk -F, '{ print $NF }')"
t_assert_eq "CSV text body" "hello, world" "$(awk -F, '$2 == 0 { print $NF }' "$T_DIR/csv.out" | base64 -d)"
t_assert_eq "CSV binary body" "0001ff" "$(awk -F, '$2 == 1 { print $NF }' "$T_DIR/csv.out" | base64 -d | xxd -p)"
t_assert_eq "CSV row 0 columns" "0,ok,1,GET https://b.example/1,,wx,,200,13,abc123,https://b.example/1,,12.750" \
    "$(awk -F, '$2 == 0' "$T_DIR/csv.out" | cut -d, -f2-14)"
t_assert_eq "CSV rows" 74 "$(wc -l < "$T_DIR/csv.out")"
t_run failed shoal results "$job" --failed --format csv
t_assert_eq "--failed: only the failure" "2,failed,3" "$(sed -n 2p "$T_DIR/failed.out" | cut -d, -f2-4)"
t_assert_eq "--failed: one row" 2 "$(wc -l < "$T_DIR/failed.out")"

# exec results: exit code, signal, output tails
printf '{"argv": ["sh", "-c", "echo out; echo err >&2"]}\n{"argv": ["sleep", "99"]}\n' > "$T_DIR/exec.jsonl"
xjob=$(shoal submit "$T_DIR/exec.jsonl" -q)
t_sql "INSERT INTO results (job_id, seq, outcome, attempt, worker, exit_code, stdout, stderr)
       VALUES ($xjob, 0, 'ok', 1, 'wx', 0, E'out\\n', E'err\\n'), ($xjob, 1, 'failed', 1, 'wx', NULL, '', '')" >/dev/null
t_sql "UPDATE results SET signal = 9, error = 'killed by signal 9' WHERE job_id = $xjob AND seq = 1" >/dev/null
t_assert_eq "exec result fields" '0 "out\n" "err\n" sh -c echo out; echo err >&2|null 9 killed by signal 9' \
    "$(shoal results "$xjob" | jq -r '"\(.exec.exit_code) \(.exec.stdout | tojson) \(.exec.stderr | tojson) \(.target)|\(.exec.exit_code) \(.exec.signal) \(.error)"' | paste -sd '|' | cut -d'|' -f1,4)"
t_assert_eq "exec exit code in CSV" 0 "$(shoal results "$xjob" --format csv | awk -F, '$2 == 0 { print $15 }')"
t_log "pass"
