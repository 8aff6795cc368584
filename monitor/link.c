/*  link — the monitor's two sockets to the broker and whether it is there.

    SUB on the progress socket receives snapshots and events; a DEALER on
    the frontend asks for a snapshot (when joining, and every second while
    the broker is silent) and carries job control. The broker counts as
    reachable while anything arrived within the timeout. The DEALER uses
    ZMQ_IMMEDIATE: while the broker is away a request fails at once instead
    of waiting in a queue and acting minutes later. */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "eplist.h"
#include "monitor.h"
#include "wire.h"

#define ASK_EVERY_MS 1000       //  snapshot requests while the broker is silent
#define SUB_RCVHWM   1000       //  messages queued here while we are busy or stopped

struct _link_t {
    zsock_t  *sub;              //  progress: snapshots and events
    zsock_t  *dealer;           //  frontend: snapshot requests and job control
    int64_t   timeout_ms;       //  silence after which the broker counts as lost
    bool      up;               //  heard from within timeout_ms
    bool      ever_up;          //  heard from at least once
    int64_t   last_heard_ms;    //  monotonic time of the last message
    int64_t   last_ask_ms;      //  monotonic time of the last snapshot request
    uint64_t  next_corr;        //  correlation ids of our requests
    uint64_t  bad;              //  frames that failed validation
};

link_t *
link_new(const char *broker, const char *progress, int64_t timeout_ms, const keys_t *keys,
         char *err, size_t errlen)
{
    link_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->sub = zsock_new(ZMQ_SUB);
    self->dealer = zsock_new(ZMQ_DEALER);
    if (!self->sub || !self->dealer) {
        snprintf(err, errlen, "cannot create sockets: %s", zmq_strerror(zmq_errno()));
        link_destroy(&self);
        return NULL;
    }
    void *sub = zsock_resolve(self->sub);
    void *dealer = zsock_resolve(self->dealer);
    wire_socket_defaults(sub);
    wire_socket_defaults(dealer);
    int hwm = SUB_RCVHWM, on = 1;
    zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(dealer, ZMQ_IMMEDIATE, &on, sizeof on);
    if (keys_apply(keys, self->sub) != 0 || keys_apply(keys, self->dealer) != 0) {
        snprintf(err, errlen, "cannot set the CURVE keys on the sockets: %s", zmq_strerror(zmq_errno()));
        link_destroy(&self);
        return NULL;
    }
    zsock_set_subscribe(self->sub, "");
    //  every broker of a list: only the leader listens (docs/failover.md)
    char why[600];
    if (eplist_connect(sub, progress, why, sizeof why) != 0) {
        snprintf(err, errlen, "bad progress endpoint: %s (expected like tcp://host:5557)", why);
        link_destroy(&self);
        return NULL;
    }
    if (eplist_connect(dealer, broker, why, sizeof why) != 0) {
        snprintf(err, errlen, "bad broker endpoint: %s (expected like tcp://host:5555)", why);
        link_destroy(&self);
        return NULL;
    }
    self->timeout_ms = timeout_ms;
    self->next_corr = (uint64_t) clock_wall_us();
    self->last_ask_ms = INT64_MIN / 2;
    return self;
}

void
link_destroy(link_t **self_p)
{
    link_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy(&self->sub);
    zsock_destroy(&self->dealer);
    free(self);
    *self_p = NULL;
}

void *
link_sub(link_t *self)
{
    return zsock_resolve(self->sub);
}

void *
link_dealer(link_t *self)
{
    return zsock_resolve(self->dealer);
}

uint64_t
link_send(link_t *self, Shoal__Envelope *env)
{
    env->has_corr = 1;
    env->corr = ++self->next_corr;
    if (wire_send(zsock_resolve(self->dealer), NULL, 0, env, ZMQ_DONTWAIT) != 0)
        return 0;
    return env->corr;
}

uint64_t
link_ask_snapshot(link_t *self, int64_t now_ms)
{
    Shoal__SnapshotRequest sr = SHOAL__SNAPSHOT_REQUEST__INIT;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_SNAPSHOT_REQUEST;
    env.snapshot_request = &sr;
    self->last_ask_ms = now_ms;
    return link_send(self, &env);
}

Shoal__Envelope *
link_recv(link_t *self, void *socket)
{
    //  PUB: topic + envelope; DEALER: envelope. The envelope is the last frame.
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    if (zmq_msg_recv(&frame, socket, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&frame);
        return NULL;
    }
    while (zmq_msg_more(&frame)) {
        zmq_msg_close(&frame);
        zmq_msg_init(&frame);
        if (zmq_msg_recv(&frame, socket, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&frame);
            return NULL;
        }
    }
    char err[256];
    Shoal__Envelope *env = wire_decode(zmq_msg_data(&frame), zmq_msg_size(&frame), err, sizeof err, NULL);
    zmq_msg_close(&frame);
    //  anything that arrived means the broker is there, even a frame we refuse
    self->last_heard_ms = clock_mono_ms();
    if (!env)
        self->bad++;
    return env;
}

bool
link_pending(void *socket)
{
    int events = 0;
    size_t size = sizeof events;
    return zmq_getsockopt(socket, ZMQ_EVENTS, &events, &size) == 0 && (events & ZMQ_POLLIN);
}

link_change_t
link_check(link_t *self, int64_t now_ms)
{
    bool heard = self->last_heard_ms && now_ms - self->last_heard_ms <= self->timeout_ms;
    if (heard && !self->up) {
        self->up = true;
        self->ever_up = true;
        return LINK_UP;
    }
    if (!heard && self->up) {
        self->up = false;
        return LINK_DOWN;
    }
    if (!self->up && now_ms - self->last_ask_ms >= ASK_EVERY_MS)
        link_ask_snapshot(self, now_ms);
    return LINK_NONE;
}

void
link_stalled(link_t *self, int64_t ms)
{
    if (ms > 0 && self->last_heard_ms)
        self->last_heard_ms += ms;
}

int64_t
link_next_deadline(const link_t *self)
{
    if (self->up)
        return self->last_heard_ms + self->timeout_ms + 1;
    return self->last_ask_ms + ASK_EVERY_MS;
}

bool
link_up(const link_t *self)
{
    return self->up;
}

bool
link_ever_up(const link_t *self)
{
    return self->ever_up;
}

int64_t
link_last_heard(const link_t *self)
{
    return self->last_heard_ms;
}
