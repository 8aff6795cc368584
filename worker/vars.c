/*  vars — pipeline extraction on the worker. See vars.h. */
#include "vars.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

typedef struct {
    char      *rules;       //  the rules text (key)
    extract_t *compiled;    //  NULL: not valid (error kept)
    char      *error;
} entry_t;

struct _vars_t {
    entry_t  entries[VARS_CACHE];
    size_t   next;          //  round-robin victim
};

vars_t *
vars_new(void)
{
    return calloc(1, sizeof(vars_t));
}

static void
s_entry_free(entry_t *e)
{
    free(e->rules);
    free(e->error);
    extract_destroy(&e->compiled);
    memset(e, 0, sizeof *e);
}

void
vars_destroy(vars_t **self_p)
{
    vars_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < VARS_CACHE; i++)
        s_entry_free(&self->entries[i]);
    free(self);
    *self_p = NULL;
}

int
capture_body(capture_t *c, const char *data, size_t n)
{
    if (!c->on || c->body_len >= EXTRACT_MAX_BODY)
        return 0;
    if (n > EXTRACT_MAX_BODY - c->body_len)
        n = EXTRACT_MAX_BODY - c->body_len;
    if (c->body_len + n > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 4096;
        while (cap < c->body_len + n)
            cap *= 2;
        char *grown = realloc(c->body, cap);
        if (!grown)
            return -1;
        c->body = grown;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, data, n);
    c->body_len += n;
    return 0;
}

static void
s_headers_free(capture_t *c)
{
    for (size_t i = 0; i < c->n_headers; i++) {
        free(c->names[i]);
        free(c->values[i]);
    }
    c->n_headers = 0;
}

void
capture_header(capture_t *c, const char *line, size_t n)
{
    if (!c->on)
        return;
    if (n >= 5 && !strncmp(line, "HTTP/", 5)) {
        s_headers_free(c);      //  a new response (redirect, 100 Continue)
        return;
    }
    const char *colon = memchr(line, ':', n);
    if (!colon || c->n_headers == VARS_MAX_HEADERS)
        return;
    const char *v = colon + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    char *name = text_sanitize(line, (size_t) (colon - line), 256);
    char *value = text_sanitize(v, (size_t) (end - v), 8192);
    if (!name || !value) {
        free(name);
        free(value);
        return;
    }
    c->names[c->n_headers] = name;
    c->values[c->n_headers++] = value;
}

void
capture_free(capture_t *c)
{
    free(c->body);
    s_headers_free(c);
    memset(c, 0, sizeof *c);
}

//  The compiled rules for `rules`, compiling them at the first use.
static entry_t *
s_lookup(vars_t *self, const char *rules)
{
    for (size_t i = 0; i < VARS_CACHE; i++)
        if (self->entries[i].rules && !strcmp(self->entries[i].rules, rules))
            return &self->entries[i];
    entry_t *e = &self->entries[self->next];
    self->next = (self->next + 1) % VARS_CACHE;
    s_entry_free(e);
    e->rules = strdup(rules);
    if (!e->rules)
        return NULL;
    char err[512];
    json_error_t jerr;
    json_t *obj = json_loads(rules, 0, &jerr);
    e->compiled = obj ? extract_new(obj, err, sizeof err) : NULL;
    if (!obj)
        snprintf(err, sizeof err, "extract: the rules are not JSON: %s", jerr.text);
    json_decref(obj);
    if (!e->compiled)
        e->error = strdup(err);
    return e;
}

void
vars_apply(vars_t *self, const char *rules, const char *known, const capture_t *c, uint32_t status,
           const char *url, uint64_t body_total, Shoal__Result *r, char **owned)
{
    *owned = NULL;
    char err[1024];
    entry_t *e = s_lookup(self, rules);
    json_t *vars = NULL;
    if (!e)
        snprintf(err, sizeof err, "extract: out of memory");
    else
    if (!e->compiled)
        snprintf(err, sizeof err, "%s", e->error ? e->error : "extract: bad rules");
    else {
        extract_response_t resp = {
            .status = status, .url = url, .header_names = (const char *const *) c->names,
            .header_values = (const char *const *) c->values, .n_headers = c->n_headers,
            .body = c->body, .body_len = c->body_len, .body_total = body_total };
        vars = extract_run(e->compiled, &resp, err, sizeof err);
    }
    json_t *all = vars && known ? json_loads(known, 0, NULL) : NULL;
    if (vars && json_is_object(all)) {
        json_object_update(all, vars);
        json_decref(vars);
        vars = all;
    }
    else
        json_decref(all);
    char *text = vars ? json_dumps(vars, JSON_COMPACT) : NULL;
    json_decref(vars);
    if (text) {
        r->vars = text;
        *owned = text;
        return;
    }
    r->outcome = SHOAL__OUTCOME__OUTCOME_ERROR;
    r->has_permanent = r->permanent = 1;
    *owned = text_sanitize(err, strlen(err), sizeof err);
    r->error = *owned;
}
