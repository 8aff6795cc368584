/*  s3req — see s3req.h. */
#include "s3req.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS  10000
#define LOW_SPEED_BYTES     1024     //  slower than this ...
#define LOW_SPEED_SECONDS   60       //  ... for this long: the request is cut
#define EXPECT_100_MS       200      //  S3 answers 100-continue; some look-alikes never do

static size_t
s_on_answer(char *data, size_t size, size_t nmemb, void *userp)
{
    s3req_t *r = userp;
    size_t n = size * nmemb;
    size_t take = r->answer_len + n > S3REQ_MAX_ANSWER ? S3REQ_MAX_ANSWER - r->answer_len : n;
    if (take && r->answer_len + take + 1 > r->answer_cap) {
        size_t cap = r->answer_cap ? r->answer_cap : 4096;
        while (cap < r->answer_len + take + 1)
            cap *= 2;
        char *grown = realloc(r->answer, cap);
        if (!grown)
            return 0;
        r->answer = grown;
        r->answer_cap = cap;
    }
    if (take) {
        memcpy(r->answer + r->answer_len, data, take);
        r->answer_len += take;
        r->answer[r->answer_len] = 0;
    }
    return n;      //  the rest of an oversized answer is read and dropped
}

static size_t
s_on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    s3req_t *r = userp;
    size_t n = size * nmemb;
    if (n > 5 && !strncasecmp(data, "etag:", 5)) {
        const char *v = data + 5;
        const char *end = data + n;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
            end--;
        size_t len = (size_t) (end - v) < sizeof r->etag - 1 ? (size_t) (end - v) : sizeof r->etag - 1;
        memcpy(r->etag, v, len);
        r->etag[len] = 0;
    }
    return n;
}

//  PUT bodies are read from the spool file at their offset: the loop's
//  memory holds curl's upload buffer only.
static size_t
s_on_read(char *buf, size_t size, size_t nmemb, void *userp)
{
    s3req_t *r = userp;
    size_t want = size * nmemb;
    if ((uint64_t) want > r->left)
        want = (size_t) r->left;
    if (want == 0)
        return 0;
    ssize_t got;
    do
        got = pread(r->fd, buf, want, (off_t) r->offset);
    while (got < 0 && errno == EINTR);
    if (got <= 0)
        return CURL_READFUNC_ABORT;
    r->offset += (uint64_t) got;
    r->left -= (uint64_t) got;
    return (size_t) got;
}

s3req_t *
s3req_new(const s3req_ctx_t *ctx, void *owner, const char *what, const char *method,
          const char *url, const char *payload_sha)
{
    s3req_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->ctx = ctx;
    r->owner = owner;
    r->what = what;
    r->fd = -1;
    r->easy = curl_easy_init();
    char line[128];
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", payload_sha ? payload_sha : "UNSIGNED-PAYLOAD");
    if (!r->easy || s3req_header(r, line)) {
        s3req_destroy(&r);
        return NULL;
    }
    if (ctx->token) {
        size_t len = strlen(ctx->token) + 32;
        char *tok = malloc(len);
        int rc = tok ? 0 : -1;
        if (tok) {
            snprintf(tok, len, "x-amz-security-token: %s", ctx->token);
            rc = s3req_header(r, tok);
            free(tok);
        }
        if (rc) {
            s3req_destroy(&r);
            return NULL;
        }
    }
    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_on_answer);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) CONNECT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, (long) LOW_SPEED_BYTES);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long) LOW_SPEED_SECONDS);
    curl_easy_setopt(e, CURLOPT_EXPECT_100_TIMEOUT_MS, (long) EXPECT_100_MS);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "shoal/" SHOAL_VERSION);
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, ctx->sigv4);
    curl_easy_setopt(e, CURLOPT_USERPWD, ctx->userpwd);
    if (!strcmp(method, "PUT"))
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    else
    if (!strcmp(method, "POST")) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) 0);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
    }
    else
    if (strcmp(method, "GET"))
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    return r;
}

int
s3req_header(s3req_t *r, const char *line)
{
    struct curl_slist *grown = curl_slist_append(r->headers, line);
    if (!grown)
        return -1;
    r->headers = grown;
    return 0;
}

void
s3req_body_file(s3req_t *r, int fd, uint64_t offset, uint64_t len)
{
    r->fd = fd;
    r->offset = offset;
    r->left = len;
    curl_easy_setopt(r->easy, CURLOPT_READFUNCTION, s_on_read);
    curl_easy_setopt(r->easy, CURLOPT_READDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t) len);
}

void
s3req_body_mem(s3req_t *r, char *data, size_t len)
{
    free(r->post);
    r->post = data;
    r->post_len = len;
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, data);
}

int
s3req_start(s3req_t *r)
{
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
    if (u64map_put(r->ctx->reqs, (uint64_t) (uintptr_t) r->easy, r))
        return -1;
    if (curl_multi_add_handle(r->ctx->multi, r->easy) != CURLM_OK) {
        u64map_remove(r->ctx->reqs, (uint64_t) (uintptr_t) r->easy);
        return -1;
    }
    return 0;
}

s3req_t *
s3req_of(const s3req_ctx_t *ctx, CURL *easy)
{
    return ctx && ctx->reqs ? u64map_get(ctx->reqs, (uint64_t) (uintptr_t) easy) : NULL;
}

void
s3req_destroy(s3req_t **r_p)
{
    s3req_t *r = *r_p;
    if (!r)
        return;
    if (r->easy) {
        if (u64map_remove(r->ctx->reqs, (uint64_t) (uintptr_t) r->easy))
            curl_multi_remove_handle(r->ctx->multi, r->easy);
        curl_easy_cleanup(r->easy);
    }
    curl_slist_free_all(r->headers);
    free(r->answer);
    free(r->post);
    free(r);
    *r_p = NULL;
}
