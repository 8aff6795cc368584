/*  upload — see upload.h. The file is hashed a slice per loop turn, named by
    its key template ({{sha256}}, {{filename}} of its path, ...), uploaded
    like a downloaded body, and deleted afterwards when upload_s3_delete
    says so. The result row gets body_url, bytes, SHA-256 and content type. */
#include "upload.h"

#include <stdlib.h>

typedef struct {
    executor_t *ex;
    run_t     *run;
    s3_body_t *body;
    char       error[512];
} upload_t;

static void
s_free(upload_t *u)
{
    s3_body_destroy(&u->body);
    free(u);
}

//  The upload ended: its result.
static void
s_on_stored(void *arg)
{
    upload_t *u = arg;
    s3_result_t res;
    s3_body_result(u->body, &res);
    Shoal__Result r = SHOAL__RESULT__INIT;
    Shoal__HttpResult hr = SHOAL__HTTP_RESULT__INIT;
    r.http = &hr;
    r.has_outcome = 1;
    r.outcome = res.ok ? SHOAL__OUTCOME__OUTCOME_OK : SHOAL__OUTCOME__OUTCOME_ERROR;
    r.has_permanent = r.permanent = !res.ok && res.permanent;
    r.error = res.ok ? NULL : (char *) res.error;
    hr.has_bytes = 1;
    hr.bytes = res.bytes;
    hr.sha256 = (char *) res.sha256;
    hr.body_url = res.ok ? (char *) res.url : NULL;
    hr.content_type = res.ok ? (char *) res.content_type : NULL;
    u->run->state = NULL;
    executor_finish(u->ex, u->run, &r);
    s_free(u);
}

void
upload_start(executor_t *ex, run_t *run, s3_t *s3)
{
    Shoal__Result r = SHOAL__RESULT__INIT;
    r.has_outcome = 1;
    r.outcome = SHOAL__OUTCOME__OUTCOME_ERROR;
    r.has_permanent = r.permanent = 1;
    r.error = "out of memory";
    const Shoal__HttpSpec *t = run->spec->http, *d = run->defaults ? run->defaults->http : NULL;
    upload_t *u = calloc(1, sizeof *u);
    if (u) {
        u->ex = ex;
        u->run = run;
        u->body = s3_body_new(s3, t, d, run->task_id, run->attempt, run->spec->tag, u->error, sizeof u->error);
        if (u->body && s3_body_store(u->body, NULL, NULL, NULL, s_on_stored, u, u->error, sizeof u->error) == 0) {
            run->state = u;
            return;
        }
        r.error = u->error;
    }
    executor_finish(ex, run, &r);
    if (u)
        s_free(u);
}

void
upload_cancel(run_t *run)
{
    upload_t *u = run->state;
    run->state = NULL;
    if (u)
        s_free(u);
}
