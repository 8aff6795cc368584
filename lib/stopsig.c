/*  stopsig — the stop signals of a shoal program. See stopsig.h. */
#include "stopsig.h"

#include <czmq.h>
#include <signal.h>
#include <string.h>

void
stopsig_install(void (*handler)(int sig), bool hup)
{
    zsys_handler_set(NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (hup)
        sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}
