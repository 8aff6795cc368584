/*  s3 — bodies into S3-compatible storage, on the worker's curl multi handle.

    A response for `store: s3` is spooled to an unlinked temporary file while
    it downloads (so memory stays bounded and a killed worker leaves nothing
    behind), then uploaded: one PUT up to --s3-multipart-above bytes, else a
    multipart upload in --s3-part-size parts, aborted at S3 when it fails or
    the task is cancelled. `upload_s3` tasks upload a local file the same way.
    Every request is signed by libcurl (CURLOPT_AWS_SIGV4) with the worker's
    own credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    AWS_SESSION_TOKEN); nothing of them comes from a task.

    Nothing here blocks the loop: requests are easy handles on the same
    multi, and a local file is hashed a slice per loop turn. */
#ifndef SHOAL_WORKER_S3_H
#define SHOAL_WORKER_S3_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "shoal.pb-c.h"
#include "timers.h"

typedef struct _s3_t s3_t;
typedef struct _s3_body_t s3_body_t;

//  The worker's S3 settings (flags and environment).
typedef struct _s3_config_t {
    const char *endpoint;       //  --s3-endpoint; NULL: https://s3.REGION.amazonaws.com
    bool        path_style;     //  http://host/bucket/key instead of http://bucket.host/key
    const char *region;         //  NULL: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1
    const char *spool_dir;      //  temporary files; NULL: $TMPDIR, else /tmp
    uint64_t    part_size;      //  multipart part size (>= 5 MiB)
    uint64_t    multipart_above;//  bodies larger than this go up in parts
} s3_config_t;

//  What became of a body, once its done callback ran (strings owned by the body).
typedef struct {
    bool        ok;
    bool        permanent;      //  a failure retrying will not fix
    const char *error;          //  "S3 PUT s3://b/k: HTTP 403 InvalidAccessKeyId: ..."
    const char *url;            //  s3://bucket/key (set once the key is known)
    const char *content_type;
    const char *sha256;         //  of the stored bytes (upload_s3: computed here)
    uint64_t    bytes;
} s3_result_t;

typedef void (s3_done_fn)(void *arg);

//  Settings and credentials for the uploads on `multi`; local files are
//  hashed from `timers`. Credentials are read from the environment now.
//  NULL with a message in err on bad settings.
s3_t *s3_new(const s3_config_t *cfg, CURLM *multi, timers_t *timers, char *err, size_t errlen);
//  Destroy (bodies must be gone); pending background aborts are dropped.
void s3_destroy(s3_t **s3_p);

//  A body to store, with the task's S3 settings over the job's (`d` may be
//  NULL). For upload_s3 the local file is opened now; otherwise a spool file
//  is made for s3_body_write. NULL with a message in err.
s3_body_t *s3_body_new(s3_t *s3, const Shoal__HttpSpec *t, const Shoal__HttpSpec *d, uint64_t task_id,
                       uint32_t attempt, const char *tag, char *err, size_t errlen);
//  Append downloaded bytes to the spool. 0, or -1 with a message in err.
int s3_body_write(s3_body_t *b, const void *data, size_t n, char *err, size_t errlen);
//  Store the body: `sha256` (hex) and `response_type` (its Content-Type, may
//  be NULL) of what was downloaded (both NULL for upload_s3), `url` for
//  {{filename}}. `done(arg)` runs exactly once, later, from s3_on_done or
//  a timer, never from here. 0, or -1 with a message in err (a permanent failure).
int s3_body_store(s3_body_t *b, const char *sha256, const char *response_type, const char *url,
                  s3_done_fn *done, void *arg, char *err, size_t errlen);
//  The outcome, after done ran.
void s3_body_result(const s3_body_t *b, s3_result_t *out);
//  Free a body; an upload still running is cancelled (a multipart one is
//  aborted at S3 in the background). NULLs the caller's pointer.
void s3_body_destroy(s3_body_t **b_p);

//  A transfer on the multi finished: true if it was one of ours (handled).
bool s3_on_done(s3_t *s3, CURL *easy, CURLcode code);

#endif
