/*  store — the database thread: connection, request pipe. See store.h.
    The SQL of each request lives in the store_*.c files (store_ops.h). */
#include "store.h"

#include <czmq.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "schema.h"
#include "store_ops.h"
#include "store_sql.h"

struct _store_t {
    zactor_t *actor;        //  the thread
    char     *conninfo;     //  libpq connection string or URI
    char     *name;         //  "writer", "pager", "ingest", "reader", "janitor"
    uint64_t  term;         //  leadership term fencing the writes, 0: none
    size_t    pending;      //  requests in the thread's hands
};

//  State owned by the thread.
typedef struct {
    const char *conninfo;
    const char *name;
    uint64_t    term;       //  shoal.term of the connection (0: unfenced)
    PGconn     *conn;       //  NULL or CONNECTION_BAD when down
    bool        was_down;   //  last attempt failed (log transitions only)
} thread_t;

//  Server notices ("terminating connection ...") go to our log, not stderr.
static void
s_notice(void *arg, const char *message)
{
    char q[600];
    char line[512];
    snprintf(line, sizeof line, "%s", message);
    line[strcspn(line, "\n")] = 0;
    log_debug("db_notice", "store=%s message=%s", (const char *) arg, log_quote(line, q, sizeof q));
}

//  Per-connection set-up after connecting: the term that fences every
//  write (schema.c, shoal_fence; a transaction left open by a frozen broker
//  is ended by the server so a takeover is not held up by its locks), the
//  staging tables of result batches that meet a duplicate and of pipeline
//  steps (store_write.c). 0 or -1.
static int
s_prepare(PGconn *conn, uint64_t term)
{
    PQclear(PQexec(conn, "SET client_min_messages = warning"));
    if (term) {
        char sql[128];
        snprintf(sql, sizeof sql, "SET shoal.term = '%llu'", (unsigned long long) term);
        PGresult *res = PQexec(conn, sql);
        int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        if (!ok)
            return -1;
        PQclear(PQexec(conn, "SET idle_in_transaction_session_timeout = '5s'"));
    }
    const char *tables[] = {
        "CREATE TEMP TABLE IF NOT EXISTS shoal_stage (LIKE results) ON COMMIT DELETE ROWS",
        "CREATE TEMP TABLE IF NOT EXISTS shoal_stage_tasks (LIKE tasks) ON COMMIT DELETE ROWS",
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        PGresult *res = PQexec(conn, tables[i]);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = -1;
        PQclear(res);
    }
    return rc;
}

//  Run one request's SQL.
static void
s_run_op(PGconn *conn, store_req_t *req)
{
    switch (req->op) {
        case STORE_LOAD:          store_jobs_load(conn, req); break;
        case STORE_OPEN_JOB:      store_jobs_open(conn, req); break;
        case STORE_INGEST:        store_jobs_ingest(conn, req); break;
        case STORE_SEAL:          store_jobs_seal(conn, req); break;
        case STORE_WRITE:         store_write_batch(conn, req); break;
        case STORE_PAGE:          store_page_read(conn, req); break;
        case STORE_CONTROL:       store_control_run(conn, req); break;
        case STORE_QUERY_JOB:
            if (store_jobs_read(conn, req, req->job_id) == 0 && req->n_jobs && req->jobs[0].pipeline
            &&  store_steps_read(conn, req, req->job_id, &req->jobs[0].steps, &req->jobs[0].n_steps) == 0)
                req->jobs[0].has_items = store_items_read(conn, req, req->job_id, &req->jobs[0].items, NULL, NULL) == 0;
            break;
        case STORE_STEPS:
            if (store_steps_read(conn, req, req->job_id, &req->steps.rows, &req->steps.n) == 0)
                req->steps.has_items = store_items_read(conn, req, req->job_id, &req->steps.items,
                                                        &req->steps.open, &req->steps.n_open) == 0;
            break;
        case STORE_QUERY_JOBS:    store_jobs_list(conn, req); break;
        case STORE_QUERY_RESULTS:
            if (req->query.items)
                store_items_page(conn, req);
            else
                store_export_page(conn, req);
            break;
        case STORE_DELETE:        store_delete_run(conn, req); break;
        case STORE_MARK_LEASED:   store_term_mark_leased(conn, req); break;
        case STORE_UPDATE:
            if (store_lifecycle_update(conn, req) == 0)
                store_jobs_read(conn, req, req->job_id);
            break;
    }
}

