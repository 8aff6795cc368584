/*  http_s3 — store: s3 for the http executor: a finished download is handed
    to the S3 sink (s3.h), and the upload's outcome goes into the result. */
#include "http_xfer.h"

#include <stdio.h>
#include <string.h>

bool
http_s3_begin(xfer_t *x, CURLcode code, s3_done_fn *done, void *arg)
{
    x->s3_started = true;
    x->code = code;
    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    if (x->truncated && !x->local_error[0])
        snprintf(x->local_error, sizeof x->local_error, "response over max_response_bytes (%llu bytes):"
                 " not stored to S3", (unsigned long long) x->max_bytes);
    if (x->local_error[0] || code != CURLE_OK || status < 200 || status > 299) {
        s3_body_destroy(&x->s3);
        return false;
    }
    //  the hash so far is the whole body's: read it from a copy, the result finishes the original
    static const char hex[] = "0123456789abcdef";
    char sha[2 * EVP_MAX_MD_SIZE + 1] = "", *final_url = NULL;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    if (copy && EVP_MD_CTX_copy_ex(copy, x->sha) == 1 && EVP_DigestFinal_ex(copy, digest, &len) == 1)
        for (unsigned i = 0; i < len; i++) {
            sha[2 * i] = hex[digest[i] >> 4];
            sha[2 * i + 1] = hex[digest[i] & 15];
            sha[2 * i + 2] = 0;
        }
    EVP_MD_CTX_free(copy);
    curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &final_url);
    if (s3_body_store(x->s3, sha, x->kept[0], final_url, done, arg, x->local_error, sizeof x->local_error)) {
        s3_body_destroy(&x->s3);
        return false;
    }
    return true;
}

void
http_s3_result(xfer_t *x, Shoal__Result *r, char *error, size_t errlen)
{
    s3_result_t res;
    s3_body_result(x->s3, &res);
    if (res.ok) {
        r->http->body_url = (char *) res.url;
        r->http->content_type = (char *) res.content_type;
        return;
    }
    r->outcome = SHOAL__OUTCOME__OUTCOME_ERROR;
    r->has_permanent = r->permanent = res.permanent;
    snprintf(error, errlen, "%s", res.error);
}
