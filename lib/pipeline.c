/*  pipeline — parse, check and render pipeline steps. See pipeline.h. */
#include "pipeline.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "extract.h"
#include "input.h"
#include "taskspec.h"
#include "template.h"

struct _pipeline_t {
    pipeline_step_t steps[PIPELINE_MAX_STEPS];
    size_t   n_steps;
    uint32_t max_each;
    char    *source;        //  file name for messages ("" when from JSON)
    json_t  *key_lines;     //  [{key: line}] per step, from the file
};

//  Where things are in the file: the line of each step and of each of its
//  keys, found by a string-aware scan (jansson keeps no positions).
typedef struct {
    uint64_t step_line[PIPELINE_MAX_STEPS];
    json_t  *key_lines;     //  array of {key: line}
    uint64_t steps_line;    //  line of the "steps" key
} located_t;

static void
s_locate(const char *text, size_t n, located_t *loc)
{
    enum { MAX_DEPTH = 64 };
    char stack[MAX_DEPTH];      //  '{' or '['
    bool expect_key[MAX_DEPTH];
    int depth = 0;
    uint64_t line = 1;
    bool in_steps = false;
    int step = -1;
    char top_key[16] = "";
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (c == '\n')
            line++;
        else
        if (c == '"') {
            size_t start = ++i;
            while (i < n && text[i] != '"') {
                if (text[i] == '\\')
                    i++;
                else
                if (text[i] == '\n')
                    line++;
                i++;
            }
            size_t len = i < n ? i - start : 0;
            bool key = depth > 0 && stack[depth - 1] == '{' && expect_key[depth - 1];
            if (key && depth == 1)
                snprintf(top_key, sizeof top_key, "%.*s", (int) (len < 15 ? len : 15), text + start);
            if (key && depth == 1 && !strcmp(top_key, "steps"))
                loc->steps_line = line;
            if (key && depth == 3 && in_steps && step >= 0 && step < PIPELINE_MAX_STEPS) {
                json_t *keys = json_array_get(loc->key_lines, (size_t) step);
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int) (len < 63 ? len : 63), text + start);
                if (keys && !json_object_get(keys, name))
                    json_object_set_new(keys, name, json_integer((json_int_t) line));
            }
            if (key)
                expect_key[depth - 1] = false;
        }
        else
        if (c == '{' || c == '[') {
            if (depth == MAX_DEPTH)
                return;
            if (depth == 1 && c == '[' && !strcmp(top_key, "steps"))
                in_steps = true;
            if (depth == 2 && in_steps && c == '{' && ++step < PIPELINE_MAX_STEPS) {
                loc->step_line[step] = line;
                json_array_append_new(loc->key_lines, json_object());
            }
            stack[depth] = c;
            expect_key[depth++] = c == '{';
        }
        else
        if (c == '}' || c == ']') {
            if (depth > 0)
                depth--;
            if (depth == 1 && in_steps)
                in_steps = false;
        }
        else
        if (c == ',' && depth > 0 && stack[depth - 1] == '{')
            expect_key[depth - 1] = true;
    }
}

void
pipeline_destroy(pipeline_t **self_p)
{
    pipeline_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n_steps; i++) {
        pipeline_step_t *s = &self->steps[i];
        free(s->name);
        free(s->each);
        json_decref(s->task);
        json_decref(s->extract);
        json_decref(s->sets);
    }
    free(self->source);
    json_decref(self->key_lines);
    free(self);
    *self_p = NULL;
}

//  "NAME:LINE: " for step i (and its key when known), or "" without a file.
static void
s_where(const pipeline_t *self, size_t i, const char *key, char *buf, size_t size)
{
    if (!self->source || !*self->source) {
        buf[0] = 0;
        return;
    }
    json_t *keys = json_array_get(self->key_lines, i);
    json_t *at = key ? json_object_get(keys, key) : NULL;
    uint64_t line = at ? (uint64_t) json_integer_value(at) : i < self->n_steps ? self->steps[i].line : 1;
    snprintf(buf, size, "%s:%llu: ", self->source, (unsigned long long) (line ? line : 1));
}

