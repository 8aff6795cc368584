/*  progress — the figures people watch: per job, per worker, cluster.

    A snapshot goes out on the PUB socket at a fixed cadence and events as
    they happen. PUB never blocks: a slow or stopped subscriber loses
    messages (and asks for a snapshot on the frontend when it catches up);
    dispatch never waits for it. */
#include "broker.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "lane.h"
#include "log.h"
#include "routing.h"
#include "wire.h"

#define TOP_N            5
#define MAX_TRACKED      1000   //  distinct failing hosts/errors kept per job
#define FAIL_EVENTS_PER_S 10    //  sampled task-failure events

static void
s_count(zhashx_t *map, const char *key)
{
    if (!key || !*key)
        return;
    uintptr_t n = (uintptr_t) zhashx_lookup(map, key);
    if (n == 0 && zhashx_size(map) >= MAX_TRACKED)
        return;
    zhashx_update(map, key, (void *) (n + 1));
}

//  Count a finished task in the filling batch's cluster counters: they are
//  persisted with its rows and reach the totals the snapshot shows when the
//  batch commits (batch_on_written). cls is the HTTP class index or -1.
static void
s_count_cluster(server_t *self, int cls, bool timed, int64_t run_us, int64_t wait_us)
{
    store_counters_t *c = &self->filling->req->write.counters;
    if (cls >= 0)
        c->http_class[cls]++;
    if (!timed)
        return;
    c->duration[buckets_index((double) run_us / 1e6)]++;
    c->duration_sum_us += (uint64_t) run_us;
    c->wait[buckets_index((double) wait_us / 1e6)]++;
    c->wait_sum_us += (uint64_t) wait_us;
}

void
progress_add_counters(server_t *self, const store_counters_t *c)
{
    for (int i = 0; i <= BUCKETS_N; i++) {
        self->duration_buckets[i] += c->duration[i];
        self->wait_buckets[i] += c->wait[i];
    }
    for (int i = 0; i < 6; i++)
        self->http_class_total[i] += c->http_class[i];
    self->duration_sum_us += c->duration_sum_us;
    self->wait_sum_us += c->wait_sum_us;
}

void
progress_task_done(server_t *self, task_t *task, const Shoal__Result *r, bool failed, const char *error)
{
    job_t *job = task->job;
    if (task->leased_us) {
        int64_t latency = clock_wall_us() - task->leased_us;
        hist_add(&job->latency, latency > 0 ? (uint64_t) latency : 0);
    }
    int cls = -1;
    if (r && r->http) {
        uint32_t status = r->http->has_status ? r->http->status : 0;
        cls = status >= 100 && status < 600 ? (int) (status / 100) : 0;
    }
    else
    if (task->lane && task->lane->kind == SHOAL__TASK_KIND__KIND_HTTP)
        cls = 0;
    if (cls >= 0)
        job->http_class[cls]++;
    bool timed = r && r->has_started_us && r->has_finished_us && r->finished_us >= r->started_us;
    int64_t run_us = timed ? r->finished_us - r->started_us : 0;
    //  worker and broker clocks may differ by a little: never negative
    int64_t wait_us = timed && task->queued_us && r->started_us > task->queued_us
                    ? r->started_us - task->queued_us : 0;
    s_count_cluster(self, cls, timed, run_us, wait_us);
    if (failed) {
        const char *host = task->lane ? strchr(task->lane->key, ':') : NULL;
        if (host && host[1])
            s_count(job->fail_hosts, host + 1);
        char short_error[96];
        snprintf(short_error, sizeof short_error, "%s", error ? error : "");
        s_count(job->fail_errors, short_error);
    }
}

