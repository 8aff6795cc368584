#!/usr/bin/env bash
# Every kind of bad input line is reported as FILE:LINE: what is wrong.
# By default the submit stops there before sealing the job (exit 3), keeps
# the tasks before the bad line, and says how to continue; running the same
# command on the fixed input with the same --key finishes the job with
# every task exactly once. --skip-invalid reports the line, skips it and
# seals the job with the rest.
. "$(dirname "$0")/helpers.bash"

t_db
t_broker

n=0
# bad_case NAME FORMAT 'good line 3' 'bad line 3' 'expected message' [extra submit flags...]
# The input is: header (csv), good 1, good 2, BAD 3, good 4.
bad_case() {
    local name=$1 format=$2 fixed=$3 bad=$4 want=$5; shift 5
    n=$((n + 1))
    local file="$T_DIR/$name.$format" good="$T_DIR/$name.fixed.$format" header=""
    line() {
        case $format in
            jsonl) printf '{"url": "https://in.example/%s/%s"}\n' "$name" "$1" ;;
            txt)   printf 'https://in.example/%s/%s\n' "$name" "$1" ;;
            csv)   printf 'https://in.example/%s/%s,GET\n' "$name" "$1" ;;
        esac
    }
    [ "$format" = csv ] && header="url,method"
    { [ -n "$header" ] && echo "$header"; line 1; line 2; printf '%s\n' "$bad"; line 4; } > "$file"
    { [ -n "$header" ] && echo "$header"; line 1; line 2; printf '%s\n' "$fixed"; line 4; } > "$good"
    local bad_no=3
    [ -n "$header" ] && bad_no=4

    # 1) stop at the bad line, before sealing
    t_run "$name.stop" shoal submit --key "bad-$name" "$@" "$file"
    t_rc "$name: the submit stops" 3
    t_grep "$name: reported as FILE:LINE: why" "^$file:$bad_no: .*$want" "$T_DIR/$name.stop.err"
    t_grep "$name: says how to continue" "run the same command with --key bad-$name to continue" "$T_DIR/$name.stop.err"
    local job
    job=$(t_sql "SELECT id FROM jobs WHERE idem_key = 'bad-$name'")
    t_assert_eq "$name: the two tasks before the bad line are kept, the job is not sealed" "2|f" \
        "$(t_job_row "$job" "n_tasks, sealed")"

    # 2) the same command on the fixed input continues: 4 tasks, sealed, each once
    t_run "$name.fix" shoal submit --key "bad-$name" "$@" "$good"
    t_rc "$name: the fixed input continues" 0
    t_grep "$name: resumed" "resuming job $job after 2 committed tasks" "$T_DIR/$name.fix.err"
    t_assert_eq "$name: every task once after the fix" "4|t|4|0|3" \
        "$(t_sql "SELECT j.n_tasks, j.sealed, count(t.seq), min(t.seq), max(t.seq) FROM jobs j JOIN tasks t ON t.job_id = j.id WHERE j.id = $job GROUP BY j.id")"

    # 3) --skip-invalid: reported, skipped, sealed with the other three
    t_run "$name.skip" shoal submit --skip-invalid "$@" "$file"
    t_rc "$name: --skip-invalid goes on" 0
    t_grep "$name: skipped line reported" "^$file:$bad_no: .*$want" "$T_DIR/$name.skip.err"
    t_grep "$name: skipped count" "skipped 1 invalid lines" "$T_DIR/$name.skip.err"
    job=$(cat "$T_DIR/$name.skip.out")
    t_assert_eq "$name: three tasks, sealed" "3|t" "$(t_job_row "$job" "n_tasks, sealed")"
    t_assert_eq "$name: the good line after the bad one is there" "GET https://in.example/$name/4" \
        "$(t_sql "SELECT target FROM tasks WHERE job_id = $job AND seq = 2")"
}