//  Whether an idle connection is still there: reads what the server sent
//  meanwhile without waiting, so a server that closed it (a restart, a
//  primary stopped before a failover) is found out before a request is
//  sent down it and refused for nothing.
static bool
s_thread_alive(thread_t *t)
{
    //  a server that goes away sends a FATAL message, then closes: read
    //  (and parse, so the notice processor logs it) while there is input
    for (int i = 0; i < 8 && PQstatus(t->conn) == CONNECTION_OK; i++) {
        struct pollfd pfd = { .fd = PQsocket(t->conn), .events = POLLIN };
        if (poll(&pfd, 1, 0) <= 0)
            return true;
        if (PQconsumeInput(t->conn) == 0)
            break;
        (void) PQisBusy(t->conn);
    }
    if (PQstatus(t->conn) == CONNECTION_OK)
        return true;
    if (!t->was_down) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(t->conn));
        msg[strcspn(msg, "\n")] = 0;
        char q[600];
        log_warn("db_down", "store=%s error=%s", t->name, log_quote(msg, q, sizeof q));
    }
    t->was_down = true;
    return false;
}

//  Connect, or reconnect when the connection is gone; t->conn is then
//  NULL or not CONNECTION_OK if the database cannot be reached.
static void
s_thread_connect(thread_t *t)
{
    if (t->conn && s_thread_alive(t))
        return;
    if (t->conn) {
        PQfinish(t->conn);
        t->conn = NULL;
    }
    char appname[64];
    snprintf(appname, sizeof appname, "shoal-broker:%s", t->name);
    t->conn = store_sql_connect(t->conninfo, appname);
    if (PQstatus(t->conn) != CONNECTION_OK) {
        if (!t->was_down) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", PQerrorMessage(t->conn));
            msg[strcspn(msg, "\n")] = 0;
            char q[600];
            log_warn("db_down", "store=%s error=%s", t->name, log_quote(msg, q, sizeof q));
        }
        t->was_down = true;
        return;
    }
    PQsetNoticeProcessor(t->conn, s_notice, (void *) t->name);
    if (s_prepare(t->conn, t->term) != 0) {
        PQfinish(t->conn);
        t->conn = NULL;
        t->was_down = true;
        return;
    }
    if (t->was_down)
        log_info("db_up", "store=%s", t->name);
    t->was_down = false;
}

//  After a failed request: true when the leadership moved to a newer term
//  (whatever statement met the fence, whichever way it reported it).
static bool
s_deposed(thread_t *t)
{
    if (!t->term)
        return false;
    store_sql_rollback(t->conn);
    PGresult *res = PQexec(t->conn, "SELECT term FROM shoal_leader WHERE id = 1");
    bool deposed = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
                && strtoull(PQgetvalue(res, 0, 0), NULL, 10) != t->term;
    PQclear(res);
    return deposed;
}

static void
s_thread_run(thread_t *t, store_req_t *req)
{
    s_thread_connect(t);
    if (!t->conn || PQstatus(t->conn) != CONNECTION_OK) {
        req->status = STORE_ERR_DOWN;
        snprintf(req->error, sizeof req->error, "database unavailable: %s",
                 t->conn ? PQerrorMessage(t->conn) : "cannot connect");
        req->error[strcspn(req->error, "\n")] = 0;
        return;
    }
    req->status = STORE_OK;
    req->error[0] = 0;
    int64_t t0 = clock_mono_us();
    s_run_op(t->conn, req);
    if (getenv("SHOAL_STORE_TIMING"))
        log_info("store_op", "store=%s op=%d ms=%.1f rows=%zu children=%zu", t->name, (int) req->op,
                 (double) (clock_mono_us() - t0) / 1000.0, req->op == STORE_WRITE ? req->write.rows.rows : 0,
                 req->op == STORE_WRITE ? req->write.child_rows.rows : req->op == STORE_PAGE ? req->page.n_rows : 0);
    if (req->status != STORE_OK && req->status != STORE_ERR_DOWN && s_deposed(t)) {
        req->status = STORE_ERR_FENCED;
        snprintf(req->error, sizeof req->error, "fenced: term %llu is no longer the leader's;"
                 " nothing was stored", (unsigned long long) t->term);
    }
    if (req->status == STORE_ERR_DOWN) {
        if (!t->was_down) {
            char q[600];
            log_warn("db_down", "store=%s error=%s", t->name, log_quote(req->error, q, sizeof q));
        }
        t->was_down = true;
        PQfinish(t->conn);
        t->conn = NULL;
    }
}

static void
s_actor(zsock_t *pipe, void *args)
{
    store_t *self = (store_t *) args;
    thread_t t = { .conninfo = self->conninfo, .name = self->name, .term = self->term };
    zsock_signal(pipe, 0);
    while (true) {
        zmsg_t *msg = zmsg_recv(pipe);
        if (!msg)
            break;
        char *command = zmsg_popstr(msg);
        if (!command || streq(command, "$TERM")) {
            zstr_free(&command);
            zmsg_destroy(&msg);
            break;
        }
        zframe_t *frame = zmsg_pop(msg);
        store_req_t *req = NULL;
        if (frame && zframe_size(frame) == sizeof req)
            memcpy(&req, zframe_data(frame), sizeof req);
        zframe_destroy(&frame);
        zstr_free(&command);
        zmsg_destroy(&msg);
        if (!req)
            continue;
        s_thread_run(&t, req);
        zsock_send(pipe, "p", req);
    }
    if (t.conn)
        PQfinish(t.conn);
}

