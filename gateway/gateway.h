/*  gateway — shared state of shoal-gateway (internal header).

    main.c      flags and SHOAL_* environment, start and stop
    server.c    the libmicrohttpd daemon: limits, timeouts, one thread per
                connection, routing, auth, response helpers
    auth.c      bearer tokens from --token-file, read again on change
    link.c      request/reply with the broker's frontend (one per connection)
    hub.c       the broker's progress feed and whether the broker is up
    jobs.c      GET /v1/jobs, /v1/jobs/{id}, /v1/workers, control, /healthz
    lifecycle.c PATCH /v1/jobs/{id} (shoal update), DELETE /v1/jobs/{id} (shoal delete)
    ingest.c    the chunked, acked, idempotent submit window
    submit.c    POST /v1/jobs: a JSON document or a streamed NDJSON body
    results.c   GET /v1/jobs/{id}/results, streamed as JSONL or CSV
    events.c    GET /v1/jobs/{id}/events and /v1/events, Server-Sent Events
    dashboard.c GET /, the web dashboard (dashboard.html, embedded at build time)
    metrics.c   GET /metrics, the Prometheus text format

    Threads: libmicrohttpd runs each HTTP connection in its own thread;
    a connection owns its link to the broker, so nothing that talks to the
    broker is shared. The hub's thread owns the SUB socket; its ring is
    read under a lock. */
#ifndef GATEWAY_H
#define GATEWAY_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "hub.h"
#include "keys.h"
#include "link.h"

//  Settings (flags and SHOAL_* variables; docs/api.md lists them).
typedef struct {
    const char *listen;             //  ADDR:PORT
    const char *broker;             //  frontend endpoint
    const char *progress;           //  progress (PUB) endpoint
    const char *token_file;         //  bearer tokens, one per line
    bool        no_auth;            //  no tokens at all (local development)
    bool        metrics_open;       //  /metrics without a token
    int64_t     broker_timeout_ms;  //  wait for a broker reply
    int64_t     down_timeout_ms;    //  wait while the progress feed is silent
    int64_t     max_body;           //  bytes of a JSON request body
    int64_t     max_header;         //  bytes of a request's head (line + headers)
    int64_t     max_line;           //  bytes of one NDJSON line
    int64_t     client_timeout_s;   //  idle connection timeout
    int64_t     max_connections;    //  connections served at once
    int64_t     metrics_jobs;       //  jobs with their own label in /metrics
    int64_t     chunk;              //  tasks per submit chunk
    int64_t     window;             //  submit chunks in flight
} gw_settings_t;

typedef struct {
    gw_settings_t cfg;              //  settings
    keys_t     *keys;               //  CURVE client keys, NULL: plaintext
    auth_t     *auth;               //  NULL with --no-auth
    hub_t      *hub;                //  progress feed
    struct MHD_Daemon *daemon;      //  the HTTP listener
    uint16_t    port;               //  the port bound
    atomic_uint_fast64_t responses[6];  //  by class: [1..5] = 1xx..5xx
    _Atomic int64_t heard_ms;       //  when any link last got a broker reply
} gw_t;

//  One HTTP request in progress.
typedef struct _req_t req_t;
//  A body handler: called with each piece of the body, then once with
//  size 0 at its end. Returns 0 to go on, -1 once a response is queued.
typedef int (gw_body_fn)(req_t *req, const char *data, size_t size, bool end);

struct _req_t {
    gw_t       *gw;
    struct MHD_Connection *conn;
    const char *method;             //  "GET", "POST", ...
    const char *path;               //  without the query
    uint64_t    body_bytes;         //  received so far
    bool        responded;          //  a response is queued
    gw_body_fn *on_body;            //  NULL: the route takes no body
    void       *state;              //  the route's, freed with free_state
    void      (*free_state)(void *state);
    link_t     *link;               //  this connection's link (borrowed)
};

//  The broker link of this request's connection, made on first use; NULL
//  (503 queued) when it cannot be made. When the progress feed says the
//  broker is down (and no link heard from it within 3 s), replies are
//  awaited --down-timeout-ms only, so the API answers 503 quickly
//  instead of hanging.
link_t *gw_link(req_t *req);
//  Ask the broker (gw_link's link) and check the reply is a `want`; NULL
//  with the response queued when not (the status link_call chose, 502 for
//  a reply of another kind).
Shoal__Envelope *gw_call(req_t *req, Shoal__Envelope *env, Shoal__Envelope__BodyCase want);

//  Queue a response; take `body` (json_t, freed). Returns MHD_YES/NO.
enum MHD_Result gw_respond_json(req_t *req, unsigned status, json_t *body);
//  Queue {"error": message, "status": status}.
enum MHD_Result gw_respond_error(req_t *req, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
//  Queue a response built by the caller (taken); counts its class.
enum MHD_Result gw_respond(req_t *req, unsigned status, struct MHD_Response *response);
//  A query parameter, NULL when absent.
const char *gw_query(req_t *req, const char *name);
//  Parse a job id path segment ("12"); 0 when not one.
uint32_t gw_parse_job_id(const char *text, size_t len);

//  Routes (each returns what the access handler returns).
enum MHD_Result jobs_list(req_t *req);
enum MHD_Result jobs_get(req_t *req, uint32_t job_id);
enum MHD_Result jobs_control(req_t *req, uint32_t job_id, const char *action);
enum MHD_Result jobs_workers(req_t *req);
enum MHD_Result jobs_healthz(req_t *req);
//  POST /v1/jobs: sets req->on_body; the response comes at the body's end.
enum MHD_Result submit_start(req_t *req);
enum MHD_Result results_get(req_t *req, uint32_t job_id);
//  PATCH /v1/jobs/{id}: sets req->on_body; the update is sent at the body's end.
enum MHD_Result lifecycle_patch_start(req_t *req, uint32_t job_id);
//  DELETE /v1/jobs/{id}[?cancel=1]: the job and every row of it.
enum MHD_Result lifecycle_delete(req_t *req, uint32_t job_id);
enum MHD_Result events_get(req_t *req, uint32_t job_id);
enum MHD_Result events_cluster(req_t *req);
//  GET /: the dashboard page, embedded in the binary (dashboard.html).
enum MHD_Result dashboard_get(req_t *req);
enum MHD_Result metrics_get(req_t *req);

//  Start the HTTP listener. Returns 0, or -1 with the reason in err.
int server_start(gw_t *gw, char *err, size_t errlen);
void server_stop(gw_t *gw);

#endif
