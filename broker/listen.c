/*  listen — the leader's three sockets (frontend for clients, backend for
    workers, progress PUB): their limits, CURVE, handshake monitors, the
    bound endpoints written out for scripts; and the clocks the loop starts
    from (recovery window, cron, snapshots). */
#include "broker.h"

#include <string.h>

#include "clock.h"
#include "endpoints.h"
#include "log.h"
#include "wire.h"

//  True for endpoints only this machine can reach.
static bool
s_local_endpoint(const char *endpoint)
{
    return strncmp(endpoint, "tcp://127.", 10) == 0 || strncmp(endpoint, "tcp://localhost:", 16) == 0
        || strncmp(endpoint, "tcp://[::1]:", 12) == 0 || strncmp(endpoint, "ipc://", 6) == 0
        || strncmp(endpoint, "inproc://", 9) == 0;
}

//  Bind one of the three sockets (`which`: 0 frontend, 1 backend, 2
//  progress) with its limits, CURVE when configured, and a handshake monitor.
static zsock_t *
s_bind(server_t *self, int type, int which, const char *endpoint, const char *what)
{
    zsock_t *sock = zsock_new(type);
    if (!sock)
        return NULL;
    void *raw = zsock_resolve(sock);
    wire_socket_defaults(raw);
    if (which == 0)
        wire_socket_max_frame(raw, WIRE_MAX_CLIENT_FRAME);
    //  ROUTER: a full send queue drops the message, so the send side is
    //  generous (--hwm); one peer's receive queue is capped (docs/protocol.md).
    //  PUB: a stopped subscriber (a monitor under ^Z) holds at most
    //  --progress-hwm messages of the broker's memory, then PUB drops for it
    int sndhwm = (int) (type == ZMQ_PUB ? self->cfg.progress_hwm : self->cfg.hwm);
    int rcvhwm = self->cfg.hwm < WIRE_RCVHWM ? (int) self->cfg.hwm : WIRE_RCVHWM;
    zmq_setsockopt(raw, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm);
    zmq_setsockopt(raw, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    if (type == ZMQ_ROUTER) {
        //  a worker that reconnects with the same identity takes over
        int on = 1;
        zmq_setsockopt(raw, ZMQ_ROUTER_HANDOVER, &on, sizeof on);
    }
    if (keys_apply(self->cfg.keys, raw) != 0) {
        log_error("curve_failed", "socket=%s error=\"%s\"", what, zmq_strerror(zmq_errno()));
        zsock_destroy(&sock);
        return NULL;
    }
    if (handshake_watch(self, which, raw) != 0)
        log_warn("monitor_failed", "socket=%s detail=\"failed handshakes will not be counted\"", what);
    if (zsock_bind(sock, "%s", endpoint) < 0) {
        log_error("bind_failed", "socket=%s endpoint=%s error=\"%s\"", what, endpoint,
                  zmq_strerror(zmq_errno()));
        zsock_destroy(&sock);
        return NULL;
    }
    //  endpoint last: scripts read the bound port from this line
    char bound[256];
    log_info("listening", "socket=%s curve=%s endpoint=%s", what, self->cfg.keys ? "on" : "off",
             endpoints_bound(raw, endpoint, bound, sizeof bound));
    if (!self->cfg.keys && !s_local_endpoint(endpoint))
        log_warn("curve_off", "socket=%s endpoint=%s detail=\"plaintext and unauthenticated:"
                 " anyone who reaches this port can %s; turn on CURVE with --curve-secret and"
                 " --curve-allow (docs/operations.md)\"", what, endpoint,
                 which == 0 ? "submit and control jobs" : which == 1 ? "take tasks and send results"
                                                                     : "watch progress");
    return sock;
}

//  Bind the three sockets and start the clocks. Returns 0 or -1 (logged).
int
listen_start(server_t *self)
{
    const broker_config_t *cfg = &self->cfg;
    if (cfg->keys)
        log_info("curve_enabled", "public_key=%s allowed_keys=%zu", keys_public_txt(cfg->keys),
                 keys_allowed_count(cfg->keys));
    self->frontend = s_bind(self, ZMQ_ROUTER, 0, cfg->frontend, "frontend");
    self->backend = self->frontend ? s_bind(self, ZMQ_ROUTER, 1, cfg->backend, "backend") : NULL;
    self->publisher = self->backend ? s_bind(self, ZMQ_PUB, 2, cfg->progress, "progress") : NULL;
    if (!self->publisher) {
        const char *ep = !self->frontend ? cfg->frontend : !self->backend ? cfg->backend : cfg->progress;
        log_error("startup_failed", "error=\"cannot listen\" endpoint=%s", ep);
        return -1;
    }
    self->frontend_raw = zsock_resolve(self->frontend);
    self->backend_raw = zsock_resolve(self->backend);
    self->publisher_raw = zsock_resolve(self->publisher);
    //  the recovery window lets workers resend what they finished for an
    //  earlier broker run before its tasks go out again; with no unfinished
    //  task in the database no worker can be running one, nor when no term
    //  handed out a lease since the last that stopped with none out
    //  (docs/architecture.md)
    int64_t recovery_ms = self->unfinished_at_start && self->leases_out ? cfg->recovery_ms : 0;
    self->dispatch_after_ms = clock_mono_ms() + recovery_ms;
    char fe[256], be[256], pr[256];
    endpoints_bound(self->frontend_raw, cfg->frontend, fe, sizeof fe);
    endpoints_bound(self->backend_raw, cfg->backend, be, sizeof be);
    endpoints_bound(self->publisher_raw, cfg->progress, pr, sizeof pr);
    if (cfg->endpoints_file && endpoints_write(cfg->endpoints_file, fe, be, pr) != 0)
        return -1;
    log_info("broker_started", "id=%s epoch=%llu version=%s recovery_ms=%lld frontend=%s backend=%s"
             " progress=%s", self->broker_id, (unsigned long long) self->epoch, SHOAL_VERSION,
             (long long) recovery_ms, fe, be, pr);
    self->cron_period_ms = cfg->heartbeat_ms / 2 < 250 ? cfg->heartbeat_ms / 2 : 250;
    if (self->cron_period_ms < 10)
        self->cron_period_ms = 10;
    self->next_cron_ms = clock_mono_ms() + self->cron_period_ms;
    self->next_snapshot_ms = clock_mono_ms() + cfg->snapshot_ms;
    return 0;
}
