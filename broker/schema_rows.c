/*  schema_rows — the binary COPY rows of the tasks, results and attempts
    tables, in the column order schema.c creates them in. Untrusted text is
    sanitised here (valid UTF-8, no control bytes) and cut to its column's
    limit. See schema_rows.h. */
#include "schema_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "taskspec.h"
#include "text.h"

//  Sanitized copy of untrusted text, or NULL.
static char *
s_clean(const char *s, size_t max)
{
    return s ? text_sanitize(s, strlen(s), max) : NULL;
}

static const char *
s_header(const Shoal__HttpResult *h, const char *name)
{
    for (size_t i = 0; h && i < h->n_headers; i++)
        if (h->headers[i]->name && strcasecmp(h->headers[i]->name, name) == 0)
            return h->headers[i]->value;
    return NULL;
}

//  Append s as a JSON string (quotes and escapes) to buf at *o.
static void
s_json_string(char *buf, size_t *o, const char *s)
{
    buf[(*o)++] = '"';
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            buf[(*o)++] = '\\';
            buf[(*o)++] = (char) *p;
        }
        else
        if (*p < 0x20) {
            *o += (size_t) sprintf(buf + *o, "\\u%04x", *p);
        }
        else
            buf[(*o)++] = (char) *p;
    }
    buf[(*o)++] = '"';
}

//  The selected response headers as a JSON object {"name": "value"} with
//  lower-case names (sanitized text). Caller frees.
static char *
s_headers_json(const Shoal__HttpResult *h)
{
    size_t cap = 3;
    for (size_t i = 0; i < h->n_headers; i++)
        cap += 6 * (strlen(h->headers[i]->name) + strlen(h->headers[i]->value ? h->headers[i]->value : "")) + 8;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t o = 0;
    out[o++] = '{';
    for (size_t i = 0; i < h->n_headers; i++) {
        char *name = s_clean(h->headers[i]->name, 256);
        char *value = s_clean(h->headers[i]->value ? h->headers[i]->value : "", 8192);
        if (name && value) {
            for (char *p = name; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char) (*p - 'A' + 'a');
            if (o > 1)
                out[o++] = ',';
            s_json_string(out, &o, name);
            out[o++] = ':';
            s_json_string(out, &o, value);
        }
        free(name);
        free(value);
    }
    out[o++] = '}';
    out[o] = 0;
    return out;
}

