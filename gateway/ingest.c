/*  ingest — see ingest.h. The window of chunks (tasks in hand, chunks in
    flight, answers matched by corr, what to send again) is
    lib/chunk_window.c, shared with shoal submit. */
#include "ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunk_window.h"
#include "wire.h"

#define MAX_RECONCILES  20

struct _ingest_t {
    link_t   *link;
    Shoal__JobOpen *open;
    uint32_t  job_id;
    uint64_t  index;                //  tasks fed so far (the next task's seq)
    uint64_t  skip_until;           //  tasks below this seq are committed: dropped
    uint64_t  committed;
    bool      existed, complete;
    bool      closed;               //  the broker refused the job's tasks: nothing more goes out
    chunk_window_t *window;         //  tasks in hand, chunks in flight
    int       reconciles;
};

//  The transport of the window: the gateway's link to the broker.
static uint64_t
s_link_send(void *link, Shoal__Envelope *env)
{
    return link_send(link, env);
}

static Shoal__Envelope *
s_link_recv(void *link, int timeout_ms)
{
    return link_recv(link, 0, timeout_ms);
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
    self->window = chunk_window_new(window, chunk, s_link_send, s_link_recv, link);
    if (!self->window) {
        free(self);
        return NULL;
    }
    return self;
}

void
ingest_destroy(ingest_t **self_p)
{
    ingest_t *self = *self_p;
    if (!self)
        return;
    chunk_window_destroy(&self->window);
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
    chunk_window_set_job(self->window, self->job_id);
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
    self->skip_until = self->committed;
    chunk_window_start_at(self->window, self->committed);
    return 0;
}

//  Another upload with the same key committed first (a conflict), or the
//  job is no longer open for tasks (`refused`, the broker's words): collect
//  the answers due, ask for the committed count, send again what is not
//  committed. A job another upload sealed meanwhile is complete: the rest
//  of this body is read and dropped, and the answer is the job's. A job
//  closed otherwise (cancelled) ends the upload with the broker's words.
static int
s_reconcile(ingest_t *self, const char *refused, int *status, char *err, size_t errlen)
{
    if (++self->reconciles > MAX_RECONCILES)
        return s_fail(status, 409, err, errlen, "another upload with this key keeps committing first");
    //  the answers still due: position 0's (the one refused) is in hand
    if (chunk_window_collect(self->window, 1, -1))
        return s_fail(status, 503, err, errlen, "no answer from the broker");
    if (s_ask_open(self, status, err, errlen))
        return -1;
    if (refused && !self->complete) {
        uint64_t beyond = 0;
        chunk_window_rebase(self->window, self->committed, true, &beyond);     //  nothing more goes out
        self->closed = true;
        return s_fail(status, 409, err, errlen, refused);
    }
    uint64_t committed = self->committed;
    uint64_t old_sent = chunk_window_sent(self->window);
    uint64_t beyond = 0;
    if (chunk_window_rebase(self->window, committed, self->complete, &beyond))
        return s_fail(status, 503, err, errlen, "the broker is unreachable (no connection)");
    //  the other upload got further: the rest of what it committed is
    //  dropped as it is fed
    if (committed > old_sent && committed > self->skip_until)
        self->skip_until = committed;
    return 0;
}

//  Wait for the oldest chunk's ack (or resolve its conflict).
static int
s_wait_ack(ingest_t *self, int *status, char *err, size_t errlen)
{
    Shoal__Envelope *reply = chunk_window_answer(self->window, 0, -1);
    if (!reply)
        return s_fail(status, 503, err, errlen, "no answer from the broker to a chunk of tasks");
    int rc = 0;
    if (reply->body_case == SHOAL__ENVELOPE__BODY_SUBMIT_ACK) {
        self->committed = reply->submit_ack->committed;
        chunk_window_pop(self->window);
    }
    else
    if (reply->body_case == SHOAL__ENVELOPE__BODY_ERROR) {
        Shoal__ErrorCode code = reply->error->has_code ? reply->error->code : SHOAL__ERROR_CODE__ERR_INTERNAL;
        if (code == SHOAL__ERROR_CODE__ERR_CONFLICT || code == SHOAL__ERROR_CODE__ERR_STATE)
            rc = s_reconcile(self, code == SHOAL__ERROR_CODE__ERR_STATE
                             ? (reply->error->message ? reply->error->message : "the job is closed") : NULL,
                             status, err, errlen);
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
    while (chunk_window_full(self->window) && !self->complete)
        if (s_wait_ack(self, status, err, errlen))
            return -1;
    if (self->complete)
        return 0;
    int rc = chunk_window_flush(self->window, seal, keep_last);
    if (rc == CHUNK_WINDOW_NOMEM)
        return s_fail(status, 500, err, errlen, "out of memory");
    if (rc)
        return s_fail(status, 503, err, errlen, "the broker is unreachable (no connection)");
    return 0;
}

int
ingest_add(ingest_t *self, Shoal__TaskSpec *spec, int *status, char *err, size_t errlen)
{
    uint64_t seq = self->index++;
    if (seq < self->skip_until || self->complete) {
        shoal__task_spec__free_unpacked(spec, NULL);
        return 0;
    }
    if (chunk_window_add(self->window, spec))
        return s_flush(self, false, true, status, err, errlen);
    return 0;
}

int
ingest_finish(ingest_t *self, bool seal, int *status, char *err, size_t errlen)
{
    if (self->complete)
        return 0;
    if (self->closed)       //  what came before is committed; nothing else can be
        return seal ? s_fail(status, 409, err, errlen, "the job is not open for tasks") : 0;
    if (seal && self->index < self->skip_until) {
        snprintf(err, errlen, "job %u already has %llu tasks committed but this upload has only %llu;"
                 " is it the same body?", self->job_id, (unsigned long long) self->skip_until,
                 (unsigned long long) self->index);
        *status = 409;
        return -1;
    }
    if (s_flush(self, seal, false, status, err, errlen))
        return -1;
    while (chunk_window_count(self->window) && !self->complete)
        if (s_wait_ack(self, status, err, errlen))
            return -1;
    if (!seal || self->complete || chunk_window_seal_sent(self->window))
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
