/*  pipeline — the steps of a pipeline job as durable tasks (docs/pipelines.md).

    A submitted task of a pipeline job is its item's first step. When a
    step's result is ok, the worker's result carries the step index and
    every variable known after it; the broker renders the next step with
    them and puts its task row into the same write batch as the result
    row, so both commit in one transaction: a crash keeps both or neither,
    the unique (job, parent, element) index refuses a second child of the
    same parent, and a result stored once is never taken again (the batch
    machinery's own guarantee). Children take seqs from STORE_CHILD_BASE
    up, loaded into memory when their batch commits (first in their lane,
    so started items finish before new ones begin) or paged in like any
    task after a restart.

    An item with its own steps (its line's "steps", docs/pipelines.md)
    carries them in every step's spec (PipelineStep.steps), and the worker
    echoes them in the result: the next step is rendered from them as from
    the job's, with nothing per item kept here (one parsed copy per job,
    the last one seen, since a job's items often share theirs). */
#include "broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errbuf.h"
#include "fence.h"
#include "log.h"
#include "task.h"

_Static_assert(FENCE_CHILD_BASE == STORE_CHILD_BASE, "one child seq base");
#include "text.h"

int
pipeline_job_load(job_t *job, const store_job_t *row)
{
    job->child_top = row->child_top >= (int64_t) STORE_CHILD_BASE ? row->child_top
                                                                  : (int64_t) STORE_CHILD_BASE - 1;
    job->child_cursor = (int64_t) STORE_CHILD_BASE - 1;
    job->child_more = row->n_children > 0;
    if (!row->pipeline)
        return 0;
    char err[512];
    json_t *doc = json_loads(row->pipeline, 0, NULL);
    job->pipeline = doc ? pipeline_from_json(doc, err, sizeof err) : NULL;
    json_decref(doc);
    if (!job->pipeline) {
        log_error("bad_pipeline", "job=%u error=\"%s\"", job->id, doc ? err : "not JSON");
        return -1;
    }
    return 0;
}

void
pipeline_job_free(job_t *job)
{
    pipeline_destroy(&job->pipeline);
    pipeline_destroy(&job->own);
    free(job->own_text);
    job->own_text = NULL;
}

//  The steps of an item that carries its own (their JSON, as the worker
//  echoed it from the step's spec), parsed: the job keeps the last one
//  parsed, since the items of a job often share theirs. Borrowed; NULL
//  with why.
static const pipeline_t *
s_own_steps(job_t *job, const char *text, char *err, size_t errlen)
{
    if (job->own_text && !strcmp(job->own_text, text))
        return job->own;
    char inner[512];
    json_t *doc = json_loads(text, 0, NULL);
    pipeline_t *p = doc ? pipeline_from_json(doc, inner, sizeof inner) : NULL;
    json_decref(doc);
    char *copy = p ? strdup(text) : NULL;
    if (!copy) {
        pipeline_destroy(&p);
        errbuf_set(err, errlen, "the item's own steps: %s", !doc ? "not JSON" : p ? "out of memory" : inner);
        return NULL;
    }
    pipeline_destroy(&job->own);
    free(job->own_text);
    job->own = p;
    job->own_text = copy;
    return p;
}

//  The children of one ok result, rendered a slice at a time (fanout.c
//  spreads a big fan-out over several loop turns): their task rows and
//  specs collect here and go into the filling batch together, with the
//  result row, only once every child is rendered.
struct _pipeline_fanout_t {
    uint32_t job_id;
    uint32_t seq;           //  the parent
    uint32_t root;          //  its item's first task
    char    *own_text;      //  the item's own steps (owned), NULL: the job's pipeline
    size_t   next;          //  the step its children run
    int64_t  due_us;        //  when they become due (delay_ms), 0: at once
    json_t  *vars;          //  every variable known after the parent (owned)
    json_t  *list;          //  the `each` list in vars (borrowed), NULL: one child
    size_t   n;             //  children in all
    size_t   done;          //  rendered so far
    pgbuf_t  rows;          //  their task rows (COPY format)
    zlist_t *children;      //  pchild_t *, kept for loading after the commit
};

void
pipeline_fanout_destroy(pipeline_fanout_t **self_p)
{
    pipeline_fanout_t *self = *self_p;
    if (!self)
        return;
    json_decref(self->vars);
    free(self->own_text);
    pgbuf_free(&self->rows);
    pchild_t *child;
    while (self->children && (child = zlist_pop(self->children))) {
        free(child->spec);
        free(child);
    }
    zlist_destroy(&self->children);
    free(self);
    *self_p = NULL;
}