//  The n most frequent keys of a counter map.
static void
s_top(zhashx_t *map, Shoal__Count ***out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    size_t n = zhashx_size(map);
    if (n == 0)
        return;
    const char *keys[TOP_N];
    uint64_t counts[TOP_N];
    size_t k = 0;
    for (void *v = zhashx_first(map); v; v = zhashx_next(map)) {
        uint64_t c = (uintptr_t) v;
        const char *key = zhashx_cursor(map);
        size_t pos = k;
        while (pos > 0 && counts[pos - 1] < c)
            pos--;
        if (pos >= TOP_N)
            continue;
        size_t last = k < TOP_N ? k : TOP_N - 1;
        for (size_t i = last; i > pos; i--) {
            keys[i] = keys[i - 1];
            counts[i] = counts[i - 1];
        }
        keys[pos] = key;
        counts[pos] = c;
        if (k < TOP_N)
            k++;
    }
    Shoal__Count **list = calloc(k, sizeof *list);
    if (!list)
        return;
    for (size_t i = 0; i < k; i++) {
        list[i] = malloc(sizeof **list);
        if (!list[i])
            break;
        shoal__count__init(list[i]);
        list[i]->name = strdup(keys[i]);
        list[i]->has_count = 1;
        list[i]->count = counts[i];
        *n_out = i + 1;
    }
    *out = list;
}

#define HELD_HOSTS_SHOWN 10

//  One throttled lane into info->held_hosts.
static void
s_held_host(const lane_t *lane, void *arg)
{
    Shoal__JobInfo *info = arg;
    if (info->n_held_hosts >= HELD_HOSTS_SHOWN || !info->held_hosts)
        return;
    Shoal__HostHold *h = malloc(sizeof *h);
    if (!h)
        return;
    shoal__host_hold__init(h);
    const char *host = strchr(lane->key, ':');
    if (!(h->host = strdup(host ? host + 1 : lane->key))) {
        free(h);
        return;
    }
    h->has_until_us = 1;
    h->until_us = clock_wall_us() + (lane->blocked_until_ms - clock_mono_ms()) * 1000;
    info->held_hosts[info->n_held_hosts++] = h;
}

//  The job's hosts held back by a 429/503, and until when.
static void
s_held_hosts(job_t *job, Shoal__JobInfo *info, int64_t now_ms)
{
    info->held_hosts = calloc(HELD_HOSTS_SHOWN, sizeof *info->held_hosts);
    lane_each_throttled(job, now_ms, s_held_host, info);
}

//  What a job's info says whether the job is in memory or a row of the store.
typedef struct {
    uint32_t id;
    const char *name, *key;
    Shoal__JobState state;
    uint32_t priority;
    bool sealed;
    uint64_t total, ok, failed, cancelled, retries, stale, duplicate, failed_total;
    int64_t created_us, finished_us;
} s_job_figures_t;

//  The fields of a JobInfo both kinds of job have.
static void
s_fill_figures(Shoal__JobInfo *info, const s_job_figures_t *f)
{
    shoal__job_info__init(info);
    info->has_id = info->has_state = info->has_priority = info->has_sealed = info->has_total = 1;
    info->has_queued = info->has_running = info->has_ok = info->has_failed = info->has_cancelled = 1;
    info->has_retries = info->has_stale = info->has_duplicate = info->has_created_us = 1;
    info->id = f->id, info->name = (char *) f->name, info->key = (char *) f->key;
    info->state = f->state, info->priority = f->priority, info->sealed = f->sealed;
    info->total = f->total, info->ok = f->ok, info->failed = f->failed, info->cancelled = f->cancelled;
    info->retries = f->retries, info->stale = f->stale, info->duplicate = f->duplicate;
    info->created_us = f->created_us;
    info->has_failed_total = 1;
    info->failed_total = f->failed_total;
    info->has_finished_us = f->finished_us != 0;
    info->finished_us = f->finished_us;
    uint64_t finished = f->ok + f->failed + f->cancelled;
    info->queued = f->total > finished ? f->total - finished : 0;
    info->has_eta_ms = 1;
    info->eta_ms = f->finished_us ? 0 : -1;
}

