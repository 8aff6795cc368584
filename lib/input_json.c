/*  input_json — JSON objects to task specs and job defaults.

    The field names are the protocol's (proto/shoal.proto), flat: a JSONL
    line for an HTTP task is {"url": "https://...", "method": "POST",
    "headers": {"Accept": "text/html"}}. Unknown fields are errors, so a
    typo never silently becomes a default. */
#include "input.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "taskspec.h"

typedef struct {
    bool  from_text;    //  values may be strings (CSV)
    char *err;
    size_t errlen;
} ctx_t;

static int s_fail(ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
s_fail(ctx_t *c, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(c->err, c->errlen, fmt, args);
    va_end(args);
    return -1;
}

static char *
s_strdup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static int
s_string(ctx_t *c, const char *field, json_t *v, char **out)
{
    if (!json_is_string(v))
        return s_fail(c, "field '%s' must be a string", field);
    size_t n = json_string_length(v);
    if (memchr(json_string_value(v), 0, n))
        return s_fail(c, "field '%s' contains a NUL byte", field);
    free(*out);
    *out = s_strdup_n(json_string_value(v), n);
    return *out ? 0 : s_fail(c, "out of memory");
}

static int
s_uint(ctx_t *c, const char *field, json_t *v, uint64_t max, uint64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0 || (uint64_t) i > max)
            return s_fail(c, "field '%s' must be 0..%llu", field, (unsigned long long) max);
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
    return s_fail(c, "field '%s' must be an integer 0..%llu", field, (unsigned long long) max);
}

static int
s_u32(ctx_t *c, const char *field, json_t *v, uint32_t max, protobuf_c_boolean *has, uint32_t *out)
{
    uint64_t x;
    if (s_uint(c, field, v, max, &x))
        return -1;
    *has = 1;
    *out = (uint32_t) x;
    return 0;
}

static int
s_bool(ctx_t *c, const char *field, json_t *v, protobuf_c_boolean *has, protobuf_c_boolean *out)
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
    return s_fail(c, "field '%s' must be true or false", field);
}

static int
s_bytes(ctx_t *c, const char *field, json_t *v, bool base64, protobuf_c_boolean *has, ProtobufCBinaryData *out)
{
    if (!json_is_string(v))
        return s_fail(c, "field '%s' must be a string", field);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    free(out->data);
    out->data = NULL;
    out->len = 0;
    if (!base64) {
        out->data = malloc(n ? n : 1);
        if (!out->data)
            return s_fail(c, "out of memory");
        memcpy(out->data, s, n);
        out->len = n;
        *has = 1;
        return 0;
    }
    if (n % 4 != 0 || n > INT_MAX)
        return s_fail(c, "field '%s' is not valid base64 (length %zu is not a multiple of 4)", field, n);
    out->data = malloc(n / 4 * 3 + 1);
    if (!out->data)
        return s_fail(c, "out of memory");
    int len = n ? EVP_DecodeBlock(out->data, (const unsigned char *) s, (int) n) : 0;
    if (len < 0) {
        free(out->data);
        out->data = NULL;
        return s_fail(c, "field '%s' is not valid base64", field);
    }
    //  EVP_DecodeBlock counts padding as data
    if (n >= 1 && s[n - 1] == '=') len--;
    if (n >= 2 && s[n - 2] == '=') len--;
    out->len = (size_t) len;
    *has = 1;
    return 0;
}

static int
s_string_list(ctx_t *c, const char *field, json_t *v, char ***items, size_t *n_items)
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
            list[n++] = s_strdup_n(s, len);
            s += len;
        }
        *items = list;
        *n_items = n;
        return list ? 0 : s_fail(c, "out of memory");
    }
    if (!json_is_array(v))
        return s_fail(c, "field '%s' must be an array of strings", field);
    size_t n = json_array_size(v);
    char **list = calloc(n ? n : 1, sizeof *list);
    if (!list)
        return s_fail(c, "out of memory");
    *items = list;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(v, i);
        if (!json_is_string(item))
            return s_fail(c, "field '%s'[%zu] must be a string", field, i);
        if (s_string(c, field, item, &list[i]))
            return -1;
        *n_items = i + 1;
    }
    *n_items = n;
    return 0;
}

