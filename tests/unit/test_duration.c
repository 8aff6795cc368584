/*  test_duration — the ages shoal prune --older-than takes (lib/duration.c). */
#include "check.h"
#include "duration.h"

int
main(void)
{
    int64_t s = -1;
    char err[256];
    CHECK(duration_parse("30d", &s, err, sizeof err) == 0 && s == 30 * 86400);
    CHECK(duration_parse("12h", &s, err, sizeof err) == 0 && s == 12 * 3600);
    CHECK(duration_parse("90m", &s, err, sizeof err) == 0 && s == 90 * 60);
    CHECK(duration_parse("45s", &s, err, sizeof err) == 0 && s == 45);
    CHECK(duration_parse("2w", &s, err, sizeof err) == 0 && s == 14 * 86400);
    CHECK(duration_parse("1d12h", &s, err, sizeof err) == 0 && s == 86400 + 12 * 3600);
    CHECK(duration_parse("0s", &s, err, sizeof err) == 0 && s == 0);
    //  refused, each naming the bad value
    s = 7;
    CHECK(duration_parse("30", &s, err, sizeof err) == -1 && s == 7);
    CHECK_CONTAINS(err, "'30'");
    CHECK_CONTAINS(err, "no unit");
    CHECK(duration_parse("30x", &s, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "'x' is not a unit");
    CHECK(duration_parse("d", &s, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "'d' is not a duration");
    CHECK(duration_parse("", &s, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "empty");
    CHECK(duration_parse(NULL, &s, err, sizeof err) == -1);
    CHECK(duration_parse("-5d", &s, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "'-5d'");
    CHECK(duration_parse("5 d", &s, err, sizeof err) == -1);
    CHECK(duration_parse("99999999999999999999d", &s, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "100 years");
    CHECK(duration_parse("36600d", &s, err, sizeof err) == 0);
    CHECK(duration_parse("5300w", &s, err, sizeof err) == -1);
    return check_result("test_duration");
}
