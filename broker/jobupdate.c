/*  jobupdate — see jobupdate.h.

    The merge is protobuf's own: parsing two encodings one after the other
    is a merge (scalars of the second win, submessages merge, repeated
    fields append). Repeated fields where appending is wrong (a second
    Cookie header, a second status list) are cleared in the old defaults
    first. */
#include "jobupdate.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//  True when the change names a header called `name`.
static bool
s_change_has_header(const Shoal__HttpSpec *change, const char *name)
{
    for (size_t i = 0; i < change->n_headers; i++)
        if (change->headers[i]->name && name && !strcasecmp(change->headers[i]->name, name))
            return true;
    return false;
}

//  Drop from `old` the repeated entries the change replaces.
static void
s_clear_replaced(Shoal__JobDefaults *old, const Shoal__JobDefaults *change)
{
    if (old->http && change->http && change->http->n_headers) {
        size_t kept = 0;
        for (size_t i = 0; i < old->http->n_headers; i++) {
            Shoal__Header *h = old->http->headers[i];
            if (s_change_has_header(change->http, h->name))
                shoal__header__free_unpacked(h, NULL);
            else
                old->http->headers[kept++] = h;
        }
        old->http->n_headers = kept;
    }
    if (old->retry && change->retry && change->retry->n_retry_status)
        old->retry->n_retry_status = 0;     //  the array is freed with the message
}

int
jobupdate_merge(const uint8_t *old, size_t old_len, const Shoal__JobDefaults *change,
                uint8_t **out, size_t *out_len, char *err, size_t errlen)
{
    *out = NULL;
    *out_len = 0;
    Shoal__JobDefaults empty = SHOAL__JOB_DEFAULTS__INIT;
    Shoal__JobDefaults *base = old_len ? shoal__job_defaults__unpack(NULL, old_len, old) : NULL;
    if (old_len && !base) {
        snprintf(err, errlen, "the job's stored defaults do not decode");
        return -1;
    }
    if (base)
        s_clear_replaced(base, change);
    const Shoal__JobDefaults *from = base ? base : &empty;
    size_t a = shoal__job_defaults__get_packed_size(from);
    size_t b = shoal__job_defaults__get_packed_size(change);
    uint8_t *joined = malloc(a + b + 1);
    if (!joined) {
        if (base)
            shoal__job_defaults__free_unpacked(base, NULL);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    shoal__job_defaults__pack(from, joined);
    shoal__job_defaults__pack(change, joined + a);
    if (base)
        shoal__job_defaults__free_unpacked(base, NULL);
    Shoal__JobDefaults *merged = shoal__job_defaults__unpack(NULL, a + b, joined);
    free(joined);
    if (!merged) {
        snprintf(err, errlen, "the merged defaults do not decode");
        return -1;
    }
    size_t n = shoal__job_defaults__get_packed_size(merged);
    *out = malloc(n ? n : 1);
    if (*out) {
        shoal__job_defaults__pack(merged, *out);
        *out_len = n;
    }
    shoal__job_defaults__free_unpacked(merged, NULL);
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

//  Append "; text" (or "text" first) to buf.
static void
s_add(char *buf, size_t size, const char *text)
{
    size_t len = strlen(buf);
    if (len + 3 >= size)
        return;
    snprintf(buf + len, size - len, "%s%s", len ? "; " : "", text);
}

//  The retry policy's part of the description.
static void
s_describe_retry(const Shoal__RetryPolicy *r, char *buf, size_t size)
{
    char item[64];
    if (r->has_max_attempts)   { snprintf(item, sizeof item, "max_attempts=%u", r->max_attempts); s_add(buf, size, item); }
    if (r->has_backoff_ms)     { snprintf(item, sizeof item, "backoff_ms=%u", r->backoff_ms); s_add(buf, size, item); }
    if (r->has_backoff_max_ms) { snprintf(item, sizeof item, "backoff_max_ms=%u", r->backoff_max_ms); s_add(buf, size, item); }
    if (r->n_retry_status)     s_add(buf, size, "retry_status");
}

void
jobupdate_describe(const Shoal__JobDefaults *change, uint32_t priority, char *buf, size_t size)
{
    char item[300];
    buf[0] = 0;
    if (change->has_timeout_ms) {
        snprintf(item, sizeof item, "timeout_ms=%u", change->timeout_ms);
        s_add(buf, size, item);
    }
    if (change->retry)
        s_describe_retry(change->retry, buf, size);
    const Shoal__HttpSpec *h = change->http;
    for (size_t i = 0; h && i < h->n_headers; i++) {
        //  names only: a header's value may be a secret (a session cookie)
        snprintf(item, sizeof item, "header %.200s", h->headers[i]->name ? h->headers[i]->name : "");
        s_add(buf, size, item);
    }
    if (h && h->cookies)
        s_add(buf, size, "cookies");
    if (h && h->has_connect_timeout_ms) {
        snprintf(item, sizeof item, "connect_timeout_ms=%u", h->connect_timeout_ms);
        s_add(buf, size, item);
    }
    if (h && (h->method || h->has_follow_redirects || h->has_max_redirects || h->has_max_response_bytes
              || h->has_inline_limit || h->has_store || h->has_insecure || h->has_body))
        s_add(buf, size, "http");
    if (change->hosts && change->hosts->has_max_per_host) {
        snprintf(item, sizeof item, "max_per_host=%u", change->hosts->max_per_host);
        s_add(buf, size, item);
    }
    if (change->hosts && change->hosts->has_rate_per_host) {
        snprintf(item, sizeof item, "rate_per_host=%g", change->hosts->rate_per_host);
        s_add(buf, size, item);
    }
    if (change->exec)
        s_add(buf, size, "exec");
    if (priority) {
        snprintf(item, sizeof item, "priority=%u", priority);
        s_add(buf, size, item);
    }
}
