/*  log — logfmt lines on stderr. See log.h. */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static struct {
    char prog[64];          //  program name on every line
    log_level_t min_level;  //  lines below this level are dropped
} s_log = { "shoal", LEVEL_INFO };

static const char *s_level_names[] = { "debug", "info", "warn", "error" };

void
log_init(const char *prog, log_level_t min_level)
{
    snprintf(s_log.prog, sizeof s_log.prog, "%s", prog);
    s_log.min_level = min_level;
}

int
log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, s_level_names[i]) == 0)
            return i;
    return -1;
}

bool
log_enabled(log_level_t level)
{
    return level >= s_log.min_level;
}

const char *
log_quote(const char *value, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    bool needs = (value == NULL || *value == 0);
    for (const char *p = value; p && *p; p++)
        if (*p == ' ' || *p == '"' || *p == '=' || (unsigned char) *p < 0x20)
            needs = true;
    if (!needs) {
        snprintf(buf, size, "%s", value);
        return buf;
    }
    size_t n = 0;
    buf[n++] = '"';
    for (const char *p = value; p && *p && n + 3 < size; p++) {
        unsigned char c = (unsigned char) *p;
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char) c;
        }
        else
        if (c == '\n') {
            buf[n++] = '\\';
            buf[n++] = 'n';
        }
        else
        if (c < 0x20)
            buf[n++] = '?';
        else
            buf[n++] = (char) c;
    }
    if (n < size - 1)
        buf[n++] = '"';
    buf[n < size ? n : size - 1] = 0;
    return buf;
}

void
log_write(log_level_t level, const char *msg, const char *fmt, ...)
{
    if (level < s_log.min_level)
        return;
    char line[2048];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof line,
                     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s prog=%s msg=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, (long) tv.tv_usec / 1000,
                     s_level_names[level], s_log.prog, msg);
    if (fmt && *fmt && n > 0 && (size_t) n < sizeof line - 2) {
        line[n++] = ' ';
        va_list args;
        va_start(args, fmt);
        int m = vsnprintf(line + n, sizeof line - (size_t) n, fmt, args);
        va_end(args);
        if (m > 0)
            n += m;
    }
    if (n < 0)
        return;
    if ((size_t) n > sizeof line - 2)
        n = (int) sizeof line - 2;
    line[n++] = '\n';
    //  one write() per line so lines from threads never interleave
    fwrite(line, 1, (size_t) n, stderr);
}
