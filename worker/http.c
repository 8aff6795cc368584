/*  http — the HTTP executor: many transfers at once on one libcurl multi
    handle, driven by the worker's own event loop through curl's socket and
    timer callbacks (no thread per request). Connections are kept alive and
    reused per host by the multi handle's connection cache.

    A response is streamed: hashed with SHA-256 as it arrives, kept in the
    result row up to the inline limit, or written to the body directory
    (named by its hash), or discarded. Past max_response_bytes the transfer
    is cut and marked truncated, so the worker's memory stays bounded
    whatever a server sends. */
#include "executor.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "taskspec.h"
#include "text.h"

#define DEFAULT_INLINE_LIMIT      (16u * 1024)
#define DEFAULT_MAX_RESPONSE      (100ULL << 20)
#define DEFAULT_CONNECT_TIMEOUT   10000
#define DEFAULT_MAX_REDIRECTS     10

//  Response headers kept in the result, by lower-case name.
static const char *const s_kept_headers[] = {
    "content-type", "content-length", "location", "retry-after", "etag", "last-modified", NULL
};
#define N_KEPT 6

typedef struct {
    executor_t base;
    CURLM   *multi;
    int      epfd;              //  epoll set of the sockets curl wants watched
    size_t   n_socks;           //  sockets in it
    uint64_t timer;             //  curl's timeout (a worker timer), 0 = none
    char    *body_dir;
    bool     body_dir_ready;
    uint64_t serial;            //  temp file names
    CURL   **idle;              //  easy handles to reuse (reset), a stack
    size_t   n_idle, max_idle;
} http_t;

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
    char     local_error[256];  //  failures of our own (disk, file)
    char     errbuf[CURL_ERROR_SIZE];
} xfer_t;

// ------------------------------------------------------------------ sockets and timer

//  curl tells us which sockets to watch; they live in one epoll set, so
//  the loop polls two descriptors whatever the number of transfers.
static int
s_on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    http_t *h = userp;
    if (what == CURL_POLL_REMOVE) {
        if (socketp) {
            epoll_ctl(h->epfd, EPOLL_CTL_DEL, fd, NULL);
            curl_multi_assign(h->multi, fd, NULL);
            h->n_socks--;
        }
        return 0;
    }
    struct epoll_event ev = { 0 };
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
    ev.data.fd = fd;
    if (socketp)
        return epoll_ctl(h->epfd, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : -1;
    if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        return -1;
    //  any non-NULL pointer marks the socket as known
    curl_multi_assign(h->multi, fd, h);
    h->n_socks++;
    return 0;
}

static void s_check_done(http_t *h);

//  curl's timer is due: let it act on timeouts, finish what is done.
static void
s_on_curl_timer(void *arg, int64_t now_ms)
{
    http_t *h = arg;
    h->timer = 0;
    int running = 0;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    s_check_done(h);
}

static int
s_on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    http_t *h = userp;
    timers_cancel(h->base.host->timers, h->timer);
    h->timer = 0;
    if (timeout_ms >= 0) {
        h->timer = timers_add(h->base.host->timers, clock_mono_ms() + timeout_ms, s_on_curl_timer, h);
        if (!h->timer)
            return -1;
    }
    return 0;
}

static void
s_destroy(executor_t *base)
{
    http_t *h = (http_t *) base;
    for (size_t i = 0; i < h->n_idle; i++)
        curl_easy_cleanup(h->idle[i]);
    free(h->idle);
    if (h->multi)
        curl_multi_cleanup(h->multi);
    timers_cancel(h->base.host->timers, h->timer);
    if (h->epfd >= 0)
        close(h->epfd);
    free(h->body_dir);
    free(h);
}

static const executor_ops_t s_ops;

executor_t *
http_executor_new(const executor_host_t *host, const char *body_dir, size_t slots)
{
    http_t *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->base = (executor_t) { &s_ops, host };
    h->multi = curl_multi_init();
    h->body_dir = strdup(body_dir ? body_dir : "shoal-bodies");
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!h->multi || !h->body_dir || h->epfd < 0) {
        s_destroy(&h->base);
        return NULL;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, s_on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, s_on_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    //  keep connections to reuse: about two per slot
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long) (slots * 2 > 16 ? slots * 2 : 16));
    h->max_idle = slots;
    h->idle = calloc(slots ? slots : 1, sizeof *h->idle);
    if (!h->idle) {
        s_destroy(&h->base);
        return NULL;
    }
    return &h->base;
}

