/*  schema_rows — one binary COPY row of each table the broker streams into
    (tasks, results, attempts), beside the schema whose column order they
    follow (schema.c). A change of columns changes both files. */
#ifndef SHOAL_SCHEMA_ROWS_H
#define SHOAL_SCHEMA_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgcopy.h"
#include "shoal.pb-c.h"

//  Longest error text stored (results.error, attempts.error), in bytes.
#define SCHEMA_ROWS_MAX_ERROR 4096

//  A tasks row: (job_id, seq, kind, target, spec, pipeline); pipeline is
//  an item's own steps (JSON text) or NULL.
void schema_rows_task(pgbuf_t *b, uint32_t job_id, uint32_t seq, const char *kind, const char *target,
                      const uint8_t *spec, size_t spec_len, const char *pipeline);
//  A results row from a worker's result `r` (may be NULL: no detail).
void schema_rows_result(pgbuf_t *b, uint32_t job_id, uint32_t seq, const char *outcome, uint32_t attempt,
                        const char *worker, const char *error, const Shoal__Result *r);
//  An attempts row; 0 for http_status or a time writes NULL.
void schema_rows_attempt(pgbuf_t *b, uint32_t job_id, uint32_t seq, uint32_t attempt, const char *worker,
                         const char *outcome, const char *error, uint32_t http_status, int64_t started_us,
                         int64_t finished_us, int64_t retry_at_us, bool counted);

#endif