void
progress_fill_job(server_t *self, job_t *job, Shoal__JobInfo *info, int64_t now_ms)
{
    s_job_figures_t f = {
        job->id, job->name, job->key, job->state, job->priority, job->sealed, job->n_tasks,
        job->ok, job->failed, job->cancelled, job->retries, job->stale, job->duplicate,
        job->failed_total, job->created_us, job->finished_us };
    s_fill_figures(info, &f);
    info->has_updated_us = job->updated_us != 0;
    info->updated_us = job->updated_us;
    info->last_update = job->update_note;      //  borrowed
    uint64_t finished = job->ok + job->failed + job->cancelled;
    uint64_t in_flight = job->n_leased + job->n_committing;
    info->running = job->n_leased;
    info->queued = job->n_tasks > finished + in_flight ? job->n_tasks - finished - in_flight : 0;
    info->has_retry_wait = 1;
    info->retry_wait = job->n_waiting;
    info->has_rate = 1;
    info->rate = rate_get(&job->rate, now_ms, 5);
    uint64_t remaining = job->n_tasks > finished ? job->n_tasks - finished : 0;
    info->eta_ms = job->finished_ms ? 0
                 : info->rate > 0.01 ? (int64_t) ((double) remaining / info->rate * 1000.0) : -1;
    info->has_p50_us = info->has_p95_us = info->has_p99_us = 1;
    info->p50_us = hist_percentile(&job->latency, 50);
    info->p95_us = hist_percentile(&job->latency, 95);
    info->p99_us = hist_percentile(&job->latency, 99);
    info->http_class = malloc(6 * sizeof(uint64_t));
    if (info->http_class) {
        memcpy(info->http_class, job->http_class, 6 * sizeof(uint64_t));
        info->n_http_class = 6;
    }
    s_top(job->fail_hosts, &info->top_hosts, &info->n_top_hosts);
    s_top(job->fail_errors, &info->top_errors, &info->n_top_errors);
    s_held_hosts(job, info, now_ms);
    routing_waiting(self, job, &info->waiting, &info->n_waiting);
    steps_fill_info(job->pipeline, job->steps, job->n_steps, job->n_tasks, info);
    if (info->n_steps) {
        //  a pipeline's tasks are its steps' (children included), not only
        //  the submitted ones; its ETA is by items
        uint64_t known = 0;
        for (size_t i = 0; i < info->n_steps; i++)
            known += info->steps[i]->tasks;
        info->queued = known > finished + in_flight ? known - finished - in_flight : 0;
    }
    if (job->pipeline && job->items && job->steps) {
        item_tally_t t = item_counts_tally(job->items);
        steps_fill_items(&t, job->items, job->n_tasks, now_ms, info);
        if (info->items)
            info->eta_ms = info->items->eta_ms;
    }
}

void
progress_fill_job_row(const store_job_t *row, Shoal__JobInfo *info)
{
    s_job_figures_t f = {
        row->id, row->name, row->key, row->state, row->priority, row->sealed, row->n_tasks,
        row->n_ok, row->n_failed, row->n_cancelled, row->n_retries, row->n_stale, row->n_duplicate,
        row->n_failed_total, row->created_us, row->finished_us };
    s_fill_figures(info, &f);
    info->has_updated_us = row->updated_us != 0;
    info->updated_us = row->updated_us;
    info->last_update = row->update_note;      //  borrowed
    if (row->pipeline && row->steps) {
        json_t *doc = json_loads(row->pipeline, 0, NULL);
        char err[256];
        pipeline_t *p = doc ? pipeline_from_json(doc, err, sizeof err) : NULL;
        json_decref(doc);
        steps_fill_info(p, row->steps, row->n_steps, row->n_tasks, info);
        pipeline_destroy(&p);
        if (row->has_items)
            steps_fill_items(&row->items, NULL, row->n_tasks, 0, info);
    }
}

