/*  store_counters — the table shoal_counters (docs/schema.md): cluster-wide
    counters that never go backwards (histogram buckets and sums, HTTP
    status classes), added to by each result batch, read at start. */
#ifndef SHOAL_STORE_COUNTERS_H
#define SHOAL_STORE_COUNTERS_H

#include <libpq-fe.h>

#include "store.h"

//  The statement that adds `c` to shoal_counters (its non-zero rows), ending
//  with "; ", into sql; "" when every count is 0. Meant to go in the message
//  that commits the batch (no round trip of its own): the literals are the
//  broker's own integers and fixed names, never peer data.
void store_counters_sql(const store_counters_t *c, char *sql, size_t cap);
//  The totals of shoal_counters into *c (store thread). 0, or -1 recorded in req.
int store_counters_load(PGconn *conn, store_req_t *req, store_counters_t *c);

#endif
