/*  run — shoal-broker's life: the schema, then, until a signal, a wait
    for the leadership lease (standby) and a term as the leader (serve:
    load, listen, loop), resigning the lease on a clean stop; a deposed
    leader stands by again. */
#include "broker.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "leader.h"
#include "log.h"
#include "stopsig.h"

static volatile sig_atomic_t s_signals = 0;    //  SIGTERM/SIGINT count

static void
s_on_signal(int sig)
{
    s_signals++;
}

int
broker_signals(void)
{
    return (int) s_signals;
}

//  True once a signal asked the broker to stop (a standby's wait ends).
static bool
s_stop_asked(void)
{
    return s_signals != 0;
}

//  True when a shutdown is complete or ran out of time.
static bool
s_stopped(server_t *self, int64_t stop_deadline)
{
    bool idle = batch_held(self) == 0 && fanout_pending(self) == 0 && store_pending(self->writer) == 0
             && store_pending(self->ingest) == 0 && store_pending(self->janitor) == 0;
    if (idle) {
        log_info("shutdown_complete", "reason=signal");
        return true;
    }
    if (clock_mono_ms() > stop_deadline) {
        log_warn("shutdown_timeout", "held_results=%zu detail=\"the database did not take"
                 " the last results; workers will send them again to the next broker\"",
                 batch_held(self));
        return true;
    }
    return false;
}

//  How a leader's run ended.
typedef enum {
    SERVE_STOPPED,      //  signal: shut down (resign the lease)
    SERVE_FAILED,       //  could not go on: exit 1
    SERVE_DEPOSED       //  another broker leads: stand by again
} serve_end_t;

//  Serve as the leader of term claim->term until a signal, a failure or
//  being deposed.
static serve_end_t
s_serve(server_t *self, const leader_config_t *lc, const leader_claim_t *claim)
{
    self->epoch = claim->term;
    self->lease_tag = claim->lease_tag;
    self->term_since_us = claim->since_us;
    self->previous_clean = claim->previous_clean;
    self->leases_out = claim->leases_out;
    self->lease_mark = LEASE_MARK_NONE;
    self->lease_mark_after_ms = 0;
    self->commit_until_ms = leader_commit_deadline(clock_mono_ms(), lc->ttl_ms);
    self->leader = leader_new(lc, claim->term);
    if (!self->leader)
        return SERVE_FAILED;
    log_info("role", "role=leader term=%llu since_us=%lld previous=%s previous_stop=%s leases_out=%s",
             (unsigned long long) claim->term, (long long) claim->since_us,
             *claim->previous ? claim->previous : "none", claim->previous_clean ? "clean" : "unknown",
             claim->leases_out ? "maybe" : "none");
    if (startup_load(self) != 0) {
        if (self->deposed || s_signals)
            return self->deposed ? SERVE_DEPOSED : SERVE_STOPPED;
        log_error("startup_failed", "error=\"cannot load state from the database\"");
        return SERVE_FAILED;
    }
    snprintf(self->previous_leader, sizeof self->previous_leader, "%s", claim->previous);
    if (listen_start(self) != 0)
        return SERVE_FAILED;
    progress_event(self, SHOAL__EVENT_TYPE__EVENT_LEADER, 0, NULL, claim->term, "%s leads (term %llu)%s%s",
                   self->broker_id, (unsigned long long) claim->term, *claim->previous ? ", after " : "",
                   claim->previous);
    int64_t stop_deadline = 0;
    self->last_turn_ms = clock_mono_ms();
    while (true) {
        if (loop_poll(self) != 0)
            return SERVE_FAILED;
        if (self->deposed) {
            log_warn("role", "role=standby term=%llu held_results=%zu detail=\"deposed: sockets"
                     " closed, nothing more is committed; workers resend to the new leader\"",
                     (unsigned long long) self->epoch, batch_held(self));
            return SERVE_DEPOSED;
        }
        if (s_signals && !self->stopping) {
            self->stopping = true;
            stop_deadline = clock_mono_ms() + 10000;
            log_info("shutdown_started", "held_results=%zu", batch_held(self));
            deletion_drop_waiting(self);
        }
        loop_turn(self);
        if (self->stopping && s_stopped(self, stop_deadline))
            return SERVE_STOPPED;
    }
}

int
broker_run(const broker_config_t *cfg)
{
    stopsig_install(s_on_signal, false);

    char host[48] = "", id[64];
    gethostname(host, sizeof host - 1);
    snprintf(id, sizeof id, "%s:%d", host, (int) getpid());
    leader_config_t lc = { .db = cfg->db, .id = id, .ttl_ms = cfg->lease_ttl_ms,
                           .renew_ms = cfg->lease_renew_ms, .poll_ms = cfg->standby_poll_ms };
    if (startup_migrate(cfg) != 0) {
        if (s_signals)
            return 0;
        log_error("startup_failed", "error=\"cannot load state from the database\"");
        return 1;
    }
    while (true) {
        leader_claim_t claim;
        if (leader_wait(&lc, s_stop_asked, &claim) != 0) {
            log_info("shutdown_complete", "reason=signal role=standby");
            return 0;
        }
        server_t *self = server_new(cfg);
        if (!self) {
            log_error("startup_failed", "error=\"out of memory\"");
            return 1;
        }
        snprintf(self->broker_id, sizeof self->broker_id, "%s", id);
        serve_end_t end = s_serve(self, &lc, &claim);
        if (end == SERVE_STOPPED && self->leader) {
            //  after the last commit: a standby takes over at once
            bool clean = backend_nothing_out(self);
            if (leader_resign(self->leader, 2000, clean) == 0)
                log_info("role", "role=resigned term=%llu clean=%s", (unsigned long long) self->epoch,
                         clean ? "yes" : "no");
        }
        server_destroy(&self);
        if (end != SERVE_DEPOSED)
            return end == SERVE_STOPPED ? 0 : 1;
    }
}
