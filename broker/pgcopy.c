/*  pgcopy — see pgcopy.h. */
#include "pgcopy.h"

#include <stdlib.h>
#include <string.h>

void
pgbuf_free(pgbuf_t *buf)
{
    free(buf->data);
    memset(buf, 0, sizeof *buf);
}

void
pgbuf_clear(pgbuf_t *buf)
{
    buf->len = 0;
    buf->rows = 0;
    buf->oom = false;
}

static bool
s_reserve(pgbuf_t *buf, size_t extra)
{
    if (buf->oom)
        return false;
    if (buf->len + extra <= buf->alloc)
        return true;
    size_t alloc = buf->alloc ? buf->alloc : 4096;
    while (alloc < buf->len + extra)
        alloc *= 2;
    uint8_t *data = realloc(buf->data, alloc);
    if (!data) {
        buf->oom = true;
        return false;
    }
    buf->data = data;
    buf->alloc = alloc;
    return true;
}

void
pgbuf_append(pgbuf_t *buf, const void *data, size_t len)
{
    if (!s_reserve(buf, len))
        return;
    memcpy(buf->data + buf->len, data, len);
    buf->len += len;
}

static void
s_be16(pgbuf_t *buf, uint16_t v)
{
    uint8_t b[2] = { (uint8_t) (v >> 8), (uint8_t) v };
    pgbuf_append(buf, b, 2);
}

static void
s_be32(pgbuf_t *buf, uint32_t v)
{
    uint8_t b[4] = { (uint8_t) (v >> 24), (uint8_t) (v >> 16), (uint8_t) (v >> 8), (uint8_t) v };
    pgbuf_append(buf, b, 4);
}

static void
s_be64(pgbuf_t *buf, uint64_t v)
{
    s_be32(buf, (uint32_t) (v >> 32));
    s_be32(buf, (uint32_t) v);
}

const uint8_t *
pgcopy_header(size_t *len)
{
    static const uint8_t header[19] = {
        'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0,
        0, 0, 0, 0,     //  flags
        0, 0, 0, 0      //  header extension length
    };
    *len = sizeof header;
    return header;
}

const uint8_t *
pgcopy_trailer(size_t *len)
{
    static const uint8_t trailer[2] = { 0xff, 0xff };
    *len = sizeof trailer;
    return trailer;
}

void
pgcopy_row(pgbuf_t *buf, int16_t fields)
{
    s_be16(buf, (uint16_t) fields);
    buf->rows++;
}

void
pgcopy_null(pgbuf_t *buf)
{
    s_be32(buf, 0xffffffffu);
}

void
pgcopy_int2(pgbuf_t *buf, int16_t v)
{
    s_be32(buf, 2);
    s_be16(buf, (uint16_t) v);
}

void
pgcopy_int4(pgbuf_t *buf, int32_t v)
{
    s_be32(buf, 4);
    s_be32(buf, (uint32_t) v);
}

void
pgcopy_int8(pgbuf_t *buf, int64_t v)
{
    s_be32(buf, 8);
    s_be64(buf, (uint64_t) v);
}

void
pgcopy_float8(pgbuf_t *buf, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    s_be32(buf, 8);
    s_be64(buf, bits);
}

void
pgcopy_bool(pgbuf_t *buf, bool v)
{
    uint8_t b = v ? 1 : 0;
    s_be32(buf, 1);
    pgbuf_append(buf, &b, 1);
}

void
pgcopy_text(pgbuf_t *buf, const char *s, size_t len)
{
    s_be32(buf, (uint32_t) len);
    pgbuf_append(buf, s, len);
}

void
pgcopy_cstr(pgbuf_t *buf, const char *s)
{
    if (s)
        pgcopy_text(buf, s, strlen(s));
    else
        pgcopy_null(buf);
}

void
pgcopy_bytea(pgbuf_t *buf, const void *data, size_t len)
{
    s_be32(buf, (uint32_t) len);
    if (len)
        pgbuf_append(buf, data, len);
}

void
pgcopy_timestamptz(pgbuf_t *buf, int64_t unix_us)
{
    if (unix_us == 0)
        pgcopy_null(buf);
    else
        pgcopy_int8(buf, unix_us - PG_EPOCH_OFFSET_US);
}

void
pgcopy_jsonb(pgbuf_t *buf, const char *json)
{
    if (!json) {
        pgcopy_null(buf);
        return;
    }
    size_t len = strlen(json);
    uint8_t version = 1;
    s_be32(buf, (uint32_t) len + 1);
    pgbuf_append(buf, &version, 1);
    pgbuf_append(buf, json, len);
}
