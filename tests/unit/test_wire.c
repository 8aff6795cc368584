/*  test_wire — protocol round trips; truncated, oversized, garbage and
    wrong-version frames are rejected with an error, never a crash. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "input.h"
#include "wire.h"

static uint8_t *
s_pack(Shoal__Envelope *env, size_t *len)
{
    env->has_version = 1;
    if (!env->version)
        env->version = SHOAL_PROTO_MAJOR;
    *len = shoal__envelope__get_packed_size(env);
    uint8_t *buf = malloc(*len);
    shoal__envelope__pack(env, buf);
    return buf;
}

static void
test_hello_round_trip(void)
{
    Shoal__TaskKind kinds[] = { SHOAL__TASK_KIND__KIND_NOOP, SHOAL__TASK_KIND__KIND_HTTP };
    Shoal__TaskRef ref = SHOAL__TASK_REF__INIT;
    ref.has_task_id = ref.has_lease = 1;
    ref.task_id = (7ULL << 32) | 9;
    ref.lease = 0x123456789ULL;
    Shoal__TaskRef *refs[] = { &ref };
    Shoal__Hello hello = SHOAL__HELLO__INIT;
    hello.worker_id = "w-1";
    hello.host = "box";
    hello.has_slots = 1;
    hello.slots = 8;
    hello.kinds = kinds;
    hello.n_kinds = 2;
    hello.held = refs;
    hello.n_held = 1;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    size_t len;
    uint8_t *buf = s_pack(&env, &len);
    char err[256];
    Shoal__Envelope *back = wire_decode(buf, len, err, sizeof err, NULL);
    CHECK(back != NULL);
    if (back) {
        CHECK(back->body_case == SHOAL__ENVELOPE__BODY_HELLO);
        CHECK_STR(back->hello->worker_id, "w-1");
        CHECK(back->hello->slots == 8);
        CHECK(back->hello->n_kinds == 2);
        CHECK(back->hello->n_held == 1 && back->hello->held[0]->lease == 0x123456789ULL);
        CHECK_STR(wire_body_name(back), "hello");
    }
    wire_free(back);

    //  every truncation of a valid frame is an error or a valid message,
    //  never a crash (run under the sanitizer build too)
    for (size_t cut = 0; cut < len; cut++) {
        Shoal__Envelope *e = wire_decode(buf, cut, err, sizeof err, NULL);
        wire_free(e);
    }
    Shoal__Envelope *e = wire_decode(buf, len / 2, err, sizeof err, NULL);
    CHECK(e == NULL);
    wire_free(e);
    free(buf);
}

static void
test_rejections(void)
{
    char err[256];
    bool mismatch = false;
    //  empty
    CHECK(wire_decode("", 0, err, sizeof err, &mismatch) == NULL);
    CHECK_CONTAINS(err, "empty");
    //  oversized (the size is checked before anything is read)
    static uint8_t dummy[16];
    CHECK(wire_decode(dummy, (size_t) WIRE_MAX_FRAME + 1, err, sizeof err, NULL) == NULL);
    CHECK_CONTAINS(err, "too large");
    //  garbage
    uint8_t garbage[64];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (uint8_t) (i * 37 + 11);
    CHECK(wire_decode(garbage, sizeof garbage, err, sizeof err, NULL) == NULL);
    //  another major version
    Shoal__Heartbeat hb = SHOAL__HEARTBEAT__INIT;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    env.version = 2;
    size_t len;
    uint8_t *buf = s_pack(&env, &len);
    CHECK(wire_decode(buf, len, err, sizeof err, &mismatch) == NULL);
    CHECK(mismatch);
    CHECK_CONTAINS(err, "version 2");
    free(buf);
    //  no body
    Shoal__Envelope empty = SHOAL__ENVELOPE__INIT;
    buf = s_pack(&empty, &len);
    CHECK(wire_decode(buf, len, err, sizeof err, NULL) == NULL);
    CHECK_CONTAINS(err, "no body");
    free(buf);
    //  a hello without slots
    Shoal__Hello hello = SHOAL__HELLO__INIT;
    hello.worker_id = "w";
    Shoal__Envelope h = SHOAL__ENVELOPE__INIT;
    h.body_case = SHOAL__ENVELOPE__BODY_HELLO;
    h.hello = &hello;
    buf = s_pack(&h, &len);
    CHECK(wire_decode(buf, len, err, sizeof err, NULL) == NULL);
    CHECK_CONTAINS(err, "slots");
    free(buf);
    //  a result with an unknown outcome
    Shoal__Result r = SHOAL__RESULT__INIT;
    r.has_task_id = r.has_lease = r.has_outcome = 1;
    r.outcome = 77;
    Shoal__Result *rs[] = { &r };
    Shoal__Results results = SHOAL__RESULTS__INIT;
    results.results = rs;
    results.n_results = 1;
    Shoal__Envelope re = SHOAL__ENVELOPE__INIT;
    re.body_case = SHOAL__ENVELOPE__BODY_RESULTS;
    re.results = &results;
    buf = s_pack(&re, &len);
    CHECK(wire_decode(buf, len, err, sizeof err, NULL) == NULL);
    CHECK_CONTAINS(err, "outcome");
    free(buf);
    //  a chunk with an invalid task names the task
    Shoal__HttpSpec http = SHOAL__HTTP_SPEC__INIT;
    http.url = "ftp://example.com/";
    Shoal__TaskSpec spec = SHOAL__TASK_SPEC__INIT;
    spec.kind_case = SHOAL__TASK_SPEC__KIND_HTTP;
    spec.http = &http;
    Shoal__TaskSpec *specs[] = { &spec };
    Shoal__SubmitChunk chunk = SHOAL__SUBMIT_CHUNK__INIT;
    chunk.has_job_id = chunk.has_first_seq = 1;
    chunk.job_id = 3;
    chunk.first_seq = 40;
    chunk.tasks = specs;
    chunk.n_tasks = 1;
    Shoal__Envelope ce = SHOAL__ENVELOPE__INIT;
    ce.body_case = SHOAL__ENVELOPE__BODY_SUBMIT_CHUNK;
    ce.submit_chunk = &chunk;
    buf = s_pack(&ce, &len);
    CHECK(wire_decode(buf, len, err, sizeof err, NULL) == NULL);
    CHECK_CONTAINS(err, "task 40");
    CHECK_CONTAINS(err, "scheme");
    free(buf);
}

static void
test_results_packing(void)
{
    //  a worker packs Results from already-packed Result messages
    uint8_t *items[3];
    size_t lens[3];
    for (int i = 0; i < 3; i++) {
        Shoal__Result r = SHOAL__RESULT__INIT;
        r.has_task_id = r.has_lease = r.has_outcome = 1;
        r.task_id = (1ULL << 32) | (uint64_t) i;
        r.lease = 100 + (uint64_t) i;
        r.outcome = SHOAL__OUTCOME__OUTCOME_OK;
        r.error = i == 2 ? "boom" : NULL;
        lens[i] = shoal__result__get_packed_size(&r);
        items[i] = malloc(lens[i]);
        shoal__result__pack(&r, items[i]);
    }
    size_t len = 0;
    uint8_t *frame = wire_pack_results(items, lens, 3, "worker-9", &len);
    char err[256];
    Shoal__Envelope *env = wire_decode(frame, len, err, sizeof err, NULL);
    CHECK(env != NULL);
    if (env) {
        CHECK(env->body_case == SHOAL__ENVELOPE__BODY_RESULTS);
        CHECK(env->results->n_results == 3);
        CHECK(env->results->results[1]->lease == 101);
        CHECK_STR(env->results->results[2]->error, "boom");
        CHECK_STR(env->results->worker_id, "worker-9");
    }
    wire_free(env);
    free(frame);
    for (int i = 0; i < 3; i++)
        free(items[i]);
    //  a large batch needs multi-byte lengths
    uint8_t *big = calloc(1, 300);
    big[0] = 0x08;  //  task_id = 0 ... a valid Result
    size_t big_len = 2;
    uint8_t *many[500];
    size_t many_len[500];
    for (int i = 0; i < 500; i++) {
        many[i] = big;
        many_len[i] = big_len;
    }
    frame = wire_pack_results(many, many_len, 500, NULL, &len);
    Shoal__Envelope *raw = shoal__envelope__unpack(NULL, len, frame);
    CHECK(raw && raw->results && raw->results->n_results == 500);
    shoal__envelope__free_unpacked(raw, NULL);     //  not wire_decode's: no arena
    free(frame);
    free(big);
}

static void
test_decode_budget(void)
{
    //  a 512 KiB frame of 262,144 empty Result messages would decode into
    //  tens of megabytes of structs: refused within a budget, not allocated
    size_t n = 262144, body = 2 * n;
    uint8_t *frame = malloc(body + 16);
    size_t o = 0;
    frame[o++] = 0x08;
    frame[o++] = SHOAL_PROTO_MAJOR;
    frame[o++] = (SHOAL__ENVELOPE__BODY_RESULTS << 3) | 2;
    for (size_t v = body; ; v >>= 7) {
        frame[o++] = (uint8_t) ((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80)
            break;
    }
    for (size_t i = 0; i < n; i++) {
        frame[o++] = 0x0a;
        frame[o++] = 0x00;
    }
    char err[256];
    Shoal__Envelope *env = wire_decode(frame, o, err, sizeof err, NULL);
    CHECK(env == NULL);
    CHECK_CONTAINS(err, "decode into more than");
    wire_free(env);
    free(frame);
}

//  A default chunk of the smallest real tasks (5,000 noops with a sleep,
//  as `shoal submit` or the gateway sends them) is not taken for a bomb:
//  it decodes into some 30 times its wire size (a gateway upload of 6,000
//  such tasks was refused before WIRE_DECODE_FLOOR).
static void
test_decode_small_tasks(void)
{
    size_t n = 5000;
    Shoal__TaskSpec **ptrs = calloc(n, sizeof *ptrs);
    json_t *line = json_loads("{\"kind\": \"noop\", \"sleep_ms\": 150}", 0, NULL);
    char err[256] = "";
    for (size_t i = 0; i < n; i++)
        ptrs[i] = input_task_from_json(line, false, err, sizeof err);
    json_decref(line);
    CHECK(ptrs[n - 1] != NULL);
    Shoal__SubmitChunk chunk = SHOAL__SUBMIT_CHUNK__INIT;
    chunk.has_job_id = chunk.has_first_seq = 1;
    chunk.job_id = 1;
    chunk.n_tasks = n;
    chunk.tasks = ptrs;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.has_version = 1;
    env.version = SHOAL_PROTO_MAJOR;
    env.has_corr = 1;
    env.corr = 7;
    env.body_case = SHOAL__ENVELOPE__BODY_SUBMIT_CHUNK;
    env.submit_chunk = &chunk;
    size_t len = shoal__envelope__get_packed_size(&env);
    uint8_t *frame = malloc(len);
    shoal__envelope__pack(&env, frame);
    envelope_t *got = wire_decode(frame, len, err, sizeof err, NULL);
    CHECK(got != NULL);
    if (!got)
        fprintf(stderr, "  %zu bytes: %s\n", len, err);
    CHECK(got && got->submit_chunk && got->submit_chunk->n_tasks == n);
    wire_free(got);
    free(frame);
    for (size_t i = 0; i < n; i++)
        shoal__task_spec__free_unpacked(ptrs[i], NULL);
    free(ptrs);
}

//  Found by fuzz_envelope: protobuf-c takes a field numbered 0 (here inside
//  a Cancel, with an overlong tag) for an unknown field and packs it back
//  as other bytes. wire_decode refuses it.
static void
test_field_number_zero(void)
{
    const uint8_t frame[] = { 0x08, 0x01, 0x10, 0xef, 0x07, 0x82, 0x01, 0x0f, 0x85, 0x80, 0x00,
                              0x00, 0x00, 0x17, 0xcd, 0x80, 0x80, 0x80, 0x80, 0x20, 0x80,
                              0x80, 0x20 };
    //  (tests/fuzz/corpus/fuzz_envelope/regress-field-number-0 is the same frame)
    char err[256] = "";
    CHECK(wire_decode(frame, sizeof frame, err, sizeof err, NULL) == NULL);
    CHECK_CONTAINS(err, "field numbered 0");
    //  the same Cancel without the bad field is fine
    const uint8_t good[] = { 0x08, 0x01, 0x10, 0xef, 0x07, 0x82, 0x01, 0x00 };
    envelope_t *env = wire_decode(good, sizeof good, err, sizeof err, NULL);
    CHECK(env && env->body_case == SHOAL__ENVELOPE__BODY_CANCEL);
    wire_free(env);
}

int
main(void)
{
    test_decode_budget();
    test_decode_small_tasks();
    test_hello_round_trip();
    test_rejections();
    test_results_packing();
    test_field_number_zero();
    return check_result("test_wire");
}
