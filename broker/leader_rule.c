/*  leader_rule — the leadership decisions that need no database (leader.h). */
#include "leader.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
leader_pid_alive(long pid)
{
    if (pid <= 0)
        return false;
    if (kill((pid_t) pid, 0) != 0 && errno == ESRCH)
        return false;
    //  a zombie is dead to us: it holds no socket and commits nothing
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return true;    //  no /proc: kill() said it exists
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *paren = strrchr(buf, ')');
    return !(paren && paren[1] == ' ' && paren[2] == 'Z');
}

bool
leader_may_take(const char *holder, int64_t expires_in_ms, bool restart, const char *host,
                bool (*alive)(long pid))
{
    if (!holder || !*holder || expires_in_ms <= 0)
        return true;
    if (!restart || !host || !*host)
        return false;
    //  "host:pid": a process of this machine that is gone
    const char *colon = strrchr(holder, ':');
    if (!colon || (size_t) (colon - holder) != strlen(host) || strncmp(holder, host, strlen(host)))
        return false;
    char *end = NULL;
    long pid = strtol(colon + 1, &end, 10);
    if (!end || *end || pid <= 0 || end == colon + 1)
        return false;
    return !(alive ? alive : leader_pid_alive)(pid);
}

int64_t
leader_commit_deadline(int64_t renewal_sent_ms, int64_t ttl_ms)
{
    return renewal_sent_ms + ttl_ms;
}

const char *
leader_check_config(const leader_config_t *cfg)
{
    if (cfg->ttl_ms < 200 || cfg->ttl_ms > 600000)
        return "--lease-ttl-ms must be 200 to 600000";
    if (cfg->renew_ms < 50 || cfg->renew_ms * 2 > cfg->ttl_ms)
        return "--lease-renew-ms must be at least 50 and at most half of --lease-ttl-ms";
    if (cfg->poll_ms < 10 || cfg->poll_ms > cfg->ttl_ms)
        return "--standby-poll-ms must be 10 to --lease-ttl-ms";
    return NULL;
}

bool
leader_leases_out(uint64_t leased_term, uint64_t clean_term)
{
    return leased_term > clean_term;
}
