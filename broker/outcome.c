/*  outcome — what a result from a worker means.

    Fencing first: a result counts only if it carries the task's current
    lease, or a lease from an earlier broker run (the worker finished the
    task while the broker was away; the first such result wins). Anything
    else is stale: counted, acked so the worker forgets it, never stored.

    Then the verdict: stored as ok, stored as failed (permanent error or out
    of attempts), or retried after a backoff (an attempt row is logged).
    Every row goes into the filling batch; the worker gets its ack once the
    batch is committed. */
#include "broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "log.h"
#include "taskspec.h"
#include "text.h"

#define MAX_ERROR_TEXT   4096
//  what a worker keeps of each stream is at most this (exec.tail_bytes)
#define MAX_OUTPUT_TEXT  TASKSPEC_MAX_TAIL

typedef enum {
    VERDICT_OK,         //  store as ok
    VERDICT_FAIL,       //  store as failed
    VERDICT_RETRY,      //  log the attempt, run again after a backoff
    VERDICT_REQUEUE,    //  log the attempt (not counted), run again now
    VERDICT_DROP        //  nothing to store (job cancelled meanwhile)
} verdict_t;

static void
s_ack_now(Shoal__TaskRef ***acks, size_t *n, uint64_t task_id, uint64_t lease)
{
    Shoal__TaskRef **grown = realloc(*acks, (*n + 1) * sizeof **acks);
    if (!grown)
        return;
    *acks = grown;
    Shoal__TaskRef *ref = malloc(sizeof *ref);
    if (!ref)
        return;
    shoal__task_ref__init(ref);
    ref->has_task_id = ref->has_lease = 1;
    ref->task_id = task_id;
    ref->lease = lease;
    (*acks)[(*n)++] = ref;
}

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

//  Append one row of the results table (column order of schema.c).
static void
s_result_row(pgbuf_t *b, uint32_t job_id, uint32_t seq, const char *outcome, uint32_t attempt,
             const char *worker, const char *error, const Shoal__Result *r)
{
    pgcopy_row(b, 27);
    pgcopy_int4(b, (int32_t) job_id);
    pgcopy_int4(b, (int32_t) seq);
    pgcopy_cstr(b, outcome);
    pgcopy_int4(b, (int32_t) attempt);
    char *w = s_clean(worker, 256);
    pgcopy_cstr(b, w);
    free(w);
    char *e = s_clean(error, MAX_ERROR_TEXT);
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
        char *ctype = s_clean(s_header(h, "content-type"), 1024);
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
                  ? text_sanitize_tail((const char *) x->stdout_tail.data, x->stdout_tail.len, MAX_OUTPUT_TEXT) : NULL;
        char *err = x->has_stderr_tail
                  ? text_sanitize_tail((const char *) x->stderr_tail.data, x->stderr_tail.len, MAX_OUTPUT_TEXT) : NULL;
        pgcopy_cstr(b, out);
        pgcopy_cstr(b, err);
        free(out);
        free(err);
    }
    else
        for (int i = 0; i < 4; i++)
            pgcopy_null(b);
}

//  Append one row of the attempts table.
static void
s_attempt_row(pgbuf_t *b, uint32_t job_id, uint32_t seq, uint32_t attempt, const char *worker,
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
    char *e = s_clean(error, MAX_ERROR_TEXT);
    pgcopy_cstr(b, e);
    free(e);
    if (http_status) pgcopy_int4(b, (int32_t) http_status); else pgcopy_null(b);
    pgcopy_timestamptz(b, started_us);
    pgcopy_timestamptz(b, finished_us);
    pgcopy_timestamptz(b, retry_at_us);
    pgcopy_bool(b, counted);
}

static double
s_random01(void)
{
    return (double) random() / ((double) RAND_MAX + 1.0);
}

