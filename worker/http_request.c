/*  http_request — the request of an http task: the task's fields over the
    job's defaults set on the easy handle, and the callbacks that stream
    the response (hash, inline copy, body file, kept headers). */
#include "http_xfer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "taskspec.h"
#include "text.h"

const char *const http_kept_headers[] = {
    "content-type", "content-length", "location", "retry-after", "etag", "last-modified", NULL
};

static size_t
s_on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    xfer_t *x = userp;
    size_t n = size * nmemb;
    if (x->bytes + n > x->max_bytes) {
        //  keep what fits, then cut the transfer (returning less aborts it)
        n = (size_t) (x->max_bytes - x->bytes);
        x->truncated = true;
    }
    if (n) {
        EVP_DigestUpdate(x->sha, data, n);
        if (x->keep_inline && x->inline_len < x->inline_limit) {
            size_t take = x->inline_limit - x->inline_len < n ? x->inline_limit - x->inline_len : n;
            if (x->inline_len + take > x->inline_cap) {
                size_t cap = x->inline_cap ? x->inline_cap : 4096;
                while (cap < x->inline_len + take)
                    cap *= 2;
                if (cap > x->inline_limit)
                    cap = x->inline_limit;
                uint8_t *grown = realloc(x->inline_buf, cap);
                if (!grown) {
                    snprintf(x->local_error, sizeof x->local_error, "out of memory for the body");
                    return 0;
                }
                x->inline_buf = grown;
                x->inline_cap = cap;
            }
            memcpy(x->inline_buf + x->inline_len, data, take);
            x->inline_len += take;
        }
        if (capture_body(&x->capture, data, n)) {
            snprintf(x->local_error, sizeof x->local_error, "out of memory for the body");
            return 0;
        }
        if (x->stored && fwrite(data, 1, n, x->stored) != n) {
            snprintf(x->local_error, sizeof x->local_error, "writing the body to %s: %s",
                     x->stored_tmp, strerror(errno));
            return 0;
        }
        if (x->s3 && s3_body_write(x->s3, data, n, x->local_error, sizeof x->local_error))
            return 0;
        x->bytes += n;
    }
    return x->truncated ? 0 : size * nmemb;
}

static size_t
s_on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    xfer_t *x = userp;
    size_t n = size * nmemb;
    capture_header(&x->capture, data, n);
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        //  a new response (after a redirect or a 100 Continue): forget the last one's
        for (int i = 0; i < N_KEPT; i++) {
            free(x->kept[i]);
            x->kept[i] = NULL;
        }
        x->header_bytes = n;
        x->headers_done = false;
        return n;
    }
    x->header_bytes += n;
    if (n <= 2 && (data[0] == '\r' || data[0] == '\n')) {
        x->headers_done = true;     //  the blank line: the body comes next
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon)
        return n;
    size_t name_len = (size_t) (colon - data);
    for (int i = 0; http_kept_headers[i]; i++) {
        if (strlen(http_kept_headers[i]) != name_len || strncasecmp(data, http_kept_headers[i], name_len))
            continue;
        const char *v = colon + 1;
        const char *end = data + n;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
            end--;
        free(x->kept[i]);
        x->kept[i] = text_sanitize(v, (size_t) (end - v), 8192);
    }
    return n;
}

//  The value of the task's field, else the job default's.
#define PICK(t, d, field) ((t)->field ? (t)->field : (d) ? (d)->field : NULL)
#define PICK_HAS(t, d, field, fallback) \
    ((t)->has_##field ? (t)->field : ((d) && (d)->has_##field) ? (d)->field : (fallback))

static bool
s_header_named(const Shoal__HttpSpec *h, const char *name)
{
    for (size_t i = 0; h && i < h->n_headers; i++)
        if (h->headers[i]->name && !strcasecmp(h->headers[i]->name, name))
            return true;
    return false;
}

static struct curl_slist *
s_add_header(struct curl_slist *list, const Shoal__Header *hd)
{
    char line[TASKSPEC_MAX_HEADER + 300];
    if (hd->value && *hd->value)
        snprintf(line, sizeof line, "%s: %s", hd->name, hd->value);
    else
        snprintf(line, sizeof line, "%s;", hd->name);   //  curl's syntax for an empty value
    struct curl_slist *grown = curl_slist_append(list, line);
    return grown ? grown : list;
}

//  The method and the body: inline bytes, a file streamed, or a form.
static int
s_prepare_body(xfer_t *x, const char *method, const ProtobufCBinaryData *body, const char *body_file,
               Shoal__FormField **form, size_t n_form)
{
    CURL *e = x->easy;
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else
    if (strcmp(method, "GET") && strcmp(method, "POST"))
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body->len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body->len ? (const char *) body->data : "");
    }
    else
    if (body_file) {
        x->upload = fopen(body_file, "rbe");
        struct stat st;
        if (!x->upload || fstat(fileno(x->upload), &st) != 0) {
            snprintf(x->local_error, sizeof x->local_error, "body_file %s: %s", body_file, strerror(errno));
            return -1;
        }
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_READDATA, x->upload);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) st.st_size);
        if (strcmp(method, "POST"))
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    else
    if (n_form) {
        x->mime = curl_mime_init(e);
        for (size_t i = 0; i < n_form; i++) {
            const Shoal__FormField *f = form[i];
            curl_mimepart *part = curl_mime_addpart(x->mime);
            curl_mime_name(part, f->name);
            if (f->file) {
                if (access(f->file, R_OK) != 0) {
                    snprintf(x->local_error, sizeof x->local_error, "form field %s: file %s: %s", f->name,
                             f->file, strerror(errno));
                    return -1;
                }
                curl_mime_filedata(part, f->file);
            }
            else
                curl_mime_data(part, f->value ? f->value : "", CURL_ZERO_TERMINATED);
            if (f->filename)
                curl_mime_filename(part, f->filename);
            if (f->content_type)
                curl_mime_type(part, f->content_type);
        }
        curl_easy_setopt(e, CURLOPT_MIMEPOST, x->mime);
        if (strcmp(method, "POST"))
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    return 0;
}