// ------------------------------------------------------------------ transfer state

static void
s_xfer_free(http_t *h, xfer_t *x)
{
    if (x->easy) {
        curl_multi_remove_handle(h->multi, x->easy);
        //  kept for the next task: its buffers and settings' memory are reused
        if (h->n_idle < h->max_idle) {
            curl_easy_reset(x->easy);
            h->idle[h->n_idle++] = x->easy;
        }
        else
            curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->headers);
    curl_mime_free(x->mime);
    if (x->upload)
        fclose(x->upload);
    if (x->stored)
        fclose(x->stored);
    if (x->stored_tmp) {
        unlink(x->stored_tmp);      //  a no-op after the rename
        free(x->stored_tmp);
    }
    if (x->sha)
        EVP_MD_CTX_free(x->sha);
    free(x->inline_buf);
    for (int i = 0; i < N_KEPT; i++)
        free(x->kept[i]);
    free(x);
}

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
        if (x->stored && fwrite(data, 1, n, x->stored) != n) {
            snprintf(x->local_error, sizeof x->local_error, "writing the body to %s: %s",
                     x->stored_tmp, strerror(errno));
            return 0;
        }
        x->bytes += n;
    }
    return x->truncated ? 0 : size * nmemb;
}

static size_t
s_on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    xfer_t *x = userp;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        //  a new response (after a redirect or a 100 Continue): forget the last one's
        for (int i = 0; i < N_KEPT; i++) {
            free(x->kept[i]);
            x->kept[i] = NULL;
        }
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon)
        return n;
    size_t name_len = (size_t) (colon - data);
    for (int i = 0; s_kept_headers[i]; i++) {
        if (strlen(s_kept_headers[i]) != name_len || strncasecmp(data, s_kept_headers[i], name_len))
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

// ------------------------------------------------------------------ the request

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

//  Set up the easy handle from the task spec over the job's defaults.
//  Returns 0, or -1 with a message in x->local_error (a permanent failure).
static int
s_prepare(http_t *h, xfer_t *x, const Shoal__HttpSpec *t, const Shoal__HttpSpec *d, uint32_t timeout_ms)
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

    //  the method and the body
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

    //  where the response goes
    x->max_bytes = PICK_HAS(t, d, max_response_bytes, DEFAULT_MAX_RESPONSE);
    x->store = t->has_store && t->store != SHOAL__BODY_STORE__STORE_DEFAULT ? t->store
             : d && d->has_store ? d->store : SHOAL__BODY_STORE__STORE_DEFAULT;
    x->inline_limit = PICK_HAS(t, d, inline_limit, DEFAULT_INLINE_LIMIT);
    x->keep_inline = (x->store == SHOAL__BODY_STORE__STORE_DEFAULT || x->store == SHOAL__BODY_STORE__STORE_INLINE)
                  && x->inline_limit > 0;
    if (x->store == SHOAL__BODY_STORE__STORE_DIR) {
        if (!h->body_dir_ready) {
            if (mkdir(h->body_dir, 0755) != 0 && errno != EEXIST) {
                snprintf(x->local_error, sizeof x->local_error, "body directory %s: %s", h->body_dir,
                         strerror(errno));
                return -1;
            }
            h->body_dir_ready = true;
        }
        size_t len = strlen(h->body_dir) + 64;
        x->stored_tmp = malloc(len);
        if (!x->stored_tmp)
            return -1;
        snprintf(x->stored_tmp, len, "%s/.part-%d-%llu", h->body_dir, (int) getpid(),
                 (unsigned long long) ++h->serial);
        x->stored = fopen(x->stored_tmp, "wbe");
        if (!x->stored) {
            snprintf(x->local_error, sizeof x->local_error, "body directory %s: %s", h->body_dir,
                     strerror(errno));
            return -1;
        }
    }
    return 0;
}

