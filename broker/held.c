/*  held — tasks a worker is running that this broker run did not lease.

    After a broker restart, workers say Hello with the tasks they are still
    running under a lease from the previous run. Those tasks occupy the
    worker's slots, and they must not be handed to anyone else: when such a
    task is (or gets) paged into memory, it is adopted as leased to the
    worker that holds it, under the old lease, so its result counts as
    current and its loss is noticed like any other. */
#include "broker.h"

#include <stdlib.h>

#include "clock.h"
#include "task.h"

typedef struct {
    uint64_t task_id;
    uint64_t lease;
    peer_t  *peer;
} held_t;

static void
s_free(server_t *self, held_t *h)
{
    if (u64map_get(self->held, h->task_id) == h)
        u64map_remove(self->held, h->task_id);
    if (h->peer->foreign)
        u64map_remove(h->peer->foreign, h->lease);
    free(h);
}

void
held_add(server_t *self, peer_t *peer, uint64_t task_id, uint64_t lease)
{
    //  one entry per task and one per lease of the peer: a Hello (input
    //  from the network) may name a task or a lease twice, and an entry left
    //  in one map only would outlive its peer
    held_t *old = u64map_get(self->held, task_id);
    if (old)
        s_free(self, old);
    old = u64map_get(peer->foreign, lease);     //  the same lease twice: keep one
    if (old)
        s_free(self, old);
    held_t *h = malloc(sizeof *h);
    if (!h)
        return;
    h->task_id = task_id;
    h->lease = lease;
    h->peer = peer;
    if (u64map_put(self->held, task_id, h) || u64map_put(peer->foreign, lease, h)) {
        u64map_remove(self->held, task_id);
        free(h);
    }
}

void
held_release(server_t *self, peer_t *peer, uint64_t lease)
{
    held_t *h = peer->foreign ? u64map_get(peer->foreign, lease) : NULL;
    if (h)
        s_free(self, h);
}

void
held_drop_peer(server_t *self, peer_t *peer)
{
    if (!peer->foreign)
        return;
    held_t *h;
    size_t cursor = 0;
    zlist_t *all = zlist_new();
    while ((h = u64map_next(peer->foreign, &cursor, NULL)))
        zlist_append(all, h);
    while ((h = zlist_pop(all)))
        s_free(self, h);
    zlist_destroy(&all);
}

uint32_t
held_count(const peer_t *peer)
{
    return peer->foreign ? (uint32_t) u64map_size(peer->foreign) : 0;
}

bool
held_adopt(server_t *self, task_t *task)
{
    held_t *h = u64map_get(self->held, task->id);
    if (!h)
        return false;
    peer_t *peer = h->peer;
    uint64_t lease = h->lease;
    if (task->state != TASK_QUEUED && task->state != TASK_WAITING)
        return false;   //  leased to someone else: the slot stays taken
    s_free(self, h);
    task_lease(self, peer, task, lease, clock_mono_ms(), clock_wall_us());
    //  leased under this term now: if it is killed, the next term waits
    //  for this worker (store_term.c)
    dispatch_mark_leased(self);
    return true;
}
