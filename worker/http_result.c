/*  http_result — what an http task's result says: status, final URL,
    timings, the body (inline, stored or discarded) with its SHA-256, the
    kept headers, Retry-After, and the outcome and error (http_outcome.c
    decides what is permanent). */
#include "http_xfer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "http_outcome.h"
#include "text.h"

static void
s_hex(const unsigned char *digest, unsigned len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < len; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[2 * len] = 0;
}

//  What curl knows of the transfer: status, final URL, redirects, timings.
//  Returns the sanitised final URL (the caller frees it).
static char *
s_fill_transfer(xfer_t *x, CURLcode code, Shoal__HttpResult *hr)
{
    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status > 0) {
        hr->has_status = 1;
        hr->status = (uint32_t) status;
    }
    char *final_url = NULL;
    curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &final_url);
    char *clean_url = final_url ? text_sanitize(final_url, strlen(final_url), 65536) : NULL;
    hr->final_url = clean_url;
    long redirects = 0;
    curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_COUNT, &redirects);
    hr->has_redirects = 1;
    hr->redirects = (uint32_t) redirects;
    hr->has_curl_code = 1;
    hr->curl_code = (int32_t) code;
    //  timings, microseconds from the start of the request
    curl_off_t t;
    if (curl_easy_getinfo(x->easy, CURLINFO_NAMELOOKUP_TIME_T, &t) == CURLE_OK) { hr->has_dns_us = 1; hr->dns_us = (uint64_t) t; }
    if (curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &t) == CURLE_OK) { hr->has_connect_us = 1; hr->connect_us = (uint64_t) t; }
    if (curl_easy_getinfo(x->easy, CURLINFO_APPCONNECT_TIME_T, &t) == CURLE_OK && t > 0) { hr->has_tls_us = 1; hr->tls_us = (uint64_t) t; }
    if (curl_easy_getinfo(x->easy, CURLINFO_STARTTRANSFER_TIME_T, &t) == CURLE_OK) { hr->has_ttfb_us = 1; hr->ttfb_us = (uint64_t) t; }
    if (curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &t) == CURLE_OK) { hr->has_total_us = 1; hr->total_us = (uint64_t) t; }
    return clean_url;
}

//  The body: its hash and size, inline bytes, the stored file renamed to
//  its hash. sha_hex is the caller's buffer; returns the body path (the
//  caller frees it), NULL when not stored.
static char *
s_fill_body(xfer_t *x, const http_body_dir_t *dir, Shoal__HttpResult *hr, char *sha_hex)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned digest_len = 0;
    EVP_DigestFinal_ex(x->sha, digest, &digest_len);
    s_hex(digest, digest_len, sha_hex);
    hr->sha256 = sha_hex;
    hr->has_bytes = 1;
    hr->bytes = x->bytes;
    hr->has_truncated = 1;
    hr->truncated = x->truncated;
    //  default: the body in the row if it fits whole; inline: its first bytes
    if (x->keep_inline && (x->store == SHOAL__BODY_STORE__STORE_INLINE || x->bytes <= x->inline_limit)) {
        hr->has_body = 1;
        hr->body.data = x->inline_buf ? x->inline_buf : (uint8_t *) "";
        hr->body.len = x->inline_len;
    }
    if (!x->stored)
        return NULL;
    bool ok = fclose(x->stored) == 0;
    x->stored = NULL;
    size_t len = strlen(dir->path) + 2 * EVP_MAX_MD_SIZE + 3;
    char *body_path = malloc(len);
    if (body_path) {
        snprintf(body_path, len, "%s/%s", dir->path, sha_hex);
        if (ok && rename(x->stored_tmp, body_path) == 0)
            hr->body_path = body_path;
        else
            snprintf(x->local_error, sizeof x->local_error, "storing the body as %s: %s", body_path,
                     strerror(errno));
    }
    return body_path;
}

//  The outcome and the error text (into error).
static void
s_set_outcome(xfer_t *x, CURLcode code, Shoal__Result *r, char *error, size_t errlen)
{
    if (x->local_error[0]) {
        r->outcome = SHOAL__OUTCOME__OUTCOME_ERROR;
        r->has_permanent = r->permanent = 1;
        snprintf(error, errlen, "%s", x->local_error);
    }
    else
    if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && x->truncated)) {
        r->outcome = SHOAL__OUTCOME__OUTCOME_OK;
        if (x->truncated)
            snprintf(error, errlen, "response cut at max_response_bytes (%llu bytes)",
                     (unsigned long long) x->max_bytes);
    }
    else {
        r->outcome = code == CURLE_OPERATION_TIMEDOUT ? SHOAL__OUTCOME__OUTCOME_TIMEOUT
                                                      : SHOAL__OUTCOME__OUTCOME_ERROR;
        if (http_outcome_error(code, x->errbuf, !x->headers_done, x->header_bytes, error, errlen))
            r->has_permanent = r->permanent = 1;
    }
}

void
http_result_finish(executor_t *ex, xfer_t *x, CURLcode code, const http_body_dir_t *dir)
{
    run_t *run = x->run;
    Shoal__Result r = SHOAL__RESULT__INIT;
    Shoal__HttpResult hr = SHOAL__HTTP_RESULT__INIT;
    Shoal__Header headers[N_KEPT];
    Shoal__Header *header_ptrs[N_KEPT];
    char sha_hex[2 * EVP_MAX_MD_SIZE + 1] = "";
    char error[CURL_ERROR_SIZE + 300] = "";
    r.has_outcome = 1;
    r.http = &hr;
    char *clean_url = s_fill_transfer(x, code, &hr);
    char *body_path = s_fill_body(x, dir, &hr, sha_hex);
    size_t n_headers = 0;
    for (int i = 0; i < N_KEPT; i++)
        if (x->kept[i]) {
            shoal__header__init(&headers[n_headers]);
            headers[n_headers].name = (char *) http_kept_headers[i];
            headers[n_headers].value = x->kept[i];
            header_ptrs[n_headers] = &headers[n_headers];
            n_headers++;
        }
    hr.headers = header_ptrs;
    hr.n_headers = n_headers;
    uint32_t retry_after = http_retry_after_ms(x->kept[KEPT_RETRY_AFTER], clock_wall_us() / 1000);
    if (retry_after) {
        r.has_retry_after_ms = 1;
        r.retry_after_ms = retry_after;
    }
    s_set_outcome(x, code, &r, error, sizeof error);
    if (x->s3 && x->s3_started && !x->local_error[0])
        http_s3_result(x, &r, error, sizeof error);
    char *clean_error = error[0] ? text_sanitize(error, strlen(error), sizeof error) : NULL;
    r.error = clean_error;
    //  a pipeline step: its variables from a successful response
    char *vars_owned = NULL;
    const Shoal__PipelineStep *ps = run->spec->pipeline;
    if (r.outcome == SHOAL__OUTCOME__OUTCOME_OK && ps && ps->extract && hr.status < 400 && x->vars)
        vars_apply(x->vars, ps->extract, ps->vars, &x->capture, hr.status, clean_url, x->bytes, &r, &vars_owned);
    run->state = NULL;
    executor_finish(ex, run, &r);
    free(vars_owned);
    free(clean_error);
    free(clean_url);
    free(body_path);
}
