/*  outcome — what a result from a worker does to its task.

    Three steps. Fence (fence.c): a result counts only if it carries the
    task's current lease, or a lease from an earlier broker run on this
    database (the worker finished the task while the broker was away; the
    first such result wins); anything else is bad, a duplicate or stale:
    counted, acked so the worker forgets it, never stored. Classify
    (retry.c): ok, failed, retried after a backoff, requeued. Record (here):
    the result or attempt row goes into the filling batch, the task moves
    on (task.c), and the worker gets its ack once the batch is committed. */
#include "broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "errbuf.h"
#include "fence.h"
#include "lane.h"
#include "log.h"
#include "schema_rows.h"
#include "retry.h"
#include "task.h"
#include "taskspec.h"
#include "text.h"

#define MAX_ERROR_TEXT   SCHEMA_ROWS_MAX_ERROR

//  Add (task, lease) to the acks that go out at once (refused or known results).
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

//  The fence's view of a result for task_id.
static fence_t
s_fence(server_t *self, const task_t *task, const job_t *job, uint64_t task_id, uint64_t lease)
{
    fence_input_t in = {
        .lease = lease, .seq = (uint32_t) task_id,
        .epoch = self->epoch, .lease_tag = self->lease_tag,
        .job_known = job != NULL, .job_tasks = job ? job->n_tasks : 0,
        .job_child_top = job && job->child_top >= (int64_t) FENCE_CHILD_BASE
                       ? (uint64_t) job->child_top : 0,
        .task_known = task != NULL, .task_leased = task && task->state == TASK_LEASED,
        .task_lease = task ? task->lease : 0,
        .answered = task ? task->answered : (uint64_t) (uintptr_t) u64map_get(self->answered, task_id),
    };
    return fence_judge(&in);
}

//  One result (or a loss) on its way into the batch.
typedef struct {
    job_t    *job;
    task_t   *task;         //  NULL: not in memory (an earlier run's lease)
    uint32_t  seq;
    uint32_t  attempt;
    const char *worker;     //  worker id for the rows
    const Shoal__Result *r; //  what the worker said (a loss: started_us only)
    bool      lost;         //  no result: the worker or the lease was lost
    bool      deferred;     //  its children render over the next turns (fanout.c)
} record_t;

//  The task's final row: stored as ok or failed; the task waits for the commit.
static void
s_record_final(server_t *self, const record_t *rec, bool ok, const char *error)
{
    batch_t *batch = self->filling;
    uint32_t job_id = rec->job->id;
    schema_rows_result(&batch->req->write.rows, job_id, rec->seq, ok ? "ok" : "failed", rec->attempt, rec->worker,
                 error, rec->r);
    batch_count_result(batch, job_id, ok ? "ok" : "failed");
    steps_count_result(batch, rec->job, rec->task, rec->seq, rec->lost ? NULL : rec->r, ok ? 'o' : 'f');
    if (rec->task) {
        rec->task->attempt = rec->attempt;
        task_commit(self, rec->task, batch);
        progress_task_done(self, rec->task, rec->lost ? NULL : rec->r, !ok, error);
    }
    if (!ok && rec->lost)
        progress_event(self, SHOAL__EVENT_TYPE__EVENT_TASK_FAILED, job_id, rec->worker, rec->seq,
                       "job %u task %u failed: %s", job_id, rec->seq, error);
    else
    if (!ok)
        progress_event(self, SHOAL__EVENT_TYPE__EVENT_TASK_FAILED, job_id, rec->worker, rec->seq,
                       "job %u task %u failed after %u attempts: %s", job_id, rec->seq, rec->attempt,
                       error);
}

