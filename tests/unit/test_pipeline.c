/*  test_pipeline — pipeline files: the check example parsed and
    rendered step by step, FILE:LINE errors for bad files, unknown
    variables across steps, each/fan-out rules, the stored JSON form. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pipeline.h"

static const char *check_file =
    "{\"steps\": [\n"
    "  {\"name\": \"upload\", \"url\": \"https://api.example/upload\", \"method\": \"POST\",\n"
    "   \"form\": [{\"name\": \"file\", \"file\": \"{{zip}}\"}, {\"name\": \"check\", \"value\": \"{{check_no}}\"}],\n"
    "   \"extract\": {\"file_id\": \"json:/file_id\"}},\n"
    "  {\"name\": \"captcha\", \"url\": \"https://api.example/captcha\",\n"
    "   \"extract\": {\"captcha_id\": \"json:/captcha_id\", \"image\": \"json:/image\"}},\n"
    "  {\"name\": \"solve\", \"url\": \"https://solver.example/solve\", \"method\": \"POST\",\n"
    "   \"headers\": {\"Content-Type\": \"application/json\"}, \"body\": \"{\\\"image\\\": {{image|json}}}\",\n"
    "   \"extract\": {\"answer\": \"json:/text\"}},\n"
    "  {\"name\": \"submit\", \"url\": \"https://api.example/submit\", \"method\": \"POST\",\n"
    "   \"headers\": {\"Content-Type\": \"application/json\"},\n"
    "   \"body\": \"{\\\"check\\\": {{check_no|json}}, \\\"file_id\\\": {{file_id|json}}, \\\"captcha_id\\\": "
    "{{captcha_id|json}}, \\\"answer\\\": {{answer|json}}}\"}\n"
    "]}\n";

static void
test_check_example(void)
{
    char err[512];
    pipeline_t *p = pipeline_parse(check_file, strlen(check_file), "check.json", err, sizeof err);
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK(pipeline_steps(p) == 4);
    CHECK_STR(pipeline_step(p, 1)->name, "captcha");
    CHECK(pipeline_step(p, 0)->line == 2 && pipeline_step(p, 3)->line == 10);
    CHECK(pipeline_find(p, "solve") == 2 && pipeline_find(p, "nope") == -1);
    CHECK(pipeline_max_each(p) == PIPELINE_DEFAULT_EACH);
    json_t *item = json_pack("{s:s, s:s}", "zip", "/data/c1.zip", "check_no", "C-1");
    CHECK(pipeline_check_vars(p, item, err, sizeof err) == 0);
    //  a CSV without check_no: the first reference is named, with its line
    json_t *partial = json_pack("{s:s}", "zip", "/data/c1.zip");
    CHECK(pipeline_check_vars(p, partial, err, sizeof err) == -1);
    CHECK_STR(err, "check.json:3: step 'upload': unknown variable 'check_no' in form");
    json_decref(partial);

    Shoal__TaskSpec *spec = pipeline_render(p, 0, item, err, sizeof err);
    CHECK(spec && spec->http && spec->http->n_form == 2);
    if (spec) {
        CHECK_STR(spec->http->form[0]->file, "/data/c1.zip");
        CHECK_STR(spec->http->form[1]->value, "C-1");
        shoal__task_spec__free_unpacked(spec, NULL);
    }
    json_object_set_new(item, "file_id", json_string("f-9"));
    json_object_set_new(item, "captcha_id", json_string("c\"7"));
    json_object_set_new(item, "image", json_string("iVBOR"));
    json_object_set_new(item, "answer", json_string("x y"));
    spec = pipeline_render(p, 3, item, err, sizeof err);
    CHECK(spec != NULL);
    if (spec) {
        CHECK(spec->http->has_body);
        char body[256];
        snprintf(body, sizeof body, "%.*s", (int) spec->http->body.len, (char *) spec->http->body.data);
        CHECK_STR(body, "{\"check\": \"C-1\", \"file_id\": \"f-9\", \"captcha_id\": \"c\\\"7\", \"answer\": \"x y\"}");
        shoal__task_spec__free_unpacked(spec, NULL);
    }
    //  rendering without a variable: the step and the name
    json_object_del(item, "answer");
    CHECK(pipeline_render(p, 3, item, err, sizeof err) == NULL);
    CHECK_STR(err, "step 'submit': unknown variable 'answer'");
    json_decref(item);

    //  the stored form reads back the same
    json_t *stored = pipeline_json(p);
    pipeline_t *again = pipeline_from_json(stored, err, sizeof err);
    CHECK(again && pipeline_steps(again) == 4);
    if (again) {
        json_t *twice = pipeline_json(again);
        CHECK(json_equal(stored, twice));
        json_decref(twice);
        CHECK(pipeline_step(again, 0)->line == 0);
    }
    pipeline_destroy(&again);
    json_decref(stored);
    pipeline_destroy(&p);
    CHECK(p == NULL);
    pipeline_destroy(&p);
}

static void
test_fanout(void)
{
    const char *crawl =
        "{\"max_each\": 500, \"steps\": [\n"
        "  {\"name\": \"page\", \"url\": \"https://court.example/list?page={{page}}\",\n"
        "   \"extract\": {\"links\": \"all:regex:href=\\\"(/pdf/[^\\\"]+)\\\"\"}},\n"
        "  {\"name\": \"pdf\", \"each\": \"links\", \"url\": \"https://court.example{{links}}\", \"store\": \"dir\",\n"
        "   \"delay_ms\": 250}\n"
        "]}";
    char err[512];
    pipeline_t *p = pipeline_parse(crawl, strlen(crawl), "crawl.json", err, sizeof err);
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK(pipeline_max_each(p) == 500);
    CHECK_STR(pipeline_step(p, 1)->each, "links");
    CHECK(pipeline_step(p, 1)->delay_ms == 250);
    json_t *vars = json_pack("{s:s}", "page", "7");
    CHECK(pipeline_check_vars(p, vars, err, sizeof err) == 0);
    json_object_set_new(vars, "links", json_string("/pdf/a.pdf"));
    Shoal__TaskSpec *spec = pipeline_render(p, 1, vars, err, sizeof err);
    CHECK(spec && !strcmp(spec->http->url, "https://court.example/pdf/a.pdf"));
    if (spec)
        shoal__task_spec__free_unpacked(spec, NULL);
    //  a rendered step that is not a valid task: the step and the field
    json_object_set_new(vars, "links", json_string(" bad"));
    CHECK(pipeline_render(p, 1, vars, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "step 'pdf': http.url:");
    json_decref(vars);
    pipeline_destroy(&p);
}

//  s3_key keeps the worker's names (sha256, seq, filename...) for the worker
//  and renders the item's variables; upload_s3 renders like any field.
static void
test_s3_key(void)
{
    const char *text =
        "{\"steps\": [{\"name\": \"pdf\", \"url\": \"https://court.example/{{page}}.pdf\", \"store\": \"s3\",\n"
        "  \"s3_bucket\": \"docs\", \"s3_key\": \"court/{{page}}/{{sha256_2}}/{{sha256}}-{{filename}}\"},\n"
        " {\"name\": \"up\", \"url\": \"https://api.example/done\", \"upload_s3\": \"{{path}}\",\n"
        "  \"s3_bucket\": \"docs\", \"s3_key\": \"scans/{{tag}}{{ext}}\"}]}";
    char err[512];
    pipeline_t *p = pipeline_parse(text, strlen(text), "s3.json", err, sizeof err);
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    json_t *vars = json_pack("{s:s, s:s, s:s}", "page", "12", "path", "/data/12.tif", "tag", "item-12");
    CHECK(pipeline_check_vars(p, vars, err, sizeof err) == 0);
    json_t *t = pipeline_render_json(p, 0, vars, err, sizeof err);
    CHECK(t != NULL);
    CHECK_STR(t ? json_string_value(json_object_get(t, "s3_key")) : "",
              "court/12/{{sha256_2}}/{{sha256}}-{{filename}}");
    CHECK_STR(t ? json_string_value(json_object_get(t, "url")) : "", "https://court.example/12.pdf");
    json_decref(t);
    //  an item variable named like a worker name wins; upload_s3 is rendered
    t = pipeline_render_json(p, 1, vars, err, sizeof err);
    CHECK_STR(t ? json_string_value(json_object_get(t, "s3_key")) : "", "scans/item-12{{ext}}");
    CHECK_STR(t ? json_string_value(json_object_get(t, "upload_s3")) : "", "/data/12.tif");
    json_decref(t);
    //  a name that is neither the item's nor the worker's is still an error
    json_object_del(vars, "path");
    CHECK(pipeline_check_vars(p, vars, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "unknown variable 'path'");
    json_decref(vars);
    pipeline_destroy(&p);
}

//  Parse `text`; the error message, or "OK".
static char msg[512];
static const char *
s_bad(const char *text)
{
    pipeline_t *p = pipeline_parse(text, strlen(text), "p.json", msg, sizeof msg);
    if (p)
        snprintf(msg, sizeof msg, "OK");
    pipeline_destroy(&p);
    return msg;
}

static void
test_bad_files(void)
{
    CHECK_STR(s_bad("{\"steps\": [\n{\"name\": \"a\",\n \"url\": \"x\"\n"), "p.json:4: bad JSON at column 0: '}' expected near end of file");
    CHECK_STR(s_bad("[1]"), "p.json:1: a pipeline is a JSON object {\"steps\": [...]}");
    CHECK_STR(s_bad("{\"steps\": []}"), "p.json:1: \"steps\" must be a non-empty array");
    CHECK_STR(s_bad("{\n\"steps\": [{\"name\": \"a\", \"kind\": \"noop\"}], \"colour\": 1}"),
              "p.json:2: unknown pipeline field 'colour' (steps, max_each)");
    CHECK_STR(s_bad("{\"steps\": [{\"name\": \"a\", \"kind\": \"noop\"}], \"max_each\": 0}"),
              "p.json:1: \"max_each\" must be an integer 1..100000");
    CHECK_STR(s_bad("{\"steps\": [\n  {\"kind\": \"noop\"}]}"),
              "p.json:2: steps[0]: a step needs a \"name\" (letters, digits, _ - ., at most 64 bytes)");
    CHECK_STR(s_bad("{\"steps\": [\n  {\"name\": \"a\", \"kind\": \"noop\"},\n  {\"name\": \"a\", \"kind\": \"noop\"}]}"),
              "p.json:3: step 'a': the name is used by steps[0] too");
    CHECK_STR(s_bad("{\"steps\": [\n  {\"name\": \"a\",\n   \"colour\": \"red\"}]}"),
              "p.json:3: step 'a': unknown field 'colour'");
    CHECK_STR(s_bad("{\"steps\": [\n  {\"name\": \"a\", \"url\": \"https://h/\",\n   \"extract\": {\"x\": \"json:nope\"}}]}"),
              "p.json:3: step 'a': extract x: a JSON pointer is empty or starts with '/' (got 'nope')");
    CHECK_STR(s_bad("{\"steps\": [\n  {\"name\": \"a\",\n   \"url\": \"https://h/{{x\"}]}"),
              "p.json:3: step 'a': url: at byte 10: {{x is not closed with }}");
    CHECK_STR(s_bad("{\"steps\": [\n  {\"name\": \"a\", \"url\": \"https://h/\", \"extract\": {\"x\": \"json:/x\"}},\n"
                    "  {\"name\": \"b\", \"url\": \"https://h/{{x}}\",\n   \"each\": \"x\"}]}"),
              "p.json:4: step 'b': \"each\": 'x' is not a list an earlier step extracts (an \"all:\" rule)");
    CHECK_STR(s_bad("{\"steps\": [\n  {\"name\": \"a\", \"kind\": \"noop\",\n   \"delay_ms\": -1}]}"),
              "p.json:3: step 'a': \"delay_ms\" must be an integer 0..86400000");
    CHECK_STR(s_bad("{\"steps\": [\n  {\"name\": \"a\"}]}"),
              "p.json:2: step 'a': no task fields (url, argv, or \"kind\": \"noop\")");
    //  strings holding braces and escaped quotes do not confuse the line finder
    CHECK_STR(s_bad("{\"steps\": [\n  {\"name\": \"a\", \"body\": \"{\\\"x\\\": [1, {\\\"y\\\": 2}]}\", \"url\": \"https://h/\"},\n"
                    "  {\"name\": \"b\",\n   \"tag\": \"{{nope\"}]}"),
              "p.json:4: step 'b': tag: at byte 0: {{nope is not closed with }}");
    //  unknown variables: an extracted one is known only after its step
    const char *order = "{\"steps\": [\n  {\"name\": \"a\",\n   \"url\": \"https://h/{{id}}\"},\n"
                        "  {\"name\": \"b\", \"url\": \"https://h/\", \"extract\": {\"id\": \"json:/id\"}}]}";
    char err[512];
    pipeline_t *p = pipeline_parse(order, strlen(order), "p.json", err, sizeof err);
    CHECK(p != NULL);
    if (p) {
        CHECK(pipeline_check_vars(p, NULL, err, sizeof err) == -1);
        CHECK_STR(err, "p.json:3: step 'a': unknown variable 'id' in url");
    }
    pipeline_destroy(&p);
    CHECK_CONTAINS(s_bad("{\"steps\": [{\"name\": \"a\", \"kind\": \"noop\"},{\"name\": \"a1\", \"kind\": \"noop\"},"
                         "{\"name\": \"a2\", \"kind\": \"noop\"}]}"), "OK");
}

//  handler steps name the vars of their answer in "sets"
static void
test_handler_sets(void)
{
    CHECK_STR(s_bad("{\"steps\": [\n  {\"name\": \"a\", \"kind\": \"noop\",\n   \"sets\": [\"x\"]}]}"),
              "p.json:3: step 'a': \"sets\" is for handler steps (their answer's vars)");
    CHECK_STR(s_bad("{\"steps\": [\n  {\"name\": \"a\", \"handler\": \"h\",\n   \"sets\": [\"x y\"]}]}"),
              "p.json:3: step 'a': \"sets\" is a list of variable names (letters, digits, _ - .)");
    const char *text = "{\"steps\": [\n  {\"name\": \"a\", \"handler\": \"ocr\", \"sets\": [\"text\"]},\n"
                       "  {\"name\": \"b\",\n   \"url\": \"https://h/{{text}}/{{lang}}\"}]}";
    char err[512];
    pipeline_t *p = pipeline_parse(text, strlen(text), "p.json", err, sizeof err);
    CHECK(p != NULL);
    if (p) {
        json_t *item = json_pack("{s:s}", "lang", "de");
        CHECK(pipeline_check_vars(p, item, err, sizeof err) == 0);
        CHECK(pipeline_check_vars(p, NULL, err, sizeof err) == -1);
        CHECK_STR(err, "p.json:4: step 'b': unknown variable 'lang' in url (the vars of a handler's answer are"
                       " named in its step's \"sets\")");
        json_decref(item);
        //  the stored form keeps "sets": a pipeline rebuilt from it checks the same
        json_t *stored = pipeline_json(p);
        pipeline_t *q = pipeline_from_json(stored, err, sizeof err);
        CHECK(q != NULL);
        json_t *lang = json_pack("{s:s}", "lang", "de");
        CHECK(q && pipeline_check_vars(q, lang, err, sizeof err) == 0);
        json_decref(lang);
        json_decref(stored);
        pipeline_destroy(&q);
    }
    pipeline_destroy(&p);
}

int
main(void)
{
    test_handler_sets();
    test_check_example();
    test_fanout();
    test_s3_key();
    test_bad_files();
    return check_result("test_pipeline");
}