store_t *
store_new(const char *conninfo, const char *name, uint64_t term)
{
    store_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->term = term;
    self->conninfo = strdup(conninfo);
    self->name = strdup(name);
    if (!self->conninfo || !self->name) {
        free(self->conninfo);
        free(self->name);
        free(self);
        return NULL;
    }
    self->actor = zactor_new(s_actor, self);
    if (!self->actor) {
        free(self->conninfo);
        free(self->name);
        free(self);
        return NULL;
    }
    return self;
}

void
store_destroy(store_t **self_p)
{
    store_t *self = *self_p;
    if (!self)
        return;
    //  requests still in the thread are lost with it; the broker only
    //  destroys stores after draining them
    zactor_destroy(&self->actor);
    free(self->conninfo);
    free(self->name);
    free(self);
    *self_p = NULL;
}

void *
store_sock(store_t *self)
{
    return zactor_sock(self->actor);
}

int
store_submit(store_t *self, store_req_t *req)
{
    zmsg_t *msg = zmsg_new();
    zmsg_addstr(msg, "REQ");
    zmsg_addmem(msg, &req, sizeof req);
    if (zmsg_send(&msg, self->actor) != 0) {
        zmsg_destroy(&msg);
        return -1;
    }
    self->pending++;
    return 0;
}

store_req_t *
store_recv(store_t *self)
{
    void *ptr = NULL;
    if (zsock_recv(self->actor, "p", &ptr) != 0 || !ptr)
        return NULL;
    self->pending--;
    return (store_req_t *) ptr;
}

size_t
store_pending(const store_t *self)
{
    return self->pending;
}

store_req_t *
store_req_new(store_op_t op)
{
    store_req_t *req = calloc(1, sizeof *req);
    if (req)
        req->op = op;
    return req;
}

void
store_job_free(store_job_t *job)
{
    free(job->name);
    free(job->key);
    free(job->defaults);
    free(job->pipeline);
    job->pipeline = NULL;
    free(job->update_note);
    job->update_note = NULL;
    free(job->steps);
    job->steps = NULL;
    job->n_steps = 0;
    job->name = job->key = NULL;
    job->defaults = NULL;
}

void
store_req_destroy(store_req_t **req_p)
{
    store_req_t *req = *req_p;
    if (!req)
        return;
    for (size_t i = 0; i < req->n_jobs; i++)
        store_job_free(&req->jobs[i]);
    free(req->jobs);
    switch (req->op) {
        case STORE_OPEN_JOB:
            free(req->open.name);
            free(req->open.key);
            free(req->open.defaults);
            free(req->open.pipeline);
            break;
        case STORE_INGEST:
            pgbuf_free(&req->ingest.rows);
            free(req->ingest.specs);
            free(req->ingest.arena);
            break;
        case STORE_WRITE:
            pgbuf_free(&req->write.rows);
            pgbuf_free(&req->write.attempt_rows);
            pgbuf_free(&req->write.child_rows);
            free(req->write.inserted);
            free(req->write.deltas);
            free(req->write.outcomes);
            break;
        case STORE_PAGE:
            free(req->page.rows);
            free(req->page.arena);
            break;
        case STORE_CONTROL:
            free(req->control.retry_status);
            free(req->control.retry_class);
            store_req_destroy(&req->control.then_delete);
            break;
        case STORE_DELETE:
            free(req->del.name);
            break;
        case STORE_QUERY_JOBS:
        case STORE_QUERY_RESULTS:
            free(req->query.reply);
            break;
        case STORE_UPDATE:
            free(req->update.change);
            break;
        case STORE_STEPS:
            free(req->steps.rows);
            free(req->steps.open);
            break;
        default:
            break;
    }
    free(req);
    *req_p = NULL;
}

int
store_migrate(const char *conninfo, int *version, int *applied, char *err, size_t errlen)
{
    PGconn *conn = store_sql_connect(conninfo, "shoal-broker:migrate");
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, errlen, "cannot connect to the database: %s", PQerrorMessage(conn));
        err[strcspn(err, "\n")] = 0;
        PQfinish(conn);
        return -1;
    }
    //  keep the server's notices ("relation exists, skipping") out of our logs
    PQclear(PQexec(conn, "SET client_min_messages = warning"));
    int rc = schema_migrate(conn, version, err, errlen);
    PQfinish(conn);
    if (rc < 0)
        return -1;
    *applied = rc;
    return 0;
}

const char *
store_state_name(Shoal__JobState state)
{
    switch (state) {
        case SHOAL__JOB_STATE__JOB_ACTIVE:    return "active";
        case SHOAL__JOB_STATE__JOB_PAUSED:    return "paused";
        case SHOAL__JOB_STATE__JOB_DONE:      return "done";
        case SHOAL__JOB_STATE__JOB_CANCELLED: return "cancelled";
        default: return "none";
    }
}