static int
s_headers(ctx_t *c, json_t *v, Shoal__Header ***out, size_t *n_out)
{
    size_t n = json_is_object(v) ? json_object_size(v) : json_is_array(v) ? json_array_size(v) : 0;
    if (!json_is_object(v) && !json_is_array(v))
        return s_fail(c, "field 'headers' must be an object {\"Name\": \"value\"} or an array of \"Name: value\"");
    Shoal__Header **list = calloc(n ? n : 1, sizeof *list);
    if (!list)
        return s_fail(c, "out of memory");
    *out = list;
    *n_out = 0;
    if (json_is_object(v)) {
        const char *key;
        json_t *value;
        json_object_foreach(v, key, value) {
            Shoal__Header *h = calloc(1, sizeof *h);
            if (!h)
                return s_fail(c, "out of memory");
            shoal__header__init(h);
            list[(*n_out)++] = h;
            h->name = strdup(key);
            if (!json_is_string(value))
                return s_fail(c, "header '%s' must have a string value", key);
            if (s_string(c, "headers", value, &h->value))
                return -1;
        }
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(v, i);
        Shoal__Header *h = calloc(1, sizeof *h);
        if (!h)
            return s_fail(c, "out of memory");
        shoal__header__init(h);
        list[(*n_out)++] = h;
        if (json_is_string(item)) {
            const char *s = json_string_value(item);
            const char *colon = strchr(s, ':');
            if (!colon)
                return s_fail(c, "header '%.40s' must look like 'Name: value'", s);
            h->name = s_strdup_n(s, (size_t) (colon - s));
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
            return s_fail(c, "headers[%zu] must be \"Name: value\" or [\"Name\", \"value\"]", i);
    }
    return 0;
}

static int
s_form(ctx_t *c, json_t *v, Shoal__FormField ***out, size_t *n_out)
{
    if (!json_is_array(v))
        return s_fail(c, "field 'form' must be an array of {\"name\", \"value\"|\"file\"} objects");
    size_t n = json_array_size(v);
    Shoal__FormField **list = calloc(n ? n : 1, sizeof *list);
    if (!list)
        return s_fail(c, "out of memory");
    *out = list;
    *n_out = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(v, i);
        if (!json_is_object(item))
            return s_fail(c, "form[%zu] must be an object", i);
        Shoal__FormField *f = calloc(1, sizeof *f);
        if (!f)
            return s_fail(c, "out of memory");
        shoal__form_field__init(f);
        list[(*n_out)++] = f;
        const char *key;
        json_t *value;
        json_object_foreach(item, key, value) {
            char **target = !strcmp(key, "name") ? &f->name : !strcmp(key, "value") ? &f->value
                          : !strcmp(key, "file") ? &f->file : !strcmp(key, "filename") ? &f->filename
                          : !strcmp(key, "content_type") ? &f->content_type : NULL;
            if (!target)
                return s_fail(c, "form[%zu]: unknown field '%s'", i, key);
            if (s_string(c, key, value, target))
                return -1;
        }
    }
    return 0;
}

static int
s_env(ctx_t *c, json_t *v, char ***out, size_t *n_out)
{
    if (json_is_object(v)) {
        size_t n = json_object_size(v);
        char **list = calloc(n ? n : 1, sizeof *list);
        if (!list)
            return s_fail(c, "out of memory");
        *out = list;
        *n_out = 0;
        const char *key;
        json_t *value;
        json_object_foreach(v, key, value) {
            if (!json_is_string(value))
                return s_fail(c, "env '%s' must have a string value", key);
            size_t len = strlen(key) + json_string_length(value) + 2;
            char *e = malloc(len);
            if (!e)
                return s_fail(c, "out of memory");
            snprintf(e, len, "%s=%s", key, json_string_value(value));
            list[(*n_out)++] = e;
        }
        return 0;
    }
    return s_string_list(c, "env", v, out, n_out);
}

