/*  lifecycle — PATCH /v1/jobs/{id} (shoal update) and DELETE /v1/jobs/{id}
    (shoal delete): one request to the broker each, answered as the CLI's
    -o json prints them. docs/api.md. */
#include "gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "input.h"
#include "report.h"
#include "wire.h"

//  The fields PATCH takes: shoal update's flags, by their JSON names.
static const char *const s_patch_fields[] = {
    "headers", "timeout_ms", "connect_timeout_ms", "max_attempts", "backoff_ms", "backoff_max_ms",
    "retry_status", "max_per_host", "rate_per_host", "priority", NULL
};

//  The body being read.
typedef struct {
    uint32_t job_id;
    char    *buf;           //  the body so far (owned)
    size_t   len;
    bool     too_big;
} patch_t;

static void
s_free(void *state)
{
    patch_t *p = state;
    if (p)
        free(p->buf);
    free(p);
}

//  The body as a JobUpdate; NULL with the field named in err (400).
static Shoal__JobDefaults *
s_parse(json_t *doc, uint32_t *priority, char *err, size_t errlen)
{
    if (!json_is_object(doc)) {
        snprintf(err, errlen, "the body must be a JSON object of the fields to change (%s)", "e.g."
                 " {\"headers\": {\"Cookie\": \"session=fresh\"}, \"timeout_ms\": 5000}");
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v) {
        size_t i = 0;
        while (s_patch_fields[i] && strcmp(s_patch_fields[i], key))
            i++;
        if (!s_patch_fields[i]) {
            snprintf(err, errlen, "unknown field '%.100s' (PATCH takes headers, timeout_ms,"
                     " connect_timeout_ms, max_attempts, backoff_ms, backoff_max_ms, retry_status,"
                     " max_per_host, rate_per_host, priority)", key);
            return NULL;
        }
    }
    json_t *prio = json_object_get(doc, "priority");
    *priority = 0;
    if (prio) {
        json_int_t p = json_is_integer(prio) ? json_integer_value(prio) : -1;
        if (p < 1 || p > 1000) {
            snprintf(err, errlen, "field 'priority' must be an integer 1..1000");
            return NULL;
        }
        *priority = (uint32_t) p;
    }
    json_t *rest = json_copy(doc);
    json_object_del(rest, "priority");
    char inner[512];
    Shoal__JobDefaults *d = rest ? input_defaults_from_json(rest, inner, sizeof inner) : NULL;
    json_decref(rest);
    if (!d)
        snprintf(err, errlen, "%s", rest ? inner : "out of memory");
    else
    if (shoal__job_defaults__get_packed_size(d) == 0 && !*priority) {
        snprintf(err, errlen, "nothing to change: name at least one field");
        shoal__job_defaults__free_unpacked(d, NULL);
        return NULL;
    }
    return d;
}

//  The whole body is in: send the update, answer with the job.
static void
s_patch(req_t *req, patch_t *p)
{
    json_error_t jerr;
    json_t *doc = json_loadb(p->buf ? p->buf : "", p->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        gw_respond_error(req, 400, "the body is not JSON: %s (line %d)", jerr.text, jerr.line);
        return;
    }
    char err[1024];
    uint32_t priority = 0;
    Shoal__JobDefaults *d = s_parse(doc, &priority, err, sizeof err);
    json_decref(doc);
    if (!d) {
        gw_respond_error(req, 400, "%s", err);
        return;
    }
    Shoal__JobUpdate up = SHOAL__JOB_UPDATE__INIT;
    up.has_job_id = 1;
    up.job_id = p->job_id;
    up.defaults = shoal__job_defaults__get_packed_size(d) ? d : NULL;
    up.has_priority = priority > 0;
    up.priority = priority;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_JOB_UPDATE;
    env.job_update = &up;
    Shoal__Envelope *reply = gw_call(req, &env, SHOAL__ENVELOPE__BODY_CONTROL_REPLY);
    shoal__job_defaults__free_unpacked(d, NULL);
    if (!reply)
        return;
    const Shoal__ControlReply *cr = reply->control_reply;
    json_t *o = cr->job && cr->job->has_id ? report_job_json(cr->job) : json_object();
    json_object_set_new(o, "id", json_integer(p->job_id));
    json_object_set_new(o, "action", json_string("update"));
    wire_free(reply);
    gw_respond_json(req, 200, o);
}

static int
s_patch_body(req_t *req, const char *data, size_t size, bool end)
{
    patch_t *p = req->state;
    size_t max = (size_t) req->gw->cfg.max_body;
    if (p->too_big || p->len + size > max) {
        p->too_big = true;
        if (!req->responded)
            gw_respond_error(req, 413, "the JSON body is over %zu bytes (--max-body)", max);
        return -1;
    }
    if (size) {
        char *grown = realloc(p->buf, p->len + size + 1);
        if (!grown) {
            gw_respond_error(req, 500, "out of memory");
            return -1;
        }
        p->buf = grown;
        memcpy(p->buf + p->len, data, size);
        p->len += size;
    }
    if (end)
        s_patch(req, p);
    return end ? -1 : 0;
}

enum MHD_Result
lifecycle_patch_start(req_t *req, uint32_t job_id)
{
    const char *type = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Type");
    if (type && strncasecmp(type, "application/json", 16) && strncasecmp(type, "application/merge-patch+json", 28))
        return gw_respond_error(req, 415, "Content-Type must be application/json (got '%s')", type);
    patch_t *p = calloc(1, sizeof *p);
    if (!p)
        return MHD_NO;
    p->job_id = job_id;
    req->state = p;
    req->free_state = s_free;
    req->on_body = s_patch_body;
    return MHD_YES;
}

enum MHD_Result
lifecycle_delete(req_t *req, uint32_t job_id)
{
    const char *cancel = gw_query(req, "cancel");
    if (cancel && strcmp(cancel, "1") && strcmp(cancel, "true") && strcmp(cancel, "0") && strcmp(cancel, "false"))
        return gw_respond_error(req, 400, "cancel must be 1 or 0 (got '%.40s')", cancel);
    Shoal__JobDelete jd = SHOAL__JOB_DELETE__INIT;
    jd.has_job_id = jd.has_cancel = 1;
    jd.job_id = job_id;
    jd.cancel = cancel && (!strcmp(cancel, "1") || !strcmp(cancel, "true"));
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_JOB_DELETE;
    env.job_delete = &jd;
    Shoal__Envelope *reply = gw_call(req, &env, SHOAL__ENVELOPE__BODY_JOB_DELETED);
    if (!reply)
        return MHD_YES;
    const Shoal__JobDeleted *d = reply->job_deleted;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(d->job_id));
    json_object_set_new(o, "action", json_string("delete"));
    json_object_set_new(o, "name", json_string(d->name ? d->name : ""));
    json_object_set_new(o, "state", json_string(report_state_name(d->state)));
    json_object_set_new(o, "cancelled", json_boolean(d->cancelled));
    json_object_set_new(o, "tasks", json_integer((json_int_t) d->tasks));
    json_object_set_new(o, "results", json_integer((json_int_t) d->results));
    json_object_set_new(o, "attempts", json_integer((json_int_t) d->attempts));
    json_object_set_new(o, "updates", json_integer((json_int_t) d->updates));
    json_object_set_new(o, "batches", json_integer(d->batches));
    json_object_set_new(o, "longest_batch_ms", json_integer(d->longest_ms));
    wire_free(reply);
    return gw_respond_json(req, 200, o);
}
