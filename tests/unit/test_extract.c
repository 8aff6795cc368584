/*  test_extract — every rule kind (json pointers with ~ escapes, indexes
    and *, regex groups and all:, headers, status, url, body), the errors
    with status and body, and the bounds. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "extract.h"

static const char *names[] = { "Content-Type", "Set-Cookie", "set-cookie", "X-Id" };
static const char *values[] = { "application/json", "a=1", "b=2", "7" };

static extract_response_t
s_resp(const char *body)
{
    extract_response_t r = { .status = 200, .url = "https://api.example/final", .header_names = names,
                             .header_values = values, .n_headers = 4, .body = body,
                             .body_len = strlen(body), .body_total = strlen(body) };
    return r;
}

//  Run rules (a JSON text) on body; the variables as compact JSON, or "ERR ...".
static char got[2048];
static const char *
s_run(const char *rules_json, const char *body)
{
    char err[512];
    json_t *rules = json_loads(rules_json, 0, NULL);
    extract_t *x = extract_new(rules, err, sizeof err);
    json_decref(rules);
    if (!x) {
        snprintf(got, sizeof got, "BAD %s", err);
        return got;
    }
    extract_response_t resp = s_resp(body);
    json_t *vars = extract_run(x, &resp, err, sizeof err);
    if (vars) {
        char *s = json_dumps(vars, JSON_COMPACT | JSON_SORT_KEYS);
        snprintf(got, sizeof got, "%s", s);
        free(s);
    }
    else
        snprintf(got, sizeof got, "ERR %s", err);
    json_decref(vars);
    extract_destroy(&x);
    CHECK(x == NULL);
    return got;
}

static void
test_json(void)
{
    const char *body = "{\"file_id\": \"f-17\", \"n\": 42, \"ok\": true, \"x\": null, \"r\": 1.5,"
                       " \"obj\": {\"a/b\": 1, \"m~n\": [10, 20]}, \"links\": [\"/a\", \"/b\"],"
                       " \"items\": [{\"u\": \"/1\"}, {\"u\": \"/2\"}, {\"v\": 3}]}";
    CHECK_STR(s_run("{\"file_id\": \"json:/file_id\"}", body), "{\"file_id\":\"f-17\"}");
    CHECK_STR(s_run("{\"n\": \"json:/n\", \"ok\": \"json:/ok\", \"x\": \"json:/x\", \"r\": \"json:/r\"}", body),
              "{\"n\":\"42\",\"ok\":\"true\",\"r\":\"1.5\",\"x\":\"null\"}");
    CHECK_STR(s_run("{\"e\": \"json:/obj/a~1b\", \"t\": \"json:/obj/m~0n/1\"}", body), "{\"e\":\"1\",\"t\":\"20\"}");
    CHECK_STR(s_run("{\"o\": \"json:/obj/m~0n\"}", body), "{\"o\":\"[10,20]\"}");
    CHECK_STR(s_run("{\"links\": \"all:json:/links\"}", body), "{\"links\":[\"/a\",\"/b\"]}");
    CHECK_STR(s_run("{\"u\": \"all:json:/items/*/u\"}", body), "{\"u\":[\"/1\",\"/2\"]}");
    CHECK_STR(s_run("{\"one\": \"all:json:/file_id\"}", body), "{\"one\":[\"f-17\"]}");
    CHECK_STR(s_run("{\"none\": \"all:json:/items/*/zzz\"}", body), "{\"none\":[]}");
    CHECK_STR(s_run("{\"whole\": \"json:\"}", "[1]"), "{\"whole\":\"[1]\"}");
    //  missing: the rule, the status and the first bytes of the body
    CHECK_STR(s_run("{\"file_id\": \"json:/fileid\"}", "{\"error\": \"quota\"}"),
              "ERR extract file_id: json:/fileid not found (status 200, 18 body bytes: {\"error\": \"quota\"})");
    CHECK_CONTAINS(s_run("{\"i\": \"json:/links/01\"}", body),
                   "ERR extract i: json:/links/01 not found (status 200, 167 body bytes: {\"file_id\"");
    //  a long body: its first 200 bytes, then "..."
    char long_body[400] = "{\"pad\": \"";
    memset(long_body + 9, 'p', 300);
    strcpy(long_body + 309, "\"}");
    const char *r = s_run("{\"a\": \"json:/a\"}", long_body);
    CHECK_CONTAINS(r, "(status 200, 311 body bytes: {\"pad\": \"ppp");
    CHECK(strlen(r) < 350 && !strcmp(r + strlen(r) - 4, "...)"));
    CHECK_CONTAINS(s_run("{\"a\": \"json:/a\"}", "<html>oops</html>"), "ERR extract a: json:/a the body is not JSON");
    CHECK_CONTAINS(s_run("{\"a\": \"all:json:/missing\"}", body), "not found");
    //  bad rules, at compile time
    CHECK_CONTAINS(s_run("{\"a\": \"json:x\"}", ""), "BAD extract a: a JSON pointer is empty or starts with '/'");
    CHECK_CONTAINS(s_run("{\"a\": \"json:/a~2\"}", ""), "BAD extract a: '~' in a JSON pointer");
    CHECK_CONTAINS(s_run("{\"a\": \"json:/items/*/u\"}", ""), "needs the all: prefix");
    CHECK_CONTAINS(s_run("{\"a\": 3}", ""), "BAD extract a: the rule must be a string");
    CHECK_CONTAINS(s_run("{\"1a\": \"status\"}", ""), "BAD extract '1a': a variable name");
    CHECK_CONTAINS(s_run("{\"a\": \"xpath://a\"}", ""), "BAD extract a: unknown rule 'xpath://a'");
    CHECK_CONTAINS(s_run("{\"a\": \"all:status\"}", ""), "all: does not apply to status");
    CHECK_CONTAINS(s_run("[1]", ""), "BAD extract must be an object");
}

