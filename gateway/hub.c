/*  hub — see hub.h. */
#include "hub.h"

#include <czmq.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "eplist.h"
#include "log.h"
#include "wire.h"

#define SUB_RCVHWM 1000

typedef struct {
    uint64_t   seq;         //  0: empty slot
    hub_kind_t kind;
    uint8_t   *data;        //  packed envelope (owned), NULL for notices
    size_t     size;
} entry_t;

struct _hub_t {
    pthread_t       thread;
    pthread_mutex_t lock;
    pthread_cond_t  changed;    //  a message arrived, or stopping
    zsock_t        *sub;        //  used by the thread only
    int             down_after_ms;
    bool            stopping;
    bool            started;    //  the thread runs
    bool            up;         //  heard from within down_after_ms
    int64_t         last_heard_ms;
    uint64_t        seq;        //  of the newest entry
    entry_t         ring[HUB_RING];
    uint8_t        *snapshot;   //  newest snapshot, packed (owned)
    size_t          snapshot_size;
};

//  Append one message to the ring (takes `data`) and wake the streams.
static void
s_push(hub_t *self, hub_kind_t kind, uint8_t *data, size_t size)
{
    pthread_mutex_lock(&self->lock);
    entry_t *e = &self->ring[++self->seq % HUB_RING];
    free(e->data);
    *e = (entry_t) { .seq = self->seq, .kind = kind, .data = data, .size = size };
    pthread_cond_broadcast(&self->changed);
    pthread_mutex_unlock(&self->lock);
}

//  One frame from the SUB socket: validate and keep it.
static void
s_receive(hub_t *self, void *raw)
{
    zmq_msg_t topic, body;
    zmq_msg_init(&topic);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&topic, raw, ZMQ_DONTWAIT) < 0 || !zmq_msg_more(&topic)
    ||  zmq_msg_recv(&body, raw, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&topic);
        zmq_msg_close(&body);
        return;
    }
    while (zmq_msg_more(&body)) {       //  drop unexpected extra frames
        zmq_msg_close(&body);
        zmq_msg_init(&body);
        if (zmq_msg_recv(&body, raw, ZMQ_DONTWAIT) < 0)
            break;
    }
    char err[256];
    Shoal__Envelope *env = wire_decode(zmq_msg_data(&body), zmq_msg_size(&body), err, sizeof err, NULL);
    if (env && (env->body_case == SHOAL__ENVELOPE__BODY_SNAPSHOT || env->body_case == SHOAL__ENVELOPE__BODY_EVENT)) {
        size_t size = zmq_msg_size(&body);
        uint8_t *copy = malloc(size ? size : 1);
        if (copy) {
            memcpy(copy, zmq_msg_data(&body), size);
            bool snap = env->body_case == SHOAL__ENVELOPE__BODY_SNAPSHOT;
            if (snap) {
                uint8_t *keep = malloc(size ? size : 1);
                if (keep) {
                    memcpy(keep, copy, size);
                    pthread_mutex_lock(&self->lock);
                    free(self->snapshot);
                    self->snapshot = keep;
                    self->snapshot_size = size;
                    pthread_mutex_unlock(&self->lock);
                }
            }
            s_push(self, snap ? HUB_SNAPSHOT : HUB_EVENT, copy, size);
        }
        pthread_mutex_lock(&self->lock);
        self->last_heard_ms = clock_mono_ms();
        bool was_up = self->up;
        self->up = true;
        pthread_mutex_unlock(&self->lock);
        if (!was_up) {
            log_info("broker_up", "%s", "via=progress");
            s_push(self, HUB_BROKER_UP, NULL, 0);
        }
    }
    wire_free(env);
    zmq_msg_close(&topic);
    zmq_msg_close(&body);
}

