/*  test_store_counters — the statement a result batch adds to
    shoal_counters with: only the non-zero rows, none at all for an empty
    batch, and room for every row at its largest count. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "store_counters.h"

static void
test_empty(void)
{
    store_counters_t c;
    memset(&c, 0, sizeof c);
    char sql[4096] = "x";
    store_counters_sql(&c, sql, sizeof sql);
    CHECK_STR(sql, "");
}

static void
test_rows(void)
{
    store_counters_t c;
    memset(&c, 0, sizeof c);
    c.duration[0] = 3;
    c.duration[BUCKETS_N] = 1;
    c.wait[2] = 4;
    c.http_class[2] = 7;
    c.duration_sum_us = 12345;
    char sql[4096];
    store_counters_sql(&c, sql, sizeof sql);
    CHECK_STR(sql, "INSERT INTO shoal_counters (name, bucket, n)"
              " SELECT * FROM unnest('{duration,duration,wait,http_class,duration_sum_us}'::text[],"
              " '{0,15,2,2,0}'::int[], '{3,1,4,7,12345}'::int8[])"
              " ON CONFLICT (name, bucket) DO UPDATE SET n = shoal_counters.n + excluded.n; ");
}

//  every row at UINT64_MAX: nothing is cut (the statement still ends "; ")
static void
test_largest(void)
{
    store_counters_t c;
    memset(&c, 0xff, sizeof c);
    char sql[4096];
    store_counters_sql(&c, sql, sizeof sql);
    size_t n = strlen(sql);
    CHECK(n > 2 && strcmp(sql + n - 2, "; ") == 0);
    CHECK_CONTAINS(sql, "wait_sum_us}'::text[]");
    CHECK_CONTAINS(sql, ",18446744073709551615}'::int8[]");
}

int
main(void)
{
    test_empty();
    test_rows();
    test_largest();
    return check_result("test_store_counters");
}