int
pipeline_fanout_new(job_t *job, uint32_t seq, const Shoal__Result *r, pipeline_fanout_t **out,
                    char *err, size_t errlen)
{
    *out = NULL;
    if (!r->has_step || (!job->pipeline && !r->steps))
        return 0;
    //  an item with its own steps goes on by them (in a plain job too)
    const pipeline_t *p = r->steps ? s_own_steps(job, r->steps, err, errlen) : job->pipeline;
    if (!p)
        return -1;
    size_t next = (size_t) r->step + 1;
    if (next >= pipeline_steps(p))
        return 0;                       //  the item's last step
    const pipeline_step_t *step = pipeline_step(p, next);
    json_t *vars = r->vars ? json_loads(r->vars, 0, NULL) : json_object();
    if (!json_is_object(vars)) {
        json_decref(vars);
        return errbuf_set(err, errlen, "the worker sent variables that are not a JSON object");
    }
    json_t *list = step->each ? json_object_get(vars, step->each) : NULL;
    size_t n = step->each ? json_array_size(list) : 1;
    int rc = 0;
    if (step->each && !json_is_array(list))
        rc = errbuf_set(err, errlen, "next step '%s': each '%s' is not a list", step->name, step->each);
    else
    if (n > pipeline_max_each(p))
        rc = errbuf_set(err, errlen, "next step '%s': each '%s' has %zu elements, more than max_each %u",
                        step->name, step->each, n, pipeline_max_each(p));
    pipeline_fanout_t *self = rc ? NULL : calloc(1, sizeof *self);
    if (!rc && (!self || !(self->children = zlist_new()) || (r->steps && !(self->own_text = strdup(r->steps)))))
        rc = errbuf_set(err, errlen, "out of memory");
    if (rc) {
        if (self) {
            zlist_destroy(&self->children);
            free(self);
        }
        json_decref(vars);
        return -1;
    }
    int64_t finished = r->has_finished_us && r->finished_us ? r->finished_us : clock_wall_us();
    self->job_id = job->id;
    self->seq = seq;
    self->root = r->has_root ? r->root : seq;
    self->next = next;
    self->due_us = step->delay_ms ? finished + (int64_t) step->delay_ms * 1000 : 0;
    self->vars = vars;
    self->list = list;
    self->n = n;
    *out = self;
    return 0;
}

size_t
pipeline_fanout_left(const pipeline_fanout_t *self)
{
    return self->n - self->done;
}

//  One child's task row into the fan-out's rows, and the child kept for
//  loading after the commit.
static int
s_add_child(pipeline_fanout_t *self, job_t *job, Shoal__TaskSpec *spec, uint32_t element,
            char *err, size_t errlen)
{
    if (job->child_top >= (int64_t) INT32_MAX)
        return errbuf_set(err, errlen, "the job has no seqs left for pipeline steps");
    uint32_t seq = (uint32_t) ++job->child_top;
    size_t len = shoal__task_spec__get_packed_size(spec);
    pchild_t *child = calloc(1, sizeof *child);
    if (!child || !(child->spec = malloc(len ? len : 1))) {
        if (child)
            free(child->spec);
        free(child);
        return errbuf_set(err, errlen, "out of memory");
    }
    shoal__task_spec__pack(spec, child->spec);
    child->spec_len = (uint32_t) len;
    child->step = (uint32_t) self->next;
    child->id = ((uint64_t) job->id << 32) | seq;
    zlist_append(self->children, child);
    char target[2048];
    taskspec_target(spec, target, sizeof target);
    char *clean = text_sanitize(target, strlen(target), sizeof target);
    pgbuf_t *b = &self->rows;
    pgcopy_row(b, 9);
    pgcopy_int4(b, (int32_t) job->id);
    pgcopy_int4(b, (int32_t) seq);
    pgcopy_cstr(b, taskspec_kind_name(taskspec_kind(spec)));
    pgcopy_cstr(b, clean ? clean : "");
    pgcopy_bytea(b, child->spec, len);
    pgcopy_int4(b, (int32_t) self->root);
    pgcopy_int4(b, (int32_t) self->seq);
    pgcopy_int4(b, (int32_t) self->next);
    pgcopy_int4(b, (int32_t) element);
    free(clean);
    return b->oom ? errbuf_set(err, errlen, "out of memory") : 0;
}

