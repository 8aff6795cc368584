/*  test_chunk_window — the window of chunks in flight (lib/chunk_window.c)
    over a fake transport: what goes out, answers matched by corr in any
    order, a lost answer, a failed send, and what a rebase sends again. */
#include <stdlib.h>

#include "check.h"
#include "chunk_window.h"
#include "wire.h"

//  One chunk as the fake broker saw it.
typedef struct {
    uint64_t corr, first_seq;
    size_t   n_tasks;
    uint32_t job_id;
    bool     seal;
    char     first_tag[16];         //  tag of the chunk's first task
} seen_t;

//  The fake transport: records what is sent, answers from a queue.
typedef struct {
    seen_t   seen[128];
    size_t   n_seen;
    uint64_t next_corr;
    bool     down;                  //  sends fail
    Shoal__Envelope *queue[64];     //  answers to come, in order
    size_t   q_head, q_len;
    int      recvs;                 //  receive calls
    int      last_timeout;          //  timeout_ms of the last receive
} fake_t;

static uint64_t
s_send(void *arg, Shoal__Envelope *env)
{
    fake_t *f = arg;
    if (f->down)
        return 0;
    Shoal__SubmitChunk *c = env->submit_chunk;
    seen_t *s = &f->seen[f->n_seen++];
    *s = (seen_t) { .corr = ++f->next_corr, .first_seq = c->first_seq, .n_tasks = c->n_tasks,
                    .job_id = c->job_id, .seal = c->has_seal && c->seal };
    if (c->n_tasks && c->tasks[0]->tag)
        snprintf(s->first_tag, sizeof s->first_tag, "%s", c->tasks[0]->tag);
    return s->corr;
}

static Shoal__Envelope *
s_recv(void *arg, int timeout_ms)
{
    fake_t *f = arg;
    f->recvs++;
    f->last_timeout = timeout_ms;
    if (f->q_head == f->q_len)
        return NULL;
    return f->queue[f->q_head++];
}

//  Queue an ack to corr saying `committed`.
//  (decoded as from a socket: wire_free frees what wire_decode made)
static void
s_ack(fake_t *f, uint64_t corr, uint64_t committed)
{
    Shoal__SubmitAck ack = SHOAL__SUBMIT_ACK__INIT;
    ack.has_job_id = ack.has_committed = 1;
    ack.job_id = 1;
    ack.committed = committed;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.has_version = env.has_corr = 1;
    env.version = SHOAL_PROTO_MAJOR;
    env.corr = corr;
    env.body_case = SHOAL__ENVELOPE__BODY_SUBMIT_ACK;
    env.submit_ack = &ack;
    size_t len = shoal__envelope__get_packed_size(&env);
    uint8_t *buf = malloc(len);
    shoal__envelope__pack(&env, buf);
    char err[256];
    Shoal__Envelope *back = wire_decode(buf, len, err, sizeof err, NULL);
    free(buf);
    if (!back)
        fprintf(stderr, "test_chunk_window: %s\n", err);
    CHECK(back != NULL);
    f->queue[f->q_len++] = back;
}

//  A task tagged "t<seq>".
static Shoal__TaskSpec *
s_task(uint64_t seq)
{
    Shoal__TaskSpec *t = calloc(1, sizeof *t);
    shoal__task_spec__init(t);
    t->tag = malloc(16);
    snprintf(t->tag, 16, "t%llu", (unsigned long long) seq);
    return t;
}

//  Add tasks seq from..to-1; how many times the window said "a chunk".
static int
s_add(chunk_window_t *w, uint64_t from, uint64_t to)
{
    int full = 0;
    for (uint64_t seq = from; seq < to; seq++)
        full += chunk_window_add(w, s_task(seq));
    return full;
}

static uint64_t
s_committed_of(Shoal__Envelope *env)
{
    return env && env->body_case == SHOAL__ENVELOPE__BODY_SUBMIT_ACK ? env->submit_ack->committed : 0;
}

