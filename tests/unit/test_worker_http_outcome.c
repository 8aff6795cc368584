/*  test_worker_http_outcome — worker/http_outcome.c: Retry-After, which
    curl errors are permanent, and the words for headers curl refused. */
#include <stdlib.h>

#include "check.h"
#include "http_outcome.h"

static void
test_retry_after(void)
{
    int64_t now = 1700000000000;        //  2023-11-14T22:13:20Z
    CHECK(http_retry_after_ms(NULL, now) == 0);
    CHECK(http_retry_after_ms("", now) == 0);
    CHECK(http_retry_after_ms("5", now) == 5000);
    CHECK(http_retry_after_ms("0", now) == 0);
    CHECK(http_retry_after_ms("-3", now) == 0);
    CHECK(http_retry_after_ms("999999999", now) == 86400000u);     //  capped at a day
    CHECK(http_retry_after_ms("soon", now) == 0);
    CHECK(http_retry_after_ms("Tue, 14 Nov 2023 22:13:30 GMT", now) == 10000);
    CHECK(http_retry_after_ms("Tue, 14 Nov 2023 22:13:00 GMT", now) == 0);     //  past
}

static void
test_errors(void)
{
    char e[512];
    //  transient: retried
    CHECK(!http_outcome_error(CURLE_COULDNT_CONNECT, "Connection refused", true, 0, e, sizeof e));
    CHECK_STR(e, "Couldn't connect to server: Connection refused");
    CHECK(!http_outcome_error(CURLE_RECV_ERROR, "Connection reset by peer", true, 40, e, sizeof e));
    CHECK(!http_outcome_error(CURLE_OUT_OF_MEMORY, "", true, 0, e, sizeof e));     //  before any header: ours
    CHECK(!http_outcome_error(CURLE_OUT_OF_MEMORY, "", false, 500, e, sizeof e));  //  in the body
    //  permanent
    CHECK(http_outcome_error(CURLE_URL_MALFORMAT, "", true, 0, e, sizeof e));
    CHECK(http_outcome_error(CURLE_TOO_MANY_REDIRECTS, "Maximum (10) redirects followed", false, 0, e, sizeof e));
    //  one header line over curl's limit: curl says "Out of memory"
    CHECK(http_outcome_error(CURLE_OUT_OF_MEMORY, "", true, 17, e, sizeof e));
    CHECK_CONTAINS(e, "response headers too large");
    CHECK(strstr(e, "Out of memory") == NULL);
    //  too many header lines: curl says "Too large response headers"
    CHECK(http_outcome_error(CURLE_RECV_ERROR, "Too large response headers: 308163 > 307200", true, 307000,
                             e, sizeof e));
    CHECK_CONTAINS(e, "response headers too large");
    CHECK_CONTAINS(e, "308163 > 307200");
    //  a short buffer is cut, not overrun
    char small[16];
    http_outcome_error(CURLE_COULDNT_CONNECT, "Connection refused", true, 0, small, sizeof small);
    CHECK(strlen(small) == sizeof small - 1);
}

int
main(void)
{
    test_retry_after();
    test_errors();
    return check_result("test_worker_http_outcome");
}