static int
s_store(ctx_t *c, json_t *v, protobuf_c_boolean *has, Shoal__BodyStore *out)
{
    if (!json_is_string(v))
        return s_fail(c, "field 'store' must be \"inline\", \"dir\", \"s3\" or \"discard\"");
    const char *s = json_string_value(v);
    *has = 1;
    if (!strcmp(s, "inline"))       *out = SHOAL__BODY_STORE__STORE_INLINE;
    else if (!strcmp(s, "dir"))     *out = SHOAL__BODY_STORE__STORE_DIR;
    else if (!strcmp(s, "discard")) *out = SHOAL__BODY_STORE__STORE_DISCARD;
    else if (!strcmp(s, "s3"))      *out = SHOAL__BODY_STORE__STORE_S3;
    else if (!strcmp(s, "default")) *out = SHOAL__BODY_STORE__STORE_DEFAULT;
    else
        return s_fail(c, "field 'store' must be \"inline\", \"dir\", \"s3\" or \"discard\" (got '%.20s')", s);
    return 0;
}

static Shoal__RetryPolicy *
s_retry(Shoal__RetryPolicy **slot)
{
    if (!*slot) {
        *slot = calloc(1, sizeof **slot);
        if (*slot)
            shoal__retry_policy__init(*slot);
    }
    return *slot;
}

static int
s_retry_field(ctx_t *c, Shoal__RetryPolicy **slot, const char *key, json_t *v, bool *handled)
{
    *handled = true;
    Shoal__RetryPolicy *r = s_retry(slot);
    if (!r)
        return s_fail(c, "out of memory");
    if (!strcmp(key, "max_attempts"))
        return s_u32(c, key, v, 1000, &r->has_max_attempts, &r->max_attempts);
    if (!strcmp(key, "backoff_ms"))
        return s_u32(c, key, v, UINT32_MAX, &r->has_backoff_ms, &r->backoff_ms);
    if (!strcmp(key, "backoff_max_ms"))
        return s_u32(c, key, v, UINT32_MAX, &r->has_backoff_max_ms, &r->backoff_max_ms);
    if (!strcmp(key, "retry_after_max_ms"))
        return s_u32(c, key, v, UINT32_MAX, &r->has_retry_after_max_ms, &r->retry_after_max_ms);
    if (!strcmp(key, "jitter_pct"))
        return s_u32(c, key, v, 100, &r->has_jitter_pct, &r->jitter_pct);
    if (!strcmp(key, "retry_status")) {
        if (!json_is_array(v))
            return s_fail(c, "field 'retry_status' must be an array of HTTP statuses");
        size_t n = json_array_size(v);
        free(r->retry_status);
        r->retry_status = calloc(n ? n : 1, sizeof(uint32_t));
        if (!r->retry_status)
            return s_fail(c, "out of memory");
        for (size_t i = 0; i < n; i++) {
            uint64_t st;
            if (s_uint(c, "retry_status", json_array_get(v, i), 599, &st))
                return -1;
            r->retry_status[i] = (uint32_t) st;
        }
        r->n_retry_status = n;
        return 0;
    }
    *handled = false;
    return 0;
}

static Shoal__HttpSpec *
s_http(Shoal__HttpSpec **slot)
{
    if (!*slot) {
        *slot = calloc(1, sizeof **slot);
        if (*slot)
            shoal__http_spec__init(*slot);
    }
    return *slot;
}