//  Decide what a result means. Fills error text for failures (static or buf).
static verdict_t
s_classify(const job_t *job, const Shoal__Result *r, const retry_policy_t *policy,
           uint32_t tries_after, char *error, size_t errlen, const char **attempt_outcome)
{
    error[0] = 0;
    if (r->error)
        snprintf(error, errlen, "%s", r->error);
    bool retryable;
    switch (r->outcome) {
        case SHOAL__OUTCOME__OUTCOME_OK:
            if (r->http && r->http->has_status) {
                uint32_t status = r->http->status;
                if (taskspec_status_retryable(policy, status)) {
                    if (!error[0])
                        snprintf(error, errlen, "HTTP %u", status);
                    *attempt_outcome = "http_error";
                    retryable = true;
                    break;
                }
                if (status >= 400) {
                    if (!error[0])
                        snprintf(error, errlen, "HTTP %u", status);
                    return VERDICT_FAIL;
                }
            }
            return VERDICT_OK;
        case SHOAL__OUTCOME__OUTCOME_ERROR:
            *attempt_outcome = "error";
            if (r->has_permanent && r->permanent)
                return VERDICT_FAIL;    //  too many redirects, TLS verification, a missing file
            retryable = true;
            break;
        case SHOAL__OUTCOME__OUTCOME_TIMEOUT:
            *attempt_outcome = "timeout";
            if (!error[0])
                snprintf(error, errlen, "timed out");
            retryable = true;
            break;
        case SHOAL__OUTCOME__OUTCOME_CANCELLED:
            if (job->state == SHOAL__JOB_STATE__JOB_CANCELLED)
                return VERDICT_DROP;
            *attempt_outcome = "aborted";
            return VERDICT_REQUEUE;
        case SHOAL__OUTCOME__OUTCOME_REJECTED:
        default:
            if (!error[0])
                snprintf(error, errlen, "rejected by the worker");
            return VERDICT_FAIL;
    }
    if (retryable && tries_after < policy->max_attempts)
        return VERDICT_RETRY;
    //  out of attempts: the last error stands
    return VERDICT_FAIL;
}

//  A 429/503 slows the whole host lane down, honouring Retry-After.
static void
s_throttle(server_t *self, lane_t *lane, const Shoal__Result *r, uint32_t delay_ms)
{
    if (!lane || !r->http || !r->http->has_status)
        return;
    uint32_t status = r->http->status;
    if (status != 429 && status != 503) {
        lane->penalty = 0;
        return;
    }
    lane->penalty = lane->penalty < 10 ? lane->penalty + 1 : 10;
    int64_t until = clock_mono_ms() + delay_ms;
    if (until > lane->blocked_until_ms)
        lane->blocked_until_ms = until;
    job_lane_update(self, lane);
}

#define ANSWERED_MEMORY 65536     //  committed results remembered for resends

void
outcome_committed(server_t *self, uint64_t task_id, uint64_t lease)
{
    uint64_t old = self->answered_ring[self->answered_pos];
    if (old && old != task_id)
        u64map_remove(self->answered, old);
    self->answered_ring[self->answered_pos] = task_id;
    self->answered_pos = (self->answered_pos + 1) % ANSWERED_MEMORY;
    u64map_put(self->answered, task_id, (void *) (uintptr_t) lease);
}

//  Take the task out of wherever it is, so that this result decides its fate.
static void
s_take_out(server_t *self, task_t *task, bool current)
{
    job_t *job = task->job;
    switch (task->state) {
        case TASK_LEASED: {
            peer_t *holder = task->worker;
            if (!current)
                backend_cancel_task(self, task);    //  someone else runs it: stop them
            if (task->prev) task->prev->next = task->next; else holder->tasks = task->next;
            if (task->next) task->next->prev = task->prev;
            task->prev = task->next = NULL;
            holder->leased--;
            task->lane->running--;
            job->n_leased--;
            job_lane_update(self, task->lane);
            dispatch_peer_ready(self, holder);
            break;
        }
        case TASK_QUEUED:
            job_task_dequeue(self, task);
            job_lane_update(self, task->lane);
            break;
        case TASK_WAITING:
            job->n_waiting--;
            break;
        default:
            break;
    }
}

