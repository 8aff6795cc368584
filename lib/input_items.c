/*  input_items — pipeline items: the variables of one input item (a CSV
    row under its header, a JSONL object, a --range value) turned into the
    item's first step; a JSONL line {"vars", "steps"} brings its own steps,
    whose JSON then rides in the spec. See input.h (input_set_pipeline,
    input_new_range, input_item_line). */
#include "input.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "pipeline.h"
#include "taskspec.h"

//  The first step of the item `vars` under the steps p: the job's, or the
//  item's own (own_text, their canonical JSON, then goes in the spec: the
//  broker renders every later step of the item from it).
static int
s_item_spec(const pipeline_t *p, const char *own_text, json_t *vars, const char *name, uint64_t line,
            Shoal__TaskSpec **spec, char *err, size_t errlen)
{
    char inner[512];
    unsigned long long no = (unsigned long long) line;
    //  every value is text: numbers and booleans as written
    const char *key;
    json_t *v;
    json_object_foreach(vars, key, v) {
        if (json_is_string(v))
            continue;
        if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v)) {
            char *text = json_dumps(v, JSON_ENCODE_ANY);
            json_object_set_new(vars, key, json_string(text ? text : ""));
            free(text);
            continue;
        }
        return errbuf_set(err, errlen, "%s:%llu: variable '%s' must be a string", name, no, key);
    }
    if (pipeline_check_vars(p, vars, inner, sizeof inner))
        return errbuf_set(err, errlen, "%s:%llu: %s", name, no, inner);
    Shoal__TaskSpec *s = pipeline_render(p, 0, vars, inner, sizeof inner);
    if (!s)
        return errbuf_set(err, errlen, "%s:%llu: %s", name, no, inner);
    const pipeline_step_t *first = pipeline_step(p, 0);
    Shoal__PipelineStep *ps = calloc(1, sizeof *ps);
    if (ps) {
        shoal__pipeline_step__init(ps);
        ps->has_index = 1;
        ps->index = 0;
        ps->vars = json_dumps(vars, JSON_COMPACT);
        ps->extract = first->extract ? json_dumps(first->extract, JSON_COMPACT) : NULL;
        ps->steps = own_text ? strdup(own_text) : NULL;
        s->pipeline = ps;
    }
    if (!ps || !ps->vars || (own_text && !ps->steps) || taskspec_validate(s, inner, sizeof inner)) {
        shoal__task_spec__free_unpacked(s, NULL);
        return errbuf_set(err, errlen, "%s:%llu: %s", name, no, s ? inner : "out of memory");
    }
    *spec = s;
    return 1;
}

int
input_range_parse(const char *text, input_range_t *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    const char *eq = strchr(text, '=');
    size_t n = eq ? (size_t) (eq - text) : 0;
    if (!eq || n == 0 || n >= sizeof r->name || !(isalpha((unsigned char) text[0]) || text[0] == '_'))
        return errbuf_set(err, errlen, "--range: use NAME=FIRST..LAST or NAME=FIRST..LAST..STEP (got '%.60s')", text);
    memcpy(r->name, text, n);
    r->name[n] = 0;
    const char *p = eq + 1;
    r->width = p[0] == '0' && isdigit((unsigned char) p[1]) ? (int) strspn(p, "0123456789") : 0;
    char *end;
    errno = 0;
    bool ok = isdigit((unsigned char) *p);
    r->first = strtoull(p, &end, 10);
    ok = ok && !strncmp(end, "..", 2) && isdigit((unsigned char) end[2]);
    r->last = ok ? strtoull(end + 2, &end, 10) : 0;
    r->step = 1;
    if (ok && !strncmp(end, "..", 2)) {
        ok = isdigit((unsigned char) end[2]);
        r->step = strtoull(end + 2, &end, 10);
    }
    ok = ok && *end == 0 && !errno && r->step > 0 && r->first <= r->last;
    if (!ok)
        return errbuf_set(err, errlen, "--range: bad range '%.60s' (NAME=FIRST..LAST or NAME=FIRST..LAST..STEP,"
                          " FIRST <= LAST)", eq + 1);
    r->count = (r->last - r->first) / r->step + 1;
    if (r->count > 0x7fffffffULL)
        return errbuf_set(err, errlen, "--range: %llu items, a job holds at most 2147483647",
                          (unsigned long long) r->count);
    return 0;
}