//  Where the response goes: its size limit, inline, a file in the body directory.
static int
s_prepare_store(xfer_t *x, const Shoal__HttpSpec *t, const Shoal__HttpSpec *d, http_body_dir_t *dir)
{
    x->max_bytes = PICK_HAS(t, d, max_response_bytes, DEFAULT_MAX_RESPONSE);
    x->store = t->has_store && t->store != SHOAL__BODY_STORE__STORE_DEFAULT ? t->store
             : d && d->has_store ? d->store : SHOAL__BODY_STORE__STORE_DEFAULT;
    x->inline_limit = PICK_HAS(t, d, inline_limit, DEFAULT_INLINE_LIMIT);
    x->keep_inline = (x->store == SHOAL__BODY_STORE__STORE_DEFAULT || x->store == SHOAL__BODY_STORE__STORE_INLINE)
                  && x->inline_limit > 0;
    if (x->store == SHOAL__BODY_STORE__STORE_DIR) {
        if (!dir->ready) {
            if (mkdir(dir->path, 0755) != 0 && errno != EEXIST) {
                snprintf(x->local_error, sizeof x->local_error, "body directory %s: %s", dir->path,
                         strerror(errno));
                return -1;
            }
            dir->ready = true;
        }
        size_t len = strlen(dir->path) + 64;
        x->stored_tmp = malloc(len);
        if (!x->stored_tmp)
            return -1;
        snprintf(x->stored_tmp, len, "%s/.part-%d-%llu", dir->path, (int) getpid(),
                 (unsigned long long) ++dir->serial);
        x->stored = fopen(x->stored_tmp, "wbe");
        if (!x->stored) {
            snprintf(x->local_error, sizeof x->local_error, "body directory %s: %s", dir->path,
                     strerror(errno));
            return -1;
        }
    }
    return 0;
}

int
http_request_prepare(xfer_t *x, const Shoal__HttpSpec *t, const Shoal__HttpSpec *d, uint32_t timeout_ms,
                     http_body_dir_t *dir)
{
    CURL *e = x->easy;
    bool task_body = t->has_body || t->body_file || t->n_form;
    const ProtobufCBinaryData *body = t->has_body ? &t->body
                                    : (!task_body && d && d->has_body) ? &d->body : NULL;
    const char *body_file = t->body_file ? t->body_file : (!task_body && d) ? d->body_file : NULL;
    Shoal__FormField **form = t->n_form ? t->form : (!task_body && d) ? d->form : NULL;
    size_t n_form = t->n_form ? t->n_form : (!task_body && d) ? d->n_form : 0;
    const char *method = PICK(t, d, method);
    if (!method)
        method = body || body_file || n_form ? "POST" : "GET";

    curl_easy_setopt(e, CURLOPT_URL, t->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long) PICK_HAS(t, d, connect_timeout_ms, DEFAULT_CONNECT_TIMEOUT));
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, (long) PICK_HAS(t, d, follow_redirects, true));
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long) PICK_HAS(t, d, max_redirects, DEFAULT_MAX_REDIRECTS));
    if (PICK_HAS(t, d, insecure, false)) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    const char *proxy = PICK(t, d, proxy);
    if (proxy)
        curl_easy_setopt(e, CURLOPT_PROXY, proxy);
    const char *cookies = PICK(t, d, cookies);
    if (cookies)
        curl_easy_setopt(e, CURLOPT_COOKIE, cookies);

    //  headers: the job's, then the task's (a task header replaces the job's of that name)
    for (size_t i = 0; d && i < d->n_headers; i++)
        if (!s_header_named(t, d->headers[i]->name))
            x->headers = s_add_header(x->headers, d->headers[i]);
    for (size_t i = 0; i < t->n_headers; i++)
        x->headers = s_add_header(x->headers, t->headers[i]);
    if (!s_header_named(t, "User-Agent") && !s_header_named(d, "User-Agent"))
        curl_easy_setopt(e, CURLOPT_USERAGENT, "shoal/" SHOAL_VERSION);
    if (x->headers)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);

    if (s_prepare_body(x, method, body, body_file, form, n_form) != 0)
        return -1;
    return s_prepare_store(x, t, d, dir);
}
