/*  test_lane — per-host politeness: concurrency caps, the token bucket,
    the 429/503 throttle (broker/lane.c). */
#include "broker_fake.h"
#include "check.h"
#include "clock.h"

//  Per-host cap: at most max_per_host leased at once; the lane is ready again when one ends.
static void
s_test_cap(void)
{
    server_t *self = fake_server();
    job_t *job = fake_job(self, 1, 1);
    job->max_per_host = 2;
    peer_t peer = { .slots = 10 };
    task_t *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = fake_task(self, job, SHOAL__TASK_KIND__KIND_HTTP, "a.example:443");
    lane_t *lane = t[0]->lane;
    CHECK(lane->in_ready);
    int64_t wake;
    task_lease(self, &peer, t[0], 1ULL << 40, 0, 0);
    CHECK(lane->in_ready);
    task_lease(self, &peer, t[1], 2ULL << 40, 0, 0);
    CHECK(lane->running == 2 && peer.leased == 2 && job->n_leased == 2 && job->n_queued == 2);
    CHECK(!lane->in_ready);
    CHECK(!lane_gate(lane, clock_mono_ms(), &wake) && wake == 0);
    task_forget(self, t[0]);
    CHECK(lane->running == 1 && lane->in_ready && peer.leased == 1);
    //  the cap is for HTTP hosts only
    task_t *n[3];
    for (int i = 0; i < 3; i++)
        n[i] = fake_task(self, job, SHOAL__TASK_KIND__KIND_NOOP, "");
    for (int i = 0; i < 3; i++)
        task_lease(self, &peer, n[i], (10ULL + i) << 40, 0, 0);
    CHECK(n[0]->lane->running == 3);
    fake_destroy(&self);
}

//  Token bucket: one token; after a request the next waits 1/rate.
static void
s_test_rate(void)
{
    server_t *self = fake_server();
    job_t *job = fake_job(self, 1, 1);
    job->rate_per_host = 10;    //  100 ms apart
    task_t *t = fake_task(self, job, SHOAL__TASK_KIND__KIND_HTTP, "b.example:443");
    fake_task(self, job, SHOAL__TASK_KIND__KIND_HTTP, "b.example:443");
    lane_t *lane = t->lane;
    int64_t wake, now = 1000000;
    lane->tokens_ms = now;
    CHECK(lane_gate(lane, now, &wake));
    lane_take_token(lane);
    CHECK(!lane_gate(lane, now, &wake));
    CHECK(wake >= now + 100 && wake <= now + 101);
    CHECK(!lane_gate(lane, now + 50, &wake));
    CHECK(wake >= now + 100 && wake <= now + 101);
    CHECK(lane_gate(lane, now + 100, &wake));
    //  idle for long: still one token, not a burst
    CHECK(lane_gate(lane, now + 100000, &wake));
    CHECK(lane->tokens == 1);
    lane_take_token(lane);
    CHECK(!lane_gate(lane, now + 100000, &wake));
    //  a rate limit does not apply to other kinds
    task_t *x = fake_task(self, job, SHOAL__TASK_KIND__KIND_EXEC, "");
    lane_take_token(x->lane);
    lane_take_token(x->lane);
    CHECK(lane_gate(x->lane, now, &wake));
    fake_destroy(&self);
}

//  Throttle: a 429 holds the host back until its delay ends, with a wake-up in the heap.
static void
s_test_throttle(void)
{
    server_t *self = fake_server();
    job_t *job = fake_job(self, 1, 1);
    task_t *t = fake_task(self, job, SHOAL__TASK_KIND__KIND_HTTP, "c.example:443");
    task_t *other = fake_task(self, job, SHOAL__TASK_KIND__KIND_HTTP, "d.example:443");
    lane_t *lane = t->lane;
    int64_t now = clock_mono_ms();
    lane_throttle(self, lane, now, 5000);
    CHECK(!lane->in_ready);
    CHECK(other->lane->in_ready);       //  other hosts go on
    CHECK(job->lane_timers == 1);
    heap_entry_t e;
    CHECK(heap_peek(self->timers, &e) && e.item == lane && e.when == now + 5000);
    //  a shorter throttle later does not shorten it
    lane_throttle(self, lane, now, 10);
    CHECK(lane->blocked_until_ms == now + 5000);
    CHECK(heap_size(self->timers) == 1);
    //  the wake-up: early pops are superseded, the due one opens the lane
    CHECK(!lane_wake(self, lane, e.tag + 2, now));
    lane->blocked_until_ms = now;       //  as if the time had come
    CHECK(lane_wake(self, lane, e.tag, now));
    CHECK(lane->in_ready && lane->blocked_until_ms == 0 && job->lane_timers == 0);
    fake_destroy(&self);
}

int
main(void)
{
    s_test_cap();
    s_test_rate();
    s_test_throttle();
    return check_result("test_lane");
}
