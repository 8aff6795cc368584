/*  lifecycle — a job's life after its submit: shoal update changes its
    defaults while it runs.

    The change is merged over the stored defaults by the writer's store
    thread (store_lifecycle.c, jobupdate.c) and comes back as the job row;
    only then does the dispatcher swap the job's defaults in memory. Tasks
    dispatched from then on carry the new defaults (dispatch.c packs
    job->defaults into each Tasks message); a worker keeps its own copy of
    the defaults a task was sent with (worker/run.c), so tasks already
    running finish with the old ones. */
#include "broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "taskspec.h"

#define MAX_PRIORITY 1000

void
lifecycle_apply_defaults(job_t *job, const store_job_t *row)
{
    Shoal__JobDefaults *d = row->defaults_len
                          ? shoal__job_defaults__unpack(NULL, row->defaults_len, row->defaults) : NULL;
    if (!d) {
        d = malloc(sizeof *d);
        if (!d)
            return;                     //  the old defaults stay
        shoal__job_defaults__init(d);
    }
    if (job->defaults)
        shoal__job_defaults__free_unpacked(job->defaults, NULL);
    job->defaults = d;
    job->defaults_size = shoal__job_defaults__get_packed_size(d);
    job->max_per_host = d->hosts ? d->hosts->max_per_host : 0;
    job->rate_per_host = d->hosts ? d->hosts->rate_per_host : 0;
    job->updated_us = row->updated_us;
    free(job->update_note);
    job->update_note = row->update_note ? strdup(row->update_note) : NULL;
}

void
lifecycle_on_update(server_t *self, const uint8_t *rid, size_t rid_len, uint64_t corr,
                    const Shoal__JobUpdate *m)
{
    char err[512] = "";
    if (!m->job_id)
        snprintf(err, sizeof err, "update: job_id missing");
    else
    if (m->priority > MAX_PRIORITY)
        snprintf(err, sizeof err, "update: priority %u out of range 1..%d", m->priority, MAX_PRIORITY);
    else
    if (m->defaults && taskspec_validate_defaults(m->defaults, err, sizeof err) != 0) {
        char inner[480];
        snprintf(inner, sizeof inner, "%.470s", err);
        snprintf(err, sizeof err, "update: defaults: %s", inner);
    }
    if (err[0]) {
        frontend_send_error(self, rid, rid_len, corr, SHOAL__ERROR_CODE__ERR_BAD_REQUEST, "%s", err);
        return;
    }
    store_req_t *req = store_req_new(STORE_UPDATE);
    if (!req) {
        frontend_send_error(self, rid, rid_len, corr, SHOAL__ERROR_CODE__ERR_INTERNAL, "out of memory");
        return;
    }
    memcpy(req->rid, rid, rid_len);
    req->rid_len = rid_len;
    req->corr = corr;
    req->job_id = m->job_id;
    req->update.priority = m->priority;
    if (m->defaults) {
        req->update.change_len = shoal__job_defaults__get_packed_size(m->defaults);
        req->update.change = malloc(req->update.change_len ? req->update.change_len : 1);
        if (req->update.change)
            shoal__job_defaults__pack(m->defaults, req->update.change);
        else
            req->update.change_len = 0;
    }
    //  on the writer: ordered with the job's result writes and control
    if (store_submit(self->writer, req) != 0) {
        frontend_send_error(self, rid, rid_len, corr, SHOAL__ERROR_CODE__ERR_INTERNAL,
                            "broker cannot reach its store thread");
        store_req_destroy(&req);
    }
}

//  The error code a store status answers with.
static Shoal__ErrorCode
s_code(store_status_t status)
{
    return status == STORE_ERR_DOWN ? SHOAL__ERROR_CODE__ERR_UNAVAILABLE
         : status == STORE_ERR_NOT_FOUND ? SHOAL__ERROR_CODE__ERR_NOT_FOUND
         : status == STORE_ERR_STATE ? SHOAL__ERROR_CODE__ERR_STATE : SHOAL__ERROR_CODE__ERR_INTERNAL;
}

void
lifecycle_on_updated(server_t *self, store_req_t *req)
{
    if (req->status != STORE_OK || req->n_jobs == 0) {
        frontend_send_error(self, req->rid, req->rid_len, req->corr, s_code(req->status), "%s",
                            req->error[0] ? req->error : "update: the job row did not come back");
        return;
    }
    const store_job_t *row = &req->jobs[0];
    job_t *job = job_lookup(self, row->id);
    if (job) {
        lifecycle_apply_defaults(job, row);
        job->priority = row->priority ? row->priority : 1;
    }
    char q[1100];
    log_info("job_update", "job=%u changed=%s in_memory=%s", row->id,
             log_quote(row->update_note ? row->update_note : "", q, sizeof q), job ? "yes" : "no");
    progress_event(self, SHOAL__EVENT_TYPE__EVENT_JOB_CONTROL, row->id, NULL, 0, "job %u: update (%s)",
                   row->id, row->update_note ? row->update_note : "");
    Shoal__JobInfo info = SHOAL__JOB_INFO__INIT;
    if (job)
        progress_fill_job(self, job, &info, clock_mono_ms());
    else
        progress_fill_job_row(row, &info);
    Shoal__ControlReply reply = SHOAL__CONTROL_REPLY__INIT;
    reply.has_job_id = reply.has_affected = 1;
    reply.job_id = row->id;
    reply.job = &info;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_CONTROL_REPLY;
    env.control_reply = &reply;
    env.has_corr = 1;
    env.corr = req->corr;
    frontend_send(self, req->rid, req->rid_len, &env);
    progress_free_job(&info);
}