void
progress_free_job(Shoal__JobInfo *info)
{
    steps_free_info(info);
    free(info->http_class);
    for (size_t i = 0; i < info->n_top_hosts; i++) {
        free(info->top_hosts[i]->name);
        free(info->top_hosts[i]);
    }
    free(info->top_hosts);
    for (size_t i = 0; i < info->n_top_errors; i++) {
        free(info->top_errors[i]->name);
        free(info->top_errors[i]);
    }
    free(info->top_errors);
    for (size_t i = 0; i < info->n_held_hosts; i++) {
        free(info->held_hosts[i]->host);
        free(info->held_hosts[i]);
    }
    free(info->held_hosts);
    info->held_hosts = NULL;
    info->n_held_hosts = 0;
    routing_free_waiting(info->waiting, info->n_waiting);
    info->waiting = NULL;
    info->n_waiting = 0;
    info->http_class = NULL;
    info->top_hosts = info->top_errors = NULL;
    info->n_http_class = info->n_top_hosts = info->n_top_errors = 0;
}

void
progress_fill_leader(server_t *self, Shoal__LeaderInfo *info)
{
    shoal__leader_info__init(info);
    info->broker_id = self->broker_id;
    info->role = self->deposed ? "standby" : "leader";
    info->has_term = info->has_since_us = 1;
    info->term = self->epoch;
    info->since_us = self->term_since_us;
    info->previous = self->previous_leader;
}

void
progress_fill_worker(server_t *self, peer_t *peer, Shoal__WorkerInfo *info, int64_t now_ms)
{
    shoal__worker_info__init(info);
    info->id = peer->worker_id;
    info->host = peer->host;
    info->version = peer->version;
    info->has_pid = info->has_slots = info->has_busy = info->has_done = info->has_failed = 1;
    info->pid = peer->pid;
    info->slots = peer->slots;
    info->busy = peer->leased + held_count(peer);
    info->done = peer->done;
    info->failed = peer->failed;
    info->has_rate = info->has_last_seen_ms = info->has_joined_us = info->has_draining = 1;
    info->rate = rate_get(&peer->rate, now_ms, 5);
    info->last_seen_ms = now_ms - peer->last_recv_ms;
    info->joined_us = peer->joined_us;
    info->draining = peer->draining;
    size_t nk = 0;
    info->kinds = malloc(BROKER_KINDS * sizeof *info->kinds);
    for (int k = 1; info->kinds && k <= BROKER_KINDS; k++)
        if (peer->kinds & (1u << k))
            info->kinds[nk++] = (Shoal__TaskKind) k;
    info->n_kinds = nk;
    //  labels ("key=value" kept as one string) and handlers
    size_t nl = peer->labels ? zlist_size(peer->labels) : 0;
    info->labels = nl ? calloc(nl, sizeof *info->labels) : NULL;
    Shoal__Label *labels = nl ? calloc(nl, sizeof *labels) : NULL;
    if (info->labels && labels) {
        for (char *l = zlist_first(peer->labels); l && info->n_labels < nl; l = zlist_next(peer->labels)) {
            Shoal__Label *x = &labels[info->n_labels];
            shoal__label__init(x);
            size_t klen = strcspn(l, "=");
            x->key = strndup(l, klen);
            x->value = strdup(l[klen] ? l + klen + 1 : "");
            info->labels[info->n_labels++] = x;
        }
    }
    else {
        free(info->labels);
        free(labels);
        info->labels = NULL;
    }
    size_t nh = peer->n_handlers;
    info->handlers = nh ? calloc(nh, sizeof *info->handlers) : NULL;
    Shoal__HandlerInfo *hs = nh ? calloc(nh, sizeof *hs) : NULL;
    if (info->handlers && hs) {
        for (size_t i = 0; i < nh; i++) {
            const peer_handler_t *p = &peer->handlers[i];
            Shoal__HandlerInfo *h = &hs[i];
            shoal__handler_info__init(h);
            h->name = (char *) p->name;
            h->has_procs = h->has_up = h->has_busy = h->has_restarts = h->has_broken = h->has_served = 1;
            h->procs = p->procs;
            h->up = p->up;
            h->busy = p->busy;
            h->restarts = p->restarts;
            h->broken = p->broken;
            h->served = p->served;
            info->handlers[i] = h;
        }
        info->n_handlers = nh;
    }
    else {
        free(info->handlers);
        free(hs);
        info->handlers = NULL;
    }
}

