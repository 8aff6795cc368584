/*  ingest — see ingest.h. */
#include "ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "wire.h"

#define MAX_WINDOW      64
#define MAX_CHUNK_BYTES (4u << 20)  //  a chunk goes out once its specs pass this size
#define MAX_RECONCILES  20

//  One chunk sent and not yet acked.
typedef struct {
    uint64_t corr;                  //  request id
    uint64_t first_seq;             //  seq of specs[0]
    size_t   count;
    bool     seal;
    Shoal__TaskSpec **specs;        //  owned until the ack
    Shoal__Envelope *reply;         //  an answer that came before an older chunk's
} inflight_t;

struct _ingest_t {
    link_t   *link;
    Shoal__JobOpen *open;
    uint32_t  job_id;
    uint64_t  index;                //  tasks fed so far (the next task's seq)
    uint64_t  skip_until;           //  tasks below this seq are committed: dropped
    uint64_t  sent;                 //  next seq to send
    uint64_t  committed;
    bool      existed, complete, seal_sent;
    inflight_t window[MAX_WINDOW];
    size_t    head, count, max_window, chunk_size;
    Shoal__TaskSpec **partial;      //  the next chunk, plus one read ahead
    size_t    n_partial, partial_bytes;
    int       reconciles;
};

static void
s_free_specs(Shoal__TaskSpec **specs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (specs[i])
            shoal__task_spec__free_unpacked(specs[i], NULL);
    free(specs);
}

static int
s_fail(int *status, int code, char *err, size_t errlen, const char *text)
{
    snprintf(err, errlen, "%s", text);
    *status = code;
    return -1;
}

ingest_t *
ingest_new(link_t *link, Shoal__JobOpen *open, size_t chunk, size_t window)
{
    ingest_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->link = link;
    self->open = open;
    self->chunk_size = chunk;
    self->max_window = window < MAX_WINDOW ? window : MAX_WINDOW;
    self->partial = calloc(chunk + 1, sizeof *self->partial);
    if (!self->partial) {
        free(self);
        return NULL;
    }
    return self;
}

static void
s_pop(ingest_t *self)
{
    inflight_t *f = &self->window[self->head];
    s_free_specs(f->specs, f->count);
    wire_free(f->reply);
    *f = (inflight_t) { 0 };
    self->head = (self->head + 1) % MAX_WINDOW;
    self->count--;
}

void
ingest_destroy(ingest_t **self_p)
{
    ingest_t *self = *self_p;
    if (!self)
        return;
    while (self->count)
        s_pop(self);
    s_free_specs(self->partial, self->n_partial);
    free(self);
    *self_p = NULL;
}

//  JobOpen: the job id, its committed count, whether it is sealed.
static int
s_ask_open(ingest_t *self, int *status, char *err, size_t errlen)
{
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_JOB_OPEN;
    req.job_open = self->open;
    Shoal__Envelope *reply = link_call(self->link, &req, status, err, errlen);
    if (!reply)
        return -1;
    if (reply->body_case != SHOAL__ENVELOPE__BODY_JOB_OPENED) {
        wire_free(reply);
        return s_fail(status, 502, err, errlen, "unexpected reply to opening the job");
    }
    self->job_id = reply->job_opened->job_id;
    self->committed = reply->job_opened->committed;
    self->complete = reply->job_opened->sealed;
    if (reply->job_opened->existed)
        self->existed = true;
    wire_free(reply);
    return 0;
}

int
ingest_open(ingest_t *self, int *status, char *err, size_t errlen)
{
    if (s_ask_open(self, status, err, errlen))
        return -1;
    self->skip_until = self->sent = self->committed;
    return 0;
}

//  Send specs[0..n) as the chunk at self->sent (the window takes them).
static int
s_send(ingest_t *self, Shoal__TaskSpec **specs, size_t n, bool seal, int *status, char *err, size_t errlen)
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
    uint64_t corr = link_send(self->link, &env);
    if (!corr) {
        s_free_specs(specs, n);
        return s_fail(status, 503, err, errlen, "the broker is unreachable (no connection)");
    }
    inflight_t *f = &self->window[(self->head + self->count) % MAX_WINDOW];
    *f = (inflight_t) { .corr = corr, .first_seq = self->sent, .count = n, .seal = seal, .specs = specs };
    self->count++;
    self->sent += n;
    if (seal)
        self->seal_sent = true;
    return 0;
}

