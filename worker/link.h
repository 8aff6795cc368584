/*  link — the worker's DEALER socket to the broker and the messages only
    the connection needs: Hello, Heartbeat, Bye (see link.c). */
#ifndef SHOAL_WORKER_LINK_H
#define SHOAL_WORKER_LINK_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "keys.h"
#include "outbox.h"
#include "run.h"
#include "shoal.pb-c.h"

//  How soon the socket tries a broker that went away again.
#define LINK_RECONNECT_MS 50

typedef struct {
    //  who we are (set before link_connect)
    const char *endpoint;       //  the broker's backend
    const keys_t *keys;         //  CURVE client keys, NULL: plaintext
    int         hwm;            //  send and receive high-water marks
    char        worker_id[128];
    char        host[128];
    uint64_t    instance;       //  random per process (Hello.instance)
    uint32_t    slots;
    uint32_t    kinds;          //  bit per Shoal__TaskKind
    Shoal__Label **labels;      //  --label key=value (owned by the worker)
    size_t      n_labels;
    //  the handlers' figures, told in Hello and every Heartbeat (NULL: none)
    size_t    (*handler_infos)(void *ctx, Shoal__HandlerInfo *out, size_t max);
    void       *handler_ctx;
    //  the connection
    zsock_t    *dealer;
    void       *raw;            //  dealer's libzmq socket
    zsock_t    *monitor;        //  the dealer's connection events (PAIR)
    void       *monitor_raw;
    uint64_t    sockets;        //  dealers opened by this process (names the monitor)
    uint64_t    handshakes;     //  connections that came up on this socket
    bool        reconnected;    //  one came up again, not yet taken
    bool        connecting;     //  a TCP connection is up, its handshake not done
    int64_t     warned_ms[8];   //  when each kind of handshake failure was last logged
    uint64_t    hello_seq;      //  Hellos sent by this process (Hello.seq)
    int64_t     last_send_ms;
    int64_t     last_recv_ms;
    int64_t     last_hello_ms;
} link_t;

//  A new socket to the broker (the old one is closed at once, unsent
//  messages dropped). 0, or -1 after logging why.
int link_connect(link_t *self);
//  Close the socket, giving the last messages a moment to leave.
void link_close(link_t *self);
//  The descriptor that turns readable when the socket's connection comes
//  up (-1 without a socket), and whether it came up again since the last
//  call: a connection after the socket's first, to a broker restarted on
//  the same endpoint or a new leader, which does not know this worker yet.
//  (The first carries the Hello queued by link_connect.) Call it when the
//  descriptor is readable or `reconnected` is set; reading the events
//  clears the descriptor.
int  link_events_fd(link_t *self);
bool link_take_reconnected(link_t *self);
//  Send one envelope without blocking; -1 when the queue is full.
int link_send(link_t *self, Shoal__Envelope *env);
//  Hello, naming the tasks running here and the results held unacked.
void link_send_hello(link_t *self, runs_t *runs, const outbox_t *outbox);
//  Heartbeat with the number of running tasks; `draining`: take no more.
void link_send_heartbeat(link_t *self, uint32_t running, bool draining);
//  Bye with a reason ("drained", "aborted").
void link_send_bye(link_t *self, const char *reason);

#endif
