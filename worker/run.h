/*  run — one task being executed on this worker (see run.c). */
#ifndef SHOAL_WORKER_RUN_H
#define SHOAL_WORKER_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shoal.pb-c.h"
#include "timers.h"

typedef struct _executor_t executor_t;
typedef struct _executor_host_t executor_host_t;

//  One task being executed. Executors read the task's fields and keep
//  their own state in `state`.
typedef struct _run_t {
    uint64_t  id;               //  local id (never reused in a process)
    uint64_t  task_id;
    uint64_t  lease;
    uint32_t  attempt;
    uint32_t  timeout_ms;       //  the task's timeout
    Shoal__TaskSpec *spec;      //  decoded (owned)
    Shoal__JobDefaults *defaults;   //  copy of the job's defaults (owned), may be NULL
    int64_t   started_us;       //  wall clock
    Shoal__TaskKind kind;
    executor_t *executor;       //  who runs it (NULL before it starts)
    void     *state;            //  the executor's, NULL when it holds nothing to stop
    uint64_t  timeout_timer;    //  the worker's timer for the timeout
} run_t;

//  A task reference (task and lease), as Hello lists them.
static inline void
run_ref_init(Shoal__TaskRef *ref, uint64_t task_id, uint64_t lease)
{
    shoal__task_ref__init(ref);
    ref->has_task_id = ref->has_lease = 1;
    ref->task_id = task_id;
    ref->lease = lease;
}

typedef struct _runs_t runs_t;

//  Where results go: called once per run with its result (unpacked
//  fields stay the caller's).
typedef void (runs_result_fn)(void *ctx, const Shoal__Result *result);

//  The runs of a worker. Results go to on_result(ctx, ...).
runs_t *runs_new(timers_t *timers, runs_result_fn *on_result, void *ctx);
//  Destroy (cancels what still runs, without results); NULLs the pointer.
void runs_destroy(runs_t **self_p);
//  What executors of these runs are given: the timers and the completion
//  callback (lives as long as the runs).
const executor_host_t *runs_host(runs_t *self);
//  Who runs tasks of this kind (owned by runs from now on; replaces any).
void runs_set_executor(runs_t *self, Shoal__TaskKind kind, executor_t *executor);
//  The executors, to poll their descriptors: fills up to max, returns how many.
size_t runs_executors(runs_t *self, executor_t **out, size_t max);
//  Start a task from the broker; it always ends in exactly one result.
//  `reject`: not NULL, end it at once as cancelled with that reason.
void runs_start(runs_t *self, const Shoal__Task *task, const Shoal__JobDefaults *defaults,
                const char *reject);
//  Abort a run by task and lease (cancelled by the broker); false if unknown.
bool runs_cancel(runs_t *self, uint64_t task_id, uint64_t lease, const char *why);
//  Abort every run, each ending in a cancelled result with `why`.
void runs_abort_all(runs_t *self, const char *why);
//  Number of runs.
size_t runs_size(const runs_t *self);
//  Iterate: start with *cursor = 0; NULL at the end (no changes meanwhile).
run_t *runs_next(runs_t *self, size_t *cursor);

#endif
