/*  chunk_window — see chunk_window.h. */
#include "chunk_window.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "wire.h"

//  One chunk sent and not yet answered.
typedef struct {
    uint64_t corr;                  //  request id
    uint64_t first_seq;             //  seq of specs[0]
    size_t   count;                 //  specs in the chunk
    bool     seal;                  //  the job's last chunk
    Shoal__TaskSpec **specs;        //  owned until popped: sent again after a rebase
    Shoal__Envelope *reply;         //  its answer, when it came before an older chunk's
} inflight_t;

struct _chunk_window_t {
    chunk_window_send_fn *send;     //  the transport
    chunk_window_recv_fn *recv;
    void     *arg;                  //  the transport's own (borrowed)
    uint32_t  job_id;               //  the job the chunks go to
    uint64_t  sent;                 //  next seq to send
    bool      seal_sent;            //  a chunk that seals the job is in flight or acked
    inflight_t window[CHUNK_WINDOW_MAX];  //  ring of chunks in flight
    size_t    head, count;          //  oldest chunk's slot, chunks in flight
    size_t    max_window;           //  chunks in flight at the most
    size_t    chunk_size;           //  tasks per chunk
    Shoal__TaskSpec **partial;      //  tasks in hand: the next chunk (+ 1 read ahead)
    size_t    n_partial;            //  tasks in hand
    size_t    partial_bytes;        //  their packed size
};

//  Free n specs (NULL entries skipped) and the array.
static void
s_free_specs(Shoal__TaskSpec **specs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (specs[i])
            shoal__task_spec__free_unpacked(specs[i], NULL);
    free(specs);
}

chunk_window_t *
chunk_window_new(size_t max_window, size_t chunk_size, chunk_window_send_fn *send,
                 chunk_window_recv_fn *recv, void *arg)
{
    chunk_window_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->send = send;
    self->recv = recv;
    self->arg = arg;
    self->max_window = max_window < CHUNK_WINDOW_MAX ? max_window : CHUNK_WINDOW_MAX;
    self->chunk_size = chunk_size;
    self->partial = calloc(chunk_size + 1, sizeof *self->partial);
    if (!self->partial) {
        free(self);
        return NULL;
    }
    return self;
}

void
chunk_window_destroy(chunk_window_t **self_p)
{
    chunk_window_t *self = *self_p;
    if (!self)
        return;
    while (self->count)
        chunk_window_pop(self);
    s_free_specs(self->partial, self->n_partial);
    free(self);
    *self_p = NULL;
}

void
chunk_window_set_job(chunk_window_t *self, uint32_t job_id)
{
    self->job_id = job_id;
}

void
chunk_window_start_at(chunk_window_t *self, uint64_t seq)
{
    self->sent = seq;
}

bool
chunk_window_add(chunk_window_t *self, Shoal__TaskSpec *spec)
{
    self->partial[self->n_partial++] = spec;
    self->partial_bytes += shoal__task_spec__get_packed_size(spec);
    return self->n_partial > self->chunk_size
        || (self->partial_bytes > CHUNK_WINDOW_MAX_BYTES && self->n_partial > 1);
}

//  Send specs[0..n) as the chunk starting at self->sent; the window takes
//  ownership of specs (freed here when the send fails). The caller made
//  room in the window.
static int
s_send(chunk_window_t *self, Shoal__TaskSpec **specs, size_t n, bool seal)
{
    Shoal__SubmitChunk chunk = SHOAL__SUBMIT_CHUNK__INIT;
    chunk.has_job_id = chunk.has_first_seq = 1;
    chunk.job_id = self->job_id;
    chunk.first_seq = self->sent;
    chunk.tasks = specs;
    chunk.n_tasks = n;
    chunk.has_seal = seal;
    chunk.seal = seal;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_SUBMIT_CHUNK;
    env.submit_chunk = &chunk;
    uint64_t corr = self->send(self->arg, &env);
    if (!corr) {
        s_free_specs(specs, n);
        return CHUNK_WINDOW_UNSENT;
    }
    inflight_t *f = &self->window[(self->head + self->count) % CHUNK_WINDOW_MAX];
    *f = (inflight_t) { .corr = corr, .first_seq = self->sent, .count = n, .seal = seal, .specs = specs };
    self->count++;
    self->sent += n;
    if (seal)
        self->seal_sent = true;
    return 0;
}

int
chunk_window_flush(chunk_window_t *self, bool seal, bool keep_last)
{
    size_t keep = keep_last && self->n_partial ? 1 : 0;
    if (self->n_partial == keep)
        return 0;
    Shoal__TaskSpec **fresh = calloc(self->chunk_size + 1, sizeof *fresh);
    if (!fresh)
        return CHUNK_WINDOW_NOMEM;
    Shoal__TaskSpec **specs = self->partial;
    size_t n = self->n_partial - keep;
    self->partial = fresh;
    self->n_partial = 0;
    self->partial_bytes = 0;
    if (keep) {
        self->partial[self->n_partial++] = specs[n];
        self->partial_bytes = shoal__task_spec__get_packed_size(specs[n]);
        specs[n] = NULL;
    }
    return s_send(self, specs, n, seal);
}

