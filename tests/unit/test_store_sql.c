/*  test_store_sql — the broker's database connections: a multi-host URI
    is kept whole (libpq tries its hosts in turn), TCP keepalives and a TCP
    user timeout are on by default so a vanished host is noticed, the
    URI's own settings win over those defaults, and the application name
    is the broker's. Nothing listens on ports 1 and 2: the connections
    fail at once, and PQconninfo still says what they were made with. */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "store_sql.h"

//  The value of `key` the connection was made with, or NULL.
static char *
s_option(PGconn *conn, const char *key)
{
    char *value = NULL;
    PQconninfoOption *opts = PQconninfo(conn);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, key) == 0 && o->val)
            value = strdup(o->val);
    PQconninfoFree(opts);
    return value;
}

static void
s_check_option(PGconn *conn, const char *key, const char *want, int line)
{
    char *got = s_option(conn, key);
    if (!got || strcmp(got, want) != 0)
        fprintf(stderr, "line %d: %s\n", line, key);
    CHECK_STR(got, want);
    free(got);
}
#define CHECK_OPTION(conn, key, want) s_check_option(conn, key, want, __LINE__)

static void
test_defaults(void)
{
    PGconn *conn = store_sql_connect(
        "postgresql://shoal@127.0.0.1:1,127.0.0.1:2/shoal?target_session_attrs=read-write",
        "shoal-broker:test");
    CHECK(conn != NULL);
    CHECK(PQstatus(conn) == CONNECTION_BAD);
    CHECK_OPTION(conn, "host", "127.0.0.1,127.0.0.1");
    CHECK_OPTION(conn, "port", "1,2");
    CHECK_OPTION(conn, "dbname", "shoal");
    CHECK_OPTION(conn, "target_session_attrs", "read-write");
    CHECK_OPTION(conn, "keepalives", "1");
    CHECK_OPTION(conn, "keepalives_idle", "10");
    CHECK_OPTION(conn, "keepalives_interval", "3");
    CHECK_OPTION(conn, "keepalives_count", "3");
    CHECK_OPTION(conn, "tcp_user_timeout", "20000");
    CHECK_OPTION(conn, "connect_timeout", "5");
    CHECK_OPTION(conn, "application_name", "shoal-broker:test");
    //  the message names every host it tried
    CHECK_CONTAINS(PQerrorMessage(conn), "port 1 failed");
    CHECK_CONTAINS(PQerrorMessage(conn), "port 2 failed");
    PQfinish(conn);
}

static void
test_overrides(void)
{
    PGconn *conn = store_sql_connect(
        "host=127.0.0.1 port=1 dbname=x keepalives_idle=99 tcp_user_timeout=0 connect_timeout=2"
        " application_name=theirs", "shoal-broker:test");
    CHECK(conn != NULL);
    CHECK_OPTION(conn, "keepalives_idle", "99");
    CHECK_OPTION(conn, "tcp_user_timeout", "0");
    CHECK_OPTION(conn, "connect_timeout", "2");
    CHECK_OPTION(conn, "keepalives_count", "3");
    CHECK_OPTION(conn, "application_name", "shoal-broker:test");
    PQfinish(conn);
}

int
main(void)
{
    test_defaults();
    test_overrides();
    return check_result("test_store_sql");
}
