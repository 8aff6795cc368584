#!/usr/bin/env bash
# A broker, two workers and PostgreSQL on loopback: a job of 10,000 noop
# tasks ends with exactly 10,000 result rows, the job marked done, and
# `shoal status` saying so.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker
t_worker w1 --slots 16
t_worker w2 --slots 16
t_wait_workers 2

job=$(shoal submit --count 10000 --name noop10k -q)
t_assert_eq "job id" 1 "$job"
t_wait_done "$job" 120

t_assert_one_result_each "$job" 10000
t_assert_eq "ok results" 10000 "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok'")"
t_assert_eq "job row state" done "$(t_sql "SELECT state FROM jobs WHERE id = $job")"
t_assert_eq "job row counts" "10000|10000|0" "$(t_sql "SELECT n_tasks, n_ok, n_failed FROM jobs WHERE id = $job")"
# both workers took part
t_assert_eq "workers that ran tasks" 2 "$(t_sql "SELECT count(DISTINCT worker) FROM results WHERE job_id = $job")"

status=$(shoal -o json status "$job")
t_assert_eq "status state" done "$(jq -r .state <<<"$status")"
t_assert_eq "status ok" 10000 "$(jq -r .ok <<<"$status")"
t_assert_eq "status total" 10000 "$(jq -r .total <<<"$status")"
shoal status "$job" | grep -q "10,000 of 10,000 done" || t_fail "human status does not show the count"
t_log "pass"
