/*  store_ops — the SQL behind each store request (runs on a store thread). */
#ifndef SHOAL_STORE_OPS_H
#define SHOAL_STORE_OPS_H

#include <libpq-fe.h>

#include "store.h"

//  Per-connection set-up after connecting (temp tables). 0 or -1.
int store_ops_prepare(PGconn *conn, const char *name);
//  Run one request; sets req->status and req->error.
void store_ops_run(PGconn *conn, store_req_t *req);

#endif