static void
test_regex_headers_and_more(void)
{
    const char *html = "<a href=\"/doc/1.pdf\">one</a> <a href=\"/doc/2.pdf\">two</a> <b>caf\xc3\xa9</b>";
    CHECK_STR(s_run("{\"first\": \"regex:href=\\\"([^\\\"]+)\\\"\"}", html), "{\"first\":\"/doc/1.pdf\"}");
    CHECK_STR(s_run("{\"links\": \"all:regex:href=\\\"([^\\\"]+\\\\.pdf)\\\"\"}", html),
              "{\"links\":[\"/doc/1.pdf\",\"/doc/2.pdf\"]}");
    CHECK_STR(s_run("{\"w\": \"regex:<b>.{4}</b>\"}", html), "{\"w\":\"<b>caf\xc3\xa9</b>\"}");
    CHECK_STR(s_run("{\"e\": \"all:regex:x*\"}", "ab"), "{\"e\":[\"\",\"\",\"\"]}");
    CHECK_STR(s_run("{\"no\": \"all:regex:zzz\"}", html), "{\"no\":[]}");
    CHECK_CONTAINS(s_run("{\"no\": \"regex:zzz\"}", html), "ERR extract no: regex:zzz no match (status 200");
    CHECK_CONTAINS(s_run("{\"bad\": \"regex:(unclosed\"}", ""), "BAD extract bad: bad regex at offset 9");
    //  a catastrophic pattern stops at the match limit instead of running for ever
    char body[64];
    memset(body, 'a', 40);
    strcpy(body + 40, "!");
    CHECK_CONTAINS(s_run("{\"slow\": \"regex:^(a+)+$\"}", body), "ERR extract slow: regex:^(a+)+$ match limit exceeded");
    //  invalid UTF-8 in the body does not stop a match elsewhere
    CHECK_STR(s_run("{\"id\": \"regex:id=(\\\\d+)\"}", "\xff\xfe id=42"), "{\"id\":\"42\"}");

    CHECK_STR(s_run("{\"ct\": \"header:content-type\", \"c\": \"all:header:Set-Cookie\", \"s\": \"status\","
                    " \"u\": \"url\", \"b\": \"body\"}", "hi"),
              "{\"b\":\"hi\",\"c\":[\"a=1\",\"b=2\"],\"ct\":\"application/json\",\"s\":\"200\","
              "\"u\":\"https://api.example/final\"}");
    CHECK_CONTAINS(s_run("{\"h\": \"header:X-None\"}", ""), "ERR extract h: header:X-None not found (status 200, 0 body bytes)");
    CHECK_STR(s_run("{\"h\": \"all:header:X-None\"}", ""), "{\"h\":[]}");
    CHECK_CONTAINS(s_run("{\"b\": \"body\"}", "\xff"), "the body is not UTF-8 text");
    //  a Latin-1 page (not UTF-8): all: still finds every link, in byte mode
    CHECK_STR(s_run("{\"l\": \"all:regex:href=(\\\\w+)\"}", "caf\xe9 href=a href=b"), "{\"l\":[\"a\",\"b\"]}");
    //  a pattern that only exists in UTF mode over a body that is not UTF-8
    CHECK_CONTAINS(s_run("{\"u\": \"regex:\\\\x{100}\"}", "\xff"), "not UTF-8 and the pattern needs UTF-8");

    //  a truncated body: body refuses, json says so
    char err[256];
    json_t *rules = json_pack("{s:s, s:s}", "b", "body", "j", "json:/a");
    extract_t *x = extract_new(rules, err, sizeof err);
    json_decref(rules);
    CHECK(x && extract_count(x) == 2 && !extract_is_list(x, 0));
    extract_response_t resp = s_resp("{\"a\": 1");
    resp.body_total = (uint64_t) EXTRACT_MAX_BODY * 2;
    json_t *vars = x ? extract_run(x, &resp, err, sizeof err) : NULL;
    CHECK(vars == NULL);
    CHECK_CONTAINS(err, "the body is longer than");
    extract_destroy(&x);
    extract_destroy(&x);
    CHECK(extract_check_rule("all:regex:a(b)", err, sizeof err) == 0);
    CHECK(extract_check_rule("regex:a(", err, sizeof err) == -1);
}

static void
test_bounds(void)
{
    //  more list elements than the bound
    size_t n = EXTRACT_MAX_LIST + 5;
    char *body = malloc(n * 2 + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(body + 2 * i, "x ", 2);
    body[2 * n] = 0;
    CHECK_CONTAINS(s_run("{\"x\": \"all:regex:x\"}", body), "more than 100000 matches");
    free(body);
    //  a value longer than the bound
    size_t big = EXTRACT_MAX_VALUE + 10;
    body = malloc(big + 20);
    strcpy(body, "{\"a\": \"");
    memset(body + 7, 'y', big);
    strcpy(body + 7 + big, "\"}");
    CHECK_CONTAINS(s_run("{\"a\": \"json:/a\"}", body), "a value longer than 1048576 bytes");
    free(body);
}

int
main(void)
{
    test_json();
    test_regex_headers_and_more();
    test_bounds();
    return check_result("test_extract");
}
