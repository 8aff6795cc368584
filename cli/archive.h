/*  archive — a job's results kept outside the database before it is
    deleted (shoal delete/prune --archive DIR): DIR/job-ID.jsonl.gz, the
    lines of `shoal results ID` gzip-compressed (zlib). The file is written
    as DIR/.job-ID.jsonl.gz.part and renamed only once complete and synced,
    so a file with the final name is always a whole archive. */
#ifndef SHOAL_ARCHIVE_H
#define SHOAL_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

typedef struct _archive_t archive_t;

//  Start the archive of job `job_id` in directory `dir` (which must exist).
//  Refuses to replace an existing archive. NULL with why in err.
archive_t *archive_new(const char *dir, uint32_t job_id, char *err, size_t errlen);
//  Append one line (a newline is added). 0, or -1 with why in err.
int archive_line(archive_t *self, const char *text, char *err, size_t errlen);
//  Finish: flush, compress, sync, rename into place. 0, or -1 with why in
//  err (the partial file is removed). The archive is destroyed either way.
int archive_commit(archive_t **self_p, char *err, size_t errlen);
//  Abandon an unfinished archive (its partial file is removed); NULLs the
//  caller's pointer.
void archive_destroy(archive_t **self_p);
//  The final path (DIR/job-ID.jsonl.gz).
const char *archive_path(const archive_t *self);
//  Lines written so far.
uint64_t archive_lines(const archive_t *self);

#endif
