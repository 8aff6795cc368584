/*  leader — leadership of the brokers sharing one database (docs/failover.md).

    The lease is the one row of table shoal_leader: who leads, under which
    term, until when (the database's clock). Taking the lease bumps the
    epoch (shoal_meta) in the same transaction: a term is the epoch of the
    broker run that leads, so leases issued under an earlier term are
    stale to the new leader as across a restart (lease.h, fence.c).

    leader_rule.c   the decisions, pure: may a standby take over, until
                    when may a leader commit (unit-tested)
    leader.c        the SQL: take the lease (standby), renew it (a thread
                    of its own with its own connection), resign */
#ifndef SHOAL_BROKER_LEADER_H
#define SHOAL_BROKER_LEADER_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

//  Defaults (flags --lease-ttl-ms, --lease-renew-ms, --standby-poll-ms).
#define LEADER_TTL_MS_DEFAULT     3000
#define LEADER_RENEW_MS_DEFAULT   1000
#define LEADER_POLL_MS_DEFAULT    250

typedef struct {
    const char *db;             //  libpq connection string or URI
    const char *id;             //  this broker ("host:pid")
    int64_t ttl_ms;             //  a lease lasts this long after its renewal
    int64_t renew_ms;           //  the leader renews this often
    int64_t poll_ms;            //  a standby looks at the lease this often
} leader_config_t;

//  The lease as a standby last read it, and what taking it gave.
typedef struct {
    char     holder[128];       //  who leads ("" when nobody)
    uint64_t holder_term;
    int64_t  expires_in_ms;     //  of the holder's lease (<= 0: lapsed)
    uint64_t term;              //  out when taken: this run's term (= epoch)
    uint64_t lease_tag;         //  out when taken: the database's lease tag
    int64_t  since_us;          //  out when taken: unix time the term began
    char     previous[128];     //  out when taken: who led before ("" when nobody)
    bool     previous_clean;    //  out when taken: the term before resigned with no task out
                                //  (no worker runs a task or holds a result of it)
    bool     leases_out;        //  out when taken: a lease was handed out after the last
                                //  clean stop, so a worker may still run or hold a task
} leader_claim_t;

// ---- leader_rule.c

//  May a standby take the lease from `holder` whose lease expires in
//  expires_in_ms? Yes when it lapsed or nobody holds it; and, when
//  `restart` (this broker's first look at start-up), when the holder is a
//  process of this machine (`host`) that no longer exists (a restart in
//  place after a crash: no need to wait out the lease).
bool leader_may_take(const char *holder, int64_t expires_in_ms, bool restart, const char *host,
                     bool (*alive)(long pid));
//  True when process pid exists (and is no zombie): the default `alive`.
bool leader_pid_alive(long pid);
//  The leader may commit until this moment (monotonic ms): a TTL after it
//  sent the last renewal that succeeded. The database's clock starts the
//  lease later than that, so a leader stops before any standby may start.
int64_t leader_commit_deadline(int64_t renewal_sent_ms, int64_t ttl_ms);
//  Check the timing settings: the renewal well inside the TTL. NULL, or
//  what is wrong.
const char *leader_check_config(const leader_config_t *cfg);
//  May a worker still run, or hold the result of, a task leased by an
//  earlier term? Only if a term handed out a lease (leased_term, the last
//  that did) after the last one that stopped with none out (clean_term).
bool leader_leases_out(uint64_t leased_term, uint64_t clean_term);

// ---- leader.c

//  Wait as a standby until this broker leads (0, claim filled) or
//  stop() says to give up (-1). Binds nothing meanwhile.
int leader_wait(const leader_config_t *cfg, bool (*stop)(void), leader_claim_t *claim);

typedef enum {
    LEADER_RENEWED,             //  the lease is ours for another TTL from `sent_ms`
    LEADER_DEPOSED,             //  another broker leads now (`holder`)
    LEADER_UNREACHABLE,         //  the renewal failed (`error`); the deadline stands
    LEADER_RESIGNED             //  the lease is given up (after leader_resign)
} leader_report_type_t;

typedef struct {
    leader_report_type_t type;
    int64_t sent_ms;            //  RENEWED: when the renewal was sent (monotonic)
    char    holder[128];        //  DEPOSED: who leads now
    uint64_t holder_term;
    char    error[256];         //  UNREACHABLE
} leader_report_t;

typedef struct _leader_t leader_t;

//  Start renewing the lease of `term` every renew_ms (a thread with its
//  own connection). NULL on failure.
leader_t *leader_new(const leader_config_t *cfg, uint64_t term);
//  Stop renewing (the lease then lapses by itself); NULLs the pointer.
void leader_destroy(leader_t **self_p);
//  The socket to poll for reports (a zsock_t *).
void *leader_sock(leader_t *self);
//  Read one report. 0, or -1 when none could be read.
int leader_recv(leader_t *self, leader_report_t *report);
//  Give the lease up now, so a standby takes over at once (clean
//  shutdown): waits up to timeout_ms for the database. `clean`: no task is
//  leased and every result received is committed, so the next leader need
//  not wait for workers to resend (shoal_meta clean_stop_term). 0 or -1.
int leader_resign(leader_t *self, int64_t timeout_ms, bool clean);

#endif
