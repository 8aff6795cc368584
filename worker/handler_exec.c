/*  handler_exec — the executor of handler tasks: the worker's handler
    pools (handler.c) behind the executor interface (executor.h).

    Each --handler is a pool with an epoll set of its own; this executor
    puts those sets in one that the worker polls, and keeps one timer at
    the earliest deadline any pool has. A task's result carries the
    handler's output and vars; a task the pool refuses (the handler is
    broken here) comes back cancelled, which the broker does not count as
    an attempt and sends elsewhere. */
#include "handler_exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "guard.h"
#include "handler.h"
#include "log.h"
#include "u64map.h"

typedef struct {
    executor_t base;
    handler_t **handlers;
    size_t      n;
    guard_t    *guard;          //  kills the handlers' groups if the worker dies
    int         epfd;           //  the pools' epoll sets
    uint64_t    timer;          //  armed timer, 0 = none
    int64_t     timer_at;
    int64_t     floor_ms;       //  while firing: no timer before this
    u64map_t   *runs;           //  run id -> run_t
    bool        changed;        //  a handler broke or mended since the last look
    bool       *was_broken;     //  per handler
} hexec_t;

static void s_arm(hexec_t *x);

static void
s_on_timer(void *arg, int64_t now_ms)
{
    hexec_t *x = arg;
    x->timer = 0;
    for (size_t i = 0; i < x->n; i++)
        handler_timers(x->handlers[i], now_ms);
    x->floor_ms = now_ms + 1;     //  never due again in the same turn
    s_arm(x);
    x->floor_ms = 0;
}

//  Keep one timer at the pools' earliest deadline; note broken flips.
static void
s_arm(hexec_t *x)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < x->n; i++) {
        int64_t at = handler_next_wake_ms(x->handlers[i]);
        if (at < next)
            next = at;
        handler_stats_t st;
        handler_stats(x->handlers[i], &st);
        if (st.broken != x->was_broken[i]) {
            x->was_broken[i] = st.broken;
            x->changed = true;
        }
    }
    if (next < x->floor_ms)
        next = x->floor_ms;
    if (x->timer && x->timer_at == next)
        return;
    timers_cancel(x->base.host->timers, x->timer);
    x->timer = 0;
    if (next != INT64_MAX) {
        x->timer = timers_add(x->base.host->timers, next, s_on_timer, x);
        x->timer_at = next;
    }
}

//  A pool's answer for a run.
//  The variables after a pipeline step run by a handler: the task's
//  (`known`, JSON object text) with the answer's vars over them; a new
//  string, or NULL when the answer has none (the task's stand).
static char *
s_merged_vars(const char *known, const char *answer)
{
    if (!answer)
        return NULL;
    json_t *all = known ? json_loads(known, 0, NULL) : NULL;
    json_t *mine = json_loads(answer, 0, NULL);
    if (!json_is_object(all)) {
        json_decref(all);
        all = json_object();
    }
    char *text = NULL;
    if (all && json_is_object(mine) && json_object_update(all, mine) == 0)
        text = json_dumps(all, JSON_COMPACT);
    json_decref(all);
    json_decref(mine);
    return text;
}

static void
s_on_done(void *arg, uint64_t ref, const handler_outcome_t *o)
{
    hexec_t *x = arg;
    run_t *run = u64map_remove(x->runs, ref);
    if (!run)
        return;
    run->state = NULL;
    Shoal__Result r = SHOAL__RESULT__INIT;
    Shoal__HandlerResult hr = SHOAL__HANDLER_RESULT__INIT;
    r.has_outcome = 1;
    if (o->ok) {
        r.outcome = SHOAL__OUTCOME__OUTCOME_OK;
        hr.output = (char *) o->output;
        hr.vars = (char *) o->vars;
        hr.has_pid = o->pid != 0;
        hr.pid = (uint32_t) o->pid;
        r.handler = &hr;
    }
    else
    if (o->refused)
        r.outcome = SHOAL__OUTCOME__OUTCOME_CANCELLED;     //  not its fault: elsewhere, uncounted
    else {
        r.outcome = SHOAL__OUTCOME__OUTCOME_ERROR;
        r.has_permanent = r.permanent = !o->retry;
    }
    r.error = o->ok ? NULL : (char *) o->error;
    const Shoal__PipelineStep *ps = run->spec ? run->spec->pipeline : NULL;
    char *vars = o->ok && ps ? s_merged_vars(ps->vars, o->vars) : NULL;
    r.vars = vars;
    executor_finish(&x->base, run, &r);
    free(vars);
}

static handler_t *
s_find(hexec_t *x, const char *name)
{
    for (size_t i = 0; name && i < x->n; i++)
        if (!strcmp(handler_name(x->handlers[i]), name))
            return x->handlers[i];
    return NULL;
}

static void
s_start(executor_t *base, run_t *run)
{
    hexec_t *x = (hexec_t *) base;
    const Shoal__HandlerSpec *spec = run->spec->handler;
    handler_t *h = s_find(x, spec->name);
    if (!h) {
        char why[128];
        snprintf(why, sizeof why, "this worker has no handler %.64s", spec->name);
        executor_fail(base, run, SHOAL__OUTCOME__OUTCOME_CANCELLED, false, why);
        return;
    }
    char id[32], err[512];
    snprintf(id, sizeof id, "%u/%u", (uint32_t) (run->task_id >> 32), (uint32_t) run->task_id);
    int64_t deadline = run->started_us / 1000 + run->timeout_ms;
    if (u64map_put(x->runs, run->id, run)) {
        executor_fail(base, run, SHOAL__OUTCOME__OUTCOME_ERROR, false, "out of memory");
        return;
    }
    run->state = h;
    //  a pipeline step's handler sees every variable known at that step
    const Shoal__PipelineStep *ps = run->spec->pipeline;
    const char *vars = ps && ps->vars ? ps->vars : spec->vars;
    if (handler_submit(h, run->id, id, run->attempt, deadline, spec->payload, vars, err, sizeof err)) {
        u64map_remove(x->runs, run->id);
        run->state = NULL;
        executor_fail(base, run, SHOAL__OUTCOME__OUTCOME_REJECTED, true, err);
        return;
    }
    s_arm(x);
}

