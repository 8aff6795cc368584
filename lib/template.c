/*  template — `{{name|filter}}` substitution. See template.h. */
#include "template.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"

#define MAX_FILTERS 4

typedef enum { FILTER_JSON, FILTER_URL, FILTER_B64 } filter_t;

typedef struct {
    size_t   lit_off, lit_len;          //  literal text before the reference
    char     name[TEMPLATE_MAX_NAME + 1];   //  "" for the literal tail
    filter_t filters[MAX_FILTERS];
    size_t   n_filters;
} part_t;

struct _template_t {
    char   *text;           //  a copy of the source
    part_t *parts;          //  literal + reference pairs; the last has no name
    size_t  n_parts;
    size_t  n_refs;
};

void
template_destroy(template_t **self_p)
{
    template_t *self = *self_p;
    if (!self)
        return;
    free(self->text);
    free(self->parts);
    free(self);
    *self_p = NULL;
}

static bool
s_name_char(char c, bool first)
{
    return isalpha((unsigned char) c) || c == '_' || (!first && (isdigit((unsigned char) c) || c == '-' || c == '.'));
}

static const char *
s_skip_spaces(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

//  Parse one reference after "{{" at p; returns the position after "}}"
//  or NULL with the message.
static const char *
s_parse_ref(const char *start, const char *p, const char *end, part_t *part, char *err, size_t errlen)
{
    size_t at = (size_t) (p - start) - 2;     //  where the "{{" is
    p = s_skip_spaces(p, end);
    size_t n = 0;
    while (p < end && s_name_char(*p, n == 0)) {
        if (n == TEMPLATE_MAX_NAME) {
            errbuf_set(err, errlen, "at byte %zu: a variable name is longer than %d bytes", at, TEMPLATE_MAX_NAME);
            return NULL;
        }
        part->name[n++] = *p++;
    }
    part->name[n] = 0;
    if (n == 0) {
        errbuf_set(err, errlen, "at byte %zu: '{{' must be followed by a variable name", at);
        return NULL;
    }
    while (true) {
        p = s_skip_spaces(p, end);
        if (end - p >= 2 && p[0] == '}' && p[1] == '}')
            return p + 2;
        if (p < end && *p == '|') {
            p = s_skip_spaces(p + 1, end);
            const char *f = p;
            while (p < end && isalnum((unsigned char) *p))
                p++;
            size_t flen = (size_t) (p - f);
            filter_t which;
            if (flen == 4 && !memcmp(f, "json", 4))     which = FILTER_JSON;
            else if (flen == 3 && !memcmp(f, "url", 3)) which = FILTER_URL;
            else if (flen == 3 && !memcmp(f, "b64", 3)) which = FILTER_B64;
            else {
                errbuf_set(err, errlen, "at byte %zu: unknown filter '%.*s' in {{%s}} (json, url or b64)",
                           (size_t) (f - start), (int) (flen > 20 ? 20 : flen), f, part->name);
                return NULL;
            }
            if (part->n_filters == MAX_FILTERS) {
                errbuf_set(err, errlen, "at byte %zu: more than %d filters", at, MAX_FILTERS);
                return NULL;
            }
            part->filters[part->n_filters++] = which;
            continue;
        }
        errbuf_set(err, errlen, "at byte %zu: {{%s is not closed with }}", at, part->name);
        return NULL;
    }
}

template_t *
template_new(const char *text, size_t n, char *err, size_t errlen)
{
    template_t *self = calloc(1, sizeof *self);
    if (!self || !(self->text = malloc(n + 1))) {
        free(self);
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(self->text, text, n);
    self->text[n] = 0;
    const char *start = self->text, *end = self->text + n, *p = start, *lit = start;
    size_t cap = 0;
    while (true) {
        const char *open = p < end ? memmem(p, (size_t) (end - p), "{{", 2) : NULL;
        while (open && open + 2 < end && open[2] == '{')
            open++;             //  "{{{": the first '{' is literal
        if (cap == self->n_parts) {
            cap = cap ? cap * 2 : 4;
            part_t *parts = realloc(self->parts, cap * sizeof *parts);
            if (!parts) {
                errbuf_set(err, errlen, "out of memory");
                template_destroy(&self);
                return NULL;
            }
            self->parts = parts;
        }
        part_t *part = &self->parts[self->n_parts];
        memset(part, 0, sizeof *part);
        part->lit_off = (size_t) (lit - start);
        if (!open) {
            part->lit_len = (size_t) (end - lit);
            self->n_parts++;
            return self;
        }
        part->lit_len = (size_t) (open - lit);
        p = s_parse_ref(start, open + 2, end, part, err, errlen);
        if (!p) {
            template_destroy(&self);
            return NULL;
        }
        self->n_parts++;
        self->n_refs++;
        lit = p;
    }
}

bool
template_is_literal(const template_t *self)
{
    return self->n_refs == 0;
}

size_t
template_refs(const template_t *self)
{
    return self->n_refs;
}

const char *
template_ref(const template_t *self, size_t i)
{
    return i < self->n_refs ? self->parts[i].name : NULL;
}

typedef struct {
    char  *data;
    size_t len, cap, max;
    bool   over;
} out_t;

static void
s_put(out_t *o, const char *s, size_t n)
{
    if (o->over || o->len + n > o->max) {
        o->over = true;
        return;
    }
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 64;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *d = realloc(o->data, cap);
        if (!d) {
            o->over = true;
            return;
        }
        o->data = d;
        o->cap = cap;
    }
    memcpy(o->data + o->len, s, n);
    o->len += n;
    o->data[o->len] = 0;
}

//  Apply one filter to value (n bytes) into a new buffer; NULL when out of memory.
static char *
s_filter(filter_t f, const char *value, size_t n, size_t *out_len)
{
    if (f == FILTER_JSON) {
        json_t *s = json_stringn(value, n);
        char *j = s ? json_dumps(s, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        json_decref(s);
        if (j)
            *out_len = strlen(j);
        return j;
    }
    if (f == FILTER_URL) {
        char *o = malloc(n * 3 + 1);
        if (!o)
            return NULL;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char) value[i];
            if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
                o[k++] = (char) c;
            else
                k += (size_t) sprintf(o + k, "%%%02X", c);
        }
        o[k] = 0;
        *out_len = k;
        return o;
    }
    char *o = malloc(4 * ((n + 2) / 3) + 1);
    if (!o)
        return NULL;
    *out_len = (size_t) EVP_EncodeBlock((unsigned char *) o, (const unsigned char *) value, (int) n);
    return o;
}

