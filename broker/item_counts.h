/*  item_counts — how the input items of a pipeline job stand: complete,
    failed, cancelled, running (the rest wait for their first result), kept
    in memory from the committed batches, as the `items` view would count
    them (docs/pipelines.md, "Seeing it").

    An item is its first task and every task its steps created. The counts
    follow one number per item: its tasks without a result (open). An
    item nobody has heard of yet is waiting with one open task (its
    submitted first step); a committed result takes one off its item, each
    child committed with it adds one. An item is failed as soon as one of
    its tasks failed, cancelled when one was cancelled and none failed,
    complete when its last open task ended ok, else running. Only running
    items (and failed or cancelled ones whose siblings still run) are
    held: memory grows with the items under way, not with the job. */
#ifndef SHOAL_ITEM_COUNTS_H
#define SHOAL_ITEM_COUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rate.h"

typedef struct {
    uint64_t complete, failed, cancelled, running;
} item_tally_t;

//  One item under way, as the store counts it (item_counts_load).
typedef struct {
    uint32_t root;          //  the item: its first task's seq
    uint32_t open;          //  its tasks without a result (> 0)
    bool     failed, cancelled;
} item_open_t;

//  What a batch did to one item.
typedef struct {
    uint32_t job_id, root;
    int64_t  open;          //  children created minus tasks ended
    bool     failed, cancelled;
} item_change_t;

typedef struct _item_counts_t item_counts_t;
typedef struct _item_batch_t item_batch_t;

//  One job's counts, all items waiting. NULL on allocation failure.
item_counts_t *item_counts_new(void);
void item_counts_destroy(item_counts_t **self_p);
//  Replace the counts with what the store counted: the tally and every
//  item under way. -1 on allocation failure (the counts are then empty).
int item_counts_load(item_counts_t *self, const item_tally_t *tally, const item_open_t *open, size_t n);
//  Apply one item's change from a committed batch; now_ms feeds the rate
//  of ended items. -1: the change does not fit what is known (more tasks
//  ended than were open) or memory ran out: read the counts afresh.
int item_counts_apply(item_counts_t *self, const item_change_t *change, int64_t now_ms);
item_tally_t item_counts_tally(const item_counts_t *self);
//  Items ended per second over the last `window` seconds.
double item_counts_rate(const item_counts_t *self, int64_t now_ms, int window);
//  Items held in memory (under way).
size_t item_counts_held(const item_counts_t *self);

//  The changes a write batch makes, by job and item.
item_batch_t *item_batch_new(void);
void item_batch_destroy(item_batch_t **self_p);
//  A final result of the item (outcome 'o' ok, 'f' failed, 'c' cancelled)
//  or, with outcome 0, a child created for it. -1 on allocation failure.
int item_batch_add(item_batch_t *self, uint32_t job_id, uint32_t root, char outcome);
//  Iterate: start with *cursor = 0; NULL at the end.
const item_change_t *item_batch_next(const item_batch_t *self, size_t *cursor);

#endif
