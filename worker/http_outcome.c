/*  http_outcome — see http_outcome.h. */
#include "http_outcome.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RETRY_AFTER_MS 86400000u

//  curl refuses a response whose single header line is over 100 KiB
//  (CURL_MAX_HTTP_HEADER) or whose headers are over 300 KiB in all
//  (7.88: "Too large response headers"), reporting the first as "Out of
//  memory" and the second as a receive error. Neither is the worker's
//  memory or the network, and the same server sends the same headers
//  again: permanent.
#define CURL_HEADER_LINE_LIMIT (100u * 1024)
#define CURL_HEADERS_LIMIT     (300u * 1024)

uint32_t
http_retry_after_ms(const char *value, int64_t now_ms)
{
    if (!value || !*value)
        return 0;
    char *end;
    long secs = strtol(value, &end, 10);
    if (end != value && *end == 0)
        return secs <= 0 ? 0 : secs > 86400 ? MAX_RETRY_AFTER_MS : (uint32_t) secs * 1000u;
    time_t when = curl_getdate(value, NULL);
    if (when <= 0)
        return 0;
    int64_t ms = (int64_t) when * 1000 - now_ms;
    return ms <= 0 ? 0 : ms > MAX_RETRY_AFTER_MS ? MAX_RETRY_AFTER_MS : (uint32_t) ms;
}

//  Errors retrying will not fix.
static bool
s_permanent(CURLcode code)
{
    switch (code) {
        case CURLE_TOO_MANY_REDIRECTS:
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_READ_ERROR:
        case CURLE_FILE_COULDNT_READ_FILE:
        case CURLE_BAD_CONTENT_ENCODING:
            return true;
        default:
            return false;
    }
}

//  Did curl stop because the response's headers were too large?
static bool
s_headers_too_large(CURLcode code, const char *errbuf, bool in_headers, size_t header_bytes)
{
    if (!in_headers)
        return false;
#if LIBCURL_VERSION_NUM >= 0x080600
    if (code == CURLE_TOO_LARGE)
        return true;
#endif
    if (code == CURLE_OUT_OF_MEMORY)    //  after the status line: a header line over the limit
        return header_bytes > 0 || strstr(errbuf, "header") != NULL;
    if (code == CURLE_RECV_ERROR)
        return strstr(errbuf, "Too large response headers") != NULL
            || header_bytes + CURL_HEADER_LINE_LIMIT >= CURL_HEADERS_LIMIT;
    return false;
}

bool
http_outcome_error(CURLcode code, const char *errbuf, bool in_headers, size_t header_bytes,
                   char *out, size_t outlen)
{
    errbuf = errbuf ? errbuf : "";
    if (s_headers_too_large(code, errbuf, in_headers, header_bytes)) {
        snprintf(out, outlen, "response headers too large (curl takes at most %u KiB per header line and"
                 " %u KiB in all)%s%s", CURL_HEADER_LINE_LIMIT / 1024, CURL_HEADERS_LIMIT / 1024,
                 *errbuf ? ": " : "", errbuf);
        return true;
    }
    snprintf(out, outlen, "%s%s%s", curl_easy_strerror(code), *errbuf ? ": " : "", errbuf);
    return s_permanent(code);
}
