/*  metrics — GET /metrics in the Prometheus text exposition format.

    Every scrape asks the broker twice: the job list (the figures the
    broker keeps in PostgreSQL: ok, failed ever, cancelled, retries per job)
    for the counters, and a snapshot for the gauges and the cluster-wide
    counters (histograms, HTTP classes: the broker's shoal_counters table). The counters are the
    broker's persisted counts, so they do not go backwards when the gateway
    or the broker restarts. Label sets are bounded: the --metrics-jobs most
    recent jobs get their own `job` label, older ones are summed under
    job="other" (still monotonic: a job only ever moves into "other").
    Task ids, URLs and job names never become labels. When the broker does
    not answer, only shoal_broker_up 0 and the gateway's own figures are
    served: a missing series is better than a counter that drops to 0. */
#include "gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buckets.h"
#include "wire.h"

#define SCAN_JOBS 100000        //  jobs read per scrape (the counters sum them)

static const char *s_outcomes[] = { "ok", "failed", "cancelled" };

static void
s_help(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

//  shoal_tasks_total{job,outcome} and shoal_task_retries_total.
static void
s_counters(FILE *out, const Shoal__JobsReply *jobs, const Shoal__ClusterInfo *cluster, size_t own)
{
    s_help(out, "shoal_tasks_total", "counter", "Tasks finished, by job and outcome (ok, failed, cancelled).");
    uint64_t other[3] = { 0 }, retries = 0;
    uint64_t http[6] = { 0 };
    bool folded = false;
    for (size_t i = 0; i < jobs->n_jobs; i++) {
        const Shoal__JobInfo *j = jobs->jobs[i];
        //  failed_total: retry moves failed results to attempts, the counter keeps them
        uint64_t v[3] = { j->ok, j->has_failed_total ? j->failed_total : j->failed, j->cancelled };
        retries += j->retries;
        for (size_t c = 0; c < j->n_http_class && c < 6; c++)
            http[c] += j->http_class[c];
        if (i < own)
            for (int k = 0; k < 3; k++)
                fprintf(out, "shoal_tasks_total{job=\"%u\",outcome=\"%s\"} %llu\n", j->id, s_outcomes[k],
                        (unsigned long long) v[k]);
        else {
            folded = true;
            for (int k = 0; k < 3; k++)
                other[k] += v[k];
        }
    }
    if (folded)
        for (int k = 0; k < 3; k++)
            fprintf(out, "shoal_tasks_total{job=\"other\",outcome=\"%s\"} %llu\n", s_outcomes[k],
                    (unsigned long long) other[k]);
    s_help(out, "shoal_task_retries_total", "counter", "Attempts that failed and were retried, all jobs.");
    fprintf(out, "shoal_task_retries_total %llu\n", (unsigned long long) retries);
    //  a broker that counts them itself (persisted, every job ever)
    if (cluster && cluster->n_http_class_total == 6)
        memcpy(http, cluster->http_class_total, sizeof http);
    s_help(out, "shoal_http_responses_total", "counter",
           "Responses to HTTP tasks by status class (none: no response).");
    static const char *classes[] = { "none", "1xx", "2xx", "3xx", "4xx", "5xx" };
    for (int c = 0; c < 6; c++)
        if (c != 1)
            fprintf(out, "shoal_http_responses_total{class=\"%s\"} %llu\n", classes[c], (unsigned long long) http[c]);
}

//  One histogram from the broker's bucket counts (lib/buckets.h).
static void
s_histogram(FILE *out, const char *name, const char *help, const uint64_t *counts, size_t n, double sum)
{
    s_help(out, name, "histogram", help);
    uint64_t total = 0;
    for (size_t i = 0; i < BUCKETS_N; i++) {
        total += i < n ? counts[i] : 0;
        fprintf(out, "%s_bucket{le=\"%g\"} %llu\n", name, buckets_le[i], (unsigned long long) total);
    }
    total += n > BUCKETS_N ? counts[BUCKETS_N] : 0;
    fprintf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name, (unsigned long long) total,
            name, sum, name, (unsigned long long) total);
}

