/*  deletion — shoal delete / prune / DELETE /v1/jobs/{id} in the broker.

    A JobDelete becomes a STORE_DELETE on the janitor, a store thread with
    its own connection, so the writer's result batches never queue behind
    a deletion (store_delete.c does it in short transactions). The request
    travels back and forth a slice at a time until every row is gone; the
    client is answered with the counts at the end.

    Before a job is handed to the janitor, nothing of it may still be on
    its way to the database: an active job is cancelled first (on the
    writer, ordered with its result batches; only with `cancel`), and a job
    whose last results are still in a write batch waits for their commit
    (checked at every cron). Once claimed, the job leaves memory: status,
    snapshots (monitor, gateway) and lists no longer show it. */
#include "broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

//  Give a deletion to the janitor, or answer that it cannot be.
static void
s_submit(server_t *self, store_req_t *req)
{
    if (store_submit(self->janitor, req) != 0) {
        if (req->rid_len)
            frontend_send_error(self, req->rid, req->rid_len, req->corr, SHOAL__ERROR_CODE__ERR_INTERNAL,
                                "broker cannot reach its store thread");
        store_req_destroy(&req);
    }
}

//  True when nothing of the job is in memory or on its way to the
//  database (no result row can be written after the janitor's delete).
static bool
s_quiet(server_t *self, uint32_t job_id)
{
    job_t *job = job_lookup(self, job_id);
    return !job || job_in_memory(job) == 0;
}

//  Hand the deletion over now, or park it until the job is quiet.
static void
s_start(server_t *self, store_req_t *req)
{
    if (s_quiet(self, req->job_id))
        s_submit(self, req);
    else
    if (zlist_append(self->deletes_waiting, req) != 0) {
        frontend_send_error(self, req->rid, req->rid_len, req->corr, SHOAL__ERROR_CODE__ERR_INTERNAL,
                            "out of memory");
        store_req_destroy(&req);
    }
}

void
deletion_on_request(server_t *self, const uint8_t *rid, size_t rid_len, uint64_t corr,
                    const Shoal__JobDelete *m)
{
    store_req_t *req = store_req_new(STORE_DELETE);
    if (!req) {
        frontend_send_error(self, rid, rid_len, corr, SHOAL__ERROR_CODE__ERR_INTERNAL, "out of memory");
        return;
    }
    memcpy(req->rid, rid, rid_len);
    req->rid_len = rid_len;
    req->corr = corr;
    req->job_id = m->job_id;
    req->del.batch = (uint32_t) self->cfg.delete_batch;
    req->del.budget_ms = DELETION_SLICE_MS;
    req->del.cancel = m->has_cancel && m->cancel;
    job_t *job = job_lookup(self, m->job_id);
    bool active = job && !job->deleted && (job->state == SHOAL__JOB_STATE__JOB_ACTIVE
                                           || job->state == SHOAL__JOB_STATE__JOB_PAUSED);
    if (active && !req->del.cancel) {
        frontend_send_error(self, rid, rid_len, corr, SHOAL__ERROR_CODE__ERR_STATE,
                            "job %u is %s: only finished (done or cancelled) jobs are deleted; cancel it"
                            " first (shoal delete --cancel, DELETE /v1/jobs/%u?cancel=1)", job->id,
                            store_state_name(job->state), job->id);
        store_req_destroy(&req);
        return;
    }
    if (!active) {
        s_start(self, req);
        return;
    }
    //  cancel on the writer, in order with the job's results; the
    //  deletion rides along and starts when the cancel is stored
    store_req_t *cancel = store_req_new(STORE_CONTROL);
    if (!cancel) {
        frontend_send_error(self, rid, rid_len, corr, SHOAL__ERROR_CODE__ERR_INTERNAL, "out of memory");
        store_req_destroy(&req);
        return;
    }
    memcpy(cancel->rid, rid, rid_len);
    cancel->rid_len = rid_len;
    cancel->corr = corr;
    cancel->job_id = m->job_id;
    cancel->control.action = SHOAL__CONTROL_ACTION__CONTROL_CANCEL;
    cancel->control.then_delete = req;
    if (store_submit(self->writer, cancel) != 0) {
        frontend_send_error(self, rid, rid_len, corr, SHOAL__ERROR_CODE__ERR_INTERNAL,
                            "broker cannot reach its store thread");
        store_req_destroy(&cancel);
    }
}

void
deletion_on_cancelled(server_t *self, store_req_t *cancel)
{
    store_req_t *req = cancel->control.then_delete;
    cancel->control.then_delete = NULL;
    if (cancel->status != STORE_OK && cancel->status != STORE_ERR_STATE) {
        //  a job that finished meanwhile (STATE) is deleted all the same
        frontend_send_error(self, req->rid, req->rid_len, req->corr,
                            cancel->status == STORE_ERR_NOT_FOUND ? SHOAL__ERROR_CODE__ERR_NOT_FOUND
                            : cancel->status == STORE_ERR_DOWN ? SHOAL__ERROR_CODE__ERR_UNAVAILABLE
                            : SHOAL__ERROR_CODE__ERR_INTERNAL, "cancelling before the delete: %s",
                            cancel->error);
        store_req_destroy(&req);
        return;
    }
    req->del.cancelled = cancel->status == STORE_OK;
    s_start(self, req);
}

