# Shared by the pipeline tests: the check server and the two pipelines of
# docs/pipelines.md written for it.
. "$(dirname "${BASH_SOURCE[0]}")/../cli/helpers.bash"

# The counting server -> $CHECK_PORT, $S (its base URL): p_server [LINKS_PER_PAGE]
p_server() {
    python3 "$(dirname "${BASH_SOURCE[0]}")/check_server.py" "$T_DIR/check.port" "${1:-40}" \
        2>"$T_DIR/check.log" &
    PID[check]=$!
    t_wait "check server" 10 test -s "$T_DIR/check.port"
    CHECK_PORT=$(cat "$T_DIR/check.port")
    S="http://127.0.0.1:$CHECK_PORT"
}
p_stats() { curl -s "$S/stats"; }
p_stat() { p_stats | jq -r ".$1"; }

# The four-step check of the issue, against the server -> $T_DIR/check.json
p_check_pipeline() {
    cat > "$T_DIR/check.json" <<JSON
{"steps": [
  {"name": "upload", "url": "$S/upload", "method": "POST",
   "form": [{"name": "file", "file": "{{zip}}"}, {"name": "check", "value": "{{check_no}}"}],
   "extract": {"file_id": "json:/file_id"}},
  {"name": "captcha", "url": "$S/captcha",
   "extract": {"captcha_id": "json:/captcha_id", "image": "json:/image"}},
  {"name": "solve", "url": "$S/solve", "method": "POST",
   "headers": {"Content-Type": "application/json"}, "body": "{\"image\": {{image|json}}}",
   "extract": {"answer": "json:/text"}},
  {"name": "submit", "url": "$S/submit", "method": "POST",
   "headers": {"Content-Type": "application/json"},
   "body": "{\"check\": {{check_no|json}}, \"file_id\": {{file_id|json}}, \"captcha_id\": {{captcha_id|json}}, \"answer\": {{answer|json}}}"}
]}
JSON
}

# N items as Excel writes them (BOM, ';', CRLF) -> $T_DIR/checks.csv, with a ZIP each
p_check_items() {
    local n=$1
    echo "dummy zip" > "$T_DIR/c.zip"
    { printf '\xef\xbb\xbfcheck_no;zip\r\n'; for i in $(seq 1 "$n"); do printf 'K%05d;%s\r\n' "$i" "$T_DIR/c.zip"; done; } \
        > "$T_DIR/checks.csv"
}

# The crawl of the issue against the server -> $T_DIR/crawl.json: p_crawl_pipeline [MAX_EACH]
p_crawl_pipeline() {
    cat > "$T_DIR/crawl.json" <<JSON
{"max_each": ${1:-500}, "steps": [
  {"name": "page", "url": "$S/list?page={{page}}",
   "extract": {"links": "all:regex:href=\"(/pdf/[^\"]+\\\\.pdf)\""}},
  {"name": "pdf", "each": "links", "url": "$S{{links}}", "store": "dir"}
]}
JSON
}
