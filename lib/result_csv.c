/*  result_csv — see result_csv.h. */
#include "result_csv.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static void
s_field(FILE *out, const char *s, bool comma)
{
    if (s) {
        size_t len = strlen(s);
        if (strpbrk(s, ",\"\n\r")) {
            fputc('"', out);
            for (size_t i = 0; i < len; i++) {
                if (s[i] == '"')
                    fputc('"', out);
                fputc(s[i], out);
            }
            fputc('"', out);
        }
        else
            fwrite(s, 1, len, out);
    }
    if (comma)
        fputc(',', out);
}

void
result_csv_row(FILE *out, const Shoal__ResultRow *row, uint32_t job_id, bool with_body)
{
    const Shoal__Result *r = row->result;
    const Shoal__HttpResult *h = r ? r->http : NULL;
    const Shoal__ExecResult *x = r ? r->exec : NULL;
    fprintf(out, "%u,%u,", job_id, row->seq);
    s_field(out, row->outcome, true);
    fprintf(out, "%u,", row->attempt);
    s_field(out, row->target, true);
    s_field(out, row->tag, true);
    s_field(out, row->worker, true);
    s_field(out, r ? r->error : NULL, true);
    if (h && h->has_status) fprintf(out, "%u", h->status);
    fputc(',', out);
    if (h && h->has_bytes) fprintf(out, "%llu", (unsigned long long) h->bytes);
    fputc(',', out);
    s_field(out, h ? h->sha256 : NULL, true);
    s_field(out, h ? h->final_url : NULL, true);
    s_field(out, h ? h->body_path : NULL, true);
    if (h && h->has_total_us) fprintf(out, "%.3f", (double) h->total_us / 1000.0);
    fputc(',', out);
    if (x && x->has_exit_code) fprintf(out, "%d", x->exit_code);
    fputc(',', out);
    if (r && r->has_started_us) fprintf(out, "%lld", (long long) r->started_us);
    fputc(',', out);
    if (r && r->has_finished_us) fprintf(out, "%lld", (long long) r->finished_us);
    if (with_body) {
        fputc(',', out);
        if (h && h->has_body && h->body.len) {
            char *b64 = malloc(4 * ((h->body.len + 2) / 3) + 1);
            if (b64) {
                EVP_EncodeBlock((unsigned char *) b64, h->body.data, (int) h->body.len);
                fputs(b64, out);
                free(b64);
            }
        }
    }
    fputc('\n', out);
}

void
result_csv_item_row(FILE *out, const Shoal__ResultRow *row, uint32_t job_id)
{
    const Shoal__Result *r = row->result;
    fprintf(out, "%u,%u,", job_id, row->seq);
    s_field(out, row->outcome, true);
    fprintf(out, "%u,%u,", row->tasks, row->last_step);
    s_field(out, row->step_name, true);
    s_field(out, row->failed_step, true);
    s_field(out, r ? r->error : NULL, true);
    s_field(out, r ? r->vars : NULL, false);
    fputc('\n', out);
}
