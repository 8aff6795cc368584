#!/usr/bin/env bash
# Every subcommand in each output format, against a broker with one noop
# worker: submit --wait (exit 0 / 1), jobs, status (table, JSON, --watch
# on a terminal, in a pipe, as JSON lines; --wait), results (JSONL, CSV,
# --failed, paging), pause / resume / cancel / retry (with --status
# filters), workers, version, --help for every command, global options
# after the command, usage errors (2) and unknown jobs (5).
. "$(dirname "$0")/helpers.bash"

t_db
t_broker
t_worker w1 --slots 4
t_wait_workers 1

# ---------------------------------------------------------------- help and version: no broker needed
for c in submit jobs status results pause resume cancel retry workers version; do
    t_run "help-$c" shoal "$c" --help
    t_rc "shoal $c --help" 0
    t_grep "shoal $c --help has usage" "^Usage: shoal $c" "$T_DIR/help-$c.out"
    [ "$c" = version ] || t_grep "shoal $c --help has examples" "^Examples:" "$T_DIR/help-$c.out"
    t_run "help2-$c" shoal help "$c"
    cmp -s "$T_DIR/help-$c.out" "$T_DIR/help2-$c.out" || t_fail "'shoal help $c' differs from 'shoal $c --help'"
done
t_run help shoal --help
t_rc "shoal --help" 0
for c in submit jobs status results pause resume cancel retry workers version; do
    t_grep "shoal --help lists $c" "^  $c " "$T_DIR/help.out"
done
t_grep "shoal --help lists exit codes" "4 broker unreachable" "$T_DIR/help.out"
t_assert_eq "version" "shoal 0.1.0 (protocol 1)" "$(shoal version | sed 's/shoal [^ ]*/shoal 0.1.0/')"
t_assert_eq "version -o json has version and protocol" "true 1" \
    "$(shoal version -o json | jq -r '"\(.version | test("^[0-9]+\\.[0-9]+")) \(.protocol)"')"

# ---------------------------------------------------------------- usage errors: exit 2
usage() { t_run usage shoal "$@"; t_rc "shoal $* (usage error)" 2; }
usage frobnicate
usage
usage status
usage status abc
usage status 0
usage status 1 2
usage results 1 --format xml
usage -o yaml jobs
usage jobs --limit 0
usage jobs extra
usage workers extra
usage pause
usage retry 1 --status 600
usage retry 1 --status ''
usage retry 1 --status 5xx,teapot
usage submit --count 5 --url-template 'https://x.example/{1..2}'
usage submit --unknown-flag
usage --broker-timeout-ms 0 jobs
usage --broker 'not an endpoint' jobs
t_grep "bad endpoint message" "'not an endpoint' is not a broker endpoint" "$T_DIR/usage.err"

# ---------------------------------------------------------------- a job with failures: submit --wait exits 1
cat > "$T_DIR/fail.jsonl" <<'EOF'
{"kind": "noop", "tag": "ok-1"}
{"kind": "noop", "tag": "ok-2"}
{"kind": "noop", "fail_until_attempt": 9, "retry": {"max_attempts": 1}, "tag": "bad-1"}
{"kind": "noop", "tag": "ok-3"}
{"kind": "noop", "fail_until_attempt": 9, "retry": {"max_attempts": 1}, "tag": "bad-2"}
{"kind": "noop", "tag": "ok-4"}
EOF
t_run fwait shoal submit --wait "$T_DIR/fail.jsonl"
t_rc "submit --wait of a job with failed tasks" 1
fjob=$(cat "$T_DIR/fwait.out")
t_grep "summary" "job $fjob done: 4 ok, 2 failed, 0 cancelled" "$T_DIR/fwait.err"
t_run fwaitj shoal -o json submit --wait -q "$T_DIR/fail.jsonl"
t_rc "submit --wait -o json -q" 1
t_assert_eq "-o json submit --wait -q: one object, the submit's" "1 6" "$(jq -s -r '"\(length) \(.[0].tasks)"' "$T_DIR/fwaitj.out")"
t_run fwaitj2 shoal -o json submit --wait "$T_DIR/fail.jsonl"
t_assert_eq "-o json submit --wait: the submit, then the finished job" "2 6 done 2" \
    "$(jq -s -r '"\(length) \(.[0].tasks) \(.[1].state) \(.[1].failed)"' "$T_DIR/fwaitj2.out")"
