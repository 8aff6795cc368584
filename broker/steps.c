/*  steps — per-step counts of a pipeline job: for each step its tasks so
    far (fan-out children included), ok, failed, cancelled (pending is the
    rest), shown by shoal status, the gateway, the monitor and the dashboard.

    Kept in memory and cheap: a final result adds one to its step's count
    in the write batch, and when the batch commits the counts move to the
    job (as job->ok and job->failed do); a child counts under its step when
    the batch that created it commits. Read from the store (one grouped
    query over the job's tasks, store_steps.c) only when memory cannot
    know: the first time a pipeline job is seen (start-up, a new or resumed
    job), after a retry or a cancel (rows change in the store), after a
    batch some of whose results were already stored. That read goes to the
    writer, in order with the result batches: its answer counts exactly
    the batches answered before it, so the counts in memory are replaced
    by it and later batches add to it. Step 0's task count is always the
    job's submitted tasks.

    The job's items (item_counts.c) are counted the same way and at the
    same moments: a batch's results and the children it creates change
    their items' open tasks when the batch commits; the same read brings
    them afresh. */
#include "broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

//  What one batch adds to one job's steps.
typedef struct {
    uint32_t job_id;
    bool     unknown;       //  a result whose step is not known: read afresh
    uint64_t ok[PIPELINE_MAX_STEPS], failed[PIPELINE_MAX_STEPS], cancelled[PIPELINE_MAX_STEPS];
} steps_delta_t;

static void
s_free_item(void **item)
{
    free(*item);
    *item = NULL;
}

//  The step a result belongs to and its item: what the worker said, else
//  the task's spec. -1: not known.
static int
s_step_of(const task_t *task, uint32_t seq, const Shoal__Result *r, uint32_t *root)
{
    //  by position: an item with its own steps counts its k-th under the k-th
    if (r && r->has_step) {
        *root = r->has_root ? r->root : seq;
        return r->step < PIPELINE_MAX_STEPS ? (int) r->step : -1;
    }
    if (!task)
        return -1;
    Shoal__TaskSpec *spec = shoal__task_spec__unpack(NULL, task->spec_len, task->spec);
    int step = -1;
    if (spec && spec->pipeline && spec->pipeline->index < PIPELINE_MAX_STEPS) {
        step = (int) spec->pipeline->index;
        *root = spec->pipeline->has_root ? spec->pipeline->root : seq;
    }
    else
    if (spec && !spec->pipeline) {
        step = 0;           //  a submitted task (its item's first step)
        *root = seq;
    }
    if (spec)
        shoal__task_spec__free_unpacked(spec, NULL);
    return step;
}

//  The batch's changes to items, made on first use.
static item_batch_t *
s_item_batch(batch_t *batch, job_t *job)
{
    if (!batch->item_changes && !(batch->item_changes = item_batch_new()))
        job->steps_stale = job->steps_failed = true;    //  read at the next snapshot
    return batch->item_changes;
}

void
steps_count_item_child(batch_t *batch, job_t *job, uint32_t root)
{
    item_batch_t *b = s_item_batch(batch, job);
    if (b && item_batch_add(b, job->id, root, 0) != 0)
        job->steps_stale = job->steps_failed = true;
}

void
steps_job_new(server_t *self, job_t *job, const store_job_t *row)
{
    if (row->n_tasks == 0 && row->n_children == 0 && row->n_ok + row->n_failed + row->n_cancelled == 0) {
        job->steps = calloc(1, sizeof *job->steps);     //  a new job: nothing to count yet
        job->items = item_counts_new();
        if (!job->items) {
            free(job->steps);
            job->steps = NULL;
        }
    }
    if (!job->steps)
        steps_mark_stale(self, job);
}

