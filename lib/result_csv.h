/*  result_csv — a result row as one CSV record (RFC 4180 quoting), the
    columns `shoal results --format csv` writes and the gateway's
    /v1/jobs/{id}/results?format=csv serves. */
#ifndef SHOAL_RESULT_CSV_H
#define SHOAL_RESULT_CSV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "shoal.pb-c.h"

//  The header line, without body_b64 unless with_body (no newline).
#define RESULT_CSV_HEADER "job,seq,outcome,attempt,target,tag,worker,error,http_status,bytes,sha256," \
                          "final_url,body_path,total_ms,exit_code,started_us,finished_us"

//  Write one row and its newline; with_body adds the base64 body column.
void result_csv_row(FILE *out, const Shoal__ResultRow *row, uint32_t job_id, bool with_body);

//  shoal results --items: one pipeline item per record (vars as JSON text).
#define RESULT_CSV_ITEM_HEADER "job,item,outcome,tasks,last_step,step,failed_step,error,vars"
void result_csv_item_row(FILE *out, const Shoal__ResultRow *row, uint32_t job_id);

#endif
