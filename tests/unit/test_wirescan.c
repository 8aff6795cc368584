/*  test_wirescan — the decode cost read without decoding is never more
    than what protobuf-c allocates, is far more for a frame of empty
    submessages, stops at its limit; the corr id is read in place. */
#include <protobuf-c/protobuf-c.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wire.h"
#include "wirescan.h"

//  An allocator that counts what protobuf-c asks for.
static void *
s_count_alloc(void *data, size_t size)
{
    *(size_t *) data += size;
    return malloc(size);
}

static void
s_count_free(void *data, void *ptr)
{
    (void) data;
    free(ptr);
}

static size_t
s_allocated(const uint8_t *buf, size_t len)
{
    size_t used = 0;
    ProtobufCAllocator a = { s_count_alloc, s_count_free, &used };
    Shoal__Envelope *env = shoal__envelope__unpack(&a, len, buf);
    if (env)
        shoal__envelope__free_unpacked(env, &a);
    return env ? used : 0;
}

//  A Results envelope with n results, each with an error string, headers and a body.
static uint8_t *
s_results(size_t n, size_t *len)
{
    Shoal__Result **items = calloc(n, sizeof *items);
    Shoal__Header hdr = SHOAL__HEADER__INIT;
    hdr.name = "content-type";
    hdr.value = "text/plain";
    Shoal__Header *hdrs[] = { &hdr, &hdr };
    Shoal__HttpResult http = SHOAL__HTTP_RESULT__INIT;
    http.has_status = 1;
    http.status = 503;
    http.headers = hdrs;
    http.n_headers = 2;
    uint8_t body[] = "retry later";
    http.has_body = 1;
    http.body.data = body;
    http.body.len = sizeof body;
    for (size_t i = 0; i < n; i++) {
        items[i] = malloc(sizeof **items);
        shoal__result__init(items[i]);
        items[i]->has_task_id = items[i]->has_lease = 1;
        items[i]->task_id = i;
        items[i]->lease = i * 3;
        items[i]->error = "connection refused";
        items[i]->http = &http;
    }
    Shoal__Results results = SHOAL__RESULTS__INIT;
    results.results = items;
    results.n_results = n;
    results.worker_id = "w1";
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.has_version = env.has_corr = 1;
    env.version = SHOAL_PROTO_MAJOR;
    env.corr = 0xfeedbeefcafeULL;
    env.body_case = SHOAL__ENVELOPE__BODY_RESULTS;
    env.results = &results;
    *len = shoal__envelope__get_packed_size(&env);
    uint8_t *buf = malloc(*len);
    shoal__envelope__pack(&env, buf);
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
    return buf;
}

static void
test_cost_is_a_lower_bound(void)
{
    size_t len;
    uint8_t *buf = s_results(500, &len);
    size_t real = s_allocated(buf, len);
    size_t cost = wirescan_cost(&shoal__envelope__descriptor, buf, len, SIZE_MAX);
    CHECK(real > 0);
    CHECK(cost <= real);
    CHECK(cost >= real / 2);        //  and close: it counts the same things
    uint64_t corr = 0;
    CHECK(wirescan_corr(buf, len, &corr));
    CHECK(corr == 0xfeedbeefcafeULL);
    //  a limit stops the walk early, above the limit
    size_t early = wirescan_cost(&shoal__envelope__descriptor, buf, len, 1000);
    CHECK(early > 1000 && early <= cost);
    free(buf);
}

static void
test_empty_submessages(void)
{
    //  SubmitChunk (body 32) of 1 MiB / 2 bytes empty TaskSpecs (field 3)
    size_t n = 1 << 19, len = 0;
    uint8_t *buf = malloc(2 * n + 16);
    buf[len++] = 0x08; buf[len++] = 1;                  //  version 1
    buf[len++] = 0x10; buf[len++] = 42;                 //  corr 42
    buf[len++] = 0x82; buf[len++] = 0x02;               //  field 32, length-delimited
    size_t body = 2 * n;
    buf[len++] = (uint8_t) (0x80 | (body & 0x7f));
    buf[len++] = (uint8_t) (0x80 | ((body >> 7) & 0x7f));
    buf[len++] = (uint8_t) (body >> 14);
    for (size_t i = 0; i < n; i++) {
        buf[len++] = 0x1a;
        buf[len++] = 0;
    }
    size_t cost = wirescan_cost(&shoal__envelope__descriptor, buf, len, SIZE_MAX);
    CHECK(cost > 20 * len);         //  each 2 bytes: a TaskSpec and a pointer
    CHECK(cost <= s_allocated(buf, len));
    uint64_t corr = 0;
    CHECK(wirescan_corr(buf, len, &corr) && corr == 42);
    //  wire_decode refuses it without decoding, with the reason
    char err[256] = "";
    CHECK(wire_decode(buf, len, err, sizeof err, NULL) == NULL);
    CHECK_CONTAINS(err, "would decode into more than");
    free(buf);
}

static void
test_malformed(void)
{
    const uint8_t truncated[] = { 0x10, 0xff, 0xff };                 //  corr varint cut short
    uint64_t corr = 7;
    CHECK(!wirescan_corr(truncated, sizeof truncated, &corr));
    CHECK(corr == 7);
    const uint8_t overlong[] = { 0x10, 5, 0x82, 0x02, 0x7f, 0x1a };  //  body longer than the frame
    CHECK(wirescan_corr(overlong, sizeof overlong, &corr) && corr == 5);
    CHECK(wirescan_cost(&shoal__envelope__descriptor, overlong, sizeof overlong, SIZE_MAX)
          == sizeof(Shoal__Envelope));
    const uint8_t group[] = { 0x13, 0x10, 9 };                        //  wire type 3: stop
    CHECK(!wirescan_corr(group, sizeof group, &corr));
}

int
main(void)
{
    test_cost_is_a_lower_bound();
    test_empty_submessages();
    test_malformed();
    return check_result("test_wirescan");
}
