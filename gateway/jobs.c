/*  jobs — the routes that are one request to the broker: the job list, one
    job, job control, the workers and /healthz. The JSON is the CLI's
    (`shoal -o json jobs|status|workers`), from lib/report.c. */
#include "gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "wire.h"

#define MAX_LIST 10000
#define MAX_FILTER 100

enum MHD_Result
jobs_list(req_t *req)
{
    const char *limit_text = gw_query(req, "limit");
    long limit = 100;
    if (limit_text) {
        char *end;
        limit = strtol(limit_text, &end, 10);
        if (!*limit_text || *end || limit < 1 || limit > MAX_LIST)
            return gw_respond_error(req, 400, "limit must be 1..%d (got '%s')", MAX_LIST, limit_text);
    }
    Shoal__JobsRequest jr = SHOAL__JOBS_REQUEST__INIT;
    jr.has_limit = 1;
    jr.limit = (uint32_t) limit;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_JOBS_REQUEST;
    env.jobs_request = &jr;
    Shoal__Envelope *reply = gw_call(req, &env, SHOAL__ENVELOPE__BODY_JOBS_REPLY);
    if (!reply)
        return MHD_YES;
    json_t *arr = json_array();
    for (size_t i = 0; i < reply->jobs_reply->n_jobs; i++)
        json_array_append_new(arr, report_job_json(reply->jobs_reply->jobs[i]));
    wire_free(reply);
    return gw_respond_json(req, 200, arr);
}

enum MHD_Result
jobs_get(req_t *req, uint32_t job_id)
{
    Shoal__StatusRequest sr = SHOAL__STATUS_REQUEST__INIT;
    sr.has_job_id = 1;
    sr.job_id = job_id;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_STATUS_REQUEST;
    env.status_request = &sr;
    Shoal__Envelope *reply = gw_call(req, &env, SHOAL__ENVELOPE__BODY_STATUS_REPLY);
    if (!reply)
        return MHD_YES;
    if (!reply->status_reply->job) {
        wire_free(reply);
        return gw_respond_error(req, 502, "the broker's status reply has no job");
    }
    json_t *o = report_job_json(reply->status_reply->job);
    wire_free(reply);
    return gw_respond_json(req, 200, o);
}