static int
s_http_field(ctx_t *c, Shoal__HttpSpec **slot, const char *key, json_t *v, bool *handled)
{
    *handled = true;
    static const char *const names[] = {
        "method", "url", "headers", "body", "body_b64", "body_file", "form", "cookies", "proxy",
        "connect_timeout_ms", "follow_redirects", "max_redirects", "insecure",
        "max_response_bytes", "store", "inline_limit", "s3_bucket", "s3_key", "s3_content_type",
        "upload_s3", "upload_s3_delete", NULL
    };
    bool known = false;
    for (int i = 0; names[i]; i++)
        if (!strcmp(key, names[i]))
            known = true;
    if (!known) {
        *handled = false;
        return 0;
    }
    Shoal__HttpSpec *h = s_http(slot);
    if (!h)
        return s_fail(c, "out of memory");
    if (!strcmp(key, "method")) {
        if (s_string(c, key, v, &h->method))
            return -1;
        for (char *p = h->method; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char) (*p - 'a' + 'A');
        return 0;
    }
    if (!strcmp(key, "url"))        return s_string(c, key, v, &h->url);
    if (!strcmp(key, "headers")) {
        for (size_t i = 0; i < h->n_headers; i++)
            shoal__header__free_unpacked(h->headers[i], NULL);
        free(h->headers);
        h->headers = NULL;
        h->n_headers = 0;
        return s_headers(c, v, &h->headers, &h->n_headers);
    }
    if (!strcmp(key, "body"))       return s_bytes(c, key, v, false, &h->has_body, &h->body);
    if (!strcmp(key, "body_b64"))   return s_bytes(c, key, v, true, &h->has_body, &h->body);
    if (!strcmp(key, "body_file"))  return s_string(c, key, v, &h->body_file);
    if (!strcmp(key, "form"))       return s_form(c, v, &h->form, &h->n_form);
    if (!strcmp(key, "cookies"))    return s_string(c, key, v, &h->cookies);
    if (!strcmp(key, "proxy"))      return s_string(c, key, v, &h->proxy);
    if (!strcmp(key, "connect_timeout_ms"))
        return s_u32(c, key, v, UINT32_MAX, &h->has_connect_timeout_ms, &h->connect_timeout_ms);
    if (!strcmp(key, "follow_redirects"))
        return s_bool(c, key, v, &h->has_follow_redirects, &h->follow_redirects);
    if (!strcmp(key, "max_redirects"))
        return s_u32(c, key, v, 100, &h->has_max_redirects, &h->max_redirects);
    if (!strcmp(key, "insecure"))
        return s_bool(c, key, v, &h->has_insecure, &h->insecure);
    if (!strcmp(key, "max_response_bytes")) {
        uint64_t x;
        if (s_uint(c, key, v, UINT64_MAX >> 1, &x))
            return -1;
        h->has_max_response_bytes = 1;
        h->max_response_bytes = x;
        return 0;
    }
    if (!strcmp(key, "store"))      return s_store(c, v, &h->has_store, &h->store);
    if (!strcmp(key, "inline_limit"))
        return s_u32(c, key, v, 16u << 20, &h->has_inline_limit, &h->inline_limit);
    if (!strcmp(key, "s3_bucket"))  return s_string(c, key, v, &h->s3_bucket);
    if (!strcmp(key, "s3_key"))     return s_string(c, key, v, &h->s3_key);
    if (!strcmp(key, "s3_content_type")) return s_string(c, key, v, &h->s3_content_type);
    if (!strcmp(key, "upload_s3"))  return s_string(c, key, v, &h->upload_s3);
    if (!strcmp(key, "upload_s3_delete"))
        return s_bool(c, key, v, &h->has_upload_s3_delete, &h->upload_s3_delete);
    return 0;
}

static Shoal__ExecSpec *
s_exec(Shoal__ExecSpec **slot)
{
    if (!*slot) {
        *slot = calloc(1, sizeof **slot);
        if (*slot)
            shoal__exec_spec__init(*slot);
    }
    return *slot;
}

static int
s_exec_field(ctx_t *c, Shoal__ExecSpec **slot, const char *key, json_t *v, bool *handled)
{
    *handled = true;
    if (strcmp(key, "argv") && strcmp(key, "stdin") && strcmp(key, "stdin_b64") && strcmp(key, "env")
    &&  strcmp(key, "cwd") && strcmp(key, "tail_bytes")) {
        *handled = false;
        return 0;
    }
    Shoal__ExecSpec *x = s_exec(slot);
    if (!x)
        return s_fail(c, "out of memory");
    if (!strcmp(key, "argv"))       return s_string_list(c, key, v, &x->argv, &x->n_argv);
    if (!strcmp(key, "stdin"))      return s_bytes(c, key, v, false, &x->has_stdin, &x->stdin);
    if (!strcmp(key, "stdin_b64"))  return s_bytes(c, key, v, true, &x->has_stdin, &x->stdin);
    if (!strcmp(key, "env"))        return s_env(c, v, &x->env, &x->n_env);
    if (!strcmp(key, "cwd"))        return s_string(c, key, v, &x->cwd);
    return s_u32(c, key, v, TASKSPEC_MAX_TAIL, &x->has_tail_bytes, &x->tail_bytes);
}

