/*  taskspec — validation and interpretation of task specs and job defaults.

    One place decides what a valid task is, so the CLI (which reports
    FILE:LINE errors) and the broker (which must not trust the CLI) agree.
    Every validator writes a message naming the offending field, e.g.
    "http.url: scheme must be http or https".
*/
#ifndef SHOAL_TASKSPEC_H
#define SHOAL_TASKSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shoal.pb-c.h"

//  Limits on task specs (documented in docs/protocol.md).
#define TASKSPEC_MAX_URL        8192
#define TASKSPEC_MAX_HEADERS    100
#define TASKSPEC_MAX_HEADER     8192
#define TASKSPEC_MAX_BODY       (8u << 20)
#define TASKSPEC_MAX_FORM       100
#define TASKSPEC_MAX_ARGV       1024
#define TASKSPEC_MAX_ARG        65536
#define TASKSPEC_MAX_ENV        1024
#define TASKSPEC_MAX_STDIN      (8u << 20)
#define TASKSPEC_MAX_TAG        1024
#define TASKSPEC_MAX_S3_KEY     1024    //  S3's own limit on a key, in bytes
#define TASKSPEC_MAX_TIMEOUT_MS (7u * 24 * 3600 * 1000)
#define TASKSPEC_MAX_ATTEMPTS   1000
#define TASKSPEC_MAX_PACKED     (16u << 20)    //  a task, or a job's defaults, encoded
#define TASKSPEC_MAX_TAIL       (16u << 20)    //  exec.tail_bytes: stdout/stderr kept, from the end
#define TASKSPEC_MAX_OUTPUT     (1u << 20)     //  a handler's output or vars, compact JSON
#define TASKSPEC_MAX_LABELS     16             //  labels a task or job may require

//  Defaults applied when neither the task nor its job says otherwise.
#define TASKSPEC_DEFAULT_TIMEOUT_MS     60000
#define TASKSPEC_DEFAULT_ATTEMPTS       3
#define TASKSPEC_DEFAULT_BACKOFF_MS     1000
#define TASKSPEC_DEFAULT_BACKOFF_MAX_MS 60000
#define TASKSPEC_DEFAULT_JITTER_PCT     20

//  The retry policy of one task after merging task over job over defaults.
typedef struct {
    uint32_t max_attempts;      //  total attempts allowed, >= 1
    uint32_t backoff_ms;        //  first delay
    uint32_t backoff_max_ms;    //  cap
    uint32_t jitter_pct;        //  +/- share of the delay, 0..100
    uint32_t retry_after_max_ms;//  cap on Retry-After (0: the broker's --retry-after-max-ms)
    size_t   retry_status_count;//  0 = the default set (429 and 5xx)
    const uint32_t *retry_status;   //  borrowed from the spec or the job defaults
} retry_policy_t;

//  Validate a task spec; returns 0, or -1 with a message in err.
int taskspec_validate(const Shoal__TaskSpec *spec, char *err, size_t errlen);
//  Validate job defaults; returns 0, or -1 with a message in err.
int taskspec_validate_defaults(const Shoal__JobDefaults *defaults, char *err, size_t errlen);
//  Validate JSON text (NULL is fine): parses, at most max bytes, an object
//  when `object`, storable as jsonb. Returns 0, or -1 naming `field`.
int taskspec_validate_json_text(const char *field, const char *text, bool object, size_t max, char *err,
                                size_t errlen);
//  Validate required labels: key a name, value short text without ',' '=', keys unique.
int taskspec_validate_labels(const char *field, Shoal__Label **labels, size_t n, char *err, size_t errlen);
//  True for a handler or label name: 1..63 of [A-Za-z0-9_.-].
bool taskspec_name_valid(const char *name);
//  Validate a URL (http or https, a host, no spaces); returns 0 or -1 + message.
int taskspec_validate_url(const char *url, char *err, size_t errlen);
//  The task kind of a spec.
Shoal__TaskKind taskspec_kind(const Shoal__TaskSpec *spec);
//  Name of a task kind ("noop", "http", "exec", "handler").
const char *taskspec_kind_name(Shoal__TaskKind kind);
//  Parse a kind name; returns KIND_NONE when unknown.
Shoal__TaskKind taskspec_kind_parse(const char *name);
//  Write a short human description of the target (URL, argv) into buf.
void taskspec_target(const Shoal__TaskSpec *spec, char *buf, size_t size);
//  Write the host key ("example.com:443") of an http spec into buf; "" otherwise.
void taskspec_host(const Shoal__TaskSpec *spec, char *buf, size_t size);
//  Extract the host[:port] of a URL, lowercased, without user info.
void taskspec_url_host(const char *url, char *buf, size_t size);
//  Effective timeout of a task under its job's defaults.
uint32_t taskspec_timeout_ms(const Shoal__TaskSpec *spec, const Shoal__JobDefaults *defaults);
//  Effective retry policy of a task under its job's defaults.
void taskspec_retry_policy(const Shoal__TaskSpec *spec, const Shoal__JobDefaults *defaults,
                           retry_policy_t *policy);
//  Delay before attempt number `next_attempt` (2 = first retry), with jitter
//  drawn from `random01` (0..1).
uint32_t taskspec_backoff_ms(const retry_policy_t *policy, uint32_t next_attempt, double random01);
//  True when an HTTP status is retryable under the policy.
bool taskspec_status_retryable(const retry_policy_t *policy, uint32_t status);

#endif
