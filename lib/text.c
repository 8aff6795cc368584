/*  text — see text.h. */
#include "text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid.
static size_t
s_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else
    if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else
    if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    //  overlong forms, surrogates, beyond U+10FFFF
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
    ||  (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return len;
}

bool
text_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t i = 0;
    while (i < n) {
        if (p[i] == 0)
            return false;
        size_t len = s_utf8_seq(p + i, n - i);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

char *
text_sanitize(const char *s, size_t n, size_t max)
{
    if (n > max)
        n = max;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *) s;
    size_t i = 0, o = 0;
    while (i < n) {
        size_t len = s_utf8_seq(p + i, n - i);
        if (len == 0) {
            out[o++] = '?';
            i++;
        }
        else
        if (len == 1 && p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') {
            out[o++] = ' ';
            i++;
        }
        else {
            memcpy(out + o, p + i, len);
            o += len;
            i += len;
        }
    }
    out[o] = 0;
    return out;
}

char *
text_sanitize_tail(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return text_sanitize(s, n, n);
    const unsigned char *p = (const unsigned char *) s + (n - max);
    size_t skip = 0;
    //  a cut inside a sequence: start at the next lead byte (at most 3 on)
    while (skip < 3 && skip < max && (p[skip] & 0xc0) == 0x80)
        skip++;
    return text_sanitize((const char *) p + skip, max - skip, max - skip);
}

const char *
text_thousands(unsigned long long v, char *buf, size_t size)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", v);
    size_t o = 0;
    for (int i = 0; i < n && o + 1 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0 && o + 2 < size)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    if (size)
        buf[o < size ? o : size - 1] = 0;
    return buf;
}

char *
text_hex(const uint8_t *bytes, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 15];
    }
    out[2 * len] = 0;
    return out;
}
