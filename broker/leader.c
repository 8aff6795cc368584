/*  leader — the leadership lease's SQL: a standby's wait, the leader's
    renewal thread, the resignation. See leader.h and docs/failover.md.

    A standby reads the lease without a lock and only locks it (FOR UPDATE)
    to take it: the leader's writes hold it FOR KEY SHARE (schema.c,
    shoal_fence), so a takeover waits for the writes in flight, and every
    write after it meets the new term and fails. The renewal is a non-key
    update, which goes on beside the writes. */
#include "leader.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

//  A connection for leadership work; NULL (logged once by the caller) on failure.
static PGconn *
s_connect(const char *db, const char *appname, int64_t statement_timeout_ms, char *err, size_t errlen)
{
    const char *keys[] = { "dbname", "application_name", "connect_timeout", NULL };
    const char *values[] = { db, appname, "2", NULL };
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, errlen, "%s", PQerrorMessage(conn));
        err[strcspn(err, "\n")] = 0;
        PQfinish(conn);
        return NULL;
    }
    char sql[160];
    int64_t lock_ms = statement_timeout_ms / 3 < 1000 ? statement_timeout_ms / 3 : 1000;
    snprintf(sql, sizeof sql, "SET statement_timeout = %lld; SET lock_timeout = %lld;"
             " SET client_min_messages = warning", (long long) statement_timeout_ms,
             (long long) (lock_ms < 50 ? 50 : lock_ms));
    PQclear(PQexec(conn, sql));
    return conn;
}

//  Copy a failed result's message into err and clear it.
static void
s_error(PGconn *conn, PGresult *res, char *err, size_t errlen)
{
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    snprintf(err, errlen, "%s", msg && *msg ? msg : PQerrorMessage(conn));
    err[strcspn(err, "\n")] = 0;
    PQclear(res);
}

//  Read the lease (lock: FOR UPDATE, inside a transaction). 0 or -1.
static int
s_read_lease(PGconn *conn, bool lock, leader_claim_t *claim, char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, lock
        ? "SELECT leader, term, CASE WHEN expires_at <= now() THEN 0"
          " ELSE ceil(extract(epoch FROM expires_at - now()) * 1000)::int8 END"
          " FROM shoal_leader WHERE id = 1 FOR UPDATE"
        : "SELECT leader, term, CASE WHEN expires_at <= now() THEN 0"
          " ELSE ceil(extract(epoch FROM expires_at - now()) * 1000)::int8 END"
          " FROM shoal_leader WHERE id = 1");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        int rc = state && (!strcmp(state, "55P03") || !strcmp(state, "57014")) ? -2 : -1;
        if (PQresultStatus(res) == PGRES_TUPLES_OK)
            snprintf(err, errlen, "table shoal_leader has no row (id 1)");
        else
            s_error(conn, res, err, errlen), res = NULL;
        PQclear(res);
        return rc;
    }
    snprintf(claim->holder, sizeof claim->holder, "%s", PQgetvalue(res, 0, 0));
    claim->holder_term = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    claim->expires_in_ms = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    return 0;
}

