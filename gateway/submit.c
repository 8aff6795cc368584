/*  submit — POST /v1/jobs.

    Two bodies, one path into the broker (ingest.c):
      application/json      {"name", "key", "priority", "defaults", "tasks": [...]},
                            whole, up to --max-body bytes;
      application/x-ndjson  one task per line (the CLI's jsonl format), any
                            length, read as it arrives in constant memory;
                            the job options come as query parameters
                            (?name=&key=&priority=&defaults={json}).
    With "pipeline" (the body's field, or ?pipeline={json} for NDJSON: the
    steps of a pipeline file, docs/pipelines.md) every task is an item, a
    JSON object of variables, as the lines of `shoal submit --pipeline`:
    the first step is rendered here, unknown variables are the item's 400.
    An item {"vars": {...}, "steps": [...]} brings its own steps (with or
    without a pipeline), checked the same way.
    Either answers 201 {"job", "tasks", "key", "resumed"} once every task is
    committed and the job sealed. A bad task answers 400 naming its index
    (JSON) or line (NDJSON) and why; the tasks before it are committed and
    kept, the job stays open, and the same POST with the same key (fixed)
    goes on after them. Without a key the gateway makes one ("auto-...")
    and says it in every answer, so a cut-off upload can be resumed. */
#include "gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clock.h"
#include "ingest.h"
#include "input.h"
#include "pipeline.h"
#include "text.h"

typedef struct {
    bool        ndjson;             //  streamed body, else one JSON document
    Shoal__JobOpen open;            //  name, key, priority, defaults
    Shoal__JobDefaults *defaults;   //  owned
    pipeline_t *pipeline;           //  owned: tasks are items of its steps; NULL: plain tasks
    char       *pipeline_text;      //  owned: its canonical JSON, for the broker
    char       *name;               //  owned strings of `open`
    char       *key;
    ingest_t   *ingest;
    char       *buf;                //  JSON: the whole body; NDJSON: the current line
    size_t      len, cap;
    uint64_t    line_no;            //  NDJSON lines read
    bool        too_long;           //  the current line passed --max-line: skip to its end
    bool        too_big;            //  the JSON body passed --max-body
    bool        tried_early;        //  the 413 was tried before the body's end
    bool        failed;             //  stopped: a response is due (pending_*)
    unsigned    pending_status;
    json_t     *pending;            //  the error body to answer with at the end
} submit_t;

static void
s_free(void *arg)
{
    submit_t *s = arg;
    if (!s)
        return;
    ingest_destroy(&s->ingest);
    if (s->defaults)
        shoal__job_defaults__free_unpacked(s->defaults, NULL);
    json_decref(s->pending);
    pipeline_destroy(&s->pipeline);
    free(s->pipeline_text);
    free(s->name);
    free(s->key);
    free(s->buf);
    free(s);
}

//  The job's options from a JSON object (body or query), into s->open.
static int
s_options(req_t *req, submit_t *s, const char *name, const char *key, json_t *priority, json_t *defaults,
          json_t *pipeline, char *err, size_t errlen)
{
    char auto_key[64];
    if (key && (!*key || strlen(key) > 200)) {
        snprintf(err, errlen, "key must be 1..200 characters");
        return -1;
    }
    if (name && strlen(name) > 1000) {
        snprintf(err, errlen, "name must be at most 1000 characters");
        return -1;
    }
    if (!key) {
        snprintf(auto_key, sizeof auto_key, "auto-%llx-%x", (unsigned long long) clock_wall_us(),
                 (unsigned) (getpid() ^ (uintptr_t) req));
        key = auto_key;
    }
    json_int_t prio = 1;
    if (priority) {
        prio = json_is_integer(priority) ? json_integer_value(priority) : -1;
        if (prio < 1 || prio > 1000) {
            snprintf(err, errlen, "priority must be an integer 1..1000");
            return -1;
        }
    }
    if (defaults) {
        if (!json_is_object(defaults)) {
            snprintf(err, errlen, "defaults must be a JSON object of task fields");
            return -1;
        }
        char inner[512];
        s->defaults = input_defaults_from_json(defaults, inner, sizeof inner);
        if (!s->defaults) {
            snprintf(err, errlen, "defaults: %s", inner);
            return -1;
        }
    }
    else {
        s->defaults = calloc(1, sizeof *s->defaults);
        if (s->defaults)
            shoal__job_defaults__init(s->defaults);
    }
    s->name = strdup(name ? name : "http");
    s->key = strdup(key);
    if (!s->defaults || !s->name || !s->key) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    shoal__job_open__init(&s->open);
    s->open.name = s->name;
    s->open.key = s->key;
    s->open.has_priority = 1;
    s->open.priority = (uint32_t) prio;
    s->open.defaults = s->defaults;
    if (pipeline) {
        char inner[512];
        s->pipeline = pipeline_from_json(pipeline, inner, sizeof inner);
        json_t *canon = s->pipeline ? pipeline_json(s->pipeline) : NULL;
        s->pipeline_text = canon ? json_dumps(canon, JSON_COMPACT) : NULL;
        json_decref(canon);
        if (!s->pipeline_text) {
            snprintf(err, errlen, "pipeline: %s", s->pipeline ? "out of memory" : inner);
            return -1;
        }
        s->open.pipeline = s->pipeline_text;
    }
    return 0;
}

