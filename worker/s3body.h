/*  s3body — the state of the S3 sink shared by s3.c (settings, bodies,
    local files) and s3flow.c (the requests of an upload and their answers).
    Internal to those two files. */
#ifndef SHOAL_WORKER_S3BODY_H
#define SHOAL_WORKER_S3BODY_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>

#include "s3.h"
#include "s3key.h"
#include "s3proto.h"
#include "s3req.h"

#define MAX_STALE       16              //  earlier uploads of one key aborted on a retry
#define EMPTY_SHA256    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct _s3_t {
    s3req_ctx_t ctx;            //  multi, request map, signing
    char     *endpoint;         //  scheme://host[:port][/prefix], no trailing '/'
    bool      path_style;
    char      sigv4[128];
    char     *userpwd;          //  NULL: no credentials in the environment
    char     *token;
    char     *spool_dir;
    uint64_t  part_size, multipart_above;
    s3_body_t *hashing;         //  bodies whose local file is being hashed (a list)
    timers_t *timers;           //  the worker's
    uint64_t  hash_timer;       //  the next slice, while hashing; 0 = none
};

typedef enum { ST_SPOOL, ST_HASH, ST_LIST, ST_ABORT_STALE, ST_PUT, ST_CREATE, ST_PART,
               ST_COMPLETE, ST_ABORT, ST_DONE } state_t;

struct _s3_body_t {
    s3_t     *s3;
    state_t   state;
    char     *bucket, *key_tmpl, *ctype_set, *tag, *file;   //  from the spec (copies)
    bool      delete_file;      //  upload_s3_delete
    uint64_t  task_id;
    uint32_t  attempt;
    int       fd;               //  spool (unlinked) or the local file
    uint64_t  size;
    EVP_MD_CTX *whole;          //  local file: SHA-256 of it all
    EVP_MD_CTX *part;           //  SHA-256 of each part_size slice, for UploadPart
    uint64_t  part_fill;
    uint8_t (*part_sha)[32];
    size_t    n_part_sha, cap_part_sha;
    char      sha256[65];
    char      key[S3KEY_MAX + 1];
    char     *url;              //  s3://bucket/key
    char      ctype[257];
    s3_plan_t plan;
    uint32_t  next_part;
    char    (*etags)[128];
    char      upload_id[512];
    char      stale[MAX_STALE][512];
    size_t    n_stale, i_stale;
    s3req_t  *req;              //  the request in flight
    bool      ok, permanent;
    char      error[768];
    s3_done_fn *done;
    void     *arg;
    s3_body_t *hash_next, *hash_prev;
};

//  ---- s3.c
//  The end: record the outcome and tell the owner (which may free b: nothing after).
void s3body_done(s3_body_t *b);
//  A failure: say so; a multipart upload in progress is aborted first.
void s3body_fail(s3_body_t *b, bool permanent, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
//  Hex of a digest into out (2 * len + 1 bytes).
void s3body_hex(const uint8_t *digest, size_t len, char *out);

//  ---- s3flow.c
//  Start the request of the body's current state. 0, or -1 with b->error set.
int s3flow_send(s3_body_t *b);
//  After the key is known: plan the upload and send its first request. 0, or -1 with a message.
int s3flow_begin(s3_body_t *b, char *err, size_t errlen);

#endif
