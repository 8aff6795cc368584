/*  test_stopsig — a shoal program's stop signals (lib/stopsig.c): SIGTERM
    and SIGINT reach its handler, SIGHUP only where asked, SIGPIPE is
    ignored, and CZMQ's own handler (which would only set
    zsys_interrupted) is not the one that gets them. */
#include <czmq.h>
#include <signal.h>

#include "check.h"
#include "stopsig.h"

static volatile sig_atomic_t s_got = 0;

static void
s_handler(int sig)
{
    s_got = sig;
}

int
main(void)
{
    zsock_t *s = zsock_new(ZMQ_PAIR);       //  CZMQ initialised, as in every program
    stopsig_install(s_handler, false);
    raise(SIGTERM);
    CHECK(s_got == SIGTERM);
    CHECK(!zsys_interrupted);
    s_got = 0;
    raise(SIGINT);
    CHECK(s_got == SIGINT);
    s_got = 0;
    raise(SIGPIPE);                          //  ignored: we are still here
    CHECK(s_got == 0);
    struct sigaction old;
    sigaction(SIGHUP, NULL, &old);
    CHECK(old.sa_handler != s_handler);     //  not asked for
    stopsig_install(s_handler, true);
    raise(SIGHUP);
    CHECK(s_got == SIGHUP);
    zsock_destroy(&s);
    return check_result("test_stopsig");
}
