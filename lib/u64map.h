/*  u64map — open-addressing hash map from uint64_t keys to pointers.

    The broker looks up every result's task by id; zhashx's string keys
    would cost an allocation and a format per lookup. Key 0 is reserved.
    The map does not own the values.
*/
#ifndef SHOAL_U64MAP_H
#define SHOAL_U64MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct _u64map_t u64map_t;

//  Create an empty map. Returns NULL on allocation failure.
u64map_t *u64map_new(void);
//  Destroy the map (not the values); NULLs the caller's pointer.
void u64map_destroy(u64map_t **self_p);
//  Insert or replace; key must not be 0. Returns 0, or -1 on allocation failure.
int u64map_put(u64map_t *self, uint64_t key, void *value);
//  The value for key, or NULL.
void *u64map_get(const u64map_t *self, uint64_t key);
//  Remove key; returns the value that was stored, or NULL.
void *u64map_remove(u64map_t *self, uint64_t key);
//  Number of entries.
size_t u64map_size(const u64map_t *self);
//  Iterate: start with *cursor = 0; returns the next value (and its key in
//  *key) or NULL at the end. The map must not change during iteration.
void *u64map_next(const u64map_t *self, size_t *cursor, uint64_t *key);

#endif
