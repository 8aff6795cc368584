/*  test_worker_outbox — worker/outbox.c over a real inproc socket pair:
    results go out once and are held until acked, a second result for a
    lease is ignored, an ack for another task or lease forgets nothing,
    resend_all sends every held result again, an overdue ack sends it again
    by timer, a busy worker waits for a batch (or FLUSH_AFTER_MS) unless
    forced, and a full peer queue keeps the results queued in order. */
#include <czmq.h>
#include <stdlib.h>

#include "check.h"
#include "clock.h"
#include "outbox.h"
#include "timers.h"
#include "wire.h"

typedef struct {
    void *ctx, *tx, *rx;
} pair_t;

static void
s_pair(pair_t *p, int sndhwm)
{
    p->ctx = zmq_ctx_new();
    p->tx = zmq_socket(p->ctx, ZMQ_PAIR);
    p->rx = zmq_socket(p->ctx, ZMQ_PAIR);
    zmq_setsockopt(p->tx, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm);
    zmq_setsockopt(p->rx, ZMQ_RCVHWM, &sndhwm, sizeof sndhwm);
    zmq_bind(p->rx, "inproc://outbox-test");
    zmq_connect(p->tx, "inproc://outbox-test");
}

static void
s_pair_close(pair_t *p)
{
    zmq_close(p->tx);
    zmq_close(p->rx);
    zmq_ctx_term(p->ctx);
}

static Shoal__Result
s_result(uint64_t task_id, uint64_t lease)
{
    Shoal__Result r = SHOAL__RESULT__INIT;
    r.has_task_id = r.has_lease = r.has_outcome = 1;
    r.task_id = task_id;
    r.lease = lease;
    r.outcome = SHOAL__OUTCOME__OUTCOME_OK;
    return r;
}

//  Receive every waiting message; the task ids in order into ids (up to
//  max), their count returned; *msgs the number of messages.
static size_t
s_drain(pair_t *p, uint64_t *ids, size_t max, size_t *msgs)
{
    size_t n = 0;
    *msgs = 0;
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (zmq_msg_recv(&m, p->rx, ZMQ_DONTWAIT) >= 0) {
        char err[256];
        envelope_t *env = wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), err, sizeof err, NULL);
        CHECK(env != NULL);
        CHECK(env && env->body_case == SHOAL__ENVELOPE__BODY_RESULTS);
        if (env && env->body_case == SHOAL__ENVELOPE__BODY_RESULTS) {
            CHECK_STR(env->results->worker_id, "w1");
            for (size_t i = 0; i < env->results->n_results; i++)
                if (n < max)
                    ids[n++] = env->results->results[i]->task_id;
        }
        wire_free(env);
        (*msgs)++;
    }
    zmq_msg_close(&m);
    return n;
}

static void
test_send_ack_resend(void)
{
    pair_t p;
    s_pair(&p, 1000);
    timers_t *timers = timers_new();
    outbox_t *o = outbox_new(timers, 60000);
    CHECK(o != NULL);
    Shoal__Result a = s_result(1, 101), b = s_result(2, 102), dup = s_result(1, 101);
    CHECK(outbox_add(o, &a) == 0);
    CHECK(outbox_add(o, &b) == 0);
    CHECK(outbox_add(o, &dup) == 0);            //  one result per lease: ignored
    CHECK(outbox_size(o) == 2);
    CHECK(outbox_flush_due(o) != INT64_MAX);
    CHECK(outbox_flush(o, p.tx, "w1", true, false));
    uint64_t ids[16];
    size_t msgs;
    CHECK(s_drain(&p, ids, 16, &msgs) == 2);
    CHECK(msgs == 1 && ids[0] == 1 && ids[1] == 2);
    CHECK(outbox_flush_due(o) == INT64_MAX);    //  nothing queued: sent, held
    CHECK(!outbox_flush(o, p.tx, "w1", true, false));
    CHECK(outbox_size(o) == 2);
    //  acks that do not match (another task, another lease) forget nothing
    outbox_ack(o, 2, 101);
    outbox_ack(o, 1, 999);
    CHECK(outbox_size(o) == 2);
    outbox_ack(o, 1, 101);
    CHECK(outbox_size(o) == 1);
    Shoal__TaskRef refs[4], *ptrs[4];
    CHECK(outbox_refs(o, refs, ptrs, 4) == 1);
    CHECK(refs[0].task_id == 2 && refs[0].lease == 102 && ptrs[0] == &refs[0]);
    //  a new connection: what is held goes again
    outbox_resend_all(o);
    CHECK(outbox_flush(o, p.tx, "w1", true, false));
    CHECK(s_drain(&p, ids, 16, &msgs) == 1 && ids[0] == 2);
    outbox_ack(o, 2, 102);
    CHECK(outbox_size(o) == 0);
    outbox_destroy(&o);
    outbox_destroy(&o);
    CHECK(o == NULL);
    timers_destroy(&timers);
    s_pair_close(&p);
}