static bool
s_name_ok(const char *name)
{
    if (!*name || strlen(name) > TEMPLATE_MAX_NAME || !(isalpha((unsigned char) *name) || *name == '_'))
        return false;
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char) *c) && *c != '_' && *c != '-' && *c != '.')
            return false;
    return true;
}

//  Every string in v (recursively) parses as a template.
static int
s_templates_parse(json_t *v, char *err, size_t errlen)
{
    if (json_is_string(v)) {
        template_t *t = template_new(json_string_value(v), json_string_length(v), err, errlen);
        if (!t)
            return -1;
        template_destroy(&t);
        return 0;
    }
    size_t i;
    const char *key;
    json_t *x;
    if (json_is_array(v))
        json_array_foreach(v, i, x)
            if (s_templates_parse(x, err, errlen))
                return -1;
    if (json_is_object(v))
        json_object_foreach(v, key, x)
            if (s_templates_parse(x, err, errlen))
                return -1;
    return 0;
}

//  0 when v is a list of variable names.
static int
s_sets(json_t *v)
{
    if (!json_is_array(v))
        return -1;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
        if (!json_is_string(x) || !s_name_ok(json_string_value(x)))
            return -1;
    return 0;
}

//  Fill step i from its JSON object.
static int
s_step(pipeline_t *self, size_t i, json_t *obj, char *err, size_t errlen)
{
    pipeline_step_t *s = &self->steps[i];
    char where[300], inner[512];
    s_where(self, i, NULL, where, sizeof where);
    if (!json_is_object(obj))
        return errbuf_set(err, errlen, "%ssteps[%zu]: a step must be an object", where, i);
    json_t *name = json_object_get(obj, "name");
    if (!json_is_string(name) || !s_name_ok(json_string_value(name)))
        return errbuf_set(err, errlen, "%ssteps[%zu]: a step needs a \"name\" (letters, digits, _ - ., at most"
                          " %d bytes)", where, i, TEMPLATE_MAX_NAME);
    s->name = strdup(json_string_value(name));
    s->task = json_object();
    if (!s->name || !s->task)
        return errbuf_set(err, errlen, "out of memory");
    for (size_t k = 0; k < i; k++)
        if (!strcmp(self->steps[k].name, s->name))
            return errbuf_set(err, errlen, "%sstep '%s': the name is used by steps[%zu] too", where, s->name, k);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        s_where(self, i, key, where, sizeof where);
        if (!strcmp(key, "name"))
            continue;
        if (!strcmp(key, "extract")) {
            extract_t *x = extract_new(v, inner, sizeof inner);
            if (!x)
                return errbuf_set(err, errlen, "%sstep '%s': %s", where, s->name, inner);
            extract_destroy(&x);
            s->extract = json_incref(v);
        }
        else
        if (!strcmp(key, "each")) {
            if (!json_is_string(v) || !s_name_ok(json_string_value(v)))
                return errbuf_set(err, errlen, "%sstep '%s': \"each\" names a list variable", where, s->name);
            s->each = strdup(json_string_value(v));
            if (!s->each)
                return errbuf_set(err, errlen, "out of memory");
        }
        else
        if (!strcmp(key, "sets")) {
            if (s_sets(v))
                return errbuf_set(err, errlen, "%sstep '%s': \"sets\" is a list of variable names (letters,"
                                  " digits, _ - .)", where, s->name);
            s->sets = json_incref(v);
        }
        else
        if (!strcmp(key, "delay_ms")) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > PIPELINE_MAX_DELAY_MS)
                return errbuf_set(err, errlen, "%sstep '%s': \"delay_ms\" must be an integer 0..%u", where,
                                  s->name, PIPELINE_MAX_DELAY_MS);
            s->delay_ms = (uint32_t) json_integer_value(v);
        }
        else
        if (!input_field_known(key))
            return errbuf_set(err, errlen, "%sstep '%s': unknown field '%s'", where, s->name, key);
        else {
            if (s_templates_parse(v, inner, sizeof inner))
                return errbuf_set(err, errlen, "%sstep '%s': %s: %s", where, s->name, key, inner);
            json_object_set(s->task, key, v);
        }
    }
    s_where(self, i, NULL, where, sizeof where);
    if (json_object_size(s->task) == 0)
        return errbuf_set(err, errlen, "%sstep '%s': no task fields (url, argv, or \"kind\": \"noop\")", where,
                          s->name);
    if (s->sets && !json_object_get(s->task, "handler")) {
        s_where(self, i, "sets", where, sizeof where);
        return errbuf_set(err, errlen, "%sstep '%s': \"sets\" is for handler steps (their answer's vars)", where,
                          s->name);
    }
    if (s->each) {
        //  the list must come from an earlier all: rule
        bool found = false;
        for (size_t k = 0; k < i && !found; k++) {
            json_t *rule = json_object_get(self->steps[k].extract, s->each);
            found = rule && !strncmp(json_string_value(rule), "all:", 4);
        }
        s_where(self, i, "each", where, sizeof where);
        if (!found)
            return errbuf_set(err, errlen, "%sstep '%s': \"each\": '%s' is not a list an earlier step extracts"
                              " (an \"all:\" rule)", where, s->name, s->each);
    }
    return 0;
}

