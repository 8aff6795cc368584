/*  heap — see heap.h. */
#include "heap.h"

#include <stdlib.h>

struct _heap_t {
    heap_entry_t *entries;  //  array in heap order
    size_t size;            //  used entries
    size_t alloc;           //  allocated entries
};

heap_t *
heap_new(void)
{
    return calloc(1, sizeof(heap_t));
}

void
heap_destroy(heap_t **self_p)
{
    if (*self_p) {
        free((*self_p)->entries);
        free(*self_p);
        *self_p = NULL;
    }
}

int
heap_push(heap_t *self, int64_t when, void *item, uint64_t tag)
{
    if (self->size == self->alloc) {
        size_t alloc = self->alloc ? self->alloc * 2 : 64;
        heap_entry_t *e = realloc(self->entries, alloc * sizeof *e);
        if (!e)
            return -1;
        self->entries = e;
        self->alloc = alloc;
    }
    size_t i = self->size++;
    heap_entry_t entry = { when, item, tag };
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (self->entries[parent].when <= when)
            break;
        self->entries[i] = self->entries[parent];
        i = parent;
    }
    self->entries[i] = entry;
    return 0;
}

bool
heap_peek(const heap_t *self, heap_entry_t *out)
{
    if (self->size == 0)
        return false;
    *out = self->entries[0];
    return true;
}

bool
heap_pop(heap_t *self, heap_entry_t *out)
{
    if (self->size == 0)
        return false;
    *out = self->entries[0];
    heap_entry_t last = self->entries[--self->size];
    size_t i = 0;
    size_t n = self->size;
    while (true) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && self->entries[child + 1].when < self->entries[child].when)
            child++;
        if (last.when <= self->entries[child].when)
            break;
        self->entries[i] = self->entries[child];
        i = child;
    }
    if (n)
        self->entries[i] = last;
    //  give memory back after a burst
    if (self->alloc > 1024 && self->size < self->alloc / 4) {
        heap_entry_t *e = realloc(self->entries, (self->alloc / 2) * sizeof *e);
        if (e) {
            self->entries = e;
            self->alloc /= 2;
        }
    }
    return true;
}

size_t
heap_size(const heap_t *self)
{
    return self->size;
}
