#!/usr/bin/env bash
# shoal results exports 1,000,000 results, every one exactly once and in
# seq order, as JSON lines and as CSV, in constant memory: the CLI's
# resident set, sampled during the export, stays under 64 MiB (one page of
# 1,000 rows is what it holds). The counts agree with the database.
# Under the sanitizer build the job is 100,000 tasks and memory is not
# measured (the sanitizers' own memory is not the CLI's).
. "$(dirname "$0")/helpers.bash"

N=1000000
LIMIT_KIB=$((64 * 1024))
if [ "${SHOAL_SANITIZED:-0}" = 1 ]; then
    N=100000
fi

t_db
t_broker
t_worker w1 --slots 64
t_worker w2 --slots 64
t_wait_workers 2

job=$(shoal submit --count $N --name export --chunk 5000 -q)
t_wait_done "$job" 240
t_assert_eq "results in the database" "$N|$N" \
    "$(t_sql "SELECT count(*), count(*) FILTER (WHERE outcome = 'ok') FROM results WHERE job_id = $job")"

# export EXPORT_NAME CHECK_PROGRAM FORMAT: the CLI writes into a checker;
# its RSS is sampled while it runs
export_checked() {
    local name=$1 check=$2; shift 2
    "$SHOAL_BIN/shoal" results "$job" "$@" > >(awk "$check" > "$T_DIR/$name.check") 2> "$T_DIR/$name.err" &
    local pid=$!
    t_watch_rss "$pid" "$T_DIR/$name.rss"
    set +e; wait "$pid"; RC=$?; set -e
    T_LAST=$name t_rc "results $*" 0
    # the checker finishes after the CLI closed the pipe
    t_wait "$name checker done" 60 test -s "$T_DIR/$name.check"
}

# JSON lines: count, seq strictly 0..N-1 in order, every outcome ok
export_checked jsonl '
    { if (!match($0, /"seq":[0-9]+/)) { bad++; next }
      seq = substr($0, RSTART + 6, RLENGTH - 6) + 0
      if (seq != NR - 1) disorder++
      if ($0 !~ /"outcome":"ok"/) notok++
      if ($0 !~ /^\{"job":/) bad++ }
    END { printf "%d %d %d %d\n", NR, disorder + 0, notok + 0, bad + 0 }'
t_assert_eq "JSONL: lines, out of order, not ok, malformed" "$N 0 0 0" "$(cat "$T_DIR/jsonl.check")"
jsonl_rss=$(t_rss_max "$T_DIR/jsonl.rss")

# CSV: a header, then N rows of 17 columns in seq order
export_checked csv '
    NR == 1 { header = ($0 == "job,seq,outcome,attempt,target,tag,worker,error,http_status,bytes,sha256,final_url,body_path,total_ms,exit_code,started_us,finished_us"); next }
    { n = split($0, f, ","); if (n != 17) badcols++
      if (f[2] != NR - 2) disorder++
      if (f[3] != "ok") notok++ }
    END { printf "%d %d %d %d %d\n", header, NR - 1, badcols + 0, disorder + 0, notok + 0 }' --format csv
t_assert_eq "CSV: header, rows, rows without 17 columns, out of order, not ok" "1 $N 0 0 0" "$(cat "$T_DIR/csv.check")"
csv_rss=$(t_rss_max "$T_DIR/csv.rss")

# a spot check with jq on a slice: every field a person would look for
# (the CLI dies of SIGPIPE when head has enough: that is how it should end)
{ shoal results "$job" || true; } | head -n 1000 | tail -n 1 > "$T_DIR/row.json"
t_assert_eq "row 999 fields" "$job 999 ok 1 noop true true" \
    "$(jq -r '"\(.job) \(.seq) \(.outcome) \(.attempt) \(.target) \(.worker | test("^w[12]$")) \(.finished_us >= .started_us)"' "$T_DIR/row.json")"

# --failed on a job without failures: nothing, successfully
t_run failed shoal results "$job" --failed
t_rc "results --failed of an all-ok job" 0
t_assert_eq "no failed rows" 0 "$(wc -l < "$T_DIR/failed.out")"

t_log "export peak RSS: jsonl ${jsonl_rss} KiB, csv ${csv_rss} KiB ($(wc -l < "$T_DIR/jsonl.rss") samples)"
if [ "${SHOAL_SANITIZED:-0}" != 1 ]; then
    [ "$jsonl_rss" -le $LIMIT_KIB ] || t_fail "the JSONL export used ${jsonl_rss} KiB (bound ${LIMIT_KIB} KiB)"
    [ "$csv_rss" -le $LIMIT_KIB ] || t_fail "the CSV export used ${csv_rss} KiB (bound ${LIMIT_KIB} KiB)"
    t_log "ok: export memory bound holds"
fi
t_log "pass"
