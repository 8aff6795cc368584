/*  executor — what runs one kind of task on the worker (noop, http, exec,
    and any kind added later: handler, ...).

    An executor sees runs, a completion callback and the worker's timers;
    it never sees the worker, its socket or its other runs.

      * The worker calls ops->start(self, run) for each task of the kind.
        The run ends in exactly one executor_finish(), from start itself
        (a bad spec, a failure to start) or later (from on_ready or a
        timer). executor_finish frees the run: do not touch it afterwards.
      * ops->cancel(self, run) stops a run and releases what the executor
        holds for it (run->state), WITHOUT finishing it: the worker
        finishes it (timed out, cancelled by the broker, worker stopping).
        The worker calls cancel only while run->state is not NULL, so set
        run->state while there is something to stop and clear it when the
        run is finished.
      * Timers: timers_add(host->timers, when_ms, fn, arg) calls fn once on
        the worker's loop (monotonic ms, clock_mono_ms()); timers_cancel
        forgets one. Cancel your timers in cancel and when a run finishes.
        The run's timeout is the worker's: the executor is cancelled when
        it passes (ops->backstop_ms later, for executors that enforce the
        timeout themselves, e.g. curl).
      * File descriptors: ops->poll_fd returns one descriptor for the loop
        to poll for reading (an epoll set of everything the executor
        watches), or -1 when there is nothing to watch right now; the loop
        calls ops->on_ready(self) when it is readable. Both are optional.
      * Never block: no waitpid(…, 0), no blocking read or connect. The
        loop runs every task of the worker.

    A new executor: a struct whose first member is `executor_t base`, a
    static executor_ops_t, a constructor taking the executor_host_t, and a
    line in worker.c's s_executors_new(). */
#ifndef SHOAL_WORKER_EXECUTOR_H
#define SHOAL_WORKER_EXECUTOR_H

#include <stdint.h>

#include "run.h"
#include "shoal.pb-c.h"
#include "timers.h"

typedef struct _executor_t executor_t;
typedef struct _executor_host_t executor_host_t;

//  The completion callback: the run's one result (unpacked fields stay
//  the caller's); frees the run.
typedef void (executor_finish_fn)(void *ctx, run_t *run, Shoal__Result *result);

//  What the worker gives every executor (borrowed, lives as long as it).
struct _executor_host_t {
    timers_t *timers;               //  the worker's timers
    executor_finish_fn *finish;     //  end a run
    void     *ctx;                  //  finish's first argument
};

typedef struct {
    const char *name;               //  the task kind, for logs
    uint32_t backstop_ms;           //  added to the run's timeout (0: the worker's timer is the timeout)
    void (*start)(executor_t *self, run_t *run);
    void (*cancel)(executor_t *self, run_t *run);
    int  (*poll_fd)(executor_t *self);      //  NULL: nothing to poll
    void (*on_ready)(executor_t *self);     //  poll_fd is readable
    void (*destroy)(executor_t *self);      //  no runs left; frees self
} executor_ops_t;

struct _executor_t {
    const executor_ops_t *ops;
    const executor_host_t *host;
};

//  End a run with its result (exactly once per run); the run is freed.
static inline void
executor_finish(executor_t *self, run_t *run, Shoal__Result *result)
{
    self->host->finish(self->host->ctx, run, result);
}

//  End a run with an outcome and an error text (permanent: retrying will
//  not help); the run is freed.
void executor_fail(executor_t *self, run_t *run, Shoal__Outcome outcome, bool permanent,
                   const char *error);

//  Destroy an executor (NULL is fine); NULLs the caller's pointer.
void executor_destroy(executor_t **self_p);

//  ---- the executors (noop.c, http.c, exec.c); NULL on failure
//  noop: optional sleep, programmed failures; crash only with test_hooks.
executor_t *noop_executor_new(const executor_host_t *host, bool test_hooks);
//  http: up to `slots` transfers; bodies stored "dir" go to body_dir, "s3" by `s3` (s3.h).
typedef struct _s3_config_t s3_config_t;
executor_t *http_executor_new(const executor_host_t *host, const char *body_dir, size_t slots,
                              const s3_config_t *s3);
//  exec: commands, each contained with all it starts (containment: auto,
//  cgroup or reaper; see contain.h).
executor_t *exec_executor_new(const executor_host_t *host, const char *containment);

#endif
