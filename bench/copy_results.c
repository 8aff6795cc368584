/*  bench_copy_results — the ceiling of the database on this machine: binary
    COPY of result rows shaped like a noop task's, in committed batches,
    into a fresh table shaped like `results` (same columns, primary key).

    bench_copy_results CONNINFO ROWS BATCH */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "pgcopy.h"

static void
s_exec(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(res));
        exit(1);
    }
    PQclear(res);
}

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_copy_results CONNINFO ROWS BATCH\n");
        return 2;
    }
    long rows = atol(argv[2]), batch = atol(argv[3]);
    PGconn *conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "%s", PQerrorMessage(conn));
        return 1;
    }
    PQclear(PQexec(conn, "SET client_min_messages = warning"));
    s_exec(conn, "DROP TABLE IF EXISTS bench_results");
    s_exec(conn, "CREATE TABLE bench_results (LIKE results INCLUDING ALL)");
    pgbuf_t buf = { 0 };
    size_t hlen, tlen;
    const uint8_t *header = pgcopy_header(&hlen), *trailer = pgcopy_trailer(&tlen);
    int64_t start = clock_mono_us();
    int64_t now_us = 1795000000000000LL;
    for (long done = 0; done < rows; ) {
        pgbuf_clear(&buf);
        long n = rows - done < batch ? rows - done : batch;
        for (long i = 0; i < n; i++) {
            pgcopy_row(&buf, 27);
            pgcopy_int4(&buf, 1);
            pgcopy_int4(&buf, (int32_t) (done + i));
            pgcopy_cstr(&buf, "ok");
            pgcopy_int4(&buf, 1);
            pgcopy_cstr(&buf, "bench-worker-1");
            pgcopy_null(&buf);
            pgcopy_timestamptz(&buf, now_us);
            pgcopy_timestamptz(&buf, now_us + 50);
            pgcopy_float8(&buf, 0.05);
            for (int c = 0; c < 18; c++)
                pgcopy_null(&buf);
        }
        s_exec(conn, "BEGIN");
        PGresult *res = PQexec(conn, "COPY bench_results FROM STDIN (FORMAT binary)");
        PQclear(res);
        PQputCopyData(conn, (const char *) header, (int) hlen);
        PQputCopyData(conn, (const char *) buf.data, (int) buf.len);
        PQputCopyData(conn, (const char *) trailer, (int) tlen);
        PQputCopyEnd(conn, NULL);
        res = PQgetResult(conn);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            fprintf(stderr, "copy: %s", PQresultErrorMessage(res));
            return 1;
        }
        PQclear(res);
        while ((res = PQgetResult(conn)))
            PQclear(res);
        s_exec(conn, "COMMIT");
        done += n;
    }
    double secs = (double) (clock_mono_us() - start) / 1e6;
    printf("copy_rows=%ld batch=%ld seconds=%.3f rows_per_s=%.0f\n", rows, batch, secs, (double) rows / secs);
    s_exec(conn, "DROP TABLE bench_results");
    pgbuf_free(&buf);
    PQfinish(conn);
    return 0;
}
