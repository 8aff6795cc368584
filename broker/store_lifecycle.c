/*  store_lifecycle — the SQL of a job's later life: shoal update (the
    change merged over the stored defaults, logged in job_updates). Runs on
    a store thread; one transaction per request. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobupdate.h"
#include "store_ops.h"

//  Record a failed statement in req (connection trouble: STORE_ERR_DOWN).
static void
s_fail(PGconn *conn, PGresult *res, store_req_t *req, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    req->status = PQstatus(conn) == CONNECTION_BAD || !state || !strncmp(state, "08", 2)
               || !strncmp(state, "57P", 3) ? STORE_ERR_DOWN : STORE_ERR_FAILED;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
    snprintf(req->error, sizeof req->error, "%s: %s", what, msg && *msg ? msg : PQerrorMessage(conn));
    req->error[strcspn(req->error, "\n")] = 0;
}

//  Run a statement; NULL (after s_fail and a rollback) unless it succeeded.
static PGresult *
s_run(PGconn *conn, store_req_t *req, const char *what, const char *sql, int n,
      const char *const *values, const int *lengths, const int *formats, int result_format)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, values, lengths, formats, result_format);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    s_fail(conn, res, req, what);
    PQclear(res);
    PQclear(PQexec(conn, "ROLLBACK"));
    return NULL;
}

//  The job's defaults, locked for this transaction; 0, or -1 (req set).
static int
s_lock_defaults(PGconn *conn, store_req_t *req, const char *id, uint8_t **old, size_t *old_len)
{
    const char *values[] = { id };
    PGresult *res = s_run(conn, req, "reading the job's defaults",
                          "SELECT defaults FROM jobs WHERE id = $1 FOR UPDATE", 1, values, NULL, NULL, 1);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        PQclear(PQexec(conn, "ROLLBACK"));
        req->status = STORE_ERR_NOT_FOUND;
        snprintf(req->error, sizeof req->error, "no job %u", req->job_id);
        return -1;
    }
    *old_len = PQgetisnull(res, 0, 0) ? 0 : (size_t) PQgetlength(res, 0, 0);
    *old = malloc(*old_len + 1);
    if (*old)
        memcpy(*old, PQgetvalue(res, 0, 0), *old_len);
    PQclear(res);
    if (!*old) {
        PQclear(PQexec(conn, "ROLLBACK"));
        req->status = STORE_ERR_FAILED;
        snprintf(req->error, sizeof req->error, "out of memory");
        return -1;
    }
    return 0;
}

int
store_lifecycle_update(PGconn *conn, store_req_t *req)
{
    Shoal__JobDefaults empty = SHOAL__JOB_DEFAULTS__INIT;
    Shoal__JobDefaults *change = req->update.change_len
        ? shoal__job_defaults__unpack(NULL, req->update.change_len, req->update.change) : NULL;
    const Shoal__JobDefaults *c = change ? change : &empty;
    char note[1024], id[16], prio[16];
    jobupdate_describe(c, req->update.priority, note, sizeof note);
    snprintf(id, sizeof id, "%u", req->job_id);
    snprintf(prio, sizeof prio, "%u", req->update.priority);
    uint8_t *old = NULL, *merged = NULL;
    size_t old_len = 0, merged_len = 0;
    int rc = -1;
    PGresult *res = s_run(conn, req, "starting the update", "BEGIN", 0, NULL, NULL, NULL, 0);
    if (!res)
        goto cleanup;
    PQclear(res);
    if (s_lock_defaults(conn, req, id, &old, &old_len))
        goto cleanup;
    if (jobupdate_merge(old, old_len, c, &merged, &merged_len, req->error, sizeof req->error)) {
        PQclear(PQexec(conn, "ROLLBACK"));
        req->status = STORE_ERR_FAILED;
        goto cleanup;
    }
    const char *set_values[] = { id, (const char *) merged, req->update.priority ? prio : NULL, note };
    int lengths[] = { 0, (int) merged_len, 0, 0 };
    int formats[] = { 0, 1, 0, 0 };
    res = s_run(conn, req, "storing the new defaults",
                "UPDATE jobs SET defaults = $2, priority = coalesce($3::int, priority),"
                " updated_at = now(), update_note = $4 WHERE id = $1", 4, set_values, lengths, formats, 0);
    if (!res)
        goto cleanup;
    PQclear(res);
    const char *log_values[] = { id, note, (const char *) req->update.change, req->update.priority ? prio : NULL };
    int log_lengths[] = { 0, 0, (int) req->update.change_len, 0 };
    int log_formats[] = { 0, 0, 1, 0 };
    res = s_run(conn, req, "logging the update",
                "INSERT INTO job_updates (job_id, note, change, priority) VALUES ($1, $2, $3, $4::int)",
                4, log_values, log_lengths, log_formats, 0);
    if (!res)
        goto cleanup;
    PQclear(res);
    res = s_run(conn, req, "committing the update", "COMMIT", 0, NULL, NULL, NULL, 0);
    if (!res)
        goto cleanup;
    PQclear(res);
    rc = 0;
cleanup:
    if (change)
        shoal__job_defaults__free_unpacked(change, NULL);
    free(old);
    free(merged);
    return rc;
}
