/*  monitor — shared state of shoal-monitor (internal header).

    main.c      flags, the subscription, snapshot requests, the loop
    plain.c     --plain (a line per job per interval) and --json output
    tui.c       the full-screen ncurses view
*/
#ifndef SHOAL_MONITOR_H
#define SHOAL_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#include "keys.h"
#include "shoal.pb-c.h"

typedef struct {
    const char *broker;         //  frontend endpoint (snapshots, control)
    const char *progress;       //  PUB endpoint
    bool        plain;
    bool        json;
    int64_t     interval_ms;    //  --plain: at most one line per job per interval
    int64_t     timeout_ms;     //  the broker counts as lost after this silence
    const keys_t *keys;         //  CURVE client keys (borrowed), NULL: plaintext;
                                //  keys_apply() on both sockets before connecting
} monitor_config_t;

//  Print a snapshot as plain lines (one per job) on stdout.
void plain_snapshot(const monitor_config_t *cfg, const Shoal__Snapshot *snap);
//  Print an event as a plain line.
void plain_event(const monitor_config_t *cfg, const Shoal__Event *event);
//  Print a line saying the broker is unreachable / back.
void plain_broker(const monitor_config_t *cfg, bool up);
//  The same as JSON lines.
void json_snapshot(const Shoal__Snapshot *snap);
void json_event(const Shoal__Event *event);
void json_broker(bool up);

//  Run the full-screen view; returns the exit code.
int tui_run(const monitor_config_t *cfg);

#endif