static void *
s_run(void *arg)
{
    hub_t *self = arg;
    void *raw = zsock_resolve(self->sub);
    while (true) {
        pthread_mutex_lock(&self->lock);
        bool stop = self->stopping;
        pthread_mutex_unlock(&self->lock);
        if (stop)
            break;
        zmq_pollitem_t item = { raw, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, 200) > 0)
            for (int i = 0; i < 100 && (zsock_events(self->sub) & ZMQ_POLLIN); i++)
                s_receive(self, raw);
        pthread_mutex_lock(&self->lock);
        bool went_down = self->up && clock_mono_ms() - self->last_heard_ms > self->down_after_ms;
        if (went_down)
            self->up = false;
        pthread_mutex_unlock(&self->lock);
        if (went_down) {
            log_warn("broker_down", "silent_ms=%d", self->down_after_ms);
            s_push(self, HUB_BROKER_DOWN, NULL, 0);
        }
    }
    return NULL;
}

hub_t *
hub_new(const char *progress, int down_after_ms, const keys_t *keys)
{
    hub_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->changed, NULL);
    self->down_after_ms = down_after_ms;
    self->sub = zsock_new(ZMQ_SUB);
    if (!self->sub) {
        hub_destroy(&self);
        return NULL;
    }
    void *raw = zsock_resolve(self->sub);
    wire_socket_defaults(raw);
    int hwm = SUB_RCVHWM;
    zmq_setsockopt(raw, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(raw, ZMQ_SUBSCRIBE, "", 0);
    char err[600];
    if (keys_apply(keys, self->sub) != 0 || eplist_connect(raw, progress, err, sizeof err) != 0
    ||  pthread_create(&self->thread, NULL, s_run, self) != 0) {
        hub_destroy(&self);
        return NULL;
    }
    self->started = true;
    return self;
}

void
hub_stop(hub_t *self)
{
    pthread_mutex_lock(&self->lock);
    self->stopping = true;
    pthread_cond_broadcast(&self->changed);
    pthread_mutex_unlock(&self->lock);
}

void
hub_destroy(hub_t **self_p)
{
    hub_t *self = *self_p;
    if (!self)
        return;
    hub_stop(self);
    if (self->started)
        pthread_join(self->thread, NULL);
    zsock_destroy(&self->sub);
    for (size_t i = 0; i < HUB_RING; i++)
        free(self->ring[i].data);
    free(self->snapshot);
    pthread_cond_destroy(&self->changed);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

bool
hub_broker_up(hub_t *self)
{
    pthread_mutex_lock(&self->lock);
    bool up = self->up;
    pthread_mutex_unlock(&self->lock);
    return up;
}

uint64_t
hub_newest(hub_t *self)
{
    pthread_mutex_lock(&self->lock);
    uint64_t seq = self->seq;
    pthread_mutex_unlock(&self->lock);
    return seq;
}

int
hub_next(hub_t *self, uint64_t *cursor, hub_kind_t *kind, uint8_t **data, size_t *size, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&self->lock);
    int rc = 0;
    while (!self->stopping && self->seq <= *cursor)
        if (pthread_cond_timedwait(&self->changed, &self->lock, &until) != 0)
            break;
    if (self->stopping)
        rc = -1;
    else
    if (self->seq > *cursor) {
        //  fallen more than the ring behind: go on from the newest
        uint64_t next = self->seq - *cursor > HUB_RING - 1 ? self->seq : *cursor + 1;
        entry_t *e = &self->ring[next % HUB_RING];
        *kind = e->kind;
        *data = NULL;
        *size = e->size;
        if (e->data) {
            *data = malloc(e->size ? e->size : 1);
            if (*data)
                memcpy(*data, e->data, e->size);
        }
        *cursor = next;
        rc = 1;
    }
    pthread_mutex_unlock(&self->lock);
    return rc;
}

uint8_t *
hub_snapshot(hub_t *self, size_t *size)
{
    pthread_mutex_lock(&self->lock);
    uint8_t *copy = self->snapshot ? malloc(self->snapshot_size ? self->snapshot_size : 1) : NULL;
    if (copy) {
        memcpy(copy, self->snapshot, self->snapshot_size);
        *size = self->snapshot_size;
    }
    pthread_mutex_unlock(&self->lock);
    return copy;
}
