/*  control — pause, resume, cancel and retry from the monitor.

    The same JobControl request the CLI sends, on the monitor's DEALER,
    without waiting: the answer (ControlReply or Error, matched by its
    correlation id) arrives later through the event loop and becomes the
    footer message; a fresh snapshot is asked for at once so the screen
    shows the new state without waiting for the next tick. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor.h"
#include "wire.h"

#define PENDING_MAX        16
#define CONTROL_TIMEOUT_MS 5000     //  after this, say there was no answer

typedef struct {
    uint64_t             corr;      //  correlation id of the request
    uint32_t             job_id;
    Shoal__ControlAction action;
    int64_t              sent_ms;   //  monotonic
} pending_t;

struct _control_t {
    link_t    *link;                //  not owned
    state_t   *state;               //  not owned
    pending_t  pending[PENDING_MAX];//  requests waiting for an answer
    size_t     n_pending;
};

//  The action as people say it: "pause", "cancel"...
static const char *
s_verb(Shoal__ControlAction action)
{
    switch (action) {
        case SHOAL__CONTROL_ACTION__CONTROL_PAUSE:  return "pause";
        case SHOAL__CONTROL_ACTION__CONTROL_RESUME: return "resume";
        case SHOAL__CONTROL_ACTION__CONTROL_CANCEL: return "cancel";
        case SHOAL__CONTROL_ACTION__CONTROL_RETRY:  return "retry";
        default: return "control";
    }
}

control_t *
control_new(link_t *link, state_t *state)
{
    control_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->link = link;
    self->state = state;
    return self;
}

void
control_destroy(control_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

int
control_request(control_t *self, uint32_t job_id, Shoal__ControlAction action, int64_t now_ms)
{
    if (self->n_pending == PENDING_MAX) {
        state_message(self->state, true, now_ms, "job %u: not sent, %zu requests still wait for an answer",
                      job_id, self->n_pending);
        return -1;
    }
    Shoal__JobControl jc = SHOAL__JOB_CONTROL__INIT;
    jc.has_job_id = jc.has_action = 1;
    jc.job_id = job_id;
    jc.action = action;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_JOB_CONTROL;
    env.job_control = &jc;
    uint64_t corr = link_send(self->link, &env);
    if (!corr) {
        state_message(self->state, true, now_ms, "job %u: %s not sent: the broker is unreachable", job_id,
                      s_verb(action));
        return -1;
    }
    self->pending[self->n_pending++] = (pending_t) { corr, job_id, action, now_ms };
    state_message(self->state, false, now_ms, "job %u: %s sent...", job_id, s_verb(action));
    return 0;
}

//  Drop pending request i (order does not matter).
static void
s_forget(control_t *self, size_t i)
{
    self->pending[i] = self->pending[--self->n_pending];
}

bool
control_on_reply(control_t *self, const Shoal__Envelope *env, int64_t now_ms)
{
    if (!env->has_corr)
        return false;
    size_t i = 0;
    while (i < self->n_pending && self->pending[i].corr != env->corr)
        i++;
    if (i == self->n_pending)
        return false;
    pending_t p = self->pending[i];
    s_forget(self, i);
    if (env->body_case == SHOAL__ENVELOPE__BODY_CONTROL_REPLY) {
        unsigned long long affected = env->control_reply->has_affected ? env->control_reply->affected : 0;
        switch (p.action) {
            case SHOAL__CONTROL_ACTION__CONTROL_PAUSE:
                state_message(self->state, false, now_ms, "job %u paused", p.job_id);
                break;
            case SHOAL__CONTROL_ACTION__CONTROL_RESUME:
                state_message(self->state, false, now_ms, "job %u resumed", p.job_id);
                break;
            case SHOAL__CONTROL_ACTION__CONTROL_CANCEL:
                state_message(self->state, false, now_ms, "job %u cancelled (%llu tasks)", p.job_id,
                              affected);
                break;
            default:
                state_message(self->state, false, now_ms, "job %u: retrying %llu tasks", p.job_id, affected);
                break;
        }
    }
    else
    if (env->body_case == SHOAL__ENVELOPE__BODY_ERROR)
        state_message(self->state, true, now_ms, "job %u: %s refused: %s", p.job_id, s_verb(p.action),
                      env->error->message ? env->error->message : "no reason given");
    else
        state_message(self->state, true, now_ms, "job %u: %s: unexpected answer '%s'", p.job_id,
                      s_verb(p.action), wire_body_name(env));
    //  show the new state now, not at the next tick
    link_ask_snapshot(self->link, now_ms);
    return true;
}

void
control_expire(control_t *self, int64_t now_ms)
{
    size_t i = 0;
    while (i < self->n_pending) {
        pending_t p = self->pending[i];
        if (now_ms - p.sent_ms < CONTROL_TIMEOUT_MS) {
            i++;
            continue;
        }
        s_forget(self, i);
        state_message(self->state, true, now_ms, "job %u: no answer to %s within %d s; check the job's state",
                      p.job_id, s_verb(p.action), CONTROL_TIMEOUT_MS / 1000);
    }
}
