/*  store_ops — the SQL behind each store request. Runs on a store thread.

    Every statement built from user data uses parameters or binary COPY.
    Each request is one transaction; a failure rolls it back whole, so a
    request either happened or did not. */
#include "store_ops.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgcopy.h"
#include "shoal.pb-c.h"
#include "wire.h"

#define JOB_COLUMNS \
    "id, name, idem_key, state, priority, defaults, n_tasks, sealed, n_ok, n_failed," \
    " n_cancelled, n_retries, n_stale, n_duplicate," \
    " (extract(epoch FROM created_at) * 1000000)::int8," \
    " coalesce((extract(epoch FROM finished_at) * 1000000)::int8, 0)," \
    " coalesce(greatest((SELECT max(seq) FROM results r WHERE r.job_id = jobs.id AND r.seq < 1073741824)," \
    "                   (SELECT max(seq) FROM attempts a WHERE a.job_id = jobs.id AND a.seq < 1073741824)), -1)," \
    " pipeline::text, n_children," \
    " coalesce((SELECT max(seq) FROM tasks t WHERE t.job_id = jobs.id AND t.seq >= 1073741824), 1073741823)"

//  Record why a statement failed: connection trouble is STORE_ERR_DOWN (the
//  broker keeps what it holds and retries), a unique violation is a conflict.
static void
s_fail(PGconn *conn, PGresult *res, store_req_t *req, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *table = res ? PQresultErrorField(res, PG_DIAG_TABLE_NAME) : NULL;
    if (PQstatus(conn) == CONNECTION_BAD || !state
    ||  strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
        req->status = STORE_ERR_DOWN;
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
static PGresult *
s_query(PGconn *conn, store_req_t *req, const char *what, const char *sql,
        int nparams, const char *const *params, int result_format)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, result_format);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    s_fail(conn, res, req, what);
    PQclear(res);
    return NULL;
}

