/*  handler — a pool of long-lived processes for one handler (see handler.h).

    Each process runs `/bin/sh -c COMMAND` in its own process group, with
    non-blocking pipes for stdin, stdout and stderr and a pidfd that turns
    readable when it exits, all in one epoll set the worker's loop polls.
    Nothing here waits: exits are seen through the pidfd and reaped with
    WNOHANG, kills escalate from SIGTERM to SIGKILL on a timer.

    A process is *started* once it has said anything on stdout (or, for
    handlers without `ready`, has lived a second). One that ends before it
    started is a start-up failure: its task goes back to the front of the
    queue, uncharged; HANDLER_BROKEN_AFTER of them in a row mark the
    handler broken, and its tasks are refused so they run elsewhere.
    Restarts after a failure wait 100 ms, doubling to 10 s (30 s while
    broken: a broken handler is still probed, and mends itself when a
    process starts). What the pool does when a process speaks or exits is
    handler_events.c; the state both share is handler_pool.h. */
#include "handler.h"
#include "handler_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "handler_proc.h"
#include "handler_proto.h"
#include "log.h"

const char *
handler_name(const handler_t *self)
{
    return self->cfg.name;
}

int
handler_fd(const handler_t *self)
{
    return self->epfd;
}

static void
s_task_free(htask_t *t)
{
    if (!t)
        return;
    free(t->id);
    free(t->line);
    free(t);
}

//  Tell the caller how a task ended and free it.
void
hpool_complete(handler_t *self, htask_t *t, const handler_outcome_t *o)
{
    uint64_t ref = t->ref;
    s_task_free(t);
    self->done(self->arg, ref, o);
}

//  End a task with an error.
void
hpool_fail(handler_t *self, htask_t *t, pid_t pid, const char *error, bool crashed, bool refused)
{
    handler_outcome_t o = { .ok = false, .error = error, .retry = true, .crashed = crashed,
                            .refused = refused, .pid = pid };
    hpool_complete(self, t, &o);
}

static uint32_t
s_active(const handler_t *self, uint32_t *busy)
{
    uint32_t n = 0, b = 0;
    for (hproc_t *p = self->procs; p; p = p->next)
        if (p->state != HP_STOPPING) {
            n++;
            b += p->state == HP_BUSY;
        }
    if (busy)
        *busy = b;
    return n;
}

//  Refuse every queued task: the handler is broken (they can run elsewhere).
void
hpool_refuse_queue(handler_t *self)
{
    char why[400];
    snprintf(why, sizeof why, "handler %s is broken on this worker: %s", self->cfg.name, self->last_failure);
    while (self->queue_head) {
        htask_t *t = self->queue_head;
        self->queue_head = t->next;
        if (!self->queue_head)
            self->queue_tail = NULL;
        self->n_queued--;
        hpool_fail(self, t, 0, why, false, true);
    }
}

//  Mark a process started: it proved the command works.
void
hpool_started(handler_t *self, hproc_t *p)
{
    if (p->started)
        return;
    p->started = true;
    self->startup_fails = 0;
    if (self->broken) {
        self->broken = false;
        log_info("handler_mended", "handler=%s pid=%d", self->cfg.name, (int) p->pid);
    }
}

//  Start processes up to what is wanted, unless waiting out a backoff.
static void
s_fill(handler_t *self, int64_t now)
{
    if (self->stopping || now < self->restart_at_ms)
        return;
    uint32_t busy;
    uint32_t active = s_active(self, &busy);
    uint32_t want = self->cfg.warm ? self->cfg.procs : busy + self->n_queued;
    if (want > self->cfg.procs)
        want = self->cfg.procs;
    if (self->broken && want == 0)
        want = 1;   //  the probe
    while (active < want) {
        char err[256];
        hproc_t *p = hproc_spawn(self->cfg.command, self->epfd, self->guard, err, sizeof err);
        if (!p) {
            char q[600];
            log_error("handler_spawn_failed", "handler=%s error=%s", self->cfg.name, log_quote(err, q, sizeof q));
            snprintf(self->last_failure, sizeof self->last_failure, "%s", err);
            self->fails++;
            self->restart_at_ms = now + BACKOFF_FIRST_MS;
            return;
        }
        p->h = self;
        p->max_line = self->cfg.max_line;
        p->started_ms = now;
        p->state = self->cfg.ready ? HP_STARTING : HP_IDLE;
        p->next = self->procs;
        self->procs = p;
        self->spawned++;
        active++;
        log_info("handler_started", "handler=%s pid=%d", self->cfg.name, (int) p->pid);
        if (self->broken || self->fails)
            break;  //  one at a time while it keeps failing
    }
}