void
steps_count_result(batch_t *batch, job_t *job, task_t *task, uint32_t seq, const Shoal__Result *r, char outcome)
{
    if (!job->pipeline)
        return;
    if (!batch->step_deltas) {
        batch->step_deltas = zhashx_new();
        if (!batch->step_deltas) {
            job->steps_stale = job->steps_failed = true;
            return;
        }
        zhashx_set_destructor(batch->step_deltas, s_free_item);
    }
    char key[16];
    snprintf(key, sizeof key, "%u", job->id);
    steps_delta_t *d = zhashx_lookup(batch->step_deltas, key);
    if (!d) {
        d = calloc(1, sizeof *d);
        if (!d) {
            job->steps_stale = job->steps_failed = true;    //  read at the next snapshot
            return;
        }
        d->job_id = job->id;
        zhashx_insert(batch->step_deltas, key, d);
    }
    uint32_t root = seq;
    int step = s_step_of(task, seq, r, &root);
    item_batch_t *items = step >= 0 ? s_item_batch(batch, job) : NULL;
    if (items && item_batch_add(items, job->id, root, outcome) != 0)
        d->unknown = true;
    if (step < 0)
        d->unknown = true;
    else
    if (outcome == 'o')
        d->ok[step]++;
    else
    if (outcome == 'f')
        d->failed[step]++;
    else
        d->cancelled[step]++;
}

//  The job's counts, grown to cover step `step`; NULL when not known yet.
static store_step_t *
s_step(job_t *job, uint32_t step)
{
    if (!job->steps || step >= PIPELINE_MAX_STEPS)
        return NULL;
    if (step >= job->n_steps) {
        store_step_t *grown = realloc(job->steps, (step + 1) * sizeof *grown);
        if (!grown) {
            job->steps_stale = job->steps_failed = true;    //  read at the next snapshot
            return NULL;
        }
        memset(grown + job->n_steps, 0, (step + 1 - job->n_steps) * sizeof *grown);
        job->steps = grown;
        job->n_steps = step + 1;
    }
    return &job->steps[step];
}

void
steps_count_child(job_t *job, uint32_t step)
{
    store_step_t *s = s_step(job, step);
    if (s)
        s->tasks++;
}

//  The batch's changes to items, to the jobs whose steps took the batch.
static void
s_items_on_written(server_t *self, batch_t *batch)
{
    if (!batch->item_changes)
        return;
    int64_t now_ms = clock_mono_ms();
    size_t cursor = 0;
    const item_change_t *c;
    while ((c = item_batch_next(batch->item_changes, &cursor))) {
        job_t *job = job_lookup(self, c->job_id);
        if (!job || !job->items || job->steps_stale)
            continue;       //  not known, or read afresh anyway
        if (item_counts_apply(job->items, c, now_ms) != 0)
            steps_mark_stale(self, job);
    }
}

void
steps_on_written(server_t *self, batch_t *batch)
{
    if (!batch->step_deltas)
        return;
    store_write_t *w = &batch->req->write;
    for (size_t i = 0; i < w->n_outcomes; i++) {
        const store_outcome_t *o = &w->outcomes[i];
        job_t *job = job_lookup(self, o->job_id);
        char key[16];
        snprintf(key, sizeof key, "%u", o->job_id);
        steps_delta_t *d = zhashx_lookup(batch->step_deltas, key);
        if (!job || !job->pipeline || !d || !job->steps)
            continue;
        if (d->unknown || o->duplicate) {
            //  which of the rows the store refused is not known here
            steps_mark_stale(self, job);
            continue;
        }
        for (uint32_t k = 0; k < PIPELINE_MAX_STEPS; k++) {
            if (!d->ok[k] && !d->failed[k] && !d->cancelled[k])
                continue;
            store_step_t *s = s_step(job, k);
            if (!s)
                break;
            s->ok += d->ok[k];
            s->failed += d->failed[k];
            s->cancelled += d->cancelled[k];
        }
    }
    s_items_on_written(self, batch);
}

void
steps_mark_stale(server_t *self, job_t *job)
{
    if (!job->pipeline)
        return;
    job->steps_stale = true;
    self->steps_wanted = true;
}

void
steps_refresh(server_t *self, bool retry_failed)
{
    if (!self->db_up || self->stopping || !self->writer)
        return;
    self->steps_wanted = false;
    for (job_t *job = zlist_first(self->job_list); job; job = zlist_next(self->job_list)) {
        if (!job->pipeline || job->steps_asked || (job->steps && !job->steps_stale))
            continue;
        if (job->steps_failed && !retry_failed)
            continue;
        store_req_t *req = store_req_new(STORE_STEPS);
        if (!req)
            return;
        req->job_id = job->id;
        if (store_submit(self->writer, req) != 0) {
            store_req_destroy(&req);
            return;
        }
        job->steps_asked = true;
        job->steps_stale = job->steps_failed = false;
    }
}

