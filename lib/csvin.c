/*  csvin — CSV records through libcsv. See csvin.h.

    Physical lines are read here (so each record knows its first line) and
    fed to libcsv with their line end; libcsv does the quoting. The raw
    lines of the record in progress are kept (bounded by max_record): when
    the record turns out bad, the lines after its first are read again, so
    a stray quote costs one record, not the rest of the file. */
#include "csvin.h"

#include <csv.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"

typedef struct {
    char  *data;
    size_t len;
    size_t cap;
} buf_t;

struct _csvin_t {
    FILE    *file;          //  borrowed
    char    *name;          //  for messages
    size_t   max_record;    //  bytes of one record (and of one line)
    char     delimiter;     //  0 until detected
    struct csv_parser parser;
    bool     parser_ready;  //  csv_init done
    char    *line;          //  current physical line (max_record + 1)
    uint64_t line_no;       //  lines read so far
    uint64_t start_line;    //  first line of the record in progress
    bool     first_line;    //  the next line is the file's first (BOM, delimiter)
    buf_t    raw;           //  raw lines of the record in progress, '\n'-joined
    buf_t    replay;        //  lines to read again before the file
    size_t   replay_pos;
    buf_t    arena;         //  field text of the record, NUL-terminated each
    size_t   offsets[CSVIN_MAX_FIELDS];
    char    *fields[CSVIN_MAX_FIELDS];
    size_t   n_fields;
    bool     too_many;      //  more than CSVIN_MAX_FIELDS fields
    bool     too_big;       //  field text beyond max_record
    bool     row_done;      //  libcsv ended a row
};

