/*  input_fields — see input_fields.h. */
#include "input_fields.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "taskspec.h"

int
jf_fail(ctx_t *c, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(c->err, c->errlen, fmt, args);
    va_end(args);
    return -1;
}

char *
jf_strdup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

int
jf_string(ctx_t *c, const char *field, json_t *v, char **out)
{
    if (!json_is_string(v))
        return jf_fail(c, "field '%s' must be a string", field);
    size_t n = json_string_length(v);
    if (memchr(json_string_value(v), 0, n))
        return jf_fail(c, "field '%s' contains a NUL byte", field);
    free(*out);
    *out = jf_strdup_n(json_string_value(v), n);
    return *out ? 0 : jf_fail(c, "out of memory");
}

int
jf_uint(ctx_t *c, const char *field, json_t *v, uint64_t max, uint64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0 || (uint64_t) i > max)
            return jf_fail(c, "field '%s' must be 0..%llu", field, (unsigned long long) max);
        *out = (uint64_t) i;
        return 0;
    }
    if (c->from_text && json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        unsigned long long i = strtoull(s, &end, 10);
        if (*s && *s != '-' && !*end && !errno && i <= max) {
            *out = i;
            return 0;
        }
    }
    return jf_fail(c, "field '%s' must be an integer 0..%llu", field, (unsigned long long) max);
}

int
jf_u32(ctx_t *c, const char *field, json_t *v, uint32_t max, protobuf_c_boolean *has, uint32_t *out)
{
    uint64_t x;
    if (jf_uint(c, field, v, max, &x))
        return -1;
    *has = 1;
    *out = (uint32_t) x;
    return 0;
}

int
jf_bool(ctx_t *c, const char *field, json_t *v, protobuf_c_boolean *has, protobuf_c_boolean *out)
{
    if (json_is_boolean(v)) {
        *has = 1;
        *out = json_is_true(v);
        return 0;
    }
    if (c->from_text && json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "yes")) {
            *has = 1;
            *out = 1;
            return 0;
        }
        if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcasecmp(s, "no") || !*s) {
            *has = 1;
            *out = 0;
            return 0;
        }
    }
    return jf_fail(c, "field '%s' must be true or false", field);
}

int
jf_bytes(ctx_t *c, const char *field, json_t *v, bool base64, protobuf_c_boolean *has, ProtobufCBinaryData *out)
{
    if (!json_is_string(v))
        return jf_fail(c, "field '%s' must be a string", field);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    free(out->data);
    out->data = NULL;
    out->len = 0;
    if (!base64) {
        out->data = malloc(n ? n : 1);
        if (!out->data)
            return jf_fail(c, "out of memory");
        memcpy(out->data, s, n);
        out->len = n;
        *has = 1;
        return 0;
    }
    if (n % 4 != 0 || n > INT_MAX)
        return jf_fail(c, "field '%s' is not valid base64 (length %zu is not a multiple of 4)", field, n);
    out->data = malloc(n / 4 * 3 + 1);
    if (!out->data)
        return jf_fail(c, "out of memory");
    int len = n ? EVP_DecodeBlock(out->data, (const unsigned char *) s, (int) n) : 0;
    if (len < 0) {
        free(out->data);
        out->data = NULL;
        return jf_fail(c, "field '%s' is not valid base64", field);
    }
    //  EVP_DecodeBlock counts padding as data
    if (n >= 1 && s[n - 1] == '=') len--;
    if (n >= 2 && s[n - 2] == '=') len--;
    out->len = (size_t) len;
    *has = 1;
    return 0;
}