void
outcome_apply(server_t *self, peer_t *sender, const char *worker_id, const uint8_t *rid,
              size_t rid_len, Shoal__Result *r, Shoal__TaskRef ***acks, size_t *n_acks)
{
    uint64_t task_id = r->task_id;
    uint32_t job_id = (uint32_t) (task_id >> 32);
    uint32_t seq = (uint32_t) task_id;
    task_t *task = u64map_get(self->tasks, task_id);
    job_t *job = job_lookup(self, job_id);
    if (sender)
        held_release(self, sender, r->lease);
    if (r->lease < (1ULL << 40) || (job && seq >= job->n_tasks)) {
        //  no broker ever issued this lease, or the task does not exist
        self->bad_messages++;
        log_warn("bad_result", "task=%u/%u lease=%llx", job_id, seq, (unsigned long long) r->lease);
        s_ack_now(acks, n_acks, task_id, r->lease);
        return;
    }
    //  a result we already took, sent again (an ack overdue, a reconnect):
    //  its ack leaves with its batch's commit, or left already
    if (task && task->answered == r->lease) {
        if (task->state != TASK_COMMITTING && task->answer_committed)
            s_ack_now(acks, n_acks, task_id, r->lease);
        return;
    }
    if (!task && (uint64_t) (uintptr_t) u64map_get(self->answered, task_id) == r->lease) {
        s_ack_now(acks, n_acks, task_id, r->lease);
        return;
    }
    if (job && job->state == SHOAL__JOB_STATE__JOB_CANCELLED) {
        //  the answers of tasks the cancel stopped: its rows are written
        s_ack_now(acks, n_acks, task_id, r->lease);
        return;
    }
    bool current = task && task->state == TASK_LEASED && task->lease == r->lease;
    //  a lease of an earlier broker run (epochs start at 1: epoch 0 was
    //  never issued) for a task that exists: a task not in memory must be
    //  below its job's committed count
    uint64_t lease_epoch = r->lease >> 40;
    bool recovered = !current && lease_epoch >= 1 && lease_epoch < self->epoch
                  && (task || (job && seq < job->n_tasks));
    if (!current && !recovered) {
        //  a lease this broker run replaced: the worker was declared lost
        //  or the lease expired, and the task went to someone else
        self->stale_total++;
        if (job) {
            job->stale++;
            batch_add_delta(self->filling, job_id, 0, 1);
        }
        log_debug("stale_result", "task=%u/%u lease=%llx", job_id, seq, (unsigned long long) r->lease);
        s_ack_now(acks, n_acks, task_id, r->lease);
        return;
    }
    if (!job || (job->state != SHOAL__JOB_STATE__JOB_ACTIVE && job->state != SHOAL__JOB_STATE__JOB_PAUSED)) {
        //  the job is finished: its rows are complete
        s_ack_now(acks, n_acks, task_id, r->lease);
        return;
    }
    if (task && task->state == TASK_COMMITTING) {
        //  an earlier broker run's result for a task whose result is on its way in
        s_ack_now(acks, n_acks, task_id, r->lease);
        return;
    }
    Shoal__TaskSpec *spec = task ? job_task_spec(task) : NULL;
    retry_policy_t policy;
    taskspec_retry_policy(spec, job->defaults, &policy);
    uint32_t attempt = r->has_attempt && r->attempt ? r->attempt : task ? task->attempt + 1 : 1;
    uint32_t tries_after = (task ? task->tries : attempt - 1) + 1;
    char error[MAX_ERROR_TEXT];
    const char *attempt_outcome = "error";
    verdict_t verdict = s_classify(job, r, &policy, tries_after, error, sizeof error, &attempt_outcome);
    if (!current && task && task->state == TASK_LEASED && verdict != VERDICT_OK && verdict != VERDICT_FAIL) {
        //  an earlier run's failed attempt, while the task runs again here:
        //  let the current run decide
        if (spec)
            shoal__task_spec__free_unpacked(spec, NULL);
        s_ack_now(acks, n_acks, task_id, r->lease);
        return;
    }
    if (task) {
        s_take_out(self, task, current);
        task->answered = r->lease;
        task->answer_committed = false;
    }
    int64_t now_us = clock_wall_us();
    int64_t started = r->has_started_us ? r->started_us : task ? task->leased_us : 0;
    int64_t finished = r->has_finished_us ? r->finished_us : now_us;
    uint32_t status = r->http && r->http->has_status ? r->http->status : 0;
    batch_t *batch = self->filling;
    const char *worker = worker_id ? worker_id : sender ? sender->worker_id : NULL;

    switch (verdict) {
        case VERDICT_OK:
        case VERDICT_FAIL:
            s_result_row(&batch->req->rows, job_id, seq, verdict == VERDICT_OK ? "ok" : "failed",
                         attempt, worker, verdict == VERDICT_OK ? (r->error ? r->error : NULL) : error, r);
            batch_count_result(batch, job_id, verdict == VERDICT_OK ? "ok" : "failed");
            if (task) {
                task->state = TASK_COMMITTING;
                task->gen++;
                task->attempt = attempt;
                job->n_committing++;
                zlist_append(batch->commit, task);
                progress_task_done(self, task, r, verdict == VERDICT_FAIL, error);
            }
            if (sender) {
                if (verdict == VERDICT_OK) sender->done++; else sender->failed++;
                rate_add(&sender->rate, clock_mono_ms(), 1);
            }
            if (verdict == VERDICT_FAIL)
                progress_event(self, SHOAL__EVENT_TYPE__EVENT_TASK_FAILED, job_id, worker, seq,
                               "job %u task %u failed after %u attempts: %s", job_id, seq, attempt, error);
            break;
        case VERDICT_RETRY: {
            uint32_t delay = taskspec_backoff_ms(&policy, tries_after + 1, s_random01());
            if (r->has_retry_after_ms && r->retry_after_ms > delay)
                delay = r->retry_after_ms;
            s_attempt_row(&batch->req->attempt_rows, job_id, seq, attempt, worker, attempt_outcome,
                          error, status, started, finished, now_us + (int64_t) delay * 1000, true);
            batch_add_delta(batch, job_id, 1, 0);
            job->retries++;
            if (task) {
                task->attempt = attempt;
                task->tries = tries_after;
                //  rounded up: the task must not start before retry_at
                job_task_wait(self, task, (clock_mono_us() + 999) / 1000 + delay);
                s_throttle(self, task->lane, r, delay);
                batch_add_answer(batch, task_id, r->lease);
            }
            if (sender)
                sender->failed++;
            break;
        }
        case VERDICT_REQUEUE:
            s_attempt_row(&batch->req->attempt_rows, job_id, seq, attempt, worker, attempt_outcome,
                          error[0] ? error : "aborted by the worker", status, started, finished, 0, false);
            if (task) {
                task->attempt = attempt;
                job_task_enqueue(self, task, true);
                batch_add_answer(batch, task_id, r->lease);
            }
            break;
        case VERDICT_DROP:
            if (task)
                job_task_forget(self, task);
            s_ack_now(acks, n_acks, task_id, r->lease);
            if (spec)
                shoal__task_spec__free_unpacked(spec, NULL);
            return;
    }
    if (spec)
        shoal__task_spec__free_unpacked(spec, NULL);
    if (!task) {
        //  finished (or tried) by a worker of an earlier broker run and not
        //  in memory: keep the pager from handing it out again
        if (verdict == VERDICT_OK || verdict == VERDICT_FAIL)
            u64map_put(self->recovered, task_id, (void *) 1);
        else
        if ((int64_t) seq > job->frontier)
            job->frontier = seq;
    }
    batch_add_ack(batch, rid, rid_len, task_id, r->lease);
    if (!batch->first_ms)
        batch->first_ms = clock_mono_ms();
}