void
schema_rows_result(pgbuf_t *b, uint32_t job_id, uint32_t seq, const char *outcome, uint32_t attempt,
             const char *worker, const char *error, const Shoal__Result *r)
{
    pgcopy_row(b, 30);
    pgcopy_int4(b, (int32_t) job_id);
    pgcopy_int4(b, (int32_t) seq);
    pgcopy_cstr(b, outcome);
    pgcopy_int4(b, (int32_t) attempt);
    char *w = s_clean(worker, 256);
    pgcopy_cstr(b, w);
    free(w);
    char *e = s_clean(error, SCHEMA_ROWS_MAX_ERROR);
    pgcopy_cstr(b, e);
    free(e);
    int64_t started = r && r->has_started_us ? r->started_us : 0;
    int64_t finished = r && r->has_finished_us ? r->finished_us : clock_wall_us();
    pgcopy_timestamptz(b, started);
    pgcopy_timestamptz(b, finished);
    if (started && finished >= started)
        pgcopy_float8(b, (double) (finished - started) / 1000.0);
    else
        pgcopy_null(b);
    const Shoal__HttpResult *h = r ? r->http : NULL;
    if (h) {
        if (h->has_status && h->status) pgcopy_int4(b, (int32_t) h->status); else pgcopy_null(b);
        char *url = s_clean(h->final_url, 65536);
        pgcopy_cstr(b, url);
        free(url);
        char *ctype = s_clean(h->content_type ? h->content_type : s_header(h, "content-type"), 1024);
        pgcopy_cstr(b, ctype);
        free(ctype);
        if (h->n_headers) {
            char *json = s_headers_json(h);
            pgcopy_jsonb(b, json);
            free(json);
        }
        else
            pgcopy_null(b);
        if (h->has_bytes) pgcopy_int8(b, (int64_t) h->bytes); else pgcopy_null(b);
        char *sha = s_clean(h->sha256, 64);
        pgcopy_cstr(b, sha);
        free(sha);
        if (h->has_body) pgcopy_bytea(b, h->body.data, h->body.len); else pgcopy_null(b);
        char *path = s_clean(h->body_path, 4096);
        pgcopy_cstr(b, path);
        free(path);
        if (h->has_truncated) pgcopy_bool(b, h->truncated); else pgcopy_null(b);
        const protobuf_c_boolean has[] = { h->has_dns_us, h->has_connect_us, h->has_tls_us,
                                           h->has_ttfb_us, h->has_total_us };
        const uint64_t us[] = { h->dns_us, h->connect_us, h->tls_us, h->ttfb_us, h->total_us };
        for (int i = 0; i < 5; i++)
            if (has[i]) pgcopy_float8(b, (double) us[i] / 1000.0); else pgcopy_null(b);
    }
    else
        for (int i = 0; i < 14; i++)
            pgcopy_null(b);
    const Shoal__ExecResult *x = r ? r->exec : NULL;
    if (x) {
        if (x->has_exit_code) pgcopy_int4(b, x->exit_code); else pgcopy_null(b);
        if (x->has_signal && x->signal) pgcopy_int4(b, x->signal); else pgcopy_null(b);
        char *out = x->has_stdout_tail
                  ? text_sanitize_tail((const char *) x->stdout_tail.data, x->stdout_tail.len, TASKSPEC_MAX_TAIL) : NULL;
        char *err = x->has_stderr_tail
                  ? text_sanitize_tail((const char *) x->stderr_tail.data, x->stderr_tail.len, TASKSPEC_MAX_TAIL) : NULL;
        pgcopy_cstr(b, out);
        pgcopy_cstr(b, err);
        free(out);
        free(err);
    }
    else
        for (int i = 0; i < 4; i++)
            pgcopy_null(b);
    char *url = h ? s_clean(h->body_url, 4096) : NULL;
    pgcopy_cstr(b, url);
    free(url);
    //  pipelines: every variable known after this step
    if (r && r->vars && !strcmp(outcome, "ok"))
        pgcopy_jsonb(b, r->vars);
    else
        pgcopy_null(b);
    //  a handler's output, validated as JSON of at most TASKSPEC_MAX_OUTPUT bytes when it arrived
    const Shoal__HandlerResult *hr = r ? r->handler : NULL;
    if (hr && hr->output)
        pgcopy_jsonb(b, hr->output);
    else
        pgcopy_null(b);
}

void
schema_rows_attempt(pgbuf_t *b, uint32_t job_id, uint32_t seq, uint32_t attempt, const char *worker,
              const char *outcome, const char *error, uint32_t http_status, int64_t started_us,
              int64_t finished_us, int64_t retry_at_us, bool counted)
{
    pgcopy_row(b, 11);
    pgcopy_int4(b, (int32_t) job_id);
    pgcopy_int4(b, (int32_t) seq);
    pgcopy_int4(b, (int32_t) attempt);
    char *w = s_clean(worker, 256);
    pgcopy_cstr(b, w);
    free(w);
    pgcopy_cstr(b, outcome);
    char *e = s_clean(error, SCHEMA_ROWS_MAX_ERROR);
    pgcopy_cstr(b, e);
    free(e);
    if (http_status) pgcopy_int4(b, (int32_t) http_status); else pgcopy_null(b);
    pgcopy_timestamptz(b, started_us);
    pgcopy_timestamptz(b, finished_us);
    pgcopy_timestamptz(b, retry_at_us);
    pgcopy_bool(b, counted);
}

void
schema_rows_task(pgbuf_t *b, uint32_t job_id, uint32_t seq, const char *kind, const char *target,
                 const uint8_t *spec, size_t spec_len, const char *pipeline)
{
    //  the target was cut to a buffer and may end inside a UTF-8 sequence
    char *clean_target = s_clean(target, 2048);
    pgcopy_row(b, 6);
    pgcopy_int4(b, (int32_t) job_id);
    pgcopy_int4(b, (int32_t) seq);
    pgcopy_cstr(b, kind);
    pgcopy_cstr(b, clean_target ? clean_target : "");
    pgcopy_bytea(b, spec, spec_len);
    pgcopy_jsonb(b, pipeline);
    free(clean_target);
}