//  One task of the body (a task object, or a pipeline's item of variables)
//  into a spec; NULL with why in err (without the item's place: the caller adds it).
static Shoal__TaskSpec *
s_task(submit_t *s, json_t *v, char *err, size_t errlen)
{
    if (!json_is_object(v)) {
        snprintf(err, errlen, "%s", s->pipeline ? "an item is a JSON object of variables"
                                                : "a task must be a JSON object");
        return NULL;
    }
    if (!s->pipeline && !input_item_has_steps(v, false))
        return input_task_from_json(v, false, err, errlen);
    //  an item: variables, or its own {"vars", "steps"} (docs/pipelines.md)
    Shoal__TaskSpec *spec = NULL;
    char inner[700];
    json_t *vars = json_deep_copy(v);   //  input_item_line turns numbers into text in place
    if (!vars || input_item_line(s->pipeline, vars, "item", 0, &spec, inner, sizeof inner) < 0)
        spec = NULL;
    json_decref(vars);
    if (!spec) {
        //  "item:0: why": the caller says which item
        const char *why = !vars ? "out of memory" : strncmp(inner, "item:0: ", 8) ? inner : inner + 8;
        snprintf(err, errlen, "%s", why);
    }
    return spec;
}

//  Open the job at the broker; answers the error itself.
static int
s_open(req_t *req, submit_t *s)
{
    link_t *link = gw_link(req);
    if (!link)
        return -1;
    s->ingest = ingest_new(link, &s->open, (size_t) req->gw->cfg.chunk, (size_t) req->gw->cfg.window);
    int status = 0;
    char err[1024];
    if (!s->ingest) {
        gw_respond_error(req, 500, "out of memory");
        return -1;
    }
    if (ingest_open(s->ingest, &status, err, sizeof err)) {
        gw_respond_error(req, (unsigned) status, "cannot open the job: %s", err);
        return -1;
    }
    return 0;
}

//  Stop at a bad task: commit what came before (unsealed) and keep the
//  answer for the end of the body. `where` is "line" or "index".
static void
s_stop(req_t *req, submit_t *s, unsigned status, const char *where, uint64_t at, const char *why)
{
    char err[1024];
    int st = 0;
    json_t *o = json_object();
    if (s->ingest && ingest_finish(s->ingest, false, &st, err, sizeof err)) {
        status = (unsigned) st;
        json_object_set_new(o, "error", json_string(err));
    }
    else {
        char text[1200];
        if (where)
            snprintf(text, sizeof text, "%s %llu: %s", where, (unsigned long long) at, why);
        else
            snprintf(text, sizeof text, "%s", why);
        json_t *m = json_string(text);
        json_object_set_new(o, "error", m ? m : json_string("(message not valid UTF-8)"));
    }
    if (where)
        json_object_set_new(o, where, json_integer((json_int_t) at));
    json_object_set_new(o, "status", json_integer(status));
    if (s->ingest) {
        json_object_set_new(o, "job", json_integer(ingest_job_id(s->ingest)));
        json_object_set_new(o, "committed", json_integer((json_int_t) ingest_committed(s->ingest)));
        json_object_set_new(o, "key", json_string(s->key));
        json_object_set_new(o, "hint", json_string("the committed tasks are kept and the job is open:"
                            " fix the body and send the same POST with this key to continue"));
    }
    s->failed = true;
    s->pending_status = status;
    s->pending = o;
}

//  Answer 201 after sealing the job.
static void
s_done(req_t *req, submit_t *s)
{
    int status = 0;
    char err[1024];
    if (ingest_finish(s->ingest, true, &status, err, sizeof err)) {
        s_stop(req, s, (unsigned) status, NULL, 0, err);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "job", json_integer(ingest_job_id(s->ingest)));
    json_object_set_new(o, "tasks", json_integer((json_int_t) ingest_committed(s->ingest)));
    json_object_set_new(o, "key", json_string(s->key));
    json_object_set_new(o, "resumed", json_boolean(ingest_existed(s->ingest)));
    gw_respond_json(req, 201, o);
}

