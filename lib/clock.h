/*  clock — the two clocks every program needs.

    clock_mono_us() for deadlines and durations (never jumps),
    clock_wall_us() for timestamps that leave the process (unix microseconds).
*/
#ifndef SHOAL_CLOCK_H
#define SHOAL_CLOCK_H

#include <stdint.h>

//  Monotonic time in microseconds.
int64_t clock_mono_us(void);
//  Monotonic time in milliseconds.
int64_t clock_mono_ms(void);
//  Wall-clock time in microseconds since the unix epoch.
int64_t clock_wall_us(void);

#endif
