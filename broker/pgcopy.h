/*  pgcopy — rows in PostgreSQL's binary COPY format.

    The broker writes tasks and results with COPY ... (FORMAT binary): no
    escaping, no parsing on the server, and user data never becomes SQL
    text. A pgbuf_t holds the rows only; pgcopy_header() and pgcopy_trailer()
    frame a stream when it is sent.
*/
#ifndef SHOAL_PGCOPY_H
#define SHOAL_PGCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *data;      //  encoded rows
    size_t   len;       //  bytes used
    size_t   alloc;     //  bytes allocated
    size_t   rows;      //  rows started
    bool     oom;       //  an allocation failed: the buffer is unusable
} pgbuf_t;

//  Release the buffer's memory and reset it.
void pgbuf_free(pgbuf_t *buf);
//  Forget the rows but keep the memory.
void pgbuf_clear(pgbuf_t *buf);
//  Append raw bytes.
void pgbuf_append(pgbuf_t *buf, const void *data, size_t len);

//  The 19-byte signature+flags+extension header of a binary COPY stream.
const uint8_t *pgcopy_header(size_t *len);
//  The 2-byte end-of-data trailer.
const uint8_t *pgcopy_trailer(size_t *len);

//  Start a row of n fields.
void pgcopy_row(pgbuf_t *buf, int16_t fields);
void pgcopy_null(pgbuf_t *buf);
void pgcopy_int2(pgbuf_t *buf, int16_t v);
void pgcopy_int4(pgbuf_t *buf, int32_t v);
void pgcopy_int8(pgbuf_t *buf, int64_t v);
void pgcopy_float8(pgbuf_t *buf, double v);
void pgcopy_bool(pgbuf_t *buf, bool v);
//  text: must be valid UTF-8 (callers sanitize untrusted text first).
void pgcopy_text(pgbuf_t *buf, const char *s, size_t len);
//  text from a C string; NULL writes SQL NULL.
void pgcopy_cstr(pgbuf_t *buf, const char *s);
void pgcopy_bytea(pgbuf_t *buf, const void *data, size_t len);
//  timestamptz from unix microseconds; 0 writes SQL NULL.
void pgcopy_timestamptz(pgbuf_t *buf, int64_t unix_us);
//  jsonb from JSON text; NULL writes SQL NULL.
void pgcopy_jsonb(pgbuf_t *buf, const char *json);

//  Unix microseconds <-> PostgreSQL's epoch (2000-01-01) microseconds.
#define PG_EPOCH_OFFSET_US 946684800000000LL

#endif
