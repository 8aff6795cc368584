/*  s3 — see s3.h. One body goes through these steps, one request at a time:

        spool (download) | hash (local file)
          -> [attempt > 1: ListMultipartUploads of the key, AbortMultipartUpload each]
          -> PUT                                          (size <= multipart_above)
          -> CreateMultipartUpload -> UploadPart 1..n -> CompleteMultipartUpload
        a failure after CreateMultipartUpload -> AbortMultipartUpload -> done

    A worker killed during a multipart upload cannot abort it; the task's
    retry (attempt > 1, same deterministic key) aborts the uploads left on
    that key before it starts its own. */
#include "s3body.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "errbuf.h"
#include "log.h"
#include "text.h"
#include "s3key.h"
#include "s3proto.h"
#include "s3req.h"
#include "u64map.h"

#define HASH_SLICE      (4u << 20)      //  bytes of a local file hashed per loop turn

static void s_hash_soon(s3_t *s3);
static void s_on_hash_timer(void *arg, int64_t now_ms);

// ------------------------------------------------------------------ settings

s3_t *
s3_new(const s3_config_t *cfg, CURLM *multi, timers_t *timers, char *err, size_t errlen)
{
    const char *region = cfg->region ? cfg->region : getenv("AWS_REGION");
    if (!region || !*region)
        region = getenv("AWS_DEFAULT_REGION");
    if (!region || !*region)
        region = "us-east-1";
    if (strlen(region) > 64 || strpbrk(region, ": /")) {
        snprintf(err, errlen, "S3 region '%.64s' is not a region name", region);
        return NULL;
    }
    if (cfg->part_size < S3_MIN_PART_SIZE || cfg->part_size > S3_MAX_PART_SIZE) {
        snprintf(err, errlen, "--s3-part-size must be 5 MiB .. 5 GiB");
        return NULL;
    }
    if (cfg->multipart_above > S3_MAX_PUT_SIZE) {
        snprintf(err, errlen, "--s3-multipart-above must be at most 5 GiB (S3's limit on one PUT)");
        return NULL;
    }
    if (cfg->endpoint && strncmp(cfg->endpoint, "http://", 7) && strncmp(cfg->endpoint, "https://", 8)) {
        snprintf(err, errlen, "--s3-endpoint must start with http:// or https:// (got '%.60s')", cfg->endpoint);
        return NULL;
    }
    s3_t *s3 = calloc(1, sizeof *s3);
    if (!s3) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char aws[256];
    snprintf(aws, sizeof aws, "https://s3.%s.amazonaws.com", region);
    s3->endpoint = strdup(cfg->endpoint ? cfg->endpoint : aws);
    const char *tmp = getenv("TMPDIR");
    s3->spool_dir = strdup(cfg->spool_dir ? cfg->spool_dir : tmp && *tmp ? tmp : "/tmp");
    s3->ctx.reqs = u64map_new();
    if (!s3->endpoint || !s3->spool_dir || !s3->ctx.reqs) {
        s3_destroy(&s3);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    size_t n = strlen(s3->endpoint);
    while (n > 8 && s3->endpoint[n - 1] == '/')
        s3->endpoint[--n] = 0;
    s3->path_style = cfg->path_style;
    s3->part_size = cfg->part_size;
    s3->multipart_above = cfg->multipart_above;
    snprintf(s3->sigv4, sizeof s3->sigv4, "aws:amz:%s:s3", region);
    const char *key = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
    const char *token = getenv("AWS_SESSION_TOKEN");
    if (key && *key && secret && *secret) {
        size_t len = strlen(key) + strlen(secret) + 2;
        if ((s3->userpwd = malloc(len)))
            snprintf(s3->userpwd, len, "%s:%s", key, secret);
        if (token && *token)
            s3->token = strdup(token);
    }
    s3->ctx.multi = multi;
    s3->timers = timers;
    s3->ctx.sigv4 = s3->sigv4;
    s3->ctx.userpwd = s3->userpwd;
    s3->ctx.token = s3->token;
    log_info("s3_ready", "endpoint=%s path_style=%d region=%s credentials=%s part_size=%llu multipart_above=%llu",
             s3->endpoint, (int) s3->path_style, region, s3->userpwd ? "env" : "none",
             (unsigned long long) s3->part_size, (unsigned long long) s3->multipart_above);
    return s3;
}

void
s3_destroy(s3_t **s3_p)
{
    s3_t *s3 = *s3_p;
    if (!s3)
        return;
    if (s3->ctx.reqs) {
        size_t cursor = 0;
        s3req_t *r;
        while ((r = u64map_next(s3->ctx.reqs, &cursor, NULL))) {
            //  only background aborts can be left; the map shrinks under us
            s3req_destroy(&r);
            cursor = 0;
        }
        u64map_destroy(&s3->ctx.reqs);
    }
    timers_cancel(s3->timers, s3->hash_timer);
    free(s3->endpoint);
    free(s3->spool_dir);
    free(s3->userpwd);
    free(s3->token);
    free(s3);
    *s3_p = NULL;
}

// ------------------------------------------------------------------ bodies

static char *
s_dup(const char *task, const char *job)
{
    const char *v = task ? task : job;
    return v ? strdup(v) : NULL;
}

//  An unlinked temporary file: gone by itself when closed, even if the worker is killed.
static int
s_spool_open(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != ENOENT))
        return fd;
    char path[4200];
    snprintf(path, sizeof path, "%s/shoal-s3-XXXXXX", dir);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    return fd;
}