void
progress_free_worker(Shoal__WorkerInfo *info)
{
    free(info->kinds);
    info->kinds = NULL;
    info->n_kinds = 0;
    if (info->n_labels) {
        Shoal__Label *labels = info->labels[0];
        for (size_t i = 0; i < info->n_labels; i++) {
            free(info->labels[i]->key);
            free(info->labels[i]->value);
        }
        free(labels);
    }
    free(info->labels);
    info->labels = NULL;
    info->n_labels = 0;
    if (info->n_handlers)
        free(info->handlers[0]);
    free(info->handlers);
    info->handlers = NULL;
    info->n_handlers = 0;
}

Shoal__Snapshot *
progress_snapshot(server_t *self)
{
    int64_t now = clock_mono_ms();
    Shoal__Snapshot *snap = calloc(1, sizeof *snap);
    Shoal__ClusterInfo *cluster = calloc(1, sizeof *cluster);
    size_t n_jobs = zlist_size(self->job_list);
    size_t n_peers = zhashx_size(self->peers);
    Shoal__JobInfo *jobs = calloc(n_jobs ? n_jobs : 1, sizeof *jobs);
    Shoal__JobInfo **job_ptrs = calloc(n_jobs + 1, sizeof *job_ptrs);
    Shoal__WorkerInfo *workers = calloc(n_peers ? n_peers : 1, sizeof *workers);
    Shoal__WorkerInfo **worker_ptrs = calloc(n_peers + 1, sizeof *worker_ptrs);
    if (!snap || !cluster || !jobs || !job_ptrs || !workers || !worker_ptrs) {
        free(snap); free(cluster); free(jobs); free(job_ptrs); free(workers); free(worker_ptrs);
        return NULL;
    }
    shoal__snapshot__init(snap);
    shoal__cluster_info__init(cluster);
    snap->has_seq = snap->has_time_us = 1;
    snap->seq = ++self->snapshot_seq;
    snap->time_us = clock_wall_us();
    snap->cluster = cluster;
    size_t i = 0;
    for (job_t *job = zlist_first(self->job_list); job; job = zlist_next(self->job_list)) {
        if (job->deleted)
            continue;
        progress_fill_job(self, job, &jobs[i], now);
        job_ptrs[i] = &jobs[i];
        i++;
    }
    snap->jobs = job_ptrs;
    snap->n_jobs = i;
    job_ptrs[i] = (Shoal__JobInfo *) jobs;     //  the block, for freeing
    uint32_t slots = 0, busy = 0;
    i = 0;
    for (peer_t *p = zhashx_first(self->peers); p; p = zhashx_next(self->peers)) {
        progress_fill_worker(self, p, &workers[i], now);
        slots += p->slots;
        busy += workers[i].busy;
        worker_ptrs[i] = &workers[i];
        i++;
    }
    snap->workers = worker_ptrs;
    snap->n_workers = i;
    worker_ptrs[i] = (Shoal__WorkerInfo *) workers;
    cluster->broker_id = self->broker_id;
    Shoal__LeaderInfo *leader = calloc(1, sizeof *leader);
    if (leader) {
        progress_fill_leader(self, leader);
        cluster->leader = leader;
    }
    cluster->has_epoch = cluster->has_uptime_ms = cluster->has_workers = cluster->has_slots = 1;
    cluster->epoch = self->epoch;
    cluster->uptime_ms = now - self->started_ms;
    cluster->workers = (uint32_t) n_peers;
    cluster->slots = slots;
    cluster->has_in_flight = cluster->has_rate = cluster->has_db_up = cluster->has_db_lag_ms = 1;
    cluster->in_flight = busy;
    cluster->rate = rate_get(&self->rate, now, 5);
    cluster->db_up = self->db_up;
    int64_t oldest = self->flushing && self->flushing->first_ms ? self->flushing->first_ms
                   : self->filling->first_ms;
    cluster->db_lag_ms = oldest ? now - oldest : 0;
    cluster->has_results_held = cluster->has_bad_messages = cluster->has_stale_total = 1;
    cluster->results_held = batch_held(self);
    cluster->bad_messages = self->bad_messages;
    cluster->stale_total = self->stale_total;
    cluster->has_lost_workers = cluster->has_handshake_failures = 1;
    cluster->lost_workers = self->lost_workers;
    cluster->handshake_failures = self->handshake_failures;
    //  borrowed arrays: the snapshot is packed before the server changes
    cluster->duration_buckets = self->duration_buckets;
    cluster->n_duration_buckets = BUCKETS_N + 1;
    cluster->wait_buckets = self->wait_buckets;
    cluster->n_wait_buckets = BUCKETS_N + 1;
    cluster->http_class_total = self->http_class_total;
    cluster->n_http_class_total = 6;
    cluster->has_duration_sum_s = cluster->has_wait_sum_s = 1;
    cluster->duration_sum_s = (double) self->duration_sum_us / 1e6;
    cluster->wait_sum_s = (double) self->wait_sum_us / 1e6;
    return snap;
}

