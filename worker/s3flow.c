/*  s3flow — the requests of one body's upload, one at a time, and what
    each answer leads to (see s3.c for the steps). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "log.h"
#include "s3body.h"

// ------------------------------------------------------------------ requests

//  The URL of the object (or, with `bucket_only`, of its bucket), then `query`.
static char *
s_url(const s3_body_t *b, bool bucket_only, const char *query)
{
    const s3_t *s3 = b->s3;
    char enc[3 * S3KEY_MAX + 1];
    if (s3_encode_key(bucket_only ? "" : b->key, enc, sizeof enc))
        return NULL;
    size_t len = strlen(s3->endpoint) + strlen(b->bucket) + strlen(enc) + (query ? strlen(query) : 0) + 8;
    char *url = malloc(len);
    if (!url)
        return NULL;
    if (s3->path_style)
        snprintf(url, len, "%s/%s%s%s%s", s3->endpoint, b->bucket, bucket_only ? "" : "/", enc,
                 query ? query : "");
    else {
        const char *host = strstr(s3->endpoint, "://") + 3;
        snprintf(url, len, "%.*s%s.%s/%s%s", (int) (host - s3->endpoint), s3->endpoint, b->bucket, host, enc,
                 query ? query : "");
    }
    return url;
}

static const char *
s_part_sha(const s3_body_t *b, uint32_t part, char *hex)
{
    //  the spool's slices are the plan's parts unless the plan had to grow them
    if (b->plan.part_size != b->s3->part_size)
        return NULL;
    if (part - 1 < b->n_part_sha) {
        s3body_hex(b->part_sha[part - 1], 32, hex);
        return hex;
    }
    if (part == b->plan.parts && b->part_fill) {
        uint8_t d[32];
        unsigned len = 32;
        EVP_MD_CTX *copy = EVP_MD_CTX_new();
        if (!copy || EVP_MD_CTX_copy_ex(copy, b->part) != 1 || EVP_DigestFinal_ex(copy, d, &len) != 1) {
            EVP_MD_CTX_free(copy);
            return NULL;
        }
        EVP_MD_CTX_free(copy);
        s3body_hex(d, 32, hex);
        return hex;
    }
    return NULL;
}

//  The CompleteMultipartUpload document (owned by the caller), its SHA-256 into sha.
static char *
s_complete_xml(const s3_body_t *b, size_t *len_out, char *sha)
{
    size_t cap = 64 + (size_t) b->plan.parts * (64 + sizeof b->etags[0]);
    char *xml = malloc(cap);
    if (!xml)
        return NULL;
    size_t n = (size_t) snprintf(xml, cap, "<CompleteMultipartUpload>");
    for (uint32_t i = 0; i < b->plan.parts; i++)
        n += (size_t) snprintf(xml + n, cap - n, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>",
                               i + 1, b->etags[i]);
    n += (size_t) snprintf(xml + n, cap - n, "</CompleteMultipartUpload>");
    uint8_t d[32];
    unsigned dl = 32;
    EVP_Digest(xml, n, d, &dl, EVP_sha256(), NULL);
    s3body_hex(d, 32, sha);
    *len_out = n;
    return xml;
}

//  Start the request of the body's current state. 0, or -1 with b->error set.
int
s3flow_send(s3_body_t *b)
{
    char query[1600], enc_id[1540], hex[65];
    const char *what = "", *method = "GET", *sha = EMPTY_SHA256;
    bool bucket_only = false;
    query[0] = 0;
    switch (b->state) {
        case ST_LIST: {
            char enc_key[3 * S3KEY_MAX + 1];
            s3_encode_value(b->key, enc_key, sizeof enc_key);
            what = "ListMultipartUploads";
            bucket_only = true;
            snprintf(query, sizeof query, "?prefix=%.*s&uploads=", 1500, enc_key);
            break;
        }
        case ST_ABORT_STALE:
        case ST_ABORT:
            what = "AbortMultipartUpload";
            method = "DELETE";
            s3_encode_value(b->state == ST_ABORT ? b->upload_id : b->stale[b->i_stale], enc_id, sizeof enc_id);
            snprintf(query, sizeof query, "?uploadId=%s", enc_id);
            break;
        case ST_PUT:
            what = "PUT";
            method = "PUT";
            sha = b->sha256;
            break;
        case ST_CREATE:
            what = "CreateMultipartUpload";
            method = "POST";
            snprintf(query, sizeof query, "?uploads=");
            break;
        case ST_PART:
            what = "UploadPart";
            method = "PUT";
            sha = s_part_sha(b, b->next_part, hex);
            s3_encode_value(b->upload_id, enc_id, sizeof enc_id);
            snprintf(query, sizeof query, "?partNumber=%u&uploadId=%s", b->next_part, enc_id);
            break;
        case ST_COMPLETE:
            what = "CompleteMultipartUpload";
            method = "POST";
            s3_encode_value(b->upload_id, enc_id, sizeof enc_id);
            snprintf(query, sizeof query, "?uploadId=%s", enc_id);
            break;
        default:
            return 0;
    }
    char *xml = NULL;
    size_t xml_len = 0;
    if (b->state == ST_COMPLETE && !(xml = s_complete_xml(b, &xml_len, hex))) {
        snprintf(b->error, sizeof b->error, "S3 %s %s: out of memory", what, b->url);
        return -1;
    }
    if (b->state == ST_COMPLETE)
        sha = hex;
    char *url = s_url(b, bucket_only, query);
    s3req_t *r = url ? s3req_new(&b->s3->ctx, b, what, method, url, sha) : NULL;
    free(url);
    char ctype[300];
    snprintf(ctype, sizeof ctype, "Content-Type: %s", b->state == ST_COMPLETE ? "application/xml" : b->ctype);
    int rc = r ? 0 : -1;
    if (rc == 0 && (b->state == ST_PUT || b->state == ST_CREATE || b->state == ST_COMPLETE))
        rc = s3req_header(r, ctype);
    if (rc == 0 && b->state == ST_PUT)
        s3req_body_file(r, b->fd, 0, b->size);
    if (rc == 0 && b->state == ST_PART) {
        uint64_t off, len;
        s3_plan_part(&b->plan, b->size, b->next_part, &off, &len);
        s3req_body_file(r, b->fd, off, len);
    }
    if (rc == 0 && xml) {
        s3req_body_mem(r, xml, xml_len);
        xml = NULL;
    }
    if (rc == 0)
        rc = s3req_start(r);
    free(xml);
    if (rc) {
        s3req_destroy(&r);
        snprintf(b->error, sizeof b->error, "S3 %s %s: cannot start the request", what, b->url);
        return -1;
    }
    b->req = r;
    return 0;
}

//  Go on to the current state's request; a failure to start it ends the body.
static void
s_next(s3_body_t *b)
{
    if (s3flow_send(b) == 0)
        return;
    char why[sizeof b->error];
    memcpy(why, b->error, sizeof why);
    s3body_fail(b, false, "%s", why);
}

//  After the key is known: the first request.
int
s3flow_begin(s3_body_t *b, char *err, size_t errlen)
{
    if (s3_plan(b->size, b->s3->part_size, b->s3->multipart_above, &b->plan, err, errlen))
        return -1;
    if (b->plan.parts) {
        b->etags = calloc(b->plan.parts, sizeof *b->etags);
        if (!b->etags) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        b->next_part = 1;
    }
    b->state = !b->plan.parts ? ST_PUT : b->attempt > 1 ? ST_LIST : ST_CREATE;
    if (s3flow_send(b))
        return errbuf_set(err, errlen, "%s", b->error);
    return 0;
}

// ------------------------------------------------------------------ answers

//  Keys of the multipart uploads left on our key by an earlier attempt.
static void
s_read_stale(s3_body_t *b, const char *xml, size_t len)
{
    char key[S3KEY_MAX + 1], id[512], block[4096];
    size_t at = 0, next;
    b->n_stale = b->i_stale = 0;
    while (b->n_stale < MAX_STALE && (next = s3_xml_text(xml, len, at, "Upload", NULL, 0))) {
        //  the <Upload> element's own text, re-scanned for its leaves
        const char *start = strstr(xml + at, "<Upload>");
        size_t blen = start ? (size_t) (xml + next - start) : 0;
        if (blen >= sizeof block)
            blen = sizeof block - 1;
        memcpy(block, start ? start : "", blen);
        block[blen] = 0;
        at = next;
        if (!s3_xml_text(block, blen, 0, "Key", key, sizeof key) || strcmp(key, b->key)
        ||  !s3_xml_text(block, blen, 0, "UploadId", id, sizeof id) || !id[0])
            continue;
        snprintf(b->stale[b->n_stale++], sizeof b->stale[0], "%s", id);
    }
}

//  The request of the current state succeeded: the next step.
static void
s_advance(s3_body_t *b, const s3req_t *r)
{
    switch (b->state) {
        case ST_LIST:
            s_read_stale(b, r->answer, r->answer_len);
            if (b->n_stale)
                log_info("s3_abort_stale", "url=%s uploads=%zu", b->url, b->n_stale);
            b->state = b->n_stale ? ST_ABORT_STALE : ST_CREATE;
            break;
        case ST_ABORT_STALE:
            if (++b->i_stale >= b->n_stale)
                b->state = ST_CREATE;
            break;
        case ST_CREATE:
            if (!s3_xml_text(r->answer, r->answer_len, 0, "UploadId", b->upload_id, sizeof b->upload_id)
            ||  !b->upload_id[0]) {
                s3body_fail(b, false, "S3 CreateMultipartUpload %s: no UploadId in the answer", b->url);
                return;
            }
            b->state = ST_PART;
            break;
        case ST_PART:
            if (!r->etag[0]) {
                s3body_fail(b, false, "S3 UploadPart %u %s: no ETag in the answer", b->next_part, b->url);
                return;
            }
            snprintf(b->etags[b->next_part - 1], sizeof b->etags[0], "%s", r->etag);
            if (++b->next_part > b->plan.parts)
                b->state = ST_COMPLETE;
            break;
        case ST_PUT:
        case ST_COMPLETE:
            b->ok = true;
            b->upload_id[0] = 0;
            s3body_done(b);
            return;
        case ST_ABORT:
            s3body_done(b);      //  with the error that made us abort
            return;
        default:
            return;
    }
    s_next(b);
}

static bool
s_permanent_curl(CURLcode code)
{
    return code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_READ_ERROR
        || code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE
        || code == CURLE_SSL_CERTPROBLEM || code == CURLE_LOGIN_DENIED;
}

//  A request ended: on to the next step, or the failure classified.
static void
s_on_answer(s3_body_t *b, s3req_t *r, CURLcode code)
{
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    char s3code[128] = "", message[512] = "";
    if (r->answer) {
        s3_xml_text(r->answer, r->answer_len, 0, "Code", s3code, sizeof s3code);
        s3_xml_text(r->answer, r->answer_len, 0, "Message", message, sizeof message);
    }
    //  CompleteMultipartUpload can answer 200 with an <Error> inside
    bool error_in_200 = b->state == ST_COMPLETE && r->answer && strstr(r->answer, "<Error>");
    if (code == CURLE_OK && status >= 200 && status < 300 && !error_in_200) {
        s_advance(b, r);
        return;
    }
    if (b->state == ST_LIST) {
        //  no list (a policy without s3:ListBucketMultipartUploads): go on without the clean-up
        log_warn("s3_list_uploads_failed", "url=%s status=%ld code=%s", b->url, status, s3code[0] ? s3code : "-");
        b->state = ST_CREATE;
        s_next(b);
        return;
    }
    if (b->state == ST_ABORT_STALE) {
        //  an upload we could not abort does not stop ours (a lifecycle rule catches it)
        log_warn("s3_abort_stale_failed", "url=%s upload_id=%s status=%ld code=%s", b->url,
                 b->stale[b->i_stale], status, s3code[0] ? s3code : "-");
        s_advance(b, r);
        return;
    }
    if (b->state == ST_ABORT) {
        log_warn("s3_abort_failed", "url=%s upload_id=%s status=%ld code=%s", b->url, b->upload_id, status,
                 s3code[0] ? s3code : "-");
        s3body_done(b);
        return;
    }
    if (code != CURLE_OK) {
        s3body_fail(b, s_permanent_curl(code), "S3 %s %s: %s%s%s", r->what, b->url, curl_easy_strerror(code),
               r->errbuf[0] ? ": " : "", r->errbuf);
        return;
    }
    bool permanent = s3_classify(s3code, error_in_200 ? 500 : status) == S3_PERMANENT;
    s3body_fail(b, permanent, "S3 %s %s: HTTP %ld %s%s%s", r->what, b->url, status,
           s3code[0] ? s3code : "(no error code)", message[0] ? ": " : "", message);
}

bool
s3_on_done(s3_t *s3, CURL *easy, CURLcode code)
{
    s3req_t *r = s3 ? s3req_of(&s3->ctx, easy) : NULL;
    if (!r)
        return false;
    s3_body_t *b = r->owner;
    if (!b) {
        //  a background abort of an upload whose task went away
        long status = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        log_info("s3_aborted", "status=%ld curl=%d", status, (int) code);
        s3req_destroy(&r);
        return true;
    }
    b->req = NULL;
    s_on_answer(b, r, code);
    s3req_destroy(&r);
    return true;
}
