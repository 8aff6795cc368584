/*  retry — see retry.h. */
#include "retry.h"

#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void
retry_rng_seed(retry_rng_t *rng, uint64_t seed)
{
    if (!seed && getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t) sizeof seed) {
        //  no entropy yet (early boot): time and pid still differ per run
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = ((uint64_t) ts.tv_sec * 1000000007ULL) ^ (uint64_t) ts.tv_nsec ^ ((uint64_t) getpid() << 32);
    }
    rng->state = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

double
retry_rng_next(retry_rng_t *rng)
{
    uint64_t x = rng->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng->state = x;
    //  the top 53 bits as a double in [0, 1)
    return (double) ((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

retry_verdict_t
retry_classify(const Shoal__Result *r, const retry_policy_t *policy, bool job_cancelled,
               uint32_t tries_after, char *error, size_t errlen, const char **attempt_outcome)
{
    error[0] = 0;
    if (r->error)
        snprintf(error, errlen, "%s", r->error);
    switch (r->outcome) {
        case SHOAL__OUTCOME__OUTCOME_OK:
            if (r->http && r->http->has_status) {
                uint32_t status = r->http->status;
                bool retryable = taskspec_status_retryable(policy, status);
                if ((retryable || status >= 400) && !error[0])
                    snprintf(error, errlen, "HTTP %u", status);
                if (retryable) {
                    *attempt_outcome = "http_error";
                    break;
                }
                if (status >= 400)
                    return RETRY_FAIL;
            }
            return RETRY_OK;
        case SHOAL__OUTCOME__OUTCOME_ERROR:
            *attempt_outcome = "error";
            if (r->has_permanent && r->permanent)
                return RETRY_FAIL;      //  too many redirects, TLS verification, a missing file
            break;
        case SHOAL__OUTCOME__OUTCOME_TIMEOUT:
            *attempt_outcome = "timeout";
            if (!error[0])
                snprintf(error, errlen, "timed out");
            break;
        case SHOAL__OUTCOME__OUTCOME_CANCELLED:
            if (job_cancelled)
                return RETRY_DROP;
            *attempt_outcome = "aborted";
            return RETRY_REQUEUE;
        case SHOAL__OUTCOME__OUTCOME_REJECTED:
        default:
            if (!error[0])
                snprintf(error, errlen, "rejected by the worker");
            return RETRY_FAIL;
    }
    //  retryable; out of attempts, the last error stands
    return tries_after < policy->max_attempts ? RETRY_AGAIN : RETRY_FAIL;
}

uint32_t
retry_delay_ms(const retry_policy_t *policy, uint32_t next_attempt, uint32_t retry_after_ms,
               uint32_t retry_after_cap_ms, retry_rng_t *rng)
{
    uint32_t delay = taskspec_backoff_ms(policy, next_attempt, retry_rng_next(rng));
    if (retry_after_ms > retry_after_cap_ms)
        retry_after_ms = retry_after_cap_ms;
    return retry_after_ms > delay ? retry_after_ms : delay;
}

bool
retry_is_throttle(const Shoal__Result *r)
{
    return r->http && r->http->has_status && (r->http->status == 429 || r->http->status == 503);
}