//  Render step `next` of p with vars into a child's spec (caller frees);
//  an item's own steps (own_text) go on into the child's spec.
static Shoal__TaskSpec *
s_render(const pipeline_t *p, const char *own_text, size_t next, json_t *vars, uint32_t root, int64_t due_us,
         char *err, size_t errlen)
{
    const pipeline_step_t *step = pipeline_step(p, next);
    Shoal__TaskSpec *spec = pipeline_render(p, next, vars, err, errlen);
    if (!spec)
        return NULL;
    Shoal__PipelineStep *ps = calloc(1, sizeof *ps);
    if (ps) {
        shoal__pipeline_step__init(ps);
        ps->has_index = ps->has_root = 1;
        ps->index = (uint32_t) next;
        ps->root = root;
        ps->vars = json_dumps(vars, JSON_COMPACT);
        ps->extract = step->extract ? json_dumps(step->extract, JSON_COMPACT) : NULL;
        ps->has_due_us = due_us != 0;
        ps->due_us = due_us;
        ps->steps = own_text ? strdup(own_text) : NULL;
        spec->pipeline = ps;
    }
    char inner[512];
    bool made = ps && ps->vars && (!own_text || ps->steps);
    if (!made || taskspec_validate(spec, inner, sizeof inner)) {
        errbuf_set(err, errlen, "step '%s': %s", step->name, made ? inner : "out of memory");
        shoal__task_spec__free_unpacked(spec, NULL);
        return NULL;
    }
    return spec;
}

int
pipeline_fanout_render(pipeline_fanout_t *self, job_t *job, size_t max, char *err, size_t errlen)
{
    //  the item's own steps: parsed again if another item's replaced them on the job meanwhile
    const pipeline_t *p = self->own_text ? s_own_steps(job, self->own_text, err, errlen) : job->pipeline;
    if (!p)
        return self->own_text ? -1 : errbuf_set(err, errlen, "the job has no pipeline");
    const pipeline_step_t *step = pipeline_step(p, self->next);
    size_t end = self->n - self->done > max ? self->done + max : self->n;
    for (size_t i = self->done; i < end; i++) {
        json_t *one = self->vars;
        if (self->list) {
            //  shallow: the other variables are shared, not copied (a deep
            //  copy per child copied the whole list each time, O(n^2))
            one = json_copy(self->vars);
            if (!one || json_object_set(one, step->each, json_array_get(self->list, i))) {
                json_decref(one);
                return errbuf_set(err, errlen, "out of memory");
            }
        }
        Shoal__TaskSpec *spec = s_render(p, self->own_text, self->next, one, self->root, self->due_us, err, errlen);
        if (one != self->vars)
            json_decref(one);
        int rc = spec ? s_add_child(self, job, spec, (uint32_t) i, err, errlen) : -1;
        if (spec)
            shoal__task_spec__free_unpacked(spec, NULL);
        if (rc)
            return -1;
        self->done = i + 1;
    }
    return 0;
}

int
pipeline_fanout_land(server_t *self, pipeline_fanout_t *fanout)
{
    batch_t *batch = self->filling;
    pgbuf_t *b = &batch->req->write.child_rows;
    size_t rows = b->rows;
    if (fanout->rows.len)
        pgbuf_append(b, fanout->rows.data, fanout->rows.len);
    if (b->oom)
        return -1;
    b->rows = rows + fanout->rows.rows;
    job_t *job = job_lookup(self, fanout->job_id);
    pchild_t *child;
    while ((child = zlist_pop(fanout->children))) {
        zlist_append(batch->children, child);
        batch_count_child(batch, fanout->job_id);
        if (job)
            steps_count_item_child(batch, job, fanout->root);   //  its item gains an open task
    }
    return 0;
}

void
pipeline_on_written(server_t *self, batch_t *batch)
{
    store_req_t *req = batch->req;
    if (!batch->children || zlist_size(batch->children) == 0)
        return;
    u64map_t *inserted = u64map_new();
    for (size_t i = 0; inserted && i < req->write.n_inserted; i++)
        u64map_put(inserted, req->write.inserted[i], (void *) 1);
    pchild_t *child;
    while ((child = zlist_pop(batch->children))) {
        job_t *job = job_lookup(self, (uint32_t) (child->id >> 32));
        bool created = req->write.children_all || (inserted && u64map_get(inserted, child->id));
        if (job && created)
            steps_count_child(job, child->step);
        else
        if (job)
            steps_mark_stale(self, job);      //  stored by an earlier try or run: count it from the store
        if (job && created && job->state == SHOAL__JOB_STATE__JOB_ACTIVE
        &&  job_in_memory(job) < 2 * (size_t) self->cfg.window) {
            store_page_row_t row = { .seq = (uint32_t) child->id, .spec = child->spec,
                                     .spec_len = child->spec_len };
            task_t *task = job_task_load(self, job, &row);
            if (task && task->state == TASK_QUEUED) {
                task_detach(self, task);
                task_enqueue(self, task, true);
            }
        }
        else
        if (job)
            job->child_more = true;     //  the pager finds it (or finds it done)
        free(child->spec);
        free(child);
    }
    u64map_destroy(&inserted);
}

void
pipeline_batch_free(batch_t *batch)
{
    pchild_t *child;
    while (batch->children && (child = zlist_pop(batch->children))) {
        free(child->spec);
        free(child);
    }
    zlist_destroy(&batch->children);
}
