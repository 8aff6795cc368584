/*  jobupdate — what shoal update does to a job's defaults: the change
    merged over the stored defaults, and a line saying what changed. Pure
    functions (no database, no sockets): the store thread calls them. */
#ifndef SHOAL_JOBUPDATE_H
#define SHOAL_JOBUPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "shoal.pb-c.h"

//  Merge `change` over the encoded defaults `old` (old_len 0: none): every
//  field the change sets replaces the job's (submessages field by field);
//  a header replaces the job's headers of the same name (case-insensitive);
//  a retry_status list replaces the job's list. On success returns 0 and
//  the encoded result in *out (caller frees, *out_len bytes); else -1 with
//  why in err.
int jobupdate_merge(const uint8_t *old, size_t old_len, const Shoal__JobDefaults *change,
                    uint8_t **out, size_t *out_len, char *err, size_t errlen);
//  Describe what the change sets, e.g. "header Cookie; timeout_ms=5000;
//  priority=3" (priority 0: unchanged). Empty when it sets nothing.
void jobupdate_describe(const Shoal__JobDefaults *change, uint32_t priority, char *buf, size_t size);

#endif
