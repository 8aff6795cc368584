/*  store_ops — the SQL behind each store request, one entry per operation
    (store thread only). Each sets req->status and req->error. */
#ifndef SHOAL_STORE_OPS_H
#define SHOAL_STORE_OPS_H

#include <libpq-fe.h>

#include "store.h"

//  store_jobs.c: jobs rows
void store_jobs_load(PGconn *conn, store_req_t *req);         //  STORE_LOAD
void store_jobs_open(PGconn *conn, store_req_t *req);         //  STORE_OPEN_JOB
void store_jobs_ingest(PGconn *conn, store_req_t *req);       //  STORE_INGEST
void store_jobs_seal(PGconn *conn, store_req_t *req);         //  STORE_SEAL
void store_jobs_list(PGconn *conn, store_req_t *req);         //  STORE_QUERY_JOBS
//  Append job `id`'s row to req->jobs (STORE_QUERY_JOB). 0, or -1 recorded.
int store_jobs_read(PGconn *conn, store_req_t *req, uint32_t id);
//  Explain why a conditional UPDATE of req->job_id touched no row: no such
//  job, a state that forbids `doing`, sealed (when `sealed_matters`), or
//  another committed count than `expected`. Sets *committed and *sealed.
void store_jobs_diagnose(PGconn *conn, store_req_t *req, const char *doing, uint64_t expected,
                         bool sealed_matters, uint64_t *committed, bool *sealed);

//  store_control.c: STORE_CONTROL, then the job's row
void store_control_run(PGconn *conn, store_req_t *req);
//  store_write.c: STORE_WRITE
void store_write_batch(PGconn *conn, store_req_t *req);
//  store_page.c: STORE_PAGE
void store_page_read(PGconn *conn, store_req_t *req);
//  store_export.c: STORE_QUERY_RESULTS
void store_export_page(PGconn *conn, store_req_t *req);
//  store_items.c: STORE_QUERY_RESULTS with `items`
void store_items_page(PGconn *conn, store_req_t *req);

//  store_steps.c: a pipeline job's tasks and outcomes per step (one grouped
//  query, O(the job's tasks)) into *rows (owned, index = step). 0, or -1 recorded.
int store_steps_read(PGconn *conn, store_req_t *req, uint32_t job_id, store_step_t **rows, size_t *n);
//  ... and how its items stand (item_counts.h); with `open`, also every item
//  under way (owned by the caller). Same cost: one grouped query.
int store_items_read(PGconn *conn, store_req_t *req, uint32_t job_id, item_tally_t *tally,
                     item_open_t **open, size_t *n_open);

//  store_lifecycle.c: STORE_UPDATE's change of the job row; 0 when it
//  committed (the caller then reads the row back), else -1 with req->status.
int store_lifecycle_update(PGconn *conn, store_req_t *req);
//  store_delete.c: STORE_DELETE, one slice of a job's deletion
void store_delete_run(PGconn *conn, store_req_t *req);
//  store_term.c: record that req->mark_term hands out leases (leased_term).
void store_term_mark_leased(PGconn *conn, store_req_t *req);

#endif
