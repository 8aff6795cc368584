/*  wirescan — decode cost and correlation id without decoding. See wirescan.h. */
#include "wirescan.h"

//  A message nested deeper than this is not shoal's (the schema has no cycles).
#define MAX_DEPTH 32

//  Read a varint at *p (before end). Returns false on truncation or overflow.
static bool
s_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t out = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        out |= (uint64_t) (b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = out;
            return true;
        }
    }
    return false;
}

//  Size of one element of a repeated field of this type in protobuf-c's arrays.
static size_t
s_elem_size(ProtobufCType type)
{
    switch (type) {
        case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
            return 8;
        case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
            return sizeof(void *);
        case PROTOBUF_C_TYPE_BYTES:
            return sizeof(ProtobufCBinaryData);
        default:
            return 4;
    }
}

//  Elements in a packed run of `len` bytes of this type.
static size_t
s_packed_count(ProtobufCType type, const uint8_t *p, size_t len)
{
    size_t w = s_elem_size(type);
    if (type == PROTOBUF_C_TYPE_FIXED32 || type == PROTOBUF_C_TYPE_SFIXED32 || type == PROTOBUF_C_TYPE_FLOAT
    ||  type == PROTOBUF_C_TYPE_FIXED64 || type == PROTOBUF_C_TYPE_SFIXED64 || type == PROTOBUF_C_TYPE_DOUBLE)
        return len / w;
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += !(p[i] & 0x80);
    return n;
}

//  Cost of a length-delimited field's payload `p`/`len` under field `f`.
static size_t s_message(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len,
                        size_t limit, int depth);

static size_t
s_delimited(const ProtobufCFieldDescriptor *f, const uint8_t *p, size_t len, size_t limit, int depth)
{
    bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
    switch (f->type) {
        case PROTOBUF_C_TYPE_MESSAGE:
            return (repeated ? sizeof(void *) : 0)
                 + s_message(f->descriptor, p, len, limit, depth + 1);
        case PROTOBUF_C_TYPE_STRING:
            return (repeated ? sizeof(char *) : 0) + len + 1;
        case PROTOBUF_C_TYPE_BYTES:
            return (repeated ? sizeof(ProtobufCBinaryData) : 0) + len;
        default:
            //  a packed run of scalars
            return repeated ? s_packed_count(f->type, p, len) * s_elem_size(f->type) : 0;
    }
}

static size_t
s_message(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len, size_t limit, int depth)
{
    size_t cost = d->sizeof_message;
    const uint8_t *end = p + len;
    if (depth > MAX_DEPTH)
        return cost;
    while (p < end && cost <= limit) {
        uint64_t key, n = 0;
        if (!s_varint(&p, end, &key))
            break;
        const uint8_t *start = p;
        unsigned wt = (unsigned) (key & 7);
        if (wt == 0 && !s_varint(&p, end, &n))
            break;
        if (wt == 1 || wt == 5) {
            n = wt == 1 ? 8 : 4;
            if ((size_t) (end - p) < n)
                break;
            p += n;
        }
        if (wt == 2 && (!s_varint(&p, end, &n) || n > (uint64_t) (end - p)))
            break;
        if (wt != 0 && wt != 1 && wt != 2 && wt != 5)
            break;
        uint64_t number = key >> 3;
        const ProtobufCFieldDescriptor *f = number <= UINT32_MAX
            ? protobuf_c_message_descriptor_get_field(d, (unsigned) number) : NULL;
        if (!f)
            cost += sizeof(ProtobufCMessageUnknownField) + (size_t) (p - start) + (wt == 2 ? n : 0);
        else
        if (wt == 2)
            cost += s_delimited(f, p, (size_t) n, limit - cost, depth);
        else
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            cost += s_elem_size(f->type);
        if (wt == 2)
            p += n;
    }
    return cost;
}

size_t
wirescan_cost(const ProtobufCMessageDescriptor *desc, const void *data, size_t len, size_t limit)
{
    return s_message(desc, data, len, limit, 0);
}

bool
wirescan_corr(const void *data, size_t len, uint64_t *corr)
{
    const uint8_t *p = data, *end = p + len;
    bool found = false;
    while (p < end) {
        uint64_t key, v;
        if (!s_varint(&p, end, &key))
            break;
        unsigned wt = (unsigned) (key & 7);
        if (wt == 0) {
            if (!s_varint(&p, end, &v))
                break;
            if (key >> 3 == 2) {
                *corr = v;          //  the last occurrence wins, as in protobuf
                found = true;
            }
        }
        else
        if (wt == 1 || wt == 5) {
            size_t n = wt == 1 ? 8 : 4;
            if ((size_t) (end - p) < n)
                break;
            p += n;
        }
        else
        if (wt == 2) {
            if (!s_varint(&p, end, &v) || v > (uint64_t) (end - p))
                break;
            p += v;
        }
        else
            break;
    }
    return found;
}