t_run swait shoal status "$fjob" --wait
t_rc "status --wait of a job with failed tasks" 1

# results --failed, JSON and CSV
t_run rfailed shoal results "$fjob" --failed
t_rc "results --failed" 0
t_assert_eq "failed rows (seq, tag, outcome)" "2 bad-1 failed|4 bad-2 failed" \
    "$(jq -r '"\(.seq) \(.tag) \(.outcome)"' "$T_DIR/rfailed.out" | paste -sd '|')"
t_grep "failed rows carry the error" '"error":"programmed failure \(attempt 1, succeeds at 9\)"' "$T_DIR/rfailed.out"
t_run rfailedcsv shoal results "$fjob" --failed --format csv
t_assert_eq "CSV --failed: header and two rows" 3 "$(wc -l < "$T_DIR/rfailedcsv.out")"
t_grep "CSV row, the error quoted (it has a comma)" \
    "^$fjob,2,failed,1,noop,bad-1,w1,\"programmed failure \\(attempt 1, succeeds at 9\\)\",,,,,,,,[0-9]+,[0-9]+$" \
    "$T_DIR/rfailedcsv.out"
t_run rall shoal results "$fjob"
t_assert_eq "all rows in seq order" "0 1 2 3 4 5" "$(jq -r .seq "$T_DIR/rall.out" | paste -sd ' ')"
t_run rpaged shoal results "$fjob" --page 1
cmp -s "$T_DIR/rall.out" "$T_DIR/rpaged.out" || t_fail "paging by 1 gives other rows than one page"
t_log "ok: --page 1 gives the same rows"

# retry: --status filters, then all failed
t_run r5xx shoal retry "$fjob" --failed --status '5xx|429'
t_rc "retry --status 5xx|429" 0
t_grep "nothing matched" "no failed tasks match --status; nothing to retry" "$T_DIR/r5xx.out"
t_assert_eq "nothing requeued" 2 "$(t_job_row "$fjob" n_failed)"
t_run rnone shoal -o json retry "$fjob" --status none
t_rc "retry --status none" 0
t_assert_eq "retry -o json: action, affected" "retry 2" "$(jq -r '"\(.action) \(.affected)"' "$T_DIR/rnone.out")"
t_run rwait shoal status "$fjob" --wait -q
t_rc "the retried tasks fail again" 1
t_assert_eq "their first attempts are in the attempt log" 2 \
    "$(t_sql "SELECT count(*) FROM attempts WHERE job_id = $fjob AND outcome = 'failed'")"
t_run rall2 shoal retry "$fjob"
t_grep "retry without a filter" "job $fjob: 2 failed tasks queued again" "$T_DIR/rall2.out"
shoal status "$fjob" --wait -q || true

# ---------------------------------------------------------------- an ok job: --wait exits 0, status in every form
t_run okwait shoal submit --count 50 --name okjob --wait
t_rc "submit --wait of an ok job" 0
ojob=$(cat "$T_DIR/okwait.out")
t_run st shoal status "$ojob"
t_rc "status" 0
t_grep "status table" '^  progress   100\.0%  50 of 50 done' "$T_DIR/st.out"
t_grep "status table names the job" "^job $ojob  \"okjob\"" "$T_DIR/st.out"
t_assert_eq "status -o json" "done 50 50 0 true" \
    "$(shoal -o json status "$ojob" | jq -r '"\(.state) \(.total) \(.ok) \(.failed) \(.sealed)"')"
t_assert_eq "global option after the command" "done" "$(shoal status "$ojob" -o json | jq -r .state)"
t_assert_eq "SHOAL_OUTPUT=json" "done" "$(SHOAL_OUTPUT=json shoal status "$ojob" | jq -r .state)"
t_assert_eq "--broker beats SHOAL_BROKER" "done" \
    "$(SHOAL_BROKER=tcp://127.0.0.1:1 "$SHOAL_BIN/shoal" --broker "$FRONTEND" -o json status "$ojob" | jq -r .state)"
