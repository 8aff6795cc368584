/*  input — readers for each input format. See input.h. */
#include "input.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "csvin.h"
#include "errbuf.h"
#include "taskspec.h"
#include "text.h"

#define MAX_RANGES 4

typedef struct {
    const char *text;       //  literal before the range (points into pattern)
    size_t      text_len;
    uint64_t    first, last, step;
    int         width;      //  zero padding, 0 = none
    uint64_t    count;
} range_t;

struct _input_t {
    input_format_t format;
    FILE    *file;
    char    *name;          //  file name (or template) for messages
    size_t   max_line;
    char    *line;          //  current line buffer (max_line + 1)
    uint64_t line_no;
    //  csv
    csvin_t *csv;           //  created at the first read
    char     delimiter;     //  0 = detect from the header
    char    *columns[CSVIN_MAX_FIELDS];
    size_t   n_columns;
    bool     header_read;
    //  template
    char    *pattern;
    range_t  ranges[MAX_RANGES];
    size_t   n_ranges;
    const char *tail;       //  literal after the last range
    uint64_t total;
    uint64_t index;
    //  count
    uint8_t *proto;         //  packed spec copied per task
    size_t   proto_len;
    //  pipelines
    const pipeline_t *pipeline;     //  borrowed; items are variables
    input_range_t range;
};

int
input_format_parse(const char *name)
{
    if (!strcmp(name, "jsonl") || !strcmp(name, "json")) return INPUT_JSONL;
    if (!strcmp(name, "urls") || !strcmp(name, "url"))   return INPUT_URLS;
    if (!strcmp(name, "csv"))                            return INPUT_CSV;
    return -1;
}

input_t *
input_new(input_format_t format, FILE *file, const char *name, size_t max_line)
{
    input_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->format = format;
    self->file = file;
    self->name = strdup(name ? name : "-");
    self->max_line = max_line ? max_line : (1u << 20);
    self->line = malloc(self->max_line + 2);
    if (!self->name || !self->line) {
        input_destroy(&self);
        return NULL;
    }
    return self;
}

void
input_destroy(input_t **self_p)
{
    input_t *self = *self_p;
    if (!self)
        return;
    free(self->name);
    free(self->line);
    free(self->pattern);
    free(self->proto);
    csvin_destroy(&self->csv);
    for (size_t i = 0; i < self->n_columns; i++)
        free(self->columns[i]);
    free(self);
    *self_p = NULL;
}

void
input_set_pipeline(input_t *self, const pipeline_t *p)
{
    self->pipeline = p;
}

input_t *
input_new_range(const input_range_t *r)
{
    input_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->format = INPUT_RANGE;
    self->range = *r;
    self->total = r->count;
    self->name = strdup("range");
    if (!self->name)
        input_destroy(&self);
    return self;
}

//  The next item of a range.
static int
s_next_range(input_t *self, Shoal__TaskSpec **spec, char *err, size_t errlen)
{
    if (self->index >= self->total)
        return 0;
    char value[32];
    snprintf(value, sizeof value, "%0*llu", self->range.width,
             (unsigned long long) (self->range.first + self->index * self->range.step));
    self->line_no = ++self->index;
    json_t *vars = json_pack("{s:s}", self->range.name, value);
    int rc = vars ? input_item_spec(self->pipeline, vars, "range", self->line_no, spec, err, errlen)
                  : errbuf_set(err, errlen, "out of memory");
    json_decref(vars);
    return rc;
}

void
input_set_csv_delimiter(input_t *self, char delimiter)
{
    self->delimiter = delimiter;
}

uint64_t
input_line(const input_t *self)
{
    return self->line_no;
}

uint64_t
input_total(const input_t *self)
{
    return self->format == INPUT_TEMPLATE || self->format == INPUT_COUNT || self->format == INPUT_RANGE
           ? self->total : 0;
}

//  Read one line into self->line (without the newline). Returns its length,
//  -1 at end of input, -2 on an I/O error, -3 when the line is too long (the
//  rest of it is skipped).
static long
s_read_line(input_t *self)
{
    size_t n = 0;
    bool too_long = false;
    int ch;
    while ((ch = getc(self->file)) != EOF) {
        if (ch == '\n')
            break;
        if (n < self->max_line)
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
    return (long) n;
}

static bool
s_blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == 0 || *s == '#';
}

