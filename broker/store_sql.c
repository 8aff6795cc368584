/*  store_sql — libpq helpers for the store operations. See store_sql.h.

    Every statement built from user data uses parameters or binary COPY.
    Each request is one transaction; a failure rolls it back whole, so a
    request either happened or did not. */
#include "store_sql.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgcopy.h"

PGconn *
store_sql_connect(const char *conninfo, const char *appname)
{
    //  keys before "dbname" are defaults the expanded conninfo overrides;
    //  application_name after it is ours whatever conninfo says
    const char *keys[] = {
        "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "tcp_user_timeout", "dbname", "application_name", NULL
    };
    const char *values[] = { "5", "1", "10", "3", "3", "20000", conninfo, appname, NULL };
    return PQconnectdbParams(keys, values, 1);
}

//  Record why a statement failed: connection trouble is STORE_ERR_DOWN (the
//  broker keeps what it holds and retries), a unique violation is a conflict.
void
store_sql_fail(PGconn *conn, PGresult *res, store_req_t *req, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *table = res ? PQresultErrorField(res, PG_DIAG_TABLE_NAME) : NULL;
    if (PQstatus(conn) == CONNECTION_BAD || !state
    ||  strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
        req->status = STORE_ERR_DOWN;
    else
    if (strcmp(state, "SHF01") == 0)
        req->status = STORE_ERR_FENCED;
    else
    if (strcmp(state, "23505") == 0 && table && strcmp(table, "shoal_batches") == 0)
        req->status = STORE_ERR_APPLIED;
    else
    if (strcmp(state, "23505") == 0)
        req->status = STORE_ERR_CONFLICT;
    else
        req->status = STORE_ERR_FAILED;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
    if (!msg || !*msg)
        msg = PQerrorMessage(conn);
    snprintf(req->error, sizeof req->error, "%s: %s", what, msg);
    req->error[strcspn(req->error, "\n")] = 0;
}

//  Run a statement with text parameters (NULL entries are SQL NULL).
//  Returns the result, or NULL after recording the failure.
PGresult *
store_sql_query(PGconn *conn, store_req_t *req, const char *what, const char *sql,
        int nparams, const char *const *params, int result_format)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, result_format);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    store_sql_fail(conn, res, req, what);
    PQclear(res);
    return NULL;
}

int
store_sql_command(PGconn *conn, store_req_t *req, const char *what, const char *sql)
{
    PGresult *res = store_sql_query(conn, req, what, sql, 0, NULL, 0);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

void
store_sql_rollback(PGconn *conn)
{
    if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
}

//  Send `sql` (statements ending with a COPY ... FROM STDIN) in one
//  message and stream `rows` as binary COPY data: header, rows, trailer.
//  Each result before the COPY goes to `before` (if given), which may
//  return -1 to abandon the COPY. Returns 0, -1 on a database error
//  (recorded in req), or -2 when `before` abandoned it.
int
store_sql_copy(PGconn *conn, store_req_t *req, const char *what, const char *sql, const pgbuf_t *rows,
             store_sql_before_fn before, void *arg)
{
    if (!PQsendQuery(conn, sql)) {
        store_sql_fail(conn, NULL, req, what);
        return -1;
    }
    PGresult *res;
    int rc = 0;
    while ((res = PQgetResult(conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COPY_IN) {
            PQclear(res);
            break;
        }
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            store_sql_fail(conn, res, req, what);
            PQclear(res);
            while ((res = PQgetResult(conn)) != NULL)
                PQclear(res);
            return -1;
        }
        if (before && before(res, arg) != 0)
            rc = -2;
        PQclear(res);
    }
    if (!res && rc == 0) {
        snprintf(req->error, sizeof req->error, "%s: no COPY in the reply", what);
        req->status = STORE_ERR_FAILED;
        return -1;
    }
    int ok = rc == 0;
    if (ok) {
        size_t hlen, tlen;
        const uint8_t *header = pgcopy_header(&hlen);
        const uint8_t *trailer = pgcopy_trailer(&tlen);
        ok = PQputCopyData(conn, (const char *) header, (int) hlen) == 1;
        //  libpq takes at most INT_MAX per call
        for (size_t off = 0; ok && off < rows->len; ) {
            size_t n = rows->len - off;
            if (n > (1u << 30))
                n = 1u << 30;
            ok = PQputCopyData(conn, (const char *) rows->data + off, (int) n) == 1;
            off += n;
        }
        if (ok)
            ok = PQputCopyData(conn, (const char *) trailer, (int) tlen) == 1;
    }
    if (PQputCopyEnd(conn, ok ? NULL : "abandoned by shoal-broker") != 1)
        ok = 0;
    res = PQgetResult(conn);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0) {
        store_sql_fail(conn, res, req, what);
        rc = -1;
    }
    PQclear(res);
    //  drain so the connection is ready for the next command
    while ((res = PQgetResult(conn)) != NULL)
        PQclear(res);
    return rc;
}

Shoal__JobState
store_sql_state(const char *s)
{
    if (!strcmp(s, "active"))    return SHOAL__JOB_STATE__JOB_ACTIVE;
    if (!strcmp(s, "paused"))    return SHOAL__JOB_STATE__JOB_PAUSED;
    if (!strcmp(s, "done"))      return SHOAL__JOB_STATE__JOB_DONE;
    if (!strcmp(s, "cancelled")) return SHOAL__JOB_STATE__JOB_CANCELLED;
    return SHOAL__JOB_STATE__JOB_NONE;
}

//  Rows of a result as a size (never negative).
size_t
store_sql_rows(const PGresult *res)
{
    int n = PQntuples(res);
    return n > 0 ? (size_t) n : 0;
}

uint64_t
store_sql_u64(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoull(PQgetvalue(res, row, col), NULL, 10);
}

int64_t
store_sql_i64(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

void
store_sql_error(store_req_t *req, store_status_t status, const char *fmt, ...)
{
    req->status = status;
    va_list args;
    va_start(args, fmt);
    vsnprintf(req->error, sizeof req->error, fmt, args);
    va_end(args);
}