static void
s_start(executor_t *self, run_t *run)
{
    http_t *h = (http_t *) self;
    xfer_t *x = calloc(1, sizeof *x);
    Shoal__Result r = SHOAL__RESULT__INIT;
    r.has_outcome = 1;
    if (x)
        x->easy = h->n_idle ? h->idle[--h->n_idle] : curl_easy_init();
    if (!x || !x->easy || !(x->sha = EVP_MD_CTX_new())) {
        if (x)
            s_xfer_free(h, x);
        r.outcome = SHOAL__OUTCOME__OUTCOME_ERROR;
        r.error = "out of memory";
        executor_finish(self, run, &r);
        return;
    }
    x->run = run;
    EVP_DigestInit_ex(x->sha, EVP_sha256(), NULL);
    const Shoal__HttpSpec *defaults = run->defaults ? run->defaults->http : NULL;
    if (s_prepare(h, x, run->spec->http, defaults, run->timeout_ms) != 0
    ||  curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
        r.outcome = SHOAL__OUTCOME__OUTCOME_ERROR;
        r.has_permanent = r.permanent = 1;
        r.error = x->local_error[0] ? x->local_error : "cannot start the transfer";
        executor_finish(self, run, &r);
        s_xfer_free(h, x);
        return;
    }
    run->state = x;
}

static void
s_cancel(executor_t *self, run_t *run)
{
    xfer_t *x = run->state;
    run->state = NULL;
    if (x)
        s_xfer_free((http_t *) self, x);
}

// ------------------------------------------------------------------ completion

static void
s_hex(const unsigned char *digest, unsigned len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < len; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[2 * len] = 0;
}

//  Retry-After: delta-seconds or an HTTP date.
static uint32_t
s_retry_after_ms(const char *value)
{
    if (!value || !*value)
        return 0;
    char *end;
    long secs = strtol(value, &end, 10);
    if (end != value && *end == 0)
        return secs <= 0 ? 0 : secs > 86400 ? 86400000u : (uint32_t) secs * 1000u;
    time_t when = curl_getdate(value, NULL);
    if (when <= 0)
        return 0;
    int64_t ms = ((int64_t) when * 1000) - clock_wall_us() / 1000;
    return ms <= 0 ? 0 : ms > 86400000 ? 86400000u : (uint32_t) ms;
}

//  Errors retrying will not fix.
static bool
s_permanent(CURLcode code)
{
    switch (code) {
        case CURLE_TOO_MANY_REDIRECTS:
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_READ_ERROR:
        case CURLE_FILE_COULDNT_READ_FILE:
        case CURLE_BAD_CONTENT_ENCODING:
            return true;
        default:
            return false;
    }
}