void
steps_on_read(server_t *self, store_req_t *req)
{
    job_t *job = job_lookup(self, req->job_id);
    if (!job)
        return;
    job->steps_asked = false;
    if (req->status != STORE_OK) {
        job->steps_stale = job->steps_failed = true;    //  asked again at the next snapshot
        return;
    }
    if (job->steps_stale)
        self->steps_wanted = true;  //  marked again while this read was out: read once more
    if (req->steps.has_items) {
        if (!job->items)
            job->items = item_counts_new();
        if (!job->items || item_counts_load(job->items, &req->steps.items, req->steps.open, req->steps.n_open) != 0) {
            item_counts_destroy(&job->items);
            job->steps_stale = true;
        }
    }
    free(job->steps);
    job->steps = req->steps.rows;
    job->n_steps = req->steps.n;
    req->steps.rows = NULL;
    if (!job->steps) {
        job->steps = calloc(1, sizeof *job->steps);
        job->n_steps = 0;
        if (!job->steps)
            job->steps_stale = true;
    }
}

void
steps_fill_info(const pipeline_t *pipeline, const store_step_t *steps, size_t n_steps, uint64_t submitted,
                Shoal__JobInfo *info)
{
    size_t n = pipeline ? pipeline_steps(pipeline) : 0;
    if (!n || !steps)
        return;
    //  items with their own steps may go further than the job's
    while (n < n_steps && n < PIPELINE_MAX_STEPS && steps[n].tasks)
        n++;
    Shoal__StepInfo **out = calloc(n, sizeof *out);
    Shoal__StepInfo *block = calloc(n, sizeof *block);
    if (!out || !block) {
        free(out);
        free(block);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const pipeline_step_t *p = pipeline_step(pipeline, i);
        Shoal__StepInfo *s = &block[i];
        shoal__step_info__init(s);
        char name[32];
        snprintf(name, sizeof name, "step%zu", i);     //  past the job's: only items' own steps
        s->name = strdup(p ? p->name : name);
        s->each = p && p->each ? strdup(p->each) : NULL;
        store_step_t c = i < n_steps ? steps[i] : (store_step_t) { 0 };
        if (i == 0)
            c.tasks = submitted;
        s->has_tasks = s->has_ok = s->has_failed = s->has_cancelled = 1;
        s->tasks = c.tasks, s->ok = c.ok, s->failed = c.failed, s->cancelled = c.cancelled;
        out[i] = s;
    }
    info->steps = out;
    info->n_steps = n;
}

void
steps_fill_items(const item_tally_t *t, const item_counts_t *counts, uint64_t submitted, int64_t now_ms,
                 Shoal__JobInfo *info)
{
    Shoal__ItemsInfo *items = calloc(1, sizeof *items);
    if (!items)
        return;
    shoal__items_info__init(items);
    items->has_total = items->has_complete = items->has_failed = items->has_cancelled = items->has_running = 1;
    items->total = submitted;
    items->complete = t->complete, items->failed = t->failed, items->cancelled = t->cancelled;
    items->running = t->running;
    uint64_t ended = t->complete + t->failed + t->cancelled;
    items->has_eta_ms = 1;
    items->eta_ms = info->has_finished_us && info->finished_us ? 0 : -1;
    if (counts) {
        items->has_rate = 1;
        items->rate = item_counts_rate(counts, now_ms, 10);
        if (items->eta_ms && items->rate > 0.01)
            items->eta_ms = (int64_t) ((double) (submitted > ended ? submitted - ended : 0) / items->rate * 1000.0);
    }
    info->items = items;
}

void
steps_free_info(Shoal__JobInfo *info)
{
    free(info->items);
    info->items = NULL;
    for (size_t i = 0; i < info->n_steps; i++) {
        free(info->steps[i]->name);
        free(info->steps[i]->each);
    }
    if (info->n_steps)
        free(info->steps[0]);       //  the block
    free(info->steps);
    info->steps = NULL;
    info->n_steps = 0;
}

void
steps_batch_free(batch_t *batch)
{
    zhashx_destroy(&batch->step_deltas);
    item_batch_destroy(&batch->item_changes);
}

void
steps_job_free(job_t *job)
{
    item_counts_destroy(&job->items);
    free(job->steps);
    job->steps = NULL;
    job->n_steps = 0;
}
