/*  test_template — `{{name}}` substitution with |json |url |b64, the
    strict parser's errors, unknown variables, the output bound. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "template.h"

static json_t *vars;

//  Render text, or "ERR message".
static char out[4096];
static const char *
s_render(const char *text, size_t max)
{
    char err[256];
    char *r = template_render_text(text, vars, max, err, sizeof err);
    if (r)
        snprintf(out, sizeof out, "%s", r);
    else
        snprintf(out, sizeof out, "ERR %s", err);
    free(r);
    return out;
}

static void
test_render(void)
{
    CHECK_STR(s_render("https://api.example/{{id}}/x", 1000), "https://api.example/42/x");
    CHECK_STR(s_render("{{ id }}{{id}}", 1000), "4242");
    CHECK_STR(s_render("no references", 1000), "no references");
    CHECK_STR(s_render("", 1000), "");
    CHECK_STR(s_render("{\"image\": {{image|json}}}", 1000), "{\"image\": \"a\\\"b\\\\c\\nd\"}");
    CHECK_STR(s_render("{{{x|json}}: 1}", 1000), "{\"hello world\": 1}");
    CHECK_STR(s_render("q={{x|url}}&r={{amp|url}}", 1000), "q=hello%20world&r=a%26b%3Dc%2F%C3%A9~._-");
    CHECK_STR(s_render("{{x|b64}}", 1000), "aGVsbG8gd29ybGQ=");
    CHECK_STR(s_render("{{x | b64 | url}}", 1000), "aGVsbG8gd29ybGQ%3D");
    CHECK_STR(s_render("{{links}}", 1000), "[\"/a\",\"/b\"]");
    CHECK_STR(s_render("{{links|json}}", 1000), "\"[\\\"/a\\\",\\\"/b\\\"]\"");
    CHECK_STR(s_render("{{empty}}|{{dotted.name-2}}", 1000), "|ok");
    CHECK_STR(s_render("a { b } {c} }}", 1000), "a { b } {c} }}");
}

static void
test_errors(void)
{
    CHECK_STR(s_render("x {{nope}}", 1000), "ERR unknown variable 'nope'");
    CHECK_STR(s_render("x {{id", 1000), "ERR at byte 2: {{id is not closed with }}");
    CHECK_STR(s_render("{{}}", 1000), "ERR at byte 0: '{{' must be followed by a variable name");
    CHECK_STR(s_render("{{1a}}", 1000), "ERR at byte 0: '{{' must be followed by a variable name");
    CHECK_STR(s_render("{{id|upper}}", 1000), "ERR at byte 5: unknown filter 'upper' in {{id}} (json, url or b64)");
    CHECK_STR(s_render("{{id|json|json|json|json|json}}", 1000), "ERR at byte 0: more than 4 filters");
    CHECK_STR(s_render("{{id x}}", 1000), "ERR at byte 0: {{id is not closed with }}");
    char long_name[200] = "{{";
    memset(long_name + 2, 'a', 100);
    strcpy(long_name + 102, "}}");
    CHECK_CONTAINS(s_render(long_name, 1000), "longer than 64 bytes");
    //  the output bound, before and after filters
    CHECK_STR(s_render("{{x}}", 11), "hello world");
    CHECK_STR(s_render("{{x}}", 10), "ERR output longer than 10 bytes");
    CHECK_STR(s_render("{{x|url}}", 12), "ERR output longer than 12 bytes");
    CHECK_STR(s_render("0123456789abc", 12), "ERR output longer than 12 bytes");
}

static void
test_refs_and_check(void)
{
    char err[256];
    const char *text = "{{a}}/{{b|url}}/{{a}}";
    template_t *t = template_new(text, strlen(text), err, sizeof err);
    CHECK(t && template_refs(t) == 3 && !template_is_literal(t));
    if (t) {
        CHECK_STR(template_ref(t, 0), "a");
        CHECK_STR(template_ref(t, 1), "b");
        CHECK(template_ref(t, 3) == NULL);
    }
    template_destroy(&t);
    CHECK(t == NULL);
    template_destroy(&t);
    t = template_new("plain", 5, err, sizeof err);
    CHECK(t && template_is_literal(t) && template_refs(t) == 0);
    template_destroy(&t);
    json_t *known = json_pack("{s:b, s:b}", "a", 1, "b", 1);
    CHECK(template_check(text, known, err, sizeof err) == 0);
    CHECK(template_check("{{a}}{{c}}", known, err, sizeof err) == -1);
    CHECK_STR(err, "unknown variable 'c'");
    CHECK(template_check("{{a", known, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "not closed");
    json_decref(known);
    //  bytes after a NUL are not lost: the length is the source's
    t = template_new("a\0{{id}}", 8, err, sizeof err);
    size_t len = 0;
    char *r = t ? template_render(t, vars, 100, &len, err, sizeof err) : NULL;
    CHECK(r && len == 4 && !memcmp(r, "a\0" "42", 4));
    free(r);
    template_destroy(&t);
}

int
main(void)
{
    vars = json_pack("{s:s, s:s, s:s, s:s, s:[s,s], s:s, s:s}", "id", "42", "x", "hello world",
                     "image", "a\"b\\c\nd", "amp", "a&b=c/\xc3\xa9~._-", "links", "/a", "/b", "empty", "",
                     "dotted.name-2", "ok");
    test_render();
    test_errors();
    test_refs_and_check();
    json_decref(vars);
    return check_result("test_template");
}