//  The answer to the chunk at window position i; answers to other chunks
//  that come first are kept with them. NULL on timeout.
static Shoal__Envelope *
s_answer(ingest_t *self, size_t i)
{
    inflight_t *want = &self->window[(self->head + i) % MAX_WINDOW];
    while (!want->reply) {
        Shoal__Envelope *env = link_recv(self->link, 0, -1);
        if (!env)
            return NULL;
        for (size_t k = 0; env && k < self->count; k++) {
            inflight_t *f = &self->window[(self->head + k) % MAX_WINDOW];
            if (env->has_corr && env->corr == f->corr && !f->reply) {
                f->reply = env;
                env = NULL;
            }
        }
        wire_free(env);
    }
    Shoal__Envelope *reply = want->reply;
    want->reply = NULL;
    return reply;
}

//  Another upload with the same key committed first: collect the answers
//  due, ask for the committed count, send again what is not committed.
static int
s_reconcile(ingest_t *self, int *status, char *err, size_t errlen)
{
    if (++self->reconciles > MAX_RECONCILES)
        return s_fail(status, 409, err, errlen, "another upload with this key keeps committing first");
    for (size_t i = 0; i < self->count; i++) {
        Shoal__Envelope *reply = s_answer(self, i);
        if (!reply)
            return s_fail(status, 503, err, errlen, "no answer from the broker");
        wire_free(reply);
    }
    if (s_ask_open(self, status, err, errlen))
        return -1;
    uint64_t committed = self->committed;
    size_t n = self->count;
    inflight_t chunks[MAX_WINDOW];
    for (size_t i = 0; i < n; i++)
        chunks[i] = self->window[(self->head + i) % MAX_WINDOW];
    memset(self->window, 0, sizeof self->window);
    self->head = self->count = 0;
    uint64_t old_sent = self->sent;
    self->sent = committed;
    self->seal_sent = false;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        inflight_t *c = &chunks[i];
        uint64_t end = c->first_seq + c->count;
        if (rc || self->complete || end <= committed) {
            s_free_specs(c->specs, c->count);
            continue;
        }
        size_t skip = committed > c->first_seq ? (size_t) (committed - c->first_seq) : 0;
        for (size_t k = 0; k < skip; k++)
            shoal__task_spec__free_unpacked(c->specs[k], NULL);
        memmove(c->specs, c->specs + skip, (c->count - skip) * sizeof *c->specs);
        rc = s_send(self, c->specs, c->count - skip, c->seal, status, err, errlen);
    }
    if (rc)
        return -1;
    if (committed > old_sent) {
        //  the other upload got further: drop what it committed from the
        //  tasks in hand, and the rest as they are fed
        uint64_t beyond = committed - old_sent;
        size_t drop = beyond < self->n_partial ? (size_t) beyond : self->n_partial;
        for (size_t k = 0; k < drop; k++)
            shoal__task_spec__free_unpacked(self->partial[k], NULL);
        memmove(self->partial, self->partial + drop, (self->n_partial - drop) * sizeof *self->partial);
        self->n_partial -= drop;
        self->partial_bytes = 0;
        for (size_t k = 0; k < self->n_partial; k++)
            self->partial_bytes += shoal__task_spec__get_packed_size(self->partial[k]);
        if (committed > self->skip_until)
            self->skip_until = committed;
    }
    if (self->complete) {
        s_free_specs(self->partial, self->n_partial);
        self->partial = calloc(self->chunk_size + 1, sizeof *self->partial);
        self->n_partial = self->partial_bytes = 0;
        if (!self->partial)
            return s_fail(status, 500, err, errlen, "out of memory");
    }
    return 0;
}

