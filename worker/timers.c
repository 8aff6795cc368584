/*  timers — see timers.h. A binary heap (lib/heap.c) of (deadline, id)
    and a map id -> timer; a cancelled timer leaves the map at once and
    its heap entry is skipped when it pops. */
#include "timers.h"

#include <stdlib.h>

#include "heap.h"
#include "u64map.h"

typedef struct {
    int64_t   when;             //  deadline (monotonic ms)
    timer_fn *fn;               //  what to call
    void     *arg;              //  its argument (not owned)
} timer_t_;

struct _timers_t {
    heap_t   *heap;             //  (when, id), some of them dead
    u64map_t *live;             //  id -> timer_t_ (owned)
    uint64_t  next_id;          //  last id handed out
};

timers_t *
timers_new(void)
{
    timers_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->heap = heap_new();
    self->live = u64map_new();
    if (!self->heap || !self->live)
        timers_destroy(&self);
    return self;
}

void
timers_destroy(timers_t **self_p)
{
    timers_t *self = *self_p;
    if (!self)
        return;
    size_t cursor = 0;
    timer_t_ *t;
    while (self->live && (t = u64map_next(self->live, &cursor, NULL)))
        free(t);
    u64map_destroy(&self->live);
    heap_destroy(&self->heap);
    free(self);
    *self_p = NULL;
}

//  Rebuild the heap from the live timers when dead entries dominate, so a
//  worker that cancels most timeouts (tasks end early) does not keep one
//  heap entry per task of the last minute.
static void
s_compact(timers_t *self)
{
    size_t live = u64map_size(self->live);
    if (heap_size(self->heap) < 1024 || heap_size(self->heap) < 2 * live)
        return;
    heap_t *fresh = heap_new();
    if (!fresh)
        return;
    size_t cursor = 0;
    uint64_t id;
    timer_t_ *t;
    while ((t = u64map_next(self->live, &cursor, &id)))
        if (heap_push(fresh, t->when, NULL, id) != 0) {
            heap_destroy(&fresh);
            return;
        }
    heap_destroy(&self->heap);
    self->heap = fresh;
}

uint64_t
timers_add(timers_t *self, int64_t when_ms, timer_fn *fn, void *arg)
{
    timer_t_ *t = malloc(sizeof *t);
    if (!t)
        return 0;
    *t = (timer_t_) { when_ms, fn, arg };
    uint64_t id = ++self->next_id;
    if (u64map_put(self->live, id, t) != 0) {
        free(t);
        return 0;
    }
    if (heap_push(self->heap, when_ms, NULL, id) != 0) {
        u64map_remove(self->live, id);
        free(t);
        return 0;
    }
    return id;
}

void
timers_cancel(timers_t *self, uint64_t id)
{
    if (!id)
        return;
    free(u64map_remove(self->live, id));
    s_compact(self);
}

int64_t
timers_next(timers_t *self)
{
    heap_entry_t e;
    while (heap_peek(self->heap, &e)) {
        if (u64map_get(self->live, e.tag))
            return e.when;
        heap_pop(self->heap, &e);      //  dead: cancelled
    }
    return INT64_MAX;
}

size_t
timers_fire(timers_t *self, int64_t now_ms)
{
    size_t fired = 0;
    heap_entry_t e;
    while (heap_peek(self->heap, &e) && e.when <= now_ms) {
        heap_pop(self->heap, &e);
        timer_t_ *t = u64map_remove(self->live, e.tag);
        if (!t)
            continue;
        timer_t_ copy = *t;
        free(t);
        copy.fn(copy.arg, now_ms);
        fired++;
    }
    return fired;
}

size_t
timers_size(const timers_t *self)
{
    return u64map_size(self->live);
}

size_t
timers_entries(const timers_t *self)
{
    return heap_size(self->heap);
}
