/*  http_xfer — one HTTP transfer of the http executor (internal to
    http.c, http_request.c, http_result.c, http_s3.c). */
#ifndef SHOAL_WORKER_HTTP_XFER_H
#define SHOAL_WORKER_HTTP_XFER_H

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "executor.h"
#include "s3.h"
#include "vars.h"

#define DEFAULT_INLINE_LIMIT      (16u * 1024)
#define DEFAULT_MAX_RESPONSE      (100ULL << 20)
#define DEFAULT_CONNECT_TIMEOUT   10000
#define DEFAULT_MAX_REDIRECTS     10

//  Response headers kept in the result, by lower-case name (NULL-terminated).
extern const char *const http_kept_headers[];
#define N_KEPT 6
#define KEPT_RETRY_AFTER 3          //  its index

//  Where STORE_DIR bodies go.
typedef struct {
    char    *path;
    bool     ready;             //  created (or found)
    uint64_t serial;            //  temp file names
} http_body_dir_t;

//  One transfer.
typedef struct {
    run_t   *run;
    CURL    *easy;
    struct curl_slist *headers;
    curl_mime *mime;
    FILE    *upload;            //  body_file, streamed
    //  response
    Shoal__BodyStore store;
    uint8_t *inline_buf;        //  first inline_limit bytes, grown as they arrive
    size_t   inline_len, inline_cap, inline_limit;
    bool     keep_inline;       //  store says: keep (some of) the body in the row
    FILE    *stored;            //  STORE_DIR temp file
    char    *stored_tmp;
    EVP_MD_CTX *sha;
    uint64_t bytes;
    uint64_t max_bytes;
    bool     truncated;
    char    *kept[N_KEPT];      //  values of the final response's kept headers
    size_t   header_bytes;      //  header lines of the current response so far
    bool     headers_done;      //  its blank line arrived
    capture_t capture;          //  what pipeline extraction may read
    vars_t  *vars;              //  the executor's compiled extraction rules (borrowed)
    char     local_error[256];  //  failures of our own (disk, file)
    char     errbuf[CURL_ERROR_SIZE];
    void    *owner;             //  the executor (http.c's), for callbacks
    s3_body_t *s3;              //  store: s3 — the body's way into the bucket (http_s3.c)
    bool     s3_started;        //  the upload began (or was refused)
    CURLcode code;              //  the download's, kept while the upload runs
} xfer_t;

//  Set up x->easy from the task spec over the job's defaults (callbacks
//  included). Returns 0, or -1 with a message in x->local_error (a
//  permanent failure).
int http_request_prepare(xfer_t *x, const Shoal__HttpSpec *t, const Shoal__HttpSpec *d, uint32_t timeout_ms,
                         http_body_dir_t *dir);
//  Build the transfer's result (curl ended it with code) and finish its
//  run through ex. The transfer itself stays the caller's to free.
void http_result_finish(executor_t *ex, xfer_t *x, CURLcode code, const http_body_dir_t *dir);
//  store: s3 — the download ended with code: upload a whole 2xx body. True
//  while the upload runs (done(arg) is called when it ends); false when the
//  result goes out now (nothing to upload, or the upload refused: local_error).
bool http_s3_begin(xfer_t *x, CURLcode code, s3_done_fn *done, void *arg);
//  The upload's outcome into the result: where the body is, or why it is not there.
void http_s3_result(xfer_t *x, Shoal__Result *r, char *error, size_t errlen);

#endif
