/*  test_archive — the gzip JSONL archive of shoal delete/prune --archive
    (cli/archive.c): what is written reads back line for line, only a
    committed archive has the final name, an existing one is not replaced. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "archive.h"
#include "check.h"

//  The whole decompressed content of a gzip file into buf; its length or -1.
static int
s_read(const char *path, char *buf, int size)
{
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return -1;
    int n = gzread(gz, buf, (unsigned) size - 1);
    gzclose(gz);
    if (n >= 0)
        buf[n] = 0;
    return n;
}

int
main(void)
{
    char dir[] = "/tmp/test_archive.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char err[512], path[600], part[600], buf[4096];
    snprintf(path, sizeof path, "%s/job-7.jsonl.gz", dir);
    snprintf(part, sizeof part, "%s/.job-7.jsonl.gz.part", dir);

    //  an abandoned archive leaves nothing
    archive_t *a = archive_new(dir, 7, err, sizeof err);
    CHECK(a != NULL);
    CHECK(archive_line(a, "{\"seq\":0}", err, sizeof err) == 0);
    CHECK(access(part, F_OK) == 0);
    archive_destroy(&a);
    CHECK(a == NULL);
    archive_destroy(&a);                //  idempotent
    CHECK(access(part, F_OK) != 0 && access(path, F_OK) != 0);

    //  a committed one holds every line, each ended by a newline
    a = archive_new(dir, 7, err, sizeof err);
    CHECK(a != NULL);
    CHECK_STR(archive_path(a), path);
    CHECK(archive_line(a, "{\"seq\":0,\"outcome\":\"ok\"}", err, sizeof err) == 0);
    CHECK(archive_line(a, "{\"seq\":1,\"error\":\"caf\xc3\xa9\"}", err, sizeof err) == 0);
    CHECK(archive_line(a, "", err, sizeof err) == 0);
    CHECK(archive_lines(a) == 3);
    CHECK(access(path, F_OK) != 0);     //  not under its name before the commit
    CHECK(archive_commit(&a, err, sizeof err) == 0);
    CHECK(a == NULL);
    CHECK(access(part, F_OK) != 0);
    CHECK(s_read(path, buf, sizeof buf) > 0);
    CHECK_STR(buf, "{\"seq\":0,\"outcome\":\"ok\"}\n{\"seq\":1,\"error\":\"caf\xc3\xa9\"}\n\n");

    //  an archive is never replaced; a directory that is not one is named
    CHECK(archive_new(dir, 7, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "job-7.jsonl.gz exists");
    CHECK(archive_new("/nonexistent/dir", 8, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "/nonexistent/dir");
    CHECK(archive_new(path, 8, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "not a directory");

    //  an empty job: a valid, empty archive
    a = archive_new(dir, 9, err, sizeof err);
    CHECK(a && archive_commit(&a, err, sizeof err) == 0);
    snprintf(path, sizeof path, "%s/job-9.jsonl.gz", dir);
    CHECK(s_read(path, buf, sizeof buf) == 0);

    unlink(path);
    snprintf(path, sizeof path, "%s/job-7.jsonl.gz", dir);
    unlink(path);
    rmdir(dir);
    return check_result("test_archive");
}
