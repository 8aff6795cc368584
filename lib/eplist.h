/*  eplist — a list of broker endpoints, "tcp://a:5556,tcp://b:5556"
    (--broker, SHOAL_BROKER): the brokers sharing one database, of which
    one leads (docs/failover.md). A client connects its socket to every
    one; only the leader listens, so with ZMQ_IMMEDIATE its messages go to
    the leader, and after a takeover to the new one, without a restart. */
#ifndef SHOAL_EPLIST_H
#define SHOAL_EPLIST_H

#include <stddef.h>

//  Most endpoints in one list.
#define EPLIST_MAX 16

//  Number of endpoints in a list (empty entries not counted).
size_t eplist_count(const char *list);
//  Copy endpoint i (0-based) of the list into buf; NULL when there is none.
const char *eplist_get(const char *list, size_t i, char *buf, size_t size);
//  Connect a libzmq socket to every endpoint of the list; more than one
//  sets ZMQ_IMMEDIATE first (messages only to a connected broker). 0, or
//  -1 with the endpoint at fault and why in err.
int eplist_connect(void *socket, const char *list, char *err, size_t errlen);

//  The progress endpoints of a list of frontends: each one's port + 2
//  (tcp://a:5555,tcp://b:5555 -> tcp://a:5557,tcp://b:5557); an endpoint
//  that is not tcp://host:port gives tcp://localhost:5557. Into out.
const char *eplist_progress(const char *frontends, char *out, size_t size);

#endif
