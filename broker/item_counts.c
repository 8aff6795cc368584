/*  item_counts — the items of a pipeline job: complete, failed, cancelled,
    running. See item_counts.h. */
#include "item_counts.h"

#include <stdlib.h>

#include "u64map.h"

//  An item held: its open tasks and flags packed into the map's value
//  (never 0 while held: open > 0).
#define S_FAILED    1u
#define S_CANCELLED 2u
#define S_SHIFT     2

struct _item_counts_t {
    u64map_t    *held;      //  root + 1 -> packed state
    item_tally_t tally;
    rate_t       rate;      //  items ended
};

struct _item_batch_t {
    u64map_t *changes;      //  (job_id << 32 | root) + 1 -> item_change_t *
};

static uintptr_t
s_pack(uint64_t open, bool failed, bool cancelled)
{
    return (uintptr_t) (open << S_SHIFT) | (failed ? S_FAILED : 0) | (cancelled ? S_CANCELLED : 0);
}

item_counts_t *
item_counts_new(void)
{
    item_counts_t *self = calloc(1, sizeof *self);
    if (self && !(self->held = u64map_new()))
        free(self), self = NULL;
    return self;
}

void
item_counts_destroy(item_counts_t **self_p)
{
    if (!*self_p)
        return;
    u64map_destroy(&(*self_p)->held);
    free(*self_p);
    *self_p = NULL;
}

int
item_counts_load(item_counts_t *self, const item_tally_t *tally, const item_open_t *open, size_t n)
{
    u64map_t *held = u64map_new();
    if (!held)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (open[i].open && u64map_put(held, (uint64_t) open[i].root + 1,
                                       (void *) s_pack(open[i].open, open[i].failed, open[i].cancelled))) {
            u64map_destroy(&held);
            return -1;
        }
    u64map_destroy(&self->held);
    self->held = held;
    self->tally = *tally;
    return 0;
}

//  The counter an item's state is counted in, NULL for a waiting item.
static uint64_t *
s_counter(item_counts_t *self, bool known, uint64_t open, bool failed, bool cancelled)
{
    if (!known)
        return NULL;
    if (failed)
        return &self->tally.failed;
    if (cancelled)
        return &self->tally.cancelled;
    return open ? &self->tally.running : &self->tally.complete;
}

int
item_counts_apply(item_counts_t *self, const item_change_t *c, int64_t now_ms)
{
    uint64_t key = (uint64_t) c->root + 1;
    uintptr_t v = (uintptr_t) u64map_get(self->held, key);
    //  not held: waiting, its first step open (an ended item gets no changes
    //  but through a retry or a cancel, after which the counts are read anew)
    int64_t open = v ? (int64_t) (v >> S_SHIFT) : 1;
    bool failed = v & S_FAILED, cancelled = v & S_CANCELLED;
    uint64_t *was = s_counter(self, v != 0, (uint64_t) open, failed, cancelled);
    int64_t now_open = open + c->open;
    int rc = 0;
    if (now_open < 0) {
        now_open = 0;
        rc = -1;
    }
    bool now_failed = failed || c->failed, now_cancelled = cancelled || c->cancelled;
    uint64_t *is = s_counter(self, true, (uint64_t) now_open, now_failed, now_cancelled);
    if (was != is) {
        if (was && *was)
            (*was)--;
        (*is)++;
        if (is != &self->tally.running && was != &self->tally.failed && was != &self->tally.cancelled)
            rate_add(&self->rate, now_ms, 1);
    }
    if (now_open == 0)
        u64map_remove(self->held, key);
    else
    if (u64map_put(self->held, key, (void *) s_pack((uint64_t) now_open, now_failed, now_cancelled)))
        rc = -1;
    return rc;
}

item_tally_t
item_counts_tally(const item_counts_t *self)
{
    return self->tally;
}

double
item_counts_rate(const item_counts_t *self, int64_t now_ms, int window)
{
    return rate_get(&self->rate, now_ms, window);
}

size_t
item_counts_held(const item_counts_t *self)
{
    return u64map_size(self->held);
}

item_batch_t *
item_batch_new(void)
{
    item_batch_t *self = calloc(1, sizeof *self);
    if (self && !(self->changes = u64map_new()))
        free(self), self = NULL;
    return self;
}

void
item_batch_destroy(item_batch_t **self_p)
{
    item_batch_t *self = *self_p;
    if (!self)
        return;
    size_t cursor = 0;
    uint64_t key;
    item_change_t *c;
    while ((c = u64map_next(self->changes, &cursor, &key)))
        free(c);
    u64map_destroy(&self->changes);
    free(self);
    *self_p = NULL;
}

int
item_batch_add(item_batch_t *self, uint32_t job_id, uint32_t root, char outcome)
{
    uint64_t key = ((uint64_t) job_id << 32 | root) + 1;
    item_change_t *c = u64map_get(self->changes, key);
    if (!c) {
        if (!(c = calloc(1, sizeof *c)) || u64map_put(self->changes, key, c)) {
            free(c);
            return -1;
        }
        c->job_id = job_id;
        c->root = root;
    }
    if (!outcome)
        c->open++;
    else
        c->open--;
    if (outcome == 'f')
        c->failed = true;
    if (outcome == 'c')
        c->cancelled = true;
    return 0;
}

const item_change_t *
item_batch_next(const item_batch_t *self, size_t *cursor)
{
    uint64_t key;
    return u64map_next(self->changes, cursor, &key);
}
