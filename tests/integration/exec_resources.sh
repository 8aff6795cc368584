#!/usr/bin/env bash
# A passing shortage of resources (here: the worker out of file
# descriptors, so pipe2 fails with EMFILE) is retried, not a permanent
# failure (issue 17 #5): once the limit is lifted the same task succeeds
# on a later attempt.
. "$(dirname "$0")/../lib.sh"
command -v prlimit >/dev/null || t_skip "prlimit (util-linux) is not installed"

t_db
t_broker --heartbeat-ms 200
t_worker w1 --slots 2 --kinds exec --allow-exec
t_wait_workers 1
pid=${PID[w1]}
hard=$(prlimit --pid "$pid" --nofile --noheadings --output HARD | tr -d ' ')
open_fds=$(ls "/proc/$pid/fd" | wc -l)
# room for nothing more: the next pipe2 fails
prlimit --pid "$pid" --nofile="$open_fds:$hard"
t_log "worker fds: $open_fds open, soft limit now $open_fds"

job=$(echo '{"argv": ["echo", "made it"], "retry": {"max_attempts": 50, "backoff_ms": 300, "backoff_max_ms": 300, "jitter_pct": 0}}' \
      | shoal submit - --name fd-shortage -q)
t_wait "an attempt failed for want of descriptors" 30 t_test_eq t \
    t_sql "SELECT count(*) > 0 FROM attempts WHERE job_id = $job AND error LIKE '%Too many open files%'"
t_assert_eq "no result yet: the task waits for a retry" 0 "$(t_results "$job")"
t_log "attempt: $(t_sql "SELECT error FROM attempts WHERE job_id = $job LIMIT 1")"
prlimit --pid "$pid" --nofile="$hard:$hard"
t_wait_done "$job" 30
t_assert_eq "ok on a later attempt" "ok|made it" \
    "$(t_sql "SELECT outcome || '|' || trim(trailing E'\\n' FROM stdout) FROM results WHERE job_id = $job" | tr -d '\n')"
t_assert_eq "after more than one attempt" t "$(t_sql "SELECT attempt > 1 FROM results WHERE job_id = $job")"
t_log "pass"
