/*  s3proto — see s3proto.h. */
#include "s3proto.h"

#include <stdio.h>
#include <string.h>

#include "errbuf.h"

int
s3_plan(uint64_t size, uint64_t part_size, uint64_t multipart_above, s3_plan_t *plan,
        char *err, size_t errlen)
{
    plan->parts = 0;
    plan->part_size = 0;
    if (size <= multipart_above && size <= S3_MAX_PUT_SIZE)
        return 0;
    uint64_t ps = part_size < S3_MIN_PART_SIZE ? S3_MIN_PART_SIZE : part_size;
    //  10,000 parts at most: grow the part size (in MiB steps) until they hold the body
    if (size > ps * S3_MAX_PARTS) {
        uint64_t need = (size + S3_MAX_PARTS - 1) / S3_MAX_PARTS;
        ps = (need + (1ULL << 20) - 1) & ~((1ULL << 20) - 1);
    }
    if (ps > S3_MAX_PART_SIZE)
        return errbuf_set(err, errlen, "a body of %llu bytes is larger than S3 allows (10,000 parts of 5 GiB)",
                          (unsigned long long) size);
    plan->part_size = ps;
    plan->parts = (uint32_t) ((size + ps - 1) / ps);
    if (plan->parts == 0)
        plan->parts = 1;
    return 0;
}

void
s3_plan_part(const s3_plan_t *plan, uint64_t size, uint32_t n, uint64_t *offset, uint64_t *len)
{
    if (plan->parts == 0) {
        *offset = 0;
        *len = size;
        return;
    }
    *offset = (uint64_t) (n - 1) * plan->part_size;
    *len = *offset >= size ? 0 : size - *offset < plan->part_size ? size - *offset : plan->part_size;
}

static int
s_encode(const char *s, bool keep_slash, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
                  || *p == '-' || *p == '_' || *p == '.' || *p == '~' || (keep_slash && *p == '/');
        if (n + (plain ? 1 : 3) >= outlen)
            return -1;
        if (plain)
            out[n++] = (char) *p;
        else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    if (n >= outlen)
        return -1;
    out[n] = 0;
    return 0;
}

int
s3_encode_key(const char *key, char *out, size_t outlen)
{
    return s_encode(key, true, out, outlen);
}

int
s3_encode_value(const char *value, char *out, size_t outlen)
{
    return s_encode(value, false, out, outlen);
}

//  Decode the five XML entities and numeric ones below 128 in place; others stay as they are.
static void
s_xml_unescape(char *s)
{
    static const struct { const char *name; char c; } ents[] = {
        { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' }
    };
    char *w = s;
    for (char *r = s; *r; ) {
        bool done = false;
        if (*r == '&') {
            for (size_t i = 0; i < sizeof ents / sizeof ents[0] && !done; i++) {
                size_t n = strlen(ents[i].name);
                if (!strncmp(r, ents[i].name, n)) {
                    *w++ = ents[i].c;
                    r += n;
                    done = true;
                }
            }
            unsigned v;
            int used = 0;
            if (!done && sscanf(r, "&#%u;%n", &v, &used) == 1 && used > 0 && v > 0 && v < 128) {
                *w++ = (char) v;
                r += used;
                done = true;
            }
        }
        if (!done)
            *w++ = *r++;
    }
    *w = 0;
}

size_t
s3_xml_text(const char *xml, size_t len, size_t from, const char *tag, char *out, size_t outlen)
{
    char open[80], close[80];
    if (outlen)
        out[0] = 0;
    if (!xml || from >= len
    ||  snprintf(open, sizeof open, "<%s>", tag) >= (int) sizeof open
    ||  snprintf(close, sizeof close, "</%s>", tag) >= (int) sizeof close)
        return 0;
    const char *start = memmem(xml + from, len - from, open, strlen(open));
    if (!start)
        return 0;
    start += strlen(open);
    const char *end = memmem(start, (size_t) (xml + len - start), close, strlen(close));
    if (!end)
        return 0;
    if (outlen) {
        size_t n = (size_t) (end - start) < outlen - 1 ? (size_t) (end - start) : outlen - 1;
        memcpy(out, start, n);
        out[n] = 0;
        s_xml_unescape(out);
    }
    return (size_t) (end - xml) + strlen(close);
}

s3_class_t
s3_classify(const char *code, long status)
{
    //  codes a later attempt can get past, whatever the status says
    static const char *const retryable[] = {
        "InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "OperationAborted",
        "NoSuchUpload",             //  our multipart upload was aborted meanwhile: start a new one
        "InvalidPart",              //  a part went missing: a new upload sends it again
        "BadDigest", "IncompleteBody", "XAmzContentSHA256Mismatch",     //  damaged on the way
        "RequestTimeTooSkewed",     //  the clock may be set right (or another worker runs it)
        "Throttling", "ThrottlingException", "TooManyRequests", "RequestLimitExceeded",
        NULL
    };
    if (code && *code) {
        for (int i = 0; retryable[i]; i++)
            if (!strcmp(code, retryable[i]))
                return S3_RETRYABLE;
        //  any other code names a problem with the request, the credentials or the bucket,
        //  unless the server says it is its own fault
        return status >= 500 ? S3_RETRYABLE : S3_PERMANENT;
    }
    if (status == 0 || status >= 500 || status == 408 || status == 429)
        return S3_RETRYABLE;
    return status >= 400 ? S3_PERMANENT : S3_RETRYABLE;
}
