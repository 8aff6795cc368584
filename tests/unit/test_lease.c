/*  test_lease — the lease encoding (broker/lease.h). */
#include "check.h"
#include "lease.h"

int
main(void)
{
    //  tag 0: the plain epoch in the top bits, the counter below
    uint64_t l = lease_make(0, 7, 12345);
    CHECK(l == ((7ULL << 40) | 12345));
    CHECK(lease_valid(l));
    CHECK(lease_epoch(0, l) == 7);
    //  a lease below 1 << 40 names no broker run
    CHECK(!lease_valid(99));
    CHECK(!lease_valid((1ULL << LEASE_COUNTER_BITS) - 1));
    //  the counter wraps inside its bits, never into the epoch
    CHECK(lease_epoch(0, lease_make(0, 3, LEASE_COUNTER_MASK + 5)) == 3);
    //  any tag: the round trip holds and the field is never 0
    uint64_t tags[] = { 0, 1, 12345, LEASE_FIELD_SPAN - 1, LEASE_FIELD_SPAN, 16777214 };
    for (size_t t = 0; t < sizeof tags / sizeof tags[0]; t++)
        for (uint64_t e = 1; e < 100000; e += 997) {
            uint64_t x = lease_make(tags[t], e, e * 31);
            CHECK(lease_valid(x));
            CHECK(lease_epoch(tags[t], x) == e);
            CHECK((x & LEASE_COUNTER_MASK) == e * 31);
        }
    CHECK(lease_valid(lease_make(LEASE_FIELD_SPAN - 4, 5, 0)));
    //  earlier runs of this database: epochs below the current one
    CHECK(lease_earlier_run(lease_make(99, 5, 1), 99, 9));
    CHECK(lease_earlier_run(lease_make(99, 1, 1), 99, 9));
    CHECK(!lease_earlier_run(lease_make(99, 9, 1), 99, 9));     //  this run
    CHECK(!lease_earlier_run(lease_make(99, 10, 1), 99, 9));    //  a later one: not ours
    CHECK(!lease_earlier_run(5, 99, 9));                        //  none
    //  another database's leases (another tag) do not read as ours
    int accepted = 0;
    for (uint64_t tag = 1; tag <= 1000; tag++)
        for (uint64_t e = 1; e <= 10; e++)
            accepted += lease_earlier_run(lease_make(tag * 7919, e, 1), 4242, 11);
    CHECK(accepted == 0);
    return check_result("test_lease");
}
