/*  stopsig — the stop signals of a shoal program: SIGTERM and SIGINT (and
    SIGHUP where asked) call the program's handler, SIGPIPE is ignored, and
    CZMQ's own handler is off (it only sets zsys_interrupted, which no
    shoal program reads). Each main also turns CZMQ's handler off first
    thing, so a stop during start-up terminates instead of being lost. */
#ifndef SHOAL_STOPSIG_H
#define SHOAL_STOPSIG_H

#include <stdbool.h>

void stopsig_install(void (*handler)(int sig), bool hup);

#endif