void
progress_free_snapshot(Shoal__Snapshot *snap)
{
    if (!snap)
        return;
    for (size_t i = 0; i < snap->n_jobs; i++)
        progress_free_job(snap->jobs[i]);
    for (size_t i = 0; i < snap->n_workers; i++)
        progress_free_worker(snap->workers[i]);
    //  the element arrays were allocated as one block each, kept in the
    //  pointer arrays' extra last slot
    free(snap->jobs[snap->n_jobs]);
    free(snap->jobs);
    free(snap->workers[snap->n_workers]);
    free(snap->workers);
    if (snap->cluster)
        free(snap->cluster->leader);
    free(snap->cluster);
    free(snap);
}

void
progress_publish(server_t *self)
{
    Shoal__Snapshot *snap = progress_snapshot(self);
    if (!snap)
        return;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_SNAPSHOT;
    env.snapshot = snap;
    wire_publish(self->publisher_raw, "snapshot", &env);
    progress_free_snapshot(snap);
}

void
progress_event(server_t *self, Shoal__EventType type, uint32_t job_id, const char *worker_id,
               uint64_t count, const char *fmt, ...)
{
    if (!self->publisher_raw)
        return;
    if (type == SHOAL__EVENT_TYPE__EVENT_TASK_FAILED) {
        //  sampled: a failing job must not flood subscribers
        int64_t now_s = clock_mono_ms() / 1000;
        if (now_s != self->fail_event_second) {
            self->fail_event_second = now_s;
            self->fail_events_sent = 0;
        }
        if (++self->fail_events_sent > FAIL_EVENTS_PER_S)
            return;
    }
    char message[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    Shoal__Event ev = SHOAL__EVENT__INIT;
    ev.has_type = ev.has_time_us = ev.has_count = 1;
    ev.type = type;
    ev.time_us = clock_wall_us();
    ev.has_job_id = job_id != 0;
    ev.job_id = job_id;
    ev.worker_id = (char *) worker_id;
    ev.count = count;
    ev.message = message;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_EVENT;
    env.event = &ev;
    wire_publish(self->publisher_raw, "event", &env);
}
