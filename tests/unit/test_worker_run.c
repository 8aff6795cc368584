/*  test_worker_run — worker/run.c with a fake executor: the contract of
    executor.h (one result per task, the timeout cancels the executor
    without a second result, timers of finished runs are gone, unknown
    kinds and bad specs are rejected without reaching an executor). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "clock.h"
#include "executor.h"
#include "run.h"

typedef struct {
    executor_t base;
    int started, cancelled;
    run_t *held;                //  a run it keeps going (finishes on demand)
    bool finish_at_once;        //  end runs in start
} fake_t;

typedef struct {
    int results;
    Shoal__Outcome last;
    char last_error[256];
    uint64_t last_task;
} sink_t;

static void
s_start(executor_t *base, run_t *run)
{
    fake_t *f = (fake_t *) base;
    f->started++;
    if (f->finish_at_once) {
        executor_fail(base, run, SHOAL__OUTCOME__OUTCOME_OK, false, NULL);
        return;
    }
    run->state = f;
    f->held = run;
}

static void
s_cancel(executor_t *base, run_t *run)
{
    fake_t *f = (fake_t *) base;
    f->cancelled++;
    f->held = NULL;
    run->state = NULL;
}

static void
s_destroy(executor_t *base)
{
    free(base);
}

static const executor_ops_t s_ops = { .name = "fake", .start = s_start, .cancel = s_cancel, .destroy = s_destroy };

static void
s_on_result(void *ctx, const Shoal__Result *r)
{
    sink_t *s = ctx;
    s->results++;
    s->last = r->outcome;
    s->last_task = r->task_id;
    snprintf(s->last_error, sizeof s->last_error, "%s", r->error ? r->error : "");
}

//  A Tasks entry for a noop spec (optionally with a timeout).
static void
s_task(Shoal__Task *t, uint8_t *buf, size_t *len, uint64_t id, uint32_t timeout_ms)
{
    Shoal__NoopSpec noop = SHOAL__NOOP_SPEC__INIT;
    Shoal__TaskSpec spec = SHOAL__TASK_SPEC__INIT;
    spec.kind_case = SHOAL__TASK_SPEC__KIND_NOOP;
    spec.noop = &noop;
    *len = shoal__task_spec__pack(&spec, buf);
    shoal__task__init(t);
    t->has_task_id = t->has_lease = 1;
    t->task_id = id;
    t->lease = id + 1000;
    t->spec.data = buf;
    t->spec.len = *len;
    t->has_timeout_ms = timeout_ms > 0;
    t->timeout_ms = timeout_ms;
}

int
main(void)
{
    timers_t *timers = timers_new();
    sink_t sink = { 0 };
    runs_t *runs = runs_new(timers, s_on_result, &sink);
    fake_t *f = calloc(1, sizeof *f);
    f->base = (executor_t) { &s_ops, runs_host(runs) };
    runs_set_executor(runs, SHOAL__TASK_KIND__KIND_NOOP, &f->base);
    uint8_t buf[64];
    size_t len;
    Shoal__Task t;

    //  finished in start: one result, no run left, no timer left
    f->finish_at_once = true;
    s_task(&t, buf, &len, 1, 0);
    runs_start(runs, &t, NULL, NULL);
    CHECK(sink.results == 1 && sink.last == SHOAL__OUTCOME__OUTCOME_OK && sink.last_task == 1);
    CHECK(runs_size(runs) == 0);
    CHECK(timers_size(timers) == 0);

    //  held past its timeout: cancelled once, one timeout result
    f->finish_at_once = false;
    s_task(&t, buf, &len, 2, 50);
    runs_start(runs, &t, NULL, NULL);
    CHECK(runs_size(runs) == 1 && f->held);
    CHECK(timers_size(timers) == 1);
    CHECK(timers_fire(timers, clock_mono_ms() + 40) == 0);
    CHECK(sink.results == 1);
    CHECK(timers_fire(timers, clock_mono_ms() + 60) == 1);
    CHECK(sink.results == 2 && sink.last == SHOAL__OUTCOME__OUTCOME_TIMEOUT);
    CHECK_CONTAINS(sink.last_error, "timed out after 50 ms");
    CHECK(f->cancelled == 1 && !f->held && runs_size(runs) == 0);

    //  cancelled by the broker: by task and lease only
    s_task(&t, buf, &len, 3, 0);
    runs_start(runs, &t, NULL, NULL);
    CHECK(!runs_cancel(runs, 3, 999, "no"));
    CHECK(runs_cancel(runs, 3, 1003, "cancelled by the broker"));
    CHECK(sink.results == 3 && sink.last == SHOAL__OUTCOME__OUTCOME_CANCELLED);
    CHECK(f->cancelled == 2);
    CHECK(timers_size(timers) == 0);        //  its timeout went with it

    //  refused while stopping: never reaches the executor
    int started = f->started;
    s_task(&t, buf, &len, 4, 0);
    runs_start(runs, &t, NULL, "worker is shutting down");
    CHECK(f->started == started && sink.results == 4 && sink.last == SHOAL__OUTCOME__OUTCOME_CANCELLED);

    //  a spec that does not decode, a kind without an executor
    Shoal__Task bad;
    s_task(&bad, buf, &len, 5, 0);
    uint8_t junk[] = { 0xff, 0xff, 0xff };
    bad.spec.data = junk;
    bad.spec.len = sizeof junk;
    runs_start(runs, &bad, NULL, NULL);
    CHECK(sink.results == 5 && sink.last == SHOAL__OUTCOME__OUTCOME_REJECTED);
    runs_set_executor(runs, SHOAL__TASK_KIND__KIND_NOOP, NULL);     //  destroys the fake
    s_task(&t, buf, &len, 6, 0);
    runs_start(runs, &t, NULL, NULL);
    CHECK(sink.results == 6 && sink.last == SHOAL__OUTCOME__OUTCOME_REJECTED);
    CHECK_CONTAINS(sink.last_error, "does not run noop tasks");

    runs_destroy(&runs);
    CHECK(runs == NULL);
    timers_destroy(&timers);
    return check_result("test_worker_run");
}
