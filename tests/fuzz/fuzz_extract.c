/*  fuzz_extract — pipeline extraction (lib/extract.c) over what a server
    may send: the first line is a rule (json:, regex:, header:, all:...),
    the rest the response body; a fixed set of rules runs on it too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
s_run(extract_t *x, const char *body, size_t len)
{
    static const char *names[] = { "X-Id", "set-cookie" };
    static const char *values[] = { "7", "a=1" };
    extract_response_t resp = { .status = 200, .url = "https://h/", .header_names = names,
                                .header_values = values, .n_headers = 2, .body = body,
                                .body_len = len, .body_total = len };
    char err[512];
    json_t *vars = extract_run(x, &resp, err, sizeof err);
    if (vars && json_object_size(vars) != extract_count(x))
        __builtin_trap();
    json_decref(vars);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static extract_t *fixed;
    char err[512];
    if (!fixed) {
        json_t *rules = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", "json:/id", "links", "all:json:/items/*/u",
                                  "href", "all:regex:href=\"([^\"]+)\"", "cookie", "header:Set-Cookie",
                                  "status", "status");
        fixed = extract_new(rules, err, sizeof err);
        json_decref(rules);
        if (!fixed)
            __builtin_trap();
    }
    const uint8_t *nl = memchr(data, '\n', size);
    size_t rule_len = nl ? (size_t) (nl - data) : size;
    const char *body = nl ? (const char *) nl + 1 : "";
    size_t body_len = nl ? size - rule_len - 1 : 0;
    s_run(fixed, (const char *) data, size);
    char *rule = malloc(rule_len + 1);
    if (!rule)
        return 0;
    memcpy(rule, data, rule_len);
    rule[rule_len] = 0;
    json_t *rules = json_object();
    json_t *text = json_string(rule);      //  NULL when not UTF-8
    if (rules && text) {
        json_object_set_new(rules, "v", text);
        extract_t *x = extract_new(rules, err, sizeof err);
        if (x)
            s_run(x, body, body_len);
        extract_destroy(&x);
    }
    else
        json_decref(text);
    json_decref(rules);
    free(rule);
    return 0;
}