s3_body_t *
s3_body_new(s3_t *s3, const Shoal__HttpSpec *t, const Shoal__HttpSpec *d, uint64_t task_id,
            uint32_t attempt, const char *tag, char *err, size_t errlen)
{
    if (!s3) {
        snprintf(err, errlen, "this worker has no S3 storage (start it with --s3-endpoint or AWS settings)");
        return NULL;
    }
    s3_body_t *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->s3 = s3;
    b->fd = -1;
    b->task_id = task_id;
    b->attempt = attempt;
    b->bucket = s_dup(t->s3_bucket, d ? d->s3_bucket : NULL);
    b->key_tmpl = s_dup(t->s3_key, d ? d->s3_key : NULL);
    b->ctype_set = s_dup(t->s3_content_type, d ? d->s3_content_type : NULL);
    b->tag = tag ? strdup(tag) : NULL;
    b->file = t->upload_s3 ? strdup(t->upload_s3) : NULL;
    b->delete_file = t->has_upload_s3_delete && t->upload_s3_delete;
    b->part = EVP_MD_CTX_new();
    if (!b->part || EVP_DigestInit_ex(b->part, EVP_sha256(), NULL) != 1) {
        snprintf(err, errlen, "out of memory");
        s3_body_destroy(&b);
        return NULL;
    }
    if (!b->bucket) {
        snprintf(err, errlen, "s3_bucket: missing (in the task or the job's defaults)");
        s3_body_destroy(&b);
        return NULL;
    }
    if (!s3->userpwd) {
        snprintf(err, errlen, "no S3 credentials: the worker's environment has no AWS_ACCESS_KEY_ID and"
                 " AWS_SECRET_ACCESS_KEY");
        s3_body_destroy(&b);
        return NULL;
    }
    if (b->file) {
        struct stat st;
        b->fd = open(b->file, O_RDONLY | O_CLOEXEC);
        if (b->fd < 0 || fstat(b->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            snprintf(err, errlen, "upload_s3 %s: %s", b->file, b->fd < 0 ? strerror(errno) : "not a regular file");
            s3_body_destroy(&b);
            return NULL;
        }
        b->size = (uint64_t) st.st_size;
        b->state = ST_HASH;
        if (!(b->whole = EVP_MD_CTX_new()) || EVP_DigestInit_ex(b->whole, EVP_sha256(), NULL) != 1) {
            snprintf(err, errlen, "out of memory");
            s3_body_destroy(&b);
            return NULL;
        }
    }
    else {
        b->fd = s_spool_open(s3->spool_dir);
        if (b->fd < 0) {
            snprintf(err, errlen, "S3 spool file in %s: %s", s3->spool_dir, strerror(errno));
            s3_body_destroy(&b);
            return NULL;
        }
        b->state = ST_SPOOL;
    }
    return b;
}

//  Hash bytes into the per-part digests (parts of the configured size).
static int
s_hash_parts(s3_body_t *b, const uint8_t *p, size_t n)
{
    while (n) {
        uint64_t room = b->s3->part_size - b->part_fill;
        size_t take = n < room ? n : (size_t) room;
        EVP_DigestUpdate(b->part, p, take);
        b->part_fill += take;
        p += take;
        n -= take;
        if (b->part_fill == b->s3->part_size) {
            if (b->n_part_sha == b->cap_part_sha) {
                size_t cap = b->cap_part_sha ? b->cap_part_sha * 2 : 16;
                void *grown = realloc(b->part_sha, cap * sizeof *b->part_sha);
                if (!grown)
                    return -1;
                b->part_sha = grown;
                b->cap_part_sha = cap;
            }
            unsigned len = 32;
            EVP_DigestFinal_ex(b->part, b->part_sha[b->n_part_sha++], &len);
            EVP_DigestInit_ex(b->part, EVP_sha256(), NULL);
            b->part_fill = 0;
        }
    }
    return 0;
}

int
s3_body_write(s3_body_t *b, const void *data, size_t n, char *err, size_t errlen)
{
    const char *p = data;
    size_t left = n;
    while (left) {
        ssize_t w = write(b->fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "writing the S3 spool file in %s: %s", b->s3->spool_dir,
                     w < 0 ? strerror(errno) : "no space");
            return -1;
        }
        p += w;
        left -= (size_t) w;
    }
    b->size += n;
    if (s_hash_parts(b, data, n)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void
s3body_hex(const uint8_t *digest, size_t len, char *out)
{
    text_hex(digest, len, out);
}

static void
s_hash_list_remove(s3_body_t *b)
{
    if (b->state != ST_HASH)
        return;
    if (b->hash_prev)
        b->hash_prev->hash_next = b->hash_next;
    else
    if (b->s3->hashing == b)
        b->s3->hashing = b->hash_next;
    if (b->hash_next)
        b->hash_next->hash_prev = b->hash_prev;
    b->hash_next = b->hash_prev = NULL;
}

//  The end: record the outcome and tell the owner (which may free b: nothing after).
void
s3body_done(s3_body_t *b)
{
    s_hash_list_remove(b);
    b->state = ST_DONE;
    if (b->ok && b->file && b->delete_file && unlink(b->file) != 0)
        log_warn("s3_delete_failed", "file=%s error=\"%s\"", b->file, strerror(errno));
    if (!b->ok)
        log_info("s3_failed", "task=%u/%u attempt=%u permanent=%d error=\"%s\"", (uint32_t) (b->task_id >> 32),
                 (uint32_t) b->task_id, b->attempt, (int) b->permanent, b->error);
    s3_done_fn *done = b->done;
    b->done = NULL;
    if (done)
        done(b->arg);
}

//  A failure: say so; a multipart upload in progress is aborted first.
void
s3body_fail(s3_body_t *b, bool permanent, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(b->error, sizeof b->error, fmt, args);
    va_end(args);
    b->ok = false;
    b->permanent = permanent;
    if (b->upload_id[0] && (b->state == ST_PART || b->state == ST_COMPLETE)) {
        b->state = ST_ABORT;
        char keep[sizeof b->error];
        memcpy(keep, b->error, sizeof keep);
        int rc = s3flow_send(b);
        memcpy(b->error, keep, sizeof keep);
        if (rc == 0)
            return;
    }
    s3body_done(b);
}

//  Name the object: the key from its template, the content type.
static int
s_name(s3_body_t *b, const char *url, const char *response_type, char *err, size_t errlen)
{
    char filename[256];
    s3key_filename(b->file ? b->file : url, filename, sizeof filename);
    s3key_vars_t vars = { b->sha256, (uint32_t) (b->task_id >> 32), (uint32_t) b->task_id, filename, b->tag };
    if (s3key_render(b->key_tmpl, &vars, b->key, sizeof b->key, err, errlen))
        return -1;
    const char *ct = b->ctype_set ? b->ctype_set : response_type && *response_type ? response_type
                   : "application/octet-stream";
    snprintf(b->ctype, sizeof b->ctype, "%s", ct);
    for (char *p = b->ctype; *p; p++)
        if ((unsigned char) *p < 0x20)
            *p = ' ';
    size_t len = strlen(b->bucket) + strlen(b->key) + 8;
    if (!(b->url = malloc(len)))
        return errbuf_set(err, errlen, "out of memory");
    snprintf(b->url, len, "s3://%s/%s", b->bucket, b->key);
    return 0;
}

int
s3_body_store(s3_body_t *b, const char *sha256, const char *response_type, const char *url,
              s3_done_fn *done, void *arg, char *err, size_t errlen)
{
    b->done = done;
    b->arg = arg;
    if (b->state == ST_HASH) {
        //  a local file: hashed a slice per loop turn (s_on_hash_timer), then named and sent
        b->hash_next = b->s3->hashing;
        if (b->hash_next)
            b->hash_next->hash_prev = b;
        b->s3->hashing = b;
        s_hash_soon(b->s3);
        return 0;
    }
    snprintf(b->sha256, sizeof b->sha256, "%s", sha256 ? sha256 : "");
    if (strlen(b->sha256) != 64)
        return errbuf_set(err, errlen, "S3: no SHA-256 of the body");
    if (s_name(b, url, response_type, err, errlen) || s3flow_begin(b, err, errlen))
        return -1;
    return 0;
}

// ------------------------------------------------------------------ local files

//  While files wait to be hashed, a slice each runs at the next loop turn
//  (1 ms ahead: a timer for now would run again in the same timers_fire,
//  and the loop would see nothing else until the files are read).
static void
s_hash_soon(s3_t *s3)
{
    if (s3->hashing && !s3->hash_timer)
        s3->hash_timer = timers_add(s3->timers, clock_mono_ms() + 1, s_on_hash_timer, s3);
}

//  Hash the next slice of a local file; when it is all read, name it and send it.
static void
s_hash_slice(s3_body_t *b)
{
    static uint8_t buf[256 << 10];
    size_t budget = HASH_SLICE;
    uint64_t done_bytes = b->n_part_sha * b->s3->part_size + b->part_fill;
    while (budget && done_bytes < b->size) {
        size_t want = sizeof buf < budget ? sizeof buf : budget;
        ssize_t got = pread(b->fd, buf, want, (off_t) done_bytes);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            s3body_fail(b, false, "upload_s3 %s: %s", b->file, got < 0 ? strerror(errno) : "shorter than it was");
            return;
        }
        EVP_DigestUpdate(b->whole, buf, (size_t) got);
        if (s_hash_parts(b, buf, (size_t) got)) {
            s3body_fail(b, false, "upload_s3 %s: out of memory", b->file);
            return;
        }
        done_bytes += (uint64_t) got;
        budget -= (size_t) got;
    }
    if (done_bytes < b->size)
        return;
    uint8_t d[32];
    unsigned len = 32;
    EVP_DigestFinal_ex(b->whole, d, &len);
    s3body_hex(d, 32, b->sha256);
    s_hash_list_remove(b);
    b->state = ST_SPOOL;
    char err[512];
    if (s_name(b, NULL, NULL, err, sizeof err) || s3flow_begin(b, err, sizeof err))
        s3body_fail(b, true, "%s", err);
}

static void
s_on_hash_timer(void *arg, int64_t now_ms)
{
    s3_t *s3 = arg;
    s3->hash_timer = 0;
    s3_body_t *b = s3->hashing;
    while (b) {
        s3_body_t *next = b->hash_next;     //  b may end (and be freed) in its slice
        s_hash_slice(b);
        b = next;
    }
    s_hash_soon(s3);
}

// ------------------------------------------------------------------ the owner's side

void
s3_body_result(const s3_body_t *b, s3_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->ok = b->ok;
    out->permanent = b->permanent;
    out->error = b->ok ? NULL : b->error[0] ? b->error : "S3 upload did not finish";
    out->url = b->url;
    out->content_type = b->ctype[0] ? b->ctype : NULL;
    out->sha256 = b->sha256[0] ? b->sha256 : NULL;
    out->bytes = b->size;
}

void
s3_body_destroy(s3_body_t **b_p)
{
    s3_body_t *b = *b_p;
    if (!b)
        return;
    s_hash_list_remove(b);
    s3req_destroy(&b->req);
    if (b->upload_id[0] && b->state != ST_DONE) {
        //  cancelled mid-upload: abort it at S3 in the background, so no parts stay billed
        b->state = ST_ABORT;
        b->done = NULL;
        if (s3flow_send(b) == 0) {
            b->req->owner = NULL;
            b->req = NULL;
        }
    }
    if (b->fd >= 0)
        close(b->fd);
    EVP_MD_CTX_free(b->whole);
    EVP_MD_CTX_free(b->part);
    free(b->part_sha);
    free(b->etags);
    free(b->bucket);
    free(b->key_tmpl);
    free(b->ctype_set);
    free(b->tag);
    free(b->file);
    free(b->url);
    free(b);
    *b_p = NULL;
}
