/*  store_export — a page of a job's results, packed as the ResultsPage
    envelope the frontend sends as is. See store_ops.h. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shoal.pb-c.h"
#include "store_ops.h"
#include "store_sql.h"
#include "wire.h"

//  The http columns (8..20) of row i into h; header strings point into
//  res and *headers_json, the body into *body_raw.
static void
s_fill_http(PGresult *res, int i, Shoal__HttpResult *h, json_t **headers_json,
            Shoal__Header **hdr_ptrs, Shoal__Header *hdrs, size_t max_hdrs, unsigned char **body_raw)
{
    #define V(c) PQgetvalue(res, i, c)
    #define NUL(c) PQgetisnull(res, i, c)
    h->has_status = !NUL(8);
    h->status = (uint32_t) store_sql_u64(res, i, 8);
    h->final_url = NUL(9) ? NULL : V(9);
    if (!NUL(10)) {
        *headers_json = json_loads(V(10), 0, NULL);
        if (json_is_object(*headers_json)) {
            const char *k;
            json_t *v;
            size_t n = 0;
            json_object_foreach(*headers_json, k, v) {
                if (n >= max_hdrs || !json_is_string(v))
                    continue;
                shoal__header__init(&hdrs[n]);
                hdrs[n].name = (char *) k;
                hdrs[n].value = (char *) json_string_value(v);
                hdr_ptrs[n] = &hdrs[n];
                n++;
            }
            h->headers = hdr_ptrs;
            h->n_headers = n;
        }
    }
    h->has_bytes = !NUL(11);
    h->bytes = store_sql_u64(res, i, 11);
    h->sha256 = NUL(12) ? NULL : V(12);
    if (!NUL(13)) {
        size_t len = 0;
        *body_raw = PQunescapeBytea((const unsigned char *) V(13), &len);
        if (*body_raw) {
            h->has_body = 1;
            h->body.data = *body_raw;
            h->body.len = len;
        }
    }
    h->body_path = NUL(14) ? NULL : V(14);
    h->body_url = NUL(27) ? NULL : V(27);
    h->content_type = NUL(28) ? NULL : V(28);
    h->has_truncated = !NUL(15);
    h->truncated = !NUL(15) && V(15)[0] == 't';
    uint64_t *timings[] = { &h->dns_us, &h->connect_us, &h->tls_us, &h->ttfb_us, &h->total_us };
    protobuf_c_boolean *has[] = { &h->has_dns_us, &h->has_connect_us, &h->has_tls_us,
                                  &h->has_ttfb_us, &h->has_total_us };
    for (int t = 0; t < 5; t++) {
        if (NUL(16 + t))
            continue;
        *has[t] = 1;
        *timings[t] = (uint64_t) (strtod(V(16 + t), NULL) * 1000.0 + 0.5);
    }
    #undef V
    #undef NUL
}

//  The exec columns (21..24) of row i into x; the tails point into res.
static void
s_fill_exec(PGresult *res, int i, Shoal__ExecResult *x)
{
    #define V(c) PQgetvalue(res, i, c)
    #define NUL(c) PQgetisnull(res, i, c)
    x->has_exit_code = !NUL(21);
    x->exit_code = (int32_t) store_sql_i64(res, i, 21);
    x->has_signal = !NUL(22);
    x->signal = (int32_t) store_sql_i64(res, i, 22);
    if (!NUL(23)) {
        x->has_stdout_tail = 1;
        x->stdout_tail.data = (uint8_t *) V(23);
        x->stdout_tail.len = (size_t) PQgetlength(res, i, 23);
    }
    if (!NUL(24)) {
        x->has_stderr_tail = 1;
        x->stderr_tail.data = (uint8_t *) V(24);
        x->stderr_tail.len = (size_t) PQgetlength(res, i, 24);
    }
    #undef V
    #undef NUL
}

//  Fill a protobuf Result from one row of the results query (see below).
//  Strings point into `res`, which must outlive the packing.
static void
s_fill_result(PGresult *res, int i, Shoal__ResultRow *row, Shoal__Result *r,
              Shoal__HttpResult *h, Shoal__ExecResult *x, json_t **headers_json,
              Shoal__Header **hdr_ptrs, Shoal__Header *hdrs, size_t max_hdrs,
              unsigned char **body_raw, Shoal__TaskSpec **spec_out)
{
    #define V(c) PQgetvalue(res, i, c)
    #define NUL(c) PQgetisnull(res, i, c)
    row->has_seq = 1;
    row->seq = (uint32_t) store_sql_u64(res, i, 0);
    row->outcome = V(1);
    row->has_attempt = 1;
    row->attempt = (uint32_t) store_sql_u64(res, i, 2);
    row->worker = NUL(3) ? NULL : V(3);
    row->target = NUL(4) ? NULL : V(4);
    row->result = r;
    if (!NUL(5))
        r->error = V(5);
    r->has_started_us = !NUL(6);
    r->started_us = store_sql_i64(res, i, 6);
    r->has_finished_us = !NUL(7);
    r->finished_us = store_sql_i64(res, i, 7);
    r->has_outcome = 1;
    r->outcome = !strcmp(row->outcome, "ok") ? SHOAL__OUTCOME__OUTCOME_OK
               : !strcmp(row->outcome, "cancelled") ? SHOAL__OUTCOME__OUTCOME_CANCELLED
               : SHOAL__OUTCOME__OUTCOME_ERROR;
    const char *kind = NUL(26) ? "" : V(26);
    if (!strcmp(kind, "http")) {
        r->http = h;
        s_fill_http(res, i, h, headers_json, hdr_ptrs, hdrs, max_hdrs, body_raw);
    }
    else
    if (!strcmp(kind, "exec")) {
        r->exec = x;
        s_fill_exec(res, i, x);
    }
    if (!NUL(25)) {
        size_t len = 0;
        unsigned char *raw = PQunescapeBytea((const unsigned char *) V(25), &len);
        if (raw) {
            *spec_out = shoal__task_spec__unpack(NULL, len, raw);
            PQfreemem(raw);
            if (*spec_out && (*spec_out)->tag)
                row->tag = (*spec_out)->tag;
        }
    }
    #undef V
    #undef NUL
}

#define MAX_RESULT_HEADERS 16
//  A results page stops growing past this many bytes (bodies, output
//  tails), so that it always fits in one frame (WIRE_MAX_FRAME).
#define RESULTS_PAGE_MAX_BYTES (WIRE_MAX_FRAME / 4)

//  The messages of one page of results, each array one entry per row.
typedef struct {
    int                n;           //  rows read
    Shoal__ResultRow  *rows;
    Shoal__ResultRow **row_ptrs;
    Shoal__Result     *results;
    Shoal__HttpResult *https;
    Shoal__ExecResult *execs;
    Shoal__HandlerResult *handlers; //  a handler's output (points into the query's result)
    json_t           **jsons;       //  parsed headers (owned)
    Shoal__Header     *hdrs;        //  MAX_RESULT_HEADERS per row
    Shoal__Header    **hdr_ptrs;
    unsigned char    **bodies;      //  unescaped bodies (owned, PQfreemem)
    Shoal__TaskSpec  **specs;       //  the tasks' specs, for their tags (owned)
} page_t;

static void
s_page_free(page_t *pg)
{
    for (int i = 0; i < pg->n; i++) {
        if (pg->jsons && pg->jsons[i])
            json_decref(pg->jsons[i]);
        if (pg->bodies && pg->bodies[i])
            PQfreemem(pg->bodies[i]);
        if (pg->specs && pg->specs[i])
            shoal__task_spec__free_unpacked(pg->specs[i], NULL);
    }
    free(pg->rows); free(pg->row_ptrs); free(pg->results); free(pg->https); free(pg->execs);
    free(pg->handlers);
    free(pg->jsons); free(pg->hdrs); free(pg->hdr_ptrs); free(pg->bodies); free(pg->specs);
}

//  Room for n rows. 0, or -1 (free what was allocated with s_page_free).
static int
s_page_alloc(page_t *pg, int n)
{
    size_t un = n ? (size_t) n : 1;
    pg->n = n;
    pg->rows = calloc(un, sizeof *pg->rows);
    pg->row_ptrs = calloc(un, sizeof *pg->row_ptrs);
    pg->results = calloc(un, sizeof *pg->results);
    pg->https = calloc(un, sizeof *pg->https);
    pg->execs = calloc(un, sizeof *pg->execs);
    pg->handlers = calloc(un, sizeof *pg->handlers);
    pg->jsons = calloc(un, sizeof *pg->jsons);
    pg->hdrs = calloc(un * MAX_RESULT_HEADERS, sizeof *pg->hdrs);
    pg->hdr_ptrs = calloc(un * MAX_RESULT_HEADERS, sizeof *pg->hdr_ptrs);
    pg->bodies = calloc(un, sizeof *pg->bodies);
    pg->specs = calloc(un, sizeof *pg->specs);
    return pg->rows && pg->row_ptrs && pg->results && pg->https && pg->execs && pg->handlers && pg->jsons
        && pg->hdrs && pg->hdr_ptrs && pg->bodies && pg->specs ? 0 : -1;
}

//  Fill the page's rows from the query; returns how many fit in one page.
static int
s_page_fill(page_t *pg, PGresult *res, uint32_t job_id)
{
    size_t page_bytes = 0;
    for (int i = 0; i < pg->n; i++) {
        shoal__result_row__init(&pg->rows[i]);
        shoal__result__init(&pg->results[i]);
        shoal__http_result__init(&pg->https[i]);
        shoal__exec_result__init(&pg->execs[i]);
        s_fill_result(res, i, &pg->rows[i], &pg->results[i], &pg->https[i], &pg->execs[i], &pg->jsons[i],
                      pg->hdr_ptrs + (size_t) i * MAX_RESULT_HEADERS,
                      pg->hdrs + (size_t) i * MAX_RESULT_HEADERS, MAX_RESULT_HEADERS,
                      &pg->bodies[i], &pg->specs[i]);
        pg->results[i].has_task_id = 1;
        pg->results[i].task_id = ((uint64_t) job_id << 32) | pg->rows[i].seq;
        shoal__handler_result__init(&pg->handlers[i]);
        if (!PQgetisnull(res, i, 29)) {
            pg->handlers[i].output = PQgetvalue(res, i, 29);
            pg->results[i].handler = &pg->handlers[i];
        }
        pg->row_ptrs[i] = &pg->rows[i];
        page_bytes += shoal__result_row__get_packed_size(&pg->rows[i]);
        if (page_bytes > RESULTS_PAGE_MAX_BYTES && i > 0)
            return i;       //  this row starts the next page
    }
    return pg->n;
}

//  The job's committed task count into *n_tasks, and the highest seq of a
//  task its pipeline steps created into *child_top (STORE_CHILD_BASE - 1:
//  none; the primary key's index finds it). 0, or -1 recorded.
static int
s_job_tasks(PGconn *conn, store_req_t *req, const char *id, int64_t *n_tasks, int64_t *child_top)
{
    const char *p1[] = { id };
    PGresult *res = store_sql_query(conn, req, "reading the job",
        "SELECT n_tasks, coalesce((SELECT max(seq) FROM tasks t WHERE t.job_id = jobs.id"
        "                          AND t.seq >= 1073741824), 1073741823)"
        " FROM jobs WHERE id = $1", 1, p1, 0);
    if (!res)
        return -1;
    int rc = 0;
    if (PQntuples(res) == 0) {
        store_sql_error(req, STORE_ERR_NOT_FOUND, "no job %u", req->job_id);
        rc = -1;
    }
    else {
        *n_tasks = store_sql_i64(res, 0, 0);
        *child_top = store_sql_i64(res, 0, 1);
    }
    PQclear(res);
    return rc;
}

void
store_export_page(PGconn *conn, store_req_t *req)
{
    store_query_t *q = &req->query;
    char id[16], after[24], limit[16], span_end[24];
    snprintf(id, sizeof id, "%u", req->job_id);
    uint32_t count = q->limit ? q->limit : 1000;
    int64_t n_tasks = 0, child_top = (int64_t) STORE_CHILD_BASE - 1;
    if (s_job_tasks(conn, req, id, &n_tasks, &child_top))
        return;
    //  how far this page may look: a bounded seq range keeps the query cheap
    //  whatever the planner knows about the table
    int64_t span = (int64_t) count * 8 > 20000 ? (int64_t) count * 8 : 20000;
    int64_t end = q->after_seq + span;
    snprintf(after, sizeof after, "%lld", (long long) q->after_seq);
    snprintf(limit, sizeof limit, "%u", count);
    snprintf(span_end, sizeof span_end, "%lld", (long long) end);
    const char *params[] = { id, after, limit, q->with_body ? "t" : "f", q->failed_only ? "t" : "f", span_end };
    PGresult *res = store_sql_query(conn, req, "reading results",
        "SELECT r.seq, r.outcome, r.attempt, r.worker, t.target, r.error,"
        "  (extract(epoch FROM r.started_at) * 1000000)::int8,"
        "  (extract(epoch FROM r.finished_at) * 1000000)::int8,"
        "  r.http_status, r.final_url, r.headers::text, r.bytes, r.sha256,"
        "  CASE WHEN $4::bool THEN r.body END, r.body_path, r.truncated,"
        "  r.dns_ms, r.connect_ms, r.tls_ms, r.ttfb_ms, r.total_ms,"
        "  r.exit_code, r.signal, r.stdout, r.stderr, t.spec, t.kind, r.body_url, r.content_type, r.output::text"
        " FROM results r LEFT JOIN tasks t ON t.job_id = r.job_id AND t.seq = r.seq"
        " WHERE r.job_id = $1 AND r.seq > $2 AND r.seq <= $6 AND (NOT $5::bool OR r.outcome <> 'ok')"
        " ORDER BY r.seq LIMIT $3", 6, params, 0);
    if (!res)
        return;
    page_t pg = { 0 };
    int n = (int) store_sql_rows(res);
    if (s_page_alloc(&pg, n)) {
        store_sql_error(req, STORE_ERR_FAILED, "out of memory reading results");
        pg.n = 0;
        goto cleanup;
    }
    int kept = s_page_fill(&pg, res, req->job_id);
    bool cut = kept < n;
    Shoal__ResultsPage page = SHOAL__RESULTS_PAGE__INIT;
    page.has_job_id = 1;
    page.job_id = req->job_id;
    page.rows = pg.row_ptrs;
    page.n_rows = (size_t) kept;
    page.has_last = page.has_next_after_seq = 1;
    page.next_after_seq = cut || (uint32_t) n >= count ? pg.rows[kept - 1].seq : end;
    //  two ranges: the submitted tasks, then the tasks pipeline steps
    //  created (seqs from STORE_CHILD_BASE up)
    bool in_children = q->after_seq >= (int64_t) STORE_CHILD_BASE - 1;
    bool range_done = !cut && (uint32_t) n < count && end >= (in_children ? child_top : n_tasks - 1);
    page.last = range_done;
    if (range_done && !in_children && child_top >= (int64_t) STORE_CHILD_BASE) {
        page.last = false;
        page.next_after_seq = (int64_t) STORE_CHILD_BASE - 1;
    }
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.has_version = 1;
    env.version = SHOAL_PROTO_MAJOR;
    env.has_corr = req->corr != 0;
    env.corr = req->corr;
    env.body_case = SHOAL__ENVELOPE__BODY_RESULTS_PAGE;
    env.results_page = &page;
    q->reply_len = shoal__envelope__get_packed_size(&env);
    q->reply = malloc(q->reply_len ? q->reply_len : 1);
    if (!q->reply) {
        store_sql_error(req, STORE_ERR_FAILED, "out of memory packing results");
        goto cleanup;
    }
    shoal__envelope__pack(&env, q->reply);
cleanup:
    s_page_free(&pg);
    PQclear(res);
}