//  Build from the parsed document; `self` may hold line information.
static pipeline_t *
s_build(pipeline_t *self, json_t *doc, uint64_t steps_line, char *err, size_t errlen)
{
    char where[300];
    snprintf(where, sizeof where, "%s%s%llu%s", self->source && *self->source ? self->source : "",
             self->source && *self->source ? ":" : "", (unsigned long long) (steps_line ? steps_line : 1),
             self->source && *self->source ? ": " : "");
    if (!self->source || !*self->source)
        where[0] = 0;
    self->max_each = PIPELINE_DEFAULT_EACH;
    if (!json_is_object(doc)) {
        errbuf_set(err, errlen, "%sa pipeline is a JSON object {\"steps\": [...]}", where);
        goto fail;
    }
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v) {
        if (!strcmp(key, "steps"))
            continue;
        if (!strcmp(key, "max_each")) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > PIPELINE_MAX_EACH) {
                errbuf_set(err, errlen, "%s\"max_each\" must be an integer 1..%d", where, PIPELINE_MAX_EACH);
                goto fail;
            }
            self->max_each = (uint32_t) json_integer_value(v);
            continue;
        }
        errbuf_set(err, errlen, "%sunknown pipeline field '%s' (steps, max_each)", where, key);
        goto fail;
    }
    json_t *steps = json_object_get(doc, "steps");
    if (!json_is_array(steps) || json_array_size(steps) == 0) {
        errbuf_set(err, errlen, "%s\"steps\" must be a non-empty array", where);
        goto fail;
    }
    if (json_array_size(steps) > PIPELINE_MAX_STEPS) {
        errbuf_set(err, errlen, "%sat most %d steps", where, PIPELINE_MAX_STEPS);
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(steps); i++) {
        self->n_steps = i + 1;
        if (s_step(self, i, json_array_get(steps, i), err, errlen))
            goto fail;
    }
    return self;
fail:
    pipeline_destroy(&self);
    return NULL;
}

