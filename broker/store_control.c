/*  store_control — pause, resume, cancel and retry a job, each in one
    transaction, then read the job's row. See store_ops.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_ops.h"
#include "store_sql.h"

//  Refused: say why (no job, its state), as the request's error.
static void
s_refused(PGconn *conn, store_req_t *req, const char *doing)
{
    uint64_t committed = 0;
    bool sealed = false;
    store_jobs_diagnose(conn, req, doing, 0, false, &committed, &sealed);
}

static void
s_pause_resume(PGconn *conn, store_req_t *req, const char *const *params)
{
    bool pause = req->control.action == SHOAL__CONTROL_ACTION__CONTROL_PAUSE;
    PGresult *res = store_sql_query(conn, req, "changing the job state", pause
        ? "UPDATE jobs SET state = 'paused' WHERE id = $1 AND state IN ('active', 'paused') RETURNING state"
        : "UPDATE jobs SET state = 'active' WHERE id = $1 AND state IN ('active', 'paused') RETURNING state",
        1, params, 0);
    if (!res)
        return;
    if (PQntuples(res) == 0) {
        PQclear(res);
        s_refused(conn, req, pause ? "pause" : "resume");
        return;
    }
    req->control.new_state = store_sql_state(PQgetvalue(res, 0, 0));
    PQclear(res);
}

//  Run a statement inside the open transaction; on failure roll it back.
//  Returns the result or NULL.
static PGresult *
s_step(PGconn *conn, store_req_t *req, const char *what, const char *sql, int n, const char *const *params)
{
    PGresult *res = store_sql_query(conn, req, what, sql, n, params, 0);
    if (!res)
        store_sql_rollback(conn);
    return res;
}

//  Add `n` to a counter of the job (an integer column name, never user data).
static int
s_add_count(PGconn *conn, store_req_t *req, const char *id, const char *what, const char *sql, uint64_t n)
{
    char count[24];
    snprintf(count, sizeof count, "%llu", (unsigned long long) n);
    const char *params[] = { id, count };
    PGresult *res = s_step(conn, req, what, sql, 2, params);
    if (!res)
        return -1;
    if (PQntuples(res) > 0)
        req->control.new_state = store_sql_state(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

static void
s_cancel(PGconn *conn, store_req_t *req, const char *const *params)
{
    if (store_sql_command(conn, req, "starting the transaction", "BEGIN"))
        return;
    PGresult *res = s_step(conn, req, "cancelling the job",
        "UPDATE jobs SET state = 'cancelled', finished_at = now()"
        " WHERE id = $1 AND state IN ('active', 'paused') RETURNING id", 1, params);
    if (!res)
        return;
    if (PQntuples(res) == 0) {
        PQclear(res);
        store_sql_rollback(conn);
        s_refused(conn, req, "cancel");
        return;
    }
    PQclear(res);
    res = s_step(conn, req, "cancelling tasks",
        "INSERT INTO results (job_id, seq, outcome, attempt, error, finished_at)"
        " SELECT t.job_id, t.seq, 'cancelled', 0, 'job cancelled', now() FROM tasks t"
        " WHERE t.job_id = $1 AND NOT EXISTS"
        "  (SELECT 1 FROM results r WHERE r.job_id = t.job_id AND r.seq = t.seq)"
        " ON CONFLICT DO NOTHING", 1, params);
    if (!res)
        return;
    req->control.affected = strtoull(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    if (s_add_count(conn, req, params[0], "counting cancelled tasks",
                    "UPDATE jobs SET n_cancelled = n_cancelled + $2 WHERE id = $1", req->control.affected))
        return;
    if (store_sql_command(conn, req, "committing the cancel", "COMMIT")) {
        store_sql_rollback(conn);
        return;
    }
    req->control.new_state = SHOAL__JOB_STATE__JOB_CANCELLED;
}

//  '{1,2,3}' into buf.
static void
s_int_array(char *buf, size_t cap, const uint32_t *items, size_t n)
{
    size_t o = (size_t) snprintf(buf, cap, "{");
    for (size_t i = 0; i < n && o < cap; i++)
        o += (size_t) snprintf(buf + o, cap - o, "%s%u", i ? "," : "", items[i]);
    if (o < cap)
        snprintf(buf + o, cap - o, "}");
}

static void
s_retry(PGconn *conn, store_req_t *req, const char *const *params)
{
    store_control_t *c = &req->control;
    if (store_sql_command(conn, req, "starting the transaction", "BEGIN"))
        return;
    PGresult *res = s_step(conn, req, "reading the job", "SELECT state FROM jobs WHERE id = $1 FOR UPDATE",
                           1, params);
    if (!res)
        return;
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0), "cancelled") == 0) {
        bool missing = PQntuples(res) == 0;
        PQclear(res);
        store_sql_rollback(conn);
        if (missing)
            store_sql_error(req, STORE_ERR_NOT_FOUND, "no job %u", req->job_id);
        else
            store_sql_error(req, STORE_ERR_STATE, "cannot retry: job %u is cancelled", req->job_id);
        return;
    }
    PQclear(res);
    char statuses[1024], classes[128];
    s_int_array(statuses, sizeof statuses, c->retry_status, c->n_retry_status);
    s_int_array(classes, sizeof classes, c->retry_class, c->n_retry_class);
    const char *p3[] = { params[0], statuses, classes };
    res = s_step(conn, req, "requeueing failed tasks",
        "WITH moved AS (DELETE FROM results r WHERE r.job_id = $1 AND r.outcome = 'failed'"
        "   AND ((cardinality($2::int[]) = 0 AND cardinality($3::int[]) = 0)"
        "        OR r.http_status = ANY($2::int[]) OR (r.http_status / 100) = ANY($3::int[])"
        "        OR (0 = ANY($3::int[]) AND r.http_status IS NULL))"
        "   RETURNING r.*),"
        " ins AS (INSERT INTO attempts (job_id, seq, attempt, worker, outcome, error,"
        "   http_status, started_at, finished_at, counted)"
        "   SELECT job_id, seq, attempt, worker, 'failed', error, http_status,"
        "   started_at, finished_at, false FROM moved),"
        " unc AS (UPDATE attempts a SET counted = false FROM moved m"
        "   WHERE a.job_id = m.job_id AND a.seq = m.seq AND a.counted)"
        " SELECT count(*) FROM moved", 3, p3);
    if (!res)
        return;
    c->affected = store_sql_u64(res, 0, 0);
    PQclear(res);
    if (s_add_count(conn, req, params[0], "counting requeued tasks",
            "UPDATE jobs SET n_failed = n_failed - $2,"
            " state = CASE WHEN $2 > 0 AND state = 'done' THEN 'active' ELSE state END,"
            " finished_at = CASE WHEN $2 > 0 THEN NULL ELSE finished_at END"
            " WHERE id = $1 RETURNING state", c->affected))
        return;
    if (store_sql_command(conn, req, "committing the retry", "COMMIT"))
        store_sql_rollback(conn);
}

void
store_control_run(PGconn *conn, store_req_t *req)
{
    char id[16];
    snprintf(id, sizeof id, "%u", req->job_id);
    const char *params[] = { id };
    switch (req->control.action) {
        case SHOAL__CONTROL_ACTION__CONTROL_PAUSE:
        case SHOAL__CONTROL_ACTION__CONTROL_RESUME:
            s_pause_resume(conn, req, params);
            break;
        case SHOAL__CONTROL_ACTION__CONTROL_CANCEL:
            s_cancel(conn, req, params);
            break;
        case SHOAL__CONTROL_ACTION__CONTROL_RETRY:
            s_retry(conn, req, params);
            break;
        default:
            store_sql_error(req, STORE_ERR_FAILED, "unknown control action");
    }
    if (req->status == STORE_OK) {
        store_jobs_read(conn, req, req->job_id);
        if (req->status == STORE_ERR_NOT_FOUND)
            req->status = STORE_OK;     //  the change itself happened
    }
}