//  Wait for the oldest chunk's ack (or resolve its conflict).
static int
s_wait_ack(ingest_t *self, int *status, char *err, size_t errlen)
{
    Shoal__Envelope *reply = s_answer(self, 0);
    if (!reply)
        return s_fail(status, 503, err, errlen, "no answer from the broker to a chunk of tasks");
    int rc = 0;
    if (reply->body_case == SHOAL__ENVELOPE__BODY_SUBMIT_ACK) {
        self->committed = reply->submit_ack->committed;
        s_pop(self);
    }
    else
    if (reply->body_case == SHOAL__ENVELOPE__BODY_ERROR) {
        Shoal__ErrorCode code = reply->error->has_code ? reply->error->code : SHOAL__ERROR_CODE__ERR_INTERNAL;
        if (code == SHOAL__ERROR_CODE__ERR_CONFLICT)
            rc = s_reconcile(self, status, err, errlen);
        else {
            snprintf(err, errlen, "%s", reply->error->message ? reply->error->message : "refused");
            *status = link_http_status(code);
            rc = -1;
        }
    }
    else
        rc = s_fail(status, 502, err, errlen, "unexpected reply to a chunk of tasks");
    wire_free(reply);
    return rc;
}

//  Send the tasks in hand (all, or all but the last read ahead).
static int
s_flush(ingest_t *self, bool seal, bool keep_last, int *status, char *err, size_t errlen)
{
    while (self->count >= self->max_window && !self->complete)
        if (s_wait_ack(self, status, err, errlen))
            return -1;
    size_t keep = keep_last && self->n_partial ? 1 : 0;
    if (self->complete || self->n_partial == keep)
        return 0;
    Shoal__TaskSpec **fresh = calloc(self->chunk_size + 1, sizeof *fresh);
    if (!fresh)
        return s_fail(status, 500, err, errlen, "out of memory");
    Shoal__TaskSpec **specs = self->partial;
    size_t n = self->n_partial - keep;
    self->partial = fresh;
    self->n_partial = self->partial_bytes = 0;
    if (keep) {
        self->partial[self->n_partial++] = specs[n];
        self->partial_bytes = shoal__task_spec__get_packed_size(specs[n]);
        specs[n] = NULL;
    }
    return s_send(self, specs, n, seal, status, err, errlen);
}

int
ingest_add(ingest_t *self, Shoal__TaskSpec *spec, int *status, char *err, size_t errlen)
{
    uint64_t seq = self->index++;
    if (seq < self->skip_until || self->complete) {
        shoal__task_spec__free_unpacked(spec, NULL);
        return 0;
    }
    self->partial[self->n_partial++] = spec;
    self->partial_bytes += shoal__task_spec__get_packed_size(spec);
    if (self->n_partial > self->chunk_size || (self->partial_bytes > MAX_CHUNK_BYTES && self->n_partial > 1))
        return s_flush(self, false, true, status, err, errlen);
    return 0;
}

int
ingest_finish(ingest_t *self, bool seal, int *status, char *err, size_t errlen)
{
    if (self->complete)
        return 0;
    if (seal && self->index < self->skip_until) {
        snprintf(err, errlen, "job %u already has %llu tasks committed but this upload has only %llu;"
                 " is it the same body?", self->job_id, (unsigned long long) self->skip_until,
                 (unsigned long long) self->index);
        *status = 409;
        return -1;
    }
    if (s_flush(self, seal, false, status, err, errlen))
        return -1;
    while (self->count && !self->complete)
        if (s_wait_ack(self, status, err, errlen))
            return -1;
    if (!seal || self->complete || self->seal_sent)
        return 0;
    //  nothing was left to send with the seal (all committed before): seal now
    Shoal__JobSeal js = SHOAL__JOB_SEAL__INIT;
    js.has_job_id = js.has_total = 1;
    js.job_id = self->job_id;
    js.total = self->committed;
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_JOB_SEAL;
    req.job_seal = &js;
    Shoal__Envelope *reply = link_call(self->link, &req, status, err, errlen);
    if (!reply)
        return -1;
    wire_free(reply);
    return 0;
}

uint32_t
ingest_job_id(const ingest_t *self)
{
    return self->job_id;
}

uint64_t
ingest_committed(const ingest_t *self)
{
    return self->committed;
}

bool
ingest_existed(const ingest_t *self)
{
    return self->existed;
}

bool
ingest_complete(const ingest_t *self)
{
    return self->complete;
}