static void
test_overdue(void)
{
    pair_t p;
    s_pair(&p, 1000);
    timers_t *timers = timers_new();
    outbox_t *o = outbox_new(timers, 500);
    Shoal__Result a = s_result(7, 70);
    outbox_add(o, &a);
    CHECK(outbox_flush(o, p.tx, "w1", true, false));
    uint64_t ids[4];
    size_t msgs;
    CHECK(s_drain(&p, ids, 4, &msgs) == 1);
    int64_t now = clock_mono_ms();
    CHECK(timers_fire(timers, now + 100) == 0);         //  not overdue yet
    CHECK(outbox_flush_due(o) == INT64_MAX);
    CHECK(timers_fire(timers, now + 10000) == 1);       //  the ack is overdue: queued again
    CHECK(outbox_flush_due(o) != INT64_MAX);
    CHECK(outbox_flush(o, p.tx, "w1", true, false));
    CHECK(s_drain(&p, ids, 4, &msgs) == 1 && ids[0] == 7);
    //  acked: no timer left behind
    outbox_ack(o, 7, 70);
    CHECK(timers_fire(timers, now + 100000) == 0);
    outbox_destroy(&o);
    timers_destroy(&timers);
    s_pair_close(&p);
}

static void
test_busy_batching(void)
{
    pair_t p;
    s_pair(&p, 1000);
    timers_t *timers = timers_new();
    outbox_t *o = outbox_new(timers, 60000);
    Shoal__Result a = s_result(1, 1);
    outbox_add(o, &a);
    //  busy and fresh: waits for more (or for its due time)
    CHECK(!outbox_flush(o, p.tx, "w1", false, true));
    int64_t due = outbox_flush_due(o);
    CHECK(due != INT64_MAX && due - clock_mono_ms() <= 2);
    //  idle: at once
    CHECK(outbox_flush(o, p.tx, "w1", false, false));
    uint64_t ids[2000];
    size_t msgs;
    CHECK(s_drain(&p, ids, 2000, &msgs) == 1);
    //  a batch's worth goes at once even when busy, in messages of at most 1,000
    for (uint64_t i = 0; i < 1500; i++) {
        Shoal__Result r = s_result(100 + i, 1000 + i);
        outbox_add(o, &r);
    }
    CHECK(outbox_flush(o, p.tx, "w1", false, true));
    CHECK(s_drain(&p, ids, 2000, &msgs) == 1500);
    CHECK(msgs == 2);
    bool ordered = true;
    for (size_t i = 0; i < 1500; i++)
        ordered = ordered && ids[i] == 100 + i;
    CHECK(ordered);
    outbox_destroy(&o);
    timers_destroy(&timers);
    s_pair_close(&p);
}

static void
test_full_queue(void)
{
    //  a peer that takes one message, then nothing: results stay queued, in order
    pair_t p;
    s_pair(&p, 1);
    timers_t *timers = timers_new();
    outbox_t *o = outbox_new(timers, 60000);
    Shoal__Result a = s_result(1, 1);
    outbox_add(o, &a);
    int sent = 0;
    for (int i = 0; i < 50 && outbox_flush(o, p.tx, "w1", true, false); i++) {
        sent++;
        Shoal__Result r = s_result(2 + (uint64_t) i, 2 + (uint64_t) i);
        outbox_add(o, &r);
    }
    CHECK(sent >= 1 && sent < 50);              //  the pipe filled up
    CHECK(outbox_flush_due(o) != INT64_MAX);    //  what did not go is still queued
    uint64_t ids[64];
    size_t msgs, got = s_drain(&p, ids, 64, &msgs);
    //  the peer read: the socket is writable again once it has seen so
    zmq_pollitem_t item = { p.tx, 0, ZMQ_POLLOUT, 0 };
    CHECK(zmq_poll(&item, 1, 1000) == 1);
    CHECK(outbox_flush(o, p.tx, "w1", true, false));
    got += s_drain(&p, ids + got, 64 - got, &msgs);
    bool ordered = got == outbox_size(o);
    for (size_t i = 0; i < got; i++)
        ordered = ordered && ids[i] == 1 + i;
    CHECK(ordered);
    outbox_destroy(&o);
    timers_destroy(&timers);
    s_pair_close(&p);
}

int
main(void)
{
    test_send_ack_resend();
    test_overdue();
    test_busy_batching();
    test_full_queue();
    return check_result("test_worker_outbox");
}