static Shoal__NoopSpec *
s_noop(Shoal__NoopSpec **slot)
{
    if (!*slot) {
        *slot = calloc(1, sizeof **slot);
        if (*slot)
            shoal__noop_spec__init(*slot);
    }
    return *slot;
}

static int
s_noop_field(ctx_t *c, Shoal__NoopSpec **slot, const char *key, json_t *v, bool *handled)
{
    *handled = true;
    if (strcmp(key, "sleep_ms") && strcmp(key, "fail_until_attempt") && strcmp(key, "crash")) {
        *handled = false;
        return 0;
    }
    Shoal__NoopSpec *n = s_noop(slot);
    if (!n)
        return s_fail(c, "out of memory");
    if (!strcmp(key, "sleep_ms"))
        return s_u32(c, key, v, UINT32_MAX, &n->has_sleep_ms, &n->sleep_ms);
    if (!strcmp(key, "fail_until_attempt"))
        return s_u32(c, key, v, 1000, &n->has_fail_until_attempt, &n->fail_until_attempt);
    return s_bool(c, key, v, &n->has_crash, &n->crash);
}

bool
input_field_known(const char *name)
{
    static const char *const names[] = {
        "kind", "timeout_ms", "tag", "retry",
        "max_attempts", "backoff_ms", "backoff_max_ms", "jitter_pct", "retry_status",
        "method", "url", "headers", "body", "body_b64", "body_file", "form", "cookies", "proxy",
        "connect_timeout_ms", "follow_redirects", "max_redirects", "insecure",
        "max_response_bytes", "store", "inline_limit",
        "s3_bucket", "s3_key", "s3_content_type", "upload_s3", "upload_s3_delete",
        "argv", "stdin", "stdin_b64", "env", "cwd", "tail_bytes",
        "sleep_ms", "fail_until_attempt", "crash",
        "handler", "payload", "vars", "require", NULL
    };
    for (int i = 0; names[i]; i++)
        if (!strcmp(name, names[i]))
            return true;
    return false;
}

//  "require": {"region": "eu", ...} -> labels (replacing any before).
static int
s_require(ctx_t *c, const char *field, json_t *v, Shoal__Label ***labels, size_t *n)
{
    if (!json_is_object(v))
        return s_fail(c, "field '%s' must be an object of label values, like {\"region\": \"eu\"}", field);
    for (size_t i = 0; i < *n; i++)
        shoal__label__free_unpacked((*labels)[i], NULL);
    free(*labels);
    *labels = NULL;
    *n = 0;
    size_t count = json_object_size(v);
    if (count > TASKSPEC_MAX_LABELS)
        return s_fail(c, "field '%s': %zu labels, limit %d", field, count, TASKSPEC_MAX_LABELS);
    *labels = calloc(count + 1, sizeof **labels);
    if (!*labels)
        return s_fail(c, "out of memory");
    const char *key;
    json_t *value;
    json_object_foreach(v, key, value) {
        if (!json_is_string(value))
            return s_fail(c, "field '%s.%s' must be a string", field, key);
        Shoal__Label *l = calloc(1, sizeof *l);
        if (!l)
            return s_fail(c, "out of memory");
        shoal__label__init(l);
        (*labels)[(*n)++] = l;
        l->key = strdup(key);
        l->value = strdup(json_string_value(value));
        if (!l->key || !l->value)
            return s_fail(c, "out of memory");
    }
    return 0;
}

static Shoal__HandlerSpec *
s_handler(Shoal__HandlerSpec **slot)
{
    if (!*slot) {
        *slot = calloc(1, sizeof **slot);
        if (*slot)
            shoal__handler_spec__init(*slot);
    }
    return *slot;
}

