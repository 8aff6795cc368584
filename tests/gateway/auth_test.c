/*  auth_test (test_gateway_auth) — bearer tokens from a file: comments and blanks
    skipped, the scheme required, a changed file read again without a
    restart, a file that becomes unreadable keeps the last tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "check.h"

static void
s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

//  Wait past the one-second stat interval.
static void
s_tick(void)
{
    struct timespec ts = { 1, 100 * 1000 * 1000 };
    nanosleep(&ts, NULL);
}

int
main(void)
{
    char dir[] = "/tmp/shoal-auth-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[300];
    snprintf(path, sizeof path, "%s/tokens", dir);
    char err[512];
    s_write(path, "# comment\n\n");
    CHECK(auth_new(path, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "holds no token");
    CHECK(auth_new("/nonexistent/tokens", err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "cannot read");
    s_write(path, "# comment\n  alpha  \n\nbeta\r\n");
    auth_t *auth = auth_new(path, err, sizeof err);
    CHECK(auth != NULL);
    CHECK(auth_count(auth) == 2);
    CHECK(auth_check(auth, "Bearer alpha"));
    CHECK(auth_check(auth, "bearer beta"));
    CHECK(!auth_check(auth, "Bearer alph"));
    CHECK(!auth_check(auth, "Bearer alphaa"));
    CHECK(!auth_check(auth, "alpha"));
    CHECK(!auth_check(auth, "Basic alpha"));
    CHECK(!auth_check(auth, "Bearer "));
    CHECK(!auth_check(auth, NULL));
    CHECK(!auth_check(auth, "Bearer # comment"));
    //  a token revoked and another added: seen without a restart
    s_tick();
    s_write(path, "gamma\n");
    s_tick();
    CHECK(auth_check(auth, "Bearer gamma"));
    CHECK(!auth_check(auth, "Bearer alpha"));
    //  the file gone: the last tokens stay
    unlink(path);
    s_tick();
    CHECK(auth_check(auth, "Bearer gamma"));
    auth_destroy(&auth);
    CHECK(auth == NULL);
    auth_destroy(&auth);
    rmdir(dir);
    return check_result("test_gateway_auth");
}
