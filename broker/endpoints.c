/*  endpoints — see endpoints.h. */
#include "endpoints.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "log.h"

const char *
endpoints_bound(void *socket, const char *fallback, char *buf, size_t size)
{
    size_t len = size;
    if (size == 0)
        return fallback;
    if (zmq_getsockopt(socket, ZMQ_LAST_ENDPOINT, buf, &len) != 0 || len == 0 || !buf[0])
        snprintf(buf, size, "%s", fallback);
    buf[size - 1] = 0;
    return buf;
}

int
endpoints_write(const char *path, const char *frontend, const char *backend, const char *progress)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp) {
        log_error("endpoints_file_failed", "file=%s error=\"path too long\"", path);
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        log_error("endpoints_file_failed", "file=%s error=\"%s\"", tmp, strerror(errno));
        return -1;
    }
    int ok = fprintf(f, "frontend=%s\nbackend=%s\nprogress=%s\n", frontend, backend, progress) > 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        log_error("endpoints_file_failed", "file=%s error=\"%s\"", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}
