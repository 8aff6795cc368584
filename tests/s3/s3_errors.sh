#!/usr/bin/env bash
# Upload failures that retrying cannot fix end the task at its first attempt
# (of max_attempts 3), with the S3 error code in the result's error: a wrong
# secret (SignatureDoesNotMatch), an unknown access key (InvalidAccessKeyId),
# a missing bucket (NoSuchBucket), a worker without credentials; a response
# cut at max_response_bytes is not stored. moto_server checks every
# signature here, so the good cases also prove the worker signs right.
. "$(dirname "$0")/s3.bash"

t_db
t_nginx
s3_moto auth
s3py bucket shoal
head -c 5000 /dev/urandom > "$T_DIR/www/a.bin"
a_sha=$(sha256sum < "$T_DIR/www/a.bin" | cut -d' ' -f1)
t_broker
N="http://127.0.0.1:$NGINX_PORT"
task() { echo "{\"url\": \"$N/a.bin\", \"store\": \"s3\", \"s3_bucket\": \"${1:-shoal}\", \"max_attempts\": 3, \"backoff_ms\": 100 ${2:-}}"; }

# one worker at a time, each with the environment under test: run_with NAME ENV... -- TASK
# leaves the task's result in $RESULT (outcome|attempt|body_url|error)
CURRENT=""
run_with() {
    local name=$1; shift
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    if [ -n "$CURRENT" ]; then
        kill -TERM "${PID[$CURRENT]}"
        t_wait "$CURRENT gone" 30 t_exited "${PID[$CURRENT]}"
        unset "PID[$CURRENT]"
        t_wait "the broker forgets $CURRENT" 30 t_test_eq 0 t_workers_connected
    fi
    env "${envs[@]}" "$SHOAL_BIN/shoal-worker" --broker "$BACKEND" --worker-id "$name" --kinds http \
        --s3-endpoint "$S3_EP" --s3-path-style >>"$T_DIR/$name.log" 2>&1 &
    PID[$name]=$!
    CURRENT=$name
    t_wait_workers 1
    local j; j=$(echo "$1" | shoal submit - --name "$name" -q)
    t_wait_done "$j" 60
    RESULT=$(t_sql "SELECT outcome || '|' || attempt || '|' || coalesce(body_url, '-') || '|' || coalesce(error, '-') FROM results WHERE job_id = $j")
}
expect() {
    local what=$1 pattern=$2 got=$3
    # shellcheck disable=SC2053
    [[ $got == $pattern ]] || t_fail "$what: got '$got', expected '$pattern'"
    t_log "ok: $what: $got"
}

key="sha256/${a_sha:0:2}/${a_sha:2:2}/$a_sha"
run_with wrong-secret AWS_SECRET_ACCESS_KEY=wrong-secret -- "$(task)"
expect "wrong secret: permanent, with the S3 code" "failed|1|-|S3 PUT s3://shoal/$key: HTTP 403 SignatureDoesNotMatch: *" "$RESULT"
run_with wrong-key AWS_ACCESS_KEY_ID=AKIANOSUCHKEY0000000 -- "$(task)"
expect "unknown access key" "failed|1|-|S3 PUT s3://shoal/$key: HTTP 403 InvalidAccessKeyId: *" "$RESULT"
run_with no-keys -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -- "$(task)"
expect "no credentials" "failed|1|-|no S3 credentials: the worker's environment has no AWS_ACCESS_KEY_ID*" "$RESULT"
run_with good -- "$(task nosuchbucket)"
expect "missing bucket" "failed|1|-|S3 PUT s3://nosuchbucket/$key: HTTP 404 NoSuchBucket: *" "$RESULT"
run_with good2 -- "$(task shoal ', "max_response_bytes": 1000')"
expect "a cut response is not stored" "failed|1|-|response over max_response_bytes (1000 bytes): not stored to S3" "$RESULT"
run_with good3 -- "$(task)"
expect "the good worker stores" "ok|1|s3://shoal/$key|-" "$RESULT"
t_assert_eq "the object" "$key 5000 $a_sha" "$(s3py objects shoal | cut -d' ' -f1-3)"
t_log "pass"