//  Check the header's column names once, at line 1: task fields, or
//  header:NAME / header.NAME with a valid header name.
static int
s_csv_header(input_t *self, char **fields, size_t n, char *err, size_t errlen)
{
    unsigned long long no = (unsigned long long) self->line_no;
    for (size_t i = 0; i < n; i++) {
        const char *col = fields[i];
        char inner[512];
        if (!text_utf8_valid(col, strlen(col)))
            return errbuf_set(err, errlen, "%s:%llu: column %zu: not valid UTF-8", self->name, no, i + 1);
        if (self->pipeline) {
            //  a pipeline's columns are variable names
            json_t *probe = json_pack("{s:s}", col, "");
            bool ok = probe && *col && strlen(col) <= 64 && (isalpha((unsigned char) *col) || *col == '_')
                   && strspn(col, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == strlen(col);
            json_decref(probe);
            if (!ok)
                return errbuf_set(err, errlen, "%s:%llu: column %zu: '%s' is not a variable name (letters,"
                                  " digits, _ - ., not starting with a digit)", self->name, no, i + 1, col);
        }
        else
        if (strncmp(col, "header:", 7) == 0 || strncmp(col, "header.", 7) == 0) {
            //  the same rules as a task's header: build one and validate it
            json_t *probe = json_pack("{s:s, s:{s:s}}", "url", "http://h/", "headers", col + 7, "v");
            Shoal__TaskSpec *spec = probe ? input_task_from_json(probe, true, inner, sizeof inner) : NULL;
            json_decref(probe);
            if (!spec)
                return errbuf_set(err, errlen, "%s:%llu: column %zu: %s", self->name, no, i + 1, inner);
            shoal__task_spec__free_unpacked(spec, NULL);
        }
        else
        if (!input_field_known(col))
            return errbuf_set(err, errlen, "%s:%llu: unknown field '%s' (column %zu)", self->name, no,
                              col, i + 1);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(fields[j], col))
                return errbuf_set(err, errlen, "%s:%llu: column '%s' appears twice", self->name, no, col);
    }
    for (size_t i = 0; i < n; i++) {
        self->columns[i] = strdup(fields[i]);
        if (!self->columns[i])
            return errbuf_set(err, errlen, "out of memory");
        self->n_columns = i + 1;
    }
    return 0;
}

//  One CSV row to a task spec.
static int
s_csv_row(input_t *self, char **fields, size_t n, Shoal__TaskSpec **spec, char *err, size_t errlen)
{
    unsigned long long no = (unsigned long long) self->line_no;
    if (n != self->n_columns)
        return errbuf_set(err, errlen, "%s:%llu: %zu columns, the header has %zu", self->name, no, n,
                          self->n_columns);
    json_t *obj = json_object();
    json_t *headers = NULL;
    if (self->pipeline) {
        //  a pipeline item: every cell is a variable (empty ones too)
        for (size_t i = 0; i < n; i++) {
            if (!text_utf8_valid(fields[i], strlen(fields[i]))) {
                json_decref(obj);
                return errbuf_set(err, errlen, "%s:%llu: column '%s': not valid UTF-8", self->name, no,
                                  self->columns[i]);
            }
            json_object_set_new(obj, self->columns[i], json_string(fields[i]));
        }
        int rc = input_item_spec(self->pipeline, obj, self->name, self->line_no, spec, err, errlen);
        json_decref(obj);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        const char *col = self->columns[i];
        if (!*fields[i])
            continue;       //  empty cell: the field is not set
        if (!text_utf8_valid(fields[i], strlen(fields[i]))) {
            json_decref(obj);
            json_decref(headers);
            return errbuf_set(err, errlen, "%s:%llu: column '%s': not valid UTF-8", self->name, no, col);
        }
        if (strncmp(col, "header:", 7) == 0 || strncmp(col, "header.", 7) == 0) {
            if (!headers)
                headers = json_object();
            json_object_set_new(headers, col + 7, json_string(fields[i]));
        }
        else
            json_object_set_new(obj, col, json_string(fields[i]));
    }
    if (headers)
        json_object_set_new(obj, "headers", headers);
    char inner[512];
    *spec = input_task_from_json(obj, true, inner, sizeof inner);
    json_decref(obj);
    if (!*spec)
        return errbuf_set(err, errlen, "%s:%llu: %s", self->name, no, inner);
    return 1;
}

