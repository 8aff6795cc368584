/*  schema — the PostgreSQL schema and its versioned migrations.

    The schema is a public interface (docs/schema.md): users query results
    with SQL. schema_migrate() brings a database to the newest version in
    one transaction per step, under an advisory lock, and does nothing on a
    database that is already current.
*/
#ifndef SHOAL_SCHEMA_H
#define SHOAL_SCHEMA_H

#include <libpq-fe.h>
#include <stddef.h>

//  Newest schema version this broker knows.
int schema_latest(void);
//  Migrate; returns the number of steps applied (0 when current) or -1 with
//  a message in err. *version receives the version after migration.
int schema_migrate(PGconn *conn, int *version, char *err, size_t errlen);

#endif