//  Gauges from a snapshot.
static void
s_gauges(FILE *out, const Shoal__Snapshot *snap, const Shoal__JobsReply *jobs, size_t own)
{
    s_help(out, "shoal_tasks", "gauge", "Tasks of unfinished jobs by state (queued, waiting for a retry, running).");
    uint64_t other[3] = { 0 };
    bool folded = false;
    for (size_t i = 0; i < snap->n_jobs; i++) {
        const Shoal__JobInfo *j = snap->jobs[i];
        //  the same jobs get their own label as in the counters
        bool mine = false;
        for (size_t k = 0; k < own && k < jobs->n_jobs && !mine; k++)
            mine = jobs->jobs[k]->id == j->id;
        uint64_t waiting = j->retry_wait;
        uint64_t queued = j->queued > waiting ? j->queued - waiting : 0;
        uint64_t v[3] = { queued, waiting, j->running };
        static const char *states[] = { "queued", "waiting", "running" };
        if (mine)
            for (int k = 0; k < 3; k++)
                fprintf(out, "shoal_tasks{job=\"%u\",state=\"%s\"} %llu\n", j->id, states[k], (unsigned long long) v[k]);
        else {
            folded = true;
            for (int k = 0; k < 3; k++)
                other[k] += v[k];
        }
        if (i + 1 == snap->n_jobs && folded)
            for (int k = 0; k < 3; k++)
                fprintf(out, "shoal_tasks{job=\"other\",state=\"%s\"} %llu\n", states[k], (unsigned long long) other[k]);
    }
    const Shoal__ClusterInfo *c = snap->cluster;
    s_help(out, "shoal_workers", "gauge", "Workers connected to the broker.");
    fprintf(out, "shoal_workers %u\n", c ? c->workers : 0);
    s_help(out, "shoal_worker_slots", "gauge", "Task slots of all workers.");
    fprintf(out, "shoal_worker_slots %u\n", c ? c->slots : 0);
    s_help(out, "shoal_worker_busy", "gauge", "Tasks running on workers now.");
    fprintf(out, "shoal_worker_busy %u\n", c ? c->in_flight : 0);
    s_help(out, "shoal_db_lag_seconds", "gauge", "Age of the oldest result not yet committed to PostgreSQL.");
    fprintf(out, "shoal_db_lag_seconds %.3f\n", c ? (double) c->db_lag_ms / 1000.0 : 0.0);
    s_help(out, "shoal_db_up", "gauge", "1 when the broker's database is reachable.");
    fprintf(out, "shoal_db_up %d\n", c && c->db_up ? 1 : 0);
}

//  One request to the broker, NULL when it did not answer as expected.
static Shoal__Envelope *
s_ask(link_t *link, Shoal__Envelope *env, Shoal__Envelope__BodyCase want)
{
    int status;
    char err[512];
    Shoal__Envelope *reply = link_call(link, env, &status, err, sizeof err);
    if (reply && reply->body_case != want) {
        wire_free(reply);
        reply = NULL;
    }
    return reply;
}

enum MHD_Result
metrics_get(req_t *req)
{
    gw_t *gw = req->gw;
    link_t *link = gw_link(req);
    if (!link)
        return MHD_YES;
    Shoal__JobsRequest jr = SHOAL__JOBS_REQUEST__INIT;
    jr.has_limit = 1;
    jr.limit = SCAN_JOBS;
    Shoal__Envelope e1 = SHOAL__ENVELOPE__INIT;
    e1.body_case = SHOAL__ENVELOPE__BODY_JOBS_REQUEST;
    e1.jobs_request = &jr;
    Shoal__Envelope *jobs = s_ask(link, &e1, SHOAL__ENVELOPE__BODY_JOBS_REPLY);
    Shoal__SnapshotRequest sr = SHOAL__SNAPSHOT_REQUEST__INIT;
    Shoal__Envelope e2 = SHOAL__ENVELOPE__INIT;
    e2.body_case = SHOAL__ENVELOPE__BODY_SNAPSHOT_REQUEST;
    e2.snapshot_request = &sr;
    Shoal__Envelope *snap = jobs ? s_ask(link, &e2, SHOAL__ENVELOPE__BODY_SNAPSHOT) : NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) {
        wire_free(jobs);
        wire_free(snap);
        return MHD_NO;
    }
    bool up = jobs && snap && snap->snapshot;
    s_help(out, "shoal_broker_up", "gauge", "1 when the broker answered this scrape.");
    fprintf(out, "shoal_broker_up %d\n", up ? 1 : 0);
    if (up) {
        size_t own = (size_t) gw->cfg.metrics_jobs;
        const Shoal__ClusterInfo *c = snap->snapshot->cluster;
        s_counters(out, jobs->jobs_reply, c, own);
        s_gauges(out, snap->snapshot, jobs->jobs_reply, own);
        if (c && c->n_duration_buckets && c->n_wait_buckets) {
            s_histogram(out, "shoal_task_duration_seconds", "Run time of finished tasks (their last attempt,"
                        " as the worker measured it).", c->duration_buckets,
                        c->n_duration_buckets, c->duration_sum_s);
            s_histogram(out, "shoal_task_wait_seconds", "Time finished tasks waited from entering the broker's"
                        " queue to starting at a worker (last attempt).",
                        c->wait_buckets, c->n_wait_buckets, c->wait_sum_s);
        }
    }
    s_help(out, "shoal_gateway_http_responses_total", "counter", "Responses this gateway sent, by status class.");
    static const char *classes[] = { "1xx", "2xx", "3xx", "4xx", "5xx" };
    for (int c = 1; c <= 5; c++)
        fprintf(out, "shoal_gateway_http_responses_total{class=\"%s\"} %llu\n", classes[c - 1],
                (unsigned long long) atomic_load(&gw->responses[c]));
    fclose(out);
    wire_free(jobs);
    wire_free(snap);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return gw_respond(req, 200, r);
}
