/*  link — see link.h. */
#include "link.h"

#include <czmq.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "eplist.h"
#include "wire.h"

struct _link_t {
    zsock_t  *dealer;               //  to the frontend
    void     *raw;                  //  its libzmq socket
    char     *endpoint;             //  for messages
    int       timeout_ms;           //  bound on every wait
    uint64_t  next_corr;            //  correlation ids
    Shoal__ErrorCode last_error;    //  of the last Error reply
    _Atomic int64_t *heard_ms;      //  shared: when any link last got a reply
};

link_t *
link_new(const char *endpoint, int timeout_ms, const keys_t *keys, _Atomic int64_t *heard_ms)
{
    link_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->dealer = zsock_new(ZMQ_DEALER);
    self->endpoint = strdup(endpoint);
    if (!self->dealer || !self->endpoint) {
        link_destroy(&self);
        return NULL;
    }
    self->raw = zsock_resolve(self->dealer);
    wire_socket_defaults(self->raw);
    //  while the broker is away a request fails instead of waiting in a queue
    int one = 1;
    zmq_setsockopt(self->raw, ZMQ_IMMEDIATE, &one, sizeof one);
    char err[600];
    if (keys_apply(keys, self->raw) != 0 || eplist_connect(self->raw, endpoint, err, sizeof err) != 0) {
        link_destroy(&self);
        return NULL;
    }
    self->timeout_ms = timeout_ms;
    self->heard_ms = heard_ms;
    self->next_corr = (uint64_t) clock_wall_us();
    return self;
}

void
link_destroy(link_t **self_p)
{
    link_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy(&self->dealer);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

uint64_t
link_send(link_t *self, Shoal__Envelope *env)
{
    env->has_corr = 1;
    env->corr = ++self->next_corr;
    int timeout = self->timeout_ms;
    zmq_setsockopt(self->raw, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    return wire_send(self->raw, NULL, 0, env, 0) == 0 ? env->corr : 0;
}

//  Any reply counts as word from the broker (gateway health).
static void
s_heard(void *arg)
{
    atomic_store((_Atomic int64_t *) arg, clock_mono_ms());
}

Shoal__Envelope *
link_recv(link_t *self, uint64_t corr, int timeout_ms)
{
    return wire_await(self->raw, corr, timeout_ms < 0 ? self->timeout_ms : timeout_ms,
                      self->heard_ms ? s_heard : NULL, self->heard_ms);
}

int
link_http_status(Shoal__ErrorCode code)
{
    switch (code) {
        case SHOAL__ERROR_CODE__ERR_NOT_FOUND:   return 404;
        case SHOAL__ERROR_CODE__ERR_CONFLICT:
        case SHOAL__ERROR_CODE__ERR_STATE:       return 409;
        case SHOAL__ERROR_CODE__ERR_BAD_REQUEST: return 400;
        case SHOAL__ERROR_CODE__ERR_UNAVAILABLE:
        case SHOAL__ERROR_CODE__ERR_SHUTDOWN:
        case SHOAL__ERROR_CODE__ERR_NONE:        return 503;
        default:                                 return 500;
    }
}

Shoal__ErrorCode
link_last_error(const link_t *self)
{
    return self->last_error;
}

Shoal__Envelope *
link_call(link_t *self, Shoal__Envelope *req, int *status, char *err, size_t errlen)
{
    self->last_error = SHOAL__ERROR_CODE__ERR_NONE;
    uint64_t corr = link_send(self, req);
    Shoal__Envelope *reply = corr ? link_recv(self, corr, -1) : NULL;
    if (!reply) {
        snprintf(err, errlen, "the broker at %s is unreachable (no %s within %d ms)", self->endpoint,
                 corr ? "answer" : "connection", self->timeout_ms);
        *status = 503;
        return NULL;
    }
    if (reply->body_case == SHOAL__ENVELOPE__BODY_ERROR) {
        const Shoal__Error *e = reply->error;
        self->last_error = e->has_code ? e->code : SHOAL__ERROR_CODE__ERR_INTERNAL;
        snprintf(err, errlen, "%s", e->message && *e->message ? e->message : "the broker refused the request");
        *status = link_http_status(self->last_error);
        wire_free(reply);
        return NULL;
    }
    return reply;
}

void
link_set_timeout(link_t *self, int timeout_ms)
{
    self->timeout_ms = timeout_ms;
}
