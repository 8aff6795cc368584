/*  input_json — JSON objects to task specs and job defaults.

    The field names are the protocol's (proto/shoal.proto), flat: a JSONL
    line for an HTTP task is {"url": "https://...", "method": "POST",
    "headers": {"Accept": "text/html"}}. Unknown fields are errors, so a
    typo never silently becomes a default. The value parsers are
    input_fields.c; this file maps the fields of each task kind. */
#include "input.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "input_fields.h"
#include "taskspec.h"

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
        return jf_fail(c, "out of memory");
    if (!strcmp(key, "max_attempts"))
        return jf_u32(c, key, v, 1000, &r->has_max_attempts, &r->max_attempts);
    if (!strcmp(key, "backoff_ms"))
        return jf_u32(c, key, v, UINT32_MAX, &r->has_backoff_ms, &r->backoff_ms);
    if (!strcmp(key, "backoff_max_ms"))
        return jf_u32(c, key, v, UINT32_MAX, &r->has_backoff_max_ms, &r->backoff_max_ms);
    if (!strcmp(key, "retry_after_max_ms"))
        return jf_u32(c, key, v, UINT32_MAX, &r->has_retry_after_max_ms, &r->retry_after_max_ms);
    if (!strcmp(key, "jitter_pct"))
        return jf_u32(c, key, v, 100, &r->has_jitter_pct, &r->jitter_pct);
    if (!strcmp(key, "retry_status")) {
        if (!json_is_array(v))
            return jf_fail(c, "field 'retry_status' must be an array of HTTP statuses");
        size_t n = json_array_size(v);
        free(r->retry_status);
        r->retry_status = calloc(n ? n : 1, sizeof(uint32_t));
        if (!r->retry_status)
            return jf_fail(c, "out of memory");
        for (size_t i = 0; i < n; i++) {
            uint64_t st;
            if (jf_uint(c, "retry_status", json_array_get(v, i), 599, &st))
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
        return jf_fail(c, "out of memory");
    if (!strcmp(key, "method")) {
        if (jf_string(c, key, v, &h->method))
            return -1;
        for (char *p = h->method; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char) (*p - 'a' + 'A');
        return 0;
    }
    if (!strcmp(key, "url"))        return jf_string(c, key, v, &h->url);
    if (!strcmp(key, "headers")) {
        for (size_t i = 0; i < h->n_headers; i++)
            shoal__header__free_unpacked(h->headers[i], NULL);
        free(h->headers);
        h->headers = NULL;
        h->n_headers = 0;
        return jf_headers(c, v, &h->headers, &h->n_headers);
    }
    if (!strcmp(key, "body"))       return jf_bytes(c, key, v, false, &h->has_body, &h->body);
    if (!strcmp(key, "body_b64"))   return jf_bytes(c, key, v, true, &h->has_body, &h->body);
    if (!strcmp(key, "body_file"))  return jf_string(c, key, v, &h->body_file);
    if (!strcmp(key, "form"))       return jf_form(c, v, &h->form, &h->n_form);
    if (!strcmp(key, "cookies"))    return jf_string(c, key, v, &h->cookies);
    if (!strcmp(key, "proxy"))      return jf_string(c, key, v, &h->proxy);
    if (!strcmp(key, "connect_timeout_ms"))
        return jf_u32(c, key, v, UINT32_MAX, &h->has_connect_timeout_ms, &h->connect_timeout_ms);
    if (!strcmp(key, "follow_redirects"))
        return jf_bool(c, key, v, &h->has_follow_redirects, &h->follow_redirects);
    if (!strcmp(key, "max_redirects"))
        return jf_u32(c, key, v, 100, &h->has_max_redirects, &h->max_redirects);
    if (!strcmp(key, "insecure"))
        return jf_bool(c, key, v, &h->has_insecure, &h->insecure);
    if (!strcmp(key, "max_response_bytes")) {
        uint64_t x;
        if (jf_uint(c, key, v, UINT64_MAX >> 1, &x))
            return -1;
        h->has_max_response_bytes = 1;
        h->max_response_bytes = x;
        return 0;
    }
    if (!strcmp(key, "store"))      return jf_store(c, v, &h->has_store, &h->store);
    if (!strcmp(key, "inline_limit"))
        return jf_u32(c, key, v, 16u << 20, &h->has_inline_limit, &h->inline_limit);
    if (!strcmp(key, "s3_bucket"))  return jf_string(c, key, v, &h->s3_bucket);
    if (!strcmp(key, "s3_key"))     return jf_string(c, key, v, &h->s3_key);
    if (!strcmp(key, "s3_content_type")) return jf_string(c, key, v, &h->s3_content_type);
    if (!strcmp(key, "upload_s3"))  return jf_string(c, key, v, &h->upload_s3);
    if (!strcmp(key, "upload_s3_delete"))
        return jf_bool(c, key, v, &h->has_upload_s3_delete, &h->upload_s3_delete);
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
        return jf_fail(c, "out of memory");
    if (!strcmp(key, "argv"))       return jf_string_list(c, key, v, &x->argv, &x->n_argv);
    if (!strcmp(key, "stdin"))      return jf_bytes(c, key, v, false, &x->has_stdin, &x->stdin);
    if (!strcmp(key, "stdin_b64"))  return jf_bytes(c, key, v, true, &x->has_stdin, &x->stdin);
    if (!strcmp(key, "env"))        return jf_env(c, v, &x->env, &x->n_env);
    if (!strcmp(key, "cwd"))        return jf_string(c, key, v, &x->cwd);
    return jf_u32(c, key, v, TASKSPEC_MAX_TAIL, &x->has_tail_bytes, &x->tail_bytes);
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
        return jf_fail(c, "out of memory");
    if (!strcmp(key, "sleep_ms"))
        return jf_u32(c, key, v, UINT32_MAX, &n->has_sleep_ms, &n->sleep_ms);
    if (!strcmp(key, "fail_until_attempt"))
        return jf_u32(c, key, v, 1000, &n->has_fail_until_attempt, &n->fail_until_attempt);
    return jf_bool(c, key, v, &n->has_crash, &n->crash);
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
        return jf_fail(c, "out of memory");
    if (!strcmp(key, "handler"))
        return jf_string(c, key, v, &h->name);
    if (!strcmp(key, "vars") && !json_is_object(v))
        return jf_fail(c, "field 'vars' must be an object");
    char **out = !strcmp(key, "payload") ? &h->payload : &h->vars;
    free(*out);
    *out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    return *out ? 0 : jf_fail(c, "out of memory");
}

Shoal__TaskSpec *
input_task_from_json(json_t *obj, bool from_text, char *err, size_t errlen)
{
    ctx_t c = { from_text, err, errlen };
    if (!json_is_object(obj)) {
        jf_fail(&c, "a task must be a JSON object");
        return NULL;
    }
    Shoal__TaskSpec *spec = calloc(1, sizeof *spec);
    if (!spec) {
        jf_fail(&c, "out of memory");
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
                rc = jf_fail(&c, "field 'kind' must be \"http\", \"exec\", \"noop\" or \"handler\"");
                break;
            }
            kind = json_string_value(v);
            continue;
        }
        if (!strcmp(key, "timeout_ms"))
            rc = jf_u32(&c, key, v, UINT32_MAX, &spec->has_timeout_ms, &spec->timeout_ms);
        else
        if (!strcmp(key, "tag"))
            rc = jf_string(&c, key, v, &spec->tag);
        else
        if (!strcmp(key, "require"))
            rc = jf_require(&c, key, v, &spec->require, &spec->n_require);
        else
        if (!strcmp(key, "retry")) {
            if (!json_is_object(v)) {
                rc = jf_fail(&c, "field 'retry' must be an object");
                break;
            }
            const char *rk;
            json_t *rv;
            json_object_foreach(v, rk, rv) {
                rc = s_retry_field(&c, &spec->retry, rk, rv, &handled);
                if (!rc && !handled)
                    rc = jf_fail(&c, "unknown field 'retry.%s'", rk);
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
                rc = jf_fail(&c, "unknown field '%s'", key);
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
            rc = jf_fail(&c, "missing 'url' (or 'argv' for exec, 'handler' for a handler, or \"kind\": \"noop\")");
        else
        if (fields > 1)
            rc = jf_fail(&c, "fields of different task kinds mixed in one task");
        else
        if (!strcmp(kind, "http")) {
            if (exec || noop)
                rc = jf_fail(&c, "a %s field in an http task", exec ? "exec" : "noop");
            else {
                spec->http = http ? http : s_http(&http);
                spec->kind_case = SHOAL__TASK_SPEC__KIND_HTTP;
                http = NULL;
            }
        }
        else
        if (!strcmp(kind, "exec")) {
            if (http || noop)
                rc = jf_fail(&c, "a %s field in an exec task", http ? "http" : "noop");
            else {
                spec->exec = exec ? exec : s_exec(&exec);
                spec->kind_case = SHOAL__TASK_SPEC__KIND_EXEC;
                exec = NULL;
            }
        }
        else
        if (!strcmp(kind, "noop")) {
            if (http || exec)
                rc = jf_fail(&c, "a %s field in a noop task", http ? "http" : "exec");
            else {
                spec->noop = noop ? noop : s_noop(&noop);
                spec->kind_case = SHOAL__TASK_SPEC__KIND_NOOP;
                noop = NULL;
            }
        }
        else
        if (!strcmp(kind, "handler")) {
            if (http || exec || noop)
                rc = jf_fail(&c, "a %s field in a handler task", http ? "http" : exec ? "exec" : "noop");
            else
            if (!handler || !handler->name)
                rc = jf_fail(&c, "a handler task needs 'handler' (the worker's --handler NAME)");
            else {
                spec->handler = handler;
                spec->kind_case = SHOAL__TASK_SPEC__KIND_HANDLER;
                handler = NULL;
            }
        }
        else
            rc = jf_fail(&c, "unknown kind '%.20s' (http, exec, noop or handler)", kind);
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
        jf_fail(&c, "out of memory");
        return NULL;
    }
    shoal__job_defaults__init(d);
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(obj, key, v) {
        bool handled = true;
        if (!strcmp(key, "timeout_ms"))
            rc = jf_u32(&c, key, v, UINT32_MAX, &d->has_timeout_ms, &d->timeout_ms);
        else
        if (!strcmp(key, "require"))
            rc = jf_require(&c, key, v, &d->require, &d->n_require);
        else
        if (!strcmp(key, "max_per_host") || !strcmp(key, "rate_per_host")) {
            if (!d->hosts) {
                d->hosts = calloc(1, sizeof *d->hosts);
                if (!d->hosts) {
                    rc = jf_fail(&c, "out of memory");
                    break;
                }
                shoal__host_limits__init(d->hosts);
            }
            if (!strcmp(key, "max_per_host"))
                rc = jf_u32(&c, key, v, 100000, &d->hosts->has_max_per_host, &d->hosts->max_per_host);
            else
            if (!json_is_number(v))
                rc = jf_fail(&c, "field 'rate_per_host' must be a number");
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
                rc = jf_fail(&c, "unknown default '%s'", key);
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
