/*  events — GET /v1/jobs/{id}/events: one job's progress as Server-Sent
    Events, pushed from the broker's progress feed (hub.c). GET /v1/events
    is the whole cluster, for the dashboard: `snapshot` (every job and
    worker, at most once a second), `event` (worker joined/lost, job
    finished, sampled failures...) and `broker` up/down; it stays open
    across a broker outage.

      event: progress   data: the job, as GET /v1/jobs/{id} (on connect, then
                              with every snapshot that holds it, ~2/s)
      event: control    data: a pause/resume/cancel/retry of the job
      event: task_failed data: a sampled failure of one of its tasks
      event: broker     data: {"up": false|true} when the feed stops or returns
      event: finished   data: the job's last figures; the stream ends here

    A comment line goes out every 15 s of silence so proxies keep the
    connection. The stream reads the hub's ring from its own cursor: a slow
    client skips messages instead of growing the gateway's memory. */
#include "gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "report.h"
#include "wire.h"

#define KEEPALIVE_MS 15000

typedef struct {
    hub_t   *hub;
    link_t  *link;              //  the connection's (outlives the response)
    uint32_t job_id;
    uint64_t cursor;            //  hub sequence read up to
    bool     finished;          //  the finished event is out: end after it
    bool     cluster;           //  GET /v1/events: everything, never finishes
    int64_t  last_snapshot_ms;  //  cluster: snapshots go out at most 1/s
    int64_t  not_before_us;     //  job: snapshots the broker took before the
                                //  figures sent on connect are older: skipped
    char    *buf;               //  an event not yet sent
    size_t   len, off;
} stream_t;

static void
s_free(void *cls)
{
    stream_t *s = cls;
    free(s->buf);
    free(s);
}

//  Put one event in the buffer (takes `data`).
static void
s_event(stream_t *s, const char *name, json_t *data)
{
    char *text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    free(s->buf);
    s->buf = NULL;
    s->len = s->off = 0;
    if (!text)
        return;
    size_t size = strlen(text) + strlen(name) + 32;
    s->buf = malloc(size);
    if (s->buf)
        s->len = (size_t) snprintf(s->buf, size, "event: %s\ndata: %s\n\n", name, text);
    free(text);
}

static bool
s_over(const Shoal__JobInfo *job)
{
    return job->state == SHOAL__JOB_STATE__JOB_DONE || job->state == SHOAL__JOB_STATE__JOB_CANCELLED;
}

//  The job's progress (or its end) from a snapshot. False: not in it.
static bool
s_from_snapshot(stream_t *s, const uint8_t *data, size_t size)
{
    char err[256];
    Shoal__Envelope *env = wire_decode(data, size, err, sizeof err, NULL);
    if (env && env->snapshot && env->snapshot->time_us < s->not_before_us) {
        //  taken before the figures on connect, and overtaken by them: the
        //  feed and the request are two paths, and counts must not go back
        wire_free(env);
        return false;
    }
    s->not_before_us = 0;
    bool found = false;
    for (size_t i = 0; env && env->snapshot && i < env->snapshot->n_jobs && !found; i++) {
        const Shoal__JobInfo *job = env->snapshot->jobs[i];
        if (job->id != s->job_id)
            continue;
        found = true;
        s->finished = s_over(job);
        s_event(s, s->finished ? "finished" : "progress", report_job_json(job));
    }
    wire_free(env);
    return found;
}

//  The job's figures asked of the broker (at a finish event: its last ones).
static void
s_status(stream_t *s, const char *name)
{
    Shoal__StatusRequest sr = SHOAL__STATUS_REQUEST__INIT;
    sr.has_job_id = 1;
    sr.job_id = s->job_id;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_STATUS_REQUEST;
    env.status_request = &sr;
    int status;
    char err[512];
    Shoal__Envelope *reply = link_call(s->link, &env, &status, err, sizeof err);
    if (reply && reply->status_reply && reply->status_reply->job) {
        s->finished = s_over(reply->status_reply->job) || !strcmp(name, "finished");
        s_event(s, s->finished ? "finished" : name, report_job_json(reply->status_reply->job));
    }
    else {
        json_t *o = json_object();
        json_object_set_new(o, "job", json_integer(s->job_id));
        s_event(s, name, o);
        s->finished = !strcmp(name, "finished");
    }
    wire_free(reply);
}