//  Hand queued tasks to idle processes.
static void
s_dispatch(handler_t *self)
{
    for (hproc_t *p = self->procs; p && self->queue_head; p = p->next) {
        if (p->state != HP_IDLE || p->dead)
            continue;
        htask_t *t = self->queue_head;
        self->queue_head = t->next;
        if (!self->queue_head)
            self->queue_tail = NULL;
        self->n_queued--;
        t->next = NULL;
        p->task = t;
        p->woff = 0;
        p->state = HP_BUSY;
        hproc_write(p, self->epfd);
    }
}

//  Ask a process to go: end of input, SIGTERM to its group, SIGKILL later.
void
hpool_stop(handler_t *self, hproc_t *p, const char *why)
{
    if (p->state == HP_STOPPING)
        return;
    p->state = HP_STOPPING;
    p->kill_at_ms = clock_mono_ms() + self->cfg.kill_grace_ms;
    char q[256];
    log_info("handler_stopping", "handler=%s pid=%d served=%llu reason=%s", self->cfg.name, (int) p->pid,
             (unsigned long long) p->served, log_quote(why, q, sizeof q));
    hproc_terminate(p, self->epfd);
}

//  A failure that calls for a slower restart.
void
hpool_failure(handler_t *self, const char *what)
{
    self->fails++;
    snprintf(self->last_failure, sizeof self->last_failure, "%s", what);
    int64_t delay = BACKOFF_FIRST_MS;
    for (uint32_t i = 1; i < self->fails && delay < BACKOFF_MAX_MS; i++)
        delay *= 2;
    if (delay > BACKOFF_MAX_MS)
        delay = BACKOFF_MAX_MS;
    if (self->broken)
        delay = BACKOFF_BROKEN_MS;
    self->restart_at_ms = clock_mono_ms() + delay;
}

//  Start processes and feed them (never frees one: safe inside callbacks).
static void
s_feed(handler_t *self)
{
    s_fill(self, clock_mono_ms());
    s_dispatch(self);
}

//  Free reaped processes; start and feed the rest. Only at the end of
//  handler_after_poll / handler_timers, where no process is in use.
static void
s_sweep(handler_t *self)
{
    hproc_t **pp = &self->procs;
    while (*pp) {
        hproc_t *p = *pp;
        if (p->dead) {
            *pp = p->next;
            hproc_free(p, self->epfd, self->guard);
        }
        else
            pp = &p->next;
    }
    s_feed(self);
}

handler_t *
handler_new(const handler_config_t *cfg, guard_t *guard, handler_done_fn *done, void *arg, char *err,
            size_t errlen)
{
    handler_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->cfg = *cfg;
    self->cfg.command = strdup(cfg->command);
    self->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!self->cfg.command || self->epfd < 0) {
        snprintf(err, errlen, "handler %s: %s", cfg->name, strerror(errno));
        handler_destroy(&self);
        return NULL;
    }
    if (!self->cfg.procs)
        self->cfg.procs = 1;
    if (!self->cfg.max_line)
        self->cfg.max_line = HANDLER_DEFAULT_MAX_LINE;
    self->guard = guard;
    self->done = done;
    self->arg = arg;
    s_fill(self, clock_mono_ms());
    return self;
}

void
handler_destroy(handler_t **self_p)
{
    handler_t *self = *self_p;
    if (!self)
        return;
    for (hproc_t *p = self->procs; p; p = p->next)
        hproc_kill(p);
    //  SIGKILL cannot be ignored: give them a moment to go, without hanging
    //  on one stuck in the kernel
    int64_t until = clock_mono_ms() + 2000;
    while (self->procs && clock_mono_ms() < until) {
        hproc_t **pp = &self->procs;
        while (*pp) {
            hproc_t *p = *pp;
            if (hproc_reap(p)) {
                *pp = p->next;
                hproc_free(p, self->epfd, self->guard);
            }
            else
                pp = &p->next;
        }
        if (self->procs)
            usleep(5000);
    }
    while (self->procs) {
        hproc_t *p = self->procs;
        self->procs = p->next;
        hproc_free(p, self->epfd, self->guard);
    }
    while (self->queue_head) {
        htask_t *t = self->queue_head;
        self->queue_head = t->next;
        s_task_free(t);
    }
    if (self->epfd >= 0)
        close(self->epfd);
    free(self->cfg.command);
    free(self);
    *self_p = NULL;
}

