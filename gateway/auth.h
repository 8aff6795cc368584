/*  auth — bearer tokens from a file, one per line, read again on change.

    Blank lines and lines starting with '#' are ignored; surrounding
    spaces are trimmed. The file is checked (stat) at most once a second
    and read again when its modification time, size or inode changed, so
    adding or revoking a token needs no restart. A file that cannot be read
    keeps the tokens read last (and logs why). Comparison takes the same
    time whatever the token, and no token is ever logged. */
#ifndef GATEWAY_AUTH_H
#define GATEWAY_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_MAX_TOKENS   1000
#define AUTH_MAX_TOKEN    512

typedef struct _auth_t auth_t;

//  Load the token file. NULL with the reason in err when it cannot be
//  read or holds no token.
auth_t *auth_new(const char *path, char *err, size_t errlen);
void auth_destroy(auth_t **self_p);
//  True when `header` (the Authorization header's value, may be NULL) is
//  "Bearer TOKEN" with a token from the file. Thread-safe.
bool auth_check(auth_t *self, const char *header);
//  Number of tokens loaded now.
size_t auth_count(auth_t *self);

#endif
