/*  submit_window — the chunks of a submit on their way: a window of
    chunks in flight, each acked only after the broker committed it.

    With --key the submit is idempotent: chunks of a killed run may still
    reach the broker after the rerun started; the broker's guard on the
    committed count refuses whichever copy comes second (a conflict), and
    the rerun then asks for the committed count again and goes on from
    there (s_reconcile). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "eplist.h"
#include "submit.h"
#include "text.h"
#include "wire.h"

void
submit_progress(submit_t *s, bool final)
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

void
submit_free_specs(Shoal__TaskSpec **specs, size_t n)
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
        submit_free_specs(specs, n);
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
void
submit_pop(submit_t *s)
{
    inflight_t *f = &s->window[s->head];
    submit_free_specs(f->specs, f->count);
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
//  `silence`: no answer came at all (the leader changed, docs/failover.md):
//  the answers still due are not waited for, and a late one is ignored.
static int
s_reconcile(submit_t *s, bool silence)
{
    if (!silence && ++s->reconciles > MAX_RECONCILES)
        return -1;                  //  keep the conflict as the error
    //  the chunks behind the one refused: their answers, whatever they are
    for (size_t i = 1; !silence && i < s->count; i++) {
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
    if (!s->quiet && silence)
        fprintf(stderr, "%sshoal submit: job %u: going on from task %llu, the count the broker"
                " answering now has committed\n", s->tty ? "\r\033[K" : "", s->job_id,
                (unsigned long long) committed);
    else
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
            submit_pop(s);
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
            submit_free_specs(c->specs, c->count);
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
    while (!reply && eplist_count(s->g->broker) > 1 && s->follows < MAX_FOLLOWS) {
        //  a list of brokers: the leader may have changed. Ask whichever
        //  answers now for the committed count (by the job's key) and send
        //  again from there; nothing unacknowledged is lost or doubled
        s->follows++;
        if (!s->quiet)
            fprintf(stderr, "%sshoal submit: no answer within %lld ms; asking the brokers (%s) again\n",
                    s->tty ? "\r\033[K" : "", (long long) s->g->timeout_ms, s->g->broker);
        if (s_reconcile(s, true) == 0) {
            s->error_code = 0;
            return 0;
        }
        if (s->error_code != EXIT_UNREACHABLE)
            return -1;
    }
    if (!reply) {
        s_fail(s, EXIT_UNREACHABLE, "no answer from the broker at %s within %lld ms",
               s->g->broker, (long long) s->g->timeout_ms);
        client_explain_silence(s->client, s->error, sizeof s->error, &s->error_code);
        return -1;
    }
    int rc = 0;
    if (reply->body_case == SHOAL__ENVELOPE__BODY_SUBMIT_ACK) {
        s->committed = reply->submit_ack->committed;
        submit_pop(s);
    }
    else
    if (reply->body_case == SHOAL__ENVELOPE__BODY_ERROR) {
        client_error_text(reply, s->error, sizeof s->error);
        s->error_code = EXIT_REFUSED;
        s->broker_error = reply->error->has_code ? reply->error->code : SHOAL__ERROR_CODE__ERR_INTERNAL;
        rc = -1;
        if (s->broker_error == SHOAL__ERROR_CODE__ERR_CONFLICT && s_reconcile(s, false) == 0) {
            s->error_code = 0;
            s->broker_error = SHOAL__ERROR_CODE__ERR_NONE;
            rc = 0;
        }
    }
    else
        rc = s_fail(s, EXIT_REFUSED, "unexpected reply '%s' to a chunk", wire_body_name(reply));
    wire_free(reply);
    submit_progress(s, false);
    return rc;
}

//  Send the tasks in hand as a chunk (sealing the job with it when
//  `seal`), after making room in the window; `keep_last` keeps the last
//  one back (read ahead, so that the input's last chunk can seal the job).
//  Making room can shrink the tasks in hand (s_reconcile). Returns 0, or
//  -1 with s->error set.
int
submit_flush(submit_t *s, bool seal, bool keep_last)
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
int
submit_drain(submit_t *s)
{
    while (s->count && !s->complete)
        if (s_wait_ack(s))
            return -1;
    return 0;
}

//  After a failure: how many tasks the broker holds (asked again, since
//  chunks after the last ack may have committed) and how to go on.
void
submit_report_committed(submit_t *s, const char *key)
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

