#!/usr/bin/env bash
# kill -9 the CLI in the middle of an upload, twice, and run the same
# command again: the job ends with exactly N tasks, seq 0..N-1, each the
# input line it should be, sealed. The same for a URL template. A rerun of
# a complete job changes nothing; a rerun with an input shorter than what
# is committed is refused; Ctrl-C stops cleanly and says how to continue.
. "$(dirname "$0")/helpers.bash"

t_db
t_broker

N=600000
seq 1 $N | sed 's|^|https://r.example/item/|' > "$T_DIR/urls.txt"

committed() { t_sql "SELECT coalesce(max(n_tasks), 0) FROM jobs WHERE idem_key = '$1'"; }
committed_at_least() { [ "$(committed "$1")" -ge "$2" ]; }

# kill_mid KEY AT_LEAST LABEL cmd...: start the submit, kill -9 it once the
# broker has committed AT_LEAST tasks of the job (cmd is the binary itself,
# not the shoal() function, so that $! is the CLI)
kill_mid() {
    local key=$1 at=$2 label=$3; shift 3
    "$@" > "$T_DIR/$label.out" 2> "$T_DIR/$label.err" &
    local pid=$!
    t_wait "$label: $at tasks committed" 60 committed_at_least "$key" "$at"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    local c; c=$(committed "$key")
    [ "$c" -lt $N ] || t_fail "$label: the submit finished before the kill; nothing was tested"
    t_log "$label: CLI killed with $c of $N tasks committed"
}

# exact N tasks, seq 0..N-1, each with its own line, sealed
assert_complete() {
    local job=$1 prefix=$2
    t_assert_eq "job $job: tasks, distinct seqs, first, last, sealed" "$N|$N|0|$((N - 1))|t" \
        "$(t_sql "SELECT count(*), count(DISTINCT t.seq), min(t.seq), max(t.seq), bool_and(j.sealed) FROM tasks t JOIN jobs j ON j.id = t.job_id WHERE t.job_id = $job")"
    t_assert_eq "job $job: n_tasks" $N "$(t_job_row "$job" n_tasks)"
    t_assert_eq "job $job: tasks whose target is not their line" 0 \
        "$(t_sql "SELECT count(*) FROM tasks WHERE job_id = $job AND target <> 'GET $prefix' || (seq + 1)")"
}

# ---------------------------------------------------------------- a URL file, killed twice
cmd=("$SHOAL_BIN/shoal" submit --format urls --key file-1 --chunk 1000 -q "$T_DIR/urls.txt")
kill_mid file-1 50000 kill1 "${cmd[@]}"
first=$(committed file-1)
kill_mid file-1 $((first + 50000)) kill2 "${cmd[@]}"
t_run resume "${cmd[@]}"
t_rc "the third run of the same command" 0
job=$(cat "$T_DIR/resume.out")
t_assert_eq "the same job all along" "$job" "$(t_sql "SELECT id FROM jobs WHERE idem_key = 'file-1'")"
assert_complete "$job" https://r.example/item/

# a rerun of the complete job changes nothing
t_run again shoal submit --format urls --key file-1 "$T_DIR/urls.txt"
t_rc "rerun of a complete job" 0
t_assert_eq "rerun prints the same job" "$job" "$(cat "$T_DIR/again.out")"
t_grep "rerun says it is complete" "is already complete with $N tasks" "$T_DIR/again.err"
t_assert_eq "still $N tasks" $N "$(t_sql "SELECT count(*) FROM tasks WHERE job_id = $job")"

# ---------------------------------------------------------------- a URL template
tcmd=("$SHOAL_BIN/shoal" submit --url-template "https://r.example/t/{1..$N}" --key tpl-1 --chunk 500 --window 4 -q)
kill_mid tpl-1 30000 ktpl "${tcmd[@]}"
t_run tresume "${tcmd[@]}"
t_rc "the template submit rerun" 0
assert_complete "$(cat "$T_DIR/tresume.out")" https://r.example/t/

# ---------------------------------------------------------------- a shorter input than what is committed
kill_mid short-1 20000 kshort "$SHOAL_BIN/shoal" submit --format urls --key short-1 -q "$T_DIR/urls.txt"
head -n 1000 "$T_DIR/urls.txt" > "$T_DIR/short.txt"
t_run short shoal submit --format urls --key short-1 "$T_DIR/short.txt"
t_rc "resume with a shorter input" 3
t_grep "says why" 'already has [0-9]+ tasks but the input has only 1000; is this the same input\?' "$T_DIR/short.err"
t_run shortfix shoal submit --format urls --key short-1 -q "$T_DIR/urls.txt"
t_rc "resume with the right input" 0
assert_complete "$(cat "$T_DIR/shortfix.out")" https://r.example/item/

# ---------------------------------------------------------------- Ctrl-C: stop cleanly, say how to go on
"$SHOAL_BIN/shoal" submit --format urls --key int-1 --chunk 1000 "$T_DIR/urls.txt" > "$T_DIR/int.out" 2> "$T_DIR/int.err" &
pid=$!
t_wait "some tasks of int-1 committed" 60 committed_at_least int-1 20000
kill -INT "$pid"
set +e; wait "$pid"; RC=$?; set -e
if [ "$RC" = 0 ]; then
    t_log "the submit ended before SIGINT arrived; Ctrl-C not tested"
else
    T_LAST=int t_rc "Ctrl-C during a submit" 130
    t_grep "Ctrl-C says how to continue" 'interrupted; job [0-9]+ is not sealed and has [0-9]+ tasks committed. Run the same command with --key int-1' "$T_DIR/int.err"
    c=$(committed int-1)
    t_grep "the count it reports is the committed count" "has $c tasks committed" "$T_DIR/int.err"
    t_assert_eq "not sealed" f "$(t_sql "SELECT sealed FROM jobs WHERE idem_key = 'int-1'")"
fi
t_run intfix shoal submit --format urls --key int-1 -q "$T_DIR/urls.txt"
t_rc "continue after Ctrl-C" 0
assert_complete "$(cat "$T_DIR/intfix.out")" https://r.example/item/

# ---------------------------------------------------------------- two runs of one submit at once
# What a rerun meets when chunks of the killed run arrive late, many times
# over: each run's chunks are refused where the other's came first, and it
# goes on from the committed count. Whatever each run's exit code, a last
# run completes the job with every task once.
"$SHOAL_BIN/shoal" submit --format urls --key twin-1 --chunk 500 "$T_DIR/urls.txt" > "$T_DIR/twin1.out" 2> "$T_DIR/twin1.err" &
a=$!
"$SHOAL_BIN/shoal" submit --format urls --key twin-1 --chunk 500 "$T_DIR/urls.txt" > "$T_DIR/twin2.out" 2> "$T_DIR/twin2.err" &
b=$!
set +e; wait "$a"; ra=$?; wait "$b"; rb=$?; set -e
t_log "two runs at once exited $ra and $rb; reconciled $(cat "$T_DIR"/twin*.err | grep -c 'arrived meanwhile' || true) times"
for r in $ra $rb; do
    [ "$r" = 0 ] || [ "$r" = 5 ] || t_fail "a run of two at once exited $r: $(cat "$T_DIR"/twin*.err)"
done
t_run twin3 shoal submit --format urls --key twin-1 -q "$T_DIR/urls.txt"
t_rc "a last run of the twin submit" 0
assert_complete "$(cat "$T_DIR/twin3.out")" https://r.example/item/
t_log "pass"
