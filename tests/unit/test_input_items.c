/*  test_input_items — lib/input_items.c: --range parsing (padding, steps,
    every malformed form named), an item's variables turned into its first
    step (numbers and booleans as text, other values refused with
    NAME:LINE, unknown variables refused, the variables and the step's
    extraction rules carried in the spec), a range read as items, and
    JSONL lines as items with their own vars and steps (input_item_line:
    which lines are that form, their steps checked as a pipeline file's
    with NAME:LINE errors, their JSON carried in the first step's spec, in
    pipeline and plain jobs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "input.h"
#include "pipeline.h"

static void
test_range_parse(void)
{
    input_range_t r;
    char err[256];
    CHECK(input_range_parse("page=1..168867", &r, err, sizeof err) == 0);
    CHECK_STR(r.name, "page");
    CHECK(r.first == 1 && r.last == 168867 && r.step == 1 && r.count == 168867 && r.width == 0);
    CHECK(input_range_parse("n=0010..0100..10", &r, err, sizeof err) == 0);
    CHECK(r.first == 10 && r.last == 100 && r.step == 10 && r.count == 10 && r.width == 4);
    CHECK(input_range_parse("n=5..5", &r, err, sizeof err) == 0 && r.count == 1);
    CHECK(input_range_parse("page", &r, err, sizeof err) == -1);
    CHECK_STR(err, "--range: use NAME=FIRST..LAST or NAME=FIRST..LAST..STEP (got 'page')");
    CHECK(input_range_parse("=1..2", &r, err, sizeof err) == -1);
    CHECK(input_range_parse("9x=1..2", &r, err, sizeof err) == -1);
    CHECK(input_range_parse("n=5..1", &r, err, sizeof err) == -1);
    CHECK_STR(err, "--range: bad range '5..1' (NAME=FIRST..LAST or NAME=FIRST..LAST..STEP, FIRST <= LAST)");
    CHECK(input_range_parse("n=1..9..0", &r, err, sizeof err) == -1);
    CHECK(input_range_parse("n=1..9x", &r, err, sizeof err) == -1);
    CHECK(input_range_parse("n=-1..9", &r, err, sizeof err) == -1);
    CHECK(input_range_parse("n=0..99999999999", &r, err, sizeof err) == -1);
    CHECK_STR(err, "--range: 100000000000 items, a job holds at most 2147483647");
}

static pipeline_t *
s_pipeline(const char *text)
{
    char err[512];
    pipeline_t *p = pipeline_parse(text, strlen(text), "p.json", err, sizeof err);
    if (!p)
        fprintf(stderr, "pipeline: %s\n", err);
    return p;
}

static void
test_item_spec(void)
{
    pipeline_t *p = s_pipeline("{\"steps\": [{\"name\": \"list\", \"url\": \"https://h/list?page={{page}}&all={{all}}\","
                               " \"extract\": {\"links\": \"all:regex:href=\\\"([^\\\"]+)\\\"\"}},"
                               " {\"name\": \"get\", \"url\": \"{{links}}\", \"each\": \"links\"}]}");
    CHECK(p != NULL);
    if (!p)
        return;
    char err[512];
    Shoal__TaskSpec *spec = NULL;
    json_t *vars = json_pack("{s:i, s:b}", "page", 7, "all", 1);
    CHECK(input_item_spec(p, vars, "items.jsonl", 3, &spec, err, sizeof err) == 1);
    CHECK(spec && spec->http && spec->pipeline);
    if (spec && spec->http && spec->pipeline) {
        CHECK_STR(spec->http->url, "https://h/list?page=7&all=true");
        CHECK(spec->pipeline->has_index && spec->pipeline->index == 0);
        CHECK_STR(spec->pipeline->vars, "{\"page\":\"7\",\"all\":\"true\"}");
        CHECK_CONTAINS(spec->pipeline->extract, "\"links\"");
    }
    if (spec)
        shoal__task_spec__free_unpacked(spec, NULL);
    json_decref(vars);
    //  an object is no variable
    spec = NULL;
    vars = json_pack("{s:s, s:{s:i}, s:s}", "page", "1", "all", "x", 1, "z", "");
    CHECK(input_item_spec(p, vars, "items.jsonl", 4, &spec, err, sizeof err) == -1);
    CHECK_STR(err, "items.jsonl:4: variable 'all' must be a string");
    CHECK(spec == NULL);
    json_decref(vars);
    //  a variable the first step needs is missing
    vars = json_pack("{s:s}", "page", "1");
    CHECK(input_item_spec(p, vars, "items.csv", 9, &spec, err, sizeof err) == -1);
    CHECK_STR(err, "items.csv:9: p.json:1: step 'list': unknown variable 'all' in url");
    json_decref(vars);
    pipeline_destroy(&p);
}

static void
test_range_items(void)
{
    pipeline_t *p = s_pipeline("{\"steps\": [{\"name\": \"a\", \"url\": \"https://h/{{n}}\"}]}");
    CHECK(p != NULL);
    input_range_t r;
    char err[512];
    CHECK(input_range_parse("n=008..012..2", &r, err, sizeof err) == 0);
    input_t *in = input_new_range(&r);
    CHECK(in != NULL);
    if (!in || !p) {
        pipeline_destroy(&p);
        return;
    }
    input_set_pipeline(in, p);
    CHECK(input_total(in) == 3);
    const char *want[] = { "https://h/008", "https://h/010", "https://h/012" };
    Shoal__TaskSpec *spec;
    for (int i = 0; i < 3; i++) {
        CHECK(input_next(in, &spec, err, sizeof err) == 1);
        CHECK_STR(spec->http->url, want[i]);
        shoal__task_spec__free_unpacked(spec, NULL);
    }
    CHECK(input_next(in, &spec, err, sizeof err) == 0);
    input_destroy(&in);
    pipeline_destroy(&p);
}


//  input_item_line of one JSON text; the error (or "") in err.
static int
s_line(const pipeline_t *p, const char *text, uint64_t line, Shoal__TaskSpec **spec, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *obj = json_loads(text, 0, &jerr);
    CHECK(obj != NULL);
    err[0] = 0;
    *spec = NULL;
    int rc = obj ? input_item_line(p, obj, "items.jsonl", line, spec, err, errlen) : -1;
    json_decref(obj);
    return rc;
}

#define OWN_STEPS "[{\"name\": \"a\", \"url\": \"https://o/{{n}}\", \"extract\": {\"id\": \"json:/id\"}}," \
                  " {\"name\": \"b\", \"url\": \"https://o/b/{{id}}?n={{n}}\"}]"

static void
test_item_line(void)
{
    pipeline_t *p = s_pipeline("{\"steps\": [{\"name\": \"list\", \"url\": \"https://h/list?page={{page}}\"}]}");
    CHECK(p != NULL);
    if (!p)
        return;
    char err[512];
    Shoal__TaskSpec *spec;
    //  a line of variables: the job's steps
    CHECK(s_line(p, "{\"page\": 3}", 1, &spec, err, sizeof err) == 1);
    if (spec) {
        CHECK_STR(spec->http->url, "https://h/list?page=3");
        CHECK(spec->pipeline && spec->pipeline->steps == NULL);
        shoal__task_spec__free_unpacked(spec, NULL);
    }
    //  a variable named "steps" or "vars" is text: still a line of variables
    CHECK(s_line(p, "{\"page\": 4, \"steps\": \"x\", \"vars\": \"y\"}", 2, &spec, err, sizeof err) == 1);
    if (spec) {
        CHECK_STR(spec->http->url, "https://h/list?page=4");
        CHECK(spec->pipeline->steps == NULL);
        CHECK_CONTAINS(spec->pipeline->vars, "\"steps\":\"x\"");
        shoal__task_spec__free_unpacked(spec, NULL);
    }
    //  its own vars under the job's steps
    CHECK(s_line(p, "{\"vars\": {\"page\": 5}}", 3, &spec, err, sizeof err) == 1);
    if (spec) {
        CHECK_STR(spec->http->url, "https://h/list?page=5");
        CHECK(spec->pipeline->steps == NULL);
        CHECK_STR(spec->pipeline->vars, "{\"page\":\"5\"}");
        shoal__task_spec__free_unpacked(spec, NULL);
    }
    //  its own vars and steps: its first step rendered, its steps in the spec
    CHECK(s_line(p, "{\"vars\": {\"n\": 7}, \"steps\": " OWN_STEPS ", \"max_each\": 9}", 4, &spec, err,
                 sizeof err) == 1);
    if (spec && spec->http && spec->pipeline) {
        CHECK_STR(spec->http->url, "https://o/7");
        CHECK(spec->pipeline->index == 0);
        CHECK_STR(spec->pipeline->vars, "{\"n\":\"7\"}");
        CHECK_CONTAINS(spec->pipeline->extract, "json:/id");
        CHECK(spec->pipeline->steps != NULL);
        //  the carried steps read back as the pipeline the broker renders from
        json_t *doc = spec->pipeline->steps ? json_loads(spec->pipeline->steps, 0, NULL) : NULL;
        pipeline_t *own = doc ? pipeline_from_json(doc, err, sizeof err) : NULL;
        CHECK(own && pipeline_steps(own) == 2 && pipeline_max_each(own) == 9);
        if (own) {
            CHECK_STR(pipeline_step(own, 1)->name, "b");
            json_t *vars = json_pack("{s:s, s:s}", "n", "7", "id", "X1");
            json_t *task = pipeline_render_json(own, 1, vars, err, sizeof err);
            CHECK(task && !strcmp(json_string_value(json_object_get(task, "url")), "https://o/b/X1?n=7"));
            json_decref(task);
            json_decref(vars);
        }
        pipeline_destroy(&own);
        json_decref(doc);
    }
    if (spec)
        shoal__task_spec__free_unpacked(spec, NULL);
    //  steps without vars
    CHECK(s_line(p, "{\"steps\": [{\"name\": \"x\", \"kind\": \"noop\"}]}", 5, &spec, err, sizeof err) == 1);
    if (spec) {
        CHECK(spec->noop != NULL && spec->pipeline && spec->pipeline->steps);
        CHECK_STR(spec->pipeline->vars, "{}");
        shoal__task_spec__free_unpacked(spec, NULL);
    }
    //  bad own steps: NAME:LINE and why, as for a pipeline file
    struct { const char *line, *err; } bad[] = {
        { "{\"vars\": {\"n\": 1}, \"steps\": [{\"name\": \"a\", \"url\": \"https://o/\", \"bodyy\": \"x\"}]}",
          "items.jsonl:10: step 'a': unknown field 'bodyy'" },
        { "{\"vars\": {\"n\": 1}, \"steps\": " OWN_STEPS "}",
          NULL },
        { "{\"vars\": {}, \"steps\": " OWN_STEPS "}",
          "items.jsonl:12: step 'a': unknown variable 'n' in url" },
        { "{\"vars\": {\"n\": 1}, \"steps\": [{\"name\": \"a\", \"url\": \"https://o/\"},"
          " {\"name\": \"b\", \"each\": \"links\", \"url\": \"{{links}}\"}]}",
          "items.jsonl:13: step 'b': \"each\": 'links' is not a list an earlier step extracts (an \"all:\" rule)" },
        { "{\"vars\": {\"n\": 1}, \"steps\": []}", "items.jsonl:14: \"steps\" must be a non-empty array" },
        { "{\"vars\": {\"n\": 1}, \"steps\": [{\"url\": \"https://o/\"}]}",
          "items.jsonl:15: steps[0]: a step needs a \"name\" (letters, digits, _ - ., at most 64 bytes)" },
        { "{\"vars\": {\"n\": 1}, \"steps\": " OWN_STEPS ", \"url\": \"https://o/\"}",
          "items.jsonl:16: unknown field 'url' of an item with its own vars or steps (vars, steps, max_each)" },
        { "{\"vars\": \"n\", \"steps\": " OWN_STEPS "}", "items.jsonl:17: \"vars\" must be an object of variables" },
        { "{\"vars\": {\"page\": 1}, \"max_each\": 3}",
          "items.jsonl:18: \"max_each\" goes with the item's own \"steps\"" },
        { "{\"vars\": {\"page\": [1]}}", "items.jsonl:19: variable 'page' must be a string" },
        { "{\"vars\": {\"n\": 1}, \"steps\": [{\"name\": \"a\", \"url\": \"ftp://o/{{n}}\"}]}",
          "items.jsonl:20: step 'a': http.url: scheme must be http or https (got 'ftp')" },
        { "{\"vars\": {\"n\": 1}, \"steps\": " OWN_STEPS ", \"max_each\": 0}",
          "items.jsonl:21: \"max_each\" must be an integer 1..100000" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = s_line(p, bad[i].line, 10 + i, &spec, err, sizeof err);
        if (!bad[i].err) {
            CHECK(rc == 1);
            if (spec)
                shoal__task_spec__free_unpacked(spec, NULL);
            continue;
        }
        CHECK(rc == -1 && spec == NULL);
        CHECK_STR(err, bad[i].err);
    }
    //  steps too long to ride in every step's spec
    size_t big = PIPELINE_MAX_ITEM_BYTES + 10;
    char *body = malloc(big + 1);
    memset(body, 'x', big);
    body[big] = 0;
    json_t *obj = json_pack("{s:[{s:s, s:s, s:s, s:s}]}", "steps", "name", "a", "url", "https://o/", "method", "POST",
                            "body", body);
    CHECK(obj && input_item_line(p, obj, "items.jsonl", 30, &spec, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "items.jsonl:30: the item's steps are ");
    CHECK_CONTAINS(err, "more than 65536 (they go with every step's task)");
    json_decref(obj);
    free(body);
    //  a plain job (no pipeline): a line with "steps" is an item, any other is not
    json_t *task = json_pack("{s:s}", "url", "https://o/");
    CHECK(!input_item_has_steps(task, false));
    json_decref(task);
    CHECK(s_line(NULL, "{\"vars\": {\"n\": 2}, \"steps\": " OWN_STEPS "}", 40, &spec, err, sizeof err) == 1);
    if (spec) {
        CHECK_STR(spec->http->url, "https://o/2");
        CHECK(spec->pipeline && spec->pipeline->steps);
        shoal__task_spec__free_unpacked(spec, NULL);
    }
    CHECK(s_line(NULL, "{\"steps\": \"x\"}", 41, &spec, err, sizeof err) == -1);
    CHECK_STR(err, "items.jsonl:41: \"steps\" must be a non-empty array");
    CHECK(s_line(NULL, "{\"vars\": {\"n\": 2}}", 42, &spec, err, sizeof err) == -1);
    CHECK_STR(err, "items.jsonl:42: an item needs its \"steps\" (no pipeline file)");
    pipeline_destroy(&p);
}

//  A plain JSONL job read line by line: tasks, and items with their own steps.
static void
test_plain_reader(void)
{
    const char *text = "{\"url\": \"https://t/1\"}\n"
                       "{\"vars\": {\"n\": 3}, \"steps\": " OWN_STEPS "}\n"
                       "{\"handler\": \"h\", \"vars\": {\"a\": \"b\"}}\n"
                       "{\"steps\": [{\"name\": \"a\", \"url\": \"https://o/{{zz}}\"}]}\n";
    FILE *f = fmemopen((void *) text, strlen(text), "r");
    CHECK(f != NULL);
    if (!f)
        return;
    input_t *in = input_new(INPUT_JSONL, f, "t.jsonl", 0);
    char err[512];
    Shoal__TaskSpec *spec = NULL;
    CHECK(input_next(in, &spec, err, sizeof err) == 1);
    CHECK(spec && spec->http && !spec->pipeline && !strcmp(spec->http->url, "https://t/1"));
    if (spec)
        shoal__task_spec__free_unpacked(spec, NULL);
    spec = NULL;
    CHECK(input_next(in, &spec, err, sizeof err) == 1);
    CHECK(spec && spec->http && spec->pipeline && spec->pipeline->steps && !strcmp(spec->http->url, "https://o/3"));
    if (spec)
        shoal__task_spec__free_unpacked(spec, NULL);
    spec = NULL;
    //  a handler task's "vars" is its own field, not an item's
    CHECK(input_next(in, &spec, err, sizeof err) == 1);
    CHECK(spec && spec->handler && !spec->pipeline);
    if (spec)
        shoal__task_spec__free_unpacked(spec, NULL);
    spec = NULL;
    CHECK(input_next(in, &spec, err, sizeof err) == -1);
    CHECK_STR(err, "t.jsonl:4: step 'a': unknown variable 'zz' in url");
    CHECK(input_next(in, &spec, err, sizeof err) == 0);
    input_destroy(&in);
    fclose(f);
}

int
main(void)
{
    test_range_parse();
    test_item_spec();
    test_range_items();
    test_item_line();
    test_plain_reader();
    return check_result("test_input_items");
}
