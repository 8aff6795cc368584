/*  test_lib — the building blocks in lib/: maps, heaps, histograms, rates,
    text, task spec rules, input parsers. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "heap.h"
#include "hist.h"
#include "input.h"
#include "rate.h"
#include "taskspec.h"
#include "text.h"
#include "u64map.h"

static void
test_u64map(void)
{
    u64map_t *map = u64map_new();
    enum { N = 20000 };
    static int present[N];
    uint64_t seed = 42;
    for (int round = 0; round < 200000; round++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int k = (int) ((seed >> 33) % N);
        uint64_t key = (uint64_t) k * 0x9E3779B97F4A7C15ULL + 1;
        if ((seed >> 20) & 1) {
            u64map_put(map, key, &present[k]);
            present[k] = 1;
        }
        else {
            void *v = u64map_remove(map, key);
            CHECK((v != NULL) == (present[k] == 1));
            present[k] = 0;
        }
    }
    size_t count = 0;
    for (int k = 0; k < N; k++) {
        uint64_t key = (uint64_t) k * 0x9E3779B97F4A7C15ULL + 1;
        void *v = u64map_get(map, key);
        if (present[k]) {
            count++;
            if (v != &present[k])
                CHECK(v == &present[k]);
        }
        else
        if (v != NULL)
            CHECK(v == NULL);
    }
    CHECK(u64map_size(map) == count);
    size_t cursor = 0, seen = 0;
    while (u64map_next(map, &cursor, NULL))
        seen++;
    CHECK(seen == count);
    u64map_destroy(&map);
    CHECK(map == NULL);
}

static void
test_heap(void)
{
    heap_t *heap = heap_new();
    for (int i = 0; i < 1000; i++)
        heap_push(heap, (i * 7919) % 1000, NULL, (uint64_t) i);
    int64_t last = -1;
    heap_entry_t e;
    size_t n = 0;
    while (heap_pop(heap, &e)) {
        CHECK(e.when >= last);
        last = e.when;
        n++;
    }
    CHECK(n == 1000);
    heap_destroy(&heap);
}

static void
test_hist(void)
{
    hist_t h;
    hist_reset(&h);
    CHECK(hist_percentile(&h, 50) == 0);
    for (uint64_t v = 1; v <= 100000; v++)
        hist_add(&h, v);
    uint64_t p50 = hist_percentile(&h, 50), p99 = hist_percentile(&h, 99);
    CHECK(p50 > 47000 && p50 < 53000);
    CHECK(p99 > 93000 && p99 < 105000);
    CHECK(hist_percentile(&h, 100) >= 95000);
}

static void
test_rate(void)
{
    rate_t r;
    memset(&r, 0, sizeof r);
    for (int s = 0; s < 10; s++)
        rate_add(&r, 1000000 + s * 1000, 100);
    double v = rate_get(&r, 1000000 + 10 * 1000, 5);
    CHECK(v > 99 && v < 101);
    //  silence brings it down
    CHECK(rate_get(&r, 1000000 + 30 * 1000, 5) == 0);
}

static void
test_text(void)
{
    CHECK(text_utf8_valid("héllo", strlen("héllo")));
    CHECK(!text_utf8_valid("\xff\xfe", 2));
    CHECK(!text_utf8_valid("a\0b", 3));
    CHECK(!text_utf8_valid("\xed\xa0\x80", 3));   //  a surrogate
    CHECK(!text_utf8_valid("\xc0\xaf", 2));       //  overlong
    char *s = text_sanitize("ok\xff\x01x", 5, 100);
    CHECK_STR(s, "ok? x");
    free(s);
    //  a tail keeps the end, from the first whole UTF-8 sequence
    const char *out = "head\x01 middle é end";
    s = text_sanitize_tail(out, strlen(out), 6);
    CHECK_STR(s, "é end");
    free(s);
    s = text_sanitize_tail(out, strlen(out), 5);     //  the cut falls inside é
    CHECK_STR(s, " end");
    free(s);
    s = text_sanitize_tail("short", 5, 100);
    CHECK_STR(s, "short");
    free(s);
    char buf[32];
    CHECK_STR(text_thousands(1234567, buf, sizeof buf), "1,234,567");
    CHECK_STR(text_thousands(12, buf, sizeof buf), "12");
}

static void
test_taskspec(void)
{
    char err[256];
    CHECK(taskspec_validate_url("https://example.com/a?b=1", err, sizeof err) == 0);
    CHECK(taskspec_validate_url("ftp://example.com/", err, sizeof err) != 0);
    CHECK_CONTAINS(err, "scheme");
    CHECK(taskspec_validate_url("http://exa mple.com/", err, sizeof err) != 0);
    CHECK(taskspec_validate_url("http:///path", err, sizeof err) != 0);
    CHECK(taskspec_validate_url("example.com", err, sizeof err) != 0);
    char host[64];
    taskspec_url_host("https://user:pw@Example.COM:8443/x", host, sizeof host);
    CHECK_STR(host, "example.com:8443");

    retry_policy_t p;
    Shoal__RetryPolicy job_retry = SHOAL__RETRY_POLICY__INIT;
    job_retry.has_max_attempts = 1;
    job_retry.max_attempts = 5;
    job_retry.has_backoff_ms = 1;
    job_retry.backoff_ms = 100;
    Shoal__JobDefaults d = SHOAL__JOB_DEFAULTS__INIT;
    d.retry = &job_retry;
    Shoal__RetryPolicy task_retry = SHOAL__RETRY_POLICY__INIT;
    task_retry.has_max_attempts = 1;
    task_retry.max_attempts = 2;
    Shoal__TaskSpec spec = SHOAL__TASK_SPEC__INIT;
    spec.retry = &task_retry;
    taskspec_retry_policy(&spec, &d, &p);
    CHECK(p.max_attempts == 2);             //  the task overrides
    CHECK(p.backoff_ms == 100);             //  the job fills in
    CHECK(p.backoff_max_ms == TASKSPEC_DEFAULT_BACKOFF_MAX_MS);
    p.jitter_pct = 0;
    CHECK(taskspec_backoff_ms(&p, 2, 0.5) == 100);
    CHECK(taskspec_backoff_ms(&p, 3, 0.5) == 200);
    CHECK(taskspec_backoff_ms(&p, 4, 0.5) == 400);
    p.backoff_max_ms = 300;
    CHECK(taskspec_backoff_ms(&p, 5, 0.5) == 300);
    p.jitter_pct = 20;
    p.backoff_max_ms = 100000;
    for (int i = 0; i <= 10; i++) {
        uint32_t b = taskspec_backoff_ms(&p, 3, i / 10.0);
        CHECK(b >= 160 && b <= 240);
    }
    CHECK(taskspec_status_retryable(&p, 503));
    CHECK(taskspec_status_retryable(&p, 429));
    CHECK(!taskspec_status_retryable(&p, 404));
}

//  Parse the text as a whole input; returns tasks, collects errors.
static int
s_parse(input_format_t format, const char *text, char errors[][256], int *n_errors, Shoal__TaskSpec **first)
{
    FILE *f = fmemopen((void *) text, strlen(text), "r");
    input_t *in = input_new(format, f, "t.in", 256);
    int tasks = 0;
    *n_errors = 0;
    if (first)
        *first = NULL;
    while (true) {
        Shoal__TaskSpec *spec = NULL;
        char err[256];
        int rc = input_next(in, &spec, err, sizeof err);
        if (rc == 0 || rc == -2)
            break;
        if (rc == -1) {
            if (*n_errors < 8)
                snprintf(errors[(*n_errors)++], 256, "%s", err);
            continue;
        }
        tasks++;
        if (first && !*first)
            *first = spec;
        else
            shoal__task_spec__free_unpacked(spec, NULL);
    }
    input_destroy(&in);
    fclose(f);
    return tasks;
}

static void
test_input(void)
{
    char errors[8][256];
    int n;
    Shoal__TaskSpec *first;
    int tasks = s_parse(INPUT_JSONL,
        "{\"url\": \"https://a.example/x\", \"method\": \"post\", \"headers\": {\"X-A\": \"1\"}, \"tag\": \"t1\"}\n"
        "\n"
        "{\"url\": \"ftp://nope\"}\n"
        "{bad json\n"
        "{\"url\": \"https://b.example/\", \"colour\": \"red\"}\n"
        "{\"argv\": [\"echo\", \"hi\"], \"env\": {\"A\": \"1\"}}\n"
        "{\"kind\": \"noop\", \"sleep_ms\": 5}\n"
        "{\"method\": \"GET\"}\n"
        "{\"url\": \"https://c.example/\", \"headers\": [\"Bad Name: x\"]}\n"
        "{\"url\": \"https://d.example/\", \"body\": \"0123456789012345678901234567890123456789012345678901234567890"
        "0123456789012345678901234567890123456789012345678901234567890012345678901234567890123456789012345678901234567890"
        "0123456789012345678901234567890123456789012345678901234567890012345678901234567890123456789012345678901234567890\"}\n",
        errors, &n, &first);
    CHECK(tasks == 3);
    CHECK(n == 6);
    if (n == 6) {
        CHECK_CONTAINS(errors[0], "t.in:3:");
        CHECK_CONTAINS(errors[0], "scheme");
        CHECK_CONTAINS(errors[1], "t.in:4:");
        CHECK_CONTAINS(errors[1], "bad JSON");
        CHECK_CONTAINS(errors[2], "t.in:5:");
        CHECK_CONTAINS(errors[2], "unknown field 'colour'");
        CHECK_CONTAINS(errors[3], "t.in:8:");
        CHECK_CONTAINS(errors[3], "http.url: missing");
        CHECK_CONTAINS(errors[4], "t.in:9:");
        CHECK_CONTAINS(errors[4], "header");
        CHECK_CONTAINS(errors[5], "t.in:10:");
        CHECK_CONTAINS(errors[5], "longer than 256 bytes");
    }
    if (first && first->kind_case == SHOAL__TASK_SPEC__KIND_HTTP) {
        CHECK_STR(first->http->method, "POST");
        CHECK(first->http->n_headers == 1);
        CHECK_STR(first->tag, "t1");
        shoal__task_spec__free_unpacked(first, NULL);
    }
    tasks = s_parse(INPUT_JSONL, "{\"url\": \"https://x/\xff\"}\n", errors, &n, NULL);
    CHECK(tasks == 0 && n == 1);
    CHECK_CONTAINS(errors[0], "UTF-8");

    tasks = s_parse(INPUT_URLS, "# list\nhttps://a.example/1\n\n  https://a.example/2  \nnot a url\n",
                    errors, &n, &first);
    CHECK(tasks == 2 && n == 1);
    CHECK_CONTAINS(errors[0], "t.in:5:");
    if (first) {
        CHECK_STR(first->http->url, "https://a.example/1");
        shoal__task_spec__free_unpacked(first, NULL);
    }

    tasks = s_parse(INPUT_CSV, "url,method,header:Accept,tag\n"
                    "https://a.example/1,GET,text/html,one\n"
                    "\"https://a.example/2\",POST,,\"two, with comma\"\n"
                    "https://a.example/3,GET\n",
                    errors, &n, &first);
    CHECK(tasks == 2 && n == 1);
    CHECK_CONTAINS(errors[0], "t.in:4:");
    CHECK_CONTAINS(errors[0], "columns");
    if (first) {
        CHECK(first->http->n_headers == 1);
        CHECK_STR(first->tag, "one");
        shoal__task_spec__free_unpacked(first, NULL);
    }

    char err[256];
    input_t *t = input_new_template("https://h.example/p/{001..120..10}/x", err, sizeof err);
    CHECK(t != NULL);
    if (t) {
        CHECK(input_total(t) == 12);
        Shoal__TaskSpec *spec = NULL;
        CHECK(input_next(t, &spec, err, sizeof err) == 1);
        CHECK_STR(spec->http->url, "https://h.example/p/001/x");
        shoal__task_spec__free_unpacked(spec, NULL);
        CHECK(input_skip(t, 10) == 10);
        CHECK(input_next(t, &spec, err, sizeof err) == 1);
        CHECK_STR(spec->http->url, "https://h.example/p/111/x");
        shoal__task_spec__free_unpacked(spec, NULL);
        CHECK(input_next(t, &spec, err, sizeof err) == 0);
        input_destroy(&t);
    }
    CHECK(input_new_template("https://h/{5..1}", err, sizeof err) == NULL);
    //  found by fuzz_urls: "-1" read as 2^64 - 1 made a range of 2^64 values,
    //  whose count wrapped to 0 (division by zero in the next range)
    CHECK(input_new_template("https://h/{0..-1}{0..3}", err, sizeof err) == NULL);
    CHECK(input_new_template("https://h/{0..18446744073709551615}/{1..2}", err, sizeof err) == NULL);
    CHECK(input_new_template("https://h/{1..9..-2}", err, sizeof err) == NULL);
    CHECK(input_new_template("https://h/{1.. 9}", err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "bad range");
    CHECK(input_new_template("https://h/none", err, sizeof err) == NULL);
    CHECK(input_new_template("ftp://h/{1..2}", err, sizeof err) == NULL);
    t = input_new_template("https://h/{1..3}/{1..2}", err, sizeof err);
    CHECK(t && input_total(t) == 6);
    input_destroy(&t);
}

int
main(void)
{
    test_u64map();
    test_heap();
    test_hist();
    test_rate();
    test_text();
    test_taskspec();
    test_input();
    return check_result("test_lib");
}
