/*  taskspec — see taskspec.h. */
#include "taskspec.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "errbuf.h"
#include "text.h"

//  A C string field: valid UTF-8, at most max bytes.
static int
s_check_text(const char *field, const char *value, size_t max, char *err, size_t errlen)
{
    if (!value)
        return 0;
    size_t n = strlen(value);
    if (n > max)
        return errbuf_set(err, errlen, "%s: too long (%zu bytes, limit %zu)", field, n, max);
    if (!text_utf8_valid(value, n))
        return errbuf_set(err, errlen, "%s: not valid UTF-8", field);
    return 0;
}

static bool
s_is_token(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;
        if (c <= 32 || c >= 127 || strchr("()<>@,;:\\\"/[]?={}", c))
            return false;
    }
    return true;
}

int
taskspec_validate_url(const char *url, char *err, size_t errlen)
{
    if (!url || !*url)
        return errbuf_set(err, errlen, "http.url: missing");
    size_t n = strlen(url);
    if (n > TASKSPEC_MAX_URL)
        return errbuf_set(err, errlen, "http.url: too long (%zu bytes, limit %d)", n, TASKSPEC_MAX_URL);
    const char *rest;
    if (strncasecmp(url, "http://", 7) == 0)
        rest = url + 7;
    else
    if (strncasecmp(url, "https://", 8) == 0)
        rest = url + 8;
    else {
        const char *colon = strstr(url, "://");
        if (colon)
            return errbuf_set(err, errlen, "http.url: scheme must be http or https (got '%.*s')",
                          (int) (colon - url > 16 ? 16 : colon - url), url);
        return errbuf_set(err, errlen, "http.url: must start with http:// or https:// (got '%.40s')", url);
    }
    for (const char *p = url; *p; p++)
        if ((unsigned char) *p <= 32 || *p == 127)
            return errbuf_set(err, errlen, "http.url: contains a space or control character at offset %zu",
                          (size_t) (p - url));
    char host[256];
    taskspec_url_host(url, host, sizeof host);
    if (!host[0] || host[0] == ':')
        return errbuf_set(err, errlen, "http.url: no host in '%.60s'", url);
    (void) rest;
    return 0;
}

void
taskspec_url_host(const char *url, char *buf, size_t size)
{
    buf[0] = 0;
    if (!url)
        return;
    const char *p = strstr(url, "://");
    if (!p)
        return;
    p += 3;
    const char *end = p + strcspn(p, "/?#");
    const char *at = memchr(p, '@', (size_t) (end - p));
    if (at)
        p = at + 1;
    size_t n = (size_t) (end - p);
    if (n >= size)
        n = size - 1;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char) tolower((unsigned char) p[i]);
    buf[n] = 0;
}

static int
s_validate_retry(const Shoal__RetryPolicy *r, const char *where, char *err, size_t errlen)
{
    if (!r)
        return 0;
    if (r->has_max_attempts && (r->max_attempts < 1 || r->max_attempts > TASKSPEC_MAX_ATTEMPTS))
        return errbuf_set(err, errlen, "%s.max_attempts: must be 1..%d", where, TASKSPEC_MAX_ATTEMPTS);
    if (r->has_backoff_ms && r->backoff_ms > TASKSPEC_MAX_TIMEOUT_MS)
        return errbuf_set(err, errlen, "%s.backoff_ms: too large", where);
    if (r->has_backoff_max_ms && r->backoff_max_ms > TASKSPEC_MAX_TIMEOUT_MS)
        return errbuf_set(err, errlen, "%s.backoff_max_ms: too large", where);
    if (r->has_retry_after_max_ms && r->retry_after_max_ms > 86400000)
        return errbuf_set(err, errlen, "%s.retry_after_max_ms: at most 86400000 (a day)", where);
    if (r->has_jitter_pct && r->jitter_pct > 100)
        return errbuf_set(err, errlen, "%s.jitter_pct: must be 0..100", where);
    if (r->n_retry_status > 100)
        return errbuf_set(err, errlen, "%s.retry_status: at most 100 statuses", where);
    for (size_t i = 0; i < r->n_retry_status; i++)
        if (r->retry_status[i] < 100 || r->retry_status[i] > 599)
            return errbuf_set(err, errlen, "%s.retry_status: %u is not an HTTP status", where,
                          r->retry_status[i]);
    return 0;
}

