/*  input_items — pipeline items: the variables of one input item (a CSV
    row under its header, a JSONL object, a --range value) turned into the
    item's first step. See input.h (input_set_pipeline, input_new_range). */
#include "input.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "pipeline.h"
#include "taskspec.h"

int
input_item_spec(const pipeline_t *p, json_t *vars, const char *name, uint64_t line, Shoal__TaskSpec **spec,
                char *err, size_t errlen)
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
        s->pipeline = ps;
    }
    if (!ps || !ps->vars || taskspec_validate(s, inner, sizeof inner)) {
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
