/*  s3proto — the pure parts of talking to S3: the size rules of a multipart
    upload, request paths, the bits of XML shoal reads from the answers and
    what an error code means for a retry. No I/O here (tests/unit/test_s3.c). */
#ifndef SHOAL_WORKER_S3PROTO_H
#define SHOAL_WORKER_S3PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define S3_MIN_PART_SIZE    (5ULL << 20)     //  S3's floor for every part but the last
#define S3_MAX_PART_SIZE    (5ULL << 30)
#define S3_MAX_PARTS        10000
#define S3_MAX_PUT_SIZE     (5ULL << 30)     //  a single PUT can carry at most this
#define S3_DEFAULT_PART_SIZE        (16ULL << 20)
#define S3_DEFAULT_MULTIPART_ABOVE  (64ULL << 20)

//  How a body of `size` bytes goes up: parts == 0 means one PUT; otherwise
//  `parts` parts of `part_size` bytes (the last one shorter). The part size
//  grows past the configured one when 10,000 parts would not hold the body.
//  Returns 0, or -1 with a message when the body is too large for S3.
typedef struct {
    uint32_t parts;
    uint64_t part_size;
} s3_plan_t;
int s3_plan(uint64_t size, uint64_t part_size, uint64_t multipart_above, s3_plan_t *plan,
            char *err, size_t errlen);
//  Offset and length of part number `n` (1-based) of a plan for `size` bytes.
void s3_plan_part(const s3_plan_t *plan, uint64_t size, uint32_t n, uint64_t *offset, uint64_t *len);

//  Percent-encode a key for a request path (every byte but A-Z a-z 0-9 - _ . ~
//  and '/'), as SigV4 wants it for S3. Returns 0, or -1 if it does not fit.
int s3_encode_key(const char *key, char *out, size_t outlen);
//  Percent-encode a query value (also '/'). Returns 0, or -1 if it does not fit.
int s3_encode_value(const char *value, char *out, size_t outlen);

//  The text of the first <tag>...</tag> at or after `from` in an XML answer,
//  entities decoded, into out (cut to outlen). Returns the offset just past
//  the element, or 0 when there is none. A bounded scan, not an XML parser:
//  S3's answers are flat and shoal reads only leaf elements from them.
size_t s3_xml_text(const char *xml, size_t len, size_t from, const char *tag, char *out, size_t outlen);

//  What a failed request means.
typedef enum {
    S3_RETRYABLE = 0,       //  the network, throttling, a server error: try again later
    S3_PERMANENT,           //  credentials, permissions, a missing bucket: retrying will not help
} s3_class_t;
//  Classify by the S3 error code (may be NULL or "") and the HTTP status.
s3_class_t s3_classify(const char *code, long status);

#endif