//  Validate the S3 fields of an http spec (the bucket may come from the job).
static int
s_validate_s3(const Shoal__HttpSpec *h, char *err, size_t errlen)
{
    if (h->s3_bucket) {
        size_t n = strlen(h->s3_bucket);
        if (n < 1 || n > 255 || strspn(h->s3_bucket, "abcdefghijklmnopqrstuvwxyz"
                                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != n)
            return errbuf_set(err, errlen, "http.s3_bucket: '%.60s' is not a bucket name"
                              " (letters, digits, '.', '-', '_')", h->s3_bucket);
    }
    if (s_check_text("http.s3_key", h->s3_key, TASKSPEC_MAX_S3_KEY, err, errlen)
    ||  s_check_text("http.s3_content_type", h->s3_content_type, 256, err, errlen)
    ||  s_check_text("http.upload_s3", h->upload_s3, 4096, err, errlen))
        return -1;
    if (h->s3_key && (!*h->s3_key || strpbrk(h->s3_key, "\r\n\t")))
        return errbuf_set(err, errlen, "http.s3_key: empty or contains a control character");
    if (h->s3_content_type && strpbrk(h->s3_content_type, "\r\n"))
        return errbuf_set(err, errlen, "http.s3_content_type: contains a line break");
    if (h->upload_s3 && !*h->upload_s3)
        return errbuf_set(err, errlen, "http.upload_s3: empty path");
    if (h->upload_s3 && (h->url || h->has_body || h->body_file || h->n_form))
        return errbuf_set(err, errlen, "http.upload_s3: uploads a local file, so url, body,"
                          " body_file and form do not apply");
    if (h->has_upload_s3_delete && h->upload_s3_delete && !h->upload_s3)
        return errbuf_set(err, errlen, "http.upload_s3_delete: needs upload_s3");
    return 0;
}

//  Validate an http spec; `require_url` is false for job defaults.
static int
s_validate_http(const Shoal__HttpSpec *h, bool require_url, char *err, size_t errlen)
{
    if (h->upload_s3)
        require_url = false;
    if (h->url || require_url)
        if (taskspec_validate_url(h->url, err, errlen))
            return -1;
    if (h->method && !s_is_token(h->method))
        return errbuf_set(err, errlen, "http.method: '%.20s' is not a valid method", h->method);
    if (h->method && strlen(h->method) > 32)
        return errbuf_set(err, errlen, "http.method: too long");
    if (h->n_headers > TASKSPEC_MAX_HEADERS)
        return errbuf_set(err, errlen, "http.headers: at most %d headers", TASKSPEC_MAX_HEADERS);
    for (size_t i = 0; i < h->n_headers; i++) {
        const Shoal__Header *hd = h->headers[i];
        if (!s_is_token(hd->name))
            return errbuf_set(err, errlen, "http.headers[%zu]: bad header name '%.40s'", i,
                          hd->name ? hd->name : "");
        if (s_check_text("http.headers value", hd->value, TASKSPEC_MAX_HEADER, err, errlen))
            return -1;
        if (hd->value && strpbrk(hd->value, "\r\n"))
            return errbuf_set(err, errlen, "http.headers[%zu]: value of '%s' contains a line break",
                          i, hd->name);
    }
    if (h->has_body && h->body.len > TASKSPEC_MAX_BODY)
        return errbuf_set(err, errlen, "http.body: too large (%zu bytes, limit %u)", h->body.len,
                      TASKSPEC_MAX_BODY);
    if (s_check_text("http.body_file", h->body_file, 4096, err, errlen))
        return -1;
    if (h->has_body && h->body_file)
        return errbuf_set(err, errlen, "http: body and body_file are exclusive");
    if (h->n_form > TASKSPEC_MAX_FORM)
        return errbuf_set(err, errlen, "http.form: at most %d fields", TASKSPEC_MAX_FORM);
    if (h->n_form && (h->has_body || h->body_file))
        return errbuf_set(err, errlen, "http: form cannot be combined with body or body_file");
    for (size_t i = 0; i < h->n_form; i++) {
        const Shoal__FormField *f = h->form[i];
        if (!f->name || !*f->name)
            return errbuf_set(err, errlen, "http.form[%zu]: missing name", i);
        if ((f->value != NULL) == (f->file != NULL))
            return errbuf_set(err, errlen, "http.form[%zu] '%.40s': needs exactly one of value or file",
                          i, f->name);
        if (s_check_text("http.form name", f->name, 1024, err, errlen)
        ||  s_check_text("http.form value", f->value, TASKSPEC_MAX_BODY, err, errlen)
        ||  s_check_text("http.form file", f->file, 4096, err, errlen)
        ||  s_check_text("http.form filename", f->filename, 1024, err, errlen)
        ||  s_check_text("http.form content_type", f->content_type, 256, err, errlen))
            return -1;
    }
    if (s_check_text("http.cookies", h->cookies, TASKSPEC_MAX_HEADER, err, errlen)
    ||  s_check_text("http.proxy", h->proxy, 2048, err, errlen))
        return -1;
    if (h->cookies && strpbrk(h->cookies, "\r\n"))
        return errbuf_set(err, errlen, "http.cookies: contains a line break");
    if (h->has_connect_timeout_ms && h->connect_timeout_ms > TASKSPEC_MAX_TIMEOUT_MS)
        return errbuf_set(err, errlen, "http.connect_timeout_ms: too large");
    if (h->has_max_redirects && h->max_redirects > 100)
        return errbuf_set(err, errlen, "http.max_redirects: must be 0..100");
    if (h->has_store && (h->store < SHOAL__BODY_STORE__STORE_DEFAULT
                      || h->store > SHOAL__BODY_STORE__STORE_S3))
        return errbuf_set(err, errlen, "http.store: unknown value %d", (int) h->store);
    if (s_validate_s3(h, err, errlen))
        return -1;
    if (h->has_inline_limit && h->inline_limit > (16u << 20))
        return errbuf_set(err, errlen, "http.inline_limit: at most 16 MiB");
    return 0;
}

static int
s_validate_exec(const Shoal__ExecSpec *x, bool require_argv, char *err, size_t errlen)
{
    if (require_argv && x->n_argv == 0)
        return errbuf_set(err, errlen, "exec.argv: missing (needs at least the program)");
    if (x->n_argv > TASKSPEC_MAX_ARGV)
        return errbuf_set(err, errlen, "exec.argv: at most %d arguments", TASKSPEC_MAX_ARGV);
    for (size_t i = 0; i < x->n_argv; i++) {
        if (!x->argv[i] || (i == 0 && !*x->argv[i]))
            return errbuf_set(err, errlen, "exec.argv[%zu]: empty", i);
        if (s_check_text("exec.argv", x->argv[i], TASKSPEC_MAX_ARG, err, errlen))
            return -1;
    }
    if (x->has_stdin && x->stdin.len > TASKSPEC_MAX_STDIN)
        return errbuf_set(err, errlen, "exec.stdin: too large");
    if (x->n_env > TASKSPEC_MAX_ENV)
        return errbuf_set(err, errlen, "exec.env: at most %d variables", TASKSPEC_MAX_ENV);
    for (size_t i = 0; i < x->n_env; i++) {
        const char *e = x->env[i];
        if (!e || !strchr(e, '=') || e[0] == '=')
            return errbuf_set(err, errlen, "exec.env[%zu]: must be NAME=VALUE", i);
        if (s_check_text("exec.env", e, TASKSPEC_MAX_ARG, err, errlen))
            return -1;
    }
    if (s_check_text("exec.cwd", x->cwd, 4096, err, errlen))
        return -1;
    if (x->has_tail_bytes && x->tail_bytes > TASKSPEC_MAX_TAIL)
        return errbuf_set(err, errlen, "exec.tail_bytes: at most %u bytes (16 MiB)", TASKSPEC_MAX_TAIL);
    return 0;
}

int
taskspec_validate_json_text(const char *field, const char *text, bool object, size_t max, char *err, size_t errlen)
{
    if (!text)
        return 0;
    size_t n = strlen(text);
    if (n > max)
        return errbuf_set(err, errlen, "%s: too long (%zu bytes, limit %zu)", field, n, max);
    json_error_t jerr;
    json_t *v = json_loadb(text, n, JSON_DECODE_ANY, &jerr);
    if (!v)
        return errbuf_set(err, errlen, "%s: not JSON: %s (at character %d)", field, jerr.text, jerr.position);
    bool is_object = json_is_object(v);
    json_decref(v);
    if (object && !is_object)
        return errbuf_set(err, errlen, "%s: must be a JSON object", field);
    //  PostgreSQL's jsonb refuses the NUL character
    if (strstr(text, "\\u0000"))
        return errbuf_set(err, errlen, "%s: contains \\u0000, which PostgreSQL cannot store", field);
    return 0;
}

bool
taskspec_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n > 0 && n < 64
        && strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

int
taskspec_validate_labels(const char *field, Shoal__Label **labels, size_t n, char *err, size_t errlen)
{
    if (n > TASKSPEC_MAX_LABELS)
        return errbuf_set(err, errlen, "%s: %zu labels, limit %d", field, n, TASKSPEC_MAX_LABELS);
    for (size_t i = 0; i < n; i++) {
        if (!taskspec_name_valid(labels[i]->key))
            return errbuf_set(err, errlen, "%s[%zu]: key '%.64s' must be 1..63 letters, digits, _ . -", field, i,
                              labels[i]->key ? labels[i]->key : "");
        if (!labels[i]->value || strlen(labels[i]->value) > 255 || strpbrk(labels[i]->value, ",=")
        ||  s_check_text(field, labels[i]->value, 255, err, errlen))
            return errbuf_set(err, errlen, "%s.%s: value must be at most 255 bytes of text without ',' or '='",
                              field, labels[i]->key);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(labels[j]->key, labels[i]->key))
                return errbuf_set(err, errlen, "%s: key '%s' given twice", field, labels[i]->key);
    }
    return 0;
}

