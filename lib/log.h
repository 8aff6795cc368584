/*  log — one line per event, logfmt (key=value), on stderr, with a level.

    log_info("worker_joined", "worker=%s slots=%u", id, slots);
    prints: ts=2026-11-22T10:00:00.123Z level=info prog=shoal-broker msg=worker_joined worker=w1 slots=4

    Values that may hold spaces or quotes must go through log_quote().
*/
#ifndef SHOAL_LOG_H
#define SHOAL_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum { LEVEL_DEBUG = 0, LEVEL_INFO, LEVEL_WARN, LEVEL_ERROR } log_level_t;

//  Set the program name printed on every line and the minimum level.
void log_init(const char *prog, log_level_t min_level);
//  Parse "debug|info|warn|error"; returns -1 when the name is unknown.
int log_level_parse(const char *name);
//  Write one line: msg is a bare word, fmt adds key=value pairs (may be NULL).
void log_write(log_level_t level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
//  True when lines at this level are printed (to skip building costly values).
bool log_enabled(log_level_t level);
//  Quote a value for logfmt into buf (always NUL-terminated); returns buf.
const char *log_quote(const char *value, char *buf, size_t size);

#define log_debug(msg, ...) do { if (log_enabled(LEVEL_DEBUG)) log_write(LEVEL_DEBUG, msg, __VA_ARGS__); } while (0)
#define log_info(msg, ...)  log_write(LEVEL_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...)  log_write(LEVEL_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_write(LEVEL_ERROR, msg, __VA_ARGS__)

#endif
