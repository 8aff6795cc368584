#!/usr/bin/env bash
# Client frames that would cost the broker far more than their size to
# decode — a 16 MiB SubmitChunk of empty task specs, of specs holding an
# empty http spec, of specs just under the decode budget, a 16 MiB Results
# of empty results on the client socket — and one over the client frame
# limit, sent while a job runs on healthy workers under --max-attempts 1.
# Each refused frame is answered with its corr id; the broker's memory
# stays bounded (its peak RSS, VmHWM); its loop never stalls long enough
# to declare a worker lost; every task ends ok.
. "$(dirname "$0")/../lib.sh"

t_db
# the default heartbeat (1 s, lost after 5 s of silence): before the fix
# one such frame stalled the loop for up to 9 s, now for tens of ms (up to
# about a second on a loaded machine)
t_broker
t_worker w1 --slots 8
t_worker w2 --slots 8
t_wait_workers 2

total=20000
job=$(shoal submit --count $total --sleep-ms 10 --max-attempts 1 --name bombed -q)
t_wait "results flowing" 60 t_results_at_least "$job" 200

bomb() { "$SHOAL_BIN/tests/shoal_bomb" --frontend "$FRONTEND" "$@"; }
mib16=16000000
declare -A kinds=(
    [empty_specs]="--body 32 --element 1a00"
    [empty_http_specs]="--body 32 --element 1a025a00"
    [specs_with_tags]="--body 32 --element 1a0a1a08787878787878787878"
    [empty_results]="--body 13 --element 0a00"
)
for kind in "${!kinds[@]}"; do
    # shellcheck disable=SC2086
    out=$(bomb ${kinds[$kind]} --size $mib16 --count 3) || t_fail "shoal_bomb failed ($kind)"
    t_log "$kind: $out"
    echoed=$(sed 's/.*echoed=\([0-9]*\).*/\1/' <<<"$out")
    t_assert_eq "$kind frames answered with their corr" 3 "$echoed"
done
# over the client limit (16 MiB + 64 KiB): libzmq drops the connection
out=$(bomb --body 32 --element 1a00 --size 33000000 --timeout-ms 2000)
t_log "over the limit: $out"
t_assert_eq "a 33 MB frame answered" 0 "$(sed 's/.*answered=\([0-9]*\).*/\1/' <<<"$out")"
grep -q "socket=frontend error=\"frame would decode into more than" "$T_DIR/broker.log" \
    || t_fail "the broker logged no refused frame; nothing was tested"
[ "$(t_results "$job")" -lt $total ] || t_fail "the job ended before the frames were sent; nothing was tested"

t_wait_done "$job" 180
peak=$(awk '/^VmHWM/ {print $2}' "/proc/${PID[broker]}/status")
t_log "broker peak RSS: $peak kB"
if [ "${SHOAL_SANITIZED:-0}" != 1 ]; then
    # before the fix: ~1.6 GB here (each 16 MB frame decoded again, unbudgeted)
    [ "$peak" -lt 262144 ] || t_fail "broker peak RSS $peak kB (limit 256 MiB)"
fi
if grep -q "msg=worker_lost" "$T_DIR/broker.log"; then
    t_fail "a healthy worker was declared lost: $(grep msg=worker_lost "$T_DIR/broker.log" | head -n 3)"
fi
t_assert_one_result_each "$job" $total
t_assert_eq "ok results" $total "$(t_sql "SELECT count(*) FROM results WHERE job_id = $job AND outcome = 'ok'")"
t_log "pass"