//  The next CSV task: the header first (its errors at its own line), then
//  one task per row.
static int
s_next_csv(input_t *self, Shoal__TaskSpec **spec, char *err, size_t errlen)
{
    if (!self->csv) {
        self->csv = csvin_new(self->file, self->name, self->max_line, self->delimiter);
        if (!self->csv) {
            errbuf_set(err, errlen, "out of memory");
            return -2;
        }
    }
    while (true) {
        char **fields;
        size_t n;
        int rc = csvin_next(self->csv, &fields, &n, err, errlen);
        self->line_no = csvin_line(self->csv);
        if (rc != 1)
            return rc;
        if (self->header_read)
            return s_csv_row(self, fields, n, spec, err, errlen);
        if (s_csv_header(self, fields, n, err, errlen))
            return -2;          //  no row can be read without its header
        self->header_read = true;
    }
}

static int
s_parse_line(input_t *self, char *line, size_t len, Shoal__TaskSpec **spec, char *err, size_t errlen)
{
    char inner[512];
    unsigned long long no = (unsigned long long) self->line_no;
    if (!text_utf8_valid(line, len))
        return errbuf_set(err, errlen, "%s:%llu: not valid UTF-8", self->name, no);
    switch (self->format) {
        case INPUT_JSONL: {
            json_error_t jerr;
            json_t *obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
            if (!obj)
                return errbuf_set(err, errlen, "%s:%llu: bad JSON at column %d: %s", self->name, no,
                              jerr.column, jerr.text);
            if (self->pipeline || (json_is_object(obj) && input_item_has_steps(obj, false))) {
                //  a pipeline item: an object of variables, or one with its
                //  own vars and steps (in a plain job too)
                int rc = input_item_line(self->pipeline, obj, self->name, self->line_no, spec, err, errlen);
                json_decref(obj);
                return rc;
            }
            *spec = input_task_from_json(obj, false, inner, sizeof inner);
            json_decref(obj);
            if (!*spec)
                return errbuf_set(err, errlen, "%s:%llu: %s", self->name, no, inner);
            return 1;
        }
        case INPUT_URLS: {
            while (*line == ' ' || *line == '\t')
                line++;
            size_t n = strlen(line);
            while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
                line[--n] = 0;
            if (taskspec_validate_url(line, inner, sizeof inner))
                return errbuf_set(err, errlen, "%s:%llu: %s", self->name, no, inner);
            Shoal__TaskSpec *s = calloc(1, sizeof *s);
            Shoal__HttpSpec *h = calloc(1, sizeof *h);
            char *url = strdup(line);
            if (!s || !h || !url) {
                free(s); free(h); free(url);
                return errbuf_set(err, errlen, "out of memory");
            }
            shoal__task_spec__init(s);
            shoal__http_spec__init(h);
            h->url = url;
            s->http = h;
            s->kind_case = SHOAL__TASK_SPEC__KIND_HTTP;
            *spec = s;
            return 1;
        }
        default:
            return errbuf_set(err, errlen, "internal: not a line format");
    }
}

static void
s_format_range(char *buf, size_t size, const range_t *r, uint64_t value)
{
    snprintf(buf, size, "%0*llu", r->width, (unsigned long long) value);
}

