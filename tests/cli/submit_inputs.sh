#!/usr/bin/env bash
# shoal submit reads every input format into the task specs it says: JSONL
# with every field of http, exec and noop tasks (checked by decoding the
# stored specs), a URL list, CSV with header:Name columns, URL templates
# with steps, padding and several ranges, stdin; the job options on the
# command line become the job's stored defaults; without --key every
# submit is a new job, with --key it is the same one; the progress line
# shows on a terminal only. No worker runs: the tasks stay queued.
. "$(dirname "$0")/helpers.bash"

t_db
t_broker

# ---------------------------------------------------------------- JSONL, every field
cat > "$T_DIR/tasks.jsonl" <<'EOF'
{"url": "https://api.example.com/a?x=1", "method": "put", "headers": {"Accept": "text/html", "X-Id": "7"}, "body": "hello", "cookies": "a=1; b=2", "proxy": "http://proxy.example:3128", "connect_timeout_ms": 1500, "follow_redirects": true, "max_redirects": 4, "insecure": true, "max_response_bytes": 1048576, "store": "dir", "inline_limit": 4096, "timeout_ms": 9000, "tag": "first", "retry": {"max_attempts": 5, "backoff_ms": 200, "backoff_max_ms": 3000, "jitter_pct": 10, "retry_status": [503, 429]}}

# a comment line and a blank line are skipped
{"kind": "http", "url": "http://upload.example/put", "headers": ["Content-Type: application/octet-stream", ["X-Pair", "v"]], "body_b64": "AAEC/w==", "max_attempts": 2, "backoff_ms": 50}
{"url": "https://upload.example/file", "body_file": "/data/in.bin", "store": "discard"}
{"url": "https://form.example/post", "form": [{"name": "title", "value": "T"}, {"name": "file", "file": "/data/a.png", "filename": "a.png", "content_type": "image/png"}], "store": "inline"}
{"argv": ["convert", "in.png", "out.jpg"], "stdin": "input text", "env": {"LANG": "C"}, "cwd": "/tmp", "tail_bytes": 2048, "timeout_ms": 30000}
{"kind": "exec", "argv": ["true"], "stdin_b64": "AP8=", "env": ["A=1", "B=2"]}
{"kind": "noop", "sleep_ms": 5, "fail_until_attempt": 3, "crash": false, "tag": "n"}
{"kind": "noop"}
EOF
job=$(shoal submit --key jsonl-all "$T_DIR/tasks.jsonl" -q)
t_assert_eq "tasks from the JSONL file" "8|t" "$(t_job_row "$job" "n_tasks, sealed")"
t_assert_eq "job name defaults to the file name" tasks.jsonl "$(t_job_row "$job" name)"
t_assert_eq "kinds" "http,http,http,http,exec,exec,noop,noop" \
    "$(t_sql "SELECT string_agg(kind, ',' ORDER BY seq) FROM tasks WHERE job_id = $job")"
t_assert_eq "targets" "PUT https://api.example.com/a?x=1|POST http://upload.example/put|convert in.png out.jpg|noop sleep=5ms" \
    "$(t_sql "SELECT string_agg(target, '|' ORDER BY seq) FROM tasks WHERE job_id = $job AND seq IN (0, 1, 4, 6)")"

spec() { t_decode TaskSpec "SELECT spec FROM tasks WHERE job_id = $job AND seq = $1" > "$T_DIR/spec$1.txt"; }
for i in 0 1 2 3 4 5 6 7; do spec $i; done
s0=$T_DIR/spec0.txt
for want in 'timeout_ms: 9000' 'max_attempts: 5' 'backoff_ms: 200' 'backoff_max_ms: 3000' 'jitter_pct: 10' \
            'retry_status: 503' 'retry_status: 429' 'tag: "first"' 'method: "PUT"' 'url: "https://api.example.com/a\?x=1"' \
            'name: "Accept"' 'value: "text/html"' 'name: "X-Id"' 'body: "hello"' 'cookies: "a=1; b=2"' \
            'proxy: "http://proxy.example:3128"' 'connect_timeout_ms: 1500' 'follow_redirects: true' \
            'max_redirects: 4' 'insecure: true' 'max_response_bytes: 1048576' 'store: STORE_DIR' 'inline_limit: 4096'; do
    t_grep "http spec has $want" "$want" "$s0"