//  The text of one variable: a string as it is, anything else as JSON.
static char *
s_value(json_t *v, size_t *len)
{
    if (json_is_string(v)) {
        *len = json_string_length(v);
        char *s = malloc(*len + 1);
        if (s) {
            memcpy(s, json_string_value(v), *len);
            s[*len] = 0;
        }
        return s;
    }
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (s)
        *len = strlen(s);
    return s;
}

char *
template_render(const template_t *self, json_t *vars, size_t max_out, size_t *len, char *err, size_t errlen)
{
    out_t o = { .max = max_out };
    for (size_t i = 0; i < self->n_parts && !o.over; i++) {
        const part_t *part = &self->parts[i];
        s_put(&o, self->text + part->lit_off, part->lit_len);
        if (!part->name[0])
            continue;
        json_t *v = json_object_get(vars, part->name);
        if (!v) {
            free(o.data);
            errbuf_set(err, errlen, "unknown variable '%s'", part->name);
            return NULL;
        }
        size_t n = 0;
        char *value = s_value(v, &n);
        for (size_t f = 0; value && f < part->n_filters; f++) {
            //  a filter may triple the value: stop before it outgrows the bound
            if (n > max_out) {
                o.over = true;
                break;
            }
            size_t m = 0;
            char *next = s_filter(part->filters[f], value, n, &m);
            free(value);
            value = next;
            n = m;
        }
        if (!value && !o.over) {
            free(o.data);
            errbuf_set(err, errlen, "out of memory");
            return NULL;
        }
        if (value)
            s_put(&o, value, n);
        free(value);
    }
    if (o.over) {
        free(o.data);
        errbuf_set(err, errlen, "output longer than %zu bytes", max_out);
        return NULL;
    }
    if (!o.data)
        o.data = calloc(1, 1);
    if (!o.data)
        errbuf_set(err, errlen, "out of memory");
    if (len)
        *len = o.len;
    return o.data;
}

char *
template_render_text(const char *text, json_t *vars, size_t max_out, char *err, size_t errlen)
{
    template_t *t = template_new(text, strlen(text), err, errlen);
    if (!t)
        return NULL;
    char *out = template_render(t, vars, max_out, NULL, err, errlen);
    template_destroy(&t);
    return out;
}

int
template_check(const char *text, json_t *known, char *err, size_t errlen)
{
    template_t *t = template_new(text, strlen(text), err, errlen);
    if (!t)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < t->n_refs && !rc; i++)
        if (!json_object_get(known, template_ref(t, i)))
            rc = errbuf_set(err, errlen, "unknown variable '%s'", template_ref(t, i));
    template_destroy(&t);
    return rc;
}