//  Chunks of 4, read ahead of one, a window of 2; answers in order.
static void
s_test_window_full_and_empty(void)
{
    fake_t f = { 0 };
    chunk_window_t *w = chunk_window_new(2, 4, s_send, s_recv, &f);
    CHECK(w);
    chunk_window_set_job(w, 7);
    chunk_window_start_at(w, 100);
    CHECK(chunk_window_count(w) == 0 && !chunk_window_full(w));
    CHECK(chunk_window_first_seq(w) == 0);
    //  nothing in hand: a flush sends nothing
    CHECK(chunk_window_flush(w, false, true) == 0);
    CHECK(chunk_window_flush(w, false, false) == 0);
    CHECK(f.n_seen == 0);
    //  the fifth task makes a chunk of four, the fifth kept back
    CHECK(s_add(w, 100, 104) == 0);
    CHECK(s_add(w, 104, 105) == 1);
    CHECK(chunk_window_flush(w, false, true) == 0);
    CHECK(f.n_seen == 1);
    CHECK(f.seen[0].first_seq == 100 && f.seen[0].n_tasks == 4 && f.seen[0].job_id == 7 && !f.seen[0].seal);
    CHECK_STR(f.seen[0].first_tag, "t100");
    CHECK(chunk_window_in_hand(w) == 1);
    CHECK(chunk_window_sent(w) == 104);
    CHECK(chunk_window_count(w) == 1 && !chunk_window_full(w));
    CHECK(chunk_window_first_seq(w) == 100);
    //  a second chunk fills the window
    CHECK(s_add(w, 105, 109) == 1);
    CHECK(chunk_window_flush(w, false, true) == 0);
    CHECK(f.seen[1].first_seq == 104 && f.seen[1].n_tasks == 4);
    CHECK_STR(f.seen[1].first_tag, "t104");
    CHECK(chunk_window_count(w) == 2 && chunk_window_full(w));
    //  the oldest's ack makes room
    s_ack(&f, f.seen[0].corr, 104);
    Shoal__Envelope *a = chunk_window_answer(w, 0, 1000);
    CHECK(s_committed_of(a) == 104);
    wire_free(a);
    CHECK(chunk_window_count(w) == 2);          //  answered, not popped yet
    chunk_window_pop(w);
    CHECK(chunk_window_count(w) == 1 && !chunk_window_full(w));
    CHECK(chunk_window_first_seq(w) == 104);
    //  the last chunk, with the one kept back, seals the job
    CHECK(!chunk_window_seal_sent(w));
    CHECK(chunk_window_flush(w, true, false) == 0);
    CHECK(f.seen[2].first_seq == 108 && f.seen[2].n_tasks == 1 && f.seen[2].seal);
    CHECK(chunk_window_seal_sent(w));
    CHECK(chunk_window_in_hand(w) == 0 && chunk_window_sent(w) == 109);
    s_ack(&f, f.seen[1].corr, 108);
    s_ack(&f, f.seen[2].corr, 109);
    CHECK(chunk_window_collect(w, 0, 1000) == 0);
    chunk_window_pop(w);
    chunk_window_pop(w);
    CHECK(chunk_window_count(w) == 0);
    chunk_window_destroy(&w);
    CHECK(w == NULL);
    chunk_window_destroy(&w);                   //  idempotent
}

//  Answers out of order are kept with their chunks; strangers are freed.
static void
s_test_out_of_order(void)
{
    fake_t f = { 0 };
    chunk_window_t *w = chunk_window_new(8, 2, s_send, s_recv, &f);
    for (int i = 0; i < 3; i++) {
        s_add(w, (uint64_t) i * 2, (uint64_t) i * 2 + 2);
        CHECK(chunk_window_flush(w, false, false) == 0);
    }
    CHECK(chunk_window_count(w) == 3);
    s_ack(&f, f.seen[2].corr, 6);
    s_ack(&f, 999, 1);                          //  an answer to no chunk
    s_ack(&f, f.seen[1].corr, 4);
    s_ack(&f, f.seen[0].corr, 2);
    Shoal__Envelope *a = chunk_window_answer(w, 0, 1000);
    CHECK(s_committed_of(a) == 2);
    CHECK(f.recvs == 4);
    wire_free(a);
    //  the others came before: no receive for them
    a = chunk_window_answer(w, 2, 1000);
    CHECK(s_committed_of(a) == 6);
    wire_free(a);
    a = chunk_window_answer(w, 1, 1000);
    CHECK(s_committed_of(a) == 4);
    wire_free(a);
    CHECK(f.recvs == 4);
    //  taken once: asking again waits for another, and none comes
    CHECK(chunk_window_answer(w, 1, 1000) == NULL);
    CHECK(f.recvs == 5);
    //  two answers to the same chunk: the first is kept, the second is no one's
    s_ack(&f, f.seen[0].corr, 2);
    s_ack(&f, f.seen[0].corr, 77);
    s_ack(&f, f.seen[1].corr, 4);
    a = chunk_window_answer(w, 1, 1000);
    CHECK(s_committed_of(a) == 4);
    wire_free(a);
    a = chunk_window_answer(w, 0, 1000);
    CHECK(s_committed_of(a) == 2);
    wire_free(a);
    //  an answer kept in the window is freed with its chunk
    s_ack(&f, f.seen[1].corr, 4);
    s_ack(&f, f.seen[0].corr, 2);
    a = chunk_window_answer(w, 0, 1000);
    wire_free(a);
    chunk_window_pop(w);
    chunk_window_destroy(&w);
}

