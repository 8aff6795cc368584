/*  batch — result and attempt rows on their way to PostgreSQL.

    Rows collect in the filling batch. When the writer is idle the filling
    batch goes to it whole (one COPY, one commit) and a new one starts, so
    batches are as large as the load makes them and a lone result goes out
    at once. Only after the commit do workers get their ResultAck and do
    finished tasks leave memory. A failed write (database down) is retried
    with backoff, same rows, while new rows keep collecting behind it. */
#include "broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "task.h"

typedef struct {
    uint8_t  rid[256];          //  the worker's routing id
    size_t   rid_len;
    Shoal__TaskRef *refs;       //  grown array
    size_t   n, alloc;
} ack_t;

static void
s_ack_free(void **item)
{
    ack_t *ack = *item;
    if (ack) {
        free(ack->refs);
        free(ack);
        *item = NULL;
    }
}

static void
s_free_item(void **item)
{
    free(*item);
    *item = NULL;
}

batch_t *
batch_new(void)
{
    batch_t *batch = calloc(1, sizeof *batch);
    if (!batch)
        return NULL;
    batch->req = store_req_new(STORE_WRITE);
    batch->commit = zlist_new();
    batch->answered = u64map_new();
    batch->acks = zhashx_new();
    batch->deltas = zhashx_new();
    batch->children = zlist_new();
    if (!batch->req || !batch->commit || !batch->answered || !batch->acks || !batch->deltas
    ||  !batch->children) {
        batch_destroy(&batch);
        return NULL;
    }
    batch->req->owner = batch;
    zhashx_set_destructor(batch->acks, s_ack_free);
    zhashx_set_destructor(batch->deltas, s_free_item);
    return batch;
}

void
batch_destroy(batch_t **batch_p)
{
    batch_t *batch = *batch_p;
    if (!batch)
        return;
    store_req_destroy(&batch->req);
    zlist_destroy(&batch->commit);
    u64map_destroy(&batch->answered);
    zhashx_destroy(&batch->acks);
    zhashx_destroy(&batch->deltas);
    pipeline_batch_free(batch);
    steps_batch_free(batch);
    free(batch);
    *batch_p = NULL;
}

void
batch_add_answer(batch_t *batch, uint64_t task_id, uint64_t lease)
{
    u64map_put(batch->answered, task_id, (void *) (uintptr_t) lease);
}

void
batch_add_ack(batch_t *batch, const uint8_t *rid, size_t rid_len, uint64_t task_id, uint64_t lease)
{
    char key[2 * 256 + 1];
    broker_rid_key(rid, rid_len, key);
    ack_t *ack = zhashx_lookup(batch->acks, key);
    if (!ack) {
        ack = calloc(1, sizeof *ack);
        if (!ack)
            return;
        memcpy(ack->rid, rid, rid_len);
        ack->rid_len = rid_len;
        zhashx_insert(batch->acks, key, ack);
    }
    if (ack->n == ack->alloc) {
        size_t alloc = ack->alloc ? ack->alloc * 2 : 64;
        Shoal__TaskRef *refs = realloc(ack->refs, alloc * sizeof *refs);
        if (!refs)
            return;     //  the worker re-sends an unacked result; nothing is lost
        ack->refs = refs;
        ack->alloc = alloc;
    }
    Shoal__TaskRef *ref = &ack->refs[ack->n++];
    shoal__task_ref__init(ref);
    ref->has_task_id = ref->has_lease = 1;
    ref->task_id = task_id;
    ref->lease = lease;
}

static store_delta_t *
s_delta(batch_t *batch, uint32_t job_id)
{
    char key[16];
    snprintf(key, sizeof key, "%u", job_id);
    store_delta_t *d = zhashx_lookup(batch->deltas, key);
    if (!d) {
        d = calloc(1, sizeof *d);
        if (!d)
            return NULL;
        d->job_id = job_id;
        zhashx_insert(batch->deltas, key, d);
    }
    return d;
}

void
batch_add_delta(batch_t *batch, uint32_t job_id, uint64_t retries, uint64_t stale)
{
    store_delta_t *d = s_delta(batch, job_id);
    if (d) {
        d->retries += retries;
        d->stale += stale;
    }
}

void
batch_count_child(batch_t *batch, uint32_t job_id)
{
    store_delta_t *d = s_delta(batch, job_id);
    if (d)
        d->children++;
}

void
batch_count_result(batch_t *batch, uint32_t job_id, const char *outcome)
{
    store_delta_t *d = s_delta(batch, job_id);
    if (!d)
        return;
    if (outcome[0] == 'o')
        d->ok++;
    else
    if (outcome[0] == 'f')
        d->failed++;
    else
        d->cancelled++;
    batch->results++;
}

static bool
s_empty(const batch_t *batch)
{
    return batch->req->write.rows.rows == 0 && batch->req->write.attempt_rows.rows == 0
        && zhashx_size(batch->deltas) == 0;
}

size_t
batch_held(const server_t *self)
{
    size_t n = 0;
    if (self->filling)
        n += self->filling->req->write.rows.rows + self->filling->req->write.attempt_rows.rows;
    if (self->flushing)
        n += self->flushing->req->write.rows.rows + self->flushing->req->write.attempt_rows.rows;
    return n;
}

