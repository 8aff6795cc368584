#!/usr/bin/env bash
# exec tasks on a worker started with --allow-exec: exit status, signals,
# stdout/stderr tails, stdin, env (without the worker's SHOAL_* settings),
# working directory; a timeout kills the whole process group; a program
# that does not exist fails at once.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker --heartbeat-ms 200
SHOAL_SECRET_THING=do-not-leak t_worker runner --slots 8 --allow-exec
t_wait_workers 1
cat > "$T_DIR/tasks.jsonl" <<JSONL
{"argv": ["echo", "hello"], "tag": "echo"}
{"argv": ["sh", "-c", "echo oops >&2; exit 3"], "retry": {"max_attempts": 1}, "tag": "exit3"}
{"argv": ["cat"], "stdin": "fed through stdin", "tag": "stdin"}
{"argv": ["sh", "-c", "echo \$FOO; env | grep -c ^SHOAL_ || true"], "env": {"FOO": "bar"}, "tag": "env"}
{"argv": ["pwd"], "cwd": "/tmp", "tag": "cwd"}
{"argv": ["seq", "1", "100000"], "tail_bytes": 13, "tag": "tail"}
{"argv": ["sh", "-c", "sleep 3771 & exec sleep 3772"], "timeout_ms": 500, "retry": {"max_attempts": 1}, "tag": "timeout"}
{"argv": ["sh", "-c", "kill -TERM \$\$"], "retry": {"max_attempts": 1}, "tag": "signal"}
{"argv": ["/no/such/program"], "tag": "missing"}
JSONL
job=$(shoal submit "$T_DIR/tasks.jsonl" --name exec -q)
t_wait_done "$job" 60
shoal results "$job" > "$T_DIR/results.jsonl"
r() { jq -r "select(.tag == \"$1\") | $2" "$T_DIR/results.jsonl"; }

t_assert_eq "echo" "ok|0|hello" "$(r echo '"\(.outcome)|\(.exec.exit_code)|\(.exec.stdout)"' | tr -d '\n')"
t_assert_eq "exit 3" "failed|3|oops|exit status 3" "$(r exit3 '"\(.outcome)|\(.exec.exit_code)|\(.exec.stderr | rtrimstr("\n"))|\(.error)"')"
t_assert_eq "stdin" "fed through stdin" "$(r stdin .exec.stdout)"
t_assert_eq "env: the task's variable, none of the worker's SHOAL_*" "bar 0" "$(r env .exec.stdout | xargs)"
t_assert_eq "cwd" /tmp "$(r cwd .exec.stdout | tr -d '\n')"
t_assert_eq "tail of 13 bytes" "$(printf '99999\n100000\n' | tail -c 13)" "$(r tail .exec.stdout)"
t_assert_eq "timeout" "failed|1" "$(r timeout '"\(.outcome)|\(.attempt)"')"
r timeout .error | grep -q "timed out" || t_fail "the timeout task's error: $(r timeout .error)"
# (the bracket keeps pgrep from matching this shell's own command line)
t_wait "the timed-out process group is gone" 10 bash -c "! pgrep -f 'sleep 377[12]' >/dev/null"
t_assert_eq "killed by a signal" "failed|15" "$(r signal '"\(.outcome)|\(.exec.signal)"')"
t_assert_eq "missing program: failed at once" "failed|1" "$(r missing '"\(.outcome)|\(.attempt)"')"
r missing .error | grep -q "No such file" || t_fail "the missing program's error: $(r missing .error)"
t_log "pass"