//  A lost answer: NULL in time; the timeout is handed to the transport.
static void
s_test_lost_answer(void)
{
    fake_t f = { 0 };
    chunk_window_t *w = chunk_window_new(4, 10, s_send, s_recv, &f);
    s_add(w, 0, 3);
    CHECK(chunk_window_flush(w, false, false) == 0);
    CHECK(chunk_window_answer(w, 0, 500) == NULL);
    CHECK(f.recvs == 1 && f.last_timeout > 0 && f.last_timeout <= 500);
    //  -1: each receive with the transport's own timeout
    CHECK(chunk_window_answer(w, 0, -1) == NULL);
    CHECK(f.recvs == 2 && f.last_timeout == -1);
    //  no time left: not even a receive
    CHECK(chunk_window_answer(w, 0, 0) == NULL);
    CHECK(f.recvs == 2);
    //  collect stops at the first answer missing
    s_add(w, 3, 5);
    CHECK(chunk_window_flush(w, false, false) == 0);
    s_ack(&f, f.seen[1].corr, 5);
    CHECK(chunk_window_collect(w, 1, 500) == 0);
    CHECK(chunk_window_collect(w, 0, 500) == -1);
    CHECK(chunk_window_count(w) == 2);          //  nothing dropped
    chunk_window_destroy(&w);
}

//  A send that fails: the chunk is freed, nothing counts as sent.
static void
s_test_failed_send(void)
{
    fake_t f = { .down = true };
    chunk_window_t *w = chunk_window_new(4, 10, s_send, s_recv, &f);
    chunk_window_start_at(w, 50);
    s_add(w, 50, 53);
    CHECK(chunk_window_flush(w, true, true) == CHUNK_WINDOW_UNSENT);
    CHECK(chunk_window_count(w) == 0);
    CHECK(chunk_window_sent(w) == 50);
    CHECK(!chunk_window_seal_sent(w));
    CHECK(chunk_window_in_hand(w) == 1);        //  the one kept back stays
    f.down = false;
    CHECK(chunk_window_flush(w, false, false) == 0);
    CHECK(f.seen[0].first_seq == 50 && f.seen[0].n_tasks == 1);
    CHECK_STR(f.seen[0].first_tag, "t52");
    chunk_window_destroy(&w);
}

//  Three chunks of 10 in flight at 0, 10, 20 (the last sealing), 5 in hand.
static chunk_window_t *
s_three_chunks(fake_t *f)
{
    chunk_window_t *w = chunk_window_new(8, 10, s_send, s_recv, f);
    chunk_window_set_job(w, 3);
    for (int i = 0; i < 3; i++) {
        s_add(w, (uint64_t) i * 10, (uint64_t) i * 10 + 10);
        CHECK(chunk_window_flush(w, i == 2, false) == 0);
    }
    s_add(w, 30, 35);
    CHECK(chunk_window_count(w) == 3 && chunk_window_sent(w) == 30 && chunk_window_seal_sent(w));
    f->n_seen = 0;
    return w;
}