static int
s_validate_handler(const Shoal__HandlerSpec *h, char *err, size_t errlen)
{
    if (!taskspec_name_valid(h->name))
        return errbuf_set(err, errlen, "handler: name '%.64s' must be 1..63 letters, digits, _ . -",
                          h->name ? h->name : "");
    if (taskspec_validate_json_text("handler.payload", h->payload, false, TASKSPEC_MAX_BODY, err, errlen)
    ||  taskspec_validate_json_text("handler.vars", h->vars, true, TASKSPEC_MAX_OUTPUT, err, errlen))
        return -1;
    return 0;
}

int
taskspec_validate(const Shoal__TaskSpec *spec, char *err, size_t errlen)
{
    if (!spec)
        return errbuf_set(err, errlen, "task: missing");
    size_t packed = shoal__task_spec__get_packed_size(spec);
    if (packed > TASKSPEC_MAX_PACKED)
        return errbuf_set(err, errlen, "task: too large (%zu bytes encoded, limit %u)", packed, TASKSPEC_MAX_PACKED);
    if (spec->has_timeout_ms && (spec->timeout_ms == 0 || spec->timeout_ms > TASKSPEC_MAX_TIMEOUT_MS))
        return errbuf_set(err, errlen, "timeout_ms: must be 1..%u", TASKSPEC_MAX_TIMEOUT_MS);
    if (s_validate_retry(spec->retry, "retry", err, errlen))
        return -1;
    if (s_check_text("tag", spec->tag, TASKSPEC_MAX_TAG, err, errlen))
        return -1;
    if (spec->pipeline) {
        const Shoal__PipelineStep *ps = spec->pipeline;
        if (s_check_text("pipeline.vars", ps->vars, TASKSPEC_MAX_BODY, err, errlen)
        ||  s_check_text("pipeline.extract", ps->extract, 65536, err, errlen))
            return -1;
        if (ps->index >= 32)
            return errbuf_set(err, errlen, "pipeline.index: at most 31");
    }
    if (taskspec_validate_labels("require", spec->require, spec->n_require, err, errlen))
        return -1;
    switch (spec->kind_case) {
        case SHOAL__TASK_SPEC__KIND_NOOP:
            if (spec->noop->has_sleep_ms && spec->noop->sleep_ms > TASKSPEC_MAX_TIMEOUT_MS)
                return errbuf_set(err, errlen, "noop.sleep_ms: too large");
            if (spec->noop->has_payload && spec->noop->payload.len > (1u << 20))
                return errbuf_set(err, errlen, "noop.payload: at most 1 MiB");
            return 0;
        case SHOAL__TASK_SPEC__KIND_HTTP:
            return s_validate_http(spec->http, true, err, errlen);
        case SHOAL__TASK_SPEC__KIND_EXEC:
            return s_validate_exec(spec->exec, true, err, errlen);
        case SHOAL__TASK_SPEC__KIND_HANDLER:
            return s_validate_handler(spec->handler, err, errlen);
        default:
            return errbuf_set(err, errlen, "task: no kind (noop, http, exec or handler)");
    }
}