int
jf_string_list(ctx_t *c, const char *field, json_t *v, char ***items, size_t *n_items)
{
    if (c->from_text && json_is_string(v)) {
        //  CSV: whitespace-separated words
        const char *s = json_string_value(v);
        size_t cap = 8, n = 0;
        char **list = calloc(cap, sizeof *list);
        while (list && *s) {
            while (*s == ' ' || *s == '\t')
                s++;
            if (!*s)
                break;
            size_t len = strcspn(s, " \t");
            if (n == cap) {
                char **grown = realloc(list, 2 * cap * sizeof *list);
                if (!grown)
                    break;
                list = grown;
                cap *= 2;
            }
            list[n++] = jf_strdup_n(s, len);
            s += len;
        }
        *items = list;
        *n_items = n;
        return list ? 0 : jf_fail(c, "out of memory");
    }
    if (!json_is_array(v))
        return jf_fail(c, "field '%s' must be an array of strings", field);
    size_t n = json_array_size(v);
    char **list = calloc(n ? n : 1, sizeof *list);
    if (!list)
        return jf_fail(c, "out of memory");
    *items = list;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(v, i);
        if (!json_is_string(item))
            return jf_fail(c, "field '%s'[%zu] must be a string", field, i);
        if (jf_string(c, field, item, &list[i]))
            return -1;
        *n_items = i + 1;
    }
    *n_items = n;
    return 0;
}

int
jf_headers(ctx_t *c, json_t *v, Shoal__Header ***out, size_t *n_out)
{
    size_t n = json_is_object(v) ? json_object_size(v) : json_is_array(v) ? json_array_size(v) : 0;
    if (!json_is_object(v) && !json_is_array(v))
        return jf_fail(c, "field 'headers' must be an object {\"Name\": \"value\"} or an array of \"Name: value\"");
    Shoal__Header **list = calloc(n ? n : 1, sizeof *list);
    if (!list)
        return jf_fail(c, "out of memory");
    *out = list;
    *n_out = 0;
    if (json_is_object(v)) {
        const char *key;
        json_t *value;
        json_object_foreach(v, key, value) {
            Shoal__Header *h = calloc(1, sizeof *h);
            if (!h)
                return jf_fail(c, "out of memory");
            shoal__header__init(h);
            list[(*n_out)++] = h;
            h->name = strdup(key);
            if (!json_is_string(value))
                return jf_fail(c, "header '%s' must have a string value", key);
            if (jf_string(c, "headers", value, &h->value))
                return -1;
        }
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(v, i);
        Shoal__Header *h = calloc(1, sizeof *h);
        if (!h)
            return jf_fail(c, "out of memory");
        shoal__header__init(h);
        list[(*n_out)++] = h;
        if (json_is_string(item)) {
            const char *s = json_string_value(item);
            const char *colon = strchr(s, ':');
            if (!colon)
                return jf_fail(c, "header '%.40s' must look like 'Name: value'", s);
            h->name = jf_strdup_n(s, (size_t) (colon - s));
            const char *val = colon + 1;
            while (*val == ' ')
                val++;
            h->value = strdup(val);
        }
        else
        if (json_is_array(item) && json_array_size(item) == 2
        &&  json_is_string(json_array_get(item, 0)) && json_is_string(json_array_get(item, 1))) {
            h->name = strdup(json_string_value(json_array_get(item, 0)));
            h->value = strdup(json_string_value(json_array_get(item, 1)));
        }
        else
            return jf_fail(c, "headers[%zu] must be \"Name: value\" or [\"Name\", \"value\"]", i);
    }
    return 0;
}

int
jf_form(ctx_t *c, json_t *v, Shoal__FormField ***out, size_t *n_out)
{
    if (!json_is_array(v))
        return jf_fail(c, "field 'form' must be an array of {\"name\", \"value\"|\"file\"} objects");
    size_t n = json_array_size(v);
    Shoal__FormField **list = calloc(n ? n : 1, sizeof *list);
    if (!list)
        return jf_fail(c, "out of memory");
    *out = list;
    *n_out = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(v, i);
        if (!json_is_object(item))
            return jf_fail(c, "form[%zu] must be an object", i);
        Shoal__FormField *f = calloc(1, sizeof *f);
        if (!f)
            return jf_fail(c, "out of memory");
        shoal__form_field__init(f);
        list[(*n_out)++] = f;
        const char *key;
        json_t *value;
        json_object_foreach(item, key, value) {
            char **target = !strcmp(key, "name") ? &f->name : !strcmp(key, "value") ? &f->value
                          : !strcmp(key, "file") ? &f->file : !strcmp(key, "filename") ? &f->filename
                          : !strcmp(key, "content_type") ? &f->content_type : NULL;
            if (!target)
                return jf_fail(c, "form[%zu]: unknown field '%s'", i, key);
            if (jf_string(c, key, value, target))
                return -1;
        }
    }
    return 0;
}