fixed_json() { printf '{"url": "https://in.example/%s/3"}' "$1"; }
bad_case badjson jsonl "$(fixed_json badjson)" '{"url": "https://in.example/x",' 'bad JSON at column'
bad_case unknown jsonl "$(fixed_json unknown)" '{"url": "https://in.example/x", "colour": "red"}' "unknown field 'colour'"
bad_case unknownretry jsonl "$(fixed_json unknownretry)" '{"url": "https://in.example/x", "retry": {"tries": 2}}' "unknown field 'retry.tries'"
bad_case nourl jsonl "$(fixed_json nourl)" '{"method": "POST", "body": "x"}' 'http.url: missing'
bad_case nokind jsonl "$(fixed_json nokind)" '{"tag": "t"}' "missing 'url'"
bad_case scheme jsonl "$(fixed_json scheme)" '{"url": "ftp://in.example/x"}' "scheme must be http or https \\(got 'ftp'\\)"
bad_case badheader jsonl "$(fixed_json badheader)" '{"url": "https://in.example/x", "headers": {"Bad Name": "v"}}' "bad header name 'Bad Name'"
bad_case headerbreak jsonl "$(fixed_json headerbreak)" '{"url": "https://in.example/x", "headers": {"X-A": "a\r\nX-B: b"}}' "value of 'X-A' contains a line break"
bad_case headerform jsonl "$(fixed_json headerform)" '{"url": "https://in.example/x", "headers": ["NoColon"]}' "must look like 'Name: value'"
bad_case badtype jsonl "$(fixed_json badtype)" '{"url": "https://in.example/x", "timeout_ms": "soon"}' "field 'timeout_ms' must be an integer"
bad_case mixed jsonl "$(fixed_json mixed)" '{"url": "https://in.example/x", "argv": ["ls"]}' 'fields of different task kinds'
bad_case noargv jsonl "$(fixed_json noargv)" '{"kind": "exec"}' 'exec.argv: missing'
bad_case utf8json jsonl "$(fixed_json utf8json)" "$(printf '{"url": "https://in.example/\xff\xfe"}')" 'not valid UTF-8'
bad_case toolong jsonl "$(fixed_json toolong)" "{\"url\": \"https://in.example/$(head -c 300 /dev/zero | tr '\0' a)\"}" \
    'line longer than 200 bytes' --max-line 200
bad_case urlscheme txt "https://in.example/urlscheme/3" 'mailto:someone@in.example' 'must start with http:// or https://'
bad_case urlspace txt "https://in.example/urlspace/3" 'https://in.example/a b' 'contains a space'
bad_case urlnohost txt "https://in.example/urlnohost/3" 'https:///path' 'no host'
bad_case utf8url txt "https://in.example/utf8url/3" "$(printf 'https://in.example/\xc3\x28')" 'not valid UTF-8'
bad_case csvcols csv "https://in.example/csvcols/3,GET" 'https://in.example/x,GET,extra' '3 columns, the header has 2'
bad_case csvquote csv "https://in.example/csvquote/3,GET" '"https://in.example/x,GET' 'not valid CSV'
bad_case csvmethod csv "https://in.example/csvmethod/3,GET" 'https://in.example/x,BAD METHOD' "http.method: 'BAD METHOD' is not a valid method"
bad_case csvutf8 csv "https://in.example/csvutf8/3,GET" "$(printf 'https://in.example/\xff,GET')" 'not valid UTF-8'

# a CSV column that is not a task field, a CSV header with a bad name
printf 'url,colour\nhttps://in.example/1,red\n' > "$T_DIR/col.csv"
t_run col shoal submit "$T_DIR/col.csv"
t_rc "a CSV column that is not a task field" 3
t_grep "names the column, at the header's line" "col.csv:1: unknown field 'colour'" "$T_DIR/col.err"
printf 'url,header:Bad Name\nhttps://in.example/1,v\n' > "$T_DIR/hdr.csv"
t_run hdr shoal submit "$T_DIR/hdr.csv"
t_rc "a CSV header column with a bad name" 3
t_grep "names the header, at line 1" "hdr.csv:1: column 2: http.headers\\[0\\]: bad header name 'Bad Name'" "$T_DIR/hdr.err"

t_run hdrskip shoal submit --skip-invalid "$T_DIR/col.csv"
t_rc "a bad CSV header stops even with --skip-invalid (no row reads without it)" 3
t_grep "header error at line 1 with --skip-invalid" "col.csv:1: unknown field 'colour'" "$T_DIR/hdrskip.err"

# stdin is named in messages; nothing sealed when the first line is bad
t_run stdin bash -c "printf 'https://in.example/1\nnot-a-url\n' | '$SHOAL_BIN/shoal' submit --format urls"
t_rc "bad line on stdin" 3
t_grep "stdin:LINE" '^stdin:2: http.url: must start with' "$T_DIR/stdin.err"

# several bad lines with --skip-invalid: each reported, the count at the end
{ for i in $(seq 1 50); do
      if [ $((i % 10)) = 0 ]; then echo "{\"url\": \"gopher://in.example/$i\"}"; else echo "{\"url\": \"https://in.example/many/$i\"}"; fi
  done; } > "$T_DIR/many.jsonl"
t_run many shoal -o json submit --skip-invalid --chunk 7 "$T_DIR/many.jsonl"
t_rc "--skip-invalid with five bad lines" 0
t_assert_eq "each bad line reported" 5 "$(grep -c "many.jsonl:[0-9]*0: http.url: scheme" "$T_DIR/many.err")"
t_assert_eq "json summary" "45 5" "$(jq -r '"\(.tasks) \(.invalid)"' "$T_DIR/many.out")"

# a file that cannot be opened
t_run missing shoal submit "$T_DIR/nope.jsonl"
t_rc "a missing input file" 3
t_grep "names the file" "cannot open $T_DIR/nope.jsonl: No such file" "$T_DIR/missing.err"
t_log "pass ($n bad-line cases)"