void
outcome_lost(server_t *self, task_t *task, const char *outcome, const char *why, bool counted)
{
    //  the caller detached the task from its worker
    job_t *job = task->job;
    const char *worker = task->worker ? task->worker->worker_id : NULL;
    task->lane->running--;
    job->n_leased--;
    task->worker = NULL;
    uint32_t attempt = task->attempt + 1;
    uint32_t tries_after = task->tries + (counted ? 1 : 0);
    batch_t *batch = self->filling;
    int64_t now_us = clock_wall_us();
    Shoal__TaskSpec *spec = job_task_spec(task);
    retry_policy_t policy;
    taskspec_retry_policy(spec, job->defaults, &policy);
    if (spec)
        shoal__task_spec__free_unpacked(spec, NULL);
    task->attempt = attempt;
    task->tries = tries_after;
    if (counted && tries_after >= policy.max_attempts) {
        //  a task that keeps killing its workers ends here instead of
        //  taking down the fleet
        char error[512];
        snprintf(error, sizeof error, "%s; gave up after %u attempts", why, attempt);
        Shoal__Result r = SHOAL__RESULT__INIT;
        r.has_started_us = task->leased_us != 0;
        r.started_us = task->leased_us;
        s_result_row(&batch->req->rows, job->id, (uint32_t) task->id, "failed", attempt, worker, error, &r);
        batch_count_result(batch, job->id, "failed");
        task->state = TASK_COMMITTING;
        task->gen++;
        job->n_committing++;
        zlist_append(batch->commit, task);
        progress_task_done(self, task, NULL, true, error);
        progress_event(self, SHOAL__EVENT_TYPE__EVENT_TASK_FAILED, job->id, worker, (uint32_t) task->id,
                       "job %u task %u failed: %s", job->id, (uint32_t) task->id, error);
    }
    else {
        s_attempt_row(&batch->req->attempt_rows, job->id, (uint32_t) task->id, attempt, worker,
                      outcome, why, 0, task->leased_us, now_us, 0, counted);
        job_task_enqueue(self, task, true);
    }
    if (!batch->first_ms)
        batch->first_ms = clock_mono_ms();
    job_lane_update(self, task->lane);
}
