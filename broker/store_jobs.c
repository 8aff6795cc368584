/*  store_jobs — jobs rows: the start-up load, opening a job, committing a
    chunk of tasks, sealing, reading and listing jobs. See store_ops.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgcopy.h"
#include "store_ops.h"
#include "store_counters.h"
#include "store_sql.h"

#define JOB_COLUMNS \
    "id, name, idem_key, state, priority, defaults, n_tasks, sealed, n_ok, n_failed," \
    " n_cancelled, n_retries, n_stale, n_duplicate," \
    " (extract(epoch FROM created_at) * 1000000)::int8," \
    " coalesce((extract(epoch FROM finished_at) * 1000000)::int8, 0)," \
    " coalesce(greatest((SELECT max(seq) FROM results r WHERE r.job_id = jobs.id AND r.seq < 1073741824)," \
    "                   (SELECT max(seq) FROM attempts a WHERE a.job_id = jobs.id AND a.seq < 1073741824)), -1)," \
    " pipeline::text, n_children," \
    " coalesce((SELECT max(seq) FROM tasks t WHERE t.job_id = jobs.id AND t.seq >= 1073741824), 1073741823)," \
    " coalesce((extract(epoch FROM updated_at) * 1000000)::int8, 0), update_note," \
    " n_failed_total"

//  The encoded defaults of column `col` (bytea, text format) into the job.
static void
s_read_defaults(const PGresult *res, int i, int col, store_job_t *j)
{
    if (PQgetisnull(res, i, col))
        return;
    size_t len = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *) PQgetvalue(res, i, col), &len);
    if (!raw)
        return;
    j->defaults = malloc(len ? len : 1);
    if (j->defaults) {
        memcpy(j->defaults, raw, len);
        j->defaults_len = len;
    }
    PQfreemem(raw);
}

//  Append the rows of a JOB_COLUMNS query to req->jobs. 0, or -1 recorded.
static int
s_read_jobs(const PGresult *res, store_req_t *req)
{
    int n = (int) store_sql_rows(res);
    if (n == 0)
        return 0;
    store_job_t *jobs = realloc(req->jobs, (req->n_jobs + (size_t) n) * sizeof *jobs);
    if (!jobs) {
        store_sql_error(req, STORE_ERR_FAILED, "out of memory reading jobs");
        return -1;
    }
    req->jobs = jobs;
    for (int i = 0; i < n; i++) {
        store_job_t *j = &req->jobs[req->n_jobs++];
        memset(j, 0, sizeof *j);
        j->id = (uint32_t) store_sql_u64(res, i, 0);
        j->name = strdup(PQgetvalue(res, i, 1));
        j->key = PQgetisnull(res, i, 2) ? NULL : strdup(PQgetvalue(res, i, 2));
        j->state = store_sql_state(PQgetvalue(res, i, 3));
        j->priority = (uint32_t) store_sql_u64(res, i, 4);
        s_read_defaults(res, i, 5, j);
        j->n_tasks = store_sql_u64(res, i, 6);
        j->sealed = PQgetvalue(res, i, 7)[0] == 't';
        j->n_ok = store_sql_u64(res, i, 8);
        j->n_failed = store_sql_u64(res, i, 9);
        j->n_cancelled = store_sql_u64(res, i, 10);
        j->n_retries = store_sql_u64(res, i, 11);
        j->n_stale = store_sql_u64(res, i, 12);
        j->n_duplicate = store_sql_u64(res, i, 13);
        j->created_us = store_sql_i64(res, i, 14);
        j->finished_us = store_sql_i64(res, i, 15);
        j->frontier = store_sql_i64(res, i, 16);
        j->pipeline = PQgetisnull(res, i, 17) ? NULL : strdup(PQgetvalue(res, i, 17));
        j->n_children = store_sql_u64(res, i, 18);
        j->child_top = store_sql_i64(res, i, 19);
        j->updated_us = store_sql_i64(res, i, 20);
        j->update_note = PQgetisnull(res, i, 21) ? NULL : strdup(PQgetvalue(res, i, 21));
        j->n_failed_total = store_sql_u64(res, i, 22);
    }
    return 0;
}

int
store_jobs_read(PGconn *conn, store_req_t *req, uint32_t id)
{
    char idbuf[16];
    snprintf(idbuf, sizeof idbuf, "%u", id);
    const char *params[] = { idbuf };
    PGresult *res = store_sql_query(conn, req, "reading job",
                                    "SELECT " JOB_COLUMNS " FROM jobs WHERE id = $1", 1, params, 0);
    if (!res)
        return -1;
    int rc = 0;
    if (PQntuples(res) == 0) {
        store_sql_error(req, STORE_ERR_NOT_FOUND, "no job %u", id);
        rc = -1;
    }
    else
        rc = s_read_jobs(res, req);
    PQclear(res);
    return rc;
}

void
store_jobs_diagnose(PGconn *conn, store_req_t *req, const char *doing, uint64_t expected,
                    bool sealed_matters, uint64_t *committed, bool *sealed)
{
    char idbuf[16];
    snprintf(idbuf, sizeof idbuf, "%u", req->job_id);
    const char *params[] = { idbuf };
    PGresult *res = store_sql_query(conn, req, "reading job",
                                    "SELECT state, sealed, n_tasks FROM jobs WHERE id = $1", 1, params, 0);
    if (!res)
        return;
    if (PQntuples(res) == 0) {
        store_sql_error(req, STORE_ERR_NOT_FOUND, "no job %u", req->job_id);
        PQclear(res);
        return;
    }
    const char *state = PQgetvalue(res, 0, 0);
    *sealed = PQgetvalue(res, 0, 1)[0] == 't';
    *committed = store_sql_u64(res, 0, 2);
    if (strcmp(state, "active") && strcmp(state, "paused"))
        store_sql_error(req, STORE_ERR_STATE, "cannot %s: job %u is %s", doing, req->job_id, state);
    else
    if (sealed_matters && *sealed)
        store_sql_error(req, STORE_ERR_STATE, "cannot %s: job %u is sealed with %llu tasks",
                        doing, req->job_id, (unsigned long long) *committed);
    else
        store_sql_error(req, STORE_ERR_CONFLICT,
                        "cannot %s: job %u has %llu tasks committed, request expected %llu",
                        doing, req->job_id, (unsigned long long) *committed,
                        (unsigned long long) expected);
    PQclear(res);
}

void
store_jobs_load(PGconn *conn, store_req_t *req)
{
    //  the epoch and the lease tag came with the leadership (leader.c)
    PGresult *res;
    if (store_counters_load(conn, req, &req->load.counters))
        return;
    res = store_sql_query(conn, req, "reading active jobs",
        "SELECT " JOB_COLUMNS " FROM jobs WHERE state IN ('active', 'paused') ORDER BY id", 0, NULL, 0);
    if (!res)
        return;
    s_read_jobs(res, req);
    PQclear(res);
}

void
store_jobs_open(PGconn *conn, store_req_t *req)
{
    store_open_t *o = &req->open;
    char prio[16];
    snprintf(prio, sizeof prio, "%u", o->priority ? o->priority : 1);
    const char *values[] = { o->name ? o->name : "", o->key, prio, (const char *) o->defaults, o->pipeline };
    int lengths[] = { 0, 0, 0, (int) o->defaults_len, 0 };
    int formats[] = { 0, 0, 0, 1, 0 };
    PGresult *res = PQexecParams(conn,
        "INSERT INTO jobs (name, idem_key, priority, defaults, pipeline) VALUES ($1, $2, $3, $4, $5::jsonb)"
        " ON CONFLICT (idem_key) DO NOTHING RETURNING id",
        5, NULL, values, lengths, formats, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        store_sql_fail(conn, res, req, "creating the job");
        PQclear(res);
        return;
    }
    if (PQntuples(res) == 1) {
        uint32_t id = (uint32_t) store_sql_u64(res, 0, 0);
        PQclear(res);
        store_jobs_read(conn, req, id);
        return;
    }
    PQclear(res);
    //  the key exists: this is a resumed submit
    const char *params[] = { o->key };
    res = store_sql_query(conn, req, "finding the job by key",
                          "SELECT " JOB_COLUMNS " FROM jobs WHERE idem_key = $1", 1, params, 0);
    if (!res)
        return;
    o->existed = true;
    if (PQntuples(res) == 0)
        store_sql_error(req, STORE_ERR_FAILED, "job with key vanished");
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
    store_ingest_t *in = arg;
    if (PQntuples(res) == 0)
        return -1;
    in->committed = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    return 0;
}

void
store_jobs_ingest(PGconn *conn, store_req_t *req)
{
    store_ingest_t *in = &req->ingest;
    //  one message: claim the seq range, then stream the rows; integers
    //  only are formatted into the statement
    char sql[640];
    snprintf(sql, sizeof sql,
        "BEGIN; UPDATE jobs SET n_tasks = n_tasks + %u%s WHERE id = %u AND n_tasks = %llu"
        " AND NOT sealed AND state IN ('active', 'paused') RETURNING n_tasks;"
        " COPY tasks (job_id, seq, kind, target, spec, pipeline) FROM STDIN (FORMAT binary)",
        in->count, in->seal ? ", sealed = true, sealed_at = now()" : "", req->job_id,
        (unsigned long long) in->first_seq);
    int rc = store_sql_copy(conn, req, "storing tasks", sql, &in->rows, s_ingest_guard, in);
    if (rc == -2) {
        store_sql_rollback(conn);
        store_jobs_diagnose(conn, req, "add tasks", in->first_seq, true, &in->committed, &in->sealed_now);
        return;
    }
    if (rc != 0) {
        if (req->status == STORE_ERR_CONFLICT)
            snprintf(req->error, sizeof req->error, "tasks %llu..%llu of job %u are already stored",
                     (unsigned long long) in->first_seq,
                     (unsigned long long) (in->first_seq + in->count - 1), req->job_id);
        store_sql_rollback(conn);
        return;
    }
    if (store_sql_command(conn, req, "committing tasks", "COMMIT"))
        store_sql_rollback(conn);
}

void
store_jobs_seal(PGconn *conn, store_req_t *req)
{
    store_seal_t *s = &req->seal;
    char id[16], total[24];
    snprintf(id, sizeof id, "%u", req->job_id);
    snprintf(total, sizeof total, "%llu", (unsigned long long) s->total);
    const char *params[] = { id, total };
    //  the CASEs read the row before this UPDATE: sealed is what it sets
    PGresult *res = store_sql_query(conn, req, "sealing the job",
        "UPDATE jobs j SET sealed = true, sealed_at = coalesce(j.sealed_at, now()),"
        STORE_SQL_SET_DONE("true", "")
        " WHERE j.id = $1 AND j.n_tasks = $2 AND j.state <> 'cancelled' RETURNING j.state",
        2, params, 0);
    if (!res)
        return;
    if (PQntuples(res) == 0) {
        PQclear(res);
        store_jobs_diagnose(conn, req, "seal", s->total, false, &s->committed, &s->sealed_now);
        return;
    }
    s->new_state = store_sql_state(PQgetvalue(res, 0, 0));
    s->committed = s->total;
    PQclear(res);
    store_jobs_read(conn, req, req->job_id);
}

void
store_jobs_list(PGconn *conn, store_req_t *req)
{
    const store_query_t *q = &req->query;
    char limit[16], before[24];
    snprintf(limit, sizeof limit, "%u", q->limit ? q->limit : 100);
    snprintf(before, sizeof before, "%lld", (long long) q->finished_before_us);
    bool any = !q->ended_done && !q->ended_failed && !q->ended_cancelled;
    bool filter = q->finished_before_us > 0 || !any;
    //  prune's filter (JobsRequest): finished jobs, by when and how they ended
    const char *params[] = { limit, filter ? "t" : "f", before,
                             any || q->ended_done ? "t" : "f", any || q->ended_failed ? "t" : "f",
                             any || q->ended_cancelled ? "t" : "f" };
    PGresult *res = store_sql_query(conn, req, "listing jobs",
        "SELECT " JOB_COLUMNS " FROM jobs WHERE NOT $2::boolean OR ("
        "  ($3::bigint = 0 OR finished_at < to_timestamp($3::bigint / 1e6))"
        "  AND ((state = 'done' AND n_failed = 0 AND $4::boolean)"
        "    OR (state = 'done' AND n_failed > 0 AND $5::boolean)"
        "    OR (state = 'cancelled' AND $6::boolean)))"
        " ORDER BY id DESC LIMIT $1", 6, params, 0);
    if (!res)
        return;
    s_read_jobs(res, req);
    PQclear(res);
}