//  Rebase: what is committed is dropped, the rest is sent again from there.
static void
s_test_rebase(void)
{
    fake_t f = { 0 };
    uint64_t beyond = 99;
    //  15 committed: chunk 0 dropped, chunk 1 from its sixth task, chunk 2 whole
    chunk_window_t *w = s_three_chunks(&f);
    s_ack(&f, 1, 10);                           //  chunk 0's answer, kept in the window
    CHECK(chunk_window_answer(w, 1, 1000) == NULL);
    CHECK(f.recvs == 2);
    CHECK(chunk_window_rebase(w, 15, false, &beyond) == 0);
    CHECK(beyond == 0);
    CHECK(f.n_seen == 2);
    CHECK(f.seen[0].first_seq == 15 && f.seen[0].n_tasks == 5 && !f.seen[0].seal && f.seen[0].job_id == 3);
    CHECK_STR(f.seen[0].first_tag, "t15");
    CHECK(f.seen[1].first_seq == 20 && f.seen[1].n_tasks == 10 && f.seen[1].seal);
    CHECK_STR(f.seen[1].first_tag, "t20");
    CHECK(chunk_window_count(w) == 2 && chunk_window_sent(w) == 30);
    CHECK(chunk_window_first_seq(w) == 15);
    CHECK(chunk_window_seal_sent(w));
    CHECK(chunk_window_in_hand(w) == 5);
    //  answers to the chunks sent again match the new corrs
    s_ack(&f, f.seen[1].corr, 30);
    s_ack(&f, f.seen[0].corr, 20);
    Shoal__Envelope *a = chunk_window_answer(w, 0, 1000);
    CHECK(s_committed_of(a) == 20);
    wire_free(a);
    chunk_window_destroy(&w);

    //  all committed and more: nothing in flight, 3 of 5 in hand dropped
    f = (fake_t) { 0 };
    w = s_three_chunks(&f);
    CHECK(chunk_window_rebase(w, 33, false, &beyond) == 0);
    CHECK(beyond == 0);
    CHECK(f.n_seen == 0 && chunk_window_count(w) == 0);
    CHECK(chunk_window_sent(w) == 33 && !chunk_window_seal_sent(w));
    CHECK(chunk_window_in_hand(w) == 2);
    CHECK(chunk_window_flush(w, false, false) == 0);
    CHECK(f.seen[0].first_seq == 33 && f.seen[0].n_tasks == 2);
    CHECK_STR(f.seen[0].first_tag, "t33");
    chunk_window_destroy(&w);

    //  past the tasks in hand: the rest is the caller's to skip
    f = (fake_t) { 0 };
    w = s_three_chunks(&f);
    CHECK(chunk_window_rebase(w, 42, false, &beyond) == 0);
    CHECK(beyond == 7);
    CHECK(chunk_window_in_hand(w) == 0 && chunk_window_count(w) == 0 && chunk_window_sent(w) == 42);
    chunk_window_destroy(&w);

    //  fewer than sent (the oldest is to be sent again whole)
    f = (fake_t) { 0 };
    w = s_three_chunks(&f);
    CHECK(chunk_window_rebase(w, 0, false, &beyond) == 0);
    CHECK(f.n_seen == 3 && f.seen[0].first_seq == 0 && f.seen[0].n_tasks == 10);
    CHECK(chunk_window_sent(w) == 30 && chunk_window_in_hand(w) == 5);
    chunk_window_destroy(&w);

    //  sealed by another run: everything dropped, nothing sent
    f = (fake_t) { 0 };
    w = s_three_chunks(&f);
    CHECK(chunk_window_rebase(w, 12, true, &beyond) == 0);
    CHECK(beyond == 0 && f.n_seen == 0);
    CHECK(chunk_window_count(w) == 0 && chunk_window_in_hand(w) == 0 && chunk_window_sent(w) == 12);
    chunk_window_destroy(&w);

    //  the broker gone while sending again: the rest is freed
    f = (fake_t) { 0 };
    w = s_three_chunks(&f);
    f.down = true;
    CHECK(chunk_window_rebase(w, 15, false, &beyond) == CHUNK_WINDOW_UNSENT);
    CHECK(chunk_window_count(w) == 0);
    chunk_window_destroy(&w);
}

//  The window is capped at CHUNK_WINDOW_MAX; the byte bound makes a chunk.
static void
s_test_bounds(void)
{
    fake_t f = { 0 };
    chunk_window_t *w = chunk_window_new(1000, 1, s_send, s_recv, &f);
    for (int i = 0; i < CHUNK_WINDOW_MAX; i++) {
        CHECK(!chunk_window_full(w));
        s_add(w, (uint64_t) i, (uint64_t) i + 1);
        CHECK(chunk_window_flush(w, false, false) == 0);
    }
    CHECK(chunk_window_full(w) && chunk_window_count(w) == CHUNK_WINDOW_MAX);
    //  the ring wraps: pop one, send one, the oldest is the second sent
    chunk_window_pop(w);
    s_add(w, 64, 65);
    CHECK(chunk_window_flush(w, false, false) == 0);
    CHECK(chunk_window_first_seq(w) == 1);
    s_ack(&f, f.seen[CHUNK_WINDOW_MAX].corr, 65);
    Shoal__Envelope *a = chunk_window_answer(w, CHUNK_WINDOW_MAX - 1, 1000);
    CHECK(s_committed_of(a) == 65);
    wire_free(a);
    chunk_window_destroy(&w);

    //  two tasks past 4 MiB make a chunk before chunk_size
    w = chunk_window_new(4, 1000, s_send, s_recv, &f);
    Shoal__TaskSpec *big = s_task(0);
    free(big->tag);
    big->tag = malloc(CHUNK_WINDOW_MAX_BYTES + 1);
    memset(big->tag, 'x', CHUNK_WINDOW_MAX_BYTES);
    big->tag[CHUNK_WINDOW_MAX_BYTES] = 0;
    CHECK(!chunk_window_add(w, big));           //  one task alone is never cut
    CHECK(chunk_window_add(w, s_task(1)));
    chunk_window_destroy(&w);
}

int
main(void)
{
    s_test_window_full_and_empty();
    s_test_out_of_order();
    s_test_lost_answer();
    s_test_failed_send();
    s_test_rebase();
    s_test_bounds();
    return check_result("test_chunk_window");
}
