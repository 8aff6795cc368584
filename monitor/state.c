/*  state — what the full screen shows, kept apart from how it is drawn.

    The latest snapshot is the whole picture: each one replaces the last.
    Its jobs are put in the order they are shown: unfinished first, then
    finished, newest first in each group. Around it the model keeps what a
    single snapshot cannot say: which job the user selected (by id, so it
    stays on its job while jobs come, go and move), the
    cluster rate over the last minutes for the sparkline (bucketed by the
    broker's clock, so a backlog read after a ^Z lands where it belongs),
    the tail of events, and the latest message for the footer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "monitor.h"
#include "text.h"
#include "wire.h"

state_t *
state_new(void)
{
    state_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    for (size_t i = 0; i < STATE_HISTORY; i++)
        self->history[i].bucket = -1;
    return self;
}

void
state_destroy(state_t **self_p)
{
    state_t *self = *self_p;
    if (!self)
        return;
    wire_free(self->env);
    free(self);
    *self_p = NULL;
}

//  The job will not change any more.
static bool
s_finished(const Shoal__JobInfo *j)
{
    return j->state == SHOAL__JOB_STATE__JOB_DONE || j->state == SHOAL__JOB_STATE__JOB_CANCELLED;
}

//  What is going on now comes first: unfinished jobs, then finished ones,
//  newest first in each group.
static int
s_job_cmp(const void *a, const void *b)
{
    const Shoal__JobInfo *x = *(Shoal__JobInfo *const *) a, *y = *(Shoal__JobInfo *const *) b;
    if (s_finished(x) != s_finished(y))
        return s_finished(x) ? 1 : -1;
    return x->id > y->id ? -1 : x->id < y->id;
}

//  Workers by id.
static int
s_worker_cmp(const void *a, const void *b)
{
    const Shoal__WorkerInfo *x = *(Shoal__WorkerInfo *const *) a, *y = *(Shoal__WorkerInfo *const *) b;
    return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

//  A printable copy of untrusted text: valid UTF-8, no control characters.
static void
s_printable(char *out, size_t size, const char *text)
{
    char *clean = text_sanitize(text ? text : "", text ? strlen(text) : 0, size - 1);
    snprintf(out, size, "%s", clean ? clean : "");
    free(clean);
    for (char *c = out; *c; c++)
        if (*c == '\n' || *c == '\r' || *c == '\t')
            *c = ' ';
}

//  Append an event line to the ring, dropping the oldest when full.
static void
s_push_event(state_t *self, int64_t time_us, int kind, const char *text)
{
    state_event_t *e = &self->events[self->events_next];
    e->time_us = time_us;
    e->kind = kind;
    e->job_id = 0;
    e->repeats = 0;
    s_printable(e->text, sizeof e->text, text);
    self->events_next = (self->events_next + 1) % STATE_EVENTS;
    if (self->n_events < STATE_EVENTS)
        self->n_events++;
}

void
state_apply_snapshot(state_t *self, Shoal__Envelope **env_p, int64_t now_ms)
{
    Shoal__Envelope *env = *env_p;
    *env_p = NULL;
    if (!env || env->body_case != SHOAL__ENVELOPE__BODY_SNAPSHOT) {
        wire_free(env);
        return;
    }
    Shoal__Snapshot *snap = env->snapshot;
    uint64_t epoch = snap->cluster ? snap->cluster->epoch : 0;
    if (self->snap && epoch == self->epoch && snap->seq <= self->snap->seq) {
        //  a reply to an old request, overtaken by the PUB socket
        wire_free(env);
        return;
    }
    const char *was = self->snap && self->snap->cluster ? self->snap->cluster->broker_id : NULL;
    const char *now = snap->cluster ? snap->cluster->broker_id : NULL;
    if (self->snap && epoch != self->epoch && was && now && strcmp(was, now) != 0) {
        //  another broker leads: a takeover (docs/failover.md), with its moment
        int64_t since_us = snap->cluster->leader ? snap->cluster->leader->since_us : snap->time_us;
        time_t t = (time_t) (since_us / 1000000);
        struct tm tm;
        char when[16] = "?";
        if (localtime_r(&t, &tm))
            strftime(when, sizeof when, "%H:%M:%S", &tm);
        state_note(self, NOTE_WARN, "leader changed at %s: %s -> %s (term %llu -> %llu)", when, was, now,
                   (unsigned long long) self->epoch, (unsigned long long) epoch);
    }
    else
    if (self->snap && epoch != self->epoch)
        state_note(self, NOTE_WARN, "broker restarted: epoch %llu -> %llu", (unsigned long long) self->epoch,
                   (unsigned long long) epoch);
    if (snap->n_jobs > 1)
        qsort(snap->jobs, snap->n_jobs, sizeof *snap->jobs, s_job_cmp);
    if (snap->n_workers > 1)
        qsort(snap->workers, snap->n_workers, sizeof *snap->workers, s_worker_cmp);
    wire_free(self->env);
    self->env = env;
    self->snap = snap;
    self->snap_ms = now_ms;
    self->epoch = epoch;
    //  the rate history, bucketed by the broker's clock
    if (snap->cluster && snap->time_us > 0) {
        int64_t bucket = snap->time_us / 1000 / STATE_BUCKET_MS;
        state_bucket_t *b = &self->history[bucket % STATE_HISTORY];
        if (b->bucket != bucket) {
            b->bucket = bucket;
            b->sum = 0;
            b->n = 0;
        }
        b->sum += snap->cluster->rate > 0 ? snap->cluster->rate : 0;
        b->n++;
    }
    //  until the user picks a job the selection follows the top row; then
    //  it stays on that job, and when it is gone, on the row it was on
    if (!self->pinned)
        self->selected = snap->n_jobs ? snap->jobs[0]->id : 0;
    int at = state_selected_index(self);
    if (at < 0 && snap->n_jobs) {
        at = self->selected_row < (int) snap->n_jobs ? self->selected_row : (int) snap->n_jobs - 1;
        self->selected = snap->jobs[at]->id;
    }
    if (at < 0)
        self->selected = 0;
    self->selected_row = at < 0 ? 0 : at;
}

//  "job 3 task 17 failed after 3 attempts: HTTP 503" -> "HTTP 503"
static const char *
s_failure_reason(const char *text)
{
    const char *colon = strstr(text, ": ");
    return colon ? colon + 2 : text;
}

void
state_add_event(state_t *self, const Shoal__Event *e)
{
    int64_t time_us = e->time_us ? e->time_us : clock_wall_us();
    //  a failing job sends up to 10 sampled failures a second: one line per
    //  job and reason, counting, keeps the rest of the tail readable
    if (e->type == SHOAL__EVENT_TYPE__EVENT_TASK_FAILED && self->n_events) {
        state_event_t *last = &self->events[(self->events_next + STATE_EVENTS - 1) % STATE_EVENTS];
        char text[sizeof last->text];
        s_printable(text, sizeof text, e->message);
        if (last->kind == SHOAL__EVENT_TYPE__EVENT_TASK_FAILED && last->job_id == e->job_id
        &&  strcmp(s_failure_reason(last->text), s_failure_reason(text)) == 0) {
            memcpy(last->text, text, sizeof text);
            last->time_us = time_us;
            last->repeats++;
            return;
        }
    }
    s_push_event(self, time_us, e->type, e->message);
    self->events[(self->events_next + STATE_EVENTS - 1) % STATE_EVENTS].job_id = e->has_job_id ? e->job_id : 0;
}

void
state_note(state_t *self, int kind, const char *fmt, ...)
{
    char text[240];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    s_push_event(self, clock_wall_us(), kind, text);
}

void
state_message(state_t *self, bool bad, int64_t now_ms, const char *fmt, ...)
{
    char text[sizeof self->message];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    s_printable(self->message, sizeof self->message, text);
    self->message_bad = bad;
    self->message_ms = now_ms;
}

const state_event_t *
state_event(const state_t *self, size_t i)
{
    if (i >= self->n_events)
        return NULL;
    return &self->events[(self->events_next + STATE_EVENTS - 1 - i) % STATE_EVENTS];
}

int
state_selected_index(const state_t *self)
{
    if (!self->snap || !self->selected)
        return -1;
    for (size_t i = 0; i < self->snap->n_jobs; i++)
        if (self->snap->jobs[i]->id == self->selected)
            return (int) i;
    return -1;
}

const Shoal__JobInfo *
state_selected_job(const state_t *self)
{
    int i = state_selected_index(self);
    return i < 0 ? NULL : self->snap->jobs[i];
}

void
state_select_move(state_t *self, int delta)
{
    if (!self->snap || self->snap->n_jobs == 0)
        return;
    int n = (int) self->snap->n_jobs;
    int i = state_selected_index(self);
    if (i < 0)
        i = 0;
    else {
        i += delta;
        if (i < 0)
            i = 0;
        if (i >= n)
            i = n - 1;
    }
    self->selected = self->snap->jobs[i]->id;
    self->selected_row = i;
    self->pinned = true;
}

void
state_pin(state_t *self)
{
    if (self->selected)
        self->pinned = true;
}

double
state_history(const state_t *self, int64_t now_ms, size_t n, double *out, bool *have)
{
    double max = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = 0;
        have[i] = false;
    }
    if (!self->snap || self->snap->time_us <= 0)
        return 0;
    if (n > STATE_HISTORY)
        n = STATE_HISTORY;
    //  the broker's clock now: its last snapshot plus the time since
    int64_t broker_ms = self->snap->time_us / 1000 + (now_ms - self->snap_ms);
    int64_t last = broker_ms / STATE_BUCKET_MS;
    for (size_t i = 0; i < n; i++) {
        int64_t bucket = last - (int64_t) (n - 1 - i);
        if (bucket < 0)
            continue;
        const state_bucket_t *b = &self->history[bucket % STATE_HISTORY];
        if (b->bucket != bucket || b->n == 0)
            continue;
        out[i] = b->sum / b->n;
        have[i] = true;
        if (out[i] > max)
            max = out[i];
    }
    return max;
}