//  Take the lease in one transaction: lock it, check nobody took it since
//  `seen`, bump the epoch (the new term), write ourselves in. 1 taken, 0
//  someone else was quicker, -1 error.
static int
s_take(PGconn *conn, const leader_config_t *cfg, const leader_claim_t *seen, leader_claim_t *claim,
       char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, "BEGIN");
    PQclear(res);
    leader_claim_t now;
    memset(&now, 0, sizeof now);
    int locked = s_read_lease(conn, true, &now, err, errlen);
    if (locked == -2) {
        //  the lapsed leader's writes hold the lease row (FOR KEY SHARE): a
        //  frozen process keeps them open, a COPY even past
        //  idle_in_transaction_session_timeout. Its lease is over and it
        //  commits nothing more on its own clock: end those sessions
        PQclear(PQexec(conn, "ROLLBACK"));
        res = PQexec(conn, "SELECT count(pg_terminate_backend(pid)) FROM pg_locks"
                           " WHERE relation = 'shoal_leader'::regclass AND granted"
                           " AND pid <> pg_backend_pid()");
        char q[64];
        log_warn("lease_lock_taken", "holder=%s sessions_ended=%s", log_quote(seen->holder, q, sizeof q),
                 PQresultStatus(res) == PGRES_TUPLES_OK ? PQgetvalue(res, 0, 0) : "?");
        PQclear(res);
        *claim = *seen;
        return 0;       //  look again
    }
    if (locked != 0)
        goto fail;
    if (now.holder_term != seen->holder_term || strcmp(now.holder, seen->holder) != 0) {
        PQclear(PQexec(conn, "ROLLBACK"));
        *claim = now;
        return 0;
    }
    //  the lease tag (lease.h): random for a new database, 0 (the leases as
    //  before) for one that has issued leases already, which workers may hold
    res = PQexec(conn,
        "INSERT INTO shoal_meta SELECT 'lease_tag', CASE WHEN value = 0"
        " THEN floor(random() * 16777215)::bigint ELSE 0 END FROM shoal_meta WHERE key = 'epoch'"
        " ON CONFLICT (key) DO NOTHING");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        s_error(conn, res, err, errlen);
        goto fail;
    }
    PQclear(res);
    //  clean_stop_term: the last term that resigned with no task out;
    //  leased_term: the last that handed out a lease (migration 12)
    res = PQexec(conn, "UPDATE shoal_meta SET value = value + 1 WHERE key = 'epoch' RETURNING value,"
                       " coalesce((SELECT value FROM shoal_meta WHERE key = 'lease_tag'), 0),"
                       " coalesce((SELECT value FROM shoal_meta WHERE key = 'clean_stop_term'), 0),"
                       " coalesce((SELECT value FROM shoal_meta WHERE key = 'leased_term'), value)");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        s_error(conn, res, err, errlen);
        goto fail;
    }
    claim->term = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    claim->lease_tag = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    uint64_t clean_term = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
    uint64_t leased_term = strtoull(PQgetvalue(res, 0, 3), NULL, 10);
    claim->previous_clean = now.holder_term && clean_term == now.holder_term;
    claim->leases_out = leader_leases_out(leased_term, clean_term);
    PQclear(res);
    char term[24], ttl[24];
    snprintf(term, sizeof term, "%llu", (unsigned long long) claim->term);
    snprintf(ttl, sizeof ttl, "%lld", (long long) cfg->ttl_ms);
    const char *params[] = { cfg->id, term, ttl };
    res = PQexecParams(conn,
        "UPDATE shoal_leader SET leader = $1, term = $2, since = now(),"
        " expires_at = now() + $3::int8 * interval '1 millisecond' WHERE id = 1"
        " RETURNING (extract(epoch FROM since) * 1000000)::int8", 3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        s_error(conn, res, err, errlen);
        goto fail;
    }
    claim->since_us = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    res = PQexec(conn, "COMMIT");
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK && PQtransactionStatus(conn) == PQTRANS_IDLE;
    if (!ok) {
        s_error(conn, res, err, errlen);
        goto fail;
    }
    PQclear(res);
    snprintf(claim->previous, sizeof claim->previous, "%s", now.holder);
    snprintf(claim->holder, sizeof claim->holder, "%s", cfg->id);
    claim->holder_term = claim->term;
    claim->expires_in_ms = cfg->ttl_ms;
    return 1;
fail:
    if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
    return -1;
}

//  Sleep up to ms, waking early for a NOTIFY on the connection (a leader
//  resigned) or a signal.
static void
s_wait_notify(PGconn *conn, int64_t ms)
{
    int fd = conn ? PQsocket(conn) : -1;
    struct timeval tv = { (time_t) (ms / 1000), (suseconds_t) (ms % 1000) * 1000 };
    if (fd < 0) {
        select(0, NULL, NULL, NULL, &tv);
        return;
    }
    fd_set set;
    FD_ZERO(&set);
    FD_SET(fd, &set);
    if (select(fd + 1, &set, NULL, NULL, &tv) > 0) {
        PQconsumeInput(conn);
        PGnotify *n;
        while ((n = PQnotifies(conn)))
            PQfreemem(n);
    }
}

