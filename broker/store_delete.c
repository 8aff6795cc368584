/*  store_delete — the SQL of shoal delete / prune (STORE_DELETE), on the
    janitor's own connection so that the writer never waits behind it.

    A job is claimed in one short transaction: its jobs row is locked and
    checked (done or cancelled), its job_updates go, the id is recorded in
    job_deletions and the jobs row is deleted, so from then on no status,
    list or control sees it and `retry` cannot bring it back. Its tasks,
    results and attempts then go `batch` seqs at a time, one transaction
    (one statement) per batch: each holds the row locks of at most `batch`
    tasks for as long as deleting them takes, and takes no lock any other
    job's rows need. A slice of batches runs for about `budget_ms`, then the
    request goes back to the dispatcher, which sends it again while rows
    are left; a broker stopped in between finishes the deletion at its next
    start (job_deletions). See docs/lifecycle.md. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "store_ops.h"
#include "store_sql.h"

//  A deletion of at least this many tasks analyzes the tables afterwards.
#define STORE_DELETE_ANALYZE 100000

//  Claim job req->job_id: refuse an active or paused job, else delete its
//  jobs and job_updates rows and record it in job_deletions, in one
//  transaction. 0, or -1 recorded in req.
static int
s_claim(PGconn *conn, store_req_t *req, const char *id)
{
    store_delete_t *d = &req->del;
    if (store_sql_command(conn, req, "starting the deletion", "BEGIN"))
        return -1;
    const char *params[] = { id, NULL, NULL };
    PGresult *res = store_sql_query(conn, req, "reading the job",
                                    "SELECT state, name FROM jobs WHERE id = $1 FOR UPDATE", 1, params, 0);
    if (!res) {
        store_sql_rollback(conn);
        return -1;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        store_sql_rollback(conn);
        store_sql_error(req, STORE_ERR_NOT_FOUND, "no job %u", req->job_id);
        return -1;
    }
    d->state = store_sql_state(PQgetvalue(res, 0, 0));
    free(d->name);
    d->name = strdup(PQgetvalue(res, 0, 1));
    PQclear(res);
    if (d->state != SHOAL__JOB_STATE__JOB_DONE && d->state != SHOAL__JOB_STATE__JOB_CANCELLED) {
        store_sql_rollback(conn);
        store_sql_error(req, STORE_ERR_STATE, "job %u is %s: only finished (done or cancelled) jobs are"
                        " deleted; cancel it first (shoal delete --cancel)", req->job_id,
                        store_state_name(d->state));
        return -1;
    }
    res = store_sql_query(conn, req, "deleting the job's updates",
                          "DELETE FROM job_updates WHERE job_id = $1", 1, params, 0);
    if (!res) {
        store_sql_rollback(conn);
        return -1;
    }
    d->updates += strtoull(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    params[1] = d->name;
    params[2] = store_state_name(d->state);
    res = store_sql_query(conn, req, "recording the deletion",
                          "INSERT INTO job_deletions (job_id, name, state) VALUES ($1, $2, $3)"
                          " ON CONFLICT (job_id) DO NOTHING", 3, params, 0);
    if (!res) {
        store_sql_rollback(conn);
        return -1;
    }
    PQclear(res);
    res = store_sql_query(conn, req, "deleting the job row", "DELETE FROM jobs WHERE id = $1", 1, params, 0);
    if (!res) {
        store_sql_rollback(conn);
        return -1;
    }
    PQclear(res);
    if (store_sql_command(conn, req, "committing the claim", "COMMIT")) {
        store_sql_rollback(conn);
        return -1;
    }
    d->claimed = true;
    d->next_seq = 0;
    return 0;
}

//  A deletion an earlier broker run began: req->job_id, or (0) the oldest
//  pending one. 0, or -1 (STORE_ERR_NOT_FOUND: none pending).
static int
s_pending(PGconn *conn, store_req_t *req)
{
    char id[16];
    snprintf(id, sizeof id, "%u", req->job_id);
    const char *params[] = { id };
    PGresult *res = store_sql_query(conn, req, "reading pending deletions",
        "SELECT job_id, coalesce(name, ''), coalesce(state, '') FROM job_deletions"
        " WHERE $1::int = 0 OR job_id = $1::int ORDER BY job_id LIMIT 1", 1, params, 0);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        store_sql_error(req, STORE_ERR_NOT_FOUND, "no deletion pending");
        return -1;
    }
    req->job_id = (uint32_t) strtoul(PQgetvalue(res, 0, 0), NULL, 10);
    free(req->del.name);
    req->del.name = strdup(PQgetvalue(res, 0, 1));
    req->del.state = store_sql_state(PQgetvalue(res, 0, 2));
    PQclear(res);
    req->del.claimed = true;
    return 0;
}

//  The lowest seq at or above `from` that any of the job's tables still
//  holds, or -1 when none (an index probe per table). -2 on failure.
static int64_t
s_next_seq(PGconn *conn, store_req_t *req, const char *id, int64_t from)
{
    char from_text[24];
    snprintf(from_text, sizeof from_text, "%lld", (long long) from);
    const char *params[] = { id, from_text };
    PGresult *res = store_sql_query(conn, req, "finding the next rows",
        "SELECT least((SELECT min(seq) FROM tasks WHERE job_id = $1 AND seq >= $2::bigint),"
        "             (SELECT min(seq) FROM results WHERE job_id = $1 AND seq >= $2::bigint),"
        "             (SELECT min(seq) FROM attempts WHERE job_id = $1 AND seq >= $2::bigint))",
        2, params, 0);
    if (!res)
        return -2;
    int64_t seq = PQgetisnull(res, 0, 0) ? -1 : store_sql_i64(res, 0, 0);
    PQclear(res);
    return seq;
}

//  Delete seqs [lo, lo + batch) of the job from results, attempts and
//  tasks in one statement (one transaction). 0, or -1 recorded.
static int
s_delete_range(PGconn *conn, store_req_t *req, const char *id, int64_t lo)
{
    store_delete_t *d = &req->del;
    char lo_text[24], hi_text[24];
    snprintf(lo_text, sizeof lo_text, "%lld", (long long) lo);
    snprintf(hi_text, sizeof hi_text, "%lld", (long long) (lo + d->batch));
    const char *params[] = { id, lo_text, hi_text };
    int64_t started = clock_mono_ms();
    PGresult *res = store_sql_query(conn, req, "deleting a batch of rows",
        "WITH r AS (DELETE FROM results WHERE job_id = $1 AND seq >= $2::bigint AND seq < $3::bigint"
        "           RETURNING 1),"
        "     a AS (DELETE FROM attempts WHERE job_id = $1 AND seq >= $2::bigint AND seq < $3::bigint"
        "           RETURNING 1),"
        "     t AS (DELETE FROM tasks WHERE job_id = $1 AND seq >= $2::bigint AND seq < $3::bigint"
        "           RETURNING 1)"
        " SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM r), (SELECT count(*) FROM a)",
        3, params, 0);
    if (!res)
        return -1;
    d->tasks += store_sql_u64(res, 0, 0);
    d->results += store_sql_u64(res, 0, 1);
    d->attempts += store_sql_u64(res, 0, 2);
    PQclear(res);
    int64_t took = clock_mono_ms() - started;
    d->batches++;
    if (took > (int64_t) d->longest_ms)
        d->longest_ms = (uint32_t) took;
    d->next_seq = lo + d->batch;
    return 0;
}

//  Every row is gone: forget the deletion. 0, or -1 recorded.
static int
s_finish(PGconn *conn, store_req_t *req, const char *id)
{
    const char *params[] = { id };
    PGresult *res = store_sql_query(conn, req, "deleting the job's updates",
                                    "DELETE FROM job_updates WHERE job_id = $1", 1, params, 0);
    if (!res)
        return -1;
    req->del.updates += strtoull(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    res = store_sql_query(conn, req, "ending the deletion", "DELETE FROM job_deletions WHERE job_id = $1",
                          1, params, 0);
    if (!res)
        return -1;
    PQclear(res);
    req->del.more = false;
    if (req->del.tasks >= STORE_DELETE_ANALYZE) {
        //  the tables' statistics still count the rows that went: plans of
        //  other jobs' statements (cancel's anti-join) would go wrong until
        //  autovacuum comes by. ANALYZE samples, and blocks no writes; the
        //  deletion is complete whatever it answers.
        PQclear(PQexec(conn, "ANALYZE tasks, results, attempts"));
    }
    return 0;
}

void
store_delete_run(PGconn *conn, store_req_t *req)
{
    store_delete_t *d = &req->del;
    if (d->batch == 0)
        d->batch = STORE_DELETE_BATCH;
    d->more = true;
    if (!d->claimed && d->resume && s_pending(conn, req))
        return;
    char id[16];
    snprintf(id, sizeof id, "%u", req->job_id);
    if (!d->claimed && s_claim(conn, req, id))
        return;
    int64_t until = clock_mono_ms() + (d->budget_ms > 0 ? d->budget_ms : 500);
    while (clock_mono_ms() < until) {
        int64_t lo = s_next_seq(conn, req, id, d->next_seq);
        if (lo == -2)
            return;
        if (lo < 0) {
            s_finish(conn, req, id);
            return;
        }
        if (s_delete_range(conn, req, id, lo))
            return;
    }
}
