/*  test_item_counts — the items of a pipeline job counted from committed
    batches (broker/item_counts.c), against what the `items` view says of
    the same tasks. */
#include <stdlib.h>

#include "check.h"
#include "item_counts.h"

//  Apply every change of a batch; returns how many were refused.
static int
s_commit(item_counts_t *c, item_batch_t **b, int64_t now_ms)
{
    int refused = 0;
    size_t cursor = 0;
    const item_change_t *ch;
    while ((ch = item_batch_next(*b, &cursor)))
        refused += item_counts_apply(c, ch, now_ms) != 0;
    item_batch_destroy(b);
    *b = item_batch_new();
    return refused;
}

static bool
s_tally(item_counts_t *c, uint64_t complete, uint64_t failed, uint64_t cancelled, uint64_t running)
{
    item_tally_t t = item_counts_tally(c);
    if (t.complete == complete && t.failed == failed && t.cancelled == cancelled && t.running == running)
        return true;
    fprintf(stderr, "tally: complete %llu failed %llu cancelled %llu running %llu\n",
            (unsigned long long) t.complete, (unsigned long long) t.failed,
            (unsigned long long) t.cancelled, (unsigned long long) t.running);
    return false;
}

//  A linear pipeline of three steps: an item is running after its first
//  step, complete after its last; a failed step ends it failed.
static void
s_test_linear(void)
{
    item_counts_t *c = item_counts_new();
    item_batch_t *b = item_batch_new();
    //  items 0 and 1 pass step 1 (each creates its step-2 task)
    for (uint32_t root = 0; root < 2; root++) {
        CHECK(item_batch_add(b, 7, root, 'o') == 0);
        CHECK(item_batch_add(b, 7, root, 0) == 0);
    }
    CHECK(s_commit(c, &b, 1000) == 0);
    CHECK(s_tally(c, 0, 0, 0, 2));
    CHECK(item_counts_held(c) == 2);
    //  item 0: step 2 ok, step 3 created; item 1: step 2 fails
    item_batch_add(b, 7, 0, 'o');
    item_batch_add(b, 7, 0, 0);
    item_batch_add(b, 7, 1, 'f');
    CHECK(s_commit(c, &b, 1100) == 0);
    CHECK(s_tally(c, 0, 1, 0, 1));
    CHECK(item_counts_held(c) == 1);
    //  item 0's last step, item 2 cancelled before it ran
    item_batch_add(b, 7, 0, 'o');
    item_batch_add(b, 7, 2, 'c');
    CHECK(s_commit(c, &b, 1200) == 0);
    CHECK(s_tally(c, 1, 1, 1, 0));
    CHECK(item_counts_held(c) == 0);
    CHECK(item_counts_rate(c, 1300, 5) > 0);
    item_batch_destroy(&b);
    item_counts_destroy(&c);
}

//  A fan-out: the listing page creates five children; the item is complete
//  only when the last child is ok, failed at once when one child fails
//  (as the items view says it, while the siblings still run).
static void
s_test_fanout(void)
{
    item_counts_t *c = item_counts_new();
    item_batch_t *b = item_batch_new();
    item_batch_add(b, 1, 10, 'o');
    for (int i = 0; i < 5; i++)
        item_batch_add(b, 1, 10, 0);
    item_batch_add(b, 1, 11, 'o');
    for (int i = 0; i < 5; i++)
        item_batch_add(b, 1, 11, 0);
    //  one batch: a result and its children count together, the item never
    //  looks finished in between
    CHECK(s_commit(c, &b, 0) == 0);
    CHECK(s_tally(c, 0, 0, 0, 2));
    for (int i = 0; i < 4; i++)
        item_batch_add(b, 1, 10, 'o');
    item_batch_add(b, 1, 11, 'f');
    CHECK(s_commit(c, &b, 0) == 0);
    CHECK(s_tally(c, 0, 1, 0, 1));
    item_batch_add(b, 1, 10, 'o');
    for (int i = 0; i < 4; i++)
        item_batch_add(b, 1, 11, 'o');
    CHECK(s_commit(c, &b, 0) == 0);
    CHECK(s_tally(c, 1, 1, 0, 0));
    CHECK(item_counts_held(c) == 0);
    item_batch_destroy(&b);
    item_counts_destroy(&c);
}

//  Counts read from the store replace what memory had, and later batches
//  go on from them; a change that ends more tasks than were open is
//  refused (the caller reads afresh).
static void
s_test_load(void)
{
    item_counts_t *c = item_counts_new();
    item_tally_t t = { .complete = 5, .failed = 2, .running = 2 };
    item_open_t open[] = { { .root = 3, .open = 2 }, { .root = 4, .open = 1 }, { .root = 8, .open = 1, .failed = true } };
    CHECK(item_counts_load(c, &t, open, 3) == 0);
    CHECK(s_tally(c, 5, 2, 0, 2));
    CHECK(item_counts_held(c) == 3);
    item_batch_t *b = item_batch_new();
    item_batch_add(b, 1, 3, 'o');
    item_batch_add(b, 1, 4, 'o');
    item_batch_add(b, 1, 8, 'o');
    CHECK(s_commit(c, &b, 0) == 0);
    CHECK(s_tally(c, 6, 2, 0, 1));
    CHECK(item_counts_held(c) == 1);
    //  item 4 has ended: a second result for it does not fit
    item_batch_add(b, 1, 3, 'o');
    item_batch_add(b, 1, 3, 'o');
    CHECK(s_commit(c, &b, 0) == 1);
    item_batch_destroy(&b);
    item_counts_destroy(&c);
}

//  Changes are kept per job and item.
static void
s_test_batch_keys(void)
{
    item_batch_t *b = item_batch_new();
    item_batch_add(b, 1, 0, 'o');
    item_batch_add(b, 2, 0, 'f');
    item_batch_add(b, 1, 0, 0);
    item_batch_add(b, 1, 0, 0);
    size_t cursor = 0, n = 0;
    const item_change_t *ch;
    while ((ch = item_batch_next(b, &cursor))) {
        n++;
        if (ch->job_id == 1)
            CHECK(ch->root == 0 && ch->open == 1 && !ch->failed);
        else
            CHECK(ch->job_id == 2 && ch->open == -1 && ch->failed);
    }
    CHECK(n == 2);
    item_batch_destroy(&b);
    CHECK(b == NULL);
}

int
main(void)
{
    s_test_linear();
    s_test_fanout();
    s_test_load();
    s_test_batch_keys();
    return check_result("test_item_counts");
}
