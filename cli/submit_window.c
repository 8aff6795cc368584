/*  submit_window — the chunks of a submit on their way: a window of
    chunks in flight, each acked only after the broker committed it.

    With --key the submit is idempotent: chunks of a killed run may still
    reach the broker after the rerun started; the broker's guard on the
    committed count refuses whichever copy comes second (a conflict), and
    the rerun then asks for the committed count again and goes on from
    there (s_reconcile). The window itself (tasks in hand, chunks in
    flight, answers matched by corr, what to send again) is
    lib/chunk_window.c, shared with the gateway's ingest. */
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
            text_thousands(chunk_window_sent(s->window), sent, sizeof sent), text_thousands(s->committed, committed, sizeof committed),
            total, text_thousands(secs > 0 ? (unsigned long long) ((double) done / secs) : 0, rate, sizeof rate));
    if (final)
        fprintf(stderr, "\n");
}

//  The transport of the window: the CLI's broker client.
static uint64_t
s_client_send(void *client, Shoal__Envelope *env)
{
    return client_send(client, env);
}

static Shoal__Envelope *
s_client_recv(void *client, int timeout_ms)
{
    return client_recv(client, 0, timeout_ms);
}

chunk_window_t *
submit_window_new(client_t *client, size_t window, size_t chunk)
{
    return chunk_window_new(window, chunk, s_client_send, s_client_recv, client);
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

//  A chunk could not go out (freed by the window); returns -1.
static int
s_unsent(submit_t *s)
{
    return s_fail(s, EXIT_UNREACHABLE, "cannot reach the broker at %s (no connection within %lld ms)",
                  s->g->broker, (long long) s->g->timeout_ms);
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
    if (!silence && chunk_window_collect(s->window, 1, s->g->timeout_ms))
        return s_fail(s, EXIT_UNREACHABLE, "no answer from the broker at %s within %lld ms",
                      s->g->broker, (long long) s->g->timeout_ms);
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
    //  closed, and not because another run completed it (cancelled): the
    //  broker's refusal stands
    if (!silence && s->broker_error == SHOAL__ERROR_CODE__ERR_STATE && !sealed)
        return -1;
    uint64_t first = chunk_window_first_seq(s->window);
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
    //  an earlier run may have reached the end of the input and sealed the
    //  job: nothing is left to send; else send the chunks again from the
    //  committed count, and skip in the input what the earlier run got
    //  past everything this one read
    uint64_t beyond = 0;
    if (chunk_window_rebase(s->window, committed, sealed, &beyond))
        return s_unsent(s);
    if (sealed)
        s->complete = true;
    if (beyond && input_skip(s->input, beyond) < beyond)
        return s_fail(s, EXIT_INPUT, "job %u already has %llu tasks but the input has fewer;"
                      " is this the same input?", s->job_id, (unsigned long long) committed);
    return 0;
}

//  Wait for the oldest chunk's answer: an ack, or a conflict that
//  s_reconcile resolves. Returns 0, or -1 with s->error set.
static int
s_wait_ack(submit_t *s)
{
    Shoal__Envelope *reply = chunk_window_answer(s->window, 0, s->g->timeout_ms);
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
        chunk_window_pop(s->window);
    }
    else
    if (reply->body_case == SHOAL__ENVELOPE__BODY_ERROR) {
        client_error_text(reply, s->error, sizeof s->error);
        s->error_code = EXIT_REFUSED;
        s->broker_error = reply->error->has_code ? reply->error->code : SHOAL__ERROR_CODE__ERR_INTERNAL;
        rc = -1;
        //  a conflict, or a job no longer open for tasks: maybe another run
        //  of this submit (the same key) committed further, or completed it
        if ((s->broker_error == SHOAL__ERROR_CODE__ERR_CONFLICT || s->broker_error == SHOAL__ERROR_CODE__ERR_STATE)
            && s_reconcile(s, false) == 0) {
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
    while (chunk_window_full(s->window) && !s->complete)
        if (s_wait_ack(s))
            return -1;
    if (s->complete)
        return 0;
    int rc = chunk_window_flush(s->window, seal, keep_last);
    if (rc == CHUNK_WINDOW_NOMEM)
        return s_fail(s, EXIT_INPUT, "out of memory");
    if (rc)
        return s_unsent(s);
    return 0;
}

//  Wait until every chunk in flight is answered.
int
submit_drain(submit_t *s)
{
    while (chunk_window_count(s->window) && !s->complete)
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