int
leader_wait(const leader_config_t *cfg, bool (*stop)(void), leader_claim_t *claim)
{
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    PGconn *conn = NULL;
    bool first = true, down_logged = false;
    char last_holder[160] = "-";
    int64_t backoff = 200;
    while (!stop()) {
        char err[512] = "";
        if (!conn || PQstatus(conn) != CONNECTION_OK) {
            PQfinish(conn);
            conn = s_connect(cfg->db, "shoal-broker:standby", cfg->ttl_ms, err, sizeof err);
            if (conn) {
                PQclear(PQexec(conn, "INSERT INTO shoal_leader VALUES (1, '', 0, now(), '-infinity')"
                                     " ON CONFLICT (id) DO NOTHING"));
                PQclear(PQexec(conn, "LISTEN shoal_leader"));
                backoff = 200;
                down_logged = false;
            }
        }
        leader_claim_t seen;
        memset(&seen, 0, sizeof seen);
        if (conn && s_read_lease(conn, false, &seen, err, sizeof err) == 0) {
            if (leader_may_take(seen.holder, seen.expires_in_ms, first, host, NULL)) {
                int rc = s_take(conn, cfg, &seen, claim, err, sizeof err);
                if (rc == 1) {
                    PQfinish(conn);
                    return 0;
                }
                if (rc == 0)
                    continue;   //  someone else took it: look again
            }
            else {
                char now_holder[160];
                snprintf(now_holder, sizeof now_holder, "%s/%llu", seen.holder,
                         (unsigned long long) seen.holder_term);
                if (strcmp(now_holder, last_holder) != 0) {
                    char q[300];
                    log_info("role", "role=standby leader=%s term=%llu expires_in_ms=%lld",
                             log_quote(seen.holder, q, sizeof q), (unsigned long long) seen.holder_term,
                             (long long) seen.expires_in_ms);
                    snprintf(last_holder, sizeof last_holder, "%s", now_holder);
                }
                first = false;
                int64_t wait = seen.expires_in_ms < cfg->poll_ms ? seen.expires_in_ms : cfg->poll_ms;
                s_wait_notify(conn, wait < 10 ? 10 : wait);
                continue;
            }
        }
        if (*err) {
            if (!down_logged) {
                char q[600];
                log_warn("standby_db_failed", "error=%s retry_ms=%lld", log_quote(err, q, sizeof q),
                         (long long) backoff);
                down_logged = true;
            }
            if (conn && PQstatus(conn) != CONNECTION_OK) {
                PQfinish(conn);
                conn = NULL;
            }
        }
        first = false;
        s_wait_notify(NULL, backoff);
        backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
    }
    PQfinish(conn);
    return -1;
}

// ------------------------------------------------------------- the renewal

struct _leader_t {
    zactor_t *actor;
    char     *db, *id;
    leader_config_t cfg;        //  strings point at db, id
    uint64_t  term;
};

static void
s_report(zsock_t *pipe, const leader_report_t *r)
{
    zmsg_t *msg = zmsg_new();
    zmsg_addmem(msg, r, sizeof *r);
    zmsg_send(&msg, pipe);
}

