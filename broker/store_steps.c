/*  store_steps — a pipeline job's tasks and their outcomes per step, in one
    grouped query over the job's tasks and results (docs/pipelines.md,
    "Seeing it"). The broker keeps these counts in memory and adds each
    committed batch to them; this query (O(the job's tasks), on the
    primary keys) runs only when they must be read afresh: at start-up,
    after a retry or a cancel, after a batch some of whose results were
    already stored, and for a job no longer in memory. See store_ops.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_ops.h"
#include "store_sql.h"
#include "pipeline.h"

int
store_steps_read(PGconn *conn, store_req_t *req, uint32_t job_id, store_step_t **rows, size_t *n)
{
    char idbuf[16];
    snprintf(idbuf, sizeof idbuf, "%u", job_id);
    const char *params[] = { idbuf };
    PGresult *res = store_sql_query(conn, req, "counting pipeline steps",
        "SELECT coalesce(t.step, 0) AS step, count(*),"
        "  count(*) FILTER (WHERE r.outcome = 'ok'),"
        "  count(*) FILTER (WHERE r.outcome = 'failed'),"
        "  count(*) FILTER (WHERE r.outcome = 'cancelled')"
        " FROM tasks t LEFT JOIN results r ON r.job_id = t.job_id AND r.seq = t.seq"
        " WHERE t.job_id = $1 GROUP BY 1 ORDER BY 1", 1, params, 0);
    if (!res)
        return -1;
    size_t count = 0;
    size_t rn = store_sql_rows(res);
    for (size_t i = 0; i < rn; i++) {
        uint64_t step = store_sql_u64(res, (int) i, 0);
        if (step < PIPELINE_MAX_STEPS && step + 1 > count)
            count = (size_t) step + 1;
    }
    store_step_t *out = calloc(count ? count : 1, sizeof *out);
    if (!out) {
        PQclear(res);
        store_sql_error(req, STORE_ERR_FAILED, "out of memory counting steps");
        return -1;
    }
    for (size_t i = 0; i < rn; i++) {
        uint64_t step = store_sql_u64(res, (int) i, 0);
        if (step >= PIPELINE_MAX_STEPS)
            continue;
        store_step_t *s = &out[step];
        s->tasks = store_sql_u64(res, (int) i, 1);
        s->ok = store_sql_u64(res, (int) i, 2);
        s->failed = store_sql_u64(res, (int) i, 3);
        s->cancelled = store_sql_u64(res, (int) i, 4);
    }
    PQclear(res);
    free(*rows);
    *rows = out;
    *n = count;
    return 0;
}

//  Per item: its tasks without a result, whether one failed or was cancelled.
#define S_ITEMS_CTE \
    "WITH i AS (SELECT coalesce(t.root, t.seq) AS item," \
    "    count(*) FILTER (WHERE r.seq IS NULL) AS open, count(r.seq) AS ended," \
    "    coalesce(bool_or(r.outcome = 'failed'), false) AS failed," \
    "    coalesce(bool_or(r.outcome = 'cancelled'), false) AS cancelled" \
    "  FROM tasks t LEFT JOIN results r ON r.job_id = t.job_id AND r.seq = t.seq" \
    "  WHERE t.job_id = $1 GROUP BY 1) "
//  ... summed up (item -1: complete, failed, cancelled, running)
#define S_ITEMS_TALLY \
    "SELECT -1, count(*) FILTER (WHERE open = 0 AND NOT failed AND NOT cancelled)," \
    "  count(*) FILTER (WHERE failed), count(*) FILTER (WHERE cancelled AND NOT failed)," \
    "  count(*) FILTER (WHERE open > 0 AND ended > 0 AND NOT failed AND NOT cancelled) FROM i"

int
store_items_read(PGconn *conn, store_req_t *req, uint32_t job_id, item_tally_t *tally,
                 item_open_t **open, size_t *n_open)
{
    char idbuf[16];
    snprintf(idbuf, sizeof idbuf, "%u", job_id);
    const char *params[] = { idbuf };
    //  with `open`: also each item under way (a result stored, a task open)
    PGresult *res = store_sql_query(conn, req, "counting pipeline items", open
        ? S_ITEMS_CTE "SELECT item, open, failed::int::bigint, cancelled::int::bigint, 0::bigint FROM i"
          " WHERE open > 0 AND ended > 0 UNION ALL " S_ITEMS_TALLY
        : S_ITEMS_CTE S_ITEMS_TALLY, 1, params, 0);
    if (!res)
        return -1;
    size_t rn = store_sql_rows(res);
    item_open_t *out = open ? calloc(rn ? rn : 1, sizeof *out) : NULL;
    if (open && !out) {
        PQclear(res);
        store_sql_error(req, STORE_ERR_FAILED, "out of memory counting items");
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < rn; i++) {
        if (!strcmp(PQgetvalue(res, (int) i, 0), "-1")) {
            tally->complete = store_sql_u64(res, (int) i, 1);
            tally->failed = store_sql_u64(res, (int) i, 2);
            tally->cancelled = store_sql_u64(res, (int) i, 3);
            tally->running = store_sql_u64(res, (int) i, 4);
        }
        else
        if (out) {
            out[n].root = (uint32_t) store_sql_u64(res, (int) i, 0);
            out[n].open = (uint32_t) store_sql_u64(res, (int) i, 1);
            out[n].failed = store_sql_u64(res, (int) i, 2) != 0;
            out[n].cancelled = store_sql_u64(res, (int) i, 3) != 0;
            n++;
        }
    }
    PQclear(res);
    if (open) {
        free(*open);
        *open = out;
        *n_open = n;
    }
    return 0;
}
