#!/usr/bin/env bash
# Request bodies the server verifies: an inline body, a base64 body, an
# upload from a file on the worker, a multipart form with a value and a
# file; a missing upload file fails at once, naming the file.
. "$(dirname "$0")/../lib.sh"

t_db
t_fault_server
t_broker --heartbeat-ms 200
t_worker w1 --slots 4
t_wait_workers 1
F="http://127.0.0.1:$FAULT_PORT"
head -c 200000 /dev/urandom > "$T_DIR/upload.bin"
file_sha=$(sha256sum < "$T_DIR/upload.bin" | cut -d' ' -f1)
text_sha=$(printf 'hello, shoal' | sha256sum | cut -d' ' -f1)
bin_sha=$(printf '\x00\x01\x02\xff' | sha256sum | cut -d' ' -f1)
{
    echo "{\"url\": \"$F/echo\", \"body\": \"hello, shoal\", \"headers\": {\"Content-Type\": \"text/plain\"}, \"tag\": \"inline\"}"
    echo "{\"url\": \"$F/echo\", \"method\": \"PUT\", \"body_b64\": \"AAEC/w==\", \"tag\": \"b64\"}"
    echo "{\"url\": \"$F/echo\", \"body_file\": \"$T_DIR/upload.bin\", \"tag\": \"file\"}"
    echo "{\"url\": \"$F/upload\", \"form\": [{\"name\": \"title\", \"value\": \"a photo\"}, {\"name\": \"photo\", \"file\": \"$T_DIR/upload.bin\", \"filename\": \"p.bin\", \"content_type\": \"application/octet-stream\"}], \"tag\": \"multipart\"}"
    echo "{\"url\": \"$F/echo\", \"body_file\": \"$T_DIR/no-such-file\", \"tag\": \"missing\"}"
} > "$T_DIR/tasks.jsonl"
job=$(shoal submit "$T_DIR/tasks.jsonl" --name uploads -q)
t_wait_done "$job" 60
shoal results "$job" --with-body > "$T_DIR/results.jsonl"
body() { jq -r "select(.tag == \"$1\") | .http.body" "$T_DIR/results.jsonl"; }

t_assert_eq "inline body received" "POST|12|$text_sha|text/plain" "$(body inline | jq -r '"\(.method)|\(.bytes)|\(.sha256)|\(.content_type)"')"
t_assert_eq "base64 body received" "PUT|4|$bin_sha" "$(body b64 | jq -r '"\(.method)|\(.bytes)|\(.sha256)"')"
t_assert_eq "file upload received" "POST|200000|$file_sha" "$(body file | jq -r '"\(.method)|\(.bytes)|\(.sha256)"')"
parts=$(body multipart)
t_assert_eq "multipart value" "title|7" "$(jq -r '.parts[0] | "\(.name)|\(.bytes)"' <<<"$parts")"
t_assert_eq "multipart file" "photo|p.bin|200000|$file_sha|application/octet-stream" \
    "$(jq -r '.parts[1] | "\(.name)|\(.filename)|\(.bytes)|\(.sha256)|\(.content_type)"' <<<"$parts")"
t_assert_eq "missing upload file: failed at once" "failed|1" "$(jq -r 'select(.tag == "missing") | "\(.outcome)|\(.attempt)"' "$T_DIR/results.jsonl")"
jq -r 'select(.tag == "missing") | .error' "$T_DIR/results.jsonl" | grep -q "no-such-file" || t_fail "the error does not name the missing file"
t_log "pass"