//  "handler": NAME, "payload": any JSON, "vars": {...}.
static int
s_handler_field(ctx_t *c, Shoal__HandlerSpec **slot, const char *key, json_t *v, bool *handled)
{
    *handled = true;
    if (strcmp(key, "handler") && strcmp(key, "payload") && strcmp(key, "vars")) {
        *handled = false;
        return 0;
    }
    Shoal__HandlerSpec *h = s_handler(slot);
    if (!h)
        return s_fail(c, "out of memory");
    if (!strcmp(key, "handler"))
        return s_string(c, key, v, &h->name);
    if (!strcmp(key, "vars") && !json_is_object(v))
        return s_fail(c, "field 'vars' must be an object");
    char **out = !strcmp(key, "payload") ? &h->payload : &h->vars;
    free(*out);
    *out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    return *out ? 0 : s_fail(c, "out of memory");
}

Shoal__TaskSpec *
input_task_from_json(json_t *obj, bool from_text, char *err, size_t errlen)
{
    ctx_t c = { from_text, err, errlen };
    if (!json_is_object(obj)) {
        s_fail(&c, "a task must be a JSON object");
        return NULL;
    }
    Shoal__TaskSpec *spec = calloc(1, sizeof *spec);
    if (!spec) {
        s_fail(&c, "out of memory");
        return NULL;
    }
    shoal__task_spec__init(spec);
    Shoal__HttpSpec *http = NULL;
    Shoal__ExecSpec *exec = NULL;
    Shoal__NoopSpec *noop = NULL;
    Shoal__HandlerSpec *handler = NULL;
    const char *kind = NULL;
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(obj, key, v) {
        bool handled = true;
        if (!strcmp(key, "kind")) {
            if (!json_is_string(v)) {
                rc = s_fail(&c, "field 'kind' must be \"http\", \"exec\", \"noop\" or \"handler\"");
                break;
            }
            kind = json_string_value(v);
            continue;
        }
        if (!strcmp(key, "timeout_ms"))
            rc = s_u32(&c, key, v, UINT32_MAX, &spec->has_timeout_ms, &spec->timeout_ms);
        else
        if (!strcmp(key, "tag"))
            rc = s_string(&c, key, v, &spec->tag);
        else
        if (!strcmp(key, "require"))
            rc = s_require(&c, key, v, &spec->require, &spec->n_require);
        else
        if (!strcmp(key, "retry")) {
            if (!json_is_object(v)) {
                rc = s_fail(&c, "field 'retry' must be an object");
                break;
            }
            const char *rk;
            json_t *rv;
            json_object_foreach(v, rk, rv) {
                rc = s_retry_field(&c, &spec->retry, rk, rv, &handled);
                if (!rc && !handled)
                    rc = s_fail(&c, "unknown field 'retry.%s'", rk);
                if (rc)
                    break;
            }
        }
        else {
            rc = s_retry_field(&c, &spec->retry, key, v, &handled);
            if (!rc && !handled)
                rc = s_http_field(&c, &http, key, v, &handled);
            if (!rc && !handled)
                rc = s_exec_field(&c, &exec, key, v, &handled);
            if (!rc && !handled)
                rc = s_noop_field(&c, &noop, key, v, &handled);
            if (!rc && !handled)
                rc = s_handler_field(&c, &handler, key, v, &handled);
            if (!rc && !handled)
                rc = s_fail(&c, "unknown field '%s'", key);
        }
        if (rc)
            break;
    }
    //  the kind: explicit, or what the fields say
    int fields = (http != NULL) + (exec != NULL) + (noop != NULL) + (handler != NULL);
    if (!rc) {
        if (!kind)
            kind = http ? "http" : exec ? "exec" : noop ? "noop" : handler ? "handler" : NULL;
        if (!kind)
            rc = s_fail(&c, "missing 'url' (or 'argv' for exec, 'handler' for a handler, or \"kind\": \"noop\")");
        else
        if (fields > 1)
            rc = s_fail(&c, "fields of different task kinds mixed in one task");
        else
        if (!strcmp(kind, "http")) {
            if (exec || noop)
                rc = s_fail(&c, "a %s field in an http task", exec ? "exec" : "noop");
            else {
                spec->http = http ? http : s_http(&http);
                spec->kind_case = SHOAL__TASK_SPEC__KIND_HTTP;
                http = NULL;
            }
        }
        else
        if (!strcmp(kind, "exec")) {
            if (http || noop)
                rc = s_fail(&c, "a %s field in an exec task", http ? "http" : "noop");
            else {
                spec->exec = exec ? exec : s_exec(&exec);
                spec->kind_case = SHOAL__TASK_SPEC__KIND_EXEC;
                exec = NULL;
            }
        }
        else
        if (!strcmp(kind, "noop")) {
            if (http || exec)
                rc = s_fail(&c, "a %s field in a noop task", http ? "http" : "exec");
            else {
                spec->noop = noop ? noop : s_noop(&noop);
                spec->kind_case = SHOAL__TASK_SPEC__KIND_NOOP;
                noop = NULL;
            }
        }
        else
        if (!strcmp(kind, "handler")) {
            if (http || exec || noop)
                rc = s_fail(&c, "a %s field in a handler task", http ? "http" : exec ? "exec" : "noop");
            else
            if (!handler || !handler->name)
                rc = s_fail(&c, "a handler task needs 'handler' (the worker's --handler NAME)");
            else {
                spec->handler = handler;
                spec->kind_case = SHOAL__TASK_SPEC__KIND_HANDLER;
                handler = NULL;
            }
        }
        else
            rc = s_fail(&c, "unknown kind '%.20s' (http, exec, noop or handler)", kind);
    }
    if (handler)
        shoal__handler_spec__free_unpacked(handler, NULL);
    if (http)
        shoal__http_spec__free_unpacked(http, NULL);
    if (exec)
        shoal__exec_spec__free_unpacked(exec, NULL);
    if (noop)
        shoal__noop_spec__free_unpacked(noop, NULL);
    if (!rc && taskspec_validate(spec, err, errlen))
        rc = -1;
    if (rc) {
        shoal__task_spec__free_unpacked(spec, NULL);
        return NULL;
    }
    return spec;
}

