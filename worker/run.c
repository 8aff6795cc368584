/*  run — one task on this worker, from start to its single result.

    Every task the broker hands over ends in exactly one result: done by
    its executor, rejected (bad spec, kind not enabled), timed out by the
    worker's own timer, or cancelled. The timeout is a timer in the
    worker's set, cancelled when the run ends. */
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "clock.h"
#include "executor.h"
#include "log.h"
#include "taskspec.h"
#include "u64map.h"

#define MAX_KINDS 16

struct _runs_t {
    u64map_t *runs;             //  run id -> run_t (owned)
    uint64_t  next_id;          //  last run id handed out
    timers_t *timers;           //  the worker's (borrowed)
    executor_t *executors[MAX_KINDS];   //  by Shoal__TaskKind (owned)
    executor_host_t host;       //  what the executors get
    runs_result_fn *on_result;  //  where results go
    void     *ctx;              //  on_result's first argument
};

static void
s_run_free(runs_t *self, run_t *run)
{
    u64map_remove(self->runs, run->id);
    timers_cancel(self->timers, run->timeout_timer);
    if (run->spec)
        shoal__task_spec__free_unpacked(run->spec, NULL);
    if (run->defaults)
        shoal__job_defaults__free_unpacked(run->defaults, NULL);
    free(run);
}

//  The completion callback of every executor (and of the worker's own
//  endings): stamp the result with the task's identity, hand it on, free.
static void
s_finish(void *ctx, run_t *run, Shoal__Result *result)
{
    runs_t *self = ctx;
    result->has_task_id = result->has_lease = result->has_attempt = 1;
    result->task_id = run->task_id;
    result->lease = run->lease;
    result->attempt = run->attempt;
    if (!result->has_started_us) {
        result->has_started_us = 1;
        result->started_us = run->started_us;
    }
    if (!result->has_finished_us) {
        result->has_finished_us = 1;
        result->finished_us = clock_wall_us();
    }
    //  a pipeline step: which one, and the variables known after it (the
    //  broker creates the next step from these alone)
    const Shoal__PipelineStep *ps = run->spec ? run->spec->pipeline : NULL;
    if (ps) {
        result->has_step = 1;
        result->step = ps->index;
        result->has_root = ps->has_root;
        result->root = ps->root;
        if (!result->vars)
            result->vars = ps->vars;
        result->steps = ps->steps;      //  an item's own steps: the broker renders the next from them
    }
    self->on_result(self->ctx, result);
    s_run_free(self, run);
}

void
executor_fail(executor_t *self, run_t *run, Shoal__Outcome outcome, bool permanent, const char *error)
{
    Shoal__Result r = SHOAL__RESULT__INIT;
    r.has_outcome = 1;
    r.outcome = outcome;
    if (permanent)
        r.has_permanent = r.permanent = 1;
    r.error = (char *) error;
    executor_finish(self, run, &r);
}

void
executor_destroy(executor_t **self_p)
{
    if (*self_p)
        (*self_p)->ops->destroy(*self_p);
    *self_p = NULL;
}

runs_t *
runs_new(timers_t *timers, runs_result_fn *on_result, void *ctx)
{
    runs_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->runs = u64map_new();
    if (!self->runs) {
        free(self);
        return NULL;
    }
    self->timers = timers;
    self->on_result = on_result;
    self->ctx = ctx;
    self->host = (executor_host_t) { timers, s_finish, self };
    return self;
}

//  Stop a run's executor, then end it with outcome and why.
static void
s_abort(runs_t *self, run_t *run, Shoal__Outcome outcome, const char *why)
{
    if (run->executor && run->state)
        run->executor->ops->cancel(run->executor, run);
    run->state = NULL;
    Shoal__Result r = SHOAL__RESULT__INIT;
    r.has_outcome = 1;
    r.outcome = outcome;
    r.error = (char *) why;
    s_finish(self, run, &r);
}

void
runs_destroy(runs_t **self_p)
{
    runs_t *self = *self_p;
    if (!self)
        return;
    size_t cursor = 0;
    run_t *run;
    zlist_t *all = zlist_new();
    while ((run = u64map_next(self->runs, &cursor, NULL)))
        zlist_append(all, run);
    while ((run = zlist_pop(all))) {
        if (run->executor && run->state)
            run->executor->ops->cancel(run->executor, run);
        s_run_free(self, run);
    }
    zlist_destroy(&all);
    for (int k = 0; k < MAX_KINDS; k++)
        executor_destroy(&self->executors[k]);
    u64map_destroy(&self->runs);
    free(self);
    *self_p = NULL;
}

void
runs_set_executor(runs_t *self, Shoal__TaskKind kind, executor_t *executor)
{
    if ((unsigned) kind >= MAX_KINDS) {
        executor_destroy(&executor);
        return;
    }
    executor_destroy(&self->executors[kind]);
    self->executors[kind] = executor;
}

