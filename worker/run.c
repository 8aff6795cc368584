/*  run — one task on this worker, from start to its single result.

    Every task the broker hands over ends in exactly one result: done by
    its executor, rejected (bad spec, kind not enabled), timed out by the
    worker's own timer, or cancelled. Timers live in one heap and name runs
    by a local id, so a run that ended before its timer fired is simply not
    found. */
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "exec.h"
#include "http.h"
#include "log.h"
#include "taskspec.h"

//  Executor table: start, wake (own timer fired), cancel (release state).
typedef struct {
    void (*start)(worker_t *, run_t *);
    void (*wake)(worker_t *, run_t *);
    void (*cancel)(worker_t *, run_t *);
} executor_t;

static const executor_t *
s_executor(Shoal__TaskKind kind)
{
    static const executor_t noop = { noop_start, noop_wake, noop_cancel };
    static const executor_t http = { http_start, NULL, http_cancel };
    static const executor_t exec = { exec_start, NULL, exec_cancel };
    switch (kind) {
        case SHOAL__TASK_KIND__KIND_EXEC: return &exec;
        case SHOAL__TASK_KIND__KIND_NOOP: return &noop;
        case SHOAL__TASK_KIND__KIND_HTTP: return &http;
        default: return NULL;
    }
}

static void
s_run_free(worker_t *self, run_t *run)
{
    u64map_remove(self->runs, run->id);
    if (run->spec)
        shoal__task_spec__free_unpacked(run->spec, NULL);
    if (run->defaults)
        shoal__job_defaults__free_unpacked(run->defaults, NULL);
    free(run);
}

void
run_finish(worker_t *self, run_t *run, Shoal__Result *result)
{
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
    worker_result(self, run, result);
    s_run_free(self, run);
}

//  End a run that never reached its executor.
static void
s_reject(worker_t *self, run_t *run, Shoal__Outcome outcome, const char *why)
{
    Shoal__Result r = SHOAL__RESULT__INIT;
    r.has_outcome = 1;
    r.outcome = outcome;
    r.error = (char *) why;
    run_finish(self, run, &r);
}

void
run_start(worker_t *self, const Shoal__Task *task, const Shoal__JobDefaults *defaults)
{
    run_t *run = calloc(1, sizeof *run);
    if (!run)
        return;     //  the broker's lease deadline brings the task back
    run->id = ++self->next_run_id;
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
    if (self->draining) {
        s_reject(self, run, SHOAL__OUTCOME__OUTCOME_CANCELLED, "worker is shutting down");
        return;
    }
    run->spec = shoal__task_spec__unpack(NULL, task->spec.len, task->spec.data);
    char err[512];
    if (!run->spec) {
        s_reject(self, run, SHOAL__OUTCOME__OUTCOME_REJECTED, "task spec does not decode");
        return;
    }
    if (taskspec_validate(run->spec, err, sizeof err)) {
        s_reject(self, run, SHOAL__OUTCOME__OUTCOME_REJECTED, err);
        return;
    }
    run->kind = taskspec_kind(run->spec);
    const executor_t *ex = s_executor(run->kind);
    if (!ex || !(self->kinds & (1u << run->kind))
    ||  (run->kind == SHOAL__TASK_KIND__KIND_HTTP && !self->http)
    ||  (run->kind == SHOAL__TASK_KIND__KIND_EXEC && !self->exec)) {
        snprintf(err, sizeof err, "this worker does not run %s tasks", taskspec_kind_name(run->kind));
        s_reject(self, run, SHOAL__OUTCOME__OUTCOME_REJECTED, err);
        return;
    }
    if (defaults && run->kind != SHOAL__TASK_KIND__KIND_NOOP) {
        //  a private copy: the Tasks message is freed after this call
        size_t len = shoal__job_defaults__get_packed_size(defaults);
        uint8_t *buf = malloc(len ? len : 1);
        if (buf) {
            shoal__job_defaults__pack(defaults, buf);
            run->defaults = shoal__job_defaults__unpack(NULL, len, buf);
            free(buf);
        }
    }
    run->timeout_ms = task->has_timeout_ms && task->timeout_ms ? task->timeout_ms
                    : taskspec_timeout_ms(run->spec, run->defaults);
    run->deadline_ms = clock_mono_ms() + run->timeout_ms;
    heap_push(self->timers, run->deadline_ms, NULL, run->id);
    ex->start(self, run);
}

void
run_abort(worker_t *self, run_t *run, Shoal__Outcome outcome, const char *why)
{
    const executor_t *ex = s_executor(run->kind);
    if (ex && run->exec)
        ex->cancel(self, run);
    s_reject(self, run, outcome, why);
}

void
run_wake_at(worker_t *self, run_t *run, int64_t when_ms)
{
    run->wake_ms = when_ms;
    heap_push(self->timers, when_ms, NULL, run->id);
}

void
run_timers(worker_t *self, int64_t now_ms)
{
    heap_entry_t e;
    while (heap_peek(self->timers, &e) && e.when <= now_ms) {
        heap_pop(self->timers, &e);
        run_t *run = u64map_get(self->runs, e.tag);
        if (!run)
            continue;
        if (e.when == run->deadline_ms) {
            char why[96];
            snprintf(why, sizeof why, "timed out after %u ms", run->timeout_ms);
            run_abort(self, run, SHOAL__OUTCOME__OUTCOME_TIMEOUT, why);
        }
        else
        if (e.when == run->wake_ms) {
            run->wake_ms = 0;
            const executor_t *ex = s_executor(run->kind);
            if (ex && ex->wake)
                ex->wake(self, run);
        }
    }
}

run_t *
run_find(worker_t *self, uint64_t task_id, uint64_t lease)
{
    size_t cursor = 0;
    run_t *run;
    while ((run = u64map_next(self->runs, &cursor, NULL)))
        if (run->task_id == task_id && run->lease == lease)
            return run;
    return NULL;
}