static int
s_next_template(input_t *self, Shoal__TaskSpec **spec, char *err, size_t errlen)
{
    if (self->index >= self->total)
        return 0;
    //  mixed-radix digits of index: the last range varies fastest
    uint64_t rest = self->index++;
    uint64_t values[MAX_RANGES];
    for (size_t i = self->n_ranges; i-- > 0; ) {
        const range_t *r = &self->ranges[i];
        values[i] = r->first + (rest % r->count) * r->step;
        rest /= r->count;
    }
    char url[TASKSPEC_MAX_URL + 1];
    size_t o = 0;
    for (size_t i = 0; i < self->n_ranges && o < sizeof url; i++) {
        const range_t *r = &self->ranges[i];
        int w = snprintf(url + o, sizeof url - o, "%.*s", (int) r->text_len, r->text);
        o += w > 0 ? (size_t) w : 0;
        if (o < sizeof url) {
            s_format_range(url + o, sizeof url - o, r, values[i]);
            o += strlen(url + o);
        }
    }
    if (o < sizeof url)
        o += (size_t) snprintf(url + o, sizeof url - o, "%s", self->tail);
    self->line_no = self->index;
    if (o >= sizeof url - 1)
        return errbuf_set(err, errlen, "template task %llu: URL longer than %d bytes",
                      (unsigned long long) self->index, TASKSPEC_MAX_URL);
    char inner[512];
    if (taskspec_validate_url(url, inner, sizeof inner))
        return errbuf_set(err, errlen, "template task %llu: %s", (unsigned long long) self->index, inner);
    Shoal__TaskSpec *s = calloc(1, sizeof *s);
    Shoal__HttpSpec *h = calloc(1, sizeof *h);
    char *u = strdup(url);
    if (!s || !h || !u) {
        free(s); free(h); free(u);
        return errbuf_set(err, errlen, "out of memory");
    }
    shoal__task_spec__init(s);
    shoal__http_spec__init(h);
    h->url = u;
    s->http = h;
    s->kind_case = SHOAL__TASK_SPEC__KIND_HTTP;
    *spec = s;
    return 1;
}

