/*  lease — the fencing token a task carries while a worker runs it.

    A lease is one 64-bit number, opaque to the worker: the epoch of the
    broker run that issued it in the top 24 bits, a counter of that run in
    the low 40 bits. The epoch field is offset by the database's lease tag,
    a random number chosen when the database is first used (shoal_meta
    'lease_tag'), so that a lease names its database too: under another
    database's tag the field decodes to an epoch that database's broker
    runs issued only by chance (about 1 in 16 million per earlier run; see
    docs/architecture.md, "Leases"). The field is never 0, so a lease below
    1 << 40 names no broker run. With tag 0 the encoding is the plain epoch. */
#ifndef SHOAL_LEASE_H
#define SHOAL_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#define LEASE_COUNTER_BITS 40
#define LEASE_COUNTER_MASK ((1ULL << LEASE_COUNTER_BITS) - 1)
#define LEASE_FIELD_SPAN   ((1ULL << (64 - LEASE_COUNTER_BITS)) - 1)  //  values 1 .. 2^24-1

//  The lease number `counter` of broker run `epoch` (>= 1) on the database tagged `tag`.
static inline uint64_t
lease_make(uint64_t tag, uint64_t epoch, uint64_t counter)
{
    uint64_t field = 1 + (epoch - 1 + tag) % LEASE_FIELD_SPAN;
    return (field << LEASE_COUNTER_BITS) | (counter & LEASE_COUNTER_MASK);
}

//  True when some broker run could have issued this lease.
static inline bool
lease_valid(uint64_t lease)
{
    return (lease >> LEASE_COUNTER_BITS) != 0;
}

//  The epoch of the run that issued a valid lease, read under the database's tag.
static inline uint64_t
lease_epoch(uint64_t tag, uint64_t lease)
{
    uint64_t field = lease >> LEASE_COUNTER_BITS;
    return 1 + (field - 1 + LEASE_FIELD_SPAN - tag % LEASE_FIELD_SPAN) % LEASE_FIELD_SPAN;
}

//  True when an earlier run on this database (tag, now at `epoch`) issued the lease.
static inline bool
lease_earlier_run(uint64_t lease, uint64_t tag, uint64_t epoch)
{
    return lease_valid(lease) && lease_epoch(tag, lease) < epoch;
}

#endif