//  "5xx,429,none" -> statuses and classes (0 = no response). -1 + err.
static int
s_parse_filter(const char *text, uint32_t *statuses, size_t *ns, uint32_t *classes, size_t *nc,
               char *err, size_t errlen)
{
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (*ns >= MAX_FILTER || *nc >= MAX_FILTER) {
            snprintf(err, errlen, "status: at most %d entries", MAX_FILTER);
            return -1;
        }
        if (len == 3 && p[0] >= '1' && p[0] <= '5' && (p[1] | 32) == 'x' && (p[2] | 32) == 'x')
            classes[(*nc)++] = (uint32_t) (p[0] - '0');
        else
        if (len == 4 && !strncmp(p, "none", 4))
            classes[(*nc)++] = 0;
        else {
            uint32_t v = 0;
            bool digits = len == 3;
            for (size_t i = 0; i < len; i++) {
                digits = digits && p[i] >= '0' && p[i] <= '9';
                v = v * 10 + (uint32_t) (p[i] - '0');
            }
            if (!digits || v < 100 || v > 599) {
                snprintf(err, errlen, "status: '%.*s' is not an HTTP status (100..599), a class (4xx, 5xx)"
                         " or 'none'", (int) (len > 20 ? 20 : len), p);
                return -1;
            }
            statuses[(*ns)++] = v;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

enum MHD_Result
jobs_control(req_t *req, uint32_t job_id, const char *action)
{
    Shoal__JobControl jc = SHOAL__JOB_CONTROL__INIT;
    jc.has_job_id = jc.has_action = 1;
    jc.job_id = job_id;
    jc.action = !strcmp(action, "pause") ? SHOAL__CONTROL_ACTION__CONTROL_PAUSE
              : !strcmp(action, "resume") ? SHOAL__CONTROL_ACTION__CONTROL_RESUME
              : !strcmp(action, "cancel") ? SHOAL__CONTROL_ACTION__CONTROL_CANCEL
              : SHOAL__CONTROL_ACTION__CONTROL_RETRY;
    uint32_t statuses[MAX_FILTER], classes[MAX_FILTER];
    size_t ns = 0, nc = 0;
    const char *filter = gw_query(req, "status");
    if (filter) {
        char err[256];
        if (jc.action != SHOAL__CONTROL_ACTION__CONTROL_RETRY)
            return gw_respond_error(req, 400, "status= filters only retry");
        if (s_parse_filter(filter, statuses, &ns, classes, &nc, err, sizeof err))
            return gw_respond_error(req, 400, "%s", err);
        jc.retry_status = statuses;
        jc.n_retry_status = ns;
        jc.retry_class = classes;
        jc.n_retry_class = nc;
    }
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_JOB_CONTROL;
    env.job_control = &jc;
    Shoal__Envelope *reply = gw_call(req, &env, SHOAL__ENVELOPE__BODY_CONTROL_REPLY);
    if (!reply)
        return MHD_YES;
    json_t *o = json_object();
    json_object_set_new(o, "job", json_integer(job_id));
    json_object_set_new(o, "action", json_string(action));
    json_object_set_new(o, "affected", json_integer((json_int_t) reply->control_reply->affected));
    if (reply->control_reply->job) {
        json_t *job = report_job_json(reply->control_reply->job);
        json_object_set(o, "state", json_object_get(job, "state"));
        json_object_set_new(o, "status", job);
    }
    wire_free(reply);
    return gw_respond_json(req, 200, o);
}

enum MHD_Result
jobs_workers(req_t *req)
{
    Shoal__WorkersRequest wr = SHOAL__WORKERS_REQUEST__INIT;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_WORKERS_REQUEST;
    env.workers_request = &wr;
    Shoal__Envelope *reply = gw_call(req, &env, SHOAL__ENVELOPE__BODY_WORKERS_REPLY);
    if (!reply)
        return MHD_YES;
    json_t *arr = json_array();
    for (size_t i = 0; i < reply->workers_reply->n_workers; i++)
        json_array_append_new(arr, report_worker_json(reply->workers_reply->workers[i]));
    wire_free(reply);
    return gw_respond_json(req, 200, arr);
}

enum MHD_Result
jobs_healthz(req_t *req)
{
    link_t *link = gw_link(req);
    if (!link)
        return MHD_YES;
    Shoal__SnapshotRequest sr = SHOAL__SNAPSHOT_REQUEST__INIT;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_SNAPSHOT_REQUEST;
    env.snapshot_request = &sr;
    int status = 0;
    char err[1024];
    Shoal__Envelope *reply = link_call(link, &env, &status, err, sizeof err);
    json_t *o = json_object();
    unsigned code = 503;
    if (!reply)
        json_object_set_new(o, "reason", json_string(err));
    else
    if (reply->body_case != SHOAL__ENVELOPE__BODY_SNAPSHOT || !reply->snapshot->cluster)
        json_object_set_new(o, "reason", json_string("unexpected reply from the broker"));
    else {
        const Shoal__ClusterInfo *c = reply->snapshot->cluster;
        json_object_set_new(o, "broker", json_string(c->broker_id ? c->broker_id : ""));
        json_object_set_new(o, "db_up", json_boolean(c->db_up));
        json_object_set_new(o, "workers", json_integer(c->workers));
        if (c->db_up)
            code = 200;
        else
            json_object_set_new(o, "reason", json_string("the broker's database is unavailable"));
    }
    wire_free(reply);
    json_object_set_new(o, "status", json_string(code == 200 ? "ok" : "unavailable"));
    return gw_respond_json(req, code, o);
}