const executor_host_t *
runs_host(runs_t *self)
{
    return &self->host;
}

size_t
runs_executors(runs_t *self, executor_t **out, size_t max)
{
    size_t n = 0;
    for (int k = 0; k < MAX_KINDS && n < max; k++)
        if (self->executors[k])
            out[n++] = self->executors[k];
    return n;
}

static void
s_on_timeout(void *arg, int64_t now_ms)
{
    run_t *run = arg;
    runs_t *self = run->executor->host->ctx;
    run->timeout_timer = 0;
    char why[96];
    snprintf(why, sizeof why, "timed out after %u ms", run->timeout_ms);
    s_abort(self, run, SHOAL__OUTCOME__OUTCOME_TIMEOUT, why);
}

//  A private copy of the job's defaults: the Tasks message is freed after
//  the task starts.
static Shoal__JobDefaults *
s_copy_defaults(const Shoal__JobDefaults *defaults)
{
    size_t len = shoal__job_defaults__get_packed_size(defaults);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return NULL;
    shoal__job_defaults__pack(defaults, buf);
    Shoal__JobDefaults *copy = shoal__job_defaults__unpack(NULL, len, buf);
    free(buf);
    return copy;
}

void
runs_start(runs_t *self, const Shoal__Task *task, const Shoal__JobDefaults *defaults, const char *reject)
{
    run_t *run = calloc(1, sizeof *run);
    if (!run)
        return;     //  the broker's lease deadline brings the task back
    run->id = ++self->next_id;
    run->task_id = task->task_id;
    run->lease = task->lease;
    run->attempt = task->has_attempt ? task->attempt : 1;
    run->started_us = clock_wall_us();
    if (u64map_put(self->runs, run->id, run)) {
        free(run);
        return;
    }
    log_debug("task_started", "task=%u/%u attempt=%u lease=%llx", (uint32_t) (run->task_id >> 32),
              (uint32_t) run->task_id, run->attempt, (unsigned long long) run->lease);
    if (reject) {
        s_abort(self, run, SHOAL__OUTCOME__OUTCOME_CANCELLED, reject);
        return;
    }
    run->spec = shoal__task_spec__unpack(NULL, task->spec.len, task->spec.data);
    char err[512];
    if (!run->spec) {
        s_abort(self, run, SHOAL__OUTCOME__OUTCOME_REJECTED, "task spec does not decode");
        return;
    }
    if (taskspec_validate(run->spec, err, sizeof err)) {
        s_abort(self, run, SHOAL__OUTCOME__OUTCOME_REJECTED, err);
        return;
    }
    run->kind = taskspec_kind(run->spec);
    executor_t *ex = (unsigned) run->kind < MAX_KINDS ? self->executors[run->kind] : NULL;
    if (!ex) {
        snprintf(err, sizeof err, "this worker does not run %s tasks", taskspec_kind_name(run->kind));
        s_abort(self, run, SHOAL__OUTCOME__OUTCOME_REJECTED, err);
        return;
    }
    if (defaults && run->kind != SHOAL__TASK_KIND__KIND_NOOP)
        run->defaults = s_copy_defaults(defaults);
    run->timeout_ms = task->has_timeout_ms && task->timeout_ms ? task->timeout_ms
                    : taskspec_timeout_ms(run->spec, run->defaults);
    run->executor = ex;
    run->timeout_timer = timers_add(self->timers,
                                    clock_mono_ms() + run->timeout_ms + ex->ops->backstop_ms,
                                    s_on_timeout, run);
    ex->ops->start(ex, run);
}

bool
runs_cancel(runs_t *self, uint64_t task_id, uint64_t lease, const char *why)
{
    size_t cursor = 0;
    run_t *run;
    while ((run = u64map_next(self->runs, &cursor, NULL)))
        if (run->task_id == task_id && run->lease == lease) {
            s_abort(self, run, SHOAL__OUTCOME__OUTCOME_CANCELLED, why);
            return true;
        }
    return false;
}

void
runs_abort_all(runs_t *self, const char *why)
{
    size_t cursor = 0;
    run_t *run;
    zlist_t *all = zlist_new();
    while ((run = u64map_next(self->runs, &cursor, NULL)))
        zlist_append(all, run);
    while ((run = zlist_pop(all)))
        s_abort(self, run, SHOAL__OUTCOME__OUTCOME_CANCELLED, why);
    zlist_destroy(&all);
}

size_t
runs_size(const runs_t *self)
{
    return u64map_size(self->runs);
}

run_t *
runs_next(runs_t *self, size_t *cursor)
{
    return u64map_next(self->runs, cursor, NULL);
}