t_run stw shoal status "$ojob" --wait
t_rc "status --wait of an ok job" 0

# --watch: a pipe gets a line and the block; -o json gets JSON lines; a
# terminal gets a redrawn screen
t_run watchpipe shoal status "$ojob" --watch
t_rc "status --watch of a finished job (pipe)" 0
t_grep "watch in a pipe: a timestamped line" "^[0-9:]{8}  job $ojob done 100\.0%  50/50 done" "$T_DIR/watchpipe.out"
t_grep "watch in a pipe: then the block" "^  progress   100\.0%" "$T_DIR/watchpipe.out"
t_nogrep "watch in a pipe: no escape codes" $'\033' "$T_DIR/watchpipe.out"
t_run watchjson shoal -o json status "$ojob" --watch
t_assert_eq "watch -o json: one JSON line per update" "1 done" "$(jq -s -r '"\(length) \(.[0].state)"' "$T_DIR/watchjson.out")"
slow=$(shoal submit --count 40 --sleep-ms 50 --name slow -q)
t_run watchlive shoal -o json status "$slow" --watch --interval-ms 100
t_rc "watch a running job to its end" 0
t_assert_eq "watch -o json: several updates, the last one done" "true done 40" \
    "$(jq -s -r '"\(length > 2) \(.[-1].state) \(.[-1].ok)"' "$T_DIR/watchlive.out")"
script -qec "$SHOAL_BIN/shoal status $ojob --watch" /dev/null > "$T_DIR/watchtty.out" 2>&1
t_grep "watch on a terminal: cursor home, not a scroll" $'\033\\[H' "$T_DIR/watchtty.out"
t_grep "watch on a terminal: header" "shoal status $ojob --watch .* Ctrl-C to stop" "$T_DIR/watchtty.out"
t_grep "watch on a terminal: the end" "the job has ended" "$T_DIR/watchtty.out"
slow2=$(shoal submit --count 40 --sleep-ms 50 -q)
script -qec "$SHOAL_BIN/shoal status $slow2 --wait --interval-ms 100" /dev/null > "$T_DIR/waittty.out" 2>&1
t_grep "wait on a terminal: a progress line rewritten in place" $'\r\033\\[Kjob '"$slow2"' active' "$T_DIR/waittty.out"
t_grep "wait on a terminal: the end" "job $slow2 done: 40 ok, 0 failed, 0 cancelled" "$T_DIR/waittty.out"
script -qec "$SHOAL_BIN/shoal submit --count 30 --sleep-ms 20 --wait" /dev/null > "$T_DIR/subwaittty.out" 2>&1
t_grep "submit --wait on a terminal: progress, then done" "job [0-9]+ done 100\.0%  30/30 done" "$T_DIR/subwaittty.out"

# ---------------------------------------------------------------- pause and resume
pjob=$(shoal submit --count 400 --sleep-ms 20 --name pausable -q)
t_run pause shoal -o json pause "$pjob"
t_rc "pause" 0
t_assert_eq "pause -o json" "pause paused" "$(jq -r '"\(.action) \(.state)"' "$T_DIR/pause.out")"
t_assert_eq "paused in the database" paused "$(t_job_row "$pjob" state)"
running() { shoal -o json status "$pjob" | jq .running; }
t_wait "running tasks of the paused job finish" 30 t_test_eq 0 running
t_assert_eq "a paused job does not finish" "paused true" \
    "$(shoal -o json status "$pjob" | jq -r '"\(.state) \(.queued > 0)"')"
t_run jobsp shoal jobs
t_grep "jobs shows paused" "^ *$pjob  paused " "$T_DIR/jobsp.out"
t_run resume shoal resume "$pjob"
t_rc "resume" 0
t_assert_eq "resume (table)" "job $pjob resumed" "$(cat "$T_DIR/resume.out")"
t_run presumewait shoal status "$pjob" --wait -q
t_rc "the resumed job finishes" 0
t_run pausedone shoal pause "$pjob"
t_rc "pause a finished job" 5
t_grep "says why" "cannot pause: job $pjob is done" "$T_DIR/pausedone.err"

