/*  csvin — CSV records from a file, through libcsv.

    What Excel and people write: RFC 4180 quoting, quoted fields holding
    delimiters, quotes ("") and line breaks, CRLF or LF line ends, a UTF-8
    byte-order mark before the header (dropped), blank lines (skipped), and
    the delimiter `,`, `;` or tab — given, or detected from the first line
    (the most frequent of the three outside quotes; `,` when none).

    Every record is reported with the line it starts on. A bad record (a
    stray quote, a quote never closed, a record longer than the bound) is
    an error naming that line; reading goes on with the line after it, so
    one bad quote does not swallow the rest of the file. Memory is bounded
    by max_record (the bytes of one record), whatever the input size.
*/
#ifndef SHOAL_CSVIN_H
#define SHOAL_CSVIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CSVIN_MAX_FIELDS 256    //  fields of one record

typedef struct _csvin_t csvin_t;

//  Open a reader over `file` (borrowed, not closed). `name` is used in
//  messages; `delimiter` is ',', ';', '\t', or 0 to detect it from the
//  first line. Returns NULL when out of memory.
csvin_t *csvin_new(FILE *file, const char *name, size_t max_record, char delimiter);
//  Destroy the reader; idempotent, NULLs the caller's pointer.
void csvin_destroy(csvin_t **self_p);
//  Read the next record: 1 with *fields (n_fields NUL-terminated strings,
//  owned by the reader until the next call), 0 at the end, -1 for a bad
//  record with "NAME:LINE: reason" in err (reading can go on), -2 for an
//  I/O error (stop).
int csvin_next(csvin_t *self, char ***fields, size_t *n_fields, char *err, size_t errlen);
//  Line the last record (or error) started on, 1-based.
uint64_t csvin_line(const csvin_t *self);
//  The delimiter in use (detected after the first line is read).
char csvin_delimiter(const csvin_t *self);

#endif