static int
s_command(PGconn *conn, store_req_t *req, const char *what, const char *sql)
{
    PGresult *res = s_query(conn, req, what, sql, 0, NULL, 0);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

static void
s_rollback(PGconn *conn)
{
    if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
}

//  Results of the statements sent before a COPY in the same message.
typedef int (*before_copy_fn)(PGresult *res, void *arg);

//  Send `sql` (statements ending with a COPY ... FROM STDIN) in one
//  message and stream `rows` as binary COPY data: header, rows, trailer.
//  Each result before the COPY goes to `before` (if given), which may
//  return -1 to abandon the COPY. Returns 0, -1 on a database error
//  (recorded in req), or -2 when `before` abandoned it.
static int
s_copy_after(PGconn *conn, store_req_t *req, const char *what, const char *sql, const pgbuf_t *rows,
             before_copy_fn before, void *arg)
{
    if (!PQsendQuery(conn, sql)) {
        s_fail(conn, NULL, req, what);
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
            s_fail(conn, res, req, what);
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
        s_fail(conn, res, req, what);
        rc = -1;
    }
    PQclear(res);
    //  drain so the connection is ready for the next command
    while ((res = PQgetResult(conn)) != NULL)
        PQclear(res);
    return rc;
}

//  Stream one binary COPY.
static int
s_copy(PGconn *conn, store_req_t *req, const char *what, const char *sql, const pgbuf_t *rows)
{
    return s_copy_after(conn, req, what, sql, rows, NULL, NULL);
}

static Shoal__JobState
s_state_parse(const char *s)
{
    if (!strcmp(s, "active"))    return SHOAL__JOB_STATE__JOB_ACTIVE;
    if (!strcmp(s, "paused"))    return SHOAL__JOB_STATE__JOB_PAUSED;
    if (!strcmp(s, "done"))      return SHOAL__JOB_STATE__JOB_DONE;
    if (!strcmp(s, "cancelled")) return SHOAL__JOB_STATE__JOB_CANCELLED;
    return SHOAL__JOB_STATE__JOB_NONE;
}

//  Rows of a result as a size (never negative).
static size_t
s_rows(const PGresult *res)
{
    int n = PQntuples(res);
    return n > 0 ? (size_t) n : 0;
}

static uint64_t
s_u64(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoull(PQgetvalue(res, row, col), NULL, 10);
}

static int64_t
s_i64(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

//  Append the rows of a JOB_COLUMNS query to req->jobs.
static int
s_read_jobs(PGresult *res, store_req_t *req)
{
    int n = (int) s_rows(res);
    if (n == 0)
        return 0;
    store_job_t *jobs = realloc(req->jobs, (req->n_jobs + (size_t) n) * sizeof *jobs);
    if (!jobs) {
        req->status = STORE_ERR_FAILED;
        snprintf(req->error, sizeof req->error, "out of memory reading jobs");
        return -1;
    }
    req->jobs = jobs;
    for (int i = 0; i < n; i++) {
        store_job_t *j = &req->jobs[req->n_jobs++];
        memset(j, 0, sizeof *j);
        j->id = (uint32_t) s_u64(res, i, 0);
        j->name = strdup(PQgetvalue(res, i, 1));
        j->key = PQgetisnull(res, i, 2) ? NULL : strdup(PQgetvalue(res, i, 2));
        j->state = s_state_parse(PQgetvalue(res, i, 3));
        j->priority = (uint32_t) s_u64(res, i, 4);
        if (!PQgetisnull(res, i, 5)) {
            size_t len = 0;
            unsigned char *raw = PQunescapeBytea((const unsigned char *) PQgetvalue(res, i, 5), &len);
            if (raw) {
                j->defaults = malloc(len ? len : 1);
                if (j->defaults) {
                    memcpy(j->defaults, raw, len);
                    j->defaults_len = len;
                }
                PQfreemem(raw);
            }
        }
        j->n_tasks = s_u64(res, i, 6);
        j->sealed = PQgetvalue(res, i, 7)[0] == 't';
        j->n_ok = s_u64(res, i, 8);
        j->n_failed = s_u64(res, i, 9);
        j->n_cancelled = s_u64(res, i, 10);
        j->n_retries = s_u64(res, i, 11);
        j->n_stale = s_u64(res, i, 12);
        j->n_duplicate = s_u64(res, i, 13);
        j->created_us = s_i64(res, i, 14);
        j->finished_us = s_i64(res, i, 15);
        j->frontier = s_i64(res, i, 16);
        j->pipeline = PQgetisnull(res, i, 17) ? NULL : strdup(PQgetvalue(res, i, 17));
        j->n_children = s_u64(res, i, 18);
        j->child_top = s_i64(res, i, 19);
    }
    return 0;
}

static int
s_load_job(PGconn *conn, store_req_t *req, uint32_t id)
{
    char idbuf[16];
    snprintf(idbuf, sizeof idbuf, "%u", id);
    const char *params[] = { idbuf };
    PGresult *res = s_query(conn, req, "reading job",
                            "SELECT " JOB_COLUMNS " FROM jobs WHERE id = $1", 1, params, 0);
    if (!res)
        return -1;
    int rc = 0;
    if (PQntuples(res) == 0) {
        req->status = STORE_ERR_NOT_FOUND;
        snprintf(req->error, sizeof req->error, "no job %u", id);
        rc = -1;
    }
    else
        rc = s_read_jobs(res, req);
    PQclear(res);
    return rc;
}

//  Explain why a conditional UPDATE of a job touched no row.
static void
s_diagnose(PGconn *conn, store_req_t *req, const char *doing)
{
    char idbuf[16];
    snprintf(idbuf, sizeof idbuf, "%u", req->job_id);
    const char *params[] = { idbuf };
    PGresult *res = s_query(conn, req, "reading job",
                            "SELECT state, sealed, n_tasks FROM jobs WHERE id = $1", 1, params, 0);
    if (!res)
        return;
    if (PQntuples(res) == 0) {
        req->status = STORE_ERR_NOT_FOUND;
        snprintf(req->error, sizeof req->error, "no job %u", req->job_id);
    }
    else {
        const char *state = PQgetvalue(res, 0, 0);
        bool sealed = PQgetvalue(res, 0, 1)[0] == 't';
        uint64_t n_tasks = s_u64(res, 0, 2);
        req->committed = n_tasks;
        req->sealed_now = sealed;
        if (strcmp(state, "active") && strcmp(state, "paused")) {
            req->status = STORE_ERR_STATE;
            snprintf(req->error, sizeof req->error, "cannot %s: job %u is %s", doing, req->job_id, state);
        }
        else
        if (req->op == STORE_INGEST && sealed) {
            req->status = STORE_ERR_STATE;
            snprintf(req->error, sizeof req->error, "cannot %s: job %u is sealed with %llu tasks",
                     doing, req->job_id, (unsigned long long) n_tasks);
        }
        else {
            req->status = STORE_ERR_CONFLICT;
            snprintf(req->error, sizeof req->error,
                     "cannot %s: job %u has %llu tasks committed, request expected %llu",
                     doing, req->job_id, (unsigned long long) n_tasks,
                     (unsigned long long) req->first_seq);
        }
    }
    PQclear(res);
}

// ------------------------------------------------------------------ ops

static void
s_op_load(PGconn *conn, store_req_t *req)
{
    //  the lease tag (lease.h): random for a new database, 0 (the leases as
    //  before) for one that has issued leases already, which workers may hold
    PGresult *res = s_query(conn, req, "choosing the lease tag",
        "INSERT INTO shoal_meta SELECT 'lease_tag', CASE WHEN value = 0"
        " THEN floor(random() * 16777215)::bigint ELSE 0 END FROM shoal_meta WHERE key = 'epoch'"
        " ON CONFLICT (key) DO NOTHING", 0, NULL, 0);
    if (!res)
        return;
    PQclear(res);
    res = s_query(conn, req, "bumping the epoch",
        "UPDATE shoal_meta SET value = value + 1 WHERE key = 'epoch' RETURNING value,"
        " coalesce((SELECT value FROM shoal_meta WHERE key = 'lease_tag'), 0)", 0, NULL, 0);
    if (!res)
        return;
    req->epoch = PQntuples(res) ? s_u64(res, 0, 0) : 1;
    req->lease_tag = PQntuples(res) ? s_u64(res, 0, 1) : 0;
    PQclear(res);
    res = s_query(conn, req, "reading active jobs",
        "SELECT " JOB_COLUMNS " FROM jobs WHERE state IN ('active', 'paused') ORDER BY id", 0, NULL, 0);
    if (!res)
        return;
    s_read_jobs(res, req);
    PQclear(res);
}

static void
s_op_open_job(PGconn *conn, store_req_t *req)
{
    char prio[16];
    snprintf(prio, sizeof prio, "%u", req->priority ? req->priority : 1);
    const char *values[] = { req->name ? req->name : "", req->key, prio, (const char *) req->defaults,
                             req->pipeline };
    int lengths[] = { 0, 0, 0, (int) req->defaults_len, 0 };
    int formats[] = { 0, 0, 0, 1, 0 };
    PGresult *res = PQexecParams(conn,
        "INSERT INTO jobs (name, idem_key, priority, defaults, pipeline) VALUES ($1, $2, $3, $4, $5::jsonb)"
        " ON CONFLICT (idem_key) DO NOTHING RETURNING id",
        5, NULL, values, lengths, formats, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        s_fail(conn, res, req, "creating the job");
        PQclear(res);
        return;
    }
    if (PQntuples(res) == 1) {
        uint32_t id = (uint32_t) s_u64(res, 0, 0);
        PQclear(res);
        s_load_job(conn, req, id);
        return;
    }
    PQclear(res);
    //  the key exists: this is a resumed submit
    const char *params[] = { req->key };
    res = s_query(conn, req, "finding the job by key",
                  "SELECT " JOB_COLUMNS " FROM jobs WHERE idem_key = $1", 1, params, 0);
    if (!res)
        return;
    req->existed = true;
    if (PQntuples(res) == 0) {
        req->status = STORE_ERR_FAILED;
        snprintf(req->error, sizeof req->error, "job with key vanished");
    }
    else
        s_read_jobs(res, req);
    PQclear(res);
}

//  The UPDATE before an ingest COPY: no row means the chunk does not fit.
static int
s_ingest_guard(PGresult *res, void *arg)
{
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return 0;       //  BEGIN
    store_req_t *req = arg;
    if (PQntuples(res) == 0)
        return -1;
    req->committed = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    return 0;
}

static void
s_op_ingest(PGconn *conn, store_req_t *req)
{
    //  one message: claim the seq range, then stream the rows; integers
    //  only are formatted into the statement
    char sql[640];
    snprintf(sql, sizeof sql,
        "BEGIN; UPDATE jobs SET n_tasks = n_tasks + %u%s WHERE id = %u AND n_tasks = %llu"
        " AND NOT sealed AND state IN ('active', 'paused') RETURNING n_tasks;"
        " COPY tasks (job_id, seq, kind, target, spec) FROM STDIN (FORMAT binary)",
        req->count, req->seal ? ", sealed = true, sealed_at = now()" : "", req->job_id,
        (unsigned long long) req->first_seq);
    int rc = s_copy_after(conn, req, "storing tasks", sql, &req->rows, s_ingest_guard, req);
    if (rc == -2) {
        s_rollback(conn);
        s_diagnose(conn, req, "add tasks");
        return;
    }
    if (rc != 0) {
        if (req->status == STORE_ERR_CONFLICT)
            snprintf(req->error, sizeof req->error,
                     "tasks %llu..%llu of job %u are already stored",
                     (unsigned long long) req->first_seq,
                     (unsigned long long) (req->first_seq + req->count - 1), req->job_id);
        s_rollback(conn);
        return;
    }
    if (s_command(conn, req, "committing tasks", "COMMIT"))
        s_rollback(conn);
}

static void
s_op_seal(PGconn *conn, store_req_t *req)
{
    char id[16], total[24];
    snprintf(id, sizeof id, "%u", req->job_id);
    snprintf(total, sizeof total, "%llu", (unsigned long long) req->first_seq);
    const char *params[] = { id, total };
    PGresult *res = s_query(conn, req, "sealing the job",
        "UPDATE jobs SET sealed = true, sealed_at = coalesce(sealed_at, now()),"
        " state = CASE WHEN state IN ('active', 'paused')"
        "   AND n_ok + n_failed + n_cancelled >= n_tasks + n_children THEN 'done' ELSE state END,"
        " finished_at = CASE WHEN state IN ('active', 'paused')"
        "   AND n_ok + n_failed + n_cancelled >= n_tasks + n_children THEN now() ELSE finished_at END"
        " WHERE id = $1 AND n_tasks = $2 AND state <> 'cancelled' RETURNING state",
        2, params, 0);
    if (!res)
        return;
    if (PQntuples(res) == 0) {
        PQclear(res);
        s_diagnose(conn, req, "seal");
        return;
    }
    req->new_state = s_state_parse(PQgetvalue(res, 0, 0));
    req->committed = req->first_seq;
    PQclear(res);
    s_load_job(conn, req, req->job_id);
}

//  '{1,2,3}' literals of one column of the deltas (integers only).
static char *
s_delta_array(const store_req_t *req, size_t offset, bool u32)
{
    size_t cap = req->n_deltas * 24 + 8, o = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    o += (size_t) snprintf(buf + o, cap - o, "{");
    for (size_t i = 0; i < req->n_deltas; i++) {
        const char *d = (const char *) &req->deltas[i];
        unsigned long long v = u32 ? *(const uint32_t *) (d + offset) : *(const uint64_t *) (d + offset);
        o += (size_t) snprintf(buf + o, cap - o, "%s%llu", i ? "," : "", v);
    }
    snprintf(buf + o, cap - o, "}");
    return buf;
}

static void
s_read_outcomes(PGresult *res, store_req_t *req, bool with_duplicates)
{
    size_t n = s_rows(res);
    req->outcomes = calloc(n ? n : 1, sizeof *req->outcomes);
    if (!req->outcomes)
        return;
    req->n_outcomes = n;
    for (int i = 0; i < (int) n; i++) {
        store_outcome_t *o = &req->outcomes[i];
        int c = 0;
        o->job_id = (uint32_t) s_u64(res, i, c++);
        o->ok = s_u64(res, i, c++);
        o->failed = s_u64(res, i, c++);
        o->cancelled = s_u64(res, i, c++);
        if (with_duplicates)
            o->duplicate = s_u64(res, i, c++);
        o->done = strcmp(PQgetvalue(res, i, c), "done") == 0;
    }
}

//  Add the batch's counters to the jobs rows and commit, in one message.
//  With `outcomes`, the result counts too, and the jobs now complete are
//  marked done (and reported in req->outcomes).
static int
s_write_counters_and_commit(PGconn *conn, store_req_t *req, bool outcomes)
{
    if (!req->n_deltas)
        return s_command(conn, req, "committing results", "COMMIT");
    char *cols[6] = {
        s_delta_array(req, offsetof(store_delta_t, job_id), true),
        s_delta_array(req, offsetof(store_delta_t, ok), false),
        s_delta_array(req, offsetof(store_delta_t, failed), false),
        s_delta_array(req, offsetof(store_delta_t, cancelled), false),
        s_delta_array(req, offsetof(store_delta_t, retries), false),
        s_delta_array(req, offsetof(store_delta_t, stale), false),
    };
    int rc = -1;
    char *sql = NULL;
    for (int i = 0; i < 6; i++)
        if (!cols[i])
            goto done;
    size_t cap = 2048;
    for (int i = 0; i < 6; i++)
        cap += strlen(cols[i]);
    sql = malloc(cap);
    if (!sql)
        goto done;
    if (outcomes)
        snprintf(sql, cap,
            "UPDATE jobs j SET n_ok = j.n_ok + d.ok, n_failed = j.n_failed + d.failed,"
            "  n_cancelled = j.n_cancelled + d.cancelled,"
            "  n_retries = j.n_retries + d.retries, n_stale = j.n_stale + d.stale,"
            "  state = CASE WHEN j.sealed AND j.state IN ('active', 'paused')"
            "    AND j.n_ok + j.n_failed + j.n_cancelled + d.ok + d.failed + d.cancelled >= j.n_tasks + j.n_children"
            "    THEN 'done' ELSE j.state END,"
            "  finished_at = CASE WHEN j.sealed AND j.state IN ('active', 'paused')"
            "    AND j.n_ok + j.n_failed + j.n_cancelled + d.ok + d.failed + d.cancelled >= j.n_tasks + j.n_children"
            "    THEN now() ELSE j.finished_at END"
            " FROM unnest('%s'::int[], '%s'::int8[], '%s'::int8[], '%s'::int8[], '%s'::int8[], '%s'::int8[])"
            "   AS d(id, ok, failed, cancelled, retries, stale)"
            " WHERE j.id = d.id RETURNING j.id, d.ok, d.failed, d.cancelled, j.state; COMMIT",
            cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]);
    else
        snprintf(sql, cap,
            "UPDATE jobs j SET n_retries = j.n_retries + d.retries, n_stale = j.n_stale + d.stale"
            " FROM unnest('%s'::int[], '%s'::int8[], '%s'::int8[]) AS d(id, retries, stale)"
            " WHERE j.id = d.id; COMMIT", cols[0], cols[4], cols[5]);
    if (!PQsendQuery(conn, sql)) {
        s_fail(conn, NULL, req, "counting results");
        goto done;
    }
    PGresult *res;
    rc = 0;
    while ((res = PQgetResult(conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK && outcomes && !req->outcomes)
            s_read_outcomes(res, req, false);
        else
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && rc == 0) {
            s_fail(conn, res, req, "counting results");
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
    if (!req->child_rows.rows)
        return 0;
    if (s_copy(conn, req, "staging pipeline steps",
               "COPY shoal_stage_tasks (job_id, seq, kind, target, spec, root, parent, step, element)"
               " FROM STDIN (FORMAT binary)", &req->child_rows))
        return -1;
    PGresult *res = s_query(conn, req, "creating pipeline steps",
        "WITH ins AS (INSERT INTO tasks SELECT * FROM shoal_stage_tasks"
        "             ON CONFLICT (job_id, parent, element) WHERE parent IS NOT NULL DO NOTHING"
        "             RETURNING job_id, seq),"
        " cnt AS (UPDATE jobs j SET n_children = j.n_children + c.n"
        "         FROM (SELECT job_id, count(*) AS n FROM ins GROUP BY job_id) c WHERE j.id = c.job_id)"
        " SELECT job_id, seq FROM ins", 0, NULL, 0);
    if (!res)
        return -1;
    size_t n = s_rows(res);
    free(req->inserted);
    req->inserted = calloc(n ? n : 1, sizeof *req->inserted);
    req->n_inserted = 0;
    for (size_t i = 0; req->inserted && i < n; i++)
        req->inserted[req->n_inserted++] = (s_u64(res, (int) i, 0) << 32) | s_u64(res, (int) i, 1);
    PQclear(res);
    return 0;
}

static const char *s_copy_attempts =
    "COPY attempts (job_id, seq, attempt, worker, outcome, error, http_status,"
    " started_at, finished_at, retry_at, counted) FROM STDIN (FORMAT binary)";

//  The usual case: the broker already made sure each task has one result
//  in the batch and none stored, so rows go straight into `results`.
//  Three round trips: BEGIN+COPY, the rows, counters+COMMIT.
//  The statements that open a batch's transaction: its id is recorded (a
//  second try of a batch whose commit reply was lost fails right there with
//  STORE_ERR_APPLIED), and the ids of earlier batches are no longer needed
//  (batches are written one after the other).
static void
s_batch_prefix(const store_req_t *req, char *sql, size_t size)
{
    snprintf(sql, size, "BEGIN; INSERT INTO shoal_batches VALUES (%llu, %llu);"
             " DELETE FROM shoal_batches WHERE (epoch, seq) < (%llu, %llu); ",
             (unsigned long long) req->epoch, (unsigned long long) req->batch_id,
             (unsigned long long) req->epoch, (unsigned long long) req->batch_id);
}

static void
s_write_fast(PGconn *conn, store_req_t *req)
{
    int rc = 0;
    bool begun = false;
    char prefix[512], sql[1024];
    s_batch_prefix(req, prefix, sizeof prefix);
    if (req->rows.rows) {
        snprintf(sql, sizeof sql, "%sCOPY results FROM STDIN (FORMAT binary)", prefix);
        rc = s_copy_after(conn, req, "storing results", sql, &req->rows, NULL, NULL);
        begun = true;
    }
    if (rc == 0 && req->attempt_rows.rows) {
        snprintf(sql, sizeof sql, "%s%s", begun ? "" : prefix, s_copy_attempts);
        rc = s_copy_after(conn, req, "logging attempts", sql, &req->attempt_rows, NULL, NULL);
        begun = true;
    }
    if (rc == 0 && begun)
        rc = s_write_children(conn, req);
    if (rc == 0 && !begun) {
        //  prefix without the trailing space's statement: counters only
        PGresult *res;
        if (!PQsendQuery(conn, prefix)) {
            s_fail(conn, NULL, req, "starting the transaction");
            rc = -1;
        }
        while (rc == 0 && (res = PQgetResult(conn)) != NULL) {
            ExecStatusType st = PQresultStatus(res);
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && rc == 0) {
                s_fail(conn, res, req, "starting the transaction");
                rc = -1;
            }
            PQclear(res);
        }
        while ((res = PQgetResult(conn)) != NULL)
            PQclear(res);
    }
    if (rc == 0)
        rc = s_write_counters_and_commit(conn, req, true);
    if (rc != 0) {
        s_rollback(conn);
        free(req->outcomes);
        req->outcomes = NULL;
        req->n_outcomes = 0;
    }
}

//  After a unique violation: a task of the batch already has its result
//  (a worker resent one the previous broker run had stored). Insert what
//  is new, count what was refused.
static void
s_write_careful(PGconn *conn, store_req_t *req)
{
    char prefix[512], sql[1024];
    s_batch_prefix(req, prefix, sizeof prefix);
    snprintf(sql, sizeof sql, "%sCOPY shoal_stage FROM STDIN (FORMAT binary)", prefix);
    if (s_copy_after(conn, req, "staging results", sql, &req->rows, NULL, NULL))
        goto fail;
    if (req->attempt_rows.rows && s_copy(conn, req, "logging attempts", s_copy_attempts, &req->attempt_rows))
        goto fail;
    //  before the counters: the job is not done while its children are unfinished
    if (s_write_children(conn, req))
        goto fail;
    if (req->rows.rows) {
        PGresult *res = s_query(conn, req, "storing results",
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
            "   n_cancelled = j.n_cancelled + agg.cancelled,"
            "   n_duplicate = j.n_duplicate + (agg.n - agg.ok - agg.failed - agg.cancelled),"
            "   state = CASE WHEN j.sealed AND j.state IN ('active', 'paused')"
            "     AND j.n_ok + j.n_failed + j.n_cancelled + agg.ok + agg.failed + agg.cancelled"
            "         >= j.n_tasks + j.n_children THEN 'done' ELSE j.state END,"
            "   finished_at = CASE WHEN j.sealed AND j.state IN ('active', 'paused')"
            "     AND j.n_ok + j.n_failed + j.n_cancelled + agg.ok + agg.failed + agg.cancelled"
            "         >= j.n_tasks + j.n_children THEN now() ELSE j.finished_at END"
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
    s_rollback(conn);
    free(req->outcomes);
    req->outcomes = NULL;
    req->n_outcomes = 0;
}

//  The batch was committed by an earlier try whose reply was lost: report
//  what it did from the counts the broker sent and the jobs' states now.
static void
s_write_applied(PGconn *conn, store_req_t *req)
{
    req->status = STORE_OK;
    req->error[0] = 0;
    if (!req->n_deltas)
        return;
    char *ids = s_delta_array(req, offsetof(store_delta_t, job_id), true);
    if (!ids)
        return;
    const char *params[] = { ids };
    PGresult *res = s_query(conn, req, "reading job states",
                            "SELECT id, state FROM jobs WHERE id = ANY($1::int[])", 1, params, 0);
    free(ids);
    req->outcomes = calloc(req->n_deltas, sizeof *req->outcomes);
    if (!res || !req->outcomes) {
        if (res)
            PQclear(res);
        return;
    }
    req->n_outcomes = req->n_deltas;
    for (size_t i = 0; i < req->n_deltas; i++) {
        store_outcome_t *o = &req->outcomes[i];
        o->job_id = req->deltas[i].job_id;
        o->ok = req->deltas[i].ok;
        o->failed = req->deltas[i].failed;
        o->cancelled = req->deltas[i].cancelled;
        for (int r = 0; r < PQntuples(res); r++)
            if ((uint32_t) s_u64(res, r, 0) == o->job_id)
                o->done = strcmp(PQgetvalue(res, r, 1), "done") == 0;
    }
    PQclear(res);
}

static void
s_op_write(PGconn *conn, store_req_t *req)
{
    s_write_fast(conn, req);
    if (req->status == STORE_ERR_CONFLICT) {
        req->status = STORE_OK;
        req->error[0] = 0;
        s_write_careful(conn, req);
    }
    if (req->status == STORE_ERR_APPLIED) {
        s_rollback(conn);
        s_write_applied(conn, req);
    }
}

static uint32_t
s_be32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return ntohl(v);
}

static int64_t
s_be64(const char *p)
{
    return (int64_t) (((uint64_t) s_be32(p) << 32) | s_be32(p + 4));
}

static void
s_op_page(PGconn *conn, store_req_t *req)
{
    char id[16], after[24], limit[16], upto[24];
    snprintf(id, sizeof id, "%u", req->job_id);
    snprintf(after, sizeof after, "%lld", (long long) req->after_seq);
    snprintf(limit, sizeof limit, "%u", req->count);
    snprintf(upto, sizeof upto, "%lld", (long long) req->page_upto);
    const char *params[] = { id, after, limit, upto };
    PGresult *res;
    if (req->page_full)
        //  below the frontier some tasks are finished or have attempts
        res = s_query(conn, req, "paging tasks",
            "SELECT t.seq, t.spec, coalesce(a.total, 0)::int8, coalesce(a.counted, 0)::int8,"
            "  coalesce((extract(epoch FROM a.retry_at) * 1000000)::int8, 0)"
            " FROM tasks t LEFT JOIN LATERAL"
            "  (SELECT count(*) AS total, count(*) FILTER (WHERE counted) AS counted,"
            "          max(retry_at) FILTER (WHERE counted) AS retry_at"
            "   FROM attempts a WHERE a.job_id = t.job_id AND a.seq = t.seq) a ON true"
            " WHERE t.job_id = $1 AND t.seq > $2 AND t.seq <= $4"
            "  AND NOT EXISTS (SELECT 1 FROM results r WHERE r.job_id = t.job_id AND r.seq = t.seq)"
            " ORDER BY t.seq LIMIT $3", 4, params, 1);
    else
        //  above it no task has ever been handed out and seqs are dense:
        //  the next `limit` tasks are exactly the range (after, after + limit]
        res = s_query(conn, req, "paging tasks",
            "SELECT seq, spec, 0::int8, 0::int8, 0::int8 FROM tasks"
            " WHERE job_id = $1 AND seq > $2 AND seq <= $2::int8 + $3::int8 ORDER BY seq", 3, params, 1);
    if (!res)
        return;
    int n = (int) s_rows(res);
    size_t arena = 0;
    for (int i = 0; i < n; i++)
        arena += (size_t) PQgetlength(res, i, 1);
    req->page = calloc(n ? (size_t) n : 1, sizeof *req->page);
    req->page_arena = malloc(arena ? arena : 1);
    if (!req->page || !req->page_arena) {
        req->status = STORE_ERR_FAILED;
        snprintf(req->error, sizeof req->error, "out of memory paging tasks");
        PQclear(res);
        return;
    }
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        store_page_row_t *row = &req->page[i];
        row->seq = s_be32(PQgetvalue(res, i, 0));
        row->spec_len = (uint32_t) PQgetlength(res, i, 1);
        row->spec = req->page_arena + off;
        memcpy(row->spec, PQgetvalue(res, i, 1), row->spec_len);
        off += row->spec_len;
        row->attempts = (uint32_t) s_be64(PQgetvalue(res, i, 2));
        row->counted = (uint32_t) s_be64(PQgetvalue(res, i, 3));
        row->retry_at_us = s_be64(PQgetvalue(res, i, 4));
    }
    req->n_page = (size_t) n;
    PQclear(res);
}

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
s_op_control(PGconn *conn, store_req_t *req)
{
    char id[16];
    snprintf(id, sizeof id, "%u", req->job_id);
    const char *params[] = { id };
    PGresult *res;
    switch (req->action) {
        case SHOAL__CONTROL_ACTION__CONTROL_PAUSE:
        case SHOAL__CONTROL_ACTION__CONTROL_RESUME:
            res = s_query(conn, req, "changing the job state",
                req->action == SHOAL__CONTROL_ACTION__CONTROL_PAUSE
                ? "UPDATE jobs SET state = 'paused' WHERE id = $1 AND state IN ('active', 'paused') RETURNING state"
                : "UPDATE jobs SET state = 'active' WHERE id = $1 AND state IN ('active', 'paused') RETURNING state",
                1, params, 0);
            if (!res)
                return;
            if (PQntuples(res) == 0) {
                PQclear(res);
                s_diagnose(conn, req, req->action == SHOAL__CONTROL_ACTION__CONTROL_PAUSE ? "pause" : "resume");
                return;
            }
            req->new_state = s_state_parse(PQgetvalue(res, 0, 0));
            PQclear(res);
            return;
        case SHOAL__CONTROL_ACTION__CONTROL_CANCEL:
            if (s_command(conn, req, "starting the transaction", "BEGIN"))
                return;
            res = s_query(conn, req, "cancelling the job",
                "UPDATE jobs SET state = 'cancelled', finished_at = now()"
                " WHERE id = $1 AND state IN ('active', 'paused') RETURNING id", 1, params, 0);
            if (!res) {
                s_rollback(conn);
                return;
            }
            if (PQntuples(res) == 0) {
                PQclear(res);
                s_rollback(conn);
                s_diagnose(conn, req, "cancel");
                return;
            }
            PQclear(res);
            res = s_query(conn, req, "cancelling tasks",
                "INSERT INTO results (job_id, seq, outcome, attempt, error, finished_at)"
                " SELECT t.job_id, t.seq, 'cancelled', 0, 'job cancelled', now() FROM tasks t"
                " WHERE t.job_id = $1 AND NOT EXISTS"
                "  (SELECT 1 FROM results r WHERE r.job_id = t.job_id AND r.seq = t.seq)"
                " ON CONFLICT DO NOTHING", 1, params, 0);
            if (!res) {
                s_rollback(conn);
                return;
            }
            req->affected = strtoull(PQcmdTuples(res), NULL, 10);
            PQclear(res);
            {
                char n[24];
                snprintf(n, sizeof n, "%llu", (unsigned long long) req->affected);
                const char *p2[] = { id, n };
                res = s_query(conn, req, "counting cancelled tasks",
                    "UPDATE jobs SET n_cancelled = n_cancelled + $2 WHERE id = $1", 2, p2, 0);
                if (!res) {
                    s_rollback(conn);
                    return;
                }
                PQclear(res);
            }
            if (s_command(conn, req, "committing the cancel", "COMMIT")) {
                s_rollback(conn);
                return;
            }
            req->new_state = SHOAL__JOB_STATE__JOB_CANCELLED;
            return;
        case SHOAL__CONTROL_ACTION__CONTROL_RETRY: {
            if (s_command(conn, req, "starting the transaction", "BEGIN"))
                return;
            res = s_query(conn, req, "reading the job",
                          "SELECT state FROM jobs WHERE id = $1 FOR UPDATE", 1, params, 0);
            if (!res) {
                s_rollback(conn);
                return;
            }
            if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0), "cancelled") == 0) {
                bool missing = PQntuples(res) == 0;
                PQclear(res);
                s_rollback(conn);
                req->status = missing ? STORE_ERR_NOT_FOUND : STORE_ERR_STATE;
                snprintf(req->error, sizeof req->error, missing ? "no job %u"
                         : "cannot retry: job %u is cancelled", req->job_id);
                return;
            }
            PQclear(res);
            char statuses[1024], classes[128];
            s_int_array(statuses, sizeof statuses, req->retry_status, req->n_retry_status);
            s_int_array(classes, sizeof classes, req->retry_class, req->n_retry_class);
            const char *p3[] = { id, statuses, classes };
            res = s_query(conn, req, "requeueing failed tasks",
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
                " SELECT count(*) FROM moved", 3, p3, 0);
            if (!res) {
                s_rollback(conn);
                return;
            }
            req->affected = s_u64(res, 0, 0);
            PQclear(res);
            char n[24];
            snprintf(n, sizeof n, "%llu", (unsigned long long) req->affected);
            const char *p4[] = { id, n };
            res = s_query(conn, req, "counting requeued tasks",
                "UPDATE jobs SET n_failed = n_failed - $2,"
                " state = CASE WHEN $2 > 0 AND state = 'done' THEN 'active' ELSE state END,"
                " finished_at = CASE WHEN $2 > 0 THEN NULL ELSE finished_at END"
                " WHERE id = $1 RETURNING state", 2, p4, 0);
            if (!res) {
                s_rollback(conn);
                return;
            }
            req->new_state = s_state_parse(PQgetvalue(res, 0, 0));
            PQclear(res);
            if (s_command(conn, req, "committing the retry", "COMMIT"))
                s_rollback(conn);
            return;
        }
        default:
            req->status = STORE_ERR_FAILED;
            snprintf(req->error, sizeof req->error, "unknown control action");
    }
}

