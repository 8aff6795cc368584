/*  test_jobupdate — shoal update's merge of a change over a job's stored
    defaults, and the line that says what changed (broker/jobupdate.c). */
#include <stdlib.h>

#include "check.h"
#include "jobupdate.h"

//  An encoded JobDefaults with two headers, a cookie list, a timeout and limits.
static uint8_t *
s_old(size_t *len)
{
    Shoal__Header a = SHOAL__HEADER__INIT, b = SHOAL__HEADER__INIT;
    a.name = "Cookie";  a.value = "session=old";
    b.name = "Accept";  b.value = "text/plain";
    Shoal__Header *hs[] = { &a, &b };
    Shoal__HttpSpec http = SHOAL__HTTP_SPEC__INIT;
    http.headers = hs;
    http.n_headers = 2;
    http.has_connect_timeout_ms = 1;
    http.connect_timeout_ms = 700;
    uint32_t statuses[] = { 503, 504 };
    Shoal__RetryPolicy retry = SHOAL__RETRY_POLICY__INIT;
    retry.has_max_attempts = 1;
    retry.max_attempts = 4;
    retry.retry_status = statuses;
    retry.n_retry_status = 2;
    Shoal__HostLimits hosts = SHOAL__HOST_LIMITS__INIT;
    hosts.has_max_per_host = 1;
    hosts.max_per_host = 2;
    hosts.has_rate_per_host = 1;
    hosts.rate_per_host = 5;
    Shoal__JobDefaults d = SHOAL__JOB_DEFAULTS__INIT;
    d.has_timeout_ms = 1;
    d.timeout_ms = 1000;
    d.http = &http;
    d.retry = &retry;
    d.hosts = &hosts;
    *len = shoal__job_defaults__get_packed_size(&d);
    uint8_t *buf = malloc(*len);
    shoal__job_defaults__pack(&d, buf);
    return buf;
}

static void
s_test_merge(void)
{
    size_t old_len;
    uint8_t *old = s_old(&old_len);
    Shoal__Header c = SHOAL__HEADER__INIT;
    c.name = "cookie";      //  another case: the same header
    c.value = "session=new";
    Shoal__Header *hs[] = { &c };
    Shoal__HttpSpec http = SHOAL__HTTP_SPEC__INIT;
    http.headers = hs;
    http.n_headers = 1;
    uint32_t statuses[] = { 429 };
    Shoal__RetryPolicy retry = SHOAL__RETRY_POLICY__INIT;
    retry.retry_status = statuses;
    retry.n_retry_status = 1;
    Shoal__HostLimits hosts = SHOAL__HOST_LIMITS__INIT;
    hosts.has_rate_per_host = 1;
    hosts.rate_per_host = 1.5;
    Shoal__JobDefaults change = SHOAL__JOB_DEFAULTS__INIT;
    change.has_timeout_ms = 1;
    change.timeout_ms = 9000;
    change.http = &http;
    change.retry = &retry;
    change.hosts = &hosts;
    uint8_t *out = NULL;
    size_t out_len = 0;
    char err[256];
    CHECK(jobupdate_merge(old, old_len, &change, &out, &out_len, err, sizeof err) == 0);
    Shoal__JobDefaults *m = shoal__job_defaults__unpack(NULL, out_len, out);
    CHECK(m != NULL);
    if (m) {
        CHECK(m->timeout_ms == 9000);
        CHECK(m->http && m->http->n_headers == 2);
        if (m->http && m->http->n_headers == 2) {
            CHECK_STR(m->http->headers[0]->name, "Accept");         //  kept
            CHECK_STR(m->http->headers[1]->value, "session=new");   //  replaced, not doubled
            CHECK(m->http->connect_timeout_ms == 700);              //  untouched fields stay
        }
        CHECK(m->retry && m->retry->max_attempts == 4);
        CHECK(m->retry && m->retry->n_retry_status == 1 && m->retry->retry_status[0] == 429);
        CHECK(m->hosts && m->hosts->max_per_host == 2 && m->hosts->rate_per_host == 1.5);
        shoal__job_defaults__free_unpacked(m, NULL);
    }
    free(out);
    //  no stored defaults: the change is the result
    CHECK(jobupdate_merge(NULL, 0, &change, &out, &out_len, err, sizeof err) == 0);
    m = shoal__job_defaults__unpack(NULL, out_len, out);
    CHECK(m && m->timeout_ms == 9000 && m->http && m->http->n_headers == 1);
    if (m)
        shoal__job_defaults__free_unpacked(m, NULL);
    free(out);
    //  stored bytes that do not decode are an error, not a crash
    uint8_t junk[] = { 0xff, 0xff, 0xff };
    CHECK(jobupdate_merge(junk, sizeof junk, &change, &out, &out_len, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "do not decode");
    free(old);
}

static void
s_test_describe(void)
{
    Shoal__Header c = SHOAL__HEADER__INIT;
    c.name = "Cookie";
    c.value = "session=secret";
    Shoal__Header *hs[] = { &c };
    Shoal__HttpSpec http = SHOAL__HTTP_SPEC__INIT;
    http.headers = hs;
    http.n_headers = 1;
    Shoal__JobDefaults change = SHOAL__JOB_DEFAULTS__INIT;
    change.http = &http;
    change.has_timeout_ms = 1;
    change.timeout_ms = 5000;
    char buf[256];
    jobupdate_describe(&change, 3, buf, sizeof buf);
    CHECK_STR(buf, "timeout_ms=5000; header Cookie; priority=3");
    CHECK(strstr(buf, "secret") == NULL);
    Shoal__JobDefaults none = SHOAL__JOB_DEFAULTS__INIT;
    jobupdate_describe(&none, 0, buf, sizeof buf);
    CHECK_STR(buf, "");
}

int
main(void)
{
    s_test_merge();
    s_test_describe();
    return check_result("test_jobupdate");
}
