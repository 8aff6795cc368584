#!/usr/bin/env bash
# exec tasks whose output passes 1 MiB keep the END of each stream, up to
# tail_bytes (at most 16 MiB): the stored stdout/stderr are exactly
# tail_bytes long and end with the marker the program printed last.
. "$(dirname "$0")/../lib.sh"

t_db
# the default heartbeat: a worker under the sanitizer on a busy machine
# may take over a second to read 20 MB of output
t_broker
t_worker runner --slots 2 --allow-exec
t_wait_workers 1
# 3 MB of 'a' then a marker, kept 2 MiB; 20 MB of 'b' then a marker on
# stderr, kept 16 MiB (the largest tail_bytes)
cat > "$T_DIR/tasks.jsonl" <<'JSONL'
{"argv": ["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' a; printf 'START-OF-END...END-MARKER-1'"], "tail_bytes": 2097152, "tag": "two"}
{"argv": ["sh", "-c", "{ head -c 20000000 /dev/zero | tr '\\0' b; printf 'END-MARKER-16'; } >&2"], "tail_bytes": 16777216, "tag": "sixteen"}
JSONL
job=$(shoal submit "$T_DIR/tasks.jsonl" --name big-tail -q)
t_wait_done "$job" 120
# seq 0 and 1, in the file's order
q() { t_sql "SELECT $1 FROM results WHERE job_id = $job AND seq = $2"; }
t_assert_eq "outcomes" "ok ok" "$(t_sql "SELECT string_agg(outcome, ' ' ORDER BY seq) FROM results WHERE job_id = $job")"
t_assert_eq "2 MiB tail: length" 2097152 "$(q 'octet_length(stdout)' 0)"
t_assert_eq "2 MiB tail: the end kept" "START-OF-END...END-MARKER-1" "$(q 'right(stdout, 27)' 0)"
t_assert_eq "2 MiB tail: the rest is the end of the a's" a "$(q 'left(stdout, 1)' 0)"
t_assert_eq "16 MiB tail: length" 16777216 "$(q 'octet_length(stderr)' 1)"
t_assert_eq "16 MiB tail: the end kept" "END-MARKER-16" "$(q 'right(stderr, 13)' 1)"
t_log "pass"