//  An attempt row; the task goes back to its queue (at once, or after delay_ms).
static void
s_record_attempt(server_t *self, const record_t *rec, const char *outcome, const char *error,
                 bool counted, int64_t delay_ms)
{
    const Shoal__Result *r = rec->r;
    int64_t now_us = clock_wall_us();
    int64_t started = r->has_started_us ? r->started_us : rec->task ? rec->task->leased_us : 0;
    int64_t finished = r->has_finished_us ? r->finished_us : now_us;
    uint32_t status = r->http && r->http->has_status ? r->http->status : 0;
    schema_rows_attempt(&self->filling->req->write.attempt_rows, rec->job->id, rec->seq, rec->attempt, rec->worker,
                  outcome, error, status, started, finished,
                  delay_ms >= 0 ? now_us + delay_ms * 1000 : 0, counted);
    if (!rec->task)
        return;
    rec->task->attempt = rec->attempt;
    if (delay_ms >= 0)
        //  rounded up: the task must not start before retry_at
        task_wait(self, rec->task, (clock_mono_us() + 999) / 1000 + delay_ms);
    else
        task_enqueue(self, rec->task, true);
}

static void
s_count_sender(peer_t *sender, bool ok)
{
    if (!sender)
        return;
    if (ok)
        sender->done++;
    else
        sender->failed++;
    rate_add(&sender->rate, clock_mono_ms(), 1);
}

//  The children an ok result creates: rendered into the batch now when
//  they fit in this turn's budget, else kept by fanout.c to be rendered
//  over the next turns (rec->deferred; the result is recorded then).
//  0, or -1 with why in err: the step fails.
static int
s_children(server_t *self, record_t *rec, const uint8_t *rid, size_t rid_len, uint64_t lease,
           char *err, size_t errlen)
{
    pipeline_fanout_t *fanout = NULL;
    if (pipeline_fanout_new(rec->job, rec->seq, rec->r, &fanout, err, errlen) != 0)
        return -1;
    if (!fanout)
        return 0;
    if (!fanout_take(self, pipeline_fanout_left(fanout))) {
        fanout_result_t kept = { .job_id = rec->job->id, .task_id = rec->r->task_id, .lease = lease,
                                 .attempt = rec->attempt, .worker = (char *) rec->worker,
                                 .rid_len = rid_len };
        memcpy(kept.rid, rid, rid_len);
        if (fanout_defer(self, &fanout, &kept, rec->r) == 0) {
            rec->deferred = true;
            return 0;
        }
        //  out of memory to keep it: render it now
    }
    int rc = 0;
    //  render every child first: the batch gets all of them or none
    if (pipeline_fanout_render(fanout, rec->job, SIZE_MAX, err, errlen) != 0)
        rc = -1;
    else
    if (pipeline_fanout_land(self, fanout) != 0)
        rc = errbuf_set(err, errlen, "out of memory");
    pipeline_fanout_destroy(&fanout);
    return rc;
}

