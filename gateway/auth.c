/*  auth — see auth.h. */
#include "auth.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "clock.h"
#include "errbuf.h"
#include "log.h"

struct _auth_t {
    pthread_mutex_t lock;
    char    *path;              //  the token file
    char    *tokens[AUTH_MAX_TOKENS];
    size_t   count;
    struct stat seen;           //  the file as last read
    int64_t  checked_ms;        //  when it was last stat'ed
};

//  Read the file into a fresh token list. Returns the count, or -1 + err.
static int
s_read(const char *path, char **tokens, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errbuf_set(err, errlen, "cannot read the token file %s: %s", path, strerror(errno));
    int n = 0;
    char line[AUTH_MAX_TOKEN + 2];
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n') { }
            log_warn("token_too_long", "file=%s max=%d", path, AUTH_MAX_TOKEN);
            continue;
        }
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        len = strlen(s);
        while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
            s[--len] = 0;
        if (!len || *s == '#' || n >= AUTH_MAX_TOKENS)
            continue;
        tokens[n] = strdup(s);
        if (tokens[n])
            n++;
    }
    fclose(f);
    return n;
}

static void
s_free_tokens(char **tokens, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(tokens[i]);
}

auth_t *
auth_new(const char *path, char *err, size_t errlen)
{
    auth_t *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path))) {
        free(self);
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    stat(path, &self->seen);
    int n = s_read(path, self->tokens, err, errlen);
    if (n <= 0) {
        if (n == 0)
            errbuf_set(err, errlen, "the token file %s holds no token (one per line)", path);
        auth_destroy(&self);
        return NULL;
    }
    self->count = (size_t) n;
    self->checked_ms = clock_mono_ms();
    return self;
}

void
auth_destroy(auth_t **self_p)
{
    auth_t *self = *self_p;
    if (!self)
        return;
    s_free_tokens(self->tokens, self->count);
    pthread_mutex_destroy(&self->lock);
    free(self->path);
    free(self);
    *self_p = NULL;
}

//  Read the file again when it changed (called with the lock held).
static void
s_refresh(auth_t *self)
{
    int64_t now = clock_mono_ms();
    if (now - self->checked_ms < 1000)
        return;
    self->checked_ms = now;
    struct stat st;
    if (stat(self->path, &st) != 0) {
        log_warn("token_file_unreadable", "file=%s error=%s", self->path, strerror(errno));
        return;
    }
    if (st.st_mtim.tv_sec == self->seen.st_mtim.tv_sec && st.st_mtim.tv_nsec == self->seen.st_mtim.tv_nsec
    &&  st.st_size == self->seen.st_size && st.st_ino == self->seen.st_ino)
        return;
    char *fresh[AUTH_MAX_TOKENS];
    char err[512];
    int n = s_read(self->path, fresh, err, sizeof err);
    if (n < 0) {
        log_warn("token_file_unreadable", "file=%s", self->path);
        return;
    }
    s_free_tokens(self->tokens, self->count);
    memcpy(self->tokens, fresh, (size_t) n * sizeof *fresh);
    self->count = (size_t) n;
    self->seen = st;
    log_info("token_file_reloaded", "file=%s tokens=%d", self->path, n);
}

//  Compare in time that depends only on the lengths.
static bool
s_equal(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    unsigned diff = alen != blen;
    for (size_t i = 0; i < alen; i++)
        diff |= (unsigned char) a[i] ^ (unsigned char) b[i < blen ? i : 0];
    return diff == 0;
}

bool
auth_check(auth_t *self, const char *header)
{
    if (!header || strncasecmp(header, "Bearer ", 7) != 0)
        return false;
    const char *token = header + 7;
    while (*token == ' ')
        token++;
    size_t len = strlen(token);
    while (len && token[len - 1] == ' ')
        len--;
    if (!len || len > AUTH_MAX_TOKEN)
        return false;
    pthread_mutex_lock(&self->lock);
    s_refresh(self);
    bool ok = false;
    for (size_t i = 0; i < self->count; i++)
        ok |= s_equal(token, len, self->tokens[i]);
    pthread_mutex_unlock(&self->lock);
    return ok;
}

size_t
auth_count(auth_t *self)
{
    pthread_mutex_lock(&self->lock);
    s_refresh(self);
    size_t n = self->count;
    pthread_mutex_unlock(&self->lock);
    return n;
}
