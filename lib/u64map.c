/*  u64map — linear probing with backward-shift deletion. See u64map.h. */
#include "u64map.h"

#include <stdlib.h>

typedef struct {
    uint64_t key;       //  0 = empty slot
    void    *value;     //  stored pointer
} slot_t;

struct _u64map_t {
    slot_t *slots;      //  capacity entries, a power of two
    size_t  capacity;   //  number of slots
    size_t  size;       //  occupied slots
};

static inline size_t
s_hash(uint64_t key, size_t mask)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    key *= 0xc4ceb9fe1a85ec53ULL;
    key ^= key >> 33;
    return (size_t) key & mask;
}

u64map_t *
u64map_new(void)
{
    u64map_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->capacity = 64;
    self->slots = calloc(self->capacity, sizeof(slot_t));
    if (!self->slots) {
        free(self);
        return NULL;
    }
    return self;
}

void
u64map_destroy(u64map_t **self_p)
{
    if (*self_p) {
        free((*self_p)->slots);
        free(*self_p);
        *self_p = NULL;
    }
}

static int
s_grow(u64map_t *self)
{
    size_t capacity = self->capacity * 2;
    slot_t *slots = calloc(capacity, sizeof(slot_t));
    if (!slots)
        return -1;
    for (size_t i = 0; i < self->capacity; i++) {
        slot_t *s = &self->slots[i];
        if (!s->key)
            continue;
        size_t j = s_hash(s->key, capacity - 1);
        while (slots[j].key)
            j = (j + 1) & (capacity - 1);
        slots[j] = *s;
    }
    free(self->slots);
    self->slots = slots;
    self->capacity = capacity;
    return 0;
}

int
u64map_put(u64map_t *self, uint64_t key, void *value)
{
    if ((self->size + 1) * 4 > self->capacity * 3 && s_grow(self))
        return -1;
    size_t mask = self->capacity - 1;
    size_t i = s_hash(key, mask);
    while (self->slots[i].key && self->slots[i].key != key)
        i = (i + 1) & mask;
    if (!self->slots[i].key)
        self->size++;
    self->slots[i].key = key;
    self->slots[i].value = value;
    return 0;
}

void *
u64map_get(const u64map_t *self, uint64_t key)
{
    size_t mask = self->capacity - 1;
    size_t i = s_hash(key, mask);
    while (self->slots[i].key) {
        if (self->slots[i].key == key)
            return self->slots[i].value;
        i = (i + 1) & mask;
    }
    return NULL;
}

void *
u64map_remove(u64map_t *self, uint64_t key)
{
    size_t mask = self->capacity - 1;
    size_t i = s_hash(key, mask);
    while (self->slots[i].key && self->slots[i].key != key)
        i = (i + 1) & mask;
    if (!self->slots[i].key)
        return NULL;
    void *value = self->slots[i].value;
    self->size--;
    //  backward shift: move later entries of the cluster into the hole
    size_t hole = i;
    size_t j = (i + 1) & mask;
    while (self->slots[j].key) {
        size_t home = s_hash(self->slots[j].key, mask);
        //  entry at j may move to hole if its home is not in (hole, j]
        int movable = (hole <= j) ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            self->slots[hole] = self->slots[j];
            hole = j;
        }
        j = (j + 1) & mask;
    }
    self->slots[hole].key = 0;
    self->slots[hole].value = NULL;
    return value;
}

size_t
u64map_size(const u64map_t *self)
{
    return self->size;
}

void *
u64map_next(const u64map_t *self, size_t *cursor, uint64_t *key)
{
    while (*cursor < self->capacity) {
        slot_t *s = &self->slots[(*cursor)++];
        if (s->key) {
            if (key)
                *key = s->key;
            return s->value;
        }
    }
    return NULL;
}
