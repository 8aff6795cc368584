/*  noop — the task kind for tests and benchmarks: optionally sleep,
    optionally fail until an attempt number, optionally crash the worker
    (only with --test-hooks). */
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"

static void
s_ok(worker_t *self, run_t *run)
{
    Shoal__Result r = SHOAL__RESULT__INIT;
    r.has_outcome = 1;
    r.outcome = SHOAL__OUTCOME__OUTCOME_OK;
    run_finish(self, run, &r);
}

void
noop_start(worker_t *self, run_t *run)
{
    const Shoal__NoopSpec *spec = run->spec->noop;
    if (spec->has_crash && spec->crash) {
        if (!self->cfg.test_hooks) {
            run_abort(self, run, SHOAL__OUTCOME__OUTCOME_REJECTED,
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
        run_abort(self, run, SHOAL__OUTCOME__OUTCOME_ERROR, why);
        return;
    }
    if (spec->has_sleep_ms && spec->sleep_ms > 0) {
        run->exec = run;    //  "busy": there is something to cancel
        run_wake_at(self, run, clock_mono_ms() + spec->sleep_ms);
        return;
    }
    s_ok(self, run);
}

void
noop_wake(worker_t *self, run_t *run)
{
    run->exec = NULL;
    s_ok(self, run);
}

void
noop_cancel(worker_t *self, run_t *run)
{
    run->exec = NULL;
    run->wake_ms = 0;
}
