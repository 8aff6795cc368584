/*  archive — see archive.h. zlib's gzip file functions write the format
    that gunzip, zcat and every language's gzip module read. */
#include "archive.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

struct _archive_t {
    char     path[PATH_MAX];    //  DIR/job-ID.jsonl.gz
    char     part[PATH_MAX];    //  DIR/.job-ID.jsonl.gz.part, while writing
    char     dir[PATH_MAX];     //  DIR, synced after the rename
    gzFile   gz;                //  open on part
    uint64_t lines;             //  lines written
};

archive_t *
archive_new(const char *dir, uint32_t job_id, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        snprintf(err, errlen, "--archive %s: %s", dir, strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "--archive %s: not a directory", dir);
        return NULL;
    }
    archive_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int a = snprintf(self->path, sizeof self->path, "%s/job-%u.jsonl.gz", dir, job_id);
    int b = snprintf(self->part, sizeof self->part, "%s/.job-%u.jsonl.gz.part", dir, job_id);
    snprintf(self->dir, sizeof self->dir, "%s", dir);
    if (a < 0 || b < 0 || (size_t) b >= sizeof self->part) {
        snprintf(err, errlen, "--archive %s: path too long", dir);
        free(self);
        return NULL;
    }
    if (access(self->path, F_OK) == 0) {
        snprintf(err, errlen, "%s exists: not replacing an archive (move it away first)", self->path);
        free(self);
        return NULL;
    }
    int fd = open(self->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    self->gz = fd >= 0 ? gzdopen(fd, "wb6") : NULL;
    if (!self->gz) {
        snprintf(err, errlen, "cannot write %s: %s", self->part, strerror(fd >= 0 ? ENOMEM : errno));
        if (fd >= 0) {
            close(fd);
            unlink(self->part);
        }
        free(self);
        return NULL;
    }
    return self;
}

int
archive_line(archive_t *self, const char *text, char *err, size_t errlen)
{
    size_t n = strlen(text);
    if ((n && gzwrite(self->gz, text, (unsigned) n) != (int) n) || gzputc(self->gz, '\n') != '\n') {
        int zerr = 0;
        const char *msg = gzerror(self->gz, &zerr);
        snprintf(err, errlen, "writing %s: %s", self->part, zerr == Z_ERRNO ? strerror(errno) : msg);
        return -1;
    }
    self->lines++;
    return 0;
}

//  fsync a path (a file, or a directory after a rename). 0 or -1.
static int
s_sync(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int
archive_commit(archive_t **self_p, char *err, size_t errlen)
{
    archive_t *self = *self_p;
    int rc = gzclose(self->gz);
    self->gz = NULL;
    if (rc != Z_OK) {
        snprintf(err, errlen, "finishing %s: %s", self->part, rc == Z_ERRNO ? strerror(errno) : "zlib error");
        archive_destroy(self_p);
        return -1;
    }
    if (s_sync(self->part, O_RDONLY) != 0 || rename(self->part, self->path) != 0) {
        snprintf(err, errlen, "storing %s: %s", self->path, strerror(errno));
        archive_destroy(self_p);
        return -1;
    }
    s_sync(self->dir, O_RDONLY | O_DIRECTORY);
    self->part[0] = 0;          //  nothing to remove any more
    archive_destroy(self_p);
    return 0;
}

void
archive_destroy(archive_t **self_p)
{
    archive_t *self = *self_p;
    if (!self)
        return;
    if (self->gz)
        gzclose(self->gz);
    if (self->part[0])
        unlink(self->part);
    free(self);
    *self_p = NULL;
}

const char *
archive_path(const archive_t *self)
{
    return self->path;
}

uint64_t
archive_lines(const archive_t *self)
{
    return self->lines;
}
