#ifndef LOCKSTEP_ALLOCATION_COUNTER_H
#define LOCKSTEP_ALLOCATION_COUNTER_H
/// Test support: counts heap allocations (malloc, calloc, realloc, aligned variants) made by
/// threads that opted in with `allocation_counter_enable_thread`. The test executable's
/// definitions of malloc & co. take precedence over libc's; they forward to glibc's __libc_*.
void allocation_counter_enable_thread(int enabled);
void allocation_counter_reset(void);
long allocation_counter_count(void);
/// 0 in sanitizer builds, whose runtime owns malloc.
int allocation_counter_available(void);
#endif
