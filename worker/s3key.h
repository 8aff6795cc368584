/*  s3key — the object key of a stored body, from the task's s3_key template.

    Names the worker fills: {{sha256}} (hex of the body), {{sha256_2}} and
    {{sha256_4}} (its first 2 and the next 2 hex digits: fan-out folders),
    {{job}}, {{seq}}, {{filename}} (the last segment of the URL's path, or
    of upload_s3's path), {{ext}} (its extension with the dot, or ""),
    {{tag}} (the task's tag). Without a template the key is content-addressed:
    sha256/ab/cd/abcd... so a body downloaded twice is stored once. */
#ifndef SHOAL_WORKER_S3KEY_H
#define SHOAL_WORKER_S3KEY_H

#include <stddef.h>
#include <stdint.h>

#define S3KEY_MAX 1024      //  S3's limit on a key, in bytes

//  What a key template can name.
typedef struct {
    const char *sha256;     //  64 hex digits
    uint32_t    job;
    uint32_t    seq;
    const char *filename;   //  may be NULL (""), see s3key_filename
    const char *tag;        //  may be NULL
} s3key_vars_t;

//  Render `tmpl` (NULL: the content-addressed default) into out. Returns 0,
//  or -1 with a message naming the unknown variable, an unclosed {{, an empty
//  or too long key, or a key that would start with '/'.
int s3key_render(const char *tmpl, const s3key_vars_t *vars, char *out, size_t outlen,
                 char *err, size_t errlen);
//  The last segment of a URL's path (or a file path), percent-decoded, with
//  '/', '\' and control bytes made '_'; "index" when the path ends in '/'.
void s3key_filename(const char *url_or_path, char *out, size_t outlen);

#endif
