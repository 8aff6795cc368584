/*  retry — what a result means for its task, and when it runs again.

    classify: ok, failed (permanent error or out of attempts), retried after
    a backoff, requeued at once (aborted by the worker), or dropped (its job
    was cancelled). Backoff: exponential with jitter, capped at the policy's
    backoff_max_ms; a Retry-After from the server may ask for longer, up to
    the Retry-After cap (retry_after_max_ms of the job, else the broker's
    --retry-after-max-ms). The jitter comes from a generator seeded per
    broker run, so two runs do not repeat the same delays. Pure functions:
    tests/unit/test_retry.c. */
#ifndef SHOAL_RETRY_H
#define SHOAL_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shoal.pb-c.h"
#include "taskspec.h"

#define RETRY_AFTER_MAX_DEFAULT_MS 300000    //  5 minutes

typedef enum {
    RETRY_OK,           //  store as ok
    RETRY_FAIL,         //  store as failed
    RETRY_AGAIN,        //  log the attempt, run again after a backoff
    RETRY_REQUEUE,      //  log the attempt (not counted), run again now
    RETRY_DROP          //  nothing to store (the job was cancelled meanwhile)
} retry_verdict_t;

//  The jitter's generator (xorshift64*), one per broker run.
typedef struct {
    uint64_t state;     //  never 0
} retry_rng_t;

//  Seed from the kernel (getrandom); a fixed seed when `seed` is not 0 (tests).
void retry_rng_seed(retry_rng_t *rng, uint64_t seed);
//  The next number in [0, 1).
double retry_rng_next(retry_rng_t *rng);

//  Decide what a result means. `tries_after` counts this attempt against
//  max_attempts. Writes the error text (possibly empty) into error and the
//  attempt row's outcome into *attempt_outcome.
retry_verdict_t retry_classify(const Shoal__Result *r, const retry_policy_t *policy,
                               bool job_cancelled, uint32_t tries_after, char *error,
                               size_t errlen, const char **attempt_outcome);

//  The delay before the next attempt (next_attempt 2 = the first retry):
//  the backoff, or the server's Retry-After (0: none) when it asks for
//  longer, capped at retry_after_cap_ms.
uint32_t retry_delay_ms(const retry_policy_t *policy, uint32_t next_attempt, uint32_t retry_after_ms,
                        uint32_t retry_after_cap_ms, retry_rng_t *rng);

//  True when the result asks its host to slow down (HTTP 429 or 503).
bool retry_is_throttle(const Shoal__Result *r);

#endif
