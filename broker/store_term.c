/*  store_term — what a term records of itself in shoal_meta beside its
    lease (leader.c): `leased_term`, the last term that handed out a lease.
    Each term writes it once, committed before its first lease goes out
    (dispatch.c), so a broker that starts after a kill -9 knows whether a
    worker may still run or hold a task of an earlier term: only then does
    it wait its recovery window (leader_leases_out, docs/failover.md). */
#include <stdio.h>

#include "store_ops.h"
#include "store_sql.h"

void
store_term_mark_leased(PGconn *conn, store_req_t *req)
{
    char term[24];
    snprintf(term, sizeof term, "%llu", (unsigned long long) req->mark_term);
    const char *params[] = { term };
    //  never lowered: a deposed broker's late mark changes nothing
    PGresult *res = store_sql_query(conn, req, "recording the term's first lease",
        "INSERT INTO shoal_meta VALUES ('leased_term', $1::int8) ON CONFLICT (key)"
        " DO UPDATE SET value = greatest(shoal_meta.value, excluded.value)",
        1, params, 0);
    if (res)
        PQclear(res);
}
