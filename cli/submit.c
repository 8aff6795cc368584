/*  submit — stream tasks to the broker in chunks, with a window of chunks
    in flight, each acked only after it is committed.

    Memory stays constant: the input is read as it is sent, and a chunk's
    specs are kept only until its ack. With --key the submit is idempotent:
    run the same command again after it was killed or cut off and it
    resumes at the broker's committed count, so no task is missing and none
    is doubled. Chunks of the killed run may still reach the broker after
    the rerun started; the broker's guard on the committed count refuses
    whichever copy comes second (a conflict), and the rerun then asks for
    the committed count again and goes on from there (s_reconcile). A bad
    input line stops the submit before the job is sealed (or is skipped
    with --skip-invalid); what was committed stays committed. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "config.h"
#include "input.h"
#include "taskspec.h"
#include "text.h"
#include "wire.h"

#define MAX_WINDOW      64
#define MAX_CHUNK_BYTES (4u << 20)  //  a chunk is sent once its specs pass this size
#define MAX_RECONCILES  20          //  conflicts resolved per run before giving up

//  One chunk sent and not yet acked.
typedef struct {
    uint64_t corr;                  //  request id
    uint64_t first_seq;             //  seq of specs[0]
    size_t   count;                 //  specs in the chunk
    bool     seal;                  //  the job's last chunk
    Shoal__TaskSpec **specs;        //  owned until the ack: sent again after a conflict
    Shoal__Envelope *reply;         //  its answer, when it came before an older chunk's
} inflight_t;

typedef struct {
    cli_globals_t *g;
    client_t  *client;
    input_t   *input;               //  to skip tasks an earlier run committed meanwhile
    Shoal__JobOpen *open;           //  to ask for the committed count again
    uint32_t   job_id;
    uint64_t   sent;                //  next seq to send
    uint64_t   committed;           //  tasks the broker committed (as last told)
    uint64_t   resumed_at;          //  committed when this run started
    uint64_t   total;               //  tasks in the input when known in advance, else 0
    inflight_t window[MAX_WINDOW];  //  ring of chunks in flight
    size_t     head, count;
    size_t     max_window;
    Shoal__TaskSpec **partial;      //  tasks read and not sent: the next chunk (+ 1 read ahead)
    size_t     n_partial;
    size_t     partial_bytes;
    size_t     chunk_size;          //  tasks per chunk
    bool       seal_sent;           //  a chunk that seals the job is in flight or acked
    bool       complete;            //  an earlier run sealed the job meanwhile
    int        reconciles;
    bool       tty;                 //  show the progress line
    bool       quiet;               //  no notes on stderr
    int64_t    started_ms;
    int64_t    last_progress_ms;
    char       error[1024];
    int        error_code;          //  exit code when stopped by an error, else 0
    Shoal__ErrorCode broker_error;  //  code of the Error reply that stopped the submit
} submit_t;

static void
s_progress(submit_t *s, bool final)
{
    if (!s->tty)
        return;
    int64_t now = clock_mono_ms();
    if (!final && now - s->last_progress_ms < 250)
        return;
    s->last_progress_ms = now;
    double secs = (double) (now - s->started_ms) / 1000.0;
    char sent[32], committed[32], total[32] = "", rate[32];
    if (s->total)
        snprintf(total, sizeof total, " of %s (%.1f%%)", text_thousands(s->total, rate, sizeof rate),
                 100.0 * (double) s->committed / (double) s->total);
    uint64_t done = s->committed > s->resumed_at ? s->committed - s->resumed_at : 0;
    fprintf(stderr, "\r\033[Kjob %u: sent %s, committed %s%s, %s tasks/s", s->job_id,
            text_thousands(s->sent, sent, sizeof sent), text_thousands(s->committed, committed, sizeof committed),
            total, text_thousands(secs > 0 ? (unsigned long long) ((double) done / secs) : 0, rate, sizeof rate));
    if (final)
        fprintf(stderr, "\n");
}

static void
s_free_specs(Shoal__TaskSpec **specs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (specs[i])
            shoal__task_spec__free_unpacked(specs[i], NULL);
    free(specs);
}

static int
s_fail(submit_t *s, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

//  Stop the submit with a message and an exit code; returns -1.
static int
s_fail(submit_t *s, int code, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, args);
    va_end(args);
    s->error_code = code;
    return -1;
}

//  Send specs[0..n) as the chunk starting at s->sent; the window takes
//  ownership of specs (freed here when the send fails). The caller made
//  room in the window.
static int
s_send(submit_t *s, Shoal__TaskSpec **specs, size_t n, bool seal)
{
    Shoal__SubmitChunk chunk = SHOAL__SUBMIT_CHUNK__INIT;
    chunk.has_job_id = chunk.has_first_seq = 1;
    chunk.job_id = s->job_id;
    chunk.first_seq = s->sent;
    chunk.tasks = specs;
    chunk.n_tasks = n;
    chunk.has_seal = seal;
    chunk.seal = seal;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_SUBMIT_CHUNK;
    env.submit_chunk = &chunk;
    uint64_t corr = client_send(s->client, &env);
    if (!corr) {
        s_free_specs(specs, n);
        return s_fail(s, EXIT_UNREACHABLE, "cannot reach the broker at %s (no connection within %lld ms)",
                      s->g->broker, (long long) s->g->timeout_ms);
    }
    inflight_t *f = &s->window[(s->head + s->count) % MAX_WINDOW];
    *f = (inflight_t) { .corr = corr, .first_seq = s->sent, .count = n, .seal = seal, .specs = specs };
    s->count++;
    s->sent += n;
    if (seal)
        s->seal_sent = true;
    return 0;
}

//  The answer to the chunk at position i of the window. Answers to other
//  chunks that arrive first are kept with their chunks: a refusal can
//  overtake the acks of older chunks. NULL when none came in time.
static Shoal__Envelope *
s_answer(submit_t *s, size_t i)
{
    inflight_t *want = &s->window[(s->head + i) % MAX_WINDOW];
    int64_t deadline = clock_mono_ms() + s->g->timeout_ms;
    while (!want->reply) {
        int64_t left = deadline - clock_mono_ms();
        Shoal__Envelope *env = left > 0 ? client_recv(s->client, 0, (int) left) : NULL;
        if (!env)
            return NULL;
        for (size_t k = 0; env && k < s->count; k++) {
            inflight_t *f = &s->window[(s->head + k) % MAX_WINDOW];
            if (env->has_corr && env->corr == f->corr && !f->reply) {
                f->reply = env;
                env = NULL;
            }
        }
        wire_free(env);         //  a late answer to an earlier request
    }
    Shoal__Envelope *reply = want->reply;
    want->reply = NULL;
    return reply;
}

//  Drop the oldest in-flight chunk (acked or given up).
static void
s_pop(submit_t *s)
{
    inflight_t *f = &s->window[s->head];
    s_free_specs(f->specs, f->count);
    wire_free(f->reply);
    *f = (inflight_t) { 0 };
    s->head = (s->head + 1) % MAX_WINDOW;
    s->count--;
}

//  Drop the first n specs of the partial chunk.
static void
s_trim_partial(submit_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        shoal__task_spec__free_unpacked(s->partial[i], NULL);
    memmove(s->partial, s->partial + n, (s->n_partial - n) * sizeof *s->partial);
    s->n_partial -= n;
    s->partial_bytes = 0;
    for (size_t i = 0; i < s->n_partial; i++)
        s->partial_bytes += shoal__task_spec__get_packed_size(s->partial[i]);
}

//  The oldest chunk met a conflict: the job's committed count is not what
//  this run thinks, because chunks of an earlier, killed run of the same
//  submit were committed meanwhile (same input, same tasks). Collect the
//  answers still due, ask for the committed count again, drop what is
//  committed, send the rest again from there. Returns 0, or -1 with
//  s->error set.
static int
s_reconcile(submit_t *s)
{
    if (++s->reconciles > MAX_RECONCILES)
        return -1;                  //  keep the conflict as the error
    //  the chunks behind the one refused: their answers, whatever they are
    for (size_t i = 1; i < s->count; i++) {
        Shoal__Envelope *reply = s_answer(s, i);
        if (!reply)
            return s_fail(s, EXIT_UNREACHABLE, "no answer from the broker at %s within %lld ms",
                          s->g->broker, (long long) s->g->timeout_ms);
        wire_free(reply);
    }
    char err[1024];
    int code = 0;
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_JOB_OPEN;
    req.job_open = s->open;
    Shoal__Envelope *reply = client_call(s->client, &req, err, sizeof err, &code);
    if (!reply || reply->body_case != SHOAL__ENVELOPE__BODY_JOB_OPENED) {
        bool answered = reply != NULL;
        wire_free(reply);
        return s_fail(s, answered ? EXIT_REFUSED : code, "asking for the committed count again: %s",
                      answered ? "unexpected reply" : err);
    }
    uint64_t committed = reply->job_opened->committed;
    bool sealed = reply->job_opened->sealed;
    wire_free(reply);
    uint64_t first = s->window[s->head].first_seq;
    if (committed < first)
        return s_fail(s, EXIT_REFUSED, "job %u has %llu tasks committed, fewer than the %llu acknowledged",
                      s->job_id, (unsigned long long) committed, (unsigned long long) first);
    if (!s->quiet)
        fprintf(stderr, "%sshoal submit: job %u: the chunk at task %llu was refused, chunks of another"
                " run of this submit (an earlier, killed one?) came first; going on from task %llu\n",
                s->tty ? "\r\033[K" : "", s->job_id, (unsigned long long) first,
                (unsigned long long) committed);
    s->committed = committed;
    uint64_t old_sent = s->sent;
    if (sealed) {
        //  an earlier run reached the end of the input and sealed the job
        while (s->count)
            s_pop(s);
        s_trim_partial(s, s->n_partial);
        s->sent = committed;
        s->complete = true;
        return 0;
    }
    //  send the chunks again from the committed count
    size_t n = s->count;
    inflight_t chunks[MAX_WINDOW];
    for (size_t i = 0; i < n; i++)
        chunks[i] = s->window[(s->head + i) % MAX_WINDOW];
    s->head = s->count = 0;
    memset(s->window, 0, sizeof s->window);
    s->sent = committed;
    s->seal_sent = false;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        inflight_t *c = &chunks[i];
        uint64_t end = c->first_seq + c->count;
        if (rc || end <= committed) {
            s_free_specs(c->specs, c->count);
            wire_free(c->reply);
            continue;
        }
        size_t skip = committed > c->first_seq ? (size_t) (committed - c->first_seq) : 0;
        for (size_t k = 0; k < skip; k++)
            shoal__task_spec__free_unpacked(c->specs[k], NULL);
        memmove(c->specs, c->specs + skip, (c->count - skip) * sizeof *c->specs);
        wire_free(c->reply);
        rc = s_send(s, c->specs, c->count - skip, c->seal);
    }
    if (rc)
        return -1;
    if (committed > old_sent) {
        //  the earlier run got past everything this one sent: drop what it
        //  committed from the tasks in hand, then from the input
        uint64_t beyond = committed - old_sent;
        size_t from_partial = beyond < s->n_partial ? (size_t) beyond : s->n_partial;
        s_trim_partial(s, from_partial);
        beyond -= from_partial;
        if (beyond && input_skip(s->input, beyond) < beyond)
            return s_fail(s, EXIT_INPUT, "job %u already has %llu tasks but the input has fewer;"
                          " is this the same input?", s->job_id, (unsigned long long) committed);
    }
    return 0;
}

//  Wait for the oldest chunk's answer: an ack, or a conflict that
//  s_reconcile resolves. Returns 0, or -1 with s->error set.
static int
s_wait_ack(submit_t *s)
{
    Shoal__Envelope *reply = s_answer(s, 0);
    if (!reply) {
        s_fail(s, EXIT_UNREACHABLE, "no answer from the broker at %s within %lld ms",
               s->g->broker, (long long) s->g->timeout_ms);
        client_explain_silence(s->client, s->error, sizeof s->error, &s->error_code);
        return -1;
    }
    int rc = 0;
    if (reply->body_case == SHOAL__ENVELOPE__BODY_SUBMIT_ACK) {
        s->committed = reply->submit_ack->committed;
        s_pop(s);
    }
    else
    if (reply->body_case == SHOAL__ENVELOPE__BODY_ERROR) {
        client_error_text(reply, s->error, sizeof s->error);
        s->error_code = EXIT_REFUSED;
        s->broker_error = reply->error->has_code ? reply->error->code : SHOAL__ERROR_CODE__ERR_INTERNAL;
        rc = -1;
        if (s->broker_error == SHOAL__ERROR_CODE__ERR_CONFLICT && s_reconcile(s) == 0) {
            s->error_code = 0;
            s->broker_error = SHOAL__ERROR_CODE__ERR_NONE;
            rc = 0;
        }
    }
    else
        rc = s_fail(s, EXIT_REFUSED, "unexpected reply '%s' to a chunk", wire_body_name(reply));
    wire_free(reply);
    s_progress(s, false);
    return rc;
}

//  Send the tasks in hand as a chunk (sealing the job with it when
//  `seal`), after making room in the window; `keep_last` keeps the last
//  one back (read ahead, so that the input's last chunk can seal the job).
//  Making room can shrink the tasks in hand (s_reconcile). Returns 0, or
//  -1 with s->error set.
static int
s_flush(submit_t *s, bool seal, bool keep_last)
{
    while (s->count >= s->max_window && !s->complete)
        if (s_wait_ack(s))
            return -1;
    size_t keep = keep_last && s->n_partial ? 1 : 0;
    if (s->complete || s->n_partial == keep)
        return 0;
    Shoal__TaskSpec **fresh = calloc(s->chunk_size + 1, sizeof *fresh);
    if (!fresh)
        return s_fail(s, EXIT_INPUT, "out of memory");
    Shoal__TaskSpec **specs = s->partial;
    size_t n = s->n_partial - keep;
    s->partial = fresh;
    s->n_partial = 0;
    s->partial_bytes = 0;
    if (keep) {
        s->partial[s->n_partial++] = specs[n];
        s->partial_bytes = shoal__task_spec__get_packed_size(specs[n]);
        specs[n] = NULL;
    }
    return s_send(s, specs, n, seal);
}

//  Wait until every chunk in flight is answered.
static int
s_drain(submit_t *s)
{
    while (s->count && !s->complete)
        if (s_wait_ack(s))
            return -1;
    return 0;
}

//  After a failure: how many tasks the broker holds (asked again, since
//  chunks after the last ack may have committed) and how to go on.
static void
s_report_committed(submit_t *s, const char *key)
{
    char err[1024];
    int code = 0;
    uint64_t committed = s->committed;
    bool exact = false;
    if (s->error_code == EXIT_REFUSED) {
        Shoal__Envelope *reply = cli_get_status(s->client, s->job_id, err, sizeof err, &code);
        if (reply) {
            committed = reply->status_reply->job->total;
            exact = true;
            wire_free(reply);
        }
    }
    fprintf(stderr, "shoal submit: %s%llu tasks are committed and kept; run the same command with"
            " --key %s to continue where they end\n", exact ? "" : "at least ",
            (unsigned long long) committed, key);
}

//  Job defaults from the command line.
typedef struct {
    const char *name, *key, *format, *url_template, *defaults_json, *csv_delimiter;
    int64_t priority, count, sleep_ms, chunk, window, max_line;
    int64_t max_attempts, backoff_ms, backoff_max_ms, timeout_ms, per_host, connect_timeout_ms;
    int64_t max_redirects, max_response_bytes, inline_limit;
    double rate_per_host;
    const char *method, *body, *store, *retry_status;
    strlist_t headers;
    bool insecure, follow, no_follow, skip_invalid, wait, quiet;
} submit_opts_t;

static int
s_set(json_t *obj, const char *key, json_t *value)
{
    return json_object_set_new(obj, key, value);
}

//  Build job defaults from the flags (through the same JSON mapping as input).
static Shoal__JobDefaults *
s_defaults(const submit_opts_t *o, char *err, size_t errlen)
{
    json_t *d = NULL;
    if (o->defaults_json) {
        json_error_t jerr;
        d = json_loads(o->defaults_json, 0, &jerr);
        if (!json_is_object(d)) {
            snprintf(err, errlen, "--defaults: not a JSON object (%s)", d ? "wrong type" : jerr.text);
            json_decref(d);
            return NULL;
        }
    }
    else
        d = json_object();
    if (o->max_attempts >= 0)   s_set(d, "max_attempts", json_integer(o->max_attempts));
    if (o->backoff_ms >= 0)     s_set(d, "backoff_ms", json_integer(o->backoff_ms));
    if (o->backoff_max_ms >= 0) s_set(d, "backoff_max_ms", json_integer(o->backoff_max_ms));
    if (o->timeout_ms >= 0)     s_set(d, "timeout_ms", json_integer(o->timeout_ms));
    if (o->per_host >= 0)       s_set(d, "max_per_host", json_integer(o->per_host));
    if (o->rate_per_host > 0)   s_set(d, "rate_per_host", json_real(o->rate_per_host));
    if (o->connect_timeout_ms >= 0) s_set(d, "connect_timeout_ms", json_integer(o->connect_timeout_ms));
    if (o->max_redirects >= 0)  s_set(d, "max_redirects", json_integer(o->max_redirects));
    if (o->max_response_bytes >= 0) s_set(d, "max_response_bytes", json_integer(o->max_response_bytes));
    if (o->inline_limit >= 0)   s_set(d, "inline_limit", json_integer(o->inline_limit));
    if (o->method)              s_set(d, "method", json_string(o->method));
    if (o->body)                s_set(d, "body", json_string(o->body));
    if (o->store)               s_set(d, "store", json_string(o->store));
    if (o->insecure)            s_set(d, "insecure", json_true());
    if (o->follow)              s_set(d, "follow_redirects", json_true());
    if (o->no_follow)           s_set(d, "follow_redirects", json_false());
    if (o->headers.count) {
        json_t *h = json_array();
        for (size_t i = 0; i < o->headers.count; i++)
            json_array_append_new(h, json_string(o->headers.items[i]));
        s_set(d, "headers", h);
    }
    if (o->retry_status) {
        json_t *list = json_array();
        char buf[512];
        snprintf(buf, sizeof buf, "%s", o->retry_status);
        for (char *tok = strtok(buf, ", "); tok; tok = strtok(NULL, ", ")) {
            char *end;
            long v = strtol(tok, &end, 10);
            if (*end || v < 100 || v > 599) {
                snprintf(err, errlen, "--retry-status: '%s' is not an HTTP status", tok);
                json_decref(list);
                json_decref(d);
                return NULL;
            }
            json_array_append_new(list, json_integer(v));
        }
        s_set(d, "retry_status", list);
    }
    char inner[512];
    Shoal__JobDefaults *defaults = input_defaults_from_json(d, inner, sizeof inner);
    json_decref(d);
    if (!defaults)
        snprintf(err, errlen, "job defaults: %s", inner);
    return defaults;
}

static const char *
s_guess_format(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (dot && !strcmp(dot, ".csv"))
        return "csv";
    if (dot && (!strcmp(dot, ".txt") || !strcmp(dot, ".urls") || !strcmp(dot, ".lst")))
        return "urls";
    return "jsonl";
}

int
cmd_submit(cli_globals_t *g, int argc, char **argv)
{
    submit_opts_t o = {
        .priority = 1, .count = -1, .sleep_ms = 0, .chunk = 5000, .window = 8, .max_line = 1 << 20,
        .max_attempts = -1, .backoff_ms = -1, .backoff_max_ms = -1, .timeout_ms = -1, .per_host = -1,
        .connect_timeout_ms = -1, .max_redirects = -1, .max_response_bytes = -1, .inline_limit = -1,
    };
    opt_t opts[] = {
        { "name", 'n', NULL, OPT_STRING, &o.name, "NAME", "job name (default: the file name or template)" },
        { "key", 'k', NULL, OPT_STRING, &o.key, "KEY", "idempotency key: the same key resumes the same job" },
        { "format", 'f', NULL, OPT_STRING, &o.format, "FMT", "jsonl, urls or csv (default from the file name, else jsonl)" },
        { "csv-delimiter", 0, NULL, OPT_STRING, &o.csv_delimiter, "D", "CSV delimiter: ',', ';' or tab (default: detected from the header)" },
        { "url-template", 't', NULL, OPT_STRING, &o.url_template, "URL", "generate tasks: 'https://h/p/{1..1000}' ({FIRST..LAST..STEP}, {001..100} pads)" },
        { "count", 0, NULL, OPT_INT, &o.count, "N", "submit N noop tasks (tests, benchmarks)" },
        { "sleep-ms", 0, NULL, OPT_INT, &o.sleep_ms, "MS", "with --count: each noop task sleeps this long" },
        { "priority", 'p', NULL, OPT_INT, &o.priority, "N", "share weight against other jobs, 1..1000 (default 1)" },
        { "max-attempts", 0, NULL, OPT_INT, &o.max_attempts, "N", "attempts per task (default 3)" },
        { "backoff-ms", 0, NULL, OPT_INT, &o.backoff_ms, "MS", "first retry delay, doubling (default 1000)" },
        { "backoff-max-ms", 0, NULL, OPT_INT, &o.backoff_max_ms, "MS", "longest retry delay (default 60000)" },
        { "retry-status", 0, NULL, OPT_STRING, &o.retry_status, "LIST", "HTTP statuses to retry (default 429 and 5xx)" },
        { "timeout-ms", 0, NULL, OPT_INT, &o.timeout_ms, "MS", "task timeout (default 60000)" },
        { "per-host", 0, NULL, OPT_INT, &o.per_host, "N", "at most N requests at once per target host" },
        { "rate-per-host", 0, NULL, OPT_DOUBLE, &o.rate_per_host, "R", "at most R requests per second per host" },
        { "method", 'X', NULL, OPT_STRING, &o.method, "METHOD", "default HTTP method" },
        { "header", 'H', NULL, OPT_LIST, &o.headers, "'N: V'", "default HTTP header (repeatable)" },
        { "body", 0, NULL, OPT_STRING, &o.body, "TEXT", "default HTTP body" },
        { "connect-timeout-ms", 0, NULL, OPT_INT, &o.connect_timeout_ms, "MS", "HTTP connect timeout" },
        { "follow-redirects", 0, NULL, OPT_BOOL, &o.follow, NULL, "follow HTTP redirects" },
        { "no-follow-redirects", 0, NULL, OPT_BOOL, &o.no_follow, NULL, "do not follow redirects" },
        { "max-redirects", 0, NULL, OPT_INT, &o.max_redirects, "N", "redirects to follow at most" },
        { "insecure", 0, NULL, OPT_BOOL, &o.insecure, NULL, "do not verify TLS certificates" },
        { "max-response-bytes", 0, NULL, OPT_INT, &o.max_response_bytes, "N", "cut responses after N bytes" },
        { "store", 0, NULL, OPT_STRING, &o.store, "WHERE", "response bodies: inline, dir or discard" },
        { "inline-limit", 0, NULL, OPT_INT, &o.inline_limit, "N", "body bytes kept in the result row" },
        { "defaults", 0, NULL, OPT_STRING, &o.defaults_json, "JSON", "job defaults as a JSON object (task fields)" },
        { "skip-invalid", 0, NULL, OPT_BOOL, &o.skip_invalid, NULL, "report bad lines and go on (default: stop before sealing)" },
        { "wait", 'w', NULL, OPT_BOOL, &o.wait, NULL, "follow the job until done; exit 1 if any task failed" },
        { "quiet", 'q', NULL, OPT_BOOL, &o.quiet, NULL, "no progress line, no summary" },
        { "chunk", 0, NULL, OPT_INT, &o.chunk, "N", "tasks per chunk (default 5000; a chunk also stops at 4 MiB)" },
        { "window", 0, NULL, OPT_INT, &o.window, "N", "chunks in flight (default 8)" },
        { "max-line", 0, NULL, OPT_INT, &o.max_line, "BYTES", "longest input line (default 1048576)" },
        { NULL }
    };
    config_t cfg = {
        .prog = "shoal submit", .usage = "[options] [FILE|-]", .opts = opts,
        .description =
            "Submit a job. Tasks come from FILE (or stdin: '-' or a pipe), from\n"
            "--url-template, or from --count. The input is streamed in chunks, each\n"
            "acknowledged once the broker committed it, in constant memory whatever its\n"
            "size; on a terminal a progress line shows tasks sent, committed and the rate.\n"
            "The job id goes to stdout (-o json: {\"job\", \"tasks\", \"resumed\", \"invalid\"}).\n"
            "\n"
            "Resume: with --key K the submit is idempotent. After the CLI was killed or the\n"
            "connection dropped, run the same command again: it skips the tasks the broker\n"
            "already committed and sends the rest, so no task is missing and none doubled;\n"
            "a job already complete is not touched. Without --key every submit is a new job\n"
            "(it gets a key 'auto-...' that error messages show, to continue it).\n"
            "\n"
            "Bad input: a line that does not parse or validate is reported as FILE:LINE: why.\n"
            "The submit stops there before sealing the job (exit 3) and says how to go on;\n"
            "--skip-invalid reports and skips such lines instead. Committed tasks are kept.\n"
            "\n"
            "Job options below become the job's defaults; a task's own fields win.",
        .epilog =
            "Input formats (--format, default from the file name: .csv, .txt/.urls/.lst, else jsonl):\n"
            "  jsonl  one task per line: {\"url\": \"https://example.com/a\", \"method\": \"POST\", \"body\": \"x\"}\n"
            "         {\"argv\": [\"convert\", \"in.png\", \"out.jpg\"]}   {\"kind\": \"noop\", \"sleep_ms\": 5}\n"
            "         (every field: docs/cli.md; unknown fields are errors)\n"
            "  urls   one URL per line; blank lines and # comments are skipped\n"
            "  csv    a header row of task fields (url, method, body, tag, timeout_ms,\n"
            "         header:Accept, ...), then one task per row; empty cells are unset;\n"
            "         quoted cells may hold line breaks; CRLF and a UTF-8 BOM are fine;\n"
            "         the delimiter (, ; or tab) is detected from the header (--csv-delimiter)\n"
            "  --url-template 'https://h/p/{1..168867}'  ranges {FIRST..LAST} or {FIRST..LAST..STEP};\n"
            "         {001..100} pads with zeros; several ranges multiply\n"
            "\nExamples:\n"
            "  shoal submit --name pages --format urls urls.txt --per-host 4 --wait\n"
            "  shoal submit --key crawl-2026-11 tasks.jsonl     # run again to resume after a crash\n"
            "  shoal submit --url-template 'https://api.example.com/item/{1..168867}' -H 'Accept: application/json'\n"
            "  shoal submit --format csv --skip-invalid --max-attempts 5 --rate-per-host 10 items.csv\n"
            "  zcat urls.gz | shoal submit --format urls --key urls-1 -\n"
            "  shoal submit --count 100000 --name bench",
    };
    int rc = config_parse(&cfg, argc, argv);
    if (rc != 0) {
        config_free(&cfg);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    const char *path = cfg.positional_count ? cfg.positional[0] : NULL;
    int sources = (path != NULL) + (o.url_template != NULL) + (o.count >= 0);
    int exit_code = EXIT_OK;
    FILE *file = NULL;
    input_t *input = NULL;
    Shoal__JobDefaults *defaults = NULL;
    client_t *client = NULL;
    submit_t s = { .g = g };
    char err[1024];
    char auto_key[64];
    uint64_t invalid = 0;
    bool stopped = false;
    if (cfg.positional_count > 1 || sources > 1) {
        fprintf(stderr, "shoal submit: give one source: a FILE, --url-template or --count\n");
        exit_code = EXIT_USAGE;
        goto cleanup;
    }
    if (o.chunk < 1 || o.chunk > 100000 || o.window < 1 || o.window > MAX_WINDOW
    ||  o.priority < 1 || o.priority > 1000 || o.max_line < 16 || o.max_line > (64 << 20)
    ||  o.count < -1 || o.sleep_ms < 0 || o.sleep_ms > UINT32_MAX) {
        fprintf(stderr, "shoal submit: out of range: --chunk 1..100000, --window 1..%d, --priority 1..1000,"
                " --max-line 16..67108864, --count and --sleep-ms 0 or more\n", MAX_WINDOW);
        exit_code = EXIT_USAGE;
        goto cleanup;
    }
    char delimiter = 0;
    if (o.csv_delimiter) {
        const char *d = o.csv_delimiter;
        if (!strcmp(d, ",") || !strcmp(d, ";"))
            delimiter = d[0];
        else
        if (!strcmp(d, "\t") || !strcmp(d, "\\t") || !strcmp(d, "tab"))
            delimiter = '\t';
        else {
            fprintf(stderr, "shoal submit: --csv-delimiter must be ',', ';' or tab (got '%s')\n", d);
            exit_code = EXIT_USAGE;
            goto cleanup;
        }
    }
    if (o.key && (!*o.key || strlen(o.key) > 200)) {
        fprintf(stderr, "shoal submit: --key must be 1..200 characters\n");
        exit_code = EXIT_USAGE;
        goto cleanup;
    }
    defaults = s_defaults(&o, err, sizeof err);
    if (!defaults) {
        fprintf(stderr, "shoal submit: %s\n", err);
        exit_code = EXIT_USAGE;
        goto cleanup;
    }
    if (o.url_template) {
        input = input_new_template(o.url_template, err, sizeof err);
        if (!input) {
            fprintf(stderr, "shoal submit: --url-template: %s\n", err);
            exit_code = EXIT_USAGE;
            goto cleanup;
        }
    }
    else
    if (o.count >= 0) {
        Shoal__NoopSpec noop = SHOAL__NOOP_SPEC__INIT;
        noop.has_sleep_ms = o.sleep_ms > 0;
        noop.sleep_ms = (uint32_t) o.sleep_ms;
        Shoal__TaskSpec proto = SHOAL__TASK_SPEC__INIT;
        proto.kind_case = SHOAL__TASK_SPEC__KIND_NOOP;
        proto.noop = &noop;
        input = input_new_count((uint64_t) o.count, &proto);
    }
    else {
        const char *format = o.format ? o.format : s_guess_format(path);
        int f = input_format_parse(format);
        if (f < 0) {
            fprintf(stderr, "shoal submit: --format must be jsonl, urls or csv (got '%s')\n", format);
            exit_code = EXIT_USAGE;
            goto cleanup;
        }
        if (!path || !strcmp(path, "-")) {
            if (isatty(0)) {
                fprintf(stderr, "shoal submit: reading tasks from the terminal; give a FILE, "
                        "--url-template or --count (or pipe tasks in)\n");
            }
            file = stdin;
            path = "-";
        }
        else {
            file = fopen(path, "r");
            if (!file) {
                fprintf(stderr, "shoal submit: cannot open %s: %s\n", path, strerror(errno));
                exit_code = EXIT_INPUT;
                goto cleanup;
            }
        }
        input = input_new((input_format_t) f, file, !strcmp(path, "-") ? "stdin" : path, (size_t) o.max_line);
        if (input)
            input_set_csv_delimiter(input, delimiter);
    }
    if (!input) {
        fprintf(stderr, "shoal submit: out of memory\n");
        exit_code = EXIT_INPUT;
        goto cleanup;
    }
    client = cli_connect(g, "shoal submit", &exit_code);
    if (!client)
        goto cleanup;
    s.client = client;
    s.input = input;
    s.max_window = (size_t) o.window;
    s.chunk_size = (size_t) o.chunk;
    s.total = input_total(input);
    s.tty = isatty(2) && !o.quiet && !g->json;
    s.quiet = o.quiet;
    s.partial = calloc(s.chunk_size + 1, sizeof *s.partial);
    if (!s.partial) {
        fprintf(stderr, "shoal submit: out of memory\n");
        exit_code = EXIT_INPUT;
        goto cleanup;
    }
    //  without --key the submit still gets one, so a failure can say how to resume
    if (!o.key) {
        snprintf(auto_key, sizeof auto_key, "auto-%llx-%x", (unsigned long long) clock_wall_us(),
                 (unsigned) getpid());
        o.key = auto_key;
    }
    Shoal__JobOpen open = SHOAL__JOB_OPEN__INIT;
    const char *base = path && strcmp(path, "-") ? strrchr(path, '/') : NULL;
    open.name = (char *) (o.name ? o.name : o.url_template ? o.url_template : o.count >= 0 ? "noop"
                        : path && !strcmp(path, "-") ? "stdin" : base ? base + 1 : path ? path : "");
    open.key = (char *) o.key;
    open.has_priority = 1;
    open.priority = (uint32_t) o.priority;
    open.defaults = defaults;
    s.open = &open;
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_JOB_OPEN;
    req.job_open = &open;
    int code = 0;
    Shoal__Envelope *reply = client_call(client, &req, err, sizeof err, &code);
    if (!reply || reply->body_case != SHOAL__ENVELOPE__BODY_JOB_OPENED) {
        fprintf(stderr, "shoal submit: cannot open the job: %s\n", reply ? "unexpected reply" : err);
        exit_code = reply ? EXIT_REFUSED : code;
        wire_free(reply);
        goto cleanup;
    }
    s.job_id = reply->job_opened->job_id;
    s.committed = s.resumed_at = reply->job_opened->committed;
    bool existed = reply->job_opened->existed;
    bool sealed = reply->job_opened->sealed;
    wire_free(reply);
    if (existed && sealed) {
        fprintf(stderr, "shoal submit: job %u (key %s) is already complete with %llu tasks\n",
                s.job_id, o.key, (unsigned long long) s.committed);
        goto finished;
    }
    if (existed && s.committed) {
        uint64_t skipped = input_skip(input, s.committed);
        if (skipped < s.committed) {
            fprintf(stderr, "shoal submit: job %u already has %llu tasks but the input has only %llu;"
                    " is this the same input?\n", s.job_id, (unsigned long long) s.committed,
                    (unsigned long long) skipped);
            exit_code = EXIT_INPUT;
            goto cleanup;
        }
        if (!o.quiet)
            fprintf(stderr, "shoal submit: resuming job %u after %llu committed tasks\n", s.job_id,
                    (unsigned long long) s.committed);
    }
    s.sent = s.committed;
    s.started_ms = clock_mono_ms();
    //  a full chunk waits until the next task is read (s_flush keeps it
    //  back), so that the last chunk can seal the job in the same commit
    bool interrupted = false;
    cli_catch_interrupt();
    while (!s.complete) {
        if (cli_interrupted()) {
            //  Ctrl-C: what was read goes out unsealed, then say how to go on
            interrupted = stopped = true;
            exit_code = EXIT_INTERRUPTED;
            break;
        }
        Shoal__TaskSpec *spec = NULL;
        int r = input_next(input, &spec, err, sizeof err);
        if (r == 0)
            break;
        if (r == -2 && cli_interrupted()) {
            interrupted = stopped = true;       //  Ctrl-C while reading a pipe
            exit_code = EXIT_INTERRUPTED;
            break;
        }
        if (r < 0) {
            fprintf(stderr, "%s%s\n", s.tty ? "\r\033[K" : "", err);
            if (r == -1)
                invalid++;
            if (r == -1 && o.skip_invalid)
                continue;
            exit_code = EXIT_INPUT;
            stopped = true;
            break;
        }
        s.partial[s.n_partial++] = spec;
        s.partial_bytes += shoal__task_spec__get_packed_size(spec);
        if (s.n_partial > s.chunk_size || (s.partial_bytes > MAX_CHUNK_BYTES && s.n_partial > 1)) {
            if (s_flush(&s, false, true))
                break;
            s_progress(&s, false);
        }
    }
    //  the end of the input: the last chunk seals the job (not when stopped
    //  at a bad line: the job stays open for the rest)
    if (!s.error_code)
        s_flush(&s, !stopped, false);
    if (!s.error_code)
        s_drain(&s);
    s_progress(&s, true);
    if (s.error_code) {
        if (strncmp(s.error, "job ", 4) == 0)
            fprintf(stderr, "shoal submit: %s\n", s.error);
        else
            fprintf(stderr, "shoal submit: job %u: %s\n", s.job_id, s.error);
        if (s.broker_error == SHOAL__ERROR_CODE__ERR_CONFLICT)
            fprintf(stderr, "shoal submit: another submit with key %s seems to be running\n", o.key);
        s_report_committed(&s, o.key);
        exit_code = s.error_code;
        goto cleanup;
    }
    if (s.complete) {
        fprintf(stderr, "shoal submit: job %u (key %s) was completed by an earlier run of this submit"
                " with %llu tasks\n", s.job_id, o.key, (unsigned long long) s.committed);
        goto finished;
    }
    if (interrupted) {
        fprintf(stderr, "shoal submit: interrupted; job %u is not sealed and has %llu tasks committed."
                " Run the same command with --key %s to continue, or 'shoal cancel %u' to drop it.\n",
                s.job_id, (unsigned long long) s.committed, o.key, s.job_id);
        goto cleanup;
    }
    if (stopped) {
        fprintf(stderr, "shoal submit: stopped at the bad line above, before sealing job %u; %llu tasks"
                " are committed and kept. Fix the input and run the same command with --key %s to"
                " continue after them (or add --skip-invalid to skip bad lines), or 'shoal cancel %u'"
                " to drop the job.\n", s.job_id, (unsigned long long) s.committed, o.key, s.job_id);
        goto cleanup;
    }
    if (!s.seal_sent) {
        //  no chunk sealed the job (an empty input or rest): seal it now
        Shoal__JobSeal seal = SHOAL__JOB_SEAL__INIT;
        seal.has_job_id = seal.has_total = 1;
        seal.job_id = s.job_id;
        seal.total = s.committed;
        Shoal__Envelope sreq = SHOAL__ENVELOPE__INIT;
        sreq.body_case = SHOAL__ENVELOPE__BODY_JOB_SEAL;
        sreq.job_seal = &seal;
        reply = client_call(client, &sreq, err, sizeof err, &code);
        if (!reply) {
            fprintf(stderr, "shoal submit: cannot seal job %u: %s\n", s.job_id, err);
            exit_code = code;
            goto cleanup;
        }
        wire_free(reply);
    }
    if (invalid)
        fprintf(stderr, "shoal submit: skipped %llu invalid lines\n", (unsigned long long) invalid);
finished:
    if (g->json)
        printf("{\"job\":%u,\"tasks\":%llu,\"resumed\":%s,\"invalid\":%llu}\n", s.job_id,
               (unsigned long long) s.committed, existed ? "true" : "false", (unsigned long long) invalid);
    else
        printf("%u\n", s.job_id);
    fflush(stdout);
    if (o.wait) {
        cli_follow_t how = { .prog = "shoal submit", .wait = true, .quiet = o.quiet, .interval_ms = 500 };
        exit_code = cli_follow_job(g, client, s.job_id, &how);
    }
cleanup:
    while (s.count)
        s_pop(&s);
    if (s.partial)
        s_free_specs(s.partial, s.n_partial);
    client_destroy(&client);
    input_destroy(&input);
    if (file && file != stdin)
        fclose(file);
    if (defaults)
        shoal__job_defaults__free_unpacked(defaults, NULL);
    config_free(&cfg);
    return exit_code;
}
