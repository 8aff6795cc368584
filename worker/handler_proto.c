/*  handler_proto — encoding task lines and judging answer lines (jansson). */
#include "handler_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "errbuf.h"

//  Compact JSON of v, or NULL when it is larger than HANDLER_MAX_OUTPUT
//  (*too_big set) or cannot be encoded.
static char *
s_dump_bounded(const json_t *v, bool *too_big)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text && strlen(text) > HANDLER_MAX_OUTPUT) {
        free(text);
        *too_big = true;
        return NULL;
    }
    return text;
}

char *
handler_proto_task_line(const char *id, uint32_t attempt, int64_t deadline_ms, const char *payload,
                        const char *vars, size_t *len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *p = payload ? json_loads(payload, JSON_DECODE_ANY, &jerr) : json_object();
    if (!p) {
        errbuf_set(err, errlen, "handler.payload: %s (at character %d)", jerr.text, jerr.position);
        return NULL;
    }
    json_t *v = NULL;
    if (vars) {
        v = json_loads(vars, 0, &jerr);
        if (!v || !json_is_object(v)) {
            errbuf_set(err, errlen, "vars: %s", v ? "not an object" : jerr.text);
            json_decref(p);
            json_decref(v);
            return NULL;
        }
    }
    json_t *msg = json_pack("{s:s, s:I, s:I, s:o}", "id", id, "attempt", (json_int_t) attempt, "deadline_ms",
                            (json_int_t) deadline_ms, "payload", p);
    if (msg && v)
        json_object_set_new(msg, "vars", v);
    else
        json_decref(v);
    char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    if (!text) {
        errbuf_set(err, errlen, "out of memory encoding the task line");
        return NULL;
    }
    size_t n = strlen(text);
    char *line = realloc(text, n + 2);
    if (!line) {
        free(text);
        errbuf_set(err, errlen, "out of memory encoding the task line");
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    *len = n + 1;
    return line;
}

static void
s_bad(hanswer_t *a, const char *why)
{
    a->kind = HANSWER_BAD;
    free(a->id);
    a->id = NULL;
    a->error = strdup(why);
}

void
handler_proto_parse(const char *line, size_t len, hanswer_t *a)
{
    memset(a, 0, sizeof *a);
    json_error_t jerr;
    json_t *msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!msg) {
        char why[256];
        snprintf(why, sizeof why, "not JSON: %s", jerr.text);
        s_bad(a, why);
        return;
    }
    if (!json_is_object(msg)) {
        s_bad(a, "not a JSON object");
        json_decref(msg);
        return;
    }
    json_t *ready = json_object_get(msg, "ready");
    json_t *id = json_object_get(msg, "id");
    json_t *ok = json_object_get(msg, "ok");
    if (ready && !id) {
        if (json_is_true(ready))
            a->kind = HANSWER_READY;
        else
            s_bad(a, "\"ready\" must be true");
        json_decref(msg);
        return;
    }
    if (!json_is_string(id) || !json_is_boolean(ok)) {
        s_bad(a, !json_is_string(id) ? "no \"id\" string" : "no \"ok\" boolean");
        json_decref(msg);
        return;
    }
    a->id = strdup(json_string_value(id));
    if (json_is_true(ok)) {
        a->kind = HANSWER_OK;
        json_t *output = json_object_get(msg, "output");
        json_t *vars = json_object_get(msg, "vars");
        if (vars && !json_is_object(vars) && !json_is_null(vars)) {
            s_bad(a, "\"vars\" must be an object");
            json_decref(msg);
            return;
        }
        if (output && !json_is_null(output))
            a->output = s_dump_bounded(output, &a->too_big);
        if (vars && json_is_object(vars) && !a->too_big)
            a->vars = s_dump_bounded(vars, &a->too_big);
        if (a->too_big) {
            free(a->output);
            free(a->vars);
            a->output = a->vars = NULL;
            a->kind = HANSWER_FAIL;
            a->retry = false;
            char why[128];
            snprintf(why, sizeof why, "the answer's output or vars is larger than %u bytes as JSON",
                     HANDLER_MAX_OUTPUT);
            a->error = strdup(why);
        }
    }
    else {
        a->kind = HANSWER_FAIL;
        json_t *error = json_object_get(msg, "error");
        json_t *retry = json_object_get(msg, "retry");
        if (retry && !json_is_boolean(retry)) {
            s_bad(a, "\"retry\" must be true or false");
            json_decref(msg);
            return;
        }
        a->retry = retry ? json_is_true(retry) : true;
        if (json_is_string(error))
            a->error = strdup(json_string_value(error));
        else
            a->error = error ? json_dumps(error, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("the handler said ok: false");
        if (a->error && strlen(a->error) > 4096)
            a->error[4096] = '\0';
    }
    json_decref(msg);
}

void
handler_proto_clear(hanswer_t *a)
{
    free(a->id);
    free(a->output);
    free(a->vars);
    free(a->error);
    memset(a, 0, sizeof *a);
}
