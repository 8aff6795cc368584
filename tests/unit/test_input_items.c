/*  test_input_items — lib/input_items.c: --range parsing (padding, steps,
    every malformed form named), an item's variables turned into its first
    step (numbers and booleans as text, other values refused with
    NAME:LINE, unknown variables refused, the variables and the step's
    extraction rules carried in the spec), and a range read as items. */
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

int
main(void)
{
    test_range_parse();
    test_item_spec();
    test_range_items();
    return check_result("test_input_items");
}
