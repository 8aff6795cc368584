/*  test_submit_opts — cli/submit_opts.c: what the flags of shoal submit
    make of the job's defaults (flags over --defaults JSON, headers,
    --require labels, --retry-status), every bad value named, and the
    input format guessed from the file name. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "submit.h"

//  Options as submit_options leaves them when no flag is given.
static submit_opts_t
s_opts(void)
{
    submit_opts_t o;
    memset(&o, 0, sizeof o);
    o.max_attempts = o.backoff_ms = o.backoff_max_ms = o.timeout_ms = o.per_host = -1;
    o.connect_timeout_ms = o.max_redirects = o.max_response_bytes = o.inline_limit = -1;
    o.rate_per_host = -1;
    return o;
}

static void
test_flags_over_json(void)
{
    submit_opts_t o = s_opts();
    o.defaults_json = "{\"max_attempts\": 9, \"timeout_ms\": 1000, \"require\": {\"gpu\": \"yes\"}}";
    o.max_attempts = 3;
    o.backoff_ms = 250;
    o.per_host = 4;
    o.rate_per_host = 2.5;
    o.retry_status = "429, 503,500";
    const char *req[] = { "region=eu", "proxy=p1" };
    o.require.items = req;
    o.require.count = 2;
    const char *hdr[] = { "Cookie: session=abc", "X-Trace: 1" };
    o.headers.items = hdr;
    o.headers.count = 2;
    char err[512] = "";
    Shoal__JobDefaults *d = submit_defaults(&o, err, sizeof err);
    CHECK(d != NULL);
    if (!d) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK(d->retry && d->retry->max_attempts == 3);         //  the flag over the JSON's 9
    CHECK(d->retry && d->retry->backoff_ms == 250);
    CHECK(d->has_timeout_ms && d->timeout_ms == 1000);      //  the JSON's, no flag
    CHECK(d->retry && d->retry->n_retry_status == 3 && d->retry->retry_status[0] == 429
          && d->retry->retry_status[2] == 500);
    CHECK(d->hosts && d->hosts->max_per_host == 4 && d->hosts->rate_per_host == 2.5);
    CHECK(d->http && d->http->n_headers == 2);
    CHECK(d->n_require == 3);
    int seen = 0;
    for (size_t i = 0; i < d->n_require; i++) {
        if (!strcmp(d->require[i]->key, "gpu") && !strcmp(d->require[i]->value, "yes")) seen |= 1;
        if (!strcmp(d->require[i]->key, "region") && !strcmp(d->require[i]->value, "eu")) seen |= 2;
        if (!strcmp(d->require[i]->key, "proxy") && !strcmp(d->require[i]->value, "p1")) seen |= 4;
    }
    CHECK(seen == 7);
    shoal__job_defaults__free_unpacked(d, NULL);
}

static const char *
s_error(submit_opts_t o)
{
    static char err[512];
    err[0] = 0;
    Shoal__JobDefaults *d = submit_defaults(&o, err, sizeof err);
    if (d) {
        shoal__job_defaults__free_unpacked(d, NULL);
        return "OK";
    }
    return err;
}

static void
test_bad_values(void)
{
    submit_opts_t o = s_opts();
    o.defaults_json = "[1, 2]";
    CHECK_STR(s_error(o), "--defaults: not a JSON object (wrong type)");
    o.defaults_json = "{\"a\": ";
    CHECK_CONTAINS(s_error(o), "--defaults: not a JSON object (");
    o = s_opts();
    o.retry_status = "429,abc";
    CHECK_STR(s_error(o), "--retry-status: 'abc' is not an HTTP status");
    o.retry_status = "99";
    CHECK_STR(s_error(o), "--retry-status: '99' is not an HTTP status");
    o = s_opts();
    const char *bad[] = { "=eu" };
    o.require.items = bad;
    o.require.count = 1;
    CHECK_STR(s_error(o), "--require: '=eu' is not KEY=VALUE");
    const char *noeq[] = { "region" };
    o.require.items = noeq;
    CHECK_STR(s_error(o), "--require: 'region' is not KEY=VALUE");
    o = s_opts();
    o.defaults_json = "{\"colour\": \"red\"}";
    CHECK_CONTAINS(s_error(o), "job defaults: ");
    CHECK_CONTAINS(s_error(o), "colour");
    CHECK_STR(s_error(s_opts()), "OK");
    o = s_opts();
    o.rate_per_host = -2;
    CHECK_STR(s_error(o), "--rate-per-host: -2 is negative (0: no limit)");
}

//  --rate-per-host 0 is a value (no limit: shoal update clears a rate
//  with it); not given, the defaults name no rate at all.
static void
test_rate_zero(void)
{
    submit_opts_t o = s_opts();
    char err[256];
    Shoal__JobDefaults *d = submit_defaults(&o, err, sizeof err);
    CHECK(d && !d->hosts);
    if (d)
        shoal__job_defaults__free_unpacked(d, NULL);
    o.rate_per_host = 0;
    d = submit_defaults(&o, err, sizeof err);
    CHECK(d && d->hosts && d->hosts->has_rate_per_host && d->hosts->rate_per_host == 0);
    CHECK(d && d->hosts && !d->hosts->has_max_per_host);
    if (d)
        shoal__job_defaults__free_unpacked(d, NULL);
}

static void
test_guess_format(void)
{
    CHECK_STR(submit_guess_format("checks.csv"), "csv");
    CHECK_STR(submit_guess_format("a/b.urls"), "urls");
    CHECK_STR(submit_guess_format("list.txt"), "urls");
    CHECK_STR(submit_guess_format("x.lst"), "urls");
    CHECK_STR(submit_guess_format("tasks.jsonl"), "jsonl");
    CHECK_STR(submit_guess_format("noext"), "jsonl");
    CHECK_STR(submit_guess_format(NULL), "jsonl");
}

int
main(void)
{
    test_flags_over_json();
    test_bad_values();
    test_rate_zero();
    test_guess_format();
    return check_result("test_submit_opts");
}
