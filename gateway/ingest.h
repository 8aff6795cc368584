/*  ingest — stream task specs into a job: the same chunked, acked,
    idempotent path as `shoal submit`.

    The job is opened by its idempotency key; a key the broker knows gives
    the same job and its committed count, and the caller feeds every task
    from the first again: the ones already committed are dropped, so a
    retried or resumed POST neither doubles nor loses a task. Chunks go out
    with a window in flight, each acked only once committed; a chunk's
    specs are kept until its ack (memory: window x chunk). A conflict
    (another run of the same upload committed first) is resolved by asking
    for the committed count again and going on from there. */
#ifndef GATEWAY_INGEST_H
#define GATEWAY_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"
#include "shoal.pb-c.h"

typedef struct _ingest_t ingest_t;

//  A submitter over `link` (borrowed) for the job `open` describes
//  (borrowed; must live as long as the ingest). NULL on allocation failure.
ingest_t *ingest_new(link_t *link, Shoal__JobOpen *open, size_t chunk, size_t window);
void ingest_destroy(ingest_t **self_p);
//  Open (or find) the job. Returns 0, or -1 with the reason in err and the
//  HTTP status in *status.
int ingest_open(ingest_t *self, int *status, char *err, size_t errlen);
//  Add the next task (taken). Returns 0, or -1 + err/status.
int ingest_add(ingest_t *self, Shoal__TaskSpec *spec, int *status, char *err, size_t errlen);
//  Send what is left and wait for every ack; `seal` seals the job with
//  the last chunk (else it stays open for a resume). Returns 0, or -1.
int ingest_finish(ingest_t *self, bool seal, int *status, char *err, size_t errlen);
uint32_t ingest_job_id(const ingest_t *self);
//  Tasks the broker has committed (as last told).
uint64_t ingest_committed(const ingest_t *self);
//  True when the job existed (same key) when opened.
bool ingest_existed(const ingest_t *self);
//  True when the job was already sealed (an earlier upload completed it).
bool ingest_complete(const ingest_t *self);

#endif