static void
s_cancel(executor_t *base, run_t *run)
{
    hexec_t *x = (hexec_t *) base;
    handler_t *h = run->state;
    u64map_remove(x->runs, run->id);
    run->state = NULL;
    if (h)
        handler_cancel(h, run->id);
    s_arm(x);
}

static int
s_poll_fd(executor_t *base)
{
    return ((hexec_t *) base)->epfd;
}

static void
s_on_ready(executor_t *base)
{
    hexec_t *x = (hexec_t *) base;
    struct epoll_event events[16];
    int n = epoll_wait(x->epfd, events, 16, 0);
    for (int i = 0; i < n; i++)
        handler_after_poll(x->handlers[events[i].data.u64]);
    s_arm(x);
}

//  The worker is done with tasks: SIGTERM the processes and wait for
//  them (kill_grace, then SIGKILL), polling their exits, never blocking
//  in waitpid.
static void
s_stop_all(hexec_t *x)
{
    for (size_t i = 0; i < x->n; i++)
        handler_stop(x->handlers[i]);
    int64_t until = clock_mono_ms() + 60000;
    for (;;) {
        bool idle = true;
        for (size_t i = 0; i < x->n; i++)
            idle &= handler_idle(x->handlers[i]);
        int64_t now = clock_mono_ms();
        if (idle || now >= until)
            break;
        int64_t next = until;
        for (size_t i = 0; i < x->n; i++) {
            int64_t at = handler_next_wake_ms(x->handlers[i]);
            if (at < next)
                next = at;
        }
        struct pollfd pfd = { .fd = x->epfd, .events = POLLIN };
        int wait = next > now ? (int) (next - now > 100 ? 100 : next - now) : 0;
        if (poll(&pfd, 1, wait) > 0)
            s_on_ready(&x->base);
        for (size_t i = 0; i < x->n; i++)
            handler_timers(x->handlers[i], clock_mono_ms());
    }
}

static void
s_destroy(executor_t *base)
{
    hexec_t *x = (hexec_t *) base;
    timers_cancel(x->base.host->timers, x->timer);
    s_stop_all(x);
    for (size_t i = 0; i < x->n; i++)
        handler_destroy(&x->handlers[i]);
    free(x->handlers);
    free(x->was_broken);
    u64map_destroy(&x->runs);
    if (x->epfd >= 0)
        close(x->epfd);
    guard_destroy(&x->guard);
    free(x);
}

static const executor_ops_t s_ops = {
    .name = "handler",
    .start = s_start,
    .cancel = s_cancel,
    .poll_fd = s_poll_fd,
    .on_ready = s_on_ready,
    .destroy = s_destroy,
};

executor_t *
handler_executor_new(const executor_host_t *host, const handler_config_t *configs, size_t n)
{
    hexec_t *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->base.ops = &s_ops;
    x->base.host = host;
    x->epfd = epoll_create1(EPOLL_CLOEXEC);
    x->handlers = calloc(n ? n : 1, sizeof *x->handlers);
    x->was_broken = calloc(n ? n : 1, sizeof *x->was_broken);
    x->runs = u64map_new();
    x->guard = guard_new();
    if (x->epfd < 0 || !x->handlers || !x->was_broken || !x->runs || !x->guard) {
        log_error("handler_setup_failed", "error=\"%s\"", x->guard ? "out of memory" : "cannot fork the guard");
        s_destroy(&x->base);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        char err[512];
        handler_t *h = handler_new(&configs[i], x->guard, s_on_done, x, err, sizeof err);
        if (!h) {
            log_error("handler_setup_failed", "handler=%s error=\"%s\"", configs[i].name, err);
            s_destroy(&x->base);
            return NULL;
        }
        x->handlers[x->n++] = h;
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i };
        epoll_ctl(x->epfd, EPOLL_CTL_ADD, handler_fd(h), &ev);
        log_info("handler_ready", "handler=%s procs=%u warm=%d", configs[i].name, configs[i].procs,
                 (int) configs[i].warm);
    }
    s_arm(x);
    return &x->base;
}

size_t
handler_executor_infos(executor_t *base, Shoal__HandlerInfo *infos, size_t max)
{
    hexec_t *x = (hexec_t *) base;
    size_t n = 0;
    for (size_t i = 0; x && i < x->n && n < max; i++) {
        handler_stats_t st;
        handler_stats(x->handlers[i], &st);
        Shoal__HandlerInfo *h = &infos[n++];
        shoal__handler_info__init(h);
        h->name = (char *) handler_name(x->handlers[i]);
        h->has_procs = h->has_up = h->has_busy = h->has_restarts = h->has_broken = h->has_served = 1;
        h->procs = st.procs;
        h->up = st.up;
        h->busy = st.busy;
        h->restarts = st.restarts;
        h->broken = st.broken;
        h->served = st.served;
    }
    return n;
}

bool
handler_executor_changed(executor_t *base)
{
    hexec_t *x = (hexec_t *) base;
    if (!x || !x->changed)
        return false;
    x->changed = false;
    return true;
}