int
input_item_spec(const pipeline_t *p, json_t *vars, const char *name, uint64_t line, Shoal__TaskSpec **spec,
                char *err, size_t errlen)
{
    return s_item_spec(p, NULL, vars, name, line, spec, err, errlen);
}

bool
input_item_has_steps(json_t *obj, bool pipeline)
{
    json_t *steps = json_object_get(obj, "steps");
    if (!pipeline)
        return steps != NULL;
    //  in a pipeline job a line is variables, and a variable is text: a
    //  list "steps" or an object "vars" can only be the item's own form
    return json_is_array(steps) || json_is_object(json_object_get(obj, "vars"));
}

int
input_item_line(const pipeline_t *p, json_t *obj, const char *name, uint64_t line, Shoal__TaskSpec **spec,
                char *err, size_t errlen)
{
    unsigned long long no = (unsigned long long) line;
    if (!json_is_object(obj))
        return errbuf_set(err, errlen, "%s:%llu: an item is a JSON object of variables", name, no);
    if (!input_item_has_steps(obj, p != NULL)) {
        if (!p)
            return errbuf_set(err, errlen, "%s:%llu: an item needs its \"steps\" (no pipeline file)", name, no);
        return input_item_spec(p, obj, name, line, spec, err, errlen);
    }
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
        if (strcmp(key, "vars") && strcmp(key, "steps") && strcmp(key, "max_each"))
            return errbuf_set(err, errlen, "%s:%llu: unknown field '%s' of an item with its own vars or steps"
                              " (vars, steps, max_each)", name, no, key);
    json_t *vars = json_object_get(obj, "vars");
    if (vars && !json_is_object(vars))
        return errbuf_set(err, errlen, "%s:%llu: \"vars\" must be an object of variables", name, no);
    json_t *steps = json_object_get(obj, "steps");
    if (!steps && json_object_get(obj, "max_each"))
        return errbuf_set(err, errlen, "%s:%llu: \"max_each\" goes with the item's own \"steps\"", name, no);
    vars = vars ? json_deep_copy(vars) : json_object();     //  numbers become text in place
    if (!vars)
        return errbuf_set(err, errlen, "out of memory");
    if (!steps) {
        int rc = input_item_spec(p, vars, name, line, spec, err, errlen);
        json_decref(vars);
        return rc;
    }
    //  the item's own steps: checked as a pipeline file's (without its lines)
    char inner[512];
    json_t *doc = json_pack("{s:O}", "steps", steps);
    json_t *max_each = json_object_get(obj, "max_each");
    if (doc && max_each)
        json_object_set(doc, "max_each", max_each);
    pipeline_t *own = doc ? pipeline_from_json(doc, inner, sizeof inner) : NULL;
    json_decref(doc);
    json_t *canon = own ? pipeline_json(own) : NULL;
    char *text = canon ? json_dumps(canon, JSON_COMPACT) : NULL;
    json_decref(canon);
    int rc;
    if (!own)
        rc = errbuf_set(err, errlen, "%s:%llu: %s", name, no, doc ? inner : "out of memory");
    else
    if (!text)
        rc = errbuf_set(err, errlen, "out of memory");
    else
    if (strlen(text) > PIPELINE_MAX_ITEM_BYTES)
        rc = errbuf_set(err, errlen, "%s:%llu: the item's steps are %zu bytes, more than %u (they go with every"
                        " step's task)", name, no, strlen(text), PIPELINE_MAX_ITEM_BYTES);
    else
        rc = s_item_spec(own, text, vars, name, line, spec, err, errlen);
    free(text);
    pipeline_destroy(&own);
    json_decref(vars);
    return rc;
}
