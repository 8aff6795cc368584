/*  test_retry — retry classification, backoff, Retry-After cap and the
    jitter's generator (broker/retry.c). */
#include "check.h"
#include "retry.h"

static retry_policy_t
s_policy(void)
{
    retry_policy_t p;
    taskspec_retry_policy(NULL, NULL, &p);     //  defaults: 3 attempts, 1 s .. 60 s, 20 %
    return p;
}

static retry_verdict_t
s_classify(Shoal__Result *r, uint32_t tries_after, bool cancelled, char *error, const char **what)
{
    retry_policy_t p = s_policy();
    *what = "-";
    return retry_classify(r, &p, cancelled, tries_after, error, 256, what);
}

static void
s_test_classify(void)
{
    char error[256];
    const char *what;
    Shoal__Result r = SHOAL__RESULT__INIT;
    Shoal__HttpResult h = SHOAL__HTTP_RESULT__INIT;
    r.has_outcome = 1;

    r.outcome = SHOAL__OUTCOME__OUTCOME_OK;
    CHECK(s_classify(&r, 1, false, error, &what) == RETRY_OK);
    CHECK_STR(error, "");
    //  HTTP statuses: 2xx ok, 404 permanent, 429/5xx retried until out of attempts
    r.http = &h;
    h.has_status = 1;
    h.status = 200;
    CHECK(s_classify(&r, 1, false, error, &what) == RETRY_OK);
    h.status = 404;
    CHECK(s_classify(&r, 1, false, error, &what) == RETRY_FAIL);
    CHECK_STR(error, "HTTP 404");
    h.status = 503;
    CHECK(s_classify(&r, 1, false, error, &what) == RETRY_AGAIN);
    CHECK_STR(what, "http_error");
    CHECK(s_classify(&r, 3, false, error, &what) == RETRY_FAIL);
    CHECK_STR(error, "HTTP 503");
    h.status = 429;
    CHECK(s_classify(&r, 2, false, error, &what) == RETRY_AGAIN);
    //  a job's own retry_status set replaces the default one
    retry_policy_t p = s_policy();
    uint32_t only[] = { 404 };
    p.retry_status = only;
    p.retry_status_count = 1;
    h.status = 404;
    CHECK(retry_classify(&r, &p, false, 1, error, sizeof error, &what) == RETRY_AGAIN);
    h.status = 503;
    CHECK(retry_classify(&r, &p, false, 1, error, sizeof error, &what) == RETRY_FAIL);
    r.http = NULL;

    //  transport errors retry unless permanent; the worker's text stands
    r.outcome = SHOAL__OUTCOME__OUTCOME_ERROR;
    r.error = "connection refused";
    CHECK(s_classify(&r, 1, false, error, &what) == RETRY_AGAIN);
    CHECK_STR(what, "error");
    CHECK_STR(error, "connection refused");
    r.has_permanent = r.permanent = 1;
    CHECK(s_classify(&r, 1, false, error, &what) == RETRY_FAIL);
    r.has_permanent = r.permanent = 0;
    r.error = NULL;
    r.outcome = SHOAL__OUTCOME__OUTCOME_TIMEOUT;
    CHECK(s_classify(&r, 1, false, error, &what) == RETRY_AGAIN);
    CHECK_STR(error, "timed out");
    CHECK_STR(what, "timeout");
    CHECK(s_classify(&r, 3, false, error, &what) == RETRY_FAIL);
    //  aborted by the worker: requeued (not counted), dropped if the job is cancelled
    r.outcome = SHOAL__OUTCOME__OUTCOME_CANCELLED;
    CHECK(s_classify(&r, 1, false, error, &what) == RETRY_REQUEUE);
    CHECK_STR(what, "aborted");
    CHECK(s_classify(&r, 1, true, error, &what) == RETRY_DROP);
    r.outcome = SHOAL__OUTCOME__OUTCOME_REJECTED;
    CHECK(s_classify(&r, 1, false, error, &what) == RETRY_FAIL);
    CHECK_STR(error, "rejected by the worker");
}

static void
s_test_backoff(void)
{
    retry_policy_t p = s_policy();
    p.jitter_pct = 0;
    retry_rng_t rng;
    retry_rng_seed(&rng, 42);
    //  1 s, 2 s, 4 s ... capped at 60 s
    CHECK(retry_delay_ms(&p, 2, 0, 300000, &rng) == 1000);
    CHECK(retry_delay_ms(&p, 3, 0, 300000, &rng) == 2000);
    CHECK(retry_delay_ms(&p, 4, 0, 300000, &rng) == 4000);
    CHECK(retry_delay_ms(&p, 30, 0, 300000, &rng) == 60000);
    //  Retry-After wins when longer, up to its cap, never past it
    CHECK(retry_delay_ms(&p, 2, 500, 300000, &rng) == 1000);
    CHECK(retry_delay_ms(&p, 2, 90000, 300000, &rng) == 90000);
    CHECK(retry_delay_ms(&p, 2, 86400000, 300000, &rng) == 300000);
    CHECK(retry_delay_ms(&p, 2, 86400000, 5000, &rng) == 5000);
    //  a cap below the backoff does not shorten the backoff
    CHECK(retry_delay_ms(&p, 4, 86400000, 2000, &rng) == 4000);
    //  jitter stays within +/- jitter_pct and below backoff_max_ms
    p.jitter_pct = 20;
    for (int i = 0; i < 1000; i++) {
        uint32_t d = retry_delay_ms(&p, 3, 0, 300000, &rng);
        CHECK(d >= 1600 && d <= 2400);
        d = retry_delay_ms(&p, 30, 0, 300000, &rng);
        CHECK(d >= 48000 && d <= 60000);
    }
}

static void
s_test_rng(void)
{
    //  a fixed seed repeats; two seeds from the kernel differ
    retry_rng_t a, b;
    retry_rng_seed(&a, 7);
    retry_rng_seed(&b, 7);
    CHECK(retry_rng_next(&a) == retry_rng_next(&b));
    retry_rng_seed(&a, 0);
    retry_rng_seed(&b, 0);
    CHECK(a.state != b.state);
    int same = 0;
    for (int i = 0; i < 16; i++)
        same += retry_rng_next(&a) == retry_rng_next(&b);
    CHECK(same == 0);
    //  in [0, 1), spread over the interval
    double lo = 1, hi = 0, sum = 0;
    for (int i = 0; i < 10000; i++) {
        double x = retry_rng_next(&a);
        CHECK(x >= 0 && x < 1);
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
        sum += x;
    }
    CHECK(lo < 0.01 && hi > 0.99);
    CHECK(sum / 10000 > 0.45 && sum / 10000 < 0.55);
}

int
main(void)
{
    s_test_classify();
    s_test_backoff();
    s_test_rng();
    Shoal__Result r = SHOAL__RESULT__INIT;
    Shoal__HttpResult h = SHOAL__HTTP_RESULT__INIT;
    CHECK(!retry_is_throttle(&r));
    r.http = &h;
    h.has_status = 1;
    h.status = 429;
    CHECK(retry_is_throttle(&r));
    h.status = 503;
    CHECK(retry_is_throttle(&r));
    h.status = 500;
    CHECK(!retry_is_throttle(&r));
    return check_result("test_retry");
}
