/*  input_fields — the value parsers behind input_json.c: a JSON value
    checked and turned into a spec field (strings, bounded integers,
    booleans, bytes, lists, headers, form fields, env, body store, labels),
    with an error naming the field. Private to lib/input_json*.c. */
#ifndef SHOAL_LIB_INPUT_FIELDS_H
#define SHOAL_LIB_INPUT_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "shoal.pb-c.h"

typedef struct {
    bool  from_text;    //  values may be strings (CSV)
    char *err;
    size_t errlen;
} ctx_t;

//  Set the error (printf-style) and return -1.
int jf_fail(ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
//  A NUL-terminated copy of n bytes; NULL when out of memory.
char *jf_strdup_n(const char *s, size_t n);
//  A string without NUL bytes into *out (replacing it).
int jf_string(ctx_t *c, const char *field, json_t *v, char **out);
//  A non-negative integer up to max (or its text, from_text).
int jf_uint(ctx_t *c, const char *field, json_t *v, uint64_t max, uint64_t *out);
//  The same into an optional uint32 field.
int jf_u32(ctx_t *c, const char *field, json_t *v, uint32_t max, protobuf_c_boolean *has, uint32_t *out);
//  A boolean (or, from_text, its text: true/1/yes, false/0/no).
int jf_bool(ctx_t *c, const char *field, json_t *v, protobuf_c_boolean *has, protobuf_c_boolean *out);
//  Text, or base64 when `base64`, into an optional bytes field.
int jf_bytes(ctx_t *c, const char *field, json_t *v, bool base64, protobuf_c_boolean *has, ProtobufCBinaryData *out);
//  A list of strings (replacing any before).
int jf_string_list(ctx_t *c, const char *field, json_t *v, char ***items, size_t *n_items);
//  "headers": an object {"Name": "value"} or a list of "Name: value".
int jf_headers(ctx_t *c, json_t *v, Shoal__Header ***out, size_t *n_out);
//  "form": multipart fields, each a value or a file.
int jf_form(ctx_t *c, json_t *v, Shoal__FormField ***out, size_t *n_out);
//  "env": an object {"NAME": "value"} or a list of "NAME=value".
int jf_env(ctx_t *c, json_t *v, char ***out, size_t *n_out);
//  "store": where the body goes (inline, dir, s3, discard, default).
int jf_store(ctx_t *c, json_t *v, protobuf_c_boolean *has, Shoal__BodyStore *out);
//  "require": {"region": "eu", ...} -> labels (replacing any before).
int jf_require(ctx_t *c, const char *field, json_t *v, Shoal__Label ***labels, size_t *n);

#endif
