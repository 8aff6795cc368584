/*  chunk_window — the chunks of a job on their way to the broker: the
    tasks in hand (the next chunk, plus one read ahead), a window of
    SubmitChunk messages in flight, each kept until its answer, and what
    to send again when the broker's committed count is not where the
    window thought (another run with the same key committed first, or a
    new leader answers).

    Shared by `shoal submit` (cli/submit_window.c) and the gateway's
    POST /v1/jobs (gateway/ingest.c). It knows nothing of exit codes,
    HTTP statuses or messages: it reaches the broker through two
    callbacks and returns what happened; deciding what an answer means
    (an ack, a conflict, an error) stays with the caller.

    Ownership: specs given to chunk_window_add belong to the window; a
    chunk's specs are freed when it is popped, dropped or fails to go
    out. Answers returned by chunk_window_answer belong to the caller. */
#ifndef SHOAL_CHUNK_WINDOW_H
#define SHOAL_CHUNK_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shoal.pb-c.h"

#define CHUNK_WINDOW_MAX        64          //  chunks in flight at the most
#define CHUNK_WINDOW_MAX_BYTES  (4u << 20)  //  a chunk goes out once its specs pass this size

//  What a send or a resend returns besides 0.
#define CHUNK_WINDOW_NOMEM   -1     //  out of memory (nothing sent)
#define CHUNK_WINDOW_UNSENT  -2     //  the transport could not send (no connection)

//  Send env to the broker; its correlation id, or 0 when it cannot go out.
typedef uint64_t (chunk_window_send_fn) (void *arg, Shoal__Envelope *env);
//  The next envelope from the broker (any corr), or NULL after timeout_ms
//  (-1: the transport's own timeout). The window frees or keeps it.
typedef Shoal__Envelope *(chunk_window_recv_fn) (void *arg, int timeout_ms);

typedef struct _chunk_window_t chunk_window_t;

//  A window of up to max_window (at most CHUNK_WINDOW_MAX) chunks of
//  chunk_size tasks, over the transport send/recv with `arg` (borrowed).
//  NULL on allocation failure.
chunk_window_t *chunk_window_new(size_t max_window, size_t chunk_size, chunk_window_send_fn *send,
                                 chunk_window_recv_fn *recv, void *arg);
//  Free the window, its chunks in flight and the tasks in hand; NULLs the
//  caller's pointer.
void chunk_window_destroy(chunk_window_t **self_p);
//  The job the chunks go to.
void chunk_window_set_job(chunk_window_t *self, uint32_t job_id);
//  The seq the next chunk starts at (the job's committed count at open).
void chunk_window_start_at(chunk_window_t *self, uint64_t seq);

//  Add a task to the tasks in hand (taken). True when they make a chunk
//  now (more than chunk_size, or more than CHUNK_WINDOW_MAX_BYTES and two
//  or more tasks).
bool chunk_window_add(chunk_window_t *self, Shoal__TaskSpec *spec);
//  Send the tasks in hand as a chunk (sealing the job with it when
//  `seal`); `keep_last` keeps the last one back. The caller made room
//  (chunk_window_full is false). Sends nothing when nothing is left to
//  send. Returns 0, CHUNK_WINDOW_NOMEM (nothing changed) or
//  CHUNK_WINDOW_UNSENT (the chunk's specs are freed).
int chunk_window_flush(chunk_window_t *self, bool seal, bool keep_last);

//  The answer to the chunk at position i of the window (0: the oldest),
//  waiting up to timeout_ms in all (-1: each receive with the transport's
//  own timeout). Answers to other chunks that come first are kept with
//  their chunks; answers to none are freed. NULL when none came in time.
//  The caller owns the answer; the chunk stays in the window.
Shoal__Envelope *chunk_window_answer(chunk_window_t *self, size_t i, int64_t timeout_ms);
//  The answers to the chunks at positions from..count-1, waited for and
//  freed. Returns 0, or -1 when one did not come in time.
int chunk_window_collect(chunk_window_t *self, size_t from, int64_t timeout_ms);
//  Drop the oldest chunk in flight (acked or given up).
void chunk_window_pop(chunk_window_t *self);

//  The broker has `committed` tasks of the job, not what the window sent:
//  drop what is committed and send the rest again from there. `sealed`:
//  the job is complete, everything in flight and in hand is dropped.
//  *beyond: committed tasks past everything sent and in hand (the caller
//  skips them in its input). Returns 0 or CHUNK_WINDOW_UNSENT (the chunks
//  not sent again are freed).
int chunk_window_rebase(chunk_window_t *self, uint64_t committed, bool sealed, uint64_t *beyond);

//  Chunks in flight.
size_t chunk_window_count(const chunk_window_t *self);
//  True when no more chunks may be sent before an answer.
bool chunk_window_full(const chunk_window_t *self);
//  The seq the next chunk starts at.
uint64_t chunk_window_sent(const chunk_window_t *self);
//  The first seq of the oldest chunk in flight (0 when none).
uint64_t chunk_window_first_seq(const chunk_window_t *self);
//  True when a chunk that seals the job is in flight or acked.
bool chunk_window_seal_sent(const chunk_window_t *self);
//  Tasks in hand (not sent yet).
size_t chunk_window_in_hand(const chunk_window_t *self);

#endif