done
for want in 'max_attempts: 2' 'backoff_ms: 50' 'name: "Content-Type"' 'value: "application/octet-stream"' \
            'name: "X-Pair"' 'body: "\\000\\001\\002\\377"'; do
    t_grep "second http spec has $want" "$want" "$T_DIR/spec1.txt"
done
t_grep "body_file" 'body_file: "/data/in.bin"' "$T_DIR/spec2.txt"
t_grep "store discard" 'store: STORE_DISCARD' "$T_DIR/spec2.txt"
for want in 'name: "title"' 'value: "T"' 'file: "/data/a.png"' 'filename: "a.png"' 'content_type: "image/png"' 'store: STORE_INLINE'; do
    t_grep "form has $want" "$want" "$T_DIR/spec3.txt"
done
for want in 'argv: "convert"' 'argv: "out.jpg"' 'stdin: "input text"' 'env: "LANG=C"' 'cwd: "/tmp"' 'tail_bytes: 2048' 'timeout_ms: 30000'; do
    t_grep "exec spec has $want" "$want" "$T_DIR/spec4.txt"
done
t_grep "exec stdin_b64" 'stdin: "\\000\\377"' "$T_DIR/spec5.txt"
t_grep "exec env list" 'env: "B=2"' "$T_DIR/spec5.txt"
for want in 'sleep_ms: 5' 'fail_until_attempt: 3' 'crash: false' 'tag: "n"'; do
    t_grep "noop spec has $want" "$want" "$T_DIR/spec6.txt"
done
t_grep "bare noop" 'noop \{' "$T_DIR/spec7.txt"

# ---------------------------------------------------------------- URL list
printf 'https://a.example/1\n\n# comment\n  https://a.example/2  \r\nhttp://b.example:8080/3?q=a%%20b\r\n' > "$T_DIR/list.txt"
job=$(shoal submit "$T_DIR/list.txt" -q)       # .txt: the format is urls
t_assert_eq "URL list targets" "GET https://a.example/1|GET https://a.example/2|GET http://b.example:8080/3?q=a%20b" \
    "$(t_sql "SELECT string_agg(target, '|' ORDER BY seq) FROM tasks WHERE job_id = $job")"

# ---------------------------------------------------------------- CSV
cat > "$T_DIR/items.csv" <<'EOF'
url,method,tag,timeout_ms,header:Accept,header:X-Token,follow_redirects,max_attempts,body
https://c.example/1,POST,"one, with comma",1234,application/json,abc,true,4,"say ""hi"""
https://c.example/2,,,,,,,,
EOF
job=$(shoal submit "$T_DIR/items.csv" -q)
t_assert_eq "CSV rows" 2 "$(t_job_row "$job" n_tasks)"
t_decode TaskSpec "SELECT spec FROM tasks WHERE job_id = $job AND seq = 0" > "$T_DIR/csv0.txt"
for want in 'url: "https://c.example/1"' 'method: "POST"' 'tag: "one, with comma"' 'timeout_ms: 1234' \
            'name: "Accept"' 'value: "application/json"' 'name: "X-Token"' 'value: "abc"' \
            'follow_redirects: true' 'max_attempts: 4' 'body: "say \\"hi\\""'; do
    t_grep "CSV spec has $want" "$want" "$T_DIR/csv0.txt"
done
t_decode TaskSpec "SELECT spec FROM tasks WHERE job_id = $job AND seq = 1" > "$T_DIR/csv1.txt"
t_nogrep "empty CSV cells are unset" 'method|tag|timeout|headers|body' "$T_DIR/csv1.txt"

# Excel's "CSV UTF-8": a byte-order mark, ';' (European locales), CRLF, a
# cell with a line break in it
printf '\xef\xbb\xbfurl;tag;body\r\nhttps://e.example/1;"a;b";"line one\r\nline two"\r\nhttps://e.example/2;;\r\n' \
    > "$T_DIR/excel.csv"
job=$(shoal submit "$T_DIR/excel.csv" -q)
t_assert_eq "Excel CSV: BOM dropped, ';' detected, CRLF, a quoted line break" \
    "2|POST https://e.example/1 GET https://e.example/2" \
    "$(t_sql "SELECT count(*), string_agg(target, ' ' ORDER BY seq) FROM tasks WHERE job_id = $job")"
