/*  test_input_fields — the value parsers behind the JSON task reader
    (lib/input_fields.c): what each accepts, from JSON and from CSV text,
    and the error naming the field when it does not. */
#include <stdlib.h>

#include "check.h"
#include "input_fields.h"

static char s_err[256];

static ctx_t
s_ctx(bool from_text)
{
    s_err[0] = '\0';
    return (ctx_t) { .from_text = from_text, .err = s_err, .errlen = sizeof s_err };
}

//  Integers: bounded; from CSV a decimal string, never a negative one.
static void
s_test_uint(void)
{
    ctx_t c = s_ctx(false);
    uint64_t x = 0;
    json_t *v = json_integer(42);
    CHECK(jf_uint(&c, "timeout_ms", v, 100, &x) == 0 && x == 42);
    json_decref(v);
    v = json_integer(101);
    CHECK(jf_uint(&c, "timeout_ms", v, 100, &x) == -1);
    CHECK_STR(s_err, "field 'timeout_ms' must be 0..100");
    json_decref(v);
    v = json_string("7");
    CHECK(jf_uint(&c, "priority", v, 9, &x) == -1);           //  JSON: a string is not a number
    CHECK_CONTAINS(s_err, "must be an integer 0..9");
    c = s_ctx(true);
    CHECK(jf_uint(&c, "priority", v, 9, &x) == 0 && x == 7);  //  CSV: it is
    json_decref(v);
    const char *bad[] = { "-1", "", "3x", "10" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        v = json_string(bad[i]);
        CHECK(jf_uint(&c, "priority", v, 9, &x) == -1);
        json_decref(v);
    }
    protobuf_c_boolean has = 0;
    uint32_t u = 0;
    v = json_integer(3);
    CHECK(jf_u32(&c, "slots", v, 10, &has, &u) == 0 && has && u == 3);
    json_decref(v);
}

//  Booleans: JSON true/false; from CSV also 1/0, yes/no and an empty cell.
static void
s_test_bool(void)
{
    ctx_t c = s_ctx(true);
    protobuf_c_boolean has = 0, b = 0;
    const char *yes[] = { "true", "TRUE", "1", "yes" }, *no[] = { "false", "0", "No", "" };
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_string(yes[i]);
        CHECK(jf_bool(&c, "follow", v, &has, &b) == 0 && has && b);
        json_decref(v);
        v = json_string(no[i]);
        CHECK(jf_bool(&c, "follow", v, &has, &b) == 0 && has && !b);
        json_decref(v);
    }
    json_t *v = json_string("maybe");
    CHECK(jf_bool(&c, "follow", v, &has, &b) == -1);
    CHECK_STR(s_err, "field 'follow' must be true or false");
    json_decref(v);
    c = s_ctx(false);
    v = json_string("true");
    CHECK(jf_bool(&c, "follow", v, &has, &b) == -1);
    json_decref(v);
}

//  Bytes: as they are, or base64 (padding is not data).
static void
s_test_bytes(void)
{
    ctx_t c = s_ctx(false);
    protobuf_c_boolean has = 0;
    ProtobufCBinaryData out = { 0 };
    json_t *v = json_string("aGk=");
    CHECK(jf_bytes(&c, "body_b64", v, true, &has, &out) == 0 && has && out.len == 2 && !memcmp(out.data, "hi", 2));
    json_decref(v);
    v = json_string("aGVsbG8=");
    CHECK(jf_bytes(&c, "body_b64", v, true, &has, &out) == 0 && out.len == 5 && !memcmp(out.data, "hello", 5));
    json_decref(v);
    v = json_string("aGk");
    CHECK(jf_bytes(&c, "body_b64", v, true, &has, &out) == -1);
    CHECK_CONTAINS(s_err, "length 3 is not a multiple of 4");
    json_decref(v);
    v = json_string("a b c");
    CHECK(jf_bytes(&c, "body", v, false, &has, &out) == 0 && out.len == 5 && !memcmp(out.data, "a b c", 5));
    json_decref(v);
    free(out.data);
    v = json_integer(1);
    out = (ProtobufCBinaryData) { 0 };
    CHECK(jf_bytes(&c, "body", v, false, &has, &out) == -1);
    CHECK_STR(s_err, "field 'body' must be a string");
    json_decref(v);
}

//  Lists: a JSON array of strings; from CSV whitespace-separated words.
static void
s_test_string_list(void)
{
    ctx_t c = s_ctx(true);
    char **items = NULL;
    size_t n = 0;
    json_t *v = json_string("  a\tbb  ccc ");
    CHECK(jf_string_list(&c, "argv", v, &items, &n) == 0 && n == 3);
    CHECK(n == 3 && !strcmp(items[0], "a") && !strcmp(items[1], "bb") && !strcmp(items[2], "ccc"));
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
    json_decref(v);
}

static void
s_free_headers(Shoal__Header **h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(h[i]->name);
        free(h[i]->value);
        free(h[i]);
    }
    free(h);
}

//  Headers: {"Name": "value"}, ["Name: value"] or [["Name", "value"]].
static void
s_test_headers(void)
{
    ctx_t c = s_ctx(false);
    Shoal__Header **h = NULL;
    size_t n = 0;
    json_t *v = json_loads("{\"Accept\": \"text/html\", \"X-Id\": \"7\"}", 0, NULL);
    CHECK(jf_headers(&c, v, &h, &n) == 0 && n == 2);
    CHECK(n == 2 && !strcmp(h[0]->name, "Accept") && !strcmp(h[0]->value, "text/html"));
    s_free_headers(h, n);
    json_decref(v);
    v = json_loads("[\"Cookie:  a=1\", [\"X-Two\", \"b\"]]", 0, NULL);
    CHECK(jf_headers(&c, v, &h, &n) == 0 && n == 2);
    CHECK(n == 2 && !strcmp(h[0]->name, "Cookie") && !strcmp(h[0]->value, "a=1"));
    CHECK(n == 2 && !strcmp(h[1]->name, "X-Two") && !strcmp(h[1]->value, "b"));
    s_free_headers(h, n);
    json_decref(v);
    v = json_loads("[\"no colon here\"]", 0, NULL);
    CHECK(jf_headers(&c, v, &h, &n) == -1);
    CHECK_STR(s_err, "header 'no colon here' must look like 'Name: value'");
    s_free_headers(h, n);
    json_decref(v);
    v = json_loads("[1]", 0, NULL);
    CHECK(jf_headers(&c, v, &h, &n) == -1);
    CHECK_CONTAINS(s_err, "headers[0] must be");
    s_free_headers(h, n);
    json_decref(v);
    v = json_loads("{\"A\": 1}", 0, NULL);
    CHECK(jf_headers(&c, v, &h, &n) == -1);
    CHECK_STR(s_err, "header 'A' must have a string value");
    s_free_headers(h, n);
    json_decref(v);
    v = json_string("Accept: x");
    CHECK(jf_headers(&c, v, &h, &n) == -1);
    CHECK_CONTAINS(s_err, "field 'headers' must be an object");
    json_decref(v);
}

int
main(void)
{
    s_test_uint();
    s_test_bool();
    s_test_bytes();
    s_test_string_list();
    s_test_headers();
    return check_result("test_input_fields");
}
