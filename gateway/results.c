/*  results — GET /v1/jobs/{id}/results?format=jsonl|csv&after=SEQ&limit=N
    (&failed=1, &with_body=1): every result in seq order, fetched from the
    broker a page at a time while the client reads, sent chunked. Memory is
    one page whatever the job's size; a slow reader slows the paging. The
    rows are those of `shoal results` (JSONL: every field; CSV: its
    columns). A broker lost mid-stream ends the response without its last
    chunk, so the client sees a cut-off transfer rather than a short file. */
#include "gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "result_csv.h"
#include "wire.h"

#define PAGE 1000

typedef struct {
    link_t  *link;              //  the connection's (outlives the response)
    uint32_t job_id;
    bool     csv, failed_only, with_body;
    int64_t  after;             //  next page after this seq
    uint64_t left;              //  rows still wanted (UINT64_MAX: all)
    bool     done;              //  the last page was formatted
    char    *buf;               //  formatted rows not yet sent
    size_t   len, off;
} export_t;

static void
s_free(void *cls)
{
    export_t *e = cls;
    free(e->buf);
    free(e);
}

//  Fetch and format the next page. Returns 0, or -1 with err.
static int
s_fetch(export_t *e, int *status, char *err, size_t errlen)
{
    Shoal__ResultsRequest rr = SHOAL__RESULTS_REQUEST__INIT;
    rr.has_job_id = rr.has_after_seq = rr.has_limit = rr.has_failed_only = rr.has_with_body = 1;
    rr.job_id = e->job_id;
    rr.after_seq = e->after;
    rr.limit = e->left < PAGE ? (uint32_t) e->left : PAGE;
    rr.failed_only = e->failed_only;
    rr.with_body = e->with_body;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_RESULTS_REQUEST;
    env.results_request = &rr;
    Shoal__Envelope *reply = link_call(e->link, &env, status, err, errlen);
    if (!reply)
        return -1;
    Shoal__ResultsPage *p = reply->results_page;
    if (reply->body_case != SHOAL__ENVELOPE__BODY_RESULTS_PAGE || !p) {
        snprintf(err, errlen, "unexpected reply '%s' from the broker", wire_body_name(reply));
        *status = 502;
        wire_free(reply);
        return -1;
    }
    free(e->buf);
    e->buf = NULL;
    e->len = e->off = 0;
    FILE *out = open_memstream(&e->buf, &e->len);
    if (!out) {
        wire_free(reply);
        *status = 500;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < p->n_rows && e->left; i++) {
        if (e->csv)
            result_csv_row(out, p->rows[i], e->job_id, e->with_body);
        else {
            json_t *o = report_result_json(p->rows[i], e->job_id);
            json_dumpf(o, out, JSON_COMPACT);
            fputc('\n', out);
            json_decref(o);
        }
        e->after = p->rows[i]->seq;
        e->left--;
    }
    fclose(out);
    bool last = p->last || p->n_rows == 0;
    if (p->has_next_after_seq && p->next_after_seq > e->after)
        e->after = p->next_after_seq;
    e->done = last || e->left == 0;
    wire_free(reply);
    return 0;
}

static ssize_t
s_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    export_t *e = cls;
    while (e->off == e->len) {
        if (e->done)
            return MHD_CONTENT_READER_END_OF_STREAM;
        int status;
        char err[512];
        if (s_fetch(e, &status, err, sizeof err))
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = e->len - e->off < max ? e->len - e->off : max;
    memcpy(buf, e->buf + e->off, n);
    e->off += n;
    return (ssize_t) n;
}

static bool
s_flag(req_t *req, const char *name)
{
    const char *v = gw_query(req, name);
    return v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !*v);
}

enum MHD_Result
results_get(req_t *req, uint32_t job_id)
{
    const char *format = gw_query(req, "format");
    const char *after = gw_query(req, "after");
    const char *limit = gw_query(req, "limit");
    bool csv = format && !strcmp(format, "csv");
    if (format && !csv && strcmp(format, "jsonl"))
        return gw_respond_error(req, 400, "format must be jsonl or csv (got '%s')", format);
    char *end = NULL;
    long long a = after ? strtoll(after, &end, 10) : -1;
    if (after && (!*after || *end || a < -1 || a > UINT32_MAX))
        return gw_respond_error(req, 400, "after must be a task seq (0 or more; -1: from the start)");
    unsigned long long l = limit ? strtoull(limit, &end, 10) : UINT64_MAX;
    if (limit && (!*limit || *end || l < 1 || *limit == '-'))
        return gw_respond_error(req, 400, "limit must be a positive number of rows");
    link_t *link = gw_link(req);
    if (!link)
        return MHD_YES;
    export_t *e = calloc(1, sizeof *e);
    if (!e)
        return MHD_NO;
    *e = (export_t) { .link = link, .job_id = job_id, .csv = csv, .after = a, .left = l,
                      .failed_only = s_flag(req, "failed"), .with_body = s_flag(req, "with_body") };
    //  the first page before the status line: a missing job is a 404
    int status = 0;
    char err[1024];
    Shoal__StatusRequest sr = SHOAL__STATUS_REQUEST__INIT;
    sr.has_job_id = 1;
    sr.job_id = job_id;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_STATUS_REQUEST;
    env.status_request = &sr;
    Shoal__Envelope *reply = link_call(link, &env, &status, err, sizeof err);
    if (!reply || s_fetch(e, &status, err, sizeof err)) {
        wire_free(reply);
        s_free(e);
        return gw_respond_error(req, (unsigned) status, "%s", err);
    }
    wire_free(reply);
    if (csv) {
        //  the header goes first
        size_t hl = strlen(RESULT_CSV_HEADER) + (e->with_body ? 9 : 0) + 1;
        char *joined = malloc(hl + e->len + 1);
        if (!joined) {
            s_free(e);
            return MHD_NO;
        }
        snprintf(joined, hl + 1, "%s%s\n", RESULT_CSV_HEADER, e->with_body ? ",body_b64" : "");
        memcpy(joined + hl, e->buf, e->len);
        free(e->buf);
        e->buf = joined;
        e->len += hl;
    }
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, s_read, e, s_free);
    if (!r) {
        s_free(e);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", csv ? "text/csv; charset=utf-8" : "application/x-ndjson");
    return gw_respond(req, 200, r);
}