# ---------------------------------------------------------------- cancel
cjob=$(shoal submit --count 400 --sleep-ms 50 --name doomed -q)
t_wait "some of the doomed job done" 30 t_results_at_least "$cjob" 8
t_run cancel shoal cancel "$cjob"
t_rc "cancel" 0
t_grep "cancel (table)" "^job $cjob cancelled \([0-9]+ tasks not yet run\)$" "$T_DIR/cancel.out"
t_run cwait shoal status "$cjob" --wait
t_rc "status --wait of a cancelled job" 1
t_grep "summary of a cancelled job" "job $cjob cancelled: [0-9]+ ok, 0 failed, [0-9]+ cancelled" "$T_DIR/cwait.err"
cancelled=$(t_job_row "$cjob" n_cancelled)
[ "$cancelled" -gt 0 ] || t_fail "nothing was cancelled"
t_assert_eq "cancelled results exported with --failed" "$cancelled" \
    "$(shoal results "$cjob" --failed | jq -r 'select(.outcome == "cancelled") | .seq' | wc -l)"
t_assert_eq "every task has one exported result" 400 "$(shoal results "$cjob" | wc -l)"
t_run resumec shoal resume "$cjob"
t_rc "resume a cancelled job" 5
t_run retryc shoal retry "$cjob"
t_rc "retry a cancelled job" 5

# ---------------------------------------------------------------- jobs and workers
t_run jobs shoal jobs
t_rc "jobs" 0
t_grep "jobs header" '^ +JOB  STATE +DONE% +TOTAL +OK +FAILED +RATE  NAME$' "$T_DIR/jobs.out"
t_grep "jobs row" "^ *$ojob  done +100\.0% +50 +50 +0 +-  okjob$" "$T_DIR/jobs.out"
t_grep "jobs row of the cancelled job" "^ *$cjob  cancelled " "$T_DIR/jobs.out"
t_assert_eq "jobs -o json lists every job" "$(t_sql "SELECT count(*) FROM jobs")" "$(shoal -o json jobs | jq length)"
t_assert_eq "jobs -n 2: the newest two" "$(t_sql "SELECT string_agg(id::text, ' ' ORDER BY id DESC) FROM (SELECT id FROM jobs ORDER BY id DESC LIMIT 2) j")" \
    "$(shoal -o json jobs -n 2 | jq -r '.[].id' | paste -sd ' ')"
printf 'https://o.example/1\nnot a url\n' > "$T_DIR/one.txt"
t_run open shoal submit --key open-1 "$T_DIR/one.txt"
ojob2=$(t_sql "SELECT id FROM jobs WHERE idem_key = 'open-1'")
t_grep "jobs shows an unsealed job as receiving" "^ *$ojob2  receiving " <(shoal jobs)
t_run workers shoal workers
t_rc "workers" 0
t_grep "workers header" '^WORKER +HOST +PID +SLOTS +BUSY +DONE +FAILED +LAST SEEN  KINDS$' "$T_DIR/workers.out"
t_grep "workers row" "^w1 +[^ ]+ +${PID[w1]} +4 +[0-9]+ +[0-9,]+ +[0-9]+ .*noop,http" "$T_DIR/workers.out"
t_assert_eq "workers -o json" "w1 4 true" "$(shoal -o json workers | jq -r '.[0] | "\(.id) \(.slots) \(.kinds | index("noop") != null)"')"

# ---------------------------------------------------------------- jobs that do not exist: exit 5, a clear message
for c in status results pause resume cancel retry; do
    t_run "nf-$c" shoal "$c" 99999
    t_rc "shoal $c of a job that does not exist" 5
    t_grep "shoal $c says so" "^shoal $c: no job 99999 \('shoal jobs' lists the jobs\)$" "$T_DIR/nf-$c.err"
done
t_run nfw shoal status 99999 --watch
t_rc "status --watch of a job that does not exist" 5
t_log "pass"