int
taskspec_validate_defaults(const Shoal__JobDefaults *d, char *err, size_t errlen)
{
    if (!d)
        return 0;
    size_t packed = shoal__job_defaults__get_packed_size(d);
    if (packed > TASKSPEC_MAX_PACKED)
        return errbuf_set(err, errlen, "defaults: too large (%zu bytes encoded, limit %u)", packed, TASKSPEC_MAX_PACKED);
    if (d->has_timeout_ms && (d->timeout_ms == 0 || d->timeout_ms > TASKSPEC_MAX_TIMEOUT_MS))
        return errbuf_set(err, errlen, "defaults.timeout_ms: must be 1..%u", TASKSPEC_MAX_TIMEOUT_MS);
    if (s_validate_retry(d->retry, "defaults.retry", err, errlen))
        return -1;
    if (d->http && s_validate_http(d->http, false, err, errlen))
        return -1;
    if (d->exec && s_validate_exec(d->exec, false, err, errlen))
        return -1;
    if (taskspec_validate_labels("defaults.require", d->require, d->n_require, err, errlen))
        return -1;
    if (d->hosts) {
        if (d->hosts->has_rate_per_host
        && (d->hosts->rate_per_host < 0 || d->hosts->rate_per_host > 1e6
            || d->hosts->rate_per_host != d->hosts->rate_per_host))
            return errbuf_set(err, errlen, "defaults.hosts.rate_per_host: must be 0..1000000");
        if (d->hosts->has_max_per_host && d->hosts->max_per_host > 100000)
            return errbuf_set(err, errlen, "defaults.hosts.max_per_host: must be 0..100000");
    }
    return 0;
}