//  Wait for the next thing worth sending; false at shutdown.
static bool
s_next(stream_t *s)
{
    hub_kind_t kind;
    uint8_t *data;
    size_t size;
    int rc = hub_next(s->hub, &s->cursor, &kind, &data, &size, KEEPALIVE_MS);
    if (rc < 0)
        return false;
    if (rc == 0) {
        free(s->buf);
        s->buf = strdup(": keepalive\n\n");
        s->len = s->buf ? strlen(s->buf) : 0;
        s->off = 0;
        return true;
    }
    if (kind == HUB_BROKER_DOWN || kind == HUB_BROKER_UP) {
        s->not_before_us = 0;   //  another broker's clock may follow
        json_t *o = json_object();
        json_object_set_new(o, "up", json_boolean(kind == HUB_BROKER_UP));
        s_event(s, "broker", o);
    }
    else
    if (kind == HUB_SNAPSHOT && data && s->cluster) {
        int64_t now = clock_mono_ms();
        if (now - s->last_snapshot_ms >= 1000) {
            s->last_snapshot_ms = now;
            char err[256];
            Shoal__Envelope *env = wire_decode(data, size, err, sizeof err, NULL);
            if (env && env->snapshot)
                s_event(s, "snapshot", report_snapshot_json(env->snapshot));
            wire_free(env);
        }
    }
    else
    if (kind == HUB_EVENT && data && s->cluster) {
        char err[256];
        Shoal__Envelope *env = wire_decode(data, size, err, sizeof err, NULL);
        if (env && env->event)
            s_event(s, "event", report_event_json(env->event));
        wire_free(env);
    }
    else
    if (kind == HUB_SNAPSHOT && data)
        s_from_snapshot(s, data, size);
    else
    if (kind == HUB_EVENT && data) {
        char err[256];
        Shoal__Envelope *env = wire_decode(data, size, err, sizeof err, NULL);
        const Shoal__Event *ev = env ? env->event : NULL;
        if (ev && ev->has_job_id && ev->job_id == s->job_id) {
            if (ev->type == SHOAL__EVENT_TYPE__EVENT_JOB_FINISHED)
                s_status(s, "finished");
            else
            if (ev->type == SHOAL__EVENT_TYPE__EVENT_JOB_CONTROL)
                s_event(s, "control", report_event_json(ev));
            else
            if (ev->type == SHOAL__EVENT_TYPE__EVENT_TASK_FAILED)
                s_event(s, "task_failed", report_event_json(ev));
        }
        wire_free(env);
    }
    free(data);
    return true;
}

static ssize_t
s_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream_t *s = cls;
    while (s->off == s->len) {
        if (s->finished)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (!s_next(s))
            return MHD_CONTENT_READER_END_OF_STREAM;
    }
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(buf, s->buf + s->off, n);
    s->off += n;
    if (s->off == s->len && !s->finished) {
        free(s->buf);
        s->buf = NULL;
        s->len = s->off = 0;
    }
    return (ssize_t) n;
}

//  The response that streams `s` (taken).
static enum MHD_Result
s_start(req_t *req, stream_t *s)
{
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, s_read, s, s_free);
    if (!r) {
        s_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    return gw_respond(req, 200, r);
}

enum MHD_Result
events_cluster(req_t *req)
{
    stream_t *s = calloc(1, sizeof *s);
    if (!s)
        return MHD_NO;
    s->hub = req->gw->hub;
    s->cluster = true;
    s->cursor = hub_newest(s->hub);
    //  the newest snapshot at once, or the news that the broker is away
    size_t size = 0;
    uint8_t *snap = hub_broker_up(s->hub) ? hub_snapshot(s->hub, &size) : NULL;
    char err[256];
    Shoal__Envelope *env = snap ? wire_decode(snap, size, err, sizeof err, NULL) : NULL;
    if (env && env->snapshot) {
        s_event(s, "snapshot", report_snapshot_json(env->snapshot));
        s->last_snapshot_ms = clock_mono_ms();
    }
    else {
        json_t *o = json_object();
        json_object_set_new(o, "up", json_boolean(false));
        s_event(s, "broker", o);
    }
    wire_free(env);
    free(snap);
    return s_start(req, s);
}

enum MHD_Result
events_get(req_t *req, uint32_t job_id)
{
    link_t *link = gw_link(req);
    if (!link)
        return MHD_YES;
    stream_t *s = calloc(1, sizeof *s);
    if (!s)
        return MHD_NO;
    s->hub = req->gw->hub;
    s->link = link;
    s->job_id = job_id;
    s->cursor = hub_newest(s->hub);
    //  the job as it is now, or 404
    Shoal__StatusRequest sr = SHOAL__STATUS_REQUEST__INIT;
    sr.has_job_id = 1;
    sr.job_id = job_id;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_STATUS_REQUEST;
    env.status_request = &sr;
    int status = 0;
    char err[1024];
    Shoal__Envelope *reply = link_call(link, &env, &status, err, sizeof err);
    if (!reply || !reply->status_reply || !reply->status_reply->job) {
        wire_free(reply);
        s_free(s);
        return gw_respond_error(req, reply ? 502 : (unsigned) status, "%s", reply ? "bad status reply" : err);
    }
    s->finished = s_over(reply->status_reply->job);
    s->not_before_us = reply->status_reply->has_time_us ? reply->status_reply->time_us : 0;
    s_event(s, s->finished ? "finished" : "progress", report_job_json(reply->status_reply->job));
    wire_free(reply);
    return s_start(req, s);
}
