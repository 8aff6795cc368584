/*  store_write — a batch of results and attempts in one transaction, with
    the jobs' counters, marked with the batch's id so that it commits once.
    See store_ops.h and docs/architecture.md ("What is written when"). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgcopy.h"
#include "store_ops.h"
#include "store_counters.h"
#include "store_sql.h"

//  '{1,2,3}' literals of one column of the deltas (integers only).
static char *
s_delta_array(const store_write_t *w, size_t offset, bool u32)
{
    size_t cap = w->n_deltas * 24 + 8, o = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    o += (size_t) snprintf(buf + o, cap - o, "{");
    for (size_t i = 0; i < w->n_deltas; i++) {
        const char *d = (const char *) &w->deltas[i];
        unsigned long long v = u32 ? *(const uint32_t *) (d + offset) : *(const uint64_t *) (d + offset);
        o += (size_t) snprintf(buf + o, cap - o, "%s%llu", i ? "," : "", v);
    }
    snprintf(buf + o, cap - o, "}");
    return buf;
}

static void
s_read_outcomes(PGresult *res, store_req_t *req, bool with_duplicates)
{
    store_write_t *w = &req->write;
    size_t n = store_sql_rows(res);
    w->outcomes = calloc(n ? n : 1, sizeof *w->outcomes);
    if (!w->outcomes)
        return;
    w->n_outcomes = n;
    for (int i = 0; i < (int) n; i++) {
        store_outcome_t *o = &w->outcomes[i];
        int c = 0;
        o->job_id = (uint32_t) store_sql_u64(res, i, c++);
        o->ok = store_sql_u64(res, i, c++);
        o->failed = store_sql_u64(res, i, c++);
        o->cancelled = store_sql_u64(res, i, c++);
        if (with_duplicates)
            o->duplicate = store_sql_u64(res, i, c++);
        o->done = strcmp(PQgetvalue(res, i, c), "done") == 0;
    }
}

//  Add the batch's counters to the jobs rows and commit, in one message.
//  With `outcomes`, the result counts too, and the jobs now complete are
//  marked done (and reported in w->outcomes).
static int
s_write_counters_and_commit(PGconn *conn, store_req_t *req, bool outcomes)
{
    store_write_t *w = &req->write;
    char counters[4096];
    store_counters_sql(&w->counters, counters, sizeof counters);
    if (!w->n_deltas) {
        //  (cluster counters come with result rows, which come with deltas)
        if (counters[0] && store_sql_command(conn, req, "adding the cluster counters", counters))
            return -1;
        return store_sql_command(conn, req, "committing results", "COMMIT");
    }
    //  the fast path's children (COPY straight into tasks): each job's
    //  n_children first, so that the done test below counts them
    size_t ccap = w->n_deltas * 96 + 1, co = 0;
    char *children = calloc(1, ccap);
    for (size_t i = 0; children && outcomes && w->children_all && i < w->n_deltas; i++)
        if (w->deltas[i].children)
            co += (size_t) snprintf(children + co, ccap - co,
                                    "UPDATE jobs SET n_children = n_children + %llu WHERE id = %u; ",
                                    (unsigned long long) w->deltas[i].children, w->deltas[i].job_id);
    char *cols[6] = {
        s_delta_array(w, offsetof(store_delta_t, job_id), true),
        s_delta_array(w, offsetof(store_delta_t, ok), false),
        s_delta_array(w, offsetof(store_delta_t, failed), false),
        s_delta_array(w, offsetof(store_delta_t, cancelled), false),
        s_delta_array(w, offsetof(store_delta_t, retries), false),
        s_delta_array(w, offsetof(store_delta_t, stale), false),
    };
    int rc = -1;
    char *sql = NULL;
    if (!children)
        goto done;
    for (int i = 0; i < 6; i++)
        if (!cols[i])
            goto done;
    size_t cap = 2048 + strlen(counters) + strlen(children);
    for (int i = 0; i < 6; i++)
        cap += strlen(cols[i]);
    sql = malloc(cap);
    if (!sql)
        goto done;
    if (outcomes)
        snprintf(sql, cap,
            "%s%sUPDATE jobs j SET n_ok = j.n_ok + d.ok, n_failed = j.n_failed + d.failed,"
            "  n_failed_total = j.n_failed_total + d.failed, n_cancelled = j.n_cancelled + d.cancelled,"
            "  n_retries = j.n_retries + d.retries, n_stale = j.n_stale + d.stale,"
            STORE_SQL_SET_DONE("j.sealed", " + d.ok + d.failed + d.cancelled")
            " FROM unnest('%s'::int[], '%s'::int8[], '%s'::int8[], '%s'::int8[], '%s'::int8[], '%s'::int8[])"
            "   AS d(id, ok, failed, cancelled, retries, stale)"
            " WHERE j.id = d.id RETURNING j.id, d.ok, d.failed, d.cancelled, j.state; COMMIT",
            counters, children, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]);
    else
        snprintf(sql, cap,
            "%sUPDATE jobs j SET n_retries = j.n_retries + d.retries, n_stale = j.n_stale + d.stale"
            " FROM unnest('%s'::int[], '%s'::int8[], '%s'::int8[]) AS d(id, retries, stale)"
            " WHERE j.id = d.id; COMMIT", counters, cols[0], cols[4], cols[5]);
    if (!PQsendQuery(conn, sql)) {
        store_sql_fail(conn, NULL, req, "counting results");
        goto done;
    }
    PGresult *res;
    rc = 0;
    while ((res = PQgetResult(conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK && outcomes && !w->outcomes)
            s_read_outcomes(res, req, false);
        else
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && rc == 0) {
            store_sql_fail(conn, res, req, "counting results");
            rc = -1;
        }
        PQclear(res);
    }
    //  a COMMIT of a failed transaction reports ROLLBACK, not an error
    if (rc == 0 && PQtransactionStatus(conn) != PQTRANS_IDLE)
        rc = -1;
done:
    if (rc != 0 && req->status == STORE_OK) {
        req->status = STORE_ERR_FAILED;
        snprintf(req->error, sizeof req->error, "counting results failed");
    }
    free(sql);
    free(children);
    for (int i = 0; i < 6; i++)
        free(cols[i]);
    return rc;
}

//  The tasks pipeline steps create with this batch's results, in its
//  transaction: staged, then inserted unless that parent's child for that
//  element exists (a result stored by an earlier broker run); the job
//  counts the children inserted, and their ids come back to be loaded.
static int
s_write_children(PGconn *conn, store_req_t *req)
{
    store_write_t *w = &req->write;
    if (!w->child_rows.rows)
        return 0;
    if (store_sql_copy(conn, req, "staging pipeline steps",
               "COPY shoal_stage_tasks (job_id, seq, kind, target, spec, root, parent, step, element)"
               " FROM STDIN (FORMAT binary)", &w->child_rows, NULL, NULL))
        return -1;
    PGresult *res = store_sql_query(conn, req, "creating pipeline steps",
        "WITH ins AS (INSERT INTO tasks SELECT * FROM shoal_stage_tasks"
        "             ON CONFLICT (job_id, parent, element) WHERE parent IS NOT NULL DO NOTHING"
        "             RETURNING job_id, seq),"
        " cnt AS (UPDATE jobs j SET n_children = j.n_children + c.n"
        "         FROM (SELECT job_id, count(*) AS n FROM ins GROUP BY job_id) c WHERE j.id = c.job_id)"
        " SELECT job_id, seq FROM ins", 0, NULL, 0);
    if (!res)
        return -1;
    size_t n = store_sql_rows(res);
    free(w->inserted);
    w->inserted = calloc(n ? n : 1, sizeof *w->inserted);
    w->n_inserted = 0;
    for (size_t i = 0; w->inserted && i < n; i++)
        w->inserted[w->n_inserted++] = (store_sql_u64(res, (int) i, 0) << 32) | store_sql_u64(res, (int) i, 1);
    PQclear(res);
    return 0;
}

static const char *s_copy_attempts =
    "COPY attempts (job_id, seq, attempt, worker, outcome, error, http_status,"
    " started_at, finished_at, retry_at, counted) FROM STDIN (FORMAT binary)";

//  A failed try: nothing of it happened, and no outcome is reported.
static void
s_abandon(PGconn *conn, store_write_t *w)
{
    store_sql_rollback(conn);
    w->children_all = false;
    free(w->outcomes);
    w->outcomes = NULL;
    w->n_outcomes = 0;
}

//  The statements that open a batch's transaction: its id is recorded (a
//  second try of a batch whose commit reply was lost fails right there with
//  STORE_ERR_APPLIED), and the ids of earlier batches of this run are no
//  longer needed (batches are written one after the other). The last batch
//  of each earlier run (term) stays, with its time (docs/failover.md).
static void
s_batch_prefix(const store_write_t *w, char *sql, size_t size)
{
    snprintf(sql, size, "BEGIN; INSERT INTO shoal_batches VALUES (%llu, %llu);"
             " DELETE FROM shoal_batches WHERE epoch = %llu AND seq < %llu; ",
             (unsigned long long) w->epoch, (unsigned long long) w->batch_id,
             (unsigned long long) w->epoch, (unsigned long long) w->batch_id);
}

//  The usual case: the broker already made sure each task has one result
//  in the batch and none stored, so rows go straight into `results`.
//  Three round trips: BEGIN+COPY, the rows, counters+COMMIT.
static void
s_write_fast(PGconn *conn, store_req_t *req)
{
    store_write_t *w = &req->write;
    int rc = 0;
    bool begun = false;
    char prefix[512], sql[1024];
    s_batch_prefix(w, prefix, sizeof prefix);
    if (w->rows.rows) {
        snprintf(sql, sizeof sql, "%sCOPY results FROM STDIN (FORMAT binary)", prefix);
        rc = store_sql_copy(conn, req, "storing results", sql, &w->rows, NULL, NULL);
        begun = true;
    }
    if (rc == 0 && w->attempt_rows.rows) {
        snprintf(sql, sizeof sql, "%s%s", begun ? "" : prefix, s_copy_attempts);
        rc = store_sql_copy(conn, req, "logging attempts", sql, &w->attempt_rows, NULL, NULL);
        begun = true;
    }
    if (rc == 0 && begun && w->child_rows.rows) {
        //  children straight into tasks, like results: a child that exists
        //  (a result an earlier run stored, resent) is a unique violation,
        //  and the careful path stages them instead
        rc = store_sql_copy(conn, req, "creating pipeline steps",
                            "COPY tasks (job_id, seq, kind, target, spec, root, parent, step, element)"
                            " FROM STDIN (FORMAT binary)", &w->child_rows, NULL, NULL);
        w->children_all = rc == 0;
    }
    if (rc == 0 && !begun) {
        //  prefix without the trailing space's statement: counters only
        PGresult *res;
        if (!PQsendQuery(conn, prefix)) {
            store_sql_fail(conn, NULL, req, "starting the transaction");
            rc = -1;
        }
        while (rc == 0 && (res = PQgetResult(conn)) != NULL) {
            ExecStatusType st = PQresultStatus(res);
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && rc == 0) {
                store_sql_fail(conn, res, req, "starting the transaction");
                rc = -1;
            }
            PQclear(res);
        }
        while ((res = PQgetResult(conn)) != NULL)
            PQclear(res);
    }
    if (rc == 0)
        rc = s_write_counters_and_commit(conn, req, true);
    if (rc != 0)
        s_abandon(conn, w);
}

//  After a unique violation: a task of the batch already has its result
//  (a worker resent one the previous broker run had stored). Insert what
//  is new, count what was refused.
static void
s_write_careful(PGconn *conn, store_req_t *req)
{
    store_write_t *w = &req->write;
    char prefix[512], sql[1024];
    s_batch_prefix(w, prefix, sizeof prefix);
    snprintf(sql, sizeof sql, "%sCOPY shoal_stage FROM STDIN (FORMAT binary)", prefix);
    if (store_sql_copy(conn, req, "staging results", sql, &w->rows, NULL, NULL))
        goto fail;
    if (w->attempt_rows.rows && store_sql_copy(conn, req, "logging attempts", s_copy_attempts, &w->attempt_rows, NULL, NULL))
        goto fail;
    //  before the counters: the job is not done while its children are unfinished
    if (s_write_children(conn, req))
        goto fail;
    if (w->rows.rows) {
        PGresult *res = store_sql_query(conn, req, "storing results",
            "WITH ins AS (INSERT INTO results SELECT * FROM shoal_stage"
            "             ON CONFLICT DO NOTHING RETURNING job_id, outcome),"
            " staged AS (SELECT job_id, count(*) AS n FROM shoal_stage GROUP BY job_id),"
            " got AS (SELECT job_id,"
            "           count(*) FILTER (WHERE outcome = 'ok') AS ok,"
            "           count(*) FILTER (WHERE outcome = 'failed') AS failed,"
            "           count(*) FILTER (WHERE outcome = 'cancelled') AS cancelled"
            "         FROM ins GROUP BY job_id),"
            " agg AS (SELECT s.job_id, s.n, coalesce(g.ok, 0) AS ok,"
            "           coalesce(g.failed, 0) AS failed, coalesce(g.cancelled, 0) AS cancelled"
            "         FROM staged s LEFT JOIN got g USING (job_id))"
            " UPDATE jobs j SET n_ok = j.n_ok + agg.ok, n_failed = j.n_failed + agg.failed,"
            "   n_failed_total = j.n_failed_total + agg.failed, n_cancelled = j.n_cancelled + agg.cancelled,"
            "   n_duplicate = j.n_duplicate + (agg.n - agg.ok - agg.failed - agg.cancelled),"
            STORE_SQL_SET_DONE("j.sealed", " + agg.ok + agg.failed + agg.cancelled")
            " FROM agg WHERE j.id = agg.job_id"
            " RETURNING j.id, agg.ok, agg.failed, agg.cancelled,"
            "   agg.n - agg.ok - agg.failed - agg.cancelled, j.state",
            0, NULL, 0);
        if (!res)
            goto fail;
        s_read_outcomes(res, req, true);
        PQclear(res);
    }
    if (s_write_counters_and_commit(conn, req, false))
        goto fail;
    return;
fail:
    s_abandon(conn, w);
}

//  The batch was committed by an earlier try whose reply was lost: report
//  what it did from the counts the broker sent and the jobs' states now.
static void
s_write_applied(PGconn *conn, store_req_t *req)
{
    store_write_t *w = &req->write;
    req->status = STORE_OK;
    req->error[0] = 0;
    if (!w->n_deltas)
        return;
    char *ids = s_delta_array(w, offsetof(store_delta_t, job_id), true);
    if (!ids)
        return;
    const char *params[] = { ids };
    PGresult *res = store_sql_query(conn, req, "reading job states",
                            "SELECT id, state FROM jobs WHERE id = ANY($1::int[])", 1, params, 0);
    free(ids);
    w->outcomes = calloc(w->n_deltas, sizeof *w->outcomes);
    if (!res || !w->outcomes) {
        if (res)
            PQclear(res);
        return;
    }
    w->n_outcomes = w->n_deltas;
    for (size_t i = 0; i < w->n_deltas; i++) {
        store_outcome_t *o = &w->outcomes[i];
        o->job_id = w->deltas[i].job_id;
        o->ok = w->deltas[i].ok;
        o->failed = w->deltas[i].failed;
        o->cancelled = w->deltas[i].cancelled;
        for (int r = 0; r < PQntuples(res); r++)
            if ((uint32_t) store_sql_u64(res, r, 0) == o->job_id)
                o->done = strcmp(PQgetvalue(res, r, 1), "done") == 0;
    }
    PQclear(res);
}

void
store_write_batch(PGconn *conn, store_req_t *req)
{
    s_write_fast(conn, req);
    if (req->status == STORE_ERR_CONFLICT) {
        req->status = STORE_OK;
        req->error[0] = 0;
        s_write_careful(conn, req);
    }
    if (req->status == STORE_ERR_APPLIED) {
        store_sql_rollback(conn);
        s_write_applied(conn, req);
    }
}
