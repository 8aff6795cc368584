/*  handler_events — what a handler pool does when one of its processes
    speaks or ends (the pool itself is handler.c): an answer completes its
    task and may recycle the process, a line that breaks the protocol
    fails the task and recycles the process, stderr lines go to the log,
    and an exit is accounted for (a start-up failure puts its task back
    first in line and may mark the handler broken; a crash fails the task
    retryably). */
#include "handler_pool.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "handler_proto.h"
#include "log.h"

//  The process broke the protocol: fail its task (retryable) and recycle it.
static void
s_protocol_error(handler_t *self, hproc_t *p, const char *why)
{
    char msg[512];
    snprintf(msg, sizeof msg, "handler %s (pid %d) broke the protocol: %s", self->cfg.name, (int) p->pid, why);
    char q[600];
    log_warn("handler_protocol_error", "handler=%s pid=%d error=%s", self->cfg.name, (int) p->pid,
             log_quote(why, q, sizeof q));
    htask_t *t = p->task;
    p->task = NULL;
    hpool_stop(self, p, "protocol error");
    hpool_failure(self, msg);
    if (t)
        hpool_fail(self, t, p->pid, msg, true, false);
}

//  After an answer: recycle the process if it is past a limit.
static void
s_maybe_recycle(handler_t *self, hproc_t *p, int64_t now)
{
    const handler_config_t *c = &self->cfg;
    char why[96] = "";
    if (self->stopping)
        snprintf(why, sizeof why, "worker stopping");
    else
    if (c->max_tasks && p->served >= c->max_tasks)
        snprintf(why, sizeof why, "max_tasks %llu", (unsigned long long) c->max_tasks);
    else
    if (c->max_age_ms && now - p->started_ms >= c->max_age_ms)
        snprintf(why, sizeof why, "max_age %lld ms", (long long) c->max_age_ms);
    else
    if (c->max_rss) {
        uint64_t rss = hproc_rss(p);
        if (rss > c->max_rss)
            snprintf(why, sizeof why, "rss %llu > max_rss %llu", (unsigned long long) rss,
                     (unsigned long long) c->max_rss);
    }
    if (why[0])
        hpool_stop(self, p, why);
}

//  One complete stdout line.
static void
s_on_line(hproc_t *p, const char *line, size_t len)
{
    handler_t *self = p->h;
    if (p->state == HP_STOPPING)
        return;     //  it is going; nothing it says counts any more
    hanswer_t a;
    handler_proto_parse(line, len, &a);
    bool first = !p->heard;
    p->heard = true;
    if (a.kind == HANSWER_BAD) {
        s_protocol_error(self, p, a.error ? a.error : "bad line");
    }
    else
    if (a.kind == HANSWER_READY) {
        if (!first)
            s_protocol_error(self, p, "{\"ready\": true} after the first line");
        else {
            hpool_started(self, p);
            if (p->state == HP_STARTING)
                p->state = HP_IDLE;
        }
    }
    else
    if (!p->task || p->state != HP_BUSY || strcmp(a.id, p->task->id) != 0) {
        char why[256];
        if (p->task)
            snprintf(why, sizeof why, "an answer for id \"%.64s\" while running \"%.64s\"", a.id, p->task->id);
        else
            snprintf(why, sizeof why, "an answer for id \"%.64s\" with no task running", a.id);
        s_protocol_error(self, p, why);
    }
    else {
        htask_t *t = p->task;
        p->task = NULL;
        p->state = HP_IDLE;
        p->served++;
        self->served++;
        self->fails = 0;
        hpool_started(self, p);
        handler_outcome_t o = { .pid = p->pid };
        if (a.kind == HANSWER_OK) {
            o.ok = true;
            o.output = a.output;
            o.vars = a.vars;
        }
        else {
            o.error = a.error;
            o.retry = a.retry;
        }
        s_maybe_recycle(self, p, clock_mono_ms());
        hpool_complete(self, t, &o);
    }
    handler_proto_clear(&a);
}

//  One complete stderr line: into the worker's log.
static void
s_on_err_line(hproc_t *p, const char *line, size_t len, bool truncated)
{
    char text[HPROC_MAX_ERR_LINE + 1], quoted[2 * HPROC_MAX_ERR_LINE + 8];
    if (len > HPROC_MAX_ERR_LINE)
        len = HPROC_MAX_ERR_LINE;
    memcpy(text, line, len);
    text[len] = '\0';
    log_info("handler_stderr", "handler=%s pid=%d%s line=%s", p->h->cfg.name, (int) p->pid,
             truncated ? " truncated=1" : "", log_quote(text, quoted, sizeof quoted));
}

//  The line-too-long case of stdout.
static void
s_on_overflow(hproc_t *p)
{
    char why[96];
    snprintf(why, sizeof why, "a line longer than %zu bytes (max_line)", p->max_line);
    s_protocol_error(p->h, p, why);
}

const hproc_ops_t hpool_ops = { s_on_line, s_on_err_line, s_on_overflow };

//  The process exited (reaped): account for it and its task.
void
hpool_on_exit(handler_t *self, hproc_t *p)
{
    int64_t now = clock_mono_ms();
    char status[96];
    hproc_describe_status(p->status, status, sizeof status);
    bool planned = p->state == HP_STOPPING && !p->startup_timed_out;
    if (!p->started && !planned && self->cfg.ready == false && now - p->started_ms >= STARTED_AFTER_MS)
        hpool_started(self, p);
    log_info("handler_exited", "handler=%s pid=%d served=%llu status=\"%s\"%s", self->cfg.name, (int) p->pid,
             (unsigned long long) p->served, status, planned ? "" : " unexpected=1");
    htask_t *t = p->task;
    p->task = NULL;
    if (!planned) {
        char what[400];
        if (!p->started) {
            snprintf(what, sizeof what, "%s at start-up (%s)", p->startup_timed_out ? "no {\"ready\": true} in time"
                     : "exited", status);
            self->startup_fails++;
            if (self->startup_fails >= HANDLER_BROKEN_AFTER && !self->broken) {
                self->broken = true;
                char q[900];
                log_error("handler_broken", "handler=%s failures=%u last=%s", self->cfg.name,
                          self->startup_fails, log_quote(what, q, sizeof q));
            }
            hpool_failure(self, what);
            if (t) {
                //  not the task's fault: first in line for the next process
                t->next = self->queue_head;
                self->queue_head = t;
                if (!self->queue_tail)
                    self->queue_tail = t;
                self->n_queued++;
                t = NULL;
            }
            if (self->broken)
                hpool_refuse_queue(self);
        }
        else {
            snprintf(what, sizeof what, "handler %s (pid %d) %s during the task", self->cfg.name, (int) p->pid,
                     status);
            hpool_failure(self, what);
        }
        if (t)
            hpool_fail(self, t, p->pid, what, true, false);
    }
    else
    if (t) {
        //  stopped while busy (recycled for a protocol error is handled there)
        hpool_fail(self, t, p->pid, "handler process stopped during the task", true, false);
    }
    p->dead = true;
}

