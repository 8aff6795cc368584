/*  http — the HTTP executor: many transfers at once on one libcurl multi
    handle, driven by the worker's own event loop through curl's socket and
    timer callbacks (no thread per request). Connections are kept alive and
    reused per host by the multi handle's connection cache.

    A response is streamed: hashed with SHA-256 as it arrives, kept in the
    result row up to the inline limit, or written to the body directory
    (named by its hash), or discarded. Past max_response_bytes the transfer
    is cut and marked truncated, so the worker's memory stays bounded
    whatever a server sends. */
#include "http_xfer.h"

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
#include "upload.h"

typedef struct {
    executor_t base;
    CURLM   *multi;
    int      epfd;              //  epoll set of the sockets curl wants watched
    size_t   n_socks;           //  sockets in it that curl watches
    uint8_t *parked;            //  by fd: an idle connection's socket left in the set
    size_t   n_parked_max;      //  entries of parked
    uint64_t timer;             //  curl's timeout (a worker timer), 0 = none
    http_body_dir_t body_dir;   //  where STORE_DIR bodies go
    CURL   **idle;              //  easy handles to reuse (reset), a stack
    size_t   n_idle, max_idle;
    s3_t    *s3;                //  store: s3 and upload_s3 (s3.c)
    vars_t  *vars;              //  compiled extraction rules of pipeline steps
} http_t;

// ------------------------------------------------------------------ sockets and timer

//  curl tells us which sockets to watch; they live in one epoll set, so
//  the loop polls two descriptors whatever the number of transfers.
//
//  When a transfer ends curl stops watching its socket, and watches it
//  again when the next transfer reuses the connection: the socket stays in
//  the set meanwhile (parked), so that costs one EPOLL_CTL_MOD instead of a
//  DEL and an ADD (issue 16). curl may close a parked socket without a
//  word; the kernel then drops it from the set, and a new socket of the same
//  number is added when MOD finds nothing (ENOENT). A parked socket that
//  becomes ready (the server closed an idle connection) leaves the set.
static bool
s_parked(const http_t *h, curl_socket_t fd)
{
    return fd >= 0 && (size_t) fd < h->n_parked_max && h->parked[fd];
}

static int
s_park(http_t *h, curl_socket_t fd)
{
    if (fd < 0)
        return -1;
    if ((size_t) fd >= h->n_parked_max) {
        size_t n = (size_t) fd * 2 + 64;
        uint8_t *more = realloc(h->parked, n);
        if (!more)
            return -1;
        memset(more + h->n_parked_max, 0, n - h->n_parked_max);
        h->parked = more;
        h->n_parked_max = n;
    }
    h->parked[fd] = 1;
    return 0;
}

static void
s_unpark(http_t *h, curl_socket_t fd)
{
    if (s_parked(h, fd))
        h->parked[fd] = 0;
}

static int
s_on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    http_t *h = userp;
    if (what == CURL_POLL_REMOVE) {
        if (socketp) {
            if (s_park(h, fd) != 0)
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
    int rc;
    if (s_parked(h, fd)) {
        s_unpark(h, fd);
        rc = epoll_ctl(h->epfd, EPOLL_CTL_MOD, fd, &ev);
        if (rc != 0 && errno == ENOENT)     //  closed while parked: a new socket
            rc = epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev);
    }
    else {
        rc = epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev);
        if (rc != 0 && errno == EEXIST)
            rc = epoll_ctl(h->epfd, EPOLL_CTL_MOD, fd, &ev);
    }
    if (rc != 0)
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
    s3_destroy(&h->s3);
    if (h->multi)
        curl_multi_cleanup(h->multi);
    timers_cancel(h->base.host->timers, h->timer);
    if (h->epfd >= 0)
        close(h->epfd);
    free(h->body_dir.path);
    free(h->parked);
    vars_destroy(&h->vars);
    free(h);
}

static const executor_ops_t s_ops;

executor_t *
http_executor_new(const executor_host_t *host, const char *body_dir, size_t slots, const s3_config_t *s3)
{
    http_t *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->base = (executor_t) { &s_ops, host };
    h->multi = curl_multi_init();
    h->body_dir.path = strdup(body_dir ? body_dir : "shoal-bodies");
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    h->vars = vars_new();
    if (!h->multi || !h->body_dir.path || h->epfd < 0 || !h->vars) {
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
    char err[256];
    if (!h->idle || !(h->s3 = s3_new(s3, h->multi, host->timers, err, sizeof err))) {
        if (h->idle)
            log_error("s3_setup_failed", "error=\"%s\"", err);
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
    s3_body_destroy(&x->s3);
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
    capture_free(&x->capture);
    for (int i = 0; i < N_KEPT; i++)
        free(x->kept[i]);
    free(x);
}

static void
s_start(executor_t *self, run_t *run)
{
    http_t *h = (http_t *) self;
    if (run->spec->http->upload_s3) {
        upload_start(self, run, h->s3);
        return;
    }
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
    x->owner = h;
    x->vars = h->vars;
    x->capture.on = run->spec->pipeline && run->spec->pipeline->extract;
    EVP_DigestInit_ex(x->sha, EVP_sha256(), NULL);
    const Shoal__HttpSpec *defaults = run->defaults ? run->defaults->http : NULL;
    if (http_request_prepare(x, run->spec->http, defaults, run->timeout_ms, &h->body_dir) != 0
    ||  (x->store == SHOAL__BODY_STORE__STORE_S3
         && !(x->s3 = s3_body_new(h->s3, run->spec->http, defaults, run->task_id, run->attempt,
                                  run->spec->tag, x->local_error, sizeof x->local_error)))
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
    if (run->spec->http->upload_s3) {
        upload_cancel(run);
        return;
    }
    xfer_t *x = run->state;
    run->state = NULL;
    if (x)
        s_xfer_free((http_t *) self, x);
}

//  store: s3 — the body is in the bucket (or failed to get there): the result.
static void
s_on_stored(void *arg)
{
    xfer_t *x = arg;
    http_t *h = x->owner;
    http_result_finish(&h->base, x, x->code, &h->body_dir);
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
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        if (s3_on_done(h->s3, easy, code))
            continue;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &x);
        if (x && x->s3 && !x->s3_started && http_s3_begin(x, code, s_on_stored, x))
            continue;       //  s_on_stored finishes it
        if (x) {
            http_result_finish(&h->base, x, code, &h->body_dir);
            s_xfer_free(h, x);
        }
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
        if (s_parked(h, events[i].data.fd)) {
            //  an idle connection's socket: no transfer wants it now
            epoll_ctl(h->epfd, EPOLL_CTL_DEL, events[i].data.fd, NULL);
            s_unpark(h, events[i].data.fd);
            continue;
        }
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
