/*  handler_config — "NAME[opt=value,...]=COMMAND", the form of
    --handler and of each line of SHOAL_HANDLERS (docs/handlers.md). */
#include "handler.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"

//  "30m", "90s", "500ms", "2h", a bare number is seconds. -1 when invalid.
static int64_t
s_duration_ms(const char *text)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno || v < 0)
        return -1;
    double scale = 1000;
    if (!*end || strcmp(end, "s") == 0) scale = 1000;
    else if (strcmp(end, "ms") == 0) scale = 1;
    else if (strcmp(end, "m") == 0) scale = 60e3;
    else if (strcmp(end, "h") == 0) scale = 3600e3;
    else return -1;
    double ms = v * scale;
    return ms > 365.0 * 24 * 3600e3 ? -1 : (int64_t) ms;
}

//  "500M", "2G", "64K", a bare number is bytes. 0 when invalid.
static uint64_t
s_size(const char *text)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno || v <= 0)
        return 0;
    double scale = 1;
    if (!*end) scale = 1;
    else if (strcasecmp(end, "k") == 0 || strcasecmp(end, "kb") == 0) scale = 1024.0;
    else if (strcasecmp(end, "m") == 0 || strcasecmp(end, "mb") == 0) scale = 1024.0 * 1024;
    else if (strcasecmp(end, "g") == 0 || strcasecmp(end, "gb") == 0) scale = 1024.0 * 1024 * 1024;
    else return 0;
    double bytes = v * scale;
    return bytes > 1e15 ? 0 : (uint64_t) bytes;
}

//  Apply one "key=value" (or bare "key") option.
static int
s_option(handler_config_t *cfg, const char *key, const char *value, char *err, size_t errlen)
{
    const char *name = cfg->name;
    if (strcmp(key, "warm") == 0 || strcmp(key, "ready") == 0) {
        bool *flag = key[0] == 'w' ? &cfg->warm : &cfg->ready;
        if (!value || strcmp(value, "1") == 0 || strcmp(value, "true") == 0 || strcmp(value, "yes") == 0)
            *flag = true;
        else
        if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 || strcmp(value, "no") == 0)
            *flag = false;
        else
            return errbuf_set(err, errlen, "handler %s: %s must be 0 or 1, not \"%s\"", name, key, value);
        return 0;
    }
    if (!value || !*value)
        return errbuf_set(err, errlen, "handler %s: option %s needs a value (%s=...)", name, key, key);
    if (strcmp(key, "procs") == 0 || strcmp(key, "max_tasks") == 0) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        bool procs = key[0] == 'p';
        if (*end || errno || value[0] == '-' || (procs && (v < 1 || v > HANDLER_MAX_PROCS)))
            return errbuf_set(err, errlen, "handler %s: %s must be %s, not \"%s\"", name, key,
                              procs ? "1..1024" : "a whole number (0 = no limit)", value);
        if (procs)
            cfg->procs = (uint32_t) v;
        else
            cfg->max_tasks = v;
        return 0;
    }
    if (strcmp(key, "max_age") == 0 || strcmp(key, "startup_timeout") == 0 || strcmp(key, "kill_grace") == 0) {
        int64_t ms = s_duration_ms(value);
        if (ms < 0 || (ms == 0 && key[0] != 'm'))
            return errbuf_set(err, errlen, "handler %s: %s must be a duration like 30s, 500ms, 30m, not \"%s\"",
                              name, key, value);
        if (key[0] == 'm') cfg->max_age_ms = ms;
        else if (key[0] == 's') cfg->startup_timeout_ms = ms;
        else cfg->kill_grace_ms = ms;
        return 0;
    }
    if (strcmp(key, "max_rss") == 0 || strcmp(key, "max_line") == 0) {
        uint64_t bytes = s_size(value);
        if (!bytes || (key[4] == 'l' && (bytes < 1024 || bytes > (1ull << 30))))
            return errbuf_set(err, errlen, "handler %s: %s must be a size like 500M or 2G%s, not \"%s\"", name,
                              key, key[4] == 'l' ? " (1K..1G)" : "", value);
        if (key[4] == 'r') cfg->max_rss = bytes;
        else cfg->max_line = (size_t) bytes;
        return 0;
    }
    return errbuf_set(err, errlen, "handler %s: unknown option \"%s\" (procs, max_tasks, max_age, max_rss, "
                      "startup_timeout, kill_grace, max_line, ready, warm)", name, key);
}

int
handler_config_parse(const char *text, handler_config_t *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->procs = 0;         //  not given: the caller decides (shoal-worker: --slots)
    cfg->startup_timeout_ms = 30000;
    cfg->kill_grace_ms = 5000;
    cfg->max_line = HANDLER_DEFAULT_MAX_LINE;
    size_t n = strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");
    if (n == 0 || n >= HANDLER_MAX_NAME || (text[n] != '=' && text[n] != '['))
        return errbuf_set(err, errlen, "handler \"%.80s\": expected NAME=COMMAND or NAME[options]=COMMAND "
                          "(NAME: letters, digits, _ . -, at most %d)", text, HANDLER_MAX_NAME - 1);
    memcpy(cfg->name, text, n);
    const char *p = text + n;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (!close || close[1] != '=')
            return errbuf_set(err, errlen, "handler %s: options need a closing \"]=\" before the command",
                              cfg->name);
        char *opts = strndup(p + 1, (size_t) (close - p - 1));
        if (!opts)
            return errbuf_set(err, errlen, "out of memory");
        char *save = NULL;
        for (char *item = strtok_r(opts, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
            while (isspace((unsigned char) *item))
                item++;
            char *eq = strchr(item, '=');
            if (eq)
                *eq = '\0';
            if (s_option(cfg, item, eq ? eq + 1 : NULL, err, errlen)) {
                free(opts);
                return -1;
            }
        }
        free(opts);
        p = close + 1;
    }
    p++;    //  the '='
    while (isspace((unsigned char) *p))
        p++;
    if (!*p)
        return errbuf_set(err, errlen, "handler %s: the command is empty", cfg->name);
    cfg->command = strdup(p);
    if (!cfg->command)
        return errbuf_set(err, errlen, "out of memory");
    return 0;
}

void
handler_config_free(handler_config_t *cfg)
{
    free(cfg->command);
    cfg->command = NULL;
}