t_decode TaskSpec "SELECT spec FROM tasks WHERE job_id = $job AND seq = 0" > "$T_DIR/excel0.txt"
t_grep "Excel CSV: the quoted ';' stays in the cell" 'tag: "a;b"' "$T_DIR/excel0.txt"
t_grep "Excel CSV: the line break stays in the cell" 'body: "line one\\nline two"' "$T_DIR/excel0.txt"
printf 'url\ttag\nhttps://e.example/t\tx,y\n' > "$T_DIR/tabs.csv"
job=$(shoal submit "$T_DIR/tabs.csv" -q)
t_decode TaskSpec "SELECT spec FROM tasks WHERE job_id = $job AND seq = 0" > "$T_DIR/tabs0.txt"
t_grep "tab-separated: detected" 'tag: "x,y"' "$T_DIR/tabs0.txt"
printf 'url\nhttps://e.example/d;x\n' > "$T_DIR/given.csv"
t_run given shoal submit --csv-delimiter ';' "$T_DIR/given.csv"
t_rc "--csv-delimiter ';' on a one-column header: the second cell is an extra column" 3
t_grep "--csv-delimiter is used" 'given.csv:2: 2 columns, the header has 1' "$T_DIR/given.err"
t_run baddelim shoal submit --csv-delimiter '|' "$T_DIR/given.csv"
t_rc "--csv-delimiter other than , ; tab" 2

# ---------------------------------------------------------------- URL templates
job=$(shoal submit --url-template 'https://t.example/p/{001..010..3}/x{1..2}' -q)
t_assert_eq "template: padded, stepped, two ranges (last varies fastest)" \
    "GET https://t.example/p/001/x1 GET https://t.example/p/001/x2 GET https://t.example/p/004/x1 GET https://t.example/p/004/x2 GET https://t.example/p/007/x1 GET https://t.example/p/007/x2 GET https://t.example/p/010/x1 GET https://t.example/p/010/x2" \
    "$(t_sql "SELECT string_agg(target, ' ' ORDER BY seq) FROM tasks WHERE job_id = $job")"
t_assert_eq "template job name" 'https://t.example/p/{001..010..3}/x{1..2}' "$(t_job_row "$job" name)"
job=$(shoal submit -t 'https://t.example/item/{1..168867}' -q)
t_assert_eq "168,867-task template" "168867|t|GET https://t.example/item/168867" \
    "$(t_sql "SELECT n_tasks, sealed, (SELECT target FROM tasks WHERE job_id = $job AND seq = 168866) FROM jobs WHERE id = $job")"
t_run badtpl shoal submit --url-template 'https://t.example/{5..1}'
t_rc "a range that runs backwards" 2
t_grep "says what a range looks like" 'bad range .\{5\.\.1\}' "$T_DIR/badtpl.err"
t_run notpl shoal submit --url-template 'https://t.example/none'
t_rc "a template without a range" 2

# ---------------------------------------------------------------- stdin, --count, empty input
job=$(printf 'https://s.example/1\nhttps://s.example/2\n' | shoal submit --format urls -q)
t_assert_eq "tasks from a pipe" "2|stdin" "$(t_job_row "$job" "n_tasks, name")"
job=$(shoal submit --format urls -q - < "$T_DIR/list.txt")
t_assert_eq "tasks from '-'" 3 "$(t_job_row "$job" n_tasks)"
job=$(shoal submit --count 2500 --sleep-ms 3 --chunk 1000 -q)
t_assert_eq "--count" "2500|t|noop sleep=3ms" "$(t_sql "SELECT n_tasks, sealed, (SELECT target FROM tasks WHERE job_id = $job AND seq = 2499) FROM jobs WHERE id = $job")"
job=$(: | shoal submit --format urls -q)
t_assert_eq "an empty input seals an empty job, which is done" "0|t|done" "$(t_job_row "$job" "n_tasks, sealed, state")"

# ---------------------------------------------------------------- job options become defaults
job=$(shoal submit --name opts --priority 7 --max-attempts 6 --backoff-ms 300 --backoff-max-ms 9000 \
        --retry-status 500,503 --timeout-ms 12000 --per-host 3 --rate-per-host 2.5 -X POST \
        -H 'Accept: text/plain' -H 'X-Api-Key: k1' --body 'payload' --connect-timeout-ms 800 \
        --follow-redirects --max-redirects 2 --insecure --max-response-bytes 65536 --store inline \
        --inline-limit 1000 --defaults '{"proxy": "http://p.example:1", "cookies": "c=1"}' \
        --url-template 'https://o.example/{1..3}' -q)
