#include "AllocationCounter.h"
#include <stddef.h>
#include <errno.h>
#include <stdatomic.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static _Thread_local int counting = 0;
static atomic_long allocations = 0;

void allocation_counter_enable_thread(int enabled) { counting = enabled; }
void allocation_counter_reset(void) { atomic_store(&allocations, 0); }
long allocation_counter_count(void) { return atomic_load(&allocations); }

static inline void note(void) {
    if (counting) atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
}

#if defined(__has_feature)
#  if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#    define LOCKSTEP_SANITIZED 1
#  endif
#endif

#ifdef LOCKSTEP_SANITIZED
// A sanitizer's runtime owns malloc; counting is not available in such a build.
int allocation_counter_available(void) { return 0; }
#else
int allocation_counter_available(void) { return 1; }

void *malloc(size_t size) { note(); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { note(); return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { note(); return __libc_realloc(p, size); }
void *memalign(size_t alignment, size_t size) { note(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { note(); return __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    note();
    void *p = __libc_memalign(alignment, size);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
#endif
