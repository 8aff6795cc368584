/*  lease — the fencing token a task carries while a worker runs it.

    A lease is one 64-bit number: the epoch of the broker run that issued
    it in the top 24 bits, a counter of that run in the low 40 bits. Epoch
    0 is never issued, so a lease below 1 << 40 names no broker run. Each
    database starts its epochs at a random point (schema.c), so the epochs
    of two databases do not meet (docs/architecture.md, "Leases"). */
#ifndef SHOAL_LEASE_H
#define SHOAL_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#define LEASE_COUNTER_BITS 40
#define LEASE_COUNTER_MASK ((1ULL << LEASE_COUNTER_BITS) - 1)
#define LEASE_EPOCH_MAX    ((1ULL << (64 - LEASE_COUNTER_BITS)) - 1)

//  The lease number `counter` of broker run `epoch`.
static inline uint64_t
lease_make(uint64_t epoch, uint64_t counter)
{
    return (epoch << LEASE_COUNTER_BITS) | (counter & LEASE_COUNTER_MASK);
}

//  The epoch of the broker run that issued a lease (0: none did).
static inline uint64_t
lease_epoch(uint64_t lease)
{
    return lease >> LEASE_COUNTER_BITS;
}

//  True when some broker run could have issued this lease.
static inline bool
lease_valid(uint64_t lease)
{
    return lease_epoch(lease) >= 1;
}

//  True when an earlier run on this database issued the lease: its epoch
//  lies in [first_epoch, epoch) of the database (first_epoch >= 1).
static inline bool
lease_earlier_run(uint64_t lease, uint64_t first_epoch, uint64_t epoch)
{
    uint64_t e = lease_epoch(lease);
    return e >= first_epoch && e >= 1 && e < epoch;
}

#endif
