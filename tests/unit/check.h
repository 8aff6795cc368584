/*  check — the smallest test harness: CHECK(cond) reports file:line and
    counts failures; a test's main returns check_result(). */
#ifndef SHOAL_CHECK_H
#define SHOAL_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures = 0;
static int check_count = 0;

#define CHECK(cond) do { \
    check_count++; \
    if (!(cond)) { \
        check_failures++; \
        fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    } \
} while (0)

#define CHECK_STR(got, want) do { \
    const char *g_ = (got), *w_ = (want); \
    check_count++; \
    if (!g_ || strcmp(g_, w_) != 0) { \
        check_failures++; \
        fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__, w_, g_ ? g_ : "(null)"); \
    } \
} while (0)

#define CHECK_CONTAINS(got, part) do { \
    const char *g_ = (got), *p_ = (part); \
    check_count++; \
    if (!g_ || !strstr(g_, p_)) { \
        check_failures++; \
        fprintf(stderr, "%s:%d: expected \"%s\" in \"%s\"\n", __FILE__, __LINE__, p_, g_ ? g_ : "(null)"); \
    } \
} while (0)

static inline int
check_result(const char *name)
{
    fprintf(stderr, "%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures ? 1 : 0;
}

#endif
