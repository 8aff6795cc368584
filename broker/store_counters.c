/*  store_counters — see store_counters.h. */
#include "store_counters.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sql.h"

//  The rows of shoal_counters: a name, and the store_counters_t field its
//  buckets are in.
typedef struct {
    const char *name;
    size_t      offset;
    int         n;
} s_row_t;

static const s_row_t s_rows[] = {
    { "duration",        offsetof(store_counters_t, duration),        BUCKETS_N + 1 },
    { "wait",            offsetof(store_counters_t, wait),            BUCKETS_N + 1 },
    { "http_class",      offsetof(store_counters_t, http_class),      6 },
    { "duration_sum_us", offsetof(store_counters_t, duration_sum_us), 1 },
    { "wait_sum_us",     offsetof(store_counters_t, wait_sum_us),     1 },
};
#define ROWS (sizeof s_rows / sizeof s_rows[0])

void
store_counters_sql(const store_counters_t *c, char *sql, size_t cap)
{
    //  at most 2 * 16 + 6 + 2 rows: names under 16 chars, counts under 21 digits
    char names[1024] = "{", buckets[256] = "{", ns[1024] = "{";
    size_t on = 1, ob = 1, oc = 1, rows = 0;
    if (cap)
        sql[0] = 0;
    for (size_t r = 0; r < ROWS; r++) {
        const uint64_t *v = (const uint64_t *) ((const char *) c + s_rows[r].offset);
        for (int b = 0; b < s_rows[r].n; b++) {
            if (!v[b])
                continue;
            const char *sep = rows++ ? "," : "";
            on += (size_t) snprintf(names + on, sizeof names - on, "%s%s", sep, s_rows[r].name);
            ob += (size_t) snprintf(buckets + ob, sizeof buckets - ob, "%s%d", sep, b);
            oc += (size_t) snprintf(ns + oc, sizeof ns - oc, "%s%llu", sep, (unsigned long long) v[b]);
        }
    }
    if (!rows || !cap)
        return;
    snprintf(sql, cap, "INSERT INTO shoal_counters (name, bucket, n)"
             " SELECT * FROM unnest('%s}'::text[], '%s}'::int[], '%s}'::int8[])"
             " ON CONFLICT (name, bucket) DO UPDATE SET n = shoal_counters.n + excluded.n; ",
             names, buckets, ns);
}

int
store_counters_load(PGconn *conn, store_req_t *req, store_counters_t *c)
{
    memset(c, 0, sizeof *c);
    PGresult *res = store_sql_query(conn, req, "reading the cluster counters",
                                    "SELECT name, bucket, n FROM shoal_counters", 0, NULL, 0);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *name = PQgetvalue(res, i, 0);
        long b = strtol(PQgetvalue(res, i, 1), NULL, 10);
        for (size_t r = 0; r < ROWS; r++)
            if (strcmp(name, s_rows[r].name) == 0 && b >= 0 && b < s_rows[r].n) {
                uint64_t *v = (uint64_t *) ((char *) c + s_rows[r].offset);
                v[b] = store_sql_u64(res, i, 2);
            }
    }
    PQclear(res);
    return 0;
}
