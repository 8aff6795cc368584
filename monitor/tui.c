/*  tui — the full-screen view (issue 6 fills this in). */
#include <stdio.h>

#include "monitor.h"

int
tui_run(const monitor_config_t *cfg, volatile sig_atomic_t *stop)
{
    fprintf(stderr, "shoal-monitor: the full-screen view is not built yet; use --plain or --json\n");
    return 2;
}
