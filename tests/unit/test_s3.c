/*  test_s3 — the pure parts of the S3 sink (worker/s3key.c, worker/s3proto.c):
    key templates, file names from URLs, error classification, the part
    arithmetic of multipart uploads, key encoding and the XML scan. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "s3key.h"
#include "s3proto.h"

#define SHA "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

static void
test_keys(void)
{
    char key[S3KEY_MAX + 1], err[256];
    s3key_vars_t v = { SHA, 7, 42, "report.pdf", "court-a" };
    CHECK(s3key_render(NULL, &v, key, sizeof key, err, sizeof err) == 0);
    CHECK_STR(key, "sha256/ab/cd/" SHA);
    CHECK(s3key_render("pdf/{{job}}/{{seq}}-{{filename}}", &v, key, sizeof key, err, sizeof err) == 0);
    CHECK_STR(key, "pdf/7/42-report.pdf");
    CHECK(s3key_render("{{tag}}/{{sha256}}{{ext}}", &v, key, sizeof key, err, sizeof err) == 0);
    CHECK_STR(key, "court-a/" SHA ".pdf");
    CHECK(s3key_render("{{ sha256_2 }}/{{sha256_4}}", &v, key, sizeof key, err, sizeof err) == 0);
    CHECK_STR(key, "ab/cd");
    CHECK(s3key_render("a/{{nope}}", &v, key, sizeof key, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "unknown variable 'nope'");
    CHECK(s3key_render("a/{{seq", &v, key, sizeof key, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "without '}}'");
    CHECK(s3key_render("/abs/{{seq}}", &v, key, sizeof key, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "starts with '/'");
    CHECK(s3key_render("{{tag}}", &(s3key_vars_t) { SHA, 1, 2, NULL, NULL }, key, sizeof key, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "empty");
    //  a key past S3's 1,024 bytes is refused, not cut
    char *big = malloc(2100);
    memset(big, 'k', 1990);
    strcpy(big + 1990, "{{sha256}}");
    CHECK(s3key_render(big, &v, key, sizeof key, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "longer than 1024");
    free(big);
    //  {{ext}} of a name without a dot, or a dot file
    v.filename = "README";
    CHECK(s3key_render("x{{ext}}", &v, key, sizeof key, err, sizeof err) == 0);
    CHECK_STR(key, "x");
    v.filename = ".hidden";
    CHECK(s3key_render("x{{ext}}", &v, key, sizeof key, err, sizeof err) == 0);
    CHECK_STR(key, "x");
}

static void
test_filenames(void)
{
    char f[256];
    s3key_filename("https://court.example/docs/2024/case%20no%2017.pdf?download=1#p2", f, sizeof f);
    CHECK_STR(f, "case no 17.pdf");
    s3key_filename("https://court.example/docs/", f, sizeof f);
    CHECK_STR(f, "index");
    s3key_filename("https://court.example", f, sizeof f);
    CHECK_STR(f, "index");
    s3key_filename("https://h/a%2Fb%00c", f, sizeof f);
    CHECK_STR(f, "a_b_c");
    s3key_filename("/data/out/scan 1.tif", f, sizeof f);
    CHECK_STR(f, "scan 1.tif");
    s3key_filename("https://h/..", f, sizeof f);
    CHECK_STR(f, "index");
    s3key_filename("https://h/x%4", f, sizeof f);    //  a cut escape stays as it is
    CHECK_STR(f, "x%4");
}

static void
test_classify(void)
{
    //  credentials, permissions, a missing bucket: permanent
    CHECK(s3_classify("InvalidAccessKeyId", 403) == S3_PERMANENT);
    CHECK(s3_classify("SignatureDoesNotMatch", 403) == S3_PERMANENT);
    CHECK(s3_classify("AccessDenied", 403) == S3_PERMANENT);
    CHECK(s3_classify("NoSuchBucket", 404) == S3_PERMANENT);
    CHECK(s3_classify("ExpiredToken", 400) == S3_PERMANENT);
    CHECK(s3_classify("EntityTooLarge", 400) == S3_PERMANENT);
    //  the server's trouble, throttling, damage on the way: retryable
    CHECK(s3_classify("InternalError", 500) == S3_RETRYABLE);
    CHECK(s3_classify("SlowDown", 503) == S3_RETRYABLE);
    CHECK(s3_classify("ServiceUnavailable", 503) == S3_RETRYABLE);
    CHECK(s3_classify("RequestTimeout", 400) == S3_RETRYABLE);
    CHECK(s3_classify("NoSuchUpload", 404) == S3_RETRYABLE);
    CHECK(s3_classify("BadDigest", 400) == S3_RETRYABLE);
    CHECK(s3_classify("SomethingNew", 502) == S3_RETRYABLE);
    CHECK(s3_classify("SomethingNew", 409) == S3_PERMANENT);
    //  no code (a proxy, a HEAD, the network)
    CHECK(s3_classify(NULL, 0) == S3_RETRYABLE);
    CHECK(s3_classify("", 503) == S3_RETRYABLE);
    CHECK(s3_classify("", 429) == S3_RETRYABLE);
    CHECK(s3_classify("", 408) == S3_RETRYABLE);
    CHECK(s3_classify("", 403) == S3_PERMANENT);
    CHECK(s3_classify(NULL, 404) == S3_PERMANENT);
}

static void
test_plan(void)
{
    s3_plan_t p;
    char err[256];
    uint64_t off, len;
    const uint64_t MiB = 1ULL << 20;
    //  at or below the threshold: one PUT, even an empty body
    CHECK(s3_plan(0, 16 * MiB, 64 * MiB, &p, err, sizeof err) == 0 && p.parts == 0);
    CHECK(s3_plan(64 * MiB, 16 * MiB, 64 * MiB, &p, err, sizeof err) == 0 && p.parts == 0);
    s3_plan_part(&p, 64 * MiB, 1, &off, &len);
    CHECK(off == 0 && len == 64 * MiB);
    //  200 MiB in 16 MiB parts: 13 parts, the last 8 MiB
    CHECK(s3_plan(200 * MiB, 16 * MiB, 64 * MiB, &p, err, sizeof err) == 0);
    CHECK(p.parts == 13 && p.part_size == 16 * MiB);
    s3_plan_part(&p, 200 * MiB, 13, &off, &len);
    CHECK(off == 192 * MiB && len == 8 * MiB);
    s3_plan_part(&p, 200 * MiB, 2, &off, &len);
    CHECK(off == 16 * MiB && len == 16 * MiB);
    //  an exact multiple: no empty last part
    CHECK(s3_plan(96 * MiB, 16 * MiB, 64 * MiB, &p, err, sizeof err) == 0 && p.parts == 6);
    s3_plan_part(&p, 96 * MiB, 6, &off, &len);
    CHECK(off == 80 * MiB && len == 16 * MiB);
    //  the threshold 0: everything but an empty body in parts; parts never below 5 MiB
    CHECK(s3_plan(1, 1, 0, &p, err, sizeof err) == 0 && p.parts == 1 && p.part_size == S3_MIN_PART_SIZE);
    //  above a single PUT's 5 GiB whatever the threshold says
    CHECK(s3_plan(6ULL << 30, 16 * MiB, 5ULL << 30, &p, err, sizeof err) == 0 && p.parts == 384);
    //  10,000 parts at most: the part size grows (whole MiB) to hold the body
    uint64_t huge = 500ULL << 30;
    CHECK(s3_plan(huge, 16 * MiB, 64 * MiB, &p, err, sizeof err) == 0);
    CHECK(p.parts <= S3_MAX_PARTS && p.part_size % MiB == 0 && (uint64_t) p.parts * p.part_size >= huge);
    s3_plan_part(&p, huge, p.parts, &off, &len);
    CHECK(off + len == huge && len > 0);
    //  beyond S3's 48.8 TiB: refused with a message
    CHECK(s3_plan(60ULL << 40, 16 * MiB, 64 * MiB, &p, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "larger than S3 allows");
}

static void
test_encode_and_xml(void)
{
    char out[64];
    CHECK(s3_encode_key("a b/c+d~e_f.g-h", out, sizeof out) == 0);
    CHECK_STR(out, "a%20b/c%2Bd~e_f.g-h");
    CHECK(s3_encode_value("x/y=z", out, sizeof out) == 0);
    CHECK_STR(out, "x%2Fy%3Dz");
    CHECK(s3_encode_key("\xc3\xa9", out, sizeof out) == 0);
    CHECK_STR(out, "%C3%A9");
    CHECK(s3_encode_key("0123456789012345678901234567890123456789012345678901234567890123", out, sizeof out) == -1);

    const char *xml = "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code>"
                      "<Message>The bucket &quot;b&amp;c&quot; &lt;is&gt; gone&#33;</Message></Error>";
    char code[32], msg[128];
    CHECK(s3_xml_text(xml, strlen(xml), 0, "Code", code, sizeof code) > 0);
    CHECK_STR(code, "NoSuchBucket");
    CHECK(s3_xml_text(xml, strlen(xml), 0, "Message", msg, sizeof msg) > 0);
    CHECK_STR(msg, "The bucket \"b&c\" <is> gone!");
    CHECK(s3_xml_text(xml, strlen(xml), 0, "UploadId", msg, sizeof msg) == 0);
    CHECK_STR(msg, "");
    //  bounded: the scan stays inside len, the copy inside outlen
    CHECK(s3_xml_text(xml, 30, 0, "Code", code, sizeof code) == 0);
    char small[5];
    CHECK(s3_xml_text(xml, strlen(xml), 0, "Code", small, sizeof small) > 0);
    CHECK_STR(small, "NoSu");
    //  elements one after the other
    const char *list = "<R><Upload><Key>k1</Key><UploadId>u1</UploadId></Upload>"
                       "<Upload><Key>k2</Key><UploadId>u2</UploadId></Upload></R>";
    char id[16];
    size_t at = s3_xml_text(list, strlen(list), 0, "UploadId", id, sizeof id);
    CHECK(at > 0);
    CHECK_STR(id, "u1");
    CHECK(s3_xml_text(list, strlen(list), at, "UploadId", id, sizeof id) > 0);
    CHECK_STR(id, "u2");
    //  an unclosed element is no element
    CHECK(s3_xml_text("<Code>abc", 9, 0, "Code", code, sizeof code) == 0);
}

int
main(void)
{
    test_keys();
    test_filenames();
    test_classify();
    test_plan();
    test_encode_and_xml();
    return check_result("test_s3");
}
