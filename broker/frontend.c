/*  frontend — the client protocol: open, submit, seal, control, queries.

    Every request carries a correlation id that the reply echoes. Anything
    that touches the database goes to a store thread and is answered when
    it comes back; nothing here waits. A chunk of tasks is acked only after
    its COPY committed; a chunk that cannot be stored is answered with an
    error and nothing of it is kept. */
#include "broker.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "schema_rows.h"
#include "text.h"
#include "wire.h"
#include "wirescan.h"

int
frontend_send(server_t *self, const uint8_t *rid, size_t rid_len, Shoal__Envelope *env)
{
    return wire_send(self->frontend_raw, rid, rid_len, env, ZMQ_DONTWAIT);
}

void
frontend_send_error(server_t *self, const uint8_t *rid, size_t rid_len, uint64_t corr,
                    Shoal__ErrorCode code, const char *fmt, ...)
{
    char message[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    wire_send_error(self->frontend_raw, rid, rid_len, corr, code, message);
}

static Shoal__ErrorCode
s_error_code(store_status_t status)
{
    switch (status) {
        case STORE_ERR_DOWN:      return SHOAL__ERROR_CODE__ERR_UNAVAILABLE;
        case STORE_ERR_CONFLICT:  return SHOAL__ERROR_CODE__ERR_CONFLICT;
        case STORE_ERR_STATE:     return SHOAL__ERROR_CODE__ERR_STATE;
        case STORE_ERR_NOT_FOUND: return SHOAL__ERROR_CODE__ERR_NOT_FOUND;
        default:                  return SHOAL__ERROR_CODE__ERR_INTERNAL;
    }
}

//  A store request that will answer this client.
static store_req_t *
s_req(store_op_t op, const uint8_t *rid, size_t rid_len, uint64_t corr)
{
    store_req_t *req = store_req_new(op);
    if (!req)
        return NULL;
    memcpy(req->rid, rid, rid_len);
    req->rid_len = rid_len;
    req->corr = corr;
    return req;
}

static void
s_submit(server_t *self, store_t *store, store_req_t *req)
{
    if (store_submit(store, req) != 0) {
        frontend_send_error(self, req->rid, req->rid_len, req->corr,
                            SHOAL__ERROR_CODE__ERR_INTERNAL, "broker cannot reach its store thread");
        store_req_destroy(&req);
    }
}

static void
s_reply(server_t *self, const uint8_t *rid, size_t rid_len, uint64_t corr, Shoal__Envelope *env)
{
    env->has_corr = 1;
    env->corr = corr;
    frontend_send(self, rid, rid_len, env);
}

//  Reply with one job's info (StatusReply).
static void
s_reply_job(server_t *self, const uint8_t *rid, size_t rid_len, uint64_t corr, Shoal__JobInfo *info)
{
    Shoal__StatusReply reply = SHOAL__STATUS_REPLY__INIT;
    Shoal__LeaderInfo leader;
    progress_fill_leader(self, &leader);
    reply.job = info;
    reply.leader = &leader;
    reply.has_time_us = 1;
    reply.time_us = clock_wall_us();
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_STATUS_REPLY;
    env.status_reply = &reply;
    s_reply(self, rid, rid_len, corr, &env);
}

static void
s_on_job_open(server_t *self, const uint8_t *rid, size_t rid_len, uint64_t corr, Shoal__JobOpen *m)
{
    if (m->pipeline) {
        //  the broker renders its steps: it must read them back as they are
        char err[512];
        json_error_t jerr;
        json_t *doc = json_loads(m->pipeline, 0, &jerr);
        pipeline_t *p = doc ? pipeline_from_json(doc, err, sizeof err) : NULL;
        json_decref(doc);
        if (!p) {
            frontend_send_error(self, rid, rid_len, corr, SHOAL__ERROR_CODE__ERR_BAD_REQUEST,
                                "%s", doc ? err : "job_open.pipeline: not JSON");
            return;
        }
        pipeline_destroy(&p);
    }
    store_req_t *req = s_req(STORE_OPEN_JOB, rid, rid_len, corr);
    if (!req)
        return;
    req->open.pipeline = m->pipeline ? strdup(m->pipeline) : NULL;
    req->open.name = strdup(m->name ? m->name : "");
    req->open.key = m->key && *m->key ? strdup(m->key) : NULL;
    req->open.priority = m->has_priority ? m->priority : 1;
    if (m->defaults) {
        req->open.defaults_len = shoal__job_defaults__get_packed_size(m->defaults);
        req->open.defaults = malloc(req->open.defaults_len ? req->open.defaults_len : 1);
        if (req->open.defaults)
            shoal__job_defaults__pack(m->defaults, req->open.defaults);
    }
    //  on the ingest connection, behind any chunks still queued there: a
    //  submit resumed after its client died sees every chunk of the dead
    //  one committed, so its first chunk starts at the true committed count
    s_submit(self, self->ingest, req);
}

static void
s_on_chunk(server_t *self, const uint8_t *rid, size_t rid_len, uint64_t corr, Shoal__SubmitChunk *m)
{
    job_t *job = job_lookup(self, m->job_id);
    if (!job || job->finished_ms) {
        frontend_send_error(self, rid, rid_len, corr, job ? SHOAL__ERROR_CODE__ERR_STATE
                            : SHOAL__ERROR_CODE__ERR_NOT_FOUND,
                            "job %u is not open for tasks (unknown, finished or cancelled)", m->job_id);
        return;
    }
    if (job->sealed || job->sealing) {
        frontend_send_error(self, rid, rid_len, corr, SHOAL__ERROR_CODE__ERR_STATE,
                            "job %u is sealed with %llu tasks", job->id, (unsigned long long) job->n_tasks);
        return;
    }
    if (m->first_seq != job->next_seq) {
        frontend_send_error(self, rid, rid_len, corr, SHOAL__ERROR_CODE__ERR_CONFLICT,
                            "job %u: chunk starts at task %llu but the next expected is %llu"
                            " (%llu committed); resume from the committed count",
                            job->id, (unsigned long long) m->first_seq,
                            (unsigned long long) job->next_seq, (unsigned long long) job->n_tasks);
        return;
    }
    store_req_t *req = s_req(STORE_INGEST, rid, rid_len, corr);
    if (!req)
        return;
    store_ingest_t *in = &req->ingest;
    req->job_id = job->id;
    in->first_seq = m->first_seq;
    in->count = (uint32_t) m->n_tasks;
    in->seal = m->has_seal && m->seal;
    //  the packed specs stay with the request: once committed they can go
    //  straight into memory without a page query (see s_done_ingest)
    size_t arena = 0;
    for (size_t i = 0; i < m->n_tasks; i++)
        arena += shoal__task_spec__get_packed_size(m->tasks[i]);
    in->specs = calloc(m->n_tasks, sizeof *in->specs);
    in->arena = malloc(arena ? arena : 1);
    if (!in->specs || !in->arena) {
        store_req_destroy(&req);
        frontend_send_error(self, rid, rid_len, corr, SHOAL__ERROR_CODE__ERR_INTERNAL, "out of memory");
        return;
    }
    size_t off = 0;
    for (size_t i = 0; i < m->n_tasks; i++) {
        Shoal__TaskSpec *spec = m->tasks[i];
        char target[2048];
        taskspec_target(spec, target, sizeof target);
        uint8_t *buf = in->arena + off;
        size_t len = shoal__task_spec__pack(spec, buf);
        off += len;
        in->specs[i].seq = (uint32_t) (m->first_seq + i);
        in->specs[i].spec = buf;
        in->specs[i].spec_len = (uint32_t) len;
        schema_rows_task(&in->rows, job->id, (uint32_t) (m->first_seq + i),
                         taskspec_kind_name(taskspec_kind(spec)), target, buf, len,
                         spec->pipeline ? spec->pipeline->steps : NULL);    //  an item's own steps, for SQL
    }
    in->n_specs = m->n_tasks;
    if (in->rows.oom) {
        store_req_destroy(&req);
        frontend_send_error(self, rid, rid_len, corr, SHOAL__ERROR_CODE__ERR_INTERNAL, "out of memory");
        return;
    }
    job->next_seq += m->n_tasks;
    if (in->seal)
        job->sealing = true;
    s_submit(self, self->ingest, req);
}

static void
s_on_seal(server_t *self, const uint8_t *rid, size_t rid_len, uint64_t corr, Shoal__JobSeal *m)
{
    store_req_t *req = s_req(STORE_SEAL, rid, rid_len, corr);
    if (!req)
        return;
    req->job_id = m->job_id;
    req->seal.total = m->total;
    //  after the job's chunks, on their connection; the completion check
    //  races safely with result writes: both update the job row, and the
    //  later update sees the earlier one's counts and seal
    s_submit(self, self->ingest, req);
}

static void
s_on_control(server_t *self, const uint8_t *rid, size_t rid_len, uint64_t corr, Shoal__JobControl *m)
{
    store_req_t *req = s_req(STORE_CONTROL, rid, rid_len, corr);
    if (!req)
        return;
    req->job_id = m->job_id;
    req->control.action = m->action;
    if (m->n_retry_status) {
        req->control.retry_status = malloc(m->n_retry_status * sizeof(uint32_t));
        if (req->control.retry_status) {
            memcpy(req->control.retry_status, m->retry_status, m->n_retry_status * sizeof(uint32_t));
            req->control.n_retry_status = m->n_retry_status;
        }
    }
    if (m->n_retry_class) {
        req->control.retry_class = malloc(m->n_retry_class * sizeof(uint32_t));
        if (req->control.retry_class) {
            memcpy(req->control.retry_class, m->retry_class, m->n_retry_class * sizeof(uint32_t));
            req->control.n_retry_class = m->n_retry_class;
        }
    }
    s_submit(self, self->writer, req);
}

static void
s_on_status(server_t *self, const uint8_t *rid, size_t rid_len, uint64_t corr, uint32_t job_id)
{
    job_t *job = job_lookup(self, job_id);
    if (job && !job->deleted) {
        Shoal__JobInfo info = SHOAL__JOB_INFO__INIT;
        progress_fill_job(self, job, &info, clock_mono_ms());
        s_reply_job(self, rid, rid_len, corr, &info);
        progress_free_job(&info);
        return;
    }
    store_req_t *req = s_req(STORE_QUERY_JOB, rid, rid_len, corr);
    if (!req)
        return;
    req->job_id = job_id;
    s_submit(self, self->reader, req);
}

static void
s_on_workers(server_t *self, const uint8_t *rid, size_t rid_len, uint64_t corr)
{
    size_t n = zhashx_size(self->peers);
    Shoal__WorkerInfo *infos = calloc(n ? n : 1, sizeof *infos);
    Shoal__WorkerInfo **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    if (!infos || !ptrs) {
        free(infos);
        free(ptrs);
        return;
    }
    int64_t now = clock_mono_ms();
    size_t i = 0;
    for (peer_t *p = zhashx_first(self->peers); p; p = zhashx_next(self->peers)) {
        shoal__worker_info__init(&infos[i]);
        progress_fill_worker(self, p, &infos[i], now);
        ptrs[i] = &infos[i];
        i++;
    }
    Shoal__WorkersReply reply = SHOAL__WORKERS_REPLY__INIT;
    Shoal__LeaderInfo leader;
    progress_fill_leader(self, &leader);
    reply.leader = &leader;
    reply.workers = ptrs;
    reply.n_workers = i;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_WORKERS_REPLY;
    env.workers_reply = &reply;
    s_reply(self, rid, rid_len, corr, &env);
    for (size_t k = 0; k < i; k++)
        progress_free_worker(&infos[k]);
    free(infos);
    free(ptrs);
}

void
frontend_on_message(server_t *self, const uint8_t *rid, size_t rid_len, const void *data, size_t size)
{
    char err[512];
    bool version_mismatch = false;
    Shoal__Envelope *env = NULL;
    if (size > WIRE_MAX_CLIENT_FRAME)
        snprintf(err, sizeof err, "frame too large (%zu bytes, limit %d for clients)", size,
                 WIRE_MAX_CLIENT_FRAME);
    else
        env = wire_decode(data, size, err, sizeof err, &version_mismatch);
    if (!env) {
        self->bad_messages++;
        char q[600];
        if (broker_log_budget(&self->bad_log, "bad_message"))
            log_warn("bad_message", "socket=frontend error=%s total=%llu", log_quote(err, q, sizeof q),
                     (unsigned long long) self->bad_messages);
        //  answer with the corr id if the frame carries one (read in place:
        //  decoding a frame the budget refused would cost what it refused)
        uint64_t corr = 0;
        wirescan_corr(data, size, &corr);
        frontend_send_error(self, rid, rid_len, corr,
                            version_mismatch ? SHOAL__ERROR_CODE__ERR_VERSION
                                             : SHOAL__ERROR_CODE__ERR_BAD_REQUEST, "%s", err);
        return;
    }
    uint64_t corr = env->has_corr ? env->corr : 0;
    bool mutation = env->body_case == SHOAL__ENVELOPE__BODY_JOB_OPEN
                 || env->body_case == SHOAL__ENVELOPE__BODY_SUBMIT_CHUNK
                 || env->body_case == SHOAL__ENVELOPE__BODY_JOB_SEAL
                 || env->body_case == SHOAL__ENVELOPE__BODY_JOB_CONTROL
                 || env->body_case == SHOAL__ENVELOPE__BODY_JOB_UPDATE
                 || env->body_case == SHOAL__ENVELOPE__BODY_JOB_DELETE;
    if (mutation && self->stopping) {
        frontend_send_error(self, rid, rid_len, corr, SHOAL__ERROR_CODE__ERR_SHUTDOWN,
                            "broker is shutting down; nothing was stored, try again shortly");
        wire_free(env);
        return;
    }
    switch (env->body_case) {
        case SHOAL__ENVELOPE__BODY_JOB_OPEN:
            s_on_job_open(self, rid, rid_len, corr, env->job_open);
            break;
        case SHOAL__ENVELOPE__BODY_SUBMIT_CHUNK:
            s_on_chunk(self, rid, rid_len, corr, env->submit_chunk);
            break;
        case SHOAL__ENVELOPE__BODY_JOB_SEAL:
            s_on_seal(self, rid, rid_len, corr, env->job_seal);
            break;
        case SHOAL__ENVELOPE__BODY_JOB_CONTROL:
            s_on_control(self, rid, rid_len, corr, env->job_control);
            break;
        case SHOAL__ENVELOPE__BODY_JOB_UPDATE:
            lifecycle_on_update(self, rid, rid_len, corr, env->job_update);
            break;
        case SHOAL__ENVELOPE__BODY_JOB_DELETE:
            deletion_on_request(self, rid, rid_len, corr, env->job_delete);
            break;
        case SHOAL__ENVELOPE__BODY_STATUS_REQUEST:
            s_on_status(self, rid, rid_len, corr, env->status_request->job_id);
            break;
        case SHOAL__ENVELOPE__BODY_JOBS_REQUEST: {
            store_req_t *req = s_req(STORE_QUERY_JOBS, rid, rid_len, corr);
            if (req) {
                const Shoal__JobsRequest *m = env->jobs_request;
                req->query.limit = m->has_limit && m->limit ? m->limit : 100;
                req->query.finished_before_us = m->has_finished_before_us ? m->finished_before_us : 0;
                for (size_t i = 0; i < m->n_ended; i++) {
                    req->query.ended_done |= !strcmp(m->ended[i], "done");
                    req->query.ended_failed |= !strcmp(m->ended[i], "failed");
                    req->query.ended_cancelled |= !strcmp(m->ended[i], "cancelled");
                }
                s_submit(self, self->reader, req);
            }
            break;
        }
        case SHOAL__ENVELOPE__BODY_RESULTS_REQUEST: {
            Shoal__ResultsRequest *m = env->results_request;
            store_req_t *req = s_req(STORE_QUERY_RESULTS, rid, rid_len, corr);
            if (req) {
                req->job_id = m->job_id;
                req->query.after_seq = m->has_after_seq ? m->after_seq : -1;
                req->query.limit = m->has_limit && m->limit ? m->limit : 1000;
                req->query.failed_only = m->has_failed_only && m->failed_only;
                req->query.with_body = m->has_with_body && m->with_body;
                req->query.items = m->has_items && m->items;
                s_submit(self, self->reader, req);
            }
            break;
        }
        case SHOAL__ENVELOPE__BODY_WORKERS_REQUEST:
            s_on_workers(self, rid, rid_len, corr);
            break;
        case SHOAL__ENVELOPE__BODY_SNAPSHOT_REQUEST: {
            Shoal__Snapshot *snap = progress_snapshot(self);
            if (snap) {
                Shoal__Envelope reply = SHOAL__ENVELOPE__INIT;
                reply.body_case = SHOAL__ENVELOPE__BODY_SNAPSHOT;
                reply.snapshot = snap;
                s_reply(self, rid, rid_len, corr, &reply);
                progress_free_snapshot(snap);
            }
            break;
        }
        case SHOAL__ENVELOPE__BODY_HELLO:
        case SHOAL__ENVELOPE__BODY_HEARTBEAT:
        case SHOAL__ENVELOPE__BODY_RESULTS:
        case SHOAL__ENVELOPE__BODY_BYE:
            self->bad_messages++;
            frontend_send_error(self, rid, rid_len, corr, SHOAL__ERROR_CODE__ERR_BAD_REQUEST,
                                "'%s' is a worker's message, and this is the broker's client socket"
                                " (--frontend): a worker connects to the backend (--backend, default"
                                " port 5556)", wire_body_name(env));
            break;
        default:
            self->bad_messages++;
            frontend_send_error(self, rid, rid_len, corr, SHOAL__ERROR_CODE__ERR_BAD_REQUEST,
                                "'%s' is not a client request", wire_body_name(env));
            break;
    }
    wire_free(env);
}

// ------------------------------------------------------------------ replies

static void
s_done_open(server_t *self, store_req_t *req)
{
    const store_job_t *row = &req->jobs[0];
    job_t *job = job_new(self, row);
    if (job && req->open.existed) {
        //  the row may know of a commit whose reply never reached us
        if (row->n_tasks > job->n_tasks) {
            job->n_tasks = row->n_tasks;
            job->page_more = true;
        }
        if (row->sealed)
            job->sealed = true;
        job->next_seq = job->n_tasks;
    }
    Shoal__JobOpened reply = SHOAL__JOB_OPENED__INIT;
    reply.has_job_id = reply.has_committed = reply.has_existed = reply.has_sealed = reply.has_state = 1;
    reply.job_id = row->id;
    reply.committed = job ? job->n_tasks : row->n_tasks;
    reply.existed = req->open.existed;
    reply.sealed = row->sealed;
    reply.state = row->state;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_JOB_OPENED;
    env.job_opened = &reply;
    s_reply(self, req->rid, req->rid_len, req->corr, &env);
    log_info(req->open.existed ? "job_resumed" : "job_opened", "job=%u committed=%llu", row->id,
             (unsigned long long) reply.committed);
}

static void
s_done_ingest(server_t *self, store_req_t *req)
{
    job_t *job = job_lookup(self, req->job_id);
    if (req->status != STORE_OK) {
        if (job) {
            //  a commit whose reply was lost may have happened after all: the
            //  database's count (read when a later chunk was refused) wins
            if (req->ingest.committed > job->n_tasks) {
                job->n_tasks = req->ingest.committed;
                job->page_more = true;
            }
            if (req->ingest.sealed_now)
                job->sealed = true;
            job->next_seq = job->n_tasks;   //  the chunks behind this one fail too
            job->sealing = false;
        }
        const char *hint = req->status == STORE_ERR_DOWN
                         ? "; nothing of this chunk was stored" : "";
        frontend_send_error(self, req->rid, req->rid_len, req->corr, s_error_code(req->status),
                            "%s%s", req->error, hint);
        return;
    }
    if (job) {
        if (req->ingest.committed > job->n_tasks)
            job->n_tasks = req->ingest.committed;
        if (req->ingest.seal)
            job->sealed = true;
        job->page_more = true;
        job_load_chunk(self, job, req);
    }
    Shoal__SubmitAck ack = SHOAL__SUBMIT_ACK__INIT;
    ack.has_job_id = ack.has_first_seq = ack.has_count = ack.has_committed = 1;
    ack.job_id = req->job_id;
    ack.first_seq = req->ingest.first_seq;
    ack.count = req->ingest.count;
    ack.committed = req->ingest.committed;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_SUBMIT_ACK;
    env.submit_ack = &ack;
    s_reply(self, req->rid, req->rid_len, req->corr, &env);
}

//  Apply a job row that came back from a seal or control request.
static job_t *
s_refresh_job(server_t *self, store_req_t *req)
{
    if (req->n_jobs == 0)
        return job_lookup(self, req->job_id);
    const store_job_t *row = &req->jobs[0];
    job_t *job = job_lookup(self, row->id);
    if (!job)
        job = job_new(self, row);       //  e.g. a finished job made active by retry
    if (!job)
        return NULL;
    job->sealed = row->sealed;
    job->n_tasks = row->n_tasks > job->n_tasks ? row->n_tasks : job->n_tasks;
    job->ok = row->n_ok;
    job->failed = row->n_failed;
    job->failed_total = row->n_failed_total;
    job->cancelled = row->n_cancelled;
    job_set_state(self, job, row->state);
    return job;
}

static void
s_done_control(server_t *self, store_req_t *req)
{
    if (req->status != STORE_OK) {
        frontend_send_error(self, req->rid, req->rid_len, req->corr, s_error_code(req->status),
                            "%s", req->error);
        return;
    }
    job_t *job = s_refresh_job(self, req);
    if (job && req->op == STORE_CONTROL)
        steps_mark_stale(self, job);          //  retry and cancel change result rows in the store
    const char *action = req->op == STORE_SEAL ? "seal"
                       : req->control.action == SHOAL__CONTROL_ACTION__CONTROL_PAUSE ? "pause"
                       : req->control.action == SHOAL__CONTROL_ACTION__CONTROL_RESUME ? "resume"
                       : req->control.action == SHOAL__CONTROL_ACTION__CONTROL_CANCEL ? "cancel" : "retry";
    if (job && req->op == STORE_CONTROL && req->control.action == SHOAL__CONTROL_ACTION__CONTROL_RETRY
    &&  req->control.affected) {
        //  failed tasks are unfinished again
        job_repage(self, job);
    }
    if (req->op == STORE_CONTROL) {
        log_info("job_control", "job=%u action=%s affected=%llu state=%s", req->job_id, action,
                 (unsigned long long) req->control.affected, store_state_name(req->control.new_state));
        progress_event(self, SHOAL__EVENT_TYPE__EVENT_JOB_CONTROL, req->job_id, NULL, req->control.affected,
                       "job %u: %s (%llu tasks)", req->job_id, action,
                       (unsigned long long) req->control.affected);
    }
    Shoal__JobInfo info = SHOAL__JOB_INFO__INIT;
    if (job)
        progress_fill_job(self, job, &info, clock_mono_ms());
    else
    if (req->n_jobs)
        progress_fill_job_row(&req->jobs[0], &info);
    if (req->op == STORE_SEAL)
        s_reply_job(self, req->rid, req->rid_len, req->corr, &info);
    else {
        Shoal__ControlReply reply = SHOAL__CONTROL_REPLY__INIT;
        reply.has_job_id = reply.has_affected = 1;
        reply.job_id = req->job_id;
        reply.affected = req->control.affected;
        reply.job = &info;
        Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
        env.body_case = SHOAL__ENVELOPE__BODY_CONTROL_REPLY;
        env.control_reply = &reply;
        s_reply(self, req->rid, req->rid_len, req->corr, &env);
    }
    progress_free_job(&info);
}

static void
s_done_jobs(server_t *self, store_req_t *req)
{
    size_t n = req->n_jobs;
    Shoal__JobInfo *infos = calloc(n ? n : 1, sizeof *infos);
    Shoal__JobInfo **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    if (!infos || !ptrs) {
        free(infos);
        free(ptrs);
        return;
    }
    int64_t now = clock_mono_ms();
    for (size_t i = 0; i < n; i++) {
        shoal__job_info__init(&infos[i]);
        job_t *job = job_lookup(self, req->jobs[i].id);
        if (job)
            progress_fill_job(self, job, &infos[i], now);
        else
            progress_fill_job_row(&req->jobs[i], &infos[i]);
        ptrs[i] = &infos[i];
    }
    Shoal__JobsReply reply = SHOAL__JOBS_REPLY__INIT;
    reply.jobs = ptrs;
    reply.n_jobs = n;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_JOBS_REPLY;
    env.jobs_reply = &reply;
    s_reply(self, req->rid, req->rid_len, req->corr, &env);
    for (size_t i = 0; i < n; i++)
        progress_free_job(&infos[i]);
    free(infos);
    free(ptrs);
}

void
frontend_on_store(server_t *self, store_req_t *req)
{
    if (req->op == STORE_UPDATE) {
        lifecycle_on_updated(self, req);
        store_req_destroy(&req);
        return;
    }
    if (req->op == STORE_DELETE) {
        deletion_on_store(self, req);
        return;
    }
    if (req->op == STORE_CONTROL && req->control.then_delete) {
        //  shoal delete --cancel: the job's memory follows the cancel, the
        //  reply is the deletion's
        if (req->status == STORE_OK)
            s_refresh_job(self, req);
        deletion_on_cancelled(self, req);
        store_req_destroy(&req);
        return;
    }
    if (req->status != STORE_OK && req->op != STORE_INGEST && req->op != STORE_CONTROL
    &&  req->op != STORE_SEAL) {
        frontend_send_error(self, req->rid, req->rid_len, req->corr, s_error_code(req->status),
                            "%s", req->error);
        store_req_destroy(&req);
        return;
    }
    switch (req->op) {
        case STORE_OPEN_JOB:
            s_done_open(self, req);
            break;
        case STORE_INGEST:
            s_done_ingest(self, req);
            break;
        case STORE_SEAL:
        case STORE_CONTROL:
            s_done_control(self, req);
            break;
        case STORE_QUERY_JOB: {
            Shoal__JobInfo info = SHOAL__JOB_INFO__INIT;
            progress_fill_job_row(&req->jobs[0], &info);
            s_reply_job(self, req->rid, req->rid_len, req->corr, &info);
            progress_free_job(&info);
            break;
        }
        case STORE_QUERY_JOBS:
            s_done_jobs(self, req);
            break;
        case STORE_QUERY_RESULTS:
            zmq_send(self->frontend_raw, req->rid, req->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(self->frontend_raw, req->query.reply, req->query.reply_len, ZMQ_DONTWAIT);
            break;
        default:
            break;
    }
    store_req_destroy(&req);
}