Shoal__Envelope *
chunk_window_answer(chunk_window_t *self, size_t i, int64_t timeout_ms)
{
    inflight_t *want = &self->window[(self->head + i) % CHUNK_WINDOW_MAX];
    int64_t deadline = timeout_ms >= 0 ? clock_mono_ms() + timeout_ms : 0;
    while (!want->reply) {
        Shoal__Envelope *env = NULL;
        if (timeout_ms < 0)
            env = self->recv(self->arg, -1);
        else {
            int64_t left = deadline - clock_mono_ms();
            env = left > 0 ? self->recv(self->arg, (int) left) : NULL;
        }
        if (!env)
            return NULL;
        for (size_t k = 0; env && k < self->count; k++) {
            inflight_t *f = &self->window[(self->head + k) % CHUNK_WINDOW_MAX];
            if (env->has_corr && env->corr == f->corr && !f->reply) {
                f->reply = env;
                env = NULL;
            }
        }
        wire_free(env);         //  a late answer to an earlier request
    }
    Shoal__Envelope *reply = want->reply;
    want->reply = NULL;
    return reply;
}

int
chunk_window_collect(chunk_window_t *self, size_t from, int64_t timeout_ms)
{
    for (size_t i = from; i < self->count; i++) {
        Shoal__Envelope *reply = chunk_window_answer(self, i, timeout_ms);
        if (!reply)
            return -1;
        wire_free(reply);
    }
    return 0;
}

void
chunk_window_pop(chunk_window_t *self)
{
    inflight_t *f = &self->window[self->head];
    s_free_specs(f->specs, f->count);
    wire_free(f->reply);
    *f = (inflight_t) { 0 };
    self->head = (self->head + 1) % CHUNK_WINDOW_MAX;
    self->count--;
}

//  Drop the first n tasks in hand.
static void
s_trim_partial(chunk_window_t *self, size_t n)
{
    for (size_t i = 0; i < n; i++)
        shoal__task_spec__free_unpacked(self->partial[i], NULL);
    memmove(self->partial, self->partial + n, (self->n_partial - n) * sizeof *self->partial);
    self->n_partial -= n;
    self->partial_bytes = 0;
    for (size_t i = 0; i < self->n_partial; i++)
        self->partial_bytes += shoal__task_spec__get_packed_size(self->partial[i]);
}

int
chunk_window_rebase(chunk_window_t *self, uint64_t committed, bool sealed, uint64_t *beyond)
{
    *beyond = 0;
    uint64_t old_sent = self->sent;
    size_t n = self->count;
    inflight_t chunks[CHUNK_WINDOW_MAX];
    for (size_t i = 0; i < n; i++)
        chunks[i] = self->window[(self->head + i) % CHUNK_WINDOW_MAX];
    memset(self->window, 0, sizeof self->window);
    self->head = self->count = 0;
    self->sent = committed;
    self->seal_sent = false;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        inflight_t *c = &chunks[i];
        uint64_t end = c->first_seq + c->count;
        if (rc || sealed || end <= committed) {
            s_free_specs(c->specs, c->count);
            wire_free(c->reply);
            continue;
        }
        size_t skip = committed > c->first_seq ? (size_t) (committed - c->first_seq) : 0;
        for (size_t k = 0; k < skip; k++)
            shoal__task_spec__free_unpacked(c->specs[k], NULL);
        memmove(c->specs, c->specs + skip, (c->count - skip) * sizeof *c->specs);
        wire_free(c->reply);
        rc = s_send(self, c->specs, c->count - skip, c->seal);
    }
    if (rc)
        return rc;
    if (sealed) {
        s_trim_partial(self, self->n_partial);
        return 0;
    }
    if (committed > old_sent) {
        //  the other run got past everything this one sent: drop what it
        //  committed from the tasks in hand; the rest is the caller's
        uint64_t past = committed - old_sent;
        size_t from_partial = past < self->n_partial ? (size_t) past : self->n_partial;
        s_trim_partial(self, from_partial);
        *beyond = past - from_partial;
    }
    return 0;
}

size_t
chunk_window_count(const chunk_window_t *self)
{
    return self->count;
}

bool
chunk_window_full(const chunk_window_t *self)
{
    return self->count >= self->max_window;
}

uint64_t
chunk_window_sent(const chunk_window_t *self)
{
    return self->sent;
}

uint64_t
chunk_window_first_seq(const chunk_window_t *self)
{
    return self->window[self->head].first_seq;
}

bool
chunk_window_seal_sent(const chunk_window_t *self)
{
    return self->seal_sent;
}

size_t
chunk_window_in_hand(const chunk_window_t *self)
{
    return self->n_partial;
}
