/*  server — the libmicrohttpd daemon and the routes' common ground.

    One thread per connection (MHD_USE_THREAD_PER_CONNECTION): a route may
    block on the broker, or on a slow SSE client, without holding up any
    other connection; the connection limit bounds the threads. Each
    connection's memory pool is --max-header bytes, which bounds its
    request line and headers (too many or too long: 431, from
    libmicrohttpd). Bodies are read piece by piece as they arrive; a JSON
    body over --max-body is refused with 413 (at once when Content-Length
    says so). A connection idle for --client-timeout-s is closed. */
#include "gateway.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "errbuf.h"
#include "log.h"
#include "wire.h"

#define MAX_IGNORED_BODY (64u << 10)  //  body bytes a route without a body tolerates

//  Per connection: its link to the broker, made on first use.
typedef struct {
    link_t *link;
} conn_t;

link_t *
gw_link(req_t *req)
{
    gw_t *gw = req->gw;
    if (!req->link) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        conn_t *c = info ? info->socket_context : NULL;
        if (c && !c->link)
            c->link = link_new(gw->cfg.broker, (int) gw->cfg.broker_timeout_ms, gw->keys, &gw->heard_ms);
        req->link = c ? c->link : NULL;
        if (!req->link) {
            gw_respond_error(req, 503, "cannot make a socket to the broker at %s", gw->cfg.broker);
            return NULL;
        }
    }
    int timeout = (int) gw->cfg.broker_timeout_ms;
    bool heard = clock_mono_ms() - atomic_load(&gw->heard_ms) < 3000;
    if (!heard && !hub_broker_up(gw->hub) && timeout > gw->cfg.down_timeout_ms)
        timeout = (int) gw->cfg.down_timeout_ms;
    link_set_timeout(req->link, timeout);
    return req->link;
}

Shoal__Envelope *
gw_call(req_t *req, Shoal__Envelope *env, Shoal__Envelope__BodyCase want)
{
    link_t *link = gw_link(req);
    if (!link)
        return NULL;
    int status = 0;
    char err[1024];
    Shoal__Envelope *reply = link_call(link, env, &status, err, sizeof err);
    if (!reply) {
        gw_respond_error(req, (unsigned) status, "%s", err);
        return NULL;
    }
    if (reply->body_case != want) {
        gw_respond_error(req, 502, "unexpected reply '%s' from the broker", wire_body_name(reply));
        wire_free(reply);
        return NULL;
    }
    return reply;
}

