/*  extract — response to variables. See extract.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "extract.h"

#include <ctype.h>
#include <pcre2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errbuf.h"
#include "text.h"

#define MAX_SEGMENTS 32     //  pointer depth

typedef enum { RULE_JSON, RULE_REGEX, RULE_HEADER, RULE_STATUS, RULE_URL, RULE_BODY } rule_kind_t;

typedef struct {
    char        *name;      //  the variable
    char        *text;      //  the rule as written, for messages
    rule_kind_t  kind;
    bool         all;       //  all: a list
    char        *arg;       //  header name, pointer
    char        *segments[MAX_SEGMENTS];    //  the pointer, unescaped ("*" = every element)
    size_t       n_segments;
    pcre2_code  *re;        //  the pattern in UTF mode, for UTF-8 bodies
    pcre2_code  *re_bytes;  //  the same in byte mode, for other bodies (NULL if
                            //  the pattern needs UTF, e.g. \x{100})
    uint32_t     captures;  //  capture groups in the pattern
} rule_t;

struct _extract_t {
    rule_t *rules;
    size_t  n_rules;
    pcre2_match_context *mctx;
};

static void
s_rule_free(rule_t *r)
{
    free(r->name);
    free(r->text);
    free(r->arg);
    for (size_t i = 0; i < r->n_segments; i++)
        free(r->segments[i]);
    if (r->re)
        pcre2_code_free(r->re);
    if (r->re_bytes)
        pcre2_code_free(r->re_bytes);
}

void
extract_destroy(extract_t **self_p)
{
    extract_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n_rules; i++)
        s_rule_free(&self->rules[i]);
    free(self->rules);
    if (self->mctx)
        pcre2_match_context_free(self->mctx);
    free(self);
    *self_p = NULL;
}

//  Split an RFC 6901 pointer into unescaped segments.
static int
s_pointer(rule_t *r, const char *p, char *err, size_t errlen)
{
    if (*p && *p != '/')
        return errbuf_set(err, errlen, "a JSON pointer is empty or starts with '/' (got '%.40s')", p);
    while (*p == '/') {
        p++;
        if (r->n_segments == MAX_SEGMENTS)
            return errbuf_set(err, errlen, "a JSON pointer has at most %d segments", MAX_SEGMENTS);
        size_t n = strcspn(p, "/");
        char *seg = malloc(n + 1);
        if (!seg)
            return errbuf_set(err, errlen, "out of memory");
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '~') {
                if (i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
                    seg[k++] = p[i + 1] == '0' ? '~' : '/';
                    i++;
                    continue;
                }
                free(seg);
                return errbuf_set(err, errlen, "'~' in a JSON pointer must be ~0 or ~1");
            }
            seg[k++] = p[i];
        }
        seg[k] = 0;
        r->segments[r->n_segments++] = seg;
        if (!strcmp(seg, "*") && !r->all)
            return errbuf_set(err, errlen, "'*' in a JSON pointer needs the all: prefix");
        p += n;
    }
    return 0;
}

//  Parse one rule into r; 0 or -1 with the reason.
static int
s_rule_parse(rule_t *r, const char *text, pcre2_match_context *mctx, char *err, size_t errlen)
{
    const char *p = text;
    if (!strncmp(p, "all:", 4)) {
        r->all = true;
        p += 4;
    }
    if (!strncmp(p, "json:", 5)) {
        r->kind = RULE_JSON;
        return s_pointer(r, p + 5, err, errlen);
    }
    if (!strncmp(p, "regex:", 6)) {
        r->kind = RULE_REGEX;
        int code;
        PCRE2_SIZE at;
        //  Not PCRE2_MATCH_INVALID_UTF: with it every pcre2_match() call
        //  scans the rest of the subject, so all: over n matches costs
        //  O(n^2) (100,000 matches took 8 s). The body's UTF-8 is checked
        //  once instead, and a body that is not UTF-8 uses re_bytes.
        r->re = pcre2_compile((PCRE2_SPTR) (p + 6), PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &at, NULL);
        if (!r->re) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(code, msg, sizeof msg);
            return errbuf_set(err, errlen, "bad regex at offset %zu: %s", (size_t) at, (char *) msg);
        }
        r->re_bytes = pcre2_compile((PCRE2_SPTR) (p + 6), PCRE2_ZERO_TERMINATED, 0, &code, &at, NULL);
        pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &r->captures);
        return 0;
    }
    if (!strncmp(p, "header:", 7)) {
        r->kind = RULE_HEADER;
        if (!p[7])
            return errbuf_set(err, errlen, "header: needs a header name");
        r->arg = strdup(p + 7);
        return r->arg ? 0 : errbuf_set(err, errlen, "out of memory");
    }
    if (!strcmp(p, "status") || !strcmp(p, "url") || !strcmp(p, "body")) {
        r->kind = !strcmp(p, "status") ? RULE_STATUS : !strcmp(p, "url") ? RULE_URL : RULE_BODY;
        if (r->all)
            return errbuf_set(err, errlen, "all: does not apply to %s", p);
        return 0;
    }
    return errbuf_set(err, errlen, "unknown rule '%.40s' (json:POINTER, regex:PATTERN, header:NAME,"
                      " status, url, body; all: for a list)", text);
}

int
extract_check_rule(const char *rule, char *err, size_t errlen)
{
    rule_t r = { 0 };
    int rc = s_rule_parse(&r, rule, NULL, err, errlen);
    s_rule_free(&r);
    return rc;
}

extract_t *
extract_new(json_t *rules, char *err, size_t errlen)
{
    if (!json_is_object(rules)) {
        errbuf_set(err, errlen, "extract must be an object of name: rule");
        return NULL;
    }
    if (json_object_size(rules) > EXTRACT_MAX_RULES) {
        errbuf_set(err, errlen, "extract has more than %d rules", EXTRACT_MAX_RULES);
        return NULL;
    }
    extract_t *self = calloc(1, sizeof *self);
    if (!self || !(self->rules = calloc(json_object_size(rules) + 1, sizeof *self->rules))
    ||  !(self->mctx = pcre2_match_context_create(NULL))) {
        extract_destroy(&self);
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    pcre2_set_match_limit(self->mctx, EXTRACT_REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(self->mctx, EXTRACT_REGEX_DEPTH_LIMIT);
    const char *name;
    json_t *v;
    json_object_foreach(rules, name, v) {
        rule_t *r = &self->rules[self->n_rules++];
        char inner[256];
        bool name_ok = *name && strlen(name) <= 64 && (isalpha((unsigned char) *name) || *name == '_');
        for (const char *c = name; name_ok && *c; c++)
            name_ok = isalnum((unsigned char) *c) || *c == '_' || *c == '-' || *c == '.';
        if (!name_ok) {
            errbuf_set(err, errlen, "extract '%.64s': a variable name is letters, digits, _ - . (not"
                       " starting with a digit), at most 64 bytes", name);
            extract_destroy(&self);
            return NULL;
        }
        r->name = strdup(name);
        r->text = json_is_string(v) ? strdup(json_string_value(v)) : NULL;
        if (!json_is_string(v) || !r->name || !r->text
        ||  s_rule_parse(r, r->text, self->mctx, inner, sizeof inner)) {
            errbuf_set(err, errlen, "extract %s: %s", name, json_is_string(v) ? inner : "the rule must be a string");
            extract_destroy(&self);
            return NULL;
        }
    }
    return self;
}

size_t
extract_count(const extract_t *self)
{
    return self->n_rules;
}

const char *
extract_name(const extract_t *self, size_t i)
{
    return i < self->n_rules ? self->rules[i].name : NULL;
}

int
extract_is_list(const extract_t *self, size_t i)
{
    return i < self->n_rules && self->rules[i].all;
}

//  A JSON value as the text a variable holds; NULL when too big.
static json_t *
s_as_text(json_t *v)
{
    if (json_is_string(v))
        return json_string_length(v) <= EXTRACT_MAX_VALUE ? json_incref(v) : NULL;
    if (json_is_integer(v)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return json_string(buf);
    }
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    json_t *t = s && strlen(s) <= EXTRACT_MAX_VALUE ? json_string(s) : NULL;
    free(s);
    return t;
}

//  Walk segments from i; append every value found to list (all:) or set
//  *one. Returns 0, or -1 when a value is too big or the list too long.
static int
s_walk(json_t *node, char *const *segs, size_t i, size_t n, json_t *list, json_t **one)
{
    if (!node)
        return 0;
    if (i == n) {
        if (!list) {
            *one = s_as_text(node);
            return *one ? 0 : -1;
        }
        if (json_array_size(list) >= EXTRACT_MAX_LIST)
            return -1;
        json_t *t = s_as_text(node);
        return t ? json_array_append_new(list, t) : -1;
    }
    const char *seg = segs[i];
    if (list && !strcmp(seg, "*")) {
        if (json_is_array(node)) {
            for (size_t k = 0; k < json_array_size(node); k++)
                if (s_walk(json_array_get(node, k), segs, i + 1, n, list, one))
                    return -1;
        }
        else
        if (json_is_object(node)) {
            const char *key;
            json_t *v;
            json_object_foreach(node, key, v)
                if (s_walk(v, segs, i + 1, n, list, one))
                    return -1;
        }
        return 0;
    }
    if (json_is_object(node))
        return s_walk(json_object_get(node, seg), segs, i + 1, n, list, one);
    if (json_is_array(node)) {
        //  an index: digits, no leading zero
        if (!*seg || (seg[0] == '0' && seg[1]) || strspn(seg, "0123456789") != strlen(seg) || strlen(seg) > 18)
            return 0;
        return s_walk(json_array_get(node, (size_t) strtoull(seg, NULL, 10)), segs, i + 1, n, list, one);
    }
    return 0;
}

//  The value(s) a pointer names: for all:, an array's elements (or the
//  matches of '*'); NULL result with rc 0 = not found.
static int
s_run_json(const rule_t *r, json_t *doc, json_t **out)
{
    *out = NULL;
    if (!r->all)
        return s_walk(doc, r->segments, 0, r->n_segments, NULL, out);
    bool wildcard = false;
    for (size_t i = 0; i < r->n_segments; i++)
        wildcard |= !strcmp(r->segments[i], "*");
    json_t *list = json_array();
    if (!list)
        return -1;
    if (wildcard) {
        if (s_walk(doc, r->segments, 0, r->n_segments, list, NULL)) {
            json_decref(list);
            return -1;
        }
        *out = list;
        return 0;
    }
    //  no wildcard: the array the pointer names, element by element
    json_t *target = doc;
    for (size_t i = 0; target && i < r->n_segments; i++) {
        const char *seg = r->segments[i];
        target = json_is_object(target) ? json_object_get(target, seg)
               : json_is_array(target) && strspn(seg, "0123456789") == strlen(seg) && *seg
               ? json_array_get(target, (size_t) strtoull(seg, NULL, 10)) : NULL;
    }
    if (!target) {
        json_decref(list);
        return 0;
    }
    size_t n = json_is_array(target) ? json_array_size(target) : 1;
    for (size_t k = 0; k < n; k++) {
        json_t *t = json_array_size(list) < EXTRACT_MAX_LIST
                  ? s_as_text(json_is_array(target) ? json_array_get(target, k) : target) : NULL;
        if (!t || json_array_append_new(list, t)) {
            json_decref(list);
            return -1;
        }
    }
    *out = list;
    return 0;
}

//  Every match of the pattern (all:) or the first; the first capture
//  group when there is one, else the whole match.
static int
s_run_regex(const rule_t *r, pcre2_match_context *mctx, const char *body, size_t len, json_t **out,
            char *why, size_t whylen)
{
    *out = NULL;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(r->re, NULL);
    json_t *list = r->all ? json_array() : NULL;
    if (!md || (r->all && !list)) {
        pcre2_match_data_free(md);
        json_decref(list);
        return errbuf_set(why, whylen, "out of memory");
    }
    PCRE2_SIZE start = 0;
    int rc = 0;
    const pcre2_code *re = r->re;
    uint32_t opts = 0;         //  the first call checks the body's UTF-8 once
    bool utf = true;
    while (start <= len) {
        int m = pcre2_match(re, (PCRE2_SPTR) body, len, start, opts, md, mctx);
        if (m <= PCRE2_ERROR_UTF8_ERR1 && m >= PCRE2_ERROR_UTF8_ERR21 && start == 0 && re == r->re) {
            if (!r->re_bytes) {
                rc = errbuf_set(why, whylen, "the body is not UTF-8 and the pattern needs UTF-8");
                break;
            }
            re = r->re_bytes;   //  not UTF-8: match bytes (matches must still be UTF-8 text)
            utf = false;
            continue;
        }
        opts = PCRE2_NO_UTF_CHECK;
        if (m == PCRE2_ERROR_NOMATCH)
            break;
        if (m < 0) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(m, msg, sizeof msg);
            rc = errbuf_set(why, whylen, "%s", (char *) msg);
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        int group = r->captures > 0 && m > 1 && ov[2] != PCRE2_UNSET ? 1 : 0;
        size_t a = ov[2 * group], b = ov[2 * group + 1];
        json_t *v = b - a <= EXTRACT_MAX_VALUE ? json_stringn(body + a, b - a) : NULL;
        if (!v) {
            if (b - a > EXTRACT_MAX_VALUE)
                rc = errbuf_set(why, whylen, "a match longer than %u bytes", EXTRACT_MAX_VALUE);
            else
                rc = errbuf_set(why, whylen, "a match that is not UTF-8 text");
            break;
        }
        if (!r->all) {
            *out = v;
            break;
        }
        if (json_array_size(list) >= EXTRACT_MAX_LIST) {
            json_decref(v);
            rc = errbuf_set(why, whylen, "more than %d matches", EXTRACT_MAX_LIST);
            break;
        }
        json_array_append_new(list, v);
        //  an empty match moves on one character (a UTF-8 sequence)
        start = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
        while (utf && ov[1] == ov[0] && start < len && ((unsigned char) body[start] & 0xC0) == 0x80)
            start++;
    }
    pcre2_match_data_free(md);
    if (rc)
        json_decref(list);
    else
    if (r->all)
        *out = list;
    return rc;
}

//  The value(s) of a header, case-insensitive.
static json_t *
s_run_header(const rule_t *r, const extract_response_t *resp)
{
    json_t *list = r->all ? json_array() : NULL;
    for (size_t i = 0; i < resp->n_headers; i++) {
        if (strcasecmp(resp->header_names[i], r->arg) != 0)
            continue;
        const char *v = resp->header_values[i] ? resp->header_values[i] : "";
        json_t *s = text_utf8_valid(v, strlen(v)) ? json_string(v) : NULL;
        if (!s)
            continue;
        if (!r->all)
            return s;
        if (json_array_size(list) < EXTRACT_MAX_LIST)
            json_array_append_new(list, s);
        else
            json_decref(s);
    }
    return list;
}

//  Append " (status N, body: FIRST BYTES)" to err.
static void
s_context(char *err, size_t errlen, const extract_response_t *resp)
{
    size_t used = strlen(err);
    if (used + 1 >= errlen)
        return;
    size_t show = resp->body_len < 200 ? resp->body_len : 200;
    char *first = text_sanitize(resp->body ? resp->body : "", show, show);
    snprintf(err + used, errlen - used, " (status %u, %llu body bytes%s%s%s)", resp->status,
             (unsigned long long) resp->body_total, show ? ": " : "", first ? first : "",
             resp->body_len > show ? "..." : "");
    free(first);
}

//  Run one rule: a new JSON value, or NULL with err set.
static json_t *
s_run_rule(const extract_t *self, const rule_t *r, const extract_response_t *resp, json_t **doc,
           bool *doc_tried, char *err, size_t errlen)
{
    json_t *v = NULL;
    char why[200] = "";
    switch (r->kind) {
        case RULE_STATUS: {
            char buf[16];
            snprintf(buf, sizeof buf, "%u", resp->status);
            return json_string(buf);
        }
        case RULE_URL:
            v = resp->url && text_utf8_valid(resp->url, strlen(resp->url)) ? json_string(resp->url) : NULL;
            if (!v)
                snprintf(why, sizeof why, "no final URL");
            break;
        case RULE_BODY:
            if (resp->body_total > EXTRACT_MAX_VALUE || resp->body_len < resp->body_total)
                snprintf(why, sizeof why, "the body is longer than %u bytes", EXTRACT_MAX_VALUE);
            else
            if (!(v = json_stringn(resp->body ? resp->body : "", resp->body_len)))
                snprintf(why, sizeof why, "the body is not UTF-8 text");
            break;
        case RULE_HEADER:
            v = s_run_header(r, resp);
            if (!v)
                snprintf(why, sizeof why, "not found");
            break;
        case RULE_REGEX:
            if (s_run_regex(r, self->mctx, resp->body ? resp->body : "", resp->body_len, &v, why, sizeof why))
                break;
            if (!v)
                snprintf(why, sizeof why, "no match");
            break;
        case RULE_JSON:
            if (!*doc_tried) {
                *doc_tried = true;
                *doc = json_loadb(resp->body ? resp->body : "", resp->body_len, JSON_DECODE_ANY, NULL);
            }
            if (!*doc)
                snprintf(why, sizeof why, "the body is not JSON%s",
                         resp->body_len < resp->body_total ? " (or longer than the extraction bound)" : "");
            else
            if (s_run_json(r, *doc, &v))
                snprintf(why, sizeof why, "a value longer than %u bytes or more than %d elements",
                         EXTRACT_MAX_VALUE, EXTRACT_MAX_LIST);
            else
            if (!v)
                snprintf(why, sizeof why, "not found");
            break;
    }
    if (!v) {
        errbuf_set(err, errlen, "extract %s: %s %s", r->name, r->text, why[0] ? why : "failed");
        s_context(err, errlen, resp);
    }
    return v;
}

json_t *
extract_run(const extract_t *self, const extract_response_t *resp, char *err, size_t errlen)
{
    json_t *vars = json_object();
    json_t *doc = NULL;
    bool doc_tried = false;
    size_t total = 0;
    if (!vars) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < self->n_rules; i++) {
        const rule_t *r = &self->rules[i];
        json_t *v = s_run_rule(self, r, resp, &doc, &doc_tried, err, errlen);
        if (!v) {
            json_decref(vars);
            vars = NULL;
            break;
        }
        if (json_is_string(v))
            total += json_string_length(v);
        else
            for (size_t k = 0; k < json_array_size(v); k++)
                total += json_string_length(json_array_get(v, k)) + 4;
        json_object_set_new(vars, r->name, v);
        if (total > EXTRACT_MAX_TOTAL) {
            errbuf_set(err, errlen, "extract %s: the variables of this step are more than %u bytes",
                       r->name, EXTRACT_MAX_TOTAL);
            json_decref(vars);
            vars = NULL;
            break;
        }
    }
    json_decref(doc);
    return vars;
}
