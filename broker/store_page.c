/*  store_page — paging a job's unfinished tasks into the dispatcher's
    window: a plain range scan above the job's frontier (tasks never handed
    out), an anti-join below it (skip finished tasks, read attempt counts
    and retry times). See store_ops.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_ops.h"
#include "store_sql.h"

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

void
store_page_read(PGconn *conn, store_req_t *req)
{
    store_page_t *p = &req->page;
    char id[16], after[24], limit[16], upto[24];
    snprintf(id, sizeof id, "%u", req->job_id);
    snprintf(after, sizeof after, "%lld", (long long) p->after_seq);
    snprintf(limit, sizeof limit, "%u", p->limit);
    snprintf(upto, sizeof upto, "%lld", (long long) p->upto);
    const char *params[] = { id, after, limit, upto };
    PGresult *res;
    if (p->full)
        //  below the frontier some tasks are finished or have attempts
        res = store_sql_query(conn, req, "paging tasks",
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
        res = store_sql_query(conn, req, "paging tasks",
            "SELECT seq, spec, 0::int8, 0::int8, 0::int8 FROM tasks"
            " WHERE job_id = $1 AND seq > $2 AND seq <= $2::int8 + $3::int8 ORDER BY seq", 3, params, 1);
    if (!res)
        return;
    size_t n = store_sql_rows(res);
    size_t arena = 0;
    for (int i = 0; i < (int) n; i++)
        arena += (size_t) PQgetlength(res, i, 1);
    p->rows = calloc(n ? n : 1, sizeof *p->rows);
    p->arena = malloc(arena ? arena : 1);
    if (!p->rows || !p->arena) {
        store_sql_error(req, STORE_ERR_FAILED, "out of memory paging tasks");
        PQclear(res);
        return;
    }
    size_t off = 0;
    for (int i = 0; i < (int) n; i++) {
        store_page_row_t *row = &p->rows[i];
        row->seq = s_be32(PQgetvalue(res, i, 0));
        row->spec_len = (uint32_t) PQgetlength(res, i, 1);
        row->spec = p->arena + off;
        memcpy(row->spec, PQgetvalue(res, i, 1), row->spec_len);
        off += row->spec_len;
        row->attempts = (uint32_t) s_be64(PQgetvalue(res, i, 2));
        row->counted = (uint32_t) s_be64(PQgetvalue(res, i, 3));
        row->retry_at_us = s_be64(PQgetvalue(res, i, 4));
    }
    p->n_rows = n;
    PQclear(res);
}