void
deletion_cron(server_t *self)
{
    size_t n = zlist_size(self->deletes_waiting);
    for (size_t i = 0; i < n; i++) {
        store_req_t *req = zlist_pop(self->deletes_waiting);
        if (s_quiet(self, req->job_id))
            s_submit(self, req);
        else
            zlist_append(self->deletes_waiting, req);
    }
}

void
deletion_resume(server_t *self)
{
    store_req_t *req = store_req_new(STORE_DELETE);
    if (!req)
        return;
    req->del.resume = true;
    req->del.batch = (uint32_t) self->cfg.delete_batch;
    req->del.budget_ms = DELETION_SLICE_MS;
    s_submit(self, req);
}

//  The job's rows are claimed: it leaves memory (now, or once its lanes'
//  timers have fired, which point at it).
static void
s_forget_job(server_t *self, uint32_t job_id)
{
    job_t *job = job_lookup(self, job_id);
    if (!job)
        return;
    if (job->lane_timers == 0 && job_in_memory(job) == 0)
        job_destroy(self, &job);
    else {
        job->deleted = true;    //  invisible; job_timers frees it
        if (!job->finished_ms)
            job->finished_ms = 1;
    }
}

//  The reply: what was deleted.
static void
s_reply(server_t *self, store_req_t *req)
{
    const store_delete_t *d = &req->del;
    Shoal__JobDeleted m = SHOAL__JOB_DELETED__INIT;
    m.has_job_id = m.has_state = m.has_tasks = m.has_results = m.has_attempts = m.has_updates = 1;
    m.has_batches = m.has_longest_ms = m.has_cancelled = 1;
    m.job_id = req->job_id;
    m.name = d->name;
    m.state = d->state;
    m.tasks = d->tasks;
    m.results = d->results;
    m.attempts = d->attempts;
    m.updates = d->updates;
    m.batches = d->batches;
    m.longest_ms = d->longest_ms;
    m.cancelled = d->cancelled;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_JOB_DELETED;
    env.job_deleted = &m;
    env.has_corr = 1;
    env.corr = req->corr;
    frontend_send(self, req->rid, req->rid_len, &env);
}

void
deletion_on_store(server_t *self, store_req_t *req)
{
    store_delete_t *d = &req->del;
    bool answer = req->rid_len > 0;
    if (req->status != STORE_OK) {
        bool none_left = d->resume && req->status == STORE_ERR_NOT_FOUND && !d->claimed;
        if (answer)
            frontend_send_error(self, req->rid, req->rid_len, req->corr,
                                req->status == STORE_ERR_NOT_FOUND ? SHOAL__ERROR_CODE__ERR_NOT_FOUND
                                : req->status == STORE_ERR_STATE ? SHOAL__ERROR_CODE__ERR_STATE
                                : req->status == STORE_ERR_DOWN ? SHOAL__ERROR_CODE__ERR_UNAVAILABLE
                                : SHOAL__ERROR_CODE__ERR_INTERNAL, "%s%s", req->error,
                                d->claimed ? " (the job is gone from view; its remaining rows are"
                                             " deleted at the broker's next start)" : "");
        if (!none_left) {
            char q[600];
            log_warn("job_delete_failed", "job=%u claimed=%s error=%s", req->job_id, d->claimed ? "yes" : "no",
                     log_quote(req->error, q, sizeof q));
        }
        store_req_destroy(&req);
        return;
    }
    s_forget_job(self, req->job_id);
    if (d->more && !self->stopping) {
        s_submit(self, req);        //  the next slice
        return;
    }
    char q[300];
    log_info(d->more ? "job_delete_paused" : "job_deleted",
             "job=%u name=%s state=%s tasks=%llu results=%llu attempts=%llu updates=%llu batches=%u"
             " longest_ms=%u resumed=%s", req->job_id, log_quote(d->name ? d->name : "", q, sizeof q),
             store_state_name(d->state), (unsigned long long) d->tasks, (unsigned long long) d->results,
             (unsigned long long) d->attempts, (unsigned long long) d->updates, d->batches, d->longest_ms,
             d->resume ? "yes" : "no");
    if (!d->more)
        progress_event(self, SHOAL__EVENT_TYPE__EVENT_JOB_CONTROL, req->job_id, NULL, d->tasks,
                       "job %u: deleted (%llu tasks)", req->job_id, (unsigned long long) d->tasks);
    if (answer && d->more)
        frontend_send_error(self, req->rid, req->rid_len, req->corr, SHOAL__ERROR_CODE__ERR_SHUTDOWN,
                            "broker is shutting down: job %u is gone from view, its remaining rows are"
                            " deleted at the broker's next start", req->job_id);
    else
    if (answer)
        s_reply(self, req);
    bool sweep = d->resume && !d->more && !self->stopping;
    store_req_destroy(&req);
    if (sweep)
        deletion_resume(self);      //  the next pending one, if any
}

void
deletion_drop_waiting(server_t *self)
{
    store_req_t *req;
    while ((req = zlist_pop(self->deletes_waiting))) {
        frontend_send_error(self, req->rid, req->rid_len, req->corr, SHOAL__ERROR_CODE__ERR_SHUTDOWN,
                            "broker is shutting down; job %u was not deleted", req->job_id);
        store_req_destroy(&req);
    }
}