int
handler_submit(handler_t *self, uint64_t ref, const char *id, uint32_t attempt, int64_t deadline_ms,
               const char *payload, const char *vars, char *err, size_t errlen)
{
    htask_t *t = calloc(1, sizeof *t);
    if (!t || !(t->id = strdup(id))) {
        free(t);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->ref = ref;
    t->line = handler_proto_task_line(id, attempt, deadline_ms, payload, vars, &t->len, err, errlen);
    if (!t->line) {
        s_task_free(t);
        return -1;
    }
    if (self->queue_tail)
        self->queue_tail->next = t;
    else
        self->queue_head = t;
    self->queue_tail = t;
    self->n_queued++;
    if (self->broken)
        hpool_refuse_queue(self);
    else
        s_feed(self);
    return 0;
}

void
handler_cancel(handler_t *self, uint64_t ref)
{
    for (htask_t **tp = &self->queue_head, *prev = NULL; *tp; prev = *tp, tp = &(*tp)->next)
        if ((*tp)->ref == ref) {
            htask_t *t = *tp;
            *tp = t->next;
            if (self->queue_tail == t)
                self->queue_tail = prev;
            self->n_queued--;
            s_task_free(t);
            return;
        }
    for (hproc_t *p = self->procs; p; p = p->next)
        if (p->task && p->task->ref == ref) {
            s_task_free(p->task);
            p->task = NULL;
            hpool_stop(self, p, "its task was cancelled or timed out");
            return;
        }
}

void
handler_after_poll(handler_t *self)
{
    struct epoll_event events[64];
    int ready = epoll_wait(self->epfd, events, 64, 0);
    //  output before exits: an answer written just before exiting counts
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < ready; i++) {
            hslot_t *s = events[i].data.ptr;
            hproc_t *p = s->proc;
            if (p->dead)
                continue;
            if (pass == 0 && s->kind != HFD_PID)
                hproc_io(p, s->kind, self->epfd, &hpool_ops);
            else
            if (pass == 1 && s->kind == HFD_PID && hproc_reap(p)) {
                hproc_io(p, HFD_OUT, self->epfd, &hpool_ops);
                hproc_io(p, HFD_ERR, self->epfd, &hpool_ops);
                if (!p->dead)
                    hpool_on_exit(self, p);
            }
        }
    s_sweep(self);
}

int64_t
handler_next_wake_ms(const handler_t *self)
{
    int64_t next = INT64_MAX;
    for (const hproc_t *p = self->procs; p; p = p->next) {
        int64_t at = INT64_MAX;
        if (p->state == HP_STOPPING && !p->kill_sent)
            at = p->kill_at_ms;
        else
        if (p->state == HP_STARTING)
            at = p->started_ms + self->cfg.startup_timeout_ms;
        else
        if (!p->started && !self->cfg.ready)
            at = p->started_ms + STARTED_AFTER_MS;
        else
        if (p->state == HP_IDLE && self->cfg.max_age_ms)
            at = p->started_ms + self->cfg.max_age_ms;
        if (at < next)
            next = at;
    }
    //  a process to start once the backoff is over (as s_fill decides)
    uint32_t busy;
    uint32_t active = s_active(self, &busy);
    uint32_t want = self->cfg.warm ? self->cfg.procs : busy + self->n_queued;
    if (want > self->cfg.procs)
        want = self->cfg.procs;
    if (self->broken && want == 0)
        want = 1;
    if (!self->stopping && active < want && self->restart_at_ms < next)
        next = self->restart_at_ms;
    return next;
}

void
handler_timers(handler_t *self, int64_t now_ms)
{
    for (hproc_t *p = self->procs; p; p = p->next) {
        if (p->dead)
            continue;
        if (p->state == HP_STOPPING && !p->kill_sent && now_ms >= p->kill_at_ms) {
            log_warn("handler_killed", "handler=%s pid=%d detail=\"no exit %lld ms after SIGTERM: SIGKILL\"",
                     self->cfg.name, (int) p->pid, (long long) self->cfg.kill_grace_ms);
            hproc_kill(p);
        }
        else
        if (p->state == HP_STARTING && now_ms >= p->started_ms + self->cfg.startup_timeout_ms) {
            p->startup_timed_out = true;
            hpool_stop(self, p, "no {\"ready\": true} within startup_timeout");
        }
        else
        if (!p->started && !self->cfg.ready && p->state != HP_STOPPING && now_ms >= p->started_ms + STARTED_AFTER_MS)
            hpool_started(self, p);
        else
        if (p->state == HP_IDLE && self->cfg.max_age_ms && now_ms >= p->started_ms + self->cfg.max_age_ms)
            hpool_stop(self, p, "max_age");
    }
    s_sweep(self);
}

void
handler_stop(handler_t *self)
{
    self->stopping = true;
    for (hproc_t *p = self->procs; p; p = p->next)
        if (p->state != HP_BUSY)
            hpool_stop(self, p, "worker stopping");
}

bool
handler_idle(const handler_t *self)
{
    return self->procs == NULL;
}

void
handler_stats(const handler_t *self, handler_stats_t *stats)
{
    memset(stats, 0, sizeof *stats);
    stats->procs = self->cfg.procs;
    stats->up = s_active(self, &stats->busy);
    stats->queued = self->n_queued;
    stats->restarts = self->spawned > self->cfg.procs ? self->spawned - self->cfg.procs : 0;
    stats->served = self->served;
    stats->broken = self->broken;
}

size_t
handler_pids(const handler_t *self, pid_t *pids, size_t max)
{
    size_t n = 0;
    for (const hproc_t *p = self->procs; p && n < max; p = p->next)
        if (p->state != HP_STOPPING)
            pids[n++] = p->pid;
    return n;
}