t_assert_eq "name and priority" "opts|7" "$(t_job_row "$job" "name, priority")"
t_decode JobDefaults "SELECT defaults FROM jobs WHERE id = $job" > "$T_DIR/defaults.txt"
for want in 'timeout_ms: 12000' 'max_attempts: 6' 'backoff_ms: 300' 'backoff_max_ms: 9000' 'retry_status: 500' \
            'retry_status: 503' 'method: "POST"' 'name: "Accept"' 'value: "text/plain"' 'name: "X-Api-Key"' \
            'body: "payload"' 'connect_timeout_ms: 800' 'follow_redirects: true' 'max_redirects: 2' \
            'insecure: true' 'max_response_bytes: 65536' 'store: STORE_INLINE' 'inline_limit: 1000' \
            'max_per_host: 3' 'rate_per_host: 2.5' 'proxy: "http://p.example:1"' 'cookies: "c=1"'; do
    t_grep "job defaults have $want" "$want" "$T_DIR/defaults.txt"
done
for bad in "-H NoColon" "--store attic" "--retry-status 5xx" "--max-attempts 0" "--defaults {" "--defaults {\"colour\":1}" \
           "--priority 0" "--chunk 0" "--key="; do
    # shellcheck disable=SC2086
    t_run badopt shoal submit $bad --count 1
    t_rc "submit $bad" 2
done
t_run badheader shoal submit -H 'Bad Name: x' --count 1
t_rc "a default header with a bad name" 2
t_grep "names the header" "bad header name 'Bad Name'" "$T_DIR/badheader.err"

# ---------------------------------------------------------------- keys: new job each time, or the same job
a=$(shoal submit "$T_DIR/list.txt" -q)
b=$(shoal submit "$T_DIR/list.txt" -q)
[ "$a" != "$b" ] || t_fail "two submits without --key gave the same job $a"
t_assert_eq "both jobs complete" "3|3" "$(t_job_row "$a" n_tasks)|$(t_job_row "$b" n_tasks)"
t_log "ok: without --key each submit is a new job ($a, $b)"
c=$(shoal -o json submit --key same-key "$T_DIR/list.txt" -q)
t_assert_eq "first keyed submit (json)" "3 false 0" "$(jq -r '"\(.tasks) \(.resumed) \(.invalid)"' <<<"$c")"
d=$(shoal submit --key same-key "$T_DIR/list.txt" -o json)
t_assert_eq "the same key is the same job" "$(jq .job <<<"$c")" "$(jq .job <<<"$d")"
t_assert_eq "second keyed submit (json)" "3 true" "$(jq -r '"\(.tasks) \(.resumed)"' <<<"$d")"
t_assert_eq "no task doubled" 3 "$(t_sql "SELECT count(*) FROM tasks WHERE job_id = $(jq .job <<<"$c")")"

# ---------------------------------------------------------------- the progress line: a terminal only
seq 1 20000 | sed 's|^|https://p.example/|' > "$T_DIR/p.txt"
t_run pipe shoal submit --format urls "$T_DIR/p.txt" --chunk 500
t_rc "submit through a pipe" 0
t_nogrep "no progress line in a pipe" 'committed' "$T_DIR/pipe.err"
script -qec "$SHOAL_BIN/shoal submit --format urls $T_DIR/p.txt --chunk 500" /dev/null > "$T_DIR/tty.out" 2>&1 \
    || t_fail "submit on a terminal failed: $(cat "$T_DIR/tty.out")"
t_grep "progress line on a terminal" 'job [0-9]+: sent 20,000, committed 20,000, [0-9,]+ tasks/s' "$T_DIR/tty.out"
script -qec "$SHOAL_BIN/shoal submit -q --format urls $T_DIR/p.txt" /dev/null > "$T_DIR/ttyq.out" 2>&1 \
    || t_fail "quiet submit on a terminal failed: $(cat "$T_DIR/ttyq.out")"
t_nogrep "--quiet hides it" 'committed' "$T_DIR/ttyq.out"
script -qec "$SHOAL_BIN/shoal submit --url-template 'https://p.example/{1..5000}' --chunk 100" /dev/null > "$T_DIR/tty2.out" 2>&1 \
    || t_fail "template submit on a terminal failed: $(cat "$T_DIR/tty2.out")"
t_grep "a template's progress shows the total" 'committed 5,000 of 5,000 \(100.0%\)' "$T_DIR/tty2.out"
t_log "pass"