//  Append n bytes to b, growing it; -1 when out of memory.
static int
s_buf_add(buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return -1;
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

//  libcsv field callback: copy the field into the arena.
static void
s_on_field(void *s, size_t len, void *data)
{
    csvin_t *self = data;
    if (self->n_fields == CSVIN_MAX_FIELDS) {
        self->too_many = true;
        return;
    }
    if (self->arena.len + len + 1 > self->max_record + CSVIN_MAX_FIELDS) {
        self->too_big = true;
        return;
    }
    self->offsets[self->n_fields++] = self->arena.len;
    if (s_buf_add(&self->arena, s ? s : "", s ? len : 0))
        self->too_big = true;
    else
        self->arena.len++;      //  keep the NUL s_buf_add wrote
}

//  libcsv row callback.
static void
s_on_row(int c, void *data)
{
    csvin_t *self = data;
    self->row_done = true;
}

//  Keep spaces around unquoted fields: they are part of the value.
static int
s_no_space(unsigned char c)
{
    return 0;
}

static int
s_parser_reset(csvin_t *self)
{
    if (self->parser_ready)
        csv_free(&self->parser);
    self->parser_ready = false;
    if (csv_init(&self->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return -1;
    csv_set_delim(&self->parser, (unsigned char) (self->delimiter ? self->delimiter : ','));
    csv_set_space_func(&self->parser, s_no_space);
    self->parser_ready = true;
    self->n_fields = 0;
    self->arena.len = 0;
    self->too_many = self->too_big = self->row_done = false;
    self->raw.len = 0;
    return 0;
}

csvin_t *
csvin_new(FILE *file, const char *name, size_t max_record, char delimiter)
{
    csvin_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->file = file;
    self->name = strdup(name ? name : "-");
    self->max_record = max_record ? max_record : (1u << 20);
    self->delimiter = delimiter;
    self->first_line = true;
    self->line = malloc(self->max_record + 2);
    if (!self->name || !self->line || s_parser_reset(self)) {
        csvin_destroy(&self);
        return NULL;
    }
    return self;
}

void
csvin_destroy(csvin_t **self_p)
{
    csvin_t *self = *self_p;
    if (!self)
        return;
    if (self->parser_ready)
        csv_free(&self->parser);
    free(self->name);
    free(self->line);
    free(self->raw.data);
    free(self->replay.data);
    free(self->arena.data);
    free(self);
    *self_p = NULL;
}

uint64_t
csvin_line(const csvin_t *self)
{
    return self->start_line;
}

char
csvin_delimiter(const csvin_t *self)
{
    return self->delimiter ? self->delimiter : ',';
}

//  Next byte from the replay buffer, then the file; EOF at the end.
static int
s_getc(csvin_t *self)
{
    if (self->replay_pos < self->replay.len)
        return (unsigned char) self->replay.data[self->replay_pos++];
    return getc(self->file);
}

//  Read one physical line into self->line (no line end). Returns its
//  length, -1 at the end, -2 on an I/O error, -3 when longer than
//  max_record (the rest of the line is skipped).
static long
s_read_line(csvin_t *self)
{
    size_t n = 0;
    bool too_long = false;
    int ch;
    while ((ch = s_getc(self)) != EOF) {
        if (ch == '\n')
            break;
        if (n < self->max_record)
            self->line[n++] = (char) ch;
        else
            too_long = true;
    }
    if (ch == EOF) {
        if (ferror(self->file))
            return -2;
        if (n == 0 && !too_long)
            return -1;
    }
    self->line_no++;
    if (too_long)
        return -3;
    if (n && self->line[n - 1] == '\r')
        n--;
    self->line[n] = 0;
    if (self->first_line) {
        self->first_line = false;
        if (n >= 3 && !memcmp(self->line, "\xEF\xBB\xBF", 3)) {
            memmove(self->line, self->line + 3, n - 2);
            n -= 3;
        }
    }
    return (long) n;
}

//  The most frequent of , ; tab outside quotes in the line; ',' if none.
static char
s_detect(const char *line, size_t n)
{
    size_t comma = 0, semi = 0, tab = 0;
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        if (line[i] == '"')
            quoted = !quoted;
        else
        if (!quoted) {
            comma += line[i] == ',';
            semi += line[i] == ';';
            tab += line[i] == '\t';
        }
    }
    if (semi > comma && semi >= tab)
        return ';';
    if (tab > comma && tab > semi)
        return '\t';
    return ',';
}

//  The record in progress is bad: read the lines after its first again,
//  then start a new record. Returns -1 with the message, or -2.
static int
s_bad_record(csvin_t *self, const char *current, long current_len, char *err, size_t errlen,
             const char *why)
{
    char msg[256];
    snprintf(msg, sizeof msg, "%s:%llu: %s", self->name, (unsigned long long) self->start_line, why);
    buf_t again = { 0 };
    const char *nl = self->raw.len ? memchr(self->raw.data, '\n', self->raw.len) : NULL;
    int rc = 0;
    if (nl)
        rc |= s_buf_add(&again, nl + 1, self->raw.len - (size_t) (nl + 1 - self->raw.data));
    if (current && current_len >= 0) {
        rc |= s_buf_add(&again, current, (size_t) current_len);
        rc |= s_buf_add(&again, "\n", 1);
    }
    rc |= s_buf_add(&again, self->replay.data ? self->replay.data + self->replay_pos : "",
                    self->replay.len - self->replay_pos);
    free(self->replay.data);
    self->replay = again;
    self->replay_pos = 0;
    //  the lines read again keep their numbers
    self->line_no = self->start_line;
    if (rc || s_parser_reset(self)) {
        errbuf_set(err, errlen, "%s: out of memory", self->name);
        return -2;
    }
    errbuf_set(err, errlen, "%s", msg);
    return -1;
}

//  The record is complete: point the fields into the arena.
static int
s_finish(csvin_t *self, char ***fields, size_t *n_fields, char *err, size_t errlen)
{
    if (self->too_many || self->too_big) {
        bool many = self->too_many;
        self->row_done = false;
        self->raw.len = 0;          //  the whole record was read: nothing to read again
        return s_bad_record(self, NULL, -1, err, errlen,
                            many ? "more than 256 fields" : "record longer than the line limit");
    }
    for (size_t i = 0; i < self->n_fields; i++)
        self->fields[i] = self->arena.data + self->offsets[i];
    *fields = self->fields;
    *n_fields = self->n_fields;
    self->row_done = false;
    self->raw.len = 0;
    return 1;
}

int
csvin_next(csvin_t *self, char ***fields, size_t *n_fields, char *err, size_t errlen)
{
    *fields = NULL;
    *n_fields = 0;
    //  a new record: fresh field storage
    self->n_fields = 0;
    self->arena.len = 0;
    self->raw.len = 0;
    self->too_many = self->too_big = self->row_done = false;
    bool in_record = false;
    while (true) {
        long len = s_read_line(self);
        if (len == -2) {
            errbuf_set(err, errlen, "%s: read error: %s", self->name, strerror(errno));
            return -2;
        }
        if (len == -1) {
            if (!in_record)
                return 0;
            if (csv_fini(&self->parser, s_on_field, s_on_row, self) != 0)
                return s_bad_record(self, NULL, -1, err, errlen, "not valid CSV: a quoted field is never closed");
            if (self->row_done)
                return s_finish(self, fields, n_fields, err, errlen);
            return 0;
        }
        if (!in_record) {
            if (len == 0)
                continue;           //  blank line
            self->start_line = self->line_no;
        }
        if (len == -3) {
            if (!in_record) {
                return errbuf_set(err, errlen, "%s:%llu: line longer than %zu bytes", self->name,
                                  (unsigned long long) self->line_no, self->max_record);
            }
            return s_bad_record(self, NULL, -1, err, errlen, "record longer than the line limit");
        }
        const char *nul = memchr(self->line, 0, (size_t) len);
        if (nul) {
            //  a field would end at it: the line is an error, never a shorter field
            char why[96];
            snprintf(why, sizeof why, "a NUL byte at column %zu (text input cannot hold one)",
                     (size_t) (nul - self->line) + 1);
            if (in_record)
                return s_bad_record(self, NULL, -1, err, errlen, why);
            return errbuf_set(err, errlen, "%s:%llu: %s", self->name, (unsigned long long) self->line_no, why);
        }
        if (!self->delimiter) {
            self->delimiter = s_detect(self->line, (size_t) len);
            csv_set_delim(&self->parser, (unsigned char) self->delimiter);
        }
        if (in_record && self->raw.len + (size_t) len + 1 > self->max_record)
            return s_bad_record(self, self->line, len, err, errlen, "record longer than the line limit");
        if (s_buf_add(&self->raw, self->line, (size_t) len) || s_buf_add(&self->raw, "\n", 1)) {
            errbuf_set(err, errlen, "%s: out of memory", self->name);
            return -2;
        }
        in_record = true;
        self->line[len] = '\n';
        size_t fed = csv_parse(&self->parser, self->line, (size_t) len + 1, s_on_field, s_on_row, self);
        if (fed < (size_t) len + 1) {
            int e = csv_error(&self->parser);
            return s_bad_record(self, NULL, -1, err, errlen,
                                e == CSV_EPARSE ? "not valid CSV: a quote inside an unquoted field,"
                                                  " or text after a closing quote"
                                                : "not valid CSV: out of memory");
        }
        if (self->row_done)
            return s_finish(self, fields, n_fields, err, errlen);
    }
}
