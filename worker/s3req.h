/*  s3req — one signed request to S3 on the worker's multi handle (internal
    to s3.c): the easy handle, its headers, where its body comes from and
    the (bounded) answer. */
#ifndef SHOAL_WORKER_S3REQ_H
#define SHOAL_WORKER_S3REQ_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "u64map.h"

#define S3REQ_MAX_ANSWER (1u << 20)     //  bytes of an answer kept; S3's are small XML

//  How every request is signed and where it goes.
typedef struct {
    CURLM      *multi;
    u64map_t   *reqs;           //  (uintptr_t) easy -> s3req_t, so s3_on_done knows its own
    const char *sigv4;          //  "aws:amz:REGION:s3"
    const char *userpwd;        //  "KEY:SECRET"
    const char *token;          //  AWS_SESSION_TOKEN, or NULL
} s3req_ctx_t;

typedef struct {
    const s3req_ctx_t *ctx;
    void     *owner;            //  the body it works for, NULL for a background abort
    CURL     *easy;
    struct curl_slist *headers;
    char     *answer;           //  the response body, NUL-terminated, at most S3REQ_MAX_ANSWER
    size_t    answer_len, answer_cap;
    char      etag[128];        //  the ETag response header
    int       fd;               //  PUT source: [offset, offset + left) of this file
    uint64_t  offset, left;
    char     *post;             //  POST source (owned), or NULL
    size_t    post_len;
    const char *what;           //  "PUT", "UploadPart", ... for messages
    char      errbuf[CURL_ERROR_SIZE];
} s3req_t;

//  A request of `method` to `url`. `payload_sha` is the hex SHA-256 of the
//  body (signed and checked by S3), NULL for UNSIGNED-PAYLOAD. NULL on
//  allocation failure.
s3req_t *s3req_new(const s3req_ctx_t *ctx, void *owner, const char *what, const char *method,
                   const char *url, const char *payload_sha);
//  Add a header line ("Content-Type: text/plain"). 0 or -1.
int s3req_header(s3req_t *r, const char *line);
//  The body is `len` bytes of `fd` from `offset` (PUT).
void s3req_body_file(s3req_t *r, int fd, uint64_t offset, uint64_t len);
//  The body is `data` (POST); ownership moves to the request.
void s3req_body_mem(s3req_t *r, char *data, size_t len);
//  Put it on the multi handle. 0, or -1 (the caller frees it).
int s3req_start(s3req_t *r);
//  The request of a finished easy handle, or NULL when it is not an S3 one.
s3req_t *s3req_of(const s3req_ctx_t *ctx, CURL *easy);
//  Take it off the multi handle and free it. NULLs the caller's pointer.
void s3req_destroy(s3req_t **r_p);

#endif
