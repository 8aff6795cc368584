#!/usr/bin/env bash
# shoal submit holds constant memory whatever the input size: the CLI's
# resident set, sampled from /proc every 20 ms while it submits a
# 2,000,000-line URL file, stays under a fixed bound and within a few MiB
# of what a 20,000-line file needs. Every line becomes exactly one task.
#
# Bound: 64 MiB absolute, and at most 16 MiB above the small input's peak.
# What the CLI holds is the window of chunks in flight, kept until acked
# (8 x 5,000 specs by default, each chunk at most 4 MiB) and one line
# buffer (--max-line, 1 MiB); a 2M-line file measures about 25 MiB here.
. "$(dirname "$0")/helpers.bash"

[ "${SHOAL_SANITIZED:-0}" = 1 ] && t_skip "memory bounds are meaningless under the sanitizers"

LIMIT_KIB=$((64 * 1024))
GROWTH_KIB=$((16 * 1024))
N=2000000

t_db
t_broker

seq 1 $N | sed 's|^|https://m.example/item/|' > "$T_DIR/big.txt"
head -n 20000 "$T_DIR/big.txt" > "$T_DIR/small.txt"

# submit_sampled NAME FILE: submit in the background, sample its RSS
submit_sampled() {
    local name=$1 file=$2
    "$SHOAL_BIN/shoal" submit --format urls -q "$file" > "$T_DIR/$name.out" 2> "$T_DIR/$name.err" &
    local pid=$!
    t_watch_rss "$pid" "$T_DIR/$name.rss"
    set +e; wait "$pid"; RC=$?; set -e
    T_LAST=$name t_rc "$name submit" 0
}

submit_sampled small "$T_DIR/small.txt"
submit_sampled big "$T_DIR/big.txt"
small=$(t_rss_max "$T_DIR/small.rss")
big=$(t_rss_max "$T_DIR/big.rss")
t_log "peak RSS: 20,000 lines ${small} KiB; 2,000,000 lines ${big} KiB ($(wc -l < "$T_DIR/big.rss") samples)"
[ "$(wc -l < "$T_DIR/big.rss")" -ge 10 ] || t_fail "too few RSS samples to say anything"
[ "$big" -le $LIMIT_KIB ] || t_fail "the CLI used ${big} KiB for a 2M-line submit (bound ${LIMIT_KIB} KiB)"
[ "$big" -le $((small + GROWTH_KIB)) ] || t_fail "memory grew with the input: ${small} KiB -> ${big} KiB"
t_log "ok: memory bound holds"

job=$(cat "$T_DIR/big.out")
t_assert_eq "tasks, distinct seqs, last seq, sealed" "$N|$N|$((N - 1))|t" \
    "$(t_sql "SELECT count(*), count(DISTINCT t.seq), max(t.seq), bool_and(j.sealed) FROM tasks t JOIN jobs j ON j.id = t.job_id WHERE t.job_id = $job")"
t_assert_eq "the last task is the last line" "GET https://m.example/item/$N" \
    "$(t_sql "SELECT target FROM tasks WHERE job_id = $job AND seq = $((N - 1))")"
t_log "pass"
