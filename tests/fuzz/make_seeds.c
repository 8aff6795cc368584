/*  make_seeds — write the seed corpus of fuzz_envelope: one realistic
    frame per message kind (the files in corpus/fuzz_envelope come from
    here). Built by the normal build as tests/fuzz_make_seeds.

    fuzz_make_seeds DIR
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

static int s_count = 0;

static void
s_write(const char *dir, const char *name, Shoal__Envelope *env)
{
    env->has_version = 1;
    env->version = SHOAL_PROTO_MAJOR;
    env->has_corr = 1;
    env->corr = 1000 + (uint64_t) s_count;
    size_t len = shoal__envelope__get_packed_size(env);
    uint8_t *buf = malloc(len);
    shoal__envelope__pack(env, buf);
    char err[256];
    envelope_t *check = wire_decode(buf, len, err, sizeof err, NULL);
    if (!check) {
        fprintf(stderr, "seed %s does not validate: %s\n", name, err);
        exit(1);
    }
    wire_free(check);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
    free(buf);
    s_count++;
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_make_seeds DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    Shoal__Envelope env;

    //  specs shared by several messages
    Shoal__Header h1 = SHOAL__HEADER__INIT, h2 = SHOAL__HEADER__INIT;
    h1.name = "Accept"; h1.value = "application/json";
    h2.name = "Authorization"; h2.value = "Bearer abc";
    Shoal__Header *headers[] = { &h1, &h2 };
    Shoal__FormField ff = SHOAL__FORM_FIELD__INIT;
    ff.name = "file"; ff.file = "/data/x.bin"; ff.filename = "x.bin"; ff.content_type = "image/png";
    Shoal__FormField *form[] = { &ff };
    uint32_t statuses[] = { 429, 503 };
    Shoal__RetryPolicy retry = SHOAL__RETRY_POLICY__INIT;
    retry.has_max_attempts = retry.has_backoff_ms = retry.has_backoff_max_ms = retry.has_jitter_pct = 1;
    retry.max_attempts = 5; retry.backoff_ms = 500; retry.backoff_max_ms = 30000; retry.jitter_pct = 20;
    retry.retry_status = statuses; retry.n_retry_status = 2;
    Shoal__HttpSpec http = SHOAL__HTTP_SPEC__INIT;
    http.method = "POST"; http.url = "https://api.example.com:8443/item/17?x=1";
    http.headers = headers; http.n_headers = 2;
    http.has_body = 1; http.body.data = (uint8_t *) "{\"a\":1}"; http.body.len = 7;
    http.has_follow_redirects = http.has_max_redirects = http.has_store = http.has_inline_limit = 1;
    http.follow_redirects = 1; http.max_redirects = 5; http.store = SHOAL__BODY_STORE__STORE_DIR;
    http.inline_limit = 4096;
    Shoal__HttpSpec upload = SHOAL__HTTP_SPEC__INIT;
    upload.method = "PUT"; upload.url = "http://up.example.org/u"; upload.form = form; upload.n_form = 1;
    upload.proxy = "http://proxy:3128"; upload.cookies = "a=1; b=2";
    char *argv_[] = { "sh", "-c", "echo hi" };
    char *envv[] = { "LANG=C" };
    Shoal__ExecSpec exec = SHOAL__EXEC_SPEC__INIT;
    exec.argv = argv_; exec.n_argv = 3; exec.env = envv; exec.n_env = 1; exec.cwd = "/tmp";
    exec.has_stdin = 1; exec.stdin.data = (uint8_t *) "in"; exec.stdin.len = 2;
    Shoal__NoopSpec noop = SHOAL__NOOP_SPEC__INIT;
    noop.has_sleep_ms = noop.has_fail_until_attempt = 1; noop.sleep_ms = 10; noop.fail_until_attempt = 2;
    Shoal__TaskSpec s_http = SHOAL__TASK_SPEC__INIT, s_up = SHOAL__TASK_SPEC__INIT,
                    s_exec = SHOAL__TASK_SPEC__INIT, s_noop = SHOAL__TASK_SPEC__INIT;
    s_http.kind_case = SHOAL__TASK_SPEC__KIND_HTTP; s_http.http = &http; s_http.retry = &retry;
    s_http.has_timeout_ms = 1; s_http.timeout_ms = 30000; s_http.tag = "row-17";
    s_up.kind_case = SHOAL__TASK_SPEC__KIND_HTTP; s_up.http = &upload;
    s_exec.kind_case = SHOAL__TASK_SPEC__KIND_EXEC; s_exec.exec = &exec;
    s_noop.kind_case = SHOAL__TASK_SPEC__KIND_NOOP; s_noop.noop = &noop;
    Shoal__TaskSpec *specs[] = { &s_http, &s_up, &s_exec, &s_noop };
    Shoal__HostLimits hosts = SHOAL__HOST_LIMITS__INIT;
    hosts.has_max_per_host = hosts.has_rate_per_host = 1; hosts.max_per_host = 8; hosts.rate_per_host = 2.5;
    Shoal__HttpSpec dhttp = SHOAL__HTTP_SPEC__INIT;
    dhttp.headers = headers; dhttp.n_headers = 1; dhttp.method = "GET";
    Shoal__JobDefaults defaults = SHOAL__JOB_DEFAULTS__INIT;
    defaults.has_timeout_ms = 1; defaults.timeout_ms = 60000; defaults.retry = &retry;
    defaults.http = &dhttp; defaults.hosts = &hosts;

    //  worker -> broker
    Shoal__TaskRef r1 = SHOAL__TASK_REF__INIT, r2 = SHOAL__TASK_REF__INIT;
    r1.has_task_id = r1.has_lease = r2.has_task_id = r2.has_lease = 1;
    r1.task_id = (1ULL << 32) | 5; r1.lease = (1ULL << 40) | 77;
    r2.task_id = (2ULL << 32) | 9; r2.lease = (2ULL << 40) | 3;
    Shoal__TaskRef *refs1[] = { &r1 }, *refs2[] = { &r2 }, *refs12[] = { &r1, &r2 };
    Shoal__Label l1 = SHOAL__LABEL__INIT;
    l1.key = "region"; l1.value = "eu";
    Shoal__Label *labels[] = { &l1 };
    Shoal__TaskKind kinds[] = { SHOAL__TASK_KIND__KIND_NOOP, SHOAL__TASK_KIND__KIND_HTTP, SHOAL__TASK_KIND__KIND_EXEC };
    Shoal__Hello hello = SHOAL__HELLO__INIT;
    hello.worker_id = "vps1-1234-ab12"; hello.host = "vps1"; hello.version = "0.1.0";
    hello.has_pid = hello.has_slots = hello.has_instance = 1;
    hello.pid = 1234; hello.slots = 64; hello.instance = 0x1234567890ULL;
    hello.kinds = kinds; hello.n_kinds = 3; hello.labels = labels; hello.n_labels = 1;
    hello.held = refs1; hello.n_held = 1; hello.done = refs2; hello.n_done = 1;
    shoal__envelope__init(&env);
    env.body_case = SHOAL__ENVELOPE__BODY_HELLO; env.hello = &hello;
    s_write(dir, "hello", &env);

    Shoal__Header rh = SHOAL__HEADER__INIT;
    rh.name = "content-type"; rh.value = "text/html";
    Shoal__Header *rhs[] = { &rh };
    Shoal__HttpResult hr = SHOAL__HTTP_RESULT__INIT;
    hr.has_status = hr.has_bytes = hr.has_total_us = hr.has_redirects = 1;
    hr.status = 200; hr.bytes = 5; hr.total_us = 12345; hr.redirects = 1;
    hr.final_url = "https://api.example.com/item/17"; hr.headers = rhs; hr.n_headers = 1;
    hr.sha256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    hr.has_body = 1; hr.body.data = (uint8_t *) "hello"; hr.body.len = 5;
    Shoal__ExecResult xr = SHOAL__EXEC_RESULT__INIT;
    xr.has_exit_code = 1; xr.exit_code = 3;
    xr.has_stderr_tail = 1; xr.stderr_tail.data = (uint8_t *) "boom"; xr.stderr_tail.len = 4;
    Shoal__Result res1 = SHOAL__RESULT__INIT, res2 = SHOAL__RESULT__INIT;
    res1.has_task_id = res1.has_lease = res1.has_outcome = res1.has_attempt = res1.has_started_us = 1;
    res1.task_id = r1.task_id; res1.lease = r1.lease; res1.outcome = SHOAL__OUTCOME__OUTCOME_OK;
    res1.attempt = 1; res1.started_us = 1700000000000000LL; res1.http = &hr;
    res2.has_task_id = res2.has_lease = res2.has_outcome = res2.has_retry_after_ms = 1;
    res2.task_id = r2.task_id; res2.lease = r2.lease; res2.outcome = SHOAL__OUTCOME__OUTCOME_ERROR;
    res2.error = "exit status 3"; res2.retry_after_ms = 2000; res2.exec = &xr;
    Shoal__Result *rs[] = { &res1, &res2 };
    Shoal__Results results = SHOAL__RESULTS__INIT;
    results.results = rs; results.n_results = 2; results.worker_id = "vps1-1234-ab12";
    shoal__envelope__init(&env);
    env.body_case = SHOAL__ENVELOPE__BODY_RESULTS; env.results = &results;
    s_write(dir, "results", &env);

    Shoal__Heartbeat hb = SHOAL__HEARTBEAT__INIT;
    hb.has_running = hb.has_draining = 1; hb.running = 3; hb.draining = 1;
    shoal__envelope__init(&env);
    env.body_case = SHOAL__ENVELOPE__BODY_HEARTBEAT; env.heartbeat = &hb;
    s_write(dir, "heartbeat", &env);

    Shoal__Bye bye = SHOAL__BYE__INIT;
    bye.reason = "drained";
    shoal__envelope__init(&env);
    env.body_case = SHOAL__ENVELOPE__BODY_BYE; env.bye = &bye;
    s_write(dir, "bye", &env);

    //  broker -> worker
    Shoal__Welcome welcome = SHOAL__WELCOME__INIT;
    welcome.has_heartbeat_ms = welcome.has_liveness = welcome.has_epoch = 1;
    welcome.heartbeat_ms = 1000; welcome.liveness = 5; welcome.epoch = 7;
    shoal__envelope__init(&env);
    env.body_case = SHOAL__ENVELOPE__BODY_WELCOME; env.welcome = &welcome;
    s_write(dir, "welcome", &env);

    uint8_t packed[4][2048];
    Shoal__Task tasks[4];
    Shoal__Task *task_ptrs[4];
    for (int i = 0; i < 4; i++) {
        shoal__task__init(&tasks[i]);
        tasks[i].has_task_id = tasks[i].has_lease = tasks[i].has_attempt = tasks[i].has_spec = 1;
        tasks[i].has_timeout_ms = 1;
        tasks[i].task_id = (1ULL << 32) | (uint64_t) i;
        tasks[i].lease = (7ULL << 40) | (uint64_t) (100 + i);
        tasks[i].attempt = 1;
        tasks[i].timeout_ms = 60000;
        tasks[i].spec.len = shoal__task_spec__pack(specs[i], packed[i]);
        tasks[i].spec.data = packed[i];
        task_ptrs[i] = &tasks[i];
    }
    Shoal__JobContext ctx = SHOAL__JOB_CONTEXT__INIT;
    ctx.has_job_id = 1; ctx.job_id = 1; ctx.defaults = &defaults;
    Shoal__JobContext *ctxs[] = { &ctx };
    Shoal__Tasks t = SHOAL__TASKS__INIT;
    t.jobs = ctxs; t.n_jobs = 1; t.tasks = task_ptrs; t.n_tasks = 4;
    shoal__envelope__init(&env);
    env.body_case = SHOAL__ENVELOPE__BODY_TASKS; env.tasks = &t;
    s_write(dir, "tasks", &env);

    Shoal__ResultAck ack = SHOAL__RESULT_ACK__INIT;
    ack.acked = refs12; ack.n_acked = 2;
    shoal__envelope__init(&env);
    env.body_case = SHOAL__ENVELOPE__BODY_RESULT_ACK; env.result_ack = &ack;
    s_write(dir, "result_ack", &env);

    Shoal__Cancel cancel = SHOAL__CANCEL__INIT;
    cancel.tasks = refs1; cancel.n_tasks = 1;
    shoal__envelope__init(&env);
    env.body_case = SHOAL__ENVELOPE__BODY_CANCEL; env.cancel = &cancel;
    s_write(dir, "cancel", &env);

    //  client -> broker
    Shoal__JobOpen open = SHOAL__JOB_OPEN__INIT;
    open.name = "crawl"; open.key = "crawl-2026"; open.defaults = &defaults;
    open.has_priority = 1; open.priority = 10;
    shoal__envelope__init(&env);
    env.body_case = SHOAL__ENVELOPE__BODY_JOB_OPEN; env.job_open = &open;
    s_write(dir, "job_open", &env);

    Shoal__SubmitChunk chunk = SHOAL__SUBMIT_CHUNK__INIT;
    chunk.has_job_id = chunk.has_first_seq = chunk.has_seal = 1;
    chunk.job_id = 1; chunk.first_seq = 1000; chunk.tasks = specs; chunk.n_tasks = 4; chunk.seal = 1;
    shoal__envelope__init(&env);
    env.body_case = SHOAL__ENVELOPE__BODY_SUBMIT_CHUNK; env.submit_chunk = &chunk;
    s_write(dir, "submit_chunk", &env);

    Shoal__JobSeal seal = SHOAL__JOB_SEAL__INIT;
    seal.has_job_id = seal.has_total = 1; seal.job_id = 1; seal.total = 1004;
    shoal__envelope__init(&env);
    env.body_case = SHOAL__ENVELOPE__BODY_JOB_SEAL; env.job_seal = &seal;
    s_write(dir, "job_seal", &env);

    uint32_t classes[] = { 5 };
    Shoal__JobControl control = SHOAL__JOB_CONTROL__INIT;
    control.has_job_id = control.has_action = 1; control.job_id = 1;
    control.action = SHOAL__CONTROL_ACTION__CONTROL_RETRY;
    control.retry_status = statuses; control.n_retry_status = 2;
    control.retry_class = classes; control.n_retry_class = 1;
    shoal__envelope__init(&env);
    env.body_case = SHOAL__ENVELOPE__BODY_JOB_CONTROL; env.job_control = &control;
    s_write(dir, "job_control", &env);

    Shoal__StatusRequest sr = SHOAL__STATUS_REQUEST__INIT;
    sr.has_job_id = 1; sr.job_id = 1;
    shoal__envelope__init(&env);
    env.body_case = SHOAL__ENVELOPE__BODY_STATUS_REQUEST; env.status_request = &sr;
    s_write(dir, "status_request", &env);

    Shoal__ResultsRequest rr = SHOAL__RESULTS_REQUEST__INIT;
    rr.has_job_id = rr.has_after_seq = rr.has_limit = rr.has_failed_only = rr.has_with_body = 1;
    rr.job_id = 1; rr.after_seq = -1; rr.limit = 1000; rr.failed_only = 1; rr.with_body = 1;
    shoal__envelope__init(&env);
    env.body_case = SHOAL__ENVELOPE__BODY_RESULTS_REQUEST; env.results_request = &rr;
    s_write(dir, "results_request", &env);

    Shoal__SnapshotRequest snap = SHOAL__SNAPSHOT_REQUEST__INIT;
    shoal__envelope__init(&env);
    env.body_case = SHOAL__ENVELOPE__BODY_SNAPSHOT_REQUEST; env.snapshot_request = &snap;
    s_write(dir, "snapshot_request", &env);

    Shoal__Error e = SHOAL__ERROR__INIT;
    e.has_code = 1; e.code = SHOAL__ERROR_CODE__ERR_VERSION; e.message = "protocol version 2 not supported";
    shoal__envelope__init(&env);
    env.body_case = SHOAL__ENVELOPE__BODY_ERROR; env.error = &e;
    s_write(dir, "error", &env);

    printf("%d seeds in %s\n", s_count, dir);
    return 0;
}