enum MHD_Result
gw_respond(req_t *req, unsigned status, struct MHD_Response *response)
{
    if (!response)
        return MHD_NO;
    if (req->responded) {
        MHD_destroy_response(response);
        return MHD_YES;
    }
    MHD_add_response_header(response, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(req->conn, status, response);
    MHD_destroy_response(response);
    if (rc == MHD_YES) {
        req->responded = true;
        atomic_fetch_add(&req->gw->responses[status / 100 < 6 ? status / 100 : 0], 1);
    }
    return rc;
}

enum MHD_Result
gw_respond_json(req_t *req, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return MHD_NO;
    size_t len = strlen(text);
    char *with_nl = realloc(text, len + 2);
    if (!with_nl) {
        free(text);
        return MHD_NO;
    }
    with_nl[len] = '\n';
    struct MHD_Response *r = MHD_create_response_from_buffer(len + 1, with_nl, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(with_nl);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    return gw_respond(req, status, r);
}

enum MHD_Result
gw_respond_error(req_t *req, unsigned status, const char *fmt, ...)
{
    char message[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    json_t *o = json_object();
    //  messages may quote user input: keep the JSON valid whatever it holds
    json_t *m = json_string(message);
    json_object_set_new(o, "error", m ? m : json_string("(message not valid UTF-8)"));
    json_object_set_new(o, "status", json_integer(status));
    return gw_respond_json(req, status, o);
}

const char *
gw_query(req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

uint32_t
gw_parse_job_id(const char *text, size_t len)
{
    if (len == 0 || len > 10)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return 0;
        v = v * 10 + (uint64_t) (text[i] - '0');
    }
    return v <= UINT32_MAX ? (uint32_t) v : 0;
}

//  401 with the header that says which scheme.
static enum MHD_Result
s_unauthorized(req_t *req, bool had_header)
{
    json_t *o = json_object();
    json_object_set_new(o, "error", json_string(had_header
        ? "the bearer token is not valid (see --token-file)"
        : "this route needs 'Authorization: Bearer TOKEN' (a token from the gateway's --token-file)"));
    json_object_set_new(o, "status", json_integer(401));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"shoal\"");
    log_info("unauthorized", "method=%s path=%s token=%s", req->method, req->path, had_header ? "wrong" : "none");
    return gw_respond(req, 401, r);
}

//  Route a request whose body (if any) has been read; `first` is true at
//  the first call, when body routes set themselves up.
static enum MHD_Result
s_route(req_t *req, bool first)
{
    const char *p = req->path;
    bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    bool post = !strcmp(req->method, "POST");
    if (!strcmp(p, "/v1/jobs")) {
        if (post)
            return first ? submit_start(req) : MHD_YES;
        if (get)
            return first ? MHD_YES : jobs_list(req);
        return gw_respond_error(req, 405, "%s /v1/jobs: use GET or POST", req->method);
    }
    bool patch = !strcmp(req->method, "PATCH");
    uint32_t patch_id = patch && !strncmp(p, "/v1/jobs/", 9) ? gw_parse_job_id(p + 9, strlen(p + 9)) : 0;
    if (patch_id)
        return first ? lifecycle_patch_start(req, patch_id) : MHD_YES;
    if (first)
        return MHD_YES;         //  other routes act once any body was read
    if (!strcmp(p, "/healthz"))
        return get ? jobs_healthz(req) : gw_respond_error(req, 405, "/healthz: use GET");
    if (!strcmp(p, "/metrics"))
        return get ? metrics_get(req) : gw_respond_error(req, 405, "/metrics: use GET");
    if (!strcmp(p, "/") || !strcmp(p, "/index.html"))
        return get ? dashboard_get(req) : gw_respond_error(req, 405, "/: use GET");
    if (!strcmp(p, "/v1/events"))
        return get ? events_cluster(req) : gw_respond_error(req, 405, "/v1/events: use GET");
    if (!strcmp(p, "/v1/workers"))
        return get ? jobs_workers(req) : gw_respond_error(req, 405, "/v1/workers: use GET");
    if (!strncmp(p, "/v1/jobs/", 9)) {
        const char *id = p + 9;
        const char *slash = strchr(id, '/');
        size_t len = slash ? (size_t) (slash - id) : strlen(id);
        uint32_t job_id = gw_parse_job_id(id, len);
        if (!job_id)
            return gw_respond_error(req, 404, "no such route: %s (job ids are positive numbers)", p);
        const char *rest = slash ? slash + 1 : "";
        if (!*rest)
            return get ? jobs_get(req, job_id)
                 : !strcmp(req->method, "DELETE") ? lifecycle_delete(req, job_id)
                 : gw_respond_error(req, 405, "%s: use GET, PATCH or DELETE", p);
        if (!strcmp(rest, "results"))
            return get ? results_get(req, job_id) : gw_respond_error(req, 405, "%s: use GET", p);
        if (!strcmp(rest, "events"))
            return get ? events_get(req, job_id) : gw_respond_error(req, 405, "%s: use GET", p);
        if (!strcmp(rest, "pause") || !strcmp(rest, "resume") || !strcmp(rest, "cancel") || !strcmp(rest, "retry"))
            return post ? jobs_control(req, job_id, rest) : gw_respond_error(req, 405, "%s: use POST", p);
    }
    return gw_respond_error(req, 404, "no such route: %s %s (see docs/api.md)", req->method, p);
}

static bool
s_needs_token(gw_t *gw, const char *path)
{
    //  the page itself holds no data: it asks for the token, then calls the API
    if (!gw->auth || !strcmp(path, "/healthz") || !strcmp(path, "/") || !strcmp(path, "/index.html"))
        return false;
    return !(gw->cfg.metrics_open && !strcmp(path, "/metrics"));
}

static enum MHD_Result
s_access(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
         const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    gw_t *gw = cls;
    req_t *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        *con_cls = req;
        req->gw = gw;
        req->conn = connection;
        req->method = method;
        req->path = url;
        if (s_needs_token(gw, url)) {
            const char *header = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Authorization");
            if (!auth_check(gw->auth, header))
                return s_unauthorized(req, header != NULL);
        }
        return s_route(req, true);
    }
    if (*upload_data_size) {
        size_t size = *upload_data_size;
        *upload_data_size = 0;
        req->body_bytes += size;
        if (req->responded)
            return MHD_YES;                     //  refused already: the rest is dropped
        if (req->on_body) {
            req->on_body(req, upload_data, size, false);
            return MHD_YES;
        }
        if (req->body_bytes > MAX_IGNORED_BODY)
            gw_respond_error(req, 413, "%s %s takes no body (got over %u bytes)", method, url, MAX_IGNORED_BODY);
        return MHD_YES;
    }
    if (req->responded)
        return MHD_YES;
    if (req->on_body) {
        req->on_body(req, NULL, 0, true);
        return req->responded ? MHD_YES : gw_respond_error(req, 500, "the request got no answer");
    }
    return s_route(req, false);
}

static void
s_completed(void *cls, struct MHD_Connection *connection, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    req_t *req = *con_cls;
    if (!req)
        return;
    if (req->free_state)
        req->free_state(req->state);
    free(req);
    *con_cls = NULL;
}

static void
s_notify(void *cls, struct MHD_Connection *connection, void **socket_context, enum MHD_ConnectionNotificationCode code)
{
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        *socket_context = calloc(1, sizeof(conn_t));
    else
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn_t *c = *socket_context;
        if (c) {
            link_destroy(&c->link);
            free(c);
        }
        *socket_context = NULL;
    }
}