Shoal__JobDefaults *
input_defaults_from_json(json_t *obj, char *err, size_t errlen)
{
    ctx_t c = { false, err, errlen };
    Shoal__JobDefaults *d = calloc(1, sizeof *d);
    if (!d) {
        s_fail(&c, "out of memory");
        return NULL;
    }
    shoal__job_defaults__init(d);
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(obj, key, v) {
        bool handled = true;
        if (!strcmp(key, "timeout_ms"))
            rc = s_u32(&c, key, v, UINT32_MAX, &d->has_timeout_ms, &d->timeout_ms);
        else
        if (!strcmp(key, "require"))
            rc = s_require(&c, key, v, &d->require, &d->n_require);
        else
        if (!strcmp(key, "max_per_host") || !strcmp(key, "rate_per_host")) {
            if (!d->hosts) {
                d->hosts = calloc(1, sizeof *d->hosts);
                if (!d->hosts) {
                    rc = s_fail(&c, "out of memory");
                    break;
                }
                shoal__host_limits__init(d->hosts);
            }
            if (!strcmp(key, "max_per_host"))
                rc = s_u32(&c, key, v, 100000, &d->hosts->has_max_per_host, &d->hosts->max_per_host);
            else
            if (!json_is_number(v))
                rc = s_fail(&c, "field 'rate_per_host' must be a number");
            else {
                d->hosts->has_rate_per_host = 1;
                d->hosts->rate_per_host = json_number_value(v);
            }
        }
        else {
            rc = s_retry_field(&c, &d->retry, key, v, &handled);
            if (!rc && !handled)
                rc = s_http_field(&c, &d->http, key, v, &handled);
            if (!rc && !handled)
                rc = s_exec_field(&c, &d->exec, key, v, &handled);
            if (!rc && !handled)
                rc = s_fail(&c, "unknown default '%s'", key);
        }
        if (rc)
            break;
    }
    if (!rc && taskspec_validate_defaults(d, err, errlen))
        rc = -1;
    if (rc) {
        shoal__job_defaults__free_unpacked(d, NULL);
        return NULL;
    }
    return d;
}