pipeline_t *
pipeline_parse(const char *text, size_t n, const char *name, char *err, size_t errlen)
{
    if (n > PIPELINE_MAX_BYTES) {
        errbuf_set(err, errlen, "%s: longer than %u bytes", name, PIPELINE_MAX_BYTES);
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(text, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        errbuf_set(err, errlen, "%s:%d: bad JSON at column %d: %s", name, jerr.line > 0 ? jerr.line : 1,
                   jerr.column, jerr.text);
        return NULL;
    }
    pipeline_t *self = calloc(1, sizeof *self);
    located_t loc = { .key_lines = json_array() };
    if (!self || !loc.key_lines || !(self->source = strdup(name))) {
        free(self);
        json_decref(loc.key_lines);
        json_decref(doc);
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    s_locate(text, n, &loc);
    self->key_lines = loc.key_lines;
    for (size_t i = 0; i < PIPELINE_MAX_STEPS; i++)
        self->steps[i].line = loc.step_line[i];
    self = s_build(self, doc, loc.steps_line, err, errlen);
    json_decref(doc);
    return self;
}

pipeline_t *
pipeline_from_json(json_t *obj, char *err, size_t errlen)
{
    pipeline_t *self = calloc(1, sizeof *self);
    if (!self) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    return s_build(self, obj, 0, err, errlen);
}

size_t
pipeline_steps(const pipeline_t *self)
{
    return self->n_steps;
}

const pipeline_step_t *
pipeline_step(const pipeline_t *self, size_t i)
{
    return i < self->n_steps ? &self->steps[i] : NULL;
}

int
pipeline_find(const pipeline_t *self, const char *name)
{
    for (size_t i = 0; i < self->n_steps; i++)
        if (!strcmp(self->steps[i].name, name))
            return (int) i;
    return -1;
}

uint32_t
pipeline_max_each(const pipeline_t *self)
{
    return self->max_each;
}

json_t *
pipeline_json(const pipeline_t *self)
{
    json_t *steps = json_array();
    for (size_t i = 0; i < self->n_steps; i++) {
        const pipeline_step_t *s = &self->steps[i];
        json_t *o = json_deep_copy(s->task);
        json_object_set_new(o, "name", json_string(s->name));
        if (s->extract)
            json_object_set(o, "extract", s->extract);
        if (s->each)
            json_object_set_new(o, "each", json_string(s->each));
        if (s->delay_ms)
            json_object_set_new(o, "delay_ms", json_integer(s->delay_ms));
        if (s->sets)
            json_object_set(o, "sets", s->sets);
        json_array_append_new(steps, o);
    }
    return json_pack("{s:o, s:i}", "steps", steps, "max_each", (json_int_t) self->max_each);
}

//  The names the worker fills into `s3_key` itself (worker/s3key.c, the
//  body's hash and the task's identity, known only after the download). A
//  step's s3_key keeps them as `{{name}}` for the worker; an item variable of
//  the same name wins (docs/pipelines.md).
static const char *const s_worker_key_names[] = {
    "sha256", "sha256_2", "sha256_4", "job", "seq", "filename", "ext", "tag", NULL
};

//  A new object: vars plus every worker name that vars lacks, bound to its
//  own `{{name}}` (check: to true), so s3_key renders those unchanged.
static json_t *
s_with_worker_names(json_t *vars, bool literal)
{
    json_t *all = json_is_object(vars) ? json_copy(vars) : json_object();
    for (size_t i = 0; all && s_worker_key_names[i]; i++) {
        const char *name = s_worker_key_names[i];
        if (json_object_get(all, name))
            continue;
        char lit[40];
        snprintf(lit, sizeof lit, "{{%s}}", name);
        json_object_set_new(all, name, literal ? json_string(lit) : json_true());
    }
    return all;
}

//  Every template in v against `known`.
static int
s_check(json_t *v, json_t *known, char *err, size_t errlen)
{
    if (json_is_string(v))
        return template_check(json_string_value(v), known, err, errlen);
    size_t i;
    const char *key;
    json_t *x;
    if (json_is_array(v))
        json_array_foreach(v, i, x)
            if (s_check(x, known, err, errlen))
                return -1;
    if (json_is_object(v))
        json_object_foreach(v, key, x)
            if (s_check(x, known, err, errlen))
                return -1;
    return 0;
}

int
pipeline_check_vars(const pipeline_t *self, json_t *item_vars, char *err, size_t errlen)
{
    json_t *known = json_is_object(item_vars) ? json_deep_copy(item_vars) : json_object();
    int rc = 0;
    bool after_handler = false;     //  for the hint: its vars need "sets"
    for (size_t i = 0; i < self->n_steps && !rc; i++) {
        const pipeline_step_t *s = &self->steps[i];
        if (s->each)
            json_object_set_new(known, s->each, json_true());
        const char *key;
        json_t *v;
        char inner[256], where[300];
        json_object_foreach(s->task, key, v) {
            json_t *names = !strcmp(key, "s3_key") ? s_with_worker_names(known, false) : json_incref(known);
            int bad = s_check(v, names, inner, sizeof inner);
            json_decref(names);
            if (bad) {
                s_where(self, i, key, where, sizeof where);
                rc = errbuf_set(err, errlen, "%sstep '%s': %s in %s%s", where, s->name, inner, key,
                                after_handler ? " (the vars of a handler's answer are named in its step's"
                                                " \"sets\")" : "");
                break;
            }
        }
        json_object_foreach(s->extract, key, v)
            json_object_set_new(known, key, json_true());
        after_handler = after_handler || json_object_get(s->task, "handler");
        size_t k;
        json_array_foreach(s->sets, k, v)
            json_object_set_new(known, json_string_value(v), json_true());
    }
    json_decref(known);
    return rc;
}

//  A copy of v with every string rendered.
static json_t *
s_render(json_t *v, json_t *vars, char *err, size_t errlen)
{
    if (json_is_string(v)) {
        template_t *t = template_new(json_string_value(v), json_string_length(v), err, errlen);
        size_t len = 0;
        char *out = t ? template_render(t, vars, TASKSPEC_MAX_BODY, &len, err, errlen) : NULL;
        template_destroy(&t);
        json_t *s = out ? json_stringn(out, len) : NULL;
        if (out && !s)
            errbuf_set(err, errlen, "the rendered text is not UTF-8");
        free(out);
        return s;
    }
    json_t *copy = json_is_array(v) ? json_array() : json_is_object(v) ? json_object() : NULL;
    if (!copy)
        return json_incref(v);
    size_t i;
    const char *key;
    json_t *x;
    if (json_is_array(v))
        json_array_foreach(v, i, x) {
            json_t *r = s_render(x, vars, err, errlen);
            if (!r || json_array_append_new(copy, r)) {
                json_decref(copy);
                return NULL;
            }
        }
    else
        json_object_foreach(v, key, x) {
            json_t *r = s_render(x, vars, err, errlen);
            if (!r || json_object_set_new(copy, key, r)) {
                json_decref(copy);
                return NULL;
            }
        }
    return copy;
}

json_t *
pipeline_render_json(const pipeline_t *self, size_t i, json_t *vars, char *err, size_t errlen)
{
    if (i >= self->n_steps) {
        errbuf_set(err, errlen, "no step %zu", i);
        return NULL;
    }
    char inner[512] = "out of memory";
    //  s3_key apart: the worker's own names stay in it for the worker
    json_t *src = self->steps[i].task;
    json_t *key = json_object_get(src, "s3_key");
    json_t *rest = key ? json_copy(src) : json_incref(src);
    if (key && rest)
        json_object_del(rest, "s3_key");
    json_t *task = rest ? s_render(rest, vars, inner, sizeof inner) : NULL;
    json_decref(rest);
    if (task && key) {
        json_t *names = s_with_worker_names(vars, true);
        json_t *r = names ? s_render(key, names, inner, sizeof inner) : NULL;
        json_decref(names);
        if (!r || json_object_set_new(task, "s3_key", r)) {
            json_decref(task);
            task = NULL;
        }
    }
    if (!task)
        errbuf_set(err, errlen, "step '%s': %s", self->steps[i].name, inner);
    return task;
}

Shoal__TaskSpec *
pipeline_render(const pipeline_t *self, size_t i, json_t *vars, char *err, size_t errlen)
{
    json_t *task = pipeline_render_json(self, i, vars, err, errlen);
    if (!task)
        return NULL;
    char inner[512];
    Shoal__TaskSpec *spec = input_task_from_json(task, true, inner, sizeof inner);
    json_decref(task);
    if (!spec)
        errbuf_set(err, errlen, "step '%s': %s", self->steps[i].name, inner);
    return spec;
}