//  A result for a task in a live job whose lease the fence let through
//  (`current` or an earlier run's): classify it and record it.
static void
s_record(server_t *self, peer_t *sender, const char *worker, const uint8_t *rid, size_t rid_len,
         const Shoal__Result *r, job_t *job, task_t *task, bool current,
         Shoal__TaskRef ***acks, size_t *n_acks)
{
    uint64_t task_id = r->task_id;
    Shoal__TaskSpec *spec = task ? job_task_spec(task) : NULL;
    retry_policy_t policy;
    taskspec_retry_policy(spec, job->defaults, &policy);
    if (spec)
        shoal__task_spec__free_unpacked(spec, NULL);
    record_t rec = { .job = job, .task = task, .seq = (uint32_t) task_id, .worker = worker, .r = r };
    rec.attempt = r->has_attempt && r->attempt ? r->attempt : task ? task->attempt + 1 : 1;
    uint32_t tries_after = (task ? task->tries : rec.attempt - 1) + 1;
    char error[MAX_ERROR_TEXT];
    const char *attempt_outcome = "error";
    retry_verdict_t verdict = retry_classify(r, &policy, job->state == SHOAL__JOB_STATE__JOB_CANCELLED,
                                             tries_after, error, sizeof error, &attempt_outcome);
    bool final = verdict == RETRY_OK || verdict == RETRY_FAIL;
    if (!current && task && task->state == TASK_LEASED && !final) {
        //  an earlier run's failed attempt, while the task runs again here:
        //  let the current run decide
        s_ack_now(acks, n_acks, task_id, r->lease);
        return;
    }
    if (task) {
        if (!current)
            backend_cancel_task(self, task);    //  someone else runs it: stop them
        peer_t *holder = task->state == TASK_LEASED ? task->worker : NULL;
        task_detach(self, task);
        if (holder)
            dispatch_peer_ready(self, holder);
        task->answered = r->lease;
        task->answer_committed = false;
    }
    batch_t *batch = self->filling;
    switch (verdict) {
        case RETRY_OK:
        case RETRY_FAIL:
            //  a pipeline step that succeeded: its next step goes in with its
            //  result row; when the next step cannot be made, this one fails
            if (verdict == RETRY_OK && s_children(self, &rec, rid, rid_len, r->lease, error, sizeof error) != 0)
                verdict = RETRY_FAIL;
            if (verdict == RETRY_OK && rec.deferred) {
                //  recorded when its children are rendered; meanwhile the
                //  pager must not hand out a task of an earlier run again
                if (!task)
                    u64map_put(self->recovered, task_id, (void *) 1);
                return;
            }
            s_record_final(self, &rec, verdict == RETRY_OK, verdict == RETRY_OK ? r->error : error);
            s_count_sender(sender, verdict == RETRY_OK);
            break;
        case RETRY_AGAIN: {
            uint32_t cap = policy.retry_after_max_ms ? policy.retry_after_max_ms
                                                     : (uint32_t) self->cfg.retry_after_max_ms;
            uint32_t delay = retry_delay_ms(&policy, tries_after + 1,
                                            r->has_retry_after_ms ? r->retry_after_ms : 0, cap, &self->rng);
            if (task)
                task->tries = tries_after;
            s_record_attempt(self, &rec, attempt_outcome, error, true, delay);
            batch_add_delta(batch, job->id, 1, 0);
            job->retries++;
            if (task) {
                if (retry_is_throttle(r))
                    lane_throttle(self, task->lane, clock_mono_ms(), delay);
                batch_add_answer(batch, task_id, r->lease);
            }
            if (sender)
                sender->failed++;
            break;
        }
        case RETRY_REQUEUE:
            s_record_attempt(self, &rec, attempt_outcome, error[0] ? error : "aborted by the worker",
                             false, -1);
            if (task)
                batch_add_answer(batch, task_id, r->lease);
            break;
        case RETRY_DROP:
            if (task)
                task_forget(self, task);
            s_ack_now(acks, n_acks, task_id, r->lease);
            return;
    }
    if (!task) {
        //  finished (or tried) by a worker of an earlier broker run and not
        //  in memory: keep the pager from handing it out again
        if (final)
            u64map_put(self->recovered, task_id, (void *) 1);
        else
        if ((int64_t) rec.seq > job->frontier)
            job->frontier = rec.seq;
    }
    batch_add_ack(batch, rid, rid_len, task_id, r->lease);
    if (!batch->first_ms)
        batch->first_ms = clock_mono_ms();
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
    fence_t fence = s_fence(self, task, job, task_id, r->lease);
    bool ack_now = true;
    switch (fence) {
        case FENCE_BAD:
            self->bad_messages++;
            log_warn("bad_result", "task=%u/%u lease=%llx", job_id, seq, (unsigned long long) r->lease);
            break;
        case FENCE_DUPLICATE:
            //  its ack leaves with its batch's commit, or left already
            ack_now = !task || (task->state != TASK_COMMITTING && task->answer_committed);
            break;
        case FENCE_STALE:
            if (job && job->state == SHOAL__JOB_STATE__JOB_CANCELLED)
                break;      //  the answers of tasks the cancel stopped: its rows are written
            self->stale_total++;
            if (job) {
                job->stale++;
                batch_add_delta(self->filling, job_id, 0, 1);
            }
            log_debug("stale_result", "task=%u/%u lease=%llx", job_id, seq, (unsigned long long) r->lease);
            break;
        case FENCE_CURRENT:
        case FENCE_RECOVERED: {
            bool live = job && (job->state == SHOAL__JOB_STATE__JOB_ACTIVE
                             || job->state == SHOAL__JOB_STATE__JOB_PAUSED);
            //  not live: the job is finished or cancelled, its rows are
            //  complete; committing: an earlier run's result for a task
            //  whose result is on its way in
            if (!live || (task && task->state == TASK_COMMITTING))
                break;
            const char *worker = worker_id ? worker_id : sender ? sender->worker_id : NULL;
            s_record(self, sender, worker, rid, rid_len, r, job, task, fence == FENCE_CURRENT, acks, n_acks);
            return;
        }
    }
    if (ack_now)
        s_ack_now(acks, n_acks, task_id, r->lease);
}

