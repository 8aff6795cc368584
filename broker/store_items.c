/*  store_items — a page of a pipeline job's items (shoal results --items):
    one row per input item with how far it got, its outcome, its furthest
    variables, the failing step and error. The same figures as the `items`
    view (schema.c, migration 4), but read for one range of items at a
    time: the item's first tasks by the primary key (seqs after..after+N),
    the later steps' tasks by the tasks_root index, so a page costs the
    same for a 17M-task job as for a small one (the view, filtered on its
    computed `item`, would read the whole job for every page). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_ops.h"
#include "store_sql.h"
#include "wire.h"

//  The items of (after, upto]: item, outcome, tasks, last_step, step_name,
//  vars, failed_step, error. Keep in step with the items view.
//  Step names from the item's own steps (tasks.pipeline of its first task)
//  when it has them, else the job's; a plain job's items are its lines
//  with their own steps.
static const char *s_items_sql =
    "WITH t AS ("
    "    SELECT job_id, seq, coalesce(root, seq) AS item, coalesce(step, 0) AS step, pipeline FROM tasks"
    "    WHERE job_id = $1 AND seq > $2 AND seq <= $3 AND seq < 1073741824"
    "  UNION ALL"
    "    SELECT job_id, seq, root, coalesce(step, 0), NULL::jsonb FROM tasks"
    "    WHERE job_id = $1 AND root > $2 AND root <= $3),"
    " g AS (SELECT t.item,"
    "   CASE WHEN bool_or(r.outcome = 'failed') THEN 'failed'"
    "        WHEN bool_or(r.outcome = 'cancelled') THEN 'cancelled'"
    "        WHEN bool_or(r.outcome IS NULL) THEN 'running'"
    "        ELSE 'complete' END AS outcome,"
    "   count(*) AS tasks, max(t.step) AS last_step,"
    "   ((array_agg(r.vars ORDER BY t.step DESC, t.seq DESC) FILTER (WHERE r.vars IS NOT NULL))[1])::text AS vars,"
    "   (array_agg(t.step ORDER BY t.seq) FILTER (WHERE r.outcome = 'failed'))[1] AS failed,"
    "   (array_agg(r.error ORDER BY t.seq) FILTER (WHERE r.outcome IN ('failed', 'cancelled')))[1] AS error,"
    "   (array_agg(t.pipeline) FILTER (WHERE t.pipeline IS NOT NULL))[1] AS own"
    "  FROM t LEFT JOIN results r ON r.job_id = t.job_id AND r.seq = t.seq"
    "  GROUP BY t.item)"
    " SELECT g.item, g.outcome, g.tasks, g.last_step,"
    "   coalesce(g.own, j.pipeline)->'steps'->g.last_step->>'name', g.vars,"
    "   coalesce(g.own, j.pipeline)->'steps'->g.failed->>'name', g.error"
    " FROM g JOIN jobs j ON j.id = $1"
    " WHERE j.pipeline IS NOT NULL OR g.own IS NOT NULL"
    " ORDER BY g.item";

//  Pack the page's rows into the reply envelope (q->reply).
static void
s_pack(store_req_t *req, PGresult *res, int64_t next, bool last)
{
    store_query_t *q = &req->query;
    int n = (int) store_sql_rows(res);
    Shoal__ResultRow *rows = calloc((size_t) n + 1, sizeof *rows);
    Shoal__ResultRow **ptrs = calloc((size_t) n + 1, sizeof *ptrs);
    Shoal__Result *results = calloc((size_t) n + 1, sizeof *results);
    if (!rows || !ptrs || !results) {
        store_sql_error(req, STORE_ERR_FAILED, "out of memory reading items");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        Shoal__ResultRow *row = &rows[i];
        Shoal__Result *r = &results[i];
        shoal__result_row__init(row);
        shoal__result__init(r);
        row->has_seq = row->has_tasks = row->has_last_step = 1;
        row->seq = (uint32_t) store_sql_u64(res, i, 0);
        row->outcome = PQgetvalue(res, i, 1);
        row->tasks = (uint32_t) store_sql_u64(res, i, 2);
        row->last_step = (uint32_t) store_sql_u64(res, i, 3);
        row->step_name = PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4);
        r->vars = PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 5);
        row->failed_step = PQgetisnull(res, i, 6) ? NULL : PQgetvalue(res, i, 6);
        r->error = PQgetisnull(res, i, 7) ? NULL : PQgetvalue(res, i, 7);
        row->result = r;
        ptrs[i] = row;
    }
    Shoal__ResultsPage page = SHOAL__RESULTS_PAGE__INIT;
    page.has_job_id = page.has_last = page.has_next_after_seq = 1;
    page.job_id = req->job_id;
    page.rows = ptrs;
    page.n_rows = (size_t) n;
    page.last = last;
    page.next_after_seq = next;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.has_version = 1;
    env.version = SHOAL_PROTO_MAJOR;
    env.has_corr = req->corr != 0;
    env.corr = req->corr;
    env.body_case = SHOAL__ENVELOPE__BODY_RESULTS_PAGE;
    env.results_page = &page;
    q->reply_len = shoal__envelope__get_packed_size(&env);
    if (q->reply_len > WIRE_MAX_FRAME) {
        store_sql_error(req, STORE_ERR_FAILED, "a page of %d items is over the frame limit: ask for fewer (--page)", n);
        goto done;
    }
    q->reply = malloc(q->reply_len ? q->reply_len : 1);
    if (!q->reply) {
        store_sql_error(req, STORE_ERR_FAILED, "out of memory packing items");
        goto done;
    }
    shoal__envelope__pack(&env, q->reply);
done:
    free(rows);
    free(ptrs);
    free(results);
}

void
store_items_page(PGconn *conn, store_req_t *req)
{
    store_query_t *q = &req->query;
    char id[16], after[24], upto[24];
    snprintf(id, sizeof id, "%u", req->job_id);
    const char *p1[] = { id };
    PGresult *res = store_sql_query(conn, req, "reading the job",
                                    "SELECT n_tasks, pipeline IS NOT NULL OR EXISTS (SELECT 1 FROM tasks"
                                    " WHERE job_id = $1 AND pipeline IS NOT NULL) FROM jobs WHERE id = $1", 1, p1, 0);
    if (!res)
        return;
    if (PQntuples(res) == 0 || PQgetvalue(res, 0, 1)[0] != 't') {
        store_sql_error(req, PQntuples(res) ? STORE_ERR_STATE : STORE_ERR_NOT_FOUND,
                        PQntuples(res) ? "job %u is not a pipeline job: it has no items (no line with its own steps)" : "no job %u", req->job_id);
        PQclear(res);
        return;
    }
    int64_t n_tasks = store_sql_i64(res, 0, 0);
    PQclear(res);
    uint32_t count = q->limit ? q->limit : 1000;
    //  an item is one submitted seq: the range holds exactly `count` items
    int64_t end = q->after_seq + (int64_t) count;
    snprintf(after, sizeof after, "%lld", (long long) q->after_seq);
    snprintf(upto, sizeof upto, "%lld", (long long) end);
    const char *params[] = { id, after, upto };
    res = store_sql_query(conn, req, "reading items", s_items_sql, 3, params, 0);
    if (!res)
        return;
    s_pack(req, res, end, end >= n_tasks - 1);
    PQclear(res);
}