Shoal__TaskKind
taskspec_kind(const Shoal__TaskSpec *spec)
{
    switch (spec->kind_case) {
        case SHOAL__TASK_SPEC__KIND_NOOP: return SHOAL__TASK_KIND__KIND_NOOP;
        case SHOAL__TASK_SPEC__KIND_HTTP: return SHOAL__TASK_KIND__KIND_HTTP;
        case SHOAL__TASK_SPEC__KIND_EXEC: return SHOAL__TASK_KIND__KIND_EXEC;
        case SHOAL__TASK_SPEC__KIND_HANDLER: return SHOAL__TASK_KIND__KIND_HANDLER;
        default: return SHOAL__TASK_KIND__KIND_NONE;
    }
}

const char *
taskspec_kind_name(Shoal__TaskKind kind)
{
    switch (kind) {
        case SHOAL__TASK_KIND__KIND_NOOP: return "noop";
        case SHOAL__TASK_KIND__KIND_HTTP: return "http";
        case SHOAL__TASK_KIND__KIND_EXEC: return "exec";
        case SHOAL__TASK_KIND__KIND_HANDLER: return "handler";
        default: return "none";
    }
}

Shoal__TaskKind
taskspec_kind_parse(const char *name)
{
    if (!strcmp(name, "noop")) return SHOAL__TASK_KIND__KIND_NOOP;
    if (!strcmp(name, "http")) return SHOAL__TASK_KIND__KIND_HTTP;
    if (!strcmp(name, "exec")) return SHOAL__TASK_KIND__KIND_EXEC;
    if (!strcmp(name, "handler")) return SHOAL__TASK_KIND__KIND_HANDLER;
    return SHOAL__TASK_KIND__KIND_NONE;
}

