/*  outbox — results are packed once when a task ends and kept until the
    broker acks them. They are sent again after every (re)connection and
    when an ack is overdue (a timer per sent result), so a result survives
    a lost message, a broker restart and a database outage; the broker
    fences duplicates. Held results are keyed by lease (unique per task
    and dispatch). */
#include "outbox.h"

#include <czmq.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"
#include "run.h"
#include "u64map.h"
#include "wire.h"

#define MAX_RESULTS_PER_MSG  1000
#define MAX_BYTES_PER_MSG    (8u << 20)
#define FLUSH_AT_RESULTS     64     //  a busy worker sends results in batches of this
#define FLUSH_AFTER_MS       2      //  ... or when the oldest has waited this long

//  A finished result waiting to be sent and acked.
typedef struct {
    outbox_t *owner;
    uint64_t task_id;
    uint64_t lease;
    uint8_t *data;              //  packed Result
    size_t   len;
    uint64_t overdue_timer;     //  set while sent and not acked
} held_t;

struct _outbox_t {
    timers_t *timers;           //  the worker's (borrowed)
    u64map_t *held;             //  lease -> held_t (owned)
    zlist_t  *to_send;          //  held_t * queued, oldest first
    int64_t   unsent_since_ms;  //  when the oldest of to_send was queued, 0 = none
    int64_t   overdue_ms;       //  resend when an ack takes longer
    size_t    resent;           //  overdue results queued since the last log line
};

outbox_t *
outbox_new(timers_t *timers, int64_t overdue_ms)
{
    outbox_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->timers = timers;
    self->overdue_ms = overdue_ms;
    self->held = u64map_new();
    self->to_send = zlist_new();
    if (!self->held || !self->to_send)
        outbox_destroy(&self);
    return self;
}

static void
s_free(outbox_t *self, held_t *o)
{
    timers_cancel(self->timers, o->overdue_timer);
    free(o->data);
    free(o);
}

void
outbox_destroy(outbox_t **self_p)
{
    outbox_t *self = *self_p;
    if (!self)
        return;
    size_t cursor = 0;
    held_t *o;
    while (self->held && (o = u64map_next(self->held, &cursor, NULL)))
        s_free(self, o);
    u64map_destroy(&self->held);
    zlist_destroy(&self->to_send);
    free(self);
    *self_p = NULL;
}

void
outbox_set_overdue(outbox_t *self, int64_t overdue_ms)
{
    self->overdue_ms = overdue_ms;
}

//  Put a result at the end of the queue to send.
static void
s_queue(outbox_t *self, held_t *o)
{
    timers_cancel(self->timers, o->overdue_timer);
    o->overdue_timer = 0;
    zlist_append(self->to_send, o);
    if (!self->unsent_since_ms)
        self->unsent_since_ms = clock_mono_ms();
}

int
outbox_add(outbox_t *self, const Shoal__Result *result)
{
    if (u64map_get(self->held, result->lease))
        return 0;   //  one result per lease; a second one cannot happen, keep the first
    held_t *o = calloc(1, sizeof *o);
    if (!o)
        return -1;
    o->owner = self;
    o->task_id = result->task_id;
    o->lease = result->lease;
    o->len = shoal__result__get_packed_size(result);
    o->data = malloc(o->len ? o->len : 1);
    if (!o->data || u64map_put(self->held, o->lease, o) != 0) {
        free(o->data);
        free(o);
        return -1;
    }
    shoal__result__pack(result, o->data);
    s_queue(self, o);
    return 0;
}

void
outbox_ack(outbox_t *self, uint64_t task_id, uint64_t lease)
{
    held_t *o = u64map_get(self->held, lease);
    if (!o || o->task_id != task_id)
        return;
    u64map_remove(self->held, lease);
    zlist_remove(self->to_send, o);
    s_free(self, o);
    //  the broker committed it: what a failover test holds the database to
    log_debug("result_acked", "task=%u/%u lease=%llx", (uint32_t) (task_id >> 32),
              (uint32_t) task_id, (unsigned long long) lease);
}

void
outbox_resend_all(outbox_t *self)
{
    zlist_purge(self->to_send);
    self->unsent_since_ms = 0;
    size_t cursor = 0;
    held_t *o;
    while ((o = u64map_next(self->held, &cursor, NULL)))
        s_queue(self, o);
}

//  An ack is overdue (a lost message, a broker that restarted without us
//  noticing): send the result again.
static void
s_on_overdue(void *arg, int64_t now_ms)
{
    held_t *o = arg;
    o->overdue_timer = 0;
    s_queue(o->owner, o);
    o->owner->resent++;
}

//  Send one message of queued results; false when nothing went (the queue
//  to the broker is full, or nothing is queued).
static bool
s_send_batch(outbox_t *self, void *socket, const char *worker_id, int64_t now)
{
    uint8_t *items[MAX_RESULTS_PER_MSG];
    size_t lens[MAX_RESULTS_PER_MSG];
    held_t *batch[MAX_RESULTS_PER_MSG];
    size_t n = 0, bytes = 0;
    held_t *o;
    while (n < MAX_RESULTS_PER_MSG && (o = zlist_first(self->to_send))
    &&  (n == 0 || bytes + o->len < MAX_BYTES_PER_MSG)) {
        zlist_pop(self->to_send);
        items[n] = o->data;
        lens[n] = o->len;
        batch[n] = o;
        bytes += o->len;
        n++;
    }
    size_t len = 0;
    uint8_t *frame = n ? wire_pack_results(items, lens, n, worker_id, &len) : NULL;
    int rc = frame ? zmq_send(socket, frame, len, ZMQ_DONTWAIT) : -1;
    free(frame);
    if (rc < 0) {
        for (size_t i = n; i-- > 0; )
            zlist_push(self->to_send, batch[i]);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        batch[i]->overdue_timer = timers_add(self->timers, now + self->overdue_ms, s_on_overdue, batch[i]);
    self->unsent_since_ms = zlist_size(self->to_send) ? now : 0;
    log_debug("results_sent", "count=%zu unacked=%zu", n, u64map_size(self->held));
    return true;
}

bool
outbox_flush(outbox_t *self, void *socket, const char *worker_id, bool force, bool busy)
{
    int64_t now = clock_mono_ms();
    if (self->resent) {
        log_debug("results_resent", "count=%zu unacked=%zu", self->resent, u64map_size(self->held));
        self->resent = 0;
    }
    if (!force && zlist_size(self->to_send) < FLUSH_AT_RESULTS && busy
    &&  self->unsent_since_ms && now - self->unsent_since_ms < FLUSH_AFTER_MS)
        return false;
    bool sent = false;
    while (zlist_size(self->to_send) && s_send_batch(self, socket, worker_id, now))
        sent = true;
    return sent;
}

int64_t
outbox_flush_due(const outbox_t *self)
{
    return zlist_size(self->to_send) && self->unsent_since_ms ? self->unsent_since_ms + FLUSH_AFTER_MS
                                                              : INT64_MAX;
}

size_t
outbox_size(const outbox_t *self)
{
    return u64map_size(self->held);
}

size_t
outbox_refs(const outbox_t *self, Shoal__TaskRef *refs, Shoal__TaskRef **ptrs, size_t max)
{
    size_t n = 0, cursor = 0;
    held_t *o;
    while (n < max && (o = u64map_next(self->held, &cursor, NULL))) {
        run_ref_init(&refs[n], o->task_id, o->lease);
        ptrs[n] = &refs[n];
        n++;
    }
    return n;
}
