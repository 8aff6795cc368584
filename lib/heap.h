/*  heap — a binary min-heap of deadlines, for timers.

    Entries are never removed from the middle: each carries a tag that the
    owner compares with the item's current generation when the entry pops
    (lazy deletion), so rescheduling is a push and cancelling is free.
*/
#ifndef SHOAL_HEAP_H
#define SHOAL_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t  when;      //  deadline (monotonic, any unit the owner picks)
    void    *item;      //  owner's object
    uint64_t tag;       //  owner's generation at push time
} heap_entry_t;

typedef struct _heap_t heap_t;

//  Create an empty heap; NULL on allocation failure.
heap_t *heap_new(void);
//  Destroy the heap (not the items); NULLs the caller's pointer.
void heap_destroy(heap_t **self_p);
//  Add an entry. Returns 0 or -1 on allocation failure.
int heap_push(heap_t *self, int64_t when, void *item, uint64_t tag);
//  Copy the earliest entry into *out; false when empty.
bool heap_peek(const heap_t *self, heap_entry_t *out);
//  Remove the earliest entry into *out; false when empty.
bool heap_pop(heap_t *self, heap_entry_t *out);
//  Number of entries (including ones the owner will discard as stale).
size_t heap_size(const heap_t *self);

#endif
