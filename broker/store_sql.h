/*  store_sql — the libpq helpers every store operation uses (store thread
    only): statements with parameters, binary COPY, failures turned into a
    store status, values read from results. */
#ifndef SHOAL_STORE_SQL_H
#define SHOAL_STORE_SQL_H

#include <libpq-fe.h>

#include "store.h"

//  The job is complete once `added` more tasks have results: sealed (the
//  SQL `sealed`), still active or paused, every task (submitted, and
//  created by pipeline steps) with a result. Over a
//  jobs row named j; `added` is an SQL sum starting with " + ", or "".
#define STORE_SQL_COMPLETE(sealed, added) \
    sealed " AND j.state IN ('active', 'paused')" \
    " AND j.n_ok + j.n_failed + j.n_cancelled" added " >= j.n_tasks + j.n_children"
//  The assignments that mark such a job done: the one definition of the
//  moment a job finishes (seal, result batches).
#define STORE_SQL_SET_DONE(sealed, added) \
    " state = CASE WHEN " STORE_SQL_COMPLETE(sealed, added) " THEN 'done' ELSE j.state END," \
    " finished_at = CASE WHEN " STORE_SQL_COMPLETE(sealed, added) " THEN now() ELSE j.finished_at END"

//  Connect to the database `conninfo` (a libpq connection string or URI,
//  multi-host ones included) as application `appname`. TCP keepalives and
//  a TCP user timeout notice a host that vanished (no FIN, no RST) within
//  about 20 s, so the broker moves on to the next host of a multi-host URI
//  (docs/postgres-ha.md); settings in `conninfo` override these defaults.
//  Returns the connection (caller PQfinish-es), never NULL unless out of
//  memory; check PQstatus.
PGconn *store_sql_connect(const char *conninfo, const char *appname);

//  Record why a statement failed in req: connection trouble is
//  STORE_ERR_DOWN (the broker keeps what it holds and retries), a unique
//  violation a conflict (STORE_ERR_APPLIED on shoal_batches).
void store_sql_fail(PGconn *conn, PGresult *res, store_req_t *req, const char *what);
//  Run a statement with text parameters (NULL entries are SQL NULL).
//  Returns the result (caller clears), or NULL after recording the failure.
PGresult *store_sql_query(PGconn *conn, store_req_t *req, const char *what, const char *sql,
                          int nparams, const char *const *params, int result_format);
//  Run a statement without parameters or rows. 0, or -1 recorded.
int store_sql_command(PGconn *conn, store_req_t *req, const char *what, const char *sql);
//  Roll back an open transaction, if any.
void store_sql_rollback(PGconn *conn);

//  Results of the statements sent before a COPY in the same message; -1
//  abandons the COPY.
typedef int (*store_sql_before_fn)(PGresult *res, void *arg);
//  Send `sql` (statements ending with a COPY ... FROM STDIN) in one message
//  and stream `rows` as binary COPY data. Each result before the COPY goes
//  to `before` (may be NULL). Returns 0, -1 on a database error (recorded
//  in req), or -2 when `before` abandoned the COPY.
int store_sql_copy(PGconn *conn, store_req_t *req, const char *what, const char *sql,
                   const pgbuf_t *rows, store_sql_before_fn before, void *arg);

//  Values of a text-format result: rows as a size, NULL as 0.
size_t store_sql_rows(const PGresult *res);
uint64_t store_sql_u64(const PGresult *res, int row, int col);
int64_t store_sql_i64(const PGresult *res, int row, int col);
//  A job state as stored ("active", ...); JOB_NONE for anything else.
Shoal__JobState store_sql_state(const char *s);
//  Record a failure that is not the database's (out of memory, a missing row).
void store_sql_error(store_req_t *req, store_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