input_t *
input_new_template(const char *pattern, char *err, size_t errlen)
{
    input_t *self = calloc(1, sizeof *self);
    if (!self || !(self->pattern = strdup(pattern)) || !(self->name = strdup("template"))) {
        if (self)
            input_destroy(&self);
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    self->format = INPUT_TEMPLATE;
    const char *p = self->pattern;
    const char *lit = p;
    self->total = 1;
    while ((p = strchr(p, '{'))) {
        //  {FIRST..LAST} or {FIRST..LAST..STEP}; FIRST with leading zeros pads
        const char *close = strchr(p, '}');
        if (!close)
            break;
        char body[64];
        size_t blen = (size_t) (close - p - 1);
        if (blen >= sizeof body) {
            p++;
            continue;
        }
        memcpy(body, p + 1, blen);
        body[blen] = 0;
        char *dots = strstr(body, "..");
        if (!dots || !isdigit((unsigned char) body[0])) {
            p++;
            continue;
        }
        if (self->n_ranges == MAX_RANGES) {
            errbuf_set(err, errlen, "template: at most %d ranges", MAX_RANGES);
            input_destroy(&self);
            return NULL;
        }
        range_t *r = &self->ranges[self->n_ranges];
        char *end;
        errno = 0;
        r->first = strtoull(body, &end, 10);
        bool ok = end == dots && !errno;
        r->width = body[0] == '0' && dots - body > 1 ? (int) (dots - body) : 0;
        //  digits only: strtoull would take "-1" for 2^64 - 1
        char *second = dots + 2;
        r->last = strtoull(second, &end, 10);
        ok = ok && isdigit((unsigned char) *second) && !errno;
        r->step = 1;
        if (ok && strncmp(end, "..", 2) == 0) {
            char *third = end + 2;
            r->step = strtoull(third, &end, 10);
            ok = isdigit((unsigned char) *third) && !errno && r->step > 0;
        }
        ok = ok && *end == 0;
        if (!ok || r->last < r->first) {
            errbuf_set(err, errlen, "template: bad range '{%s}' (use {FIRST..LAST} or {FIRST..LAST..STEP},"
                   " FIRST <= LAST)", body);
            input_destroy(&self);
            return NULL;
        }
        //  {0..18446744073709551615} holds 2^64 values: count would wrap to 0
        uint64_t span = (r->last - r->first) / r->step;
        if (span == UINT64_MAX) {
            errbuf_set(err, errlen, "template: too many tasks");
            input_destroy(&self);
            return NULL;
        }
        r->count = span + 1;
        r->text = lit;
        r->text_len = (size_t) (p - lit);
        if (self->total > UINT64_MAX / r->count) {
            errbuf_set(err, errlen, "template: too many tasks");
            input_destroy(&self);
            return NULL;
        }
        self->total *= r->count;
        self->n_ranges++;
        p = close + 1;
        lit = p;
    }
    if (self->n_ranges == 0) {
        errbuf_set(err, errlen, "template: no range like {1..100} in '%.80s'", pattern);
        input_destroy(&self);
        return NULL;
    }
    self->tail = lit;
    if (self->total > 0x7fffffffULL) {
        errbuf_set(err, errlen, "template: %llu tasks, a job holds at most 2147483647",
               (unsigned long long) self->total);
        input_destroy(&self);
        return NULL;
    }
    //  the first URL must be valid, or all are not
    char inner[512];
    Shoal__TaskSpec *first = NULL;
    if (s_next_template(self, &first, inner, sizeof inner) != 1) {
        errbuf_set(err, errlen, "%s", inner);
        input_destroy(&self);
        return NULL;
    }
    shoal__task_spec__free_unpacked(first, NULL);
    self->index = 0;
    self->line_no = 0;
    return self;
}

input_t *
input_new_count(uint64_t count, const Shoal__TaskSpec *proto)
{
    input_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->format = INPUT_COUNT;
    self->total = count;
    self->name = strdup("count");
    self->proto_len = shoal__task_spec__get_packed_size(proto);
    self->proto = malloc(self->proto_len ? self->proto_len : 1);
    if (!self->name || !self->proto) {
        input_destroy(&self);
        return NULL;
    }
    shoal__task_spec__pack(proto, self->proto);
    return self;
}

int
input_next(input_t *self, Shoal__TaskSpec **spec, char *err, size_t errlen)
{
    *spec = NULL;
    if (self->format == INPUT_TEMPLATE)
        return s_next_template(self, spec, err, errlen);
    if (self->format == INPUT_CSV)
        return s_next_csv(self, spec, err, errlen);
    if (self->format == INPUT_RANGE)
        return s_next_range(self, spec, err, errlen);
    if (self->format == INPUT_COUNT) {
        if (self->index >= self->total)
            return 0;
        self->index++;
        self->line_no = self->index;
        *spec = shoal__task_spec__unpack(NULL, self->proto_len, self->proto);
        if (*spec)
            return 1;
        errbuf_set(err, errlen, "out of memory");
        return -2;
    }
    while (true) {
        long len = s_read_line(self);
        if (len == -1)
            return 0;
        if (len == -2) {
            errbuf_set(err, errlen, "%s: read error: %s", self->name, strerror(errno));
            return -2;
        }
        if (len == -3) {
            errbuf_set(err, errlen, "%s:%llu: line longer than %zu bytes", self->name,
                   (unsigned long long) self->line_no, self->max_line);
            return -1;
        }
        //  text input holds no NUL: a line with one is an error, never a
        //  blank line (C strings would end at it)
        const char *nul = memchr(self->line, 0, (size_t) len);
        if (nul) {
            errbuf_set(err, errlen, "%s:%llu: a NUL byte at column %zu (text input cannot hold one)",
                       self->name, (unsigned long long) self->line_no, (size_t) (nul - self->line) + 1);
            return -1;
        }
        if (s_blank(self->line))
            continue;
        return s_parse_line(self, self->line, (size_t) len, spec, err, errlen);
    }
}

uint64_t
input_skip(input_t *self, uint64_t n)
{
    uint64_t skipped = 0;
    if (self->format == INPUT_TEMPLATE || self->format == INPUT_COUNT || self->format == INPUT_RANGE) {
        uint64_t left = self->total - self->index;
        skipped = n < left ? n : left;
        self->index += skipped;
        self->line_no = self->index;
        return skipped;
    }
    char err[512];
    while (skipped < n) {
        Shoal__TaskSpec *spec = NULL;
        int rc = input_next(self, &spec, err, sizeof err);
        if (rc == 0 || rc == -2)
            break;
        if (rc == 1) {
            shoal__task_spec__free_unpacked(spec, NULL);
            skipped++;
        }
    }
    return skipped;
}