static void
s_finish(http_t *h, xfer_t *x, CURLcode code)
{
    run_t *run = x->run;
    Shoal__Result r = SHOAL__RESULT__INIT;
    Shoal__HttpResult hr = SHOAL__HTTP_RESULT__INIT;
    Shoal__Header headers[N_KEPT];
    Shoal__Header *header_ptrs[N_KEPT];
    char sha_hex[2 * EVP_MAX_MD_SIZE + 1] = "";
    char error[CURL_ERROR_SIZE + 300] = "";
    char *body_path = NULL;
    r.has_outcome = 1;
    r.http = &hr;

    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status > 0) {
        hr.has_status = 1;
        hr.status = (uint32_t) status;
    }
    char *final_url = NULL;
    curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &final_url);
    char *clean_url = final_url ? text_sanitize(final_url, strlen(final_url), 65536) : NULL;
    hr.final_url = clean_url;
    long redirects = 0;
    curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_COUNT, &redirects);
    hr.has_redirects = 1;
    hr.redirects = (uint32_t) redirects;
    hr.has_curl_code = 1;
    hr.curl_code = (int32_t) code;
    //  timings, microseconds from the start of the request
    curl_off_t t;
    if (curl_easy_getinfo(x->easy, CURLINFO_NAMELOOKUP_TIME_T, &t) == CURLE_OK) { hr.has_dns_us = 1; hr.dns_us = (uint64_t) t; }
    if (curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &t) == CURLE_OK) { hr.has_connect_us = 1; hr.connect_us = (uint64_t) t; }
    if (curl_easy_getinfo(x->easy, CURLINFO_APPCONNECT_TIME_T, &t) == CURLE_OK && t > 0) { hr.has_tls_us = 1; hr.tls_us = (uint64_t) t; }
    if (curl_easy_getinfo(x->easy, CURLINFO_STARTTRANSFER_TIME_T, &t) == CURLE_OK) { hr.has_ttfb_us = 1; hr.ttfb_us = (uint64_t) t; }
    if (curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &t) == CURLE_OK) { hr.has_total_us = 1; hr.total_us = (uint64_t) t; }

    //  the body
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned digest_len = 0;
    EVP_DigestFinal_ex(x->sha, digest, &digest_len);
    s_hex(digest, digest_len, sha_hex);
    hr.sha256 = sha_hex;
    hr.has_bytes = 1;
    hr.bytes = x->bytes;
    hr.has_truncated = 1;
    hr.truncated = x->truncated;
    //  default: the body in the row if it fits whole; inline: its first bytes
    if (x->keep_inline && (x->store == SHOAL__BODY_STORE__STORE_INLINE || x->bytes <= x->inline_limit)) {
        hr.has_body = 1;
        hr.body.data = x->inline_buf ? x->inline_buf : (uint8_t *) "";
        hr.body.len = x->inline_len;
    }
    if (x->stored) {
        bool ok = fclose(x->stored) == 0;
        x->stored = NULL;
        size_t len = strlen(h->body_dir) + sizeof sha_hex + 2;
        body_path = malloc(len);
        if (body_path) {
            snprintf(body_path, len, "%s/%s", h->body_dir, sha_hex);
            if (ok && rename(x->stored_tmp, body_path) == 0)
                hr.body_path = body_path;
            else
                snprintf(x->local_error, sizeof x->local_error, "storing the body as %s: %s", body_path,
                         strerror(errno));
        }
    }
    size_t n_headers = 0;
    for (int i = 0; i < N_KEPT; i++)
        if (x->kept[i]) {
            shoal__header__init(&headers[n_headers]);
            headers[n_headers].name = (char *) s_kept_headers[i];
            headers[n_headers].value = x->kept[i];
            header_ptrs[n_headers] = &headers[n_headers];
            n_headers++;
        }
    hr.headers = header_ptrs;
    hr.n_headers = n_headers;
    uint32_t retry_after = s_retry_after_ms(x->kept[3]);
    if (retry_after) {
        r.has_retry_after_ms = 1;
        r.retry_after_ms = retry_after;
    }

    //  the outcome
    if (x->local_error[0]) {
        r.outcome = SHOAL__OUTCOME__OUTCOME_ERROR;
        r.has_permanent = r.permanent = 1;
        snprintf(error, sizeof error, "%s", x->local_error);
    }
    else
    if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && x->truncated)) {
        r.outcome = SHOAL__OUTCOME__OUTCOME_OK;
        if (x->truncated)
            snprintf(error, sizeof error, "response cut at max_response_bytes (%llu bytes)",
                     (unsigned long long) x->max_bytes);
    }
    else {
        r.outcome = code == CURLE_OPERATION_TIMEDOUT ? SHOAL__OUTCOME__OUTCOME_TIMEOUT
                                                     : SHOAL__OUTCOME__OUTCOME_ERROR;
        if (s_permanent(code))
            r.has_permanent = r.permanent = 1;
        snprintf(error, sizeof error, "%s%s%s", curl_easy_strerror(code), x->errbuf[0] ? ": " : "", x->errbuf);
    }
    char *clean_error = error[0] ? text_sanitize(error, strlen(error), sizeof error) : NULL;
    r.error = clean_error;
    run->state = NULL;
    executor_finish(&h->base, run, &r);
    free(clean_error);
    free(clean_url);
    free(body_path);
    s_xfer_free(h, x);
}

static void
s_check_done(http_t *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        xfer_t *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &x);
        CURLcode code = msg->data.result;
        if (x)
            s_finish(h, x, code);
    }
}

// ------------------------------------------------------------------ the loop's side

//  The epoll set of curl's sockets, when there are any.
static int
s_poll_fd(executor_t *self)
{
    http_t *h = (http_t *) self;
    return h->n_socks ? h->epfd : -1;
}

//  Give curl what the poll saw, and finish the transfers that are done.
static void
s_on_ready(executor_t *self)
{
    http_t *h = (http_t *) self;
    int running = 0;
    struct epoll_event events[256];
    int ready = epoll_wait(h->epfd, events, 256, 0);
    for (int i = 0; i < ready; i++) {
        int ev = ((events[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0)
               | ((events[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0)
               | ((events[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(h->multi, events[i].data.fd, ev, &running);
    }
    s_check_done(h);
}

static const executor_ops_t s_ops = {
    .name = "http",
    .backstop_ms = 2000,    //  curl enforces the task's timeout; the run's own is a backstop
    .start = s_start,
    .cancel = s_cancel,
    .poll_fd = s_poll_fd,
    .on_ready = s_on_ready,
    .destroy = s_destroy,
};