//  One NDJSON line (NUL-terminated at len).
static void
s_line(req_t *req, submit_t *s, char *line, size_t len)
{
    if (len && line[len - 1] == '\r')
        line[--len] = 0;
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p || *p == '#')
        return;
    char inner[700];
    if (!text_utf8_valid(line, len)) {
        s_stop(req, s, 400, "line", s->line_no, "not valid UTF-8");
        return;
    }
    json_error_t jerr;
    json_t *obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj) {
        snprintf(inner, sizeof inner, "bad JSON at column %d: %s", jerr.column, jerr.text);
        s_stop(req, s, 400, "line", s->line_no, inner);
        return;
    }
    Shoal__TaskSpec *spec = s_task(s, obj, inner, sizeof inner);
    json_decref(obj);
    if (!spec) {
        s_stop(req, s, 400, "line", s->line_no, inner);
        return;
    }
    int status = 0;
    char err[1024];
    if (ingest_add(s->ingest, spec, &status, err, sizeof err))
        s_stop(req, s, (unsigned) status, NULL, 0, err);
}

static int
s_ndjson_body(req_t *req, const char *data, size_t size, bool end)
{
    submit_t *s = req->state;
    size_t max = (size_t) req->gw->cfg.max_line;
    while (size && !s->failed) {
        const char *nl = memchr(data, '\n', size);
        size_t take = nl ? (size_t) (nl - data) : size;
        if (!s->too_long && s->len + take > max)
            s->too_long = true;
        if (!s->too_long) {
            memcpy(s->buf + s->len, data, take);
            s->len += take;
        }
        data += take + (nl ? 1 : 0);
        size -= take + (nl ? 1 : 0);
        if (!nl)
            break;
        s->line_no++;
        if (s->too_long) {
            char why[128];
            snprintf(why, sizeof why, "longer than %zu bytes (--max-line)", max);
            s_stop(req, s, 400, "line", s->line_no, why);
            break;
        }
        s->buf[s->len] = 0;
        s_line(req, s, s->buf, s->len);
        s->len = 0;
    }
    if (!end)
        return 0;
    if (!s->failed && (s->len || s->too_long)) {
        //  a last line without its newline
        s->line_no++;
        if (s->too_long)
            s_stop(req, s, 400, "line", s->line_no, "longer than --max-line");
        else {
            s->buf[s->len] = 0;
            s_line(req, s, s->buf, s->len);
        }
    }
    if (!s->failed)
        s_done(req, s);
    if (s->failed) {
        gw_respond_json(req, s->pending_status, s->pending);
        s->pending = NULL;
    }
    return -1;
}

//  The whole JSON document: options, then every task in order.
static void
s_json_document(req_t *req, submit_t *s)
{
    char err[1024];
    json_error_t jerr;
    json_t *doc = json_loadb(s->buf, s->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        gw_respond_error(req, 400, "the body is not valid JSON (line %d, column %d): %s", jerr.line,
                         jerr.column, jerr.text);
        return;
    }
    json_t *tasks = json_object_get(doc, "tasks");
    const char *bad = NULL;
    const char *k;
    json_t *v;
    json_object_foreach(doc, k, v)
        if (strcmp(k, "name") && strcmp(k, "key") && strcmp(k, "priority") && strcmp(k, "defaults")
        &&  strcmp(k, "tasks") && strcmp(k, "pipeline"))
            bad = k;
    if (!json_is_object(doc) || bad || !json_is_array(tasks)
    ||  (json_object_get(doc, "name") && !json_is_string(json_object_get(doc, "name")))
    ||  (json_object_get(doc, "key") && !json_is_string(json_object_get(doc, "key")))) {
        gw_respond_error(req, 400, "%s%s%s", !json_is_object(doc) ? "the body must be a JSON object"
                         : bad ? "unknown field: " : !json_is_array(tasks)
                         ? "\"tasks\" must be an array of task objects (of items with a pipeline)"
                         : "name and key must be strings",
                         bad ? bad : "", "");
        json_decref(doc);
        return;
    }
    if (s_options(req, s, json_string_value(json_object_get(doc, "name")),
                  json_string_value(json_object_get(doc, "key")), json_object_get(doc, "priority"),
                  json_object_get(doc, "defaults"), json_object_get(doc, "pipeline"), err, sizeof err)) {
        gw_respond_error(req, 400, "%s", err);
        json_decref(doc);
        return;
    }
    if (s_open(req, s)) {
        json_decref(doc);
        return;
    }
    size_t i;
    json_array_foreach(tasks, i, v) {
        char inner[700];
        Shoal__TaskSpec *spec = s_task(s, v, inner, sizeof inner);
        if (!spec) {
            s_stop(req, s, 400, "index", i, inner);
            break;
        }
        int status = 0;
        if (ingest_add(s->ingest, spec, &status, err, sizeof err)) {
            s_stop(req, s, (unsigned) status, NULL, 0, err);
            break;
        }
    }
    json_decref(doc);
    if (!s->failed)
        s_done(req, s);
    if (s->failed) {
        gw_respond_json(req, s->pending_status, s->pending);
        s->pending = NULL;
    }
}

