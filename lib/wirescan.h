/*  wirescan — what a frame would cost to decode, read without decoding it.

    protobuf-c allocates every message, repeated array and string of a frame
    before the caller can look at counts: a 16 MiB frame of empty
    submessages asks for gigabytes and seconds of malloc. These functions
    walk the encoded bytes against the message descriptors and allocate
    nothing, so a receiver can refuse such a frame (and still answer it
    with its correlation id) in time linear in the bytes read.
*/
#ifndef SHOAL_WIRESCAN_H
#define SHOAL_WIRESCAN_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Bytes protobuf-c would allocate to unpack `len` bytes as a message of
//  type `desc` (structs, arrays, strings, unknown fields; never more than
//  it allocates). Stops early and returns a value above `limit` once the
//  total passes `limit`. Malformed bytes end the count where they start
//  (the real decoder refuses them).
size_t wirescan_cost(const ProtobufCMessageDescriptor *desc, const void *data, size_t len,
                     size_t limit);

//  The Envelope's correlation id (field 2) from its top-level fields, without
//  allocating. Returns true and sets *corr if the frame carries one.
bool wirescan_corr(const void *data, size_t len, uint64_t *corr);

#endif
