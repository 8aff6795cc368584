/*  upload — the upload_s3 task: a file on the worker goes to the bucket,
    no request is made (see upload.c). Part of the http executor. */
#ifndef SHOAL_WORKER_UPLOAD_H
#define SHOAL_WORKER_UPLOAD_H

#include "executor.h"
#include "s3.h"

//  Start uploading the run's upload_s3 file; it ends in exactly one
//  executor_finish (now, if the file cannot be read).
void upload_start(executor_t *ex, run_t *run, s3_t *s3);
//  Stop it (a multipart upload is aborted at S3); the worker finishes the run.
void upload_cancel(run_t *run);

#endif
