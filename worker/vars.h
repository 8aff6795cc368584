/*  vars — pipeline extraction on the worker (docs/pipelines.md).

    A task of a pipeline step carries its extraction rules (TaskSpec.extract,
    JSON). The http executor captures what they may look at — the first
    EXTRACT_MAX_BODY bytes of the body and up to VARS_MAX_HEADERS headers
    of the final response — and, when the response is a success, runs the
    rules: the variables go back in Result.vars, or the result becomes a
    permanent error naming the rule, the status and the body's first bytes.
    Rules are compiled once per step: a small cache keyed by the rules text.
*/
#ifndef SHOAL_WORKER_VARS_H
#define SHOAL_WORKER_VARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "extract.h"
#include "shoal.pb-c.h"

#define VARS_MAX_HEADERS 100    //  response headers kept for header: rules
#define VARS_CACHE       32     //  compiled rule sets kept

//  What one response showed, for extraction (owned buffers).
typedef struct {
    bool     on;                //  the task has rules: capture
    char    *body;
    size_t   body_len, body_cap;
    char    *names[VARS_MAX_HEADERS];
    char    *values[VARS_MAX_HEADERS];
    size_t   n_headers;
} capture_t;

typedef struct _vars_t vars_t;

//  A cache of compiled rule sets; NULL when out of memory.
vars_t *vars_new(void);
//  Destroy; idempotent, NULLs the caller's pointer.
void vars_destroy(vars_t **self_p);
//  Keep body bytes (up to EXTRACT_MAX_BODY); -1 when out of memory.
int capture_body(capture_t *c, const char *data, size_t n);
//  Keep one raw header line; a status line starts a new response.
void capture_header(capture_t *c, const char *line, size_t n);
//  Free what the capture holds.
void capture_free(capture_t *c);
//  Run `rules` on the response and fill r: r->vars (`known`, the task's
//  variables, with the extracted ones over them; a new string the caller
//  frees through *owned) on success, else r becomes a permanent
//  OUTCOME_ERROR whose error (also in *owned) names the failing rule.
void vars_apply(vars_t *self, const char *rules, const char *known, const capture_t *c, uint32_t status,
                const char *url, uint64_t body_total, Shoal__Result *r, char **owned);

#endif