void
outcome_fanned_out(server_t *self, const fanout_result_t *result, const Shoal__Result *r,
                   pipeline_fanout_t **fanout_p, bool ok, const char *error)
{
    job_t *job = job_lookup(self, result->job_id);
    task_t *task = u64map_get(self->tasks, result->task_id);
    bool live = job && !job->deleted && (job->state == SHOAL__JOB_STATE__JOB_ACTIVE
                     || job->state == SHOAL__JOB_STATE__JOB_PAUSED);
    if (!live || (task && (task->state != TASK_DETACHED || task->answered != result->lease))) {
        //  cancelled, deleted, or the task was taken back meanwhile (a
        //  retry): as for a result of a job that is no longer live, the
        //  worker may forget it
        Shoal__TaskRef ref = SHOAL__TASK_REF__INIT, *refs[1] = { &ref };
        ref.has_task_id = ref.has_lease = 1;
        ref.task_id = result->task_id;
        ref.lease = result->lease;
        backend_send_acks(self, result->rid, result->rid_len, refs, 1);
        pipeline_fanout_destroy(fanout_p);
        return;
    }
    char err[MAX_ERROR_TEXT];
    snprintf(err, sizeof err, "%s", error ? error : "");
    if (ok && pipeline_fanout_land(self, *fanout_p) != 0) {
        ok = false;
        snprintf(err, sizeof err, "out of memory");
    }
    pipeline_fanout_destroy(fanout_p);
    record_t rec = { .job = job, .task = task, .seq = (uint32_t) result->task_id,
                     .attempt = result->attempt, .worker = result->worker, .r = r };
    s_record_final(self, &rec, ok, ok ? r->error : err);
    char key[2 * 256 + 1];
    broker_rid_key(result->rid, result->rid_len, key);
    s_count_sender(zhashx_lookup(self->peers, key), ok);
    if (!task)
        u64map_put(self->recovered, result->task_id, (void *) 1);
    batch_t *batch = self->filling;
    batch_add_ack(batch, result->rid, result->rid_len, result->task_id, result->lease);
    if (!batch->first_ms)
        batch->first_ms = clock_mono_ms();
}

void
outcome_lost(server_t *self, task_t *task, const char *outcome, const char *why, bool counted)
{
    job_t *job = task->job;
    const char *worker = task->worker ? task->worker->worker_id : NULL;
    task_detach(self, task);
    Shoal__TaskSpec *spec = job_task_spec(task);
    retry_policy_t policy;
    taskspec_retry_policy(spec, job->defaults, &policy);
    if (spec)
        shoal__task_spec__free_unpacked(spec, NULL);
    Shoal__Result r = SHOAL__RESULT__INIT;
    r.has_started_us = task->leased_us != 0;
    r.started_us = task->leased_us;
    record_t rec = { .job = job, .task = task, .seq = (uint32_t) task->id, .worker = worker, .r = &r,
                     .attempt = task->attempt + 1, .lost = true };
    task->tries += counted ? 1 : 0;
    if (counted && task->tries >= policy.max_attempts) {
        //  a task that keeps killing its workers ends here instead of
        //  taking down the fleet
        char error[512];
        snprintf(error, sizeof error, "%s; gave up after %u attempts", why, rec.attempt);
        s_record_final(self, &rec, false, error);
    }
    else {
        r.has_finished_us = 1;
        r.finished_us = clock_wall_us();
        s_record_attempt(self, &rec, outcome, why, counted, -1);
    }
    if (!self->filling->first_ms)
        self->filling->first_ms = clock_mono_ms();
}