int
jf_env(ctx_t *c, json_t *v, char ***out, size_t *n_out)
{
    if (json_is_object(v)) {
        size_t n = json_object_size(v);
        char **list = calloc(n ? n : 1, sizeof *list);
        if (!list)
            return jf_fail(c, "out of memory");
        *out = list;
        *n_out = 0;
        const char *key;
        json_t *value;
        json_object_foreach(v, key, value) {
            if (!json_is_string(value))
                return jf_fail(c, "env '%s' must have a string value", key);
            size_t len = strlen(key) + json_string_length(value) + 2;
            char *e = malloc(len);
            if (!e)
                return jf_fail(c, "out of memory");
            snprintf(e, len, "%s=%s", key, json_string_value(value));
            list[(*n_out)++] = e;
        }
        return 0;
    }
    return jf_string_list(c, "env", v, out, n_out);
}

int
jf_store(ctx_t *c, json_t *v, protobuf_c_boolean *has, Shoal__BodyStore *out)
{
    if (!json_is_string(v))
        return jf_fail(c, "field 'store' must be \"inline\", \"dir\", \"s3\" or \"discard\"");
    const char *s = json_string_value(v);
    *has = 1;
    if (!strcmp(s, "inline"))       *out = SHOAL__BODY_STORE__STORE_INLINE;
    else if (!strcmp(s, "dir"))     *out = SHOAL__BODY_STORE__STORE_DIR;
    else if (!strcmp(s, "discard")) *out = SHOAL__BODY_STORE__STORE_DISCARD;
    else if (!strcmp(s, "s3"))      *out = SHOAL__BODY_STORE__STORE_S3;
    else if (!strcmp(s, "default")) *out = SHOAL__BODY_STORE__STORE_DEFAULT;
    else
        return jf_fail(c, "field 'store' must be \"inline\", \"dir\", \"s3\" or \"discard\" (got '%.20s')", s);
    return 0;
}

//  "require": {"region": "eu", ...} -> labels (replacing any before).
int
jf_require(ctx_t *c, const char *field, json_t *v, Shoal__Label ***labels, size_t *n)
{
    if (!json_is_object(v))
        return jf_fail(c, "field '%s' must be an object of label values, like {\"region\": \"eu\"}", field);
    for (size_t i = 0; i < *n; i++)
        shoal__label__free_unpacked((*labels)[i], NULL);
    free(*labels);
    *labels = NULL;
    *n = 0;
    size_t count = json_object_size(v);
    if (count > TASKSPEC_MAX_LABELS)
        return jf_fail(c, "field '%s': %zu labels, limit %d", field, count, TASKSPEC_MAX_LABELS);
    *labels = calloc(count + 1, sizeof **labels);
    if (!*labels)
        return jf_fail(c, "out of memory");
    const char *key;
    json_t *value;
    json_object_foreach(v, key, value) {
        if (!json_is_string(value))
            return jf_fail(c, "field '%s.%s' must be a string", field, key);
        Shoal__Label *l = calloc(1, sizeof *l);
        if (!l)
            return jf_fail(c, "out of memory");
        shoal__label__init(l);
        (*labels)[(*n)++] = l;
        l->key = strdup(key);
        l->value = strdup(json_string_value(value));
        if (!l->key || !l->value)
            return jf_fail(c, "out of memory");
    }
    return 0;
}

