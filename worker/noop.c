/*  noop — the task kind for tests and benchmarks: optionally sleep,
    optionally fail until an attempt number, optionally crash the worker
    (only with --test-hooks). */
#include "executor.h"

#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"

typedef struct {
    executor_t base;
    bool       test_hooks;      //  noop.crash is honoured
} noop_t;

static void
s_ok(executor_t *self, run_t *run)
{
    Shoal__Result r = SHOAL__RESULT__INIT;
    r.has_outcome = 1;
    r.outcome = SHOAL__OUTCOME__OUTCOME_OK;
    executor_finish(self, run, &r);
}

//  The sleep is over.
static void
s_on_wake(void *arg, int64_t now_ms)
{
    run_t *run = arg;
    run->state = NULL;
    s_ok(run->executor, run);
}

static void
s_start(executor_t *base, run_t *run)
{
    noop_t *self = (noop_t *) base;
    const Shoal__NoopSpec *spec = run->spec->noop;
    if (spec->has_crash && spec->crash) {
        if (!self->test_hooks) {
            executor_fail(base, run, SHOAL__OUTCOME__OUTCOME_REJECTED, false,
                          "noop.crash needs a worker started with --test-hooks");
            return;
        }
        log_warn("test_crash", "task=%llx", (unsigned long long) run->task_id);
        abort();
    }
    if (spec->has_fail_until_attempt && run->attempt < spec->fail_until_attempt) {
        char why[96];
        snprintf(why, sizeof why, "programmed failure (attempt %u, succeeds at %u)",
                 run->attempt, spec->fail_until_attempt);
        executor_fail(base, run, SHOAL__OUTCOME__OUTCOME_ERROR, false, why);
        return;
    }
    if (spec->has_sleep_ms && spec->sleep_ms > 0) {
        //  the timer's id is the state: there is something to cancel
        uint64_t timer = timers_add(base->host->timers, clock_mono_ms() + spec->sleep_ms, s_on_wake, run);
        if (timer) {
            run->state = (void *) (uintptr_t) timer;
            return;
        }
    }
    s_ok(base, run);
}

static void
s_cancel(executor_t *base, run_t *run)
{
    timers_cancel(base->host->timers, (uint64_t) (uintptr_t) run->state);
    run->state = NULL;
}

static void
s_destroy(executor_t *base)
{
    free(base);
}

static const executor_ops_t s_ops = {
    .name = "noop",
    .start = s_start,
    .cancel = s_cancel,
    .destroy = s_destroy,
};

executor_t *
noop_executor_new(const executor_host_t *host, bool test_hooks)
{
    noop_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->base = (executor_t) { &s_ops, host };
    self->test_hooks = test_hooks;
    return &self->base;
}
