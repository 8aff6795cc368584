/*  test_leader_rule — when a standby may take the leadership, until when a
    leader may commit, the timing settings (broker/leader_rule.c). */
#include <unistd.h>

#include "check.h"
#include "leader.h"

static bool s_alive(long pid) { return pid == 4242; }

int
main(void)
{
    //  nobody leads, or the lease lapsed: take it
    CHECK(leader_may_take("", 2000, false, "h1", s_alive));
    CHECK(leader_may_take(NULL, 2000, false, "h1", s_alive));
    CHECK(leader_may_take("h2:17", 0, false, "h1", s_alive));
    CHECK(leader_may_take("h2:17", -5, false, "h1", s_alive));
    //  a live lease of another machine: wait, at start-up too
    CHECK(!leader_may_take("h2:17", 1, false, "h1", s_alive));
    CHECK(!leader_may_take("h2:17", 2999, true, "h1", s_alive));
    //  a live lease of a process of this machine that is gone: only a
    //  broker starting (a restart in place) takes it at once
    CHECK(leader_may_take("h1:17", 2999, true, "h1", s_alive));
    CHECK(!leader_may_take("h1:17", 2999, false, "h1", s_alive));
    CHECK(!leader_may_take("h1:4242", 2999, true, "h1", s_alive));     //  still running
    //  a host whose name is a prefix of ours, or ours of it, is another machine
    CHECK(!leader_may_take("h:17", 2999, true, "h1", s_alive));
    CHECK(!leader_may_take("h11:17", 2999, true, "h1", s_alive));
    //  what is not "host:pid" is never taken early
    CHECK(!leader_may_take("h1:", 2999, true, "h1", s_alive));
    CHECK(!leader_may_take("h1:x7", 2999, true, "h1", s_alive));
    CHECK(!leader_may_take("h1:7x", 2999, true, "h1", s_alive));
    CHECK(!leader_may_take("h1", 2999, true, "h1", s_alive));
    CHECK(!leader_may_take("h1:0", 2999, true, "h1", s_alive));
    //  the real check: this process is alive, pid 0 and a huge one are not
    CHECK(leader_pid_alive((long) getpid()));
    CHECK(!leader_pid_alive(0));
    CHECK(!leader_pid_alive(999999999L));
    //  the commit deadline: a TTL after the renewal was sent
    CHECK(leader_commit_deadline(1000, 3000) == 4000);
    //  settings: the renewal at most half the TTL, the poll within the TTL
    leader_config_t c = { .ttl_ms = 3000, .renew_ms = 1000, .poll_ms = 250 };
    CHECK(leader_check_config(&c) == NULL);
    c.renew_ms = 1600;
    CHECK(leader_check_config(&c) != NULL);
    c.renew_ms = 1500;
    CHECK(leader_check_config(&c) == NULL);
    c.ttl_ms = 100;
    CHECK(leader_check_config(&c) != NULL);
    c.ttl_ms = 3000;
    c.poll_ms = 5;
    CHECK(leader_check_config(&c) != NULL);
    c.poll_ms = 3001;
    CHECK(leader_check_config(&c) != NULL);

    //  the recovery window: only when a lease went out after the last clean stop
    CHECK(!leader_leases_out(0, 0));        //  a new database: nothing ever leased
    CHECK(!leader_leases_out(4, 4));        //  term 4 leased, then stopped clean
    CHECK(!leader_leases_out(3, 5));        //  leased at 3, clean stops since
    CHECK(leader_leases_out(6, 5));         //  leased after the clean stop of 5
    CHECK(leader_leases_out(7, 0));         //  leased, never a clean stop
    return check_result("test_leader_rule");
}
