/*  s3key — see s3key.h. */
#include "s3key.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"

#define DEFAULT_TEMPLATE "sha256/{{sha256_2}}/{{sha256_4}}/{{sha256}}"

//  The value of a name, or NULL when the name is not one the worker knows.
static const char *
s_value(const char *name, size_t n, const s3key_vars_t *v, char *num, size_t numlen)
{
    #define IS(s) (n == strlen(s) && !memcmp(name, s, n))
    if (IS("sha256"))
        return v->sha256;
    if (IS("sha256_2") || IS("sha256_4")) {
        size_t off = IS("sha256_2") ? 0 : 2;
        snprintf(num, numlen, "%.2s", v->sha256 && strlen(v->sha256) >= off + 2 ? v->sha256 + off : "");
        return num;
    }
    if (IS("job") || IS("seq")) {
        snprintf(num, numlen, "%u", IS("job") ? v->job : v->seq);
        return num;
    }
    if (IS("filename"))
        return v->filename ? v->filename : "";
    if (IS("ext")) {
        const char *f = v->filename ? v->filename : "";
        const char *dot = strrchr(f, '.');
        return dot && dot != f ? dot : "";
    }
    if (IS("tag"))
        return v->tag ? v->tag : "";
    return NULL;
    #undef IS
}

int
s3key_render(const char *tmpl, const s3key_vars_t *vars, char *out, size_t outlen,
             char *err, size_t errlen)
{
    if (!tmpl)
        tmpl = DEFAULT_TEMPLATE;
    size_t n = 0;
    char num[32];
    for (const char *p = tmpl; *p; ) {
        const char *piece = p;
        size_t len = 1;
        if (p[0] == '{' && p[1] == '{') {
            const char *end = strstr(p + 2, "}}");
            if (!end)
                return errbuf_set(err, errlen, "s3_key: '{{' without '}}' at offset %zu", (size_t) (p - tmpl));
            const char *name = p + 2;
            size_t name_len = (size_t) (end - name);
            while (name_len && *name == ' ') { name++; name_len--; }
            while (name_len && name[name_len - 1] == ' ') name_len--;
            piece = s_value(name, name_len, vars, num, sizeof num);
            if (!piece)
                return errbuf_set(err, errlen, "s3_key: unknown variable '%.*s' (known: sha256, sha256_2,"
                                  " sha256_4, job, seq, filename, ext, tag)", (int) (name_len > 60 ? 60 : name_len), name);
            len = strlen(piece);
            p = end + 2;
        }
        else
            p++;
        if (n + len >= outlen || n + len > S3KEY_MAX)
            return errbuf_set(err, errlen, "s3_key: longer than %d bytes", S3KEY_MAX);
        memcpy(out + n, piece, len);
        n += len;
    }
    out[n] = 0;
    if (n == 0)
        return errbuf_set(err, errlen, "s3_key: renders to an empty key");
    if (out[0] == '/')
        return errbuf_set(err, errlen, "s3_key: '%.60s' starts with '/'", out);
    return 0;
}

static int
s_hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

void
s3key_filename(const char *src, char *out, size_t outlen)
{
    out[0] = 0;
    if (!src || outlen < 8)
        return;
    const char *path = src;
    const char *scheme = strstr(src, "://");
    if (scheme && !memchr(src, '/', (size_t) (scheme - src))) {
        path = strchr(scheme + 3, '/');
        if (!path) {
            snprintf(out, outlen, "index");
            return;
        }
    }
    size_t end = strcspn(path, scheme ? "?#" : "");
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    size_t n = 0;
    for (size_t i = start; i < end && n + 1 < outlen; i++) {
        unsigned char c = (unsigned char) path[i];
        int hi, lo;
        if (scheme && c == '%' && i + 2 < end && (hi = s_hexval(path[i + 1])) >= 0
        &&  (lo = s_hexval(path[i + 2])) >= 0) {
            c = (unsigned char) (hi * 16 + lo);
            i += 2;
        }
        out[n++] = (c < 0x20 || c == 0x7f || c == '/' || c == '\\') ? '_' : (char) c;
    }
    out[n] = 0;
    if (n == 0 || !strcmp(out, ".") || !strcmp(out, ".."))
        snprintf(out, outlen, "index");
}
