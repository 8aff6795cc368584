/*  text — small string helpers used at trust boundaries. */
#ifndef SHOAL_TEXT_H
#define SHOAL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  True when the n bytes at s are valid UTF-8 without NUL bytes.
bool text_utf8_valid(const char *s, size_t n);
//  Copy s into a new string where invalid UTF-8 bytes become '?' and
//  control bytes other than \t \n \r become ' '; at most max bytes of input
//  are used. Returns NULL on allocation failure. Caller frees.
char *text_sanitize(const char *s, size_t n, size_t max);
//  The same, keeping the last max bytes of input instead of the first (a
//  tail of output), from the first UTF-8 sequence that starts inside them.
char *text_sanitize_tail(const char *s, size_t n, size_t max);
//  Format an integer with thousands separators ("12,345,678") into buf.
const char *text_thousands(unsigned long long v, char *buf, size_t size);

//  `len` bytes as lowercase hex into `out` (2 * len + 1 bytes); returns out.
char *text_hex(const uint8_t *bytes, size_t len, char *out);

#endif