static int
s_json_body(req_t *req, const char *data, size_t size, bool end)
{
    submit_t *s = req->state;
    size_t max = (size_t) req->gw->cfg.max_body;
    if (s->too_big || s->len + size > max) {
        //  answered now if libmicrohttpd lets us, else at the body's end
        s->too_big = true;
        if (!req->responded && (end || !s->tried_early)) {
            s->tried_early = true;
            gw_respond_error(req, 413, "the JSON body is over %zu bytes (--max-body); stream large jobs"
                             " as application/x-ndjson", max);
        }
        return -1;
    }
    if (s->len + size + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 65536;
        while (cap < s->len + size + 1)
            cap *= 2;
        char *grown = realloc(s->buf, cap);
        if (!grown) {
            gw_respond_error(req, 500, "out of memory");
            return -1;
        }
        s->buf = grown;
        s->cap = cap;
    }
    if (size)
        memcpy(s->buf + s->len, data, size);
    s->len += size;
    if (end)
        s_json_document(req, s);
    return end ? -1 : 0;
}

//  The NDJSON options from the query string.
static int
s_query_options(req_t *req, submit_t *s, char *err, size_t errlen)
{
    json_t *prio = NULL, *defaults = NULL, *pipeline = NULL;
    const char *p = gw_query(req, "priority");
    if (p) {
        char *end;
        long v = strtol(p, &end, 10);
        prio = json_integer(*p && !*end ? v : -1);
    }
    const char *d = gw_query(req, "defaults");
    int rc = 0;
    if (d) {
        json_error_t jerr;
        defaults = json_loads(d, JSON_REJECT_DUPLICATES, &jerr);
        if (!defaults) {
            snprintf(err, errlen, "defaults= is not valid JSON: %s", jerr.text);
            rc = -1;
        }
    }
    const char *pl = gw_query(req, "pipeline");
    if (!rc && pl) {
        json_error_t jerr;
        pipeline = json_loads(pl, JSON_REJECT_DUPLICATES, &jerr);
        if (!pipeline) {
            snprintf(err, errlen, "pipeline= is not valid JSON: %s", jerr.text);
            rc = -1;
        }
    }
    if (!rc)
        rc = s_options(req, s, gw_query(req, "name"), gw_query(req, "key"), prio, defaults, pipeline, err, errlen);
    json_decref(prio);
    json_decref(defaults);
    json_decref(pipeline);
    return rc;
}

enum MHD_Result
submit_start(req_t *req)
{
    gw_t *gw = req->gw;
    const char *type = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Type");
    const char *length = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Length");
    bool ndjson = type && (!strncasecmp(type, "application/x-ndjson", 20) || !strncasecmp(type, "application/jsonl", 17));
    if (type && !ndjson && strncasecmp(type, "application/json", 16))
        return gw_respond_error(req, 415, "Content-Type must be application/json or application/x-ndjson"
                                " (got '%s')", type);
    if (!ndjson && length && strtoull(length, NULL, 10) > (unsigned long long) gw->cfg.max_body)
        return gw_respond_error(req, 413, "the JSON body is over %lld bytes (--max-body); stream large jobs"
                                " as application/x-ndjson", (long long) gw->cfg.max_body);
    submit_t *s = calloc(1, sizeof *s);
    if (!s)
        return MHD_NO;
    req->state = s;
    req->free_state = s_free;
    s->ndjson = ndjson;
    if (!ndjson) {
        req->on_body = s_json_body;
        return MHD_YES;
    }
    char err[1024];
    if (s_query_options(req, s, err, sizeof err))
        return gw_respond_error(req, 400, "%s", err);
    s->buf = malloc((size_t) gw->cfg.max_line + 1);
    if (!s->buf)
        return MHD_NO;
    if (s_open(req, s))
        return MHD_YES;
    req->on_body = s_ndjson_body;
    return MHD_YES;
}