//  One renewal (or, `resign`, the end of the lease) over *conn.
static void
s_renew(leader_t *self, PGconn **conn, bool resign, bool clean, leader_report_t *r)
{
    memset(r, 0, sizeof *r);
    r->sent_ms = clock_mono_ms();
    if (!*conn || PQstatus(*conn) != CONNECTION_OK) {
        PQfinish(*conn);
        *conn = s_connect(self->db, "shoal-broker:leader", self->cfg.ttl_ms, r->error, sizeof r->error);
        if (!*conn) {
            r->type = LEADER_UNREACHABLE;
            return;
        }
    }
    char term[24], ttl[24];
    snprintf(term, sizeof term, "%llu", (unsigned long long) self->term);
    snprintf(ttl, sizeof ttl, "%lld", (long long) self->cfg.ttl_ms);
    const char *params[] = { term, ttl };
    //  a clean end is written in the statement that ends the lease, and only
    //  if the lease is still this term's
    PGresult *res = resign && clean
        ? PQexecParams(*conn, "WITH r AS (UPDATE shoal_leader SET expires_at = '-infinity'"
                       " WHERE id = 1 AND term = $1 RETURNING term)"
                       " INSERT INTO shoal_meta SELECT 'clean_stop_term', term FROM r"
                       " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                       1, NULL, params, NULL, NULL, 0)
        : resign
        ? PQexecParams(*conn, "UPDATE shoal_leader SET expires_at = '-infinity' WHERE id = 1 AND term = $1",
                       1, NULL, params, NULL, NULL, 0)
        : PQexecParams(*conn, "UPDATE shoal_leader SET expires_at = now() + $2::int8 * interval '1 millisecond'"
                       " WHERE id = 1 AND term = $1", 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        r->type = LEADER_UNREACHABLE;
        s_error(*conn, res, r->error, sizeof r->error);
        return;
    }
    bool ours = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (ours) {
        r->type = resign ? LEADER_RESIGNED : LEADER_RENEWED;
        if (resign)     //  standbys wake at once
            PQclear(PQexec(*conn, "SELECT pg_notify('shoal_leader', '')"));
        return;
    }
    leader_claim_t now;
    memset(&now, 0, sizeof now);
    r->type = LEADER_DEPOSED;
    if (s_read_lease(*conn, false, &now, r->error, sizeof r->error) == 0) {
        snprintf(r->holder, sizeof r->holder, "%s", now.holder);
        r->holder_term = now.holder_term;
    }
}

static void
s_actor(zsock_t *pipe, void *args)
{
    leader_t *self = args;
    zsock_signal(pipe, 0);
    zpoller_t *poller = zpoller_new(pipe, NULL);
    PGconn *conn = NULL;
    int64_t next = clock_mono_ms();
    while (poller) {
        int64_t wait = next - clock_mono_ms();
        void *which = zpoller_wait(poller, wait < 0 ? 0 : (int) wait);
        if (which == pipe) {
            char *command = zstr_recv(pipe);
            bool clean = command && streq(command, "RESIGN CLEAN");
            bool resign = clean || (command && streq(command, "RESIGN"));
            bool term = !command || streq(command, "$TERM");
            zstr_free(&command);
            if (term)
                break;
            if (resign) {
                leader_report_t r;
                s_renew(self, &conn, true, clean, &r);
                s_report(pipe, &r);
                next = INT64_MAX / 2;   //  renew no more
            }
            continue;
        }
        if (zpoller_terminated(poller))
            break;
        if (clock_mono_ms() >= next) {
            leader_report_t r;
            s_renew(self, &conn, false, false, &r);
            s_report(pipe, &r);
            next = r.sent_ms + self->cfg.renew_ms;
        }
    }
    zpoller_destroy(&poller);
    PQfinish(conn);
}

leader_t *
leader_new(const leader_config_t *cfg, uint64_t term)
{
    leader_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->db = strdup(cfg->db);
    self->id = strdup(cfg->id);
    self->cfg = *cfg;
    self->cfg.db = self->db;
    self->cfg.id = self->id;
    self->term = term;
    if (self->db && self->id)
        self->actor = zactor_new(s_actor, self);
    if (!self->actor) {
        free(self->db);
        free(self->id);
        free(self);
        return NULL;
    }
    return self;
}

void
leader_destroy(leader_t **self_p)
{
    leader_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy(&self->actor);
    free(self->db);
    free(self->id);
    free(self);
    *self_p = NULL;
}

void *
leader_sock(leader_t *self)
{
    return zactor_sock(self->actor);
}

int
leader_recv(leader_t *self, leader_report_t *report)
{
    zmsg_t *msg = zmsg_recv(self->actor);
    zframe_t *frame = msg ? zmsg_first(msg) : NULL;
    int rc = -1;
    if (frame && zframe_size(frame) == sizeof *report) {
        memcpy(report, zframe_data(frame), sizeof *report);
        rc = 0;
    }
    zmsg_destroy(&msg);
    return rc;
}

int
leader_resign(leader_t *self, int64_t timeout_ms, bool clean)
{
    if (zstr_send(self->actor, clean ? "RESIGN CLEAN" : "RESIGN") != 0)
        return -1;
    int64_t deadline = clock_mono_ms() + timeout_ms;
    zpoller_t *poller = zpoller_new(self->actor, NULL);
    int rc = -1;
    while (poller) {
        int64_t wait = deadline - clock_mono_ms();
        if (wait <= 0 || !zpoller_wait(poller, (int) wait))
            break;
        leader_report_t r;
        if (leader_recv(self, &r) == 0 && r.type != LEADER_RENEWED) {
            rc = r.type == LEADER_RESIGNED ? 0 : -1;
            break;
        }
    }
    zpoller_destroy(&poller);
    return rc;
}
