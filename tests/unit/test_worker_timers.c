/*  test_worker_timers — worker/timers.c: order, cancel, timers added and
    cancelled by callbacks, memory following the live timers. */
#include <stdlib.h>

#include "check.h"
#include "timers.h"

typedef struct {
    timers_t *timers;
    int       log[64];          //  the order timers fired in (their tags)
    int       n;
    uint64_t  victim;           //  a timer a callback cancels
    int64_t   fired_at;         //  now_ms passed to the last callback
} fixture_t;

typedef struct {
    fixture_t *f;
    int tag;
} arg_t;

static void
s_log(void *arg, int64_t now_ms)
{
    arg_t *a = arg;
    a->f->log[a->f->n++] = a->tag;
    a->f->fired_at = now_ms;
}

static void
s_cancel_victim(void *arg, int64_t now_ms)
{
    arg_t *a = arg;
    s_log(arg, now_ms);
    timers_cancel(a->f->timers, a->f->victim);
}

static arg_t s_follow;

static void
s_add_follower(void *arg, int64_t now_ms)
{
    arg_t *a = arg;
    s_log(arg, now_ms);
    s_follow = (arg_t) { a->f, 99 };
    timers_add(a->f->timers, now_ms, s_log, &s_follow);     //  due at once: same call
}

static void
test_order_and_cancel(void)
{
    fixture_t f = { .timers = timers_new() };
    CHECK(f.timers);
    CHECK(timers_next(f.timers) == INT64_MAX);
    arg_t a[5];
    for (int i = 0; i < 5; i++)
        a[i] = (arg_t) { &f, i };
    uint64_t t30 = timers_add(f.timers, 30, s_log, &a[3]);
    timers_add(f.timers, 10, s_log, &a[1]);
    uint64_t t20 = timers_add(f.timers, 20, s_log, &a[2]);
    timers_add(f.timers, 40, s_log, &a[4]);
    CHECK(t30 && t20 && t30 != t20);
    CHECK(timers_size(f.timers) == 4);
    CHECK(timers_next(f.timers) == 10);
    timers_cancel(f.timers, t20);
    timers_cancel(f.timers, t20);       //  twice: a no-op
    timers_cancel(f.timers, 0);         //  0: a no-op
    CHECK(timers_size(f.timers) == 3);
    CHECK(timers_fire(f.timers, 9) == 0);
    CHECK(f.n == 0);
    CHECK(timers_fire(f.timers, 30) == 2);
    CHECK(f.n == 2 && f.log[0] == 1 && f.log[1] == 3);
    CHECK(f.fired_at == 30);
    timers_cancel(f.timers, t30);       //  already fired: a no-op
    CHECK(timers_next(f.timers) == 40);
    CHECK(timers_fire(f.timers, 1000) == 1);
    CHECK(f.log[2] == 4);
    CHECK(timers_next(f.timers) == INT64_MAX);
    CHECK(timers_size(f.timers) == 0);
    timers_destroy(&f.timers);
    CHECK(f.timers == NULL);
    timers_destroy(&f.timers);          //  idempotent
}

static void
test_callbacks_change_the_set(void)
{
    fixture_t f = { .timers = timers_new() };
    arg_t killer = { &f, 1 }, victim = { &f, 2 }, adder = { &f, 3 };
    timers_add(f.timers, 5, s_cancel_victim, &killer);
    f.victim = timers_add(f.timers, 6, s_log, &victim);
    timers_add(f.timers, 7, s_add_follower, &adder);
    CHECK(timers_fire(f.timers, 10) == 3);      //  killer, adder, follower
    CHECK(f.n == 3 && f.log[0] == 1 && f.log[1] == 3 && f.log[2] == 99);
    CHECK(timers_size(f.timers) == 0);
    timers_destroy(&f.timers);
}

static void
test_memory_follows_live_timers(void)
{
    //  a worker cancels most timeouts (tasks end early): the heap must not
    //  keep an entry per task ever started
    fixture_t f = { .timers = timers_new() };
    arg_t a = { &f, 0 };
    for (int i = 0; i < 200000; i++) {
        uint64_t id = timers_add(f.timers, 60000 + i, s_log, &a);
        timers_cancel(f.timers, id);
        if (i == 1000)
            timers_add(f.timers, 1000000, s_log, &a);   //  one that stays
    }
    CHECK(timers_entries(f.timers) <= 2048);
    timers_add(f.timers, 1, s_log, &a);
    CHECK(timers_size(f.timers) == 2);
    CHECK(timers_next(f.timers) == 1);
    CHECK(timers_fire(f.timers, INT64_MAX - 1) == 2);
    CHECK(f.n == 2);
    timers_destroy(&f.timers);
}

int
main(void)
{
    test_order_and_cancel();
    test_callbacks_change_the_set();
    test_memory_follows_live_timers();
    return check_result("test_worker_timers");
}