void
taskspec_target(const Shoal__TaskSpec *spec, char *buf, size_t size)
{
    buf[0] = 0;
    switch (spec->kind_case) {
        case SHOAL__TASK_SPEC__KIND_HTTP:
            if (spec->http->upload_s3) {
                snprintf(buf, size, "UPLOAD %s", spec->http->upload_s3);
                break;
            }
            snprintf(buf, size, "%s %s", spec->http->method ? spec->http->method
                     : (spec->http->has_body || spec->http->n_form || spec->http->body_file)
                     ? "POST" : "GET", spec->http->url ? spec->http->url : "");
            break;
        case SHOAL__TASK_SPEC__KIND_EXEC: {
            size_t n = 0;
            for (size_t i = 0; i < spec->exec->n_argv && n + 1 < size; i++) {
                int w = snprintf(buf + n, size - n, "%s%s", i ? " " : "", spec->exec->argv[i]);
                if (w < 0)
                    break;
                n += (size_t) w;
            }
            break;
        }
        case SHOAL__TASK_SPEC__KIND_NOOP:
            if (spec->noop->has_sleep_ms && spec->noop->sleep_ms)
                snprintf(buf, size, "noop sleep=%ums", spec->noop->sleep_ms);
            else
                snprintf(buf, size, "noop");
            break;
        case SHOAL__TASK_SPEC__KIND_HANDLER:
            snprintf(buf, size, "handler %s", spec->handler->name ? spec->handler->name : "");
            break;
        default:
            break;
    }
}

void
taskspec_host(const Shoal__TaskSpec *spec, char *buf, size_t size)
{
    if (spec->kind_case == SHOAL__TASK_SPEC__KIND_HTTP)
        taskspec_url_host(spec->http->url, buf, size);
    else
        buf[0] = 0;
}

uint32_t
taskspec_timeout_ms(const Shoal__TaskSpec *spec, const Shoal__JobDefaults *defaults)
{
    if (spec && spec->has_timeout_ms && spec->timeout_ms)
        return spec->timeout_ms;
    if (defaults && defaults->has_timeout_ms && defaults->timeout_ms)
        return defaults->timeout_ms;
    return TASKSPEC_DEFAULT_TIMEOUT_MS;
}

void
taskspec_retry_policy(const Shoal__TaskSpec *spec, const Shoal__JobDefaults *defaults,
                      retry_policy_t *p)
{
    const Shoal__RetryPolicy *t = spec ? spec->retry : NULL;
    const Shoal__RetryPolicy *j = defaults ? defaults->retry : NULL;
    p->max_attempts   = TASKSPEC_DEFAULT_ATTEMPTS;
    p->backoff_ms     = TASKSPEC_DEFAULT_BACKOFF_MS;
    p->backoff_max_ms = TASKSPEC_DEFAULT_BACKOFF_MAX_MS;
    p->jitter_pct     = TASKSPEC_DEFAULT_JITTER_PCT;
    p->retry_after_max_ms = 0;
    p->retry_status_count = 0;
    p->retry_status = NULL;
    const Shoal__RetryPolicy *layers[2] = { j, t };
    for (int i = 0; i < 2; i++) {
        const Shoal__RetryPolicy *r = layers[i];
        if (!r)
            continue;
        if (r->has_max_attempts)   p->max_attempts = r->max_attempts;
        if (r->has_backoff_ms)     p->backoff_ms = r->backoff_ms;
        if (r->has_backoff_max_ms) p->backoff_max_ms = r->backoff_max_ms;
        if (r->has_jitter_pct)     p->jitter_pct = r->jitter_pct;
        if (r->has_retry_after_max_ms) p->retry_after_max_ms = r->retry_after_max_ms;
        if (r->n_retry_status) {
            p->retry_status_count = r->n_retry_status;
            p->retry_status = r->retry_status;
        }
    }
    if (p->max_attempts < 1)
        p->max_attempts = 1;
}

uint32_t
taskspec_backoff_ms(const retry_policy_t *p, uint32_t next_attempt, double random01)
{
    if (next_attempt < 2)
        return 0;
    double delay = p->backoff_ms;
    for (uint32_t i = 2; i < next_attempt && delay < p->backoff_max_ms; i++)
        delay *= 2;
    if (delay > p->backoff_max_ms)
        delay = p->backoff_max_ms;
    double jitter = delay * p->jitter_pct / 100.0;
    delay += (random01 * 2 - 1) * jitter;
    if (delay > p->backoff_max_ms)
        delay = p->backoff_max_ms;
    if (delay < 0)
        delay = 0;
    return (uint32_t) delay;
}

bool
taskspec_status_retryable(const retry_policy_t *p, uint32_t status)
{
    if (p->retry_status_count == 0)
        return status == 429 || (status >= 500 && status <= 599);
    for (size_t i = 0; i < p->retry_status_count; i++)
        if (p->retry_status[i] == status)
            return true;
    return false;
}