static void
s_log(void *cls, const char *fmt, va_list ap)
{
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = 0;
    char q[600];
    log_debug("http_server", "detail=%s", log_quote(text, q, sizeof q));
}

//  "127.0.0.1:8080", "[::1]:8080", ":8080" (all addresses) -> sockaddr.
static int
s_parse_listen(const char *text, struct sockaddr_storage *addr, char *err, size_t errlen)
{
    memset(addr, 0, sizeof *addr);
    const char *colon = strrchr(text, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || !colon[1] || *end || port < 0 || port > 65535)
        return errbuf_set(err, errlen, "--listen must be ADDR:PORT, like 127.0.0.1:8080 (got '%s')", text);
    char host[64];
    size_t hl = (size_t) (colon - text);
    if (hl >= sizeof host)
        return errbuf_set(err, errlen, "--listen: address too long in '%s'", text);
    memcpy(host, text, hl);
    host[hl] = 0;
    if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = 0;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *) addr;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t) port);
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
            return errbuf_set(err, errlen, "--listen: '%s' is not an IPv6 address", host);
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *) addr;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t) port);
    if (!*host || !strcmp(host, "*"))
        a4->sin_addr.s_addr = htonl(INADDR_ANY);
    else
    if (!strcmp(host, "localhost"))
        a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        return errbuf_set(err, errlen, "--listen: '%s' is not an IPv4 address (or [IPv6])", host);
    return 0;
}

int
server_start(gw_t *gw, char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    if (s_parse_listen(gw->cfg.listen, &addr, err, errlen))
        return -1;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG
                   | (addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    gw->daemon = MHD_start_daemon(flags, 0, NULL, NULL, s_access, gw,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) gw->cfg.max_header,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned) gw->cfg.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) gw->cfg.client_timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, gw,
        MHD_OPTION_NOTIFY_CONNECTION, s_notify, gw,
        MHD_OPTION_EXTERNAL_LOGGER, s_log, gw,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t) (512u << 10),
        MHD_OPTION_END);
    if (!gw->daemon)
        return errbuf_set(err, errlen, "cannot listen on %s (in use? a valid address?)", gw->cfg.listen);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(gw->daemon, MHD_DAEMON_INFO_BIND_PORT);
    gw->port = info ? info->port : 0;
    return 0;
}

void
server_stop(gw_t *gw)
{
    if (gw->daemon) {
        MHD_stop_daemon(gw->daemon);
        gw->daemon = NULL;
    }
}
