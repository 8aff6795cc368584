/*  test_lease — the lease/epoch encoding (broker/lease.h). */
#include "check.h"
#include "lease.h"

int
main(void)
{
    uint64_t l = lease_make(7, 12345);
    CHECK(lease_epoch(l) == 7);
    CHECK((l & LEASE_COUNTER_MASK) == 12345);
    CHECK(lease_valid(l));
    //  epoch 0 is never issued: no broker run named
    CHECK(!lease_valid(lease_make(0, 99)));
    CHECK(!lease_valid((1ULL << LEASE_COUNTER_BITS) - 1));
    CHECK(lease_valid(1ULL << LEASE_COUNTER_BITS));
    //  the counter wraps inside its bits, never into the epoch
    CHECK(lease_epoch(lease_make(3, LEASE_COUNTER_MASK + 5)) == 3);
    //  the largest epoch survives the round trip
    CHECK(lease_epoch(lease_make(LEASE_EPOCH_MAX, 1)) == LEASE_EPOCH_MAX);
    //  earlier runs of this database: [first_epoch, epoch)
    CHECK(lease_earlier_run(lease_make(5, 1), 5, 9));
    CHECK(lease_earlier_run(lease_make(8, 1), 5, 9));
    CHECK(!lease_earlier_run(lease_make(9, 1), 5, 9));     //  this run
    CHECK(!lease_earlier_run(lease_make(10, 1), 5, 9));    //  a later one: not ours
    CHECK(!lease_earlier_run(lease_make(4, 1), 5, 9));     //  before this database began
    CHECK(!lease_earlier_run(lease_make(0, 1), 0, 9));     //  epoch 0 never
    return check_result("test_lease");
}
