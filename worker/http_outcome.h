/*  http_outcome — how an http transfer that curl ended is judged (pure
    functions, unit-tested in tests/unit/test_worker_http_outcome.c). */
#ifndef SHOAL_WORKER_HTTP_OUTCOME_H
#define SHOAL_WORKER_HTTP_OUTCOME_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Retry-After (delta-seconds or an HTTP date, now_ms the wall clock) in
//  ms, capped at 24 h; 0 when absent, past or unreadable.
uint32_t http_retry_after_ms(const char *value, int64_t now_ms);

//  The error text of a failed transfer into out (curl's words, or ours
//  where curl's mislead). in_headers: the failure came before the end of
//  the response's headers, after header_bytes of them. Returns true when
//  retrying will not help (a permanent failure).
bool http_outcome_error(CURLcode code, const char *errbuf, bool in_headers, size_t header_bytes,
                        char *out, size_t outlen);

#endif