void
batch_flush(server_t *self, int64_t now_ms)
{
    if (self->flushing) {
        //  a failed write waits for its retry time, then goes again alone
        if (self->flushing->req->status != STORE_OK && now_ms >= self->write_retry_ms
        &&  store_pending(self->writer) == 0) {
            self->flushing->req->status = STORE_OK;
            if (store_submit(self->writer, self->flushing->req) != 0)
                self->write_retry_ms = now_ms + 1000;
        }
        return;
    }
    batch_t *batch = self->filling;
    if (s_empty(batch))
        return;
    if (batch->req->write.rows.oom || batch->req->write.attempt_rows.oom || batch->req->write.child_rows.oom) {
        //  rows were lost building the batch; nothing of it was acked, so
        //  workers still hold every result: start again from the database
        log_error("out_of_memory", "rows=%zu detail=\"restarting from the database\"", batch->req->write.rows.rows);
        exit(1);
    }
    //  deltas travel as an array
    size_t n = zhashx_size(batch->deltas);
    if (n) {
        batch->req->write.deltas = calloc(n, sizeof(store_delta_t));
        if (!batch->req->write.deltas)
            return;
        size_t i = 0;
        for (store_delta_t *d = zhashx_first(batch->deltas); d; d = zhashx_next(batch->deltas))
            batch->req->write.deltas[i++] = *d;
        batch->req->write.n_deltas = n;
        zhashx_purge(batch->deltas);
    }
    batch_t *next = batch_new();
    if (!next)
        return;
    batch->req->write.epoch = self->epoch;
    batch->req->write.batch_id = ++self->batch_seq;
    if (store_submit(self->writer, batch->req) != 0) {
        batch_destroy(&next);
        return;
    }
    self->flushing = batch;
    self->filling = next;
}

void
batch_on_written(server_t *self, store_req_t *req)
{
    batch_t *batch = req->owner;
    if (batch != self->flushing) {
        //  cannot happen: only the flushing batch is ever with the writer
        log_error("write_orphan", "rows=%zu", req->write.rows.rows);
        return;
    }
    if (req->status != STORE_OK) {
        self->write_backoff_ms = self->write_backoff_ms ? self->write_backoff_ms * 2 : 100;
        if (self->write_backoff_ms > 5000)
            self->write_backoff_ms = 5000;
        self->write_retry_ms = clock_mono_ms() + self->write_backoff_ms;
        char q[600];
        log_warn("write_failed", "rows=%zu attempts=%zu retry_ms=%lld error=%s",
                 req->write.rows.rows, req->write.attempt_rows.rows, (long long) self->write_backoff_ms,
                 log_quote(req->error, q, sizeof q));
        return;
    }
    self->write_backoff_ms = 0;
    self->write_retry_ms = 0;
    int64_t now_ms = clock_mono_ms();
    progress_add_counters(self, &req->write.counters);
    //  what the database says happened to each job
    for (size_t i = 0; i < req->write.n_outcomes; i++) {
        const store_outcome_t *o = &req->write.outcomes[i];
        job_t *job = job_lookup(self, o->job_id);
        if (!job)
            continue;
        job->ok += o->ok;
        job->failed += o->failed;
        job->failed_total += o->failed;
        job->cancelled += o->cancelled;
        job->duplicate += o->duplicate;
        rate_add(&job->rate, now_ms, o->ok + o->failed);
        rate_add(&self->rate, now_ms, o->ok + o->failed);
        if (o->done && job->state != SHOAL__JOB_STATE__JOB_DONE
        &&  job->state != SHOAL__JOB_STATE__JOB_CANCELLED)
            job_set_state(self, job, SHOAL__JOB_STATE__JOB_DONE);
    }
    //  per-step counts, then the pipeline steps these rows created join their jobs
    steps_on_written(self, batch);
    pipeline_on_written(self, batch);
    //  finished tasks leave memory (remembered a while, for resends)
    task_t *task;
    while ((task = zlist_pop(batch->commit))) {
        if (task->answered)
            outcome_committed(self, task->id, task->answered);
        task_forget(self, task);
    }
    //  retried tasks: a resend of that result can be acked at once now
    size_t cursor = 0;
    uint64_t task_id;
    void *lease;
    while ((lease = u64map_next(batch->answered, &cursor, &task_id))) {
        task = u64map_get(self->tasks, task_id);
        if (task && task->answered == (uint64_t) (uintptr_t) lease)
            task->answer_committed = true;
    }
    //  and the workers may forget the results
    for (ack_t *ack = zhashx_first(batch->acks); ack; ack = zhashx_next(batch->acks)) {
        Shoal__TaskRef **refs = malloc(ack->n * sizeof *refs);
        if (!refs)
            continue;
        for (size_t i = 0; i < ack->n; i++)
            refs[i] = &ack->refs[i];
        //  at most WIRE_MAX_REFS per message is far above any batch
        backend_send_acks(self, ack->rid, ack->rid_len, refs, ack->n);
        free(refs);
    }
    self->flushing = NULL;
    batch_destroy(&batch);
    //  the next batch goes out right away if rows are waiting
    batch_flush(self, now_ms);
}