static void
s_op_control_and_load(PGconn *conn, store_req_t *req)
{
    s_op_control(conn, req);
    if (req->status == STORE_OK) {
        s_load_job(conn, req, req->job_id);
        if (req->status == STORE_ERR_NOT_FOUND)
            req->status = STORE_OK;     //  the change itself happened
    }
}

static void
s_op_query_jobs(PGconn *conn, store_req_t *req)
{
    char limit[16];
    snprintf(limit, sizeof limit, "%u", req->count ? req->count : 100);
    const char *params[] = { limit };
    PGresult *res = s_query(conn, req, "listing jobs",
        "SELECT " JOB_COLUMNS " FROM jobs ORDER BY id DESC LIMIT $1", 1, params, 0);
    if (!res)
        return;
    s_read_jobs(res, req);
    PQclear(res);
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
    row->seq = (uint32_t) s_u64(res, i, 0);
    row->outcome = V(1);
    row->has_attempt = 1;
    row->attempt = (uint32_t) s_u64(res, i, 2);
    row->worker = NUL(3) ? NULL : V(3);
    row->target = NUL(4) ? NULL : V(4);
    row->result = r;
    if (!NUL(5))
        r->error = V(5);
    r->has_started_us = !NUL(6);
    r->started_us = s_i64(res, i, 6);
    r->has_finished_us = !NUL(7);
    r->finished_us = s_i64(res, i, 7);
    r->has_outcome = 1;
    r->outcome = !strcmp(row->outcome, "ok") ? SHOAL__OUTCOME__OUTCOME_OK
               : !strcmp(row->outcome, "cancelled") ? SHOAL__OUTCOME__OUTCOME_CANCELLED
               : SHOAL__OUTCOME__OUTCOME_ERROR;
    const char *kind = NUL(26) ? "" : V(26);
    if (!strcmp(kind, "http")) {
        r->http = h;
        h->has_status = !NUL(8);
        h->status = (uint32_t) s_u64(res, i, 8);
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
        h->bytes = s_u64(res, i, 11);
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
    }
    else
    if (!strcmp(kind, "exec")) {
        r->exec = x;
        x->has_exit_code = !NUL(21);
        x->exit_code = (int32_t) s_i64(res, i, 21);
        x->has_signal = !NUL(22);
        x->signal = (int32_t) s_i64(res, i, 22);
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

static void
s_op_query_results(PGconn *conn, store_req_t *req)
{
    char id[16], after[24], limit[16], span_end[24];
    snprintf(id, sizeof id, "%u", req->job_id);
    uint32_t count = req->count ? req->count : 1000;
    //  how far this page may look: a bounded seq range keeps the query cheap
    //  whatever the planner knows about the table
    const char *p1[] = { id };
    PGresult *res = s_query(conn, req, "reading the job", "SELECT n_tasks FROM jobs WHERE id = $1", 1, p1, 0);
    if (!res)
        return;
    if (PQntuples(res) == 0) {
        PQclear(res);
        req->status = STORE_ERR_NOT_FOUND;
        snprintf(req->error, sizeof req->error, "no job %u", req->job_id);
        return;
    }
    int64_t n_tasks = s_i64(res, 0, 0);
    PQclear(res);
    int64_t span = (int64_t) count * 8 > 20000 ? (int64_t) count * 8 : 20000;
    int64_t end = req->after_seq + span;
    snprintf(after, sizeof after, "%lld", (long long) req->after_seq);
    snprintf(limit, sizeof limit, "%u", count);
    snprintf(span_end, sizeof span_end, "%lld", (long long) end);
    const char *params[] = { id, after, limit, req->with_body ? "t" : "f", req->failed_only ? "t" : "f", span_end };
    res = s_query(conn, req, "reading results",
        "SELECT r.seq, r.outcome, r.attempt, r.worker, t.target, r.error,"
        "  (extract(epoch FROM r.started_at) * 1000000)::int8,"
        "  (extract(epoch FROM r.finished_at) * 1000000)::int8,"
        "  r.http_status, r.final_url, r.headers::text, r.bytes, r.sha256,"
        "  CASE WHEN $4::bool THEN r.body END, r.body_path, r.truncated,"
        "  r.dns_ms, r.connect_ms, r.tls_ms, r.ttfb_ms, r.total_ms,"
        "  r.exit_code, r.signal, r.stdout, r.stderr, t.spec, t.kind, r.body_url, r.content_type"
        " FROM results r LEFT JOIN tasks t ON t.job_id = r.job_id AND t.seq = r.seq"
        " WHERE r.job_id = $1 AND r.seq > $2 AND r.seq <= $6 AND (NOT $5::bool OR r.outcome <> 'ok')"
        " ORDER BY r.seq LIMIT $3", 6, params, 0);
    if (!res)
        return;
    int n = (int) s_rows(res);
    size_t un = n ? (size_t) n : 1;
    Shoal__ResultRow *rows = calloc(un, sizeof *rows);
    Shoal__ResultRow **row_ptrs = calloc(un, sizeof *row_ptrs);
    Shoal__Result *results = calloc(un, sizeof *results);
    Shoal__HttpResult *https = calloc(un, sizeof *https);
    Shoal__ExecResult *execs = calloc(un, sizeof *execs);
    json_t **jsons = calloc(un, sizeof *jsons);
    Shoal__Header *hdrs = calloc(un * MAX_RESULT_HEADERS, sizeof *hdrs);
    Shoal__Header **hdr_ptrs = calloc(un * MAX_RESULT_HEADERS, sizeof *hdr_ptrs);
    unsigned char **bodies = calloc(un, sizeof *bodies);
    Shoal__TaskSpec **specs = calloc(un, sizeof *specs);
    if (!rows || !row_ptrs || !results || !https || !execs || !jsons || !hdrs || !hdr_ptrs
    ||  !bodies || !specs) {
        req->status = STORE_ERR_FAILED;
        snprintf(req->error, sizeof req->error, "out of memory reading results");
        goto cleanup;
    }
    int kept = n;
    size_t page_bytes = 0;
    for (int i = 0; i < n; i++) {
        shoal__result_row__init(&rows[i]);
        shoal__result__init(&results[i]);
        shoal__http_result__init(&https[i]);
        shoal__exec_result__init(&execs[i]);
        s_fill_result(res, i, &rows[i], &results[i], &https[i], &execs[i], &jsons[i],
                      hdr_ptrs + (size_t) i * MAX_RESULT_HEADERS,
                      hdrs + (size_t) i * MAX_RESULT_HEADERS, MAX_RESULT_HEADERS,
                      &bodies[i], &specs[i]);
        results[i].has_task_id = 1;
        results[i].task_id = ((uint64_t) req->job_id << 32) | rows[i].seq;
        row_ptrs[i] = &rows[i];
        page_bytes += shoal__result_row__get_packed_size(&rows[i]);
        if (page_bytes > RESULTS_PAGE_MAX_BYTES && i > 0) {
            kept = i;       //  this row starts the next page
            break;
        }
    }
    bool cut = kept < n;
    Shoal__ResultsPage page = SHOAL__RESULTS_PAGE__INIT;
    page.has_job_id = 1;
    page.job_id = req->job_id;
    page.rows = row_ptrs;
    page.n_rows = (size_t) kept;
    page.has_last = page.has_next_after_seq = 1;
    if (cut || (uint32_t) n >= count)
        page.next_after_seq = rows[kept - 1].seq;
    else
        page.next_after_seq = end;
    page.last = !cut && (uint32_t) n < count && end >= n_tasks - 1;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.has_version = 1;
    env.version = SHOAL_PROTO_MAJOR;
    env.has_corr = req->corr != 0;
    env.corr = req->corr;
    env.body_case = SHOAL__ENVELOPE__BODY_RESULTS_PAGE;
    env.results_page = &page;
    req->reply_len = shoal__envelope__get_packed_size(&env);
    req->reply = malloc(req->reply_len ? req->reply_len : 1);
    if (!req->reply) {
        req->status = STORE_ERR_FAILED;
        snprintf(req->error, sizeof req->error, "out of memory packing results");
        goto cleanup;
    }
    shoal__envelope__pack(&env, req->reply);
cleanup:
    for (int i = 0; i < n; i++) {
        if (jsons && jsons[i])
            json_decref(jsons[i]);
        if (bodies && bodies[i])
            PQfreemem(bodies[i]);
        if (specs && specs[i])
            shoal__task_spec__free_unpacked(specs[i], NULL);
    }
    free(rows); free(row_ptrs); free(results); free(https); free(execs);
    free(jsons); free(hdrs); free(hdr_ptrs); free(bodies); free(specs);
    PQclear(res);
}

int
store_ops_prepare(PGconn *conn, const char *name)
{
    PQclear(PQexec(conn, "SET client_min_messages = warning"));
    PGresult *res = PQexec(conn,
        "CREATE TEMP TABLE IF NOT EXISTS shoal_stage (LIKE results) ON COMMIT DELETE ROWS");
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
    PQclear(res);
    res = PQexec(conn, "CREATE TEMP TABLE IF NOT EXISTS shoal_stage_tasks (LIKE tasks) ON COMMIT DELETE ROWS");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = -1;
    PQclear(res);
    return rc;
}

void
store_ops_run(PGconn *conn, store_req_t *req)
{
    switch (req->op) {
        case STORE_LOAD:          s_op_load(conn, req); break;
        case STORE_OPEN_JOB:      s_op_open_job(conn, req); break;
        case STORE_INGEST:        s_op_ingest(conn, req); break;
        case STORE_SEAL:          s_op_seal(conn, req); break;
        case STORE_WRITE:         s_op_write(conn, req); break;
        case STORE_PAGE:          s_op_page(conn, req); break;
        case STORE_CONTROL:       s_op_control_and_load(conn, req); break;
        case STORE_QUERY_JOB:     s_load_job(conn, req, req->job_id); break;
        case STORE_QUERY_JOBS:    s_op_query_jobs(conn, req); break;
        case STORE_QUERY_RESULTS: s_op_query_results(conn, req); break;
    }
}
