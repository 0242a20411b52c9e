#ifndef LOCKSTEP_CTHREADING_H
#define LOCKSTEP_CTHREADING_H
#include <pthread.h>

/// Pins the calling thread to one CPU. Returns 0 on success, an errno value otherwise.
int lockstep_pin_current_thread(int cpu);

/// The CPU the calling thread runs on now, or -1.
int lockstep_current_cpu(void);

/// Writes up to `capacity` CPU numbers the process may run on into `cpus`; returns how many.
int lockstep_allowed_cpus(int *cpus, int capacity);

/// A pause hint for spin loops.
void lockstep_cpu_relax(void);

/// Asks the CPU to bring the cache line at `address` in for reading: a gather of rows in random
/// order issues it some rows ahead, so that their cache misses overlap instead of following one
/// another. A hint only; any address is allowed.
static inline void lockstep_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// A word written by one thread and read by others only for messages (no ordering implied):
/// atomic, so that the read is not a data race.
static inline void lockstep_relaxed_store(long *address, long value) { __atomic_store_n(address, value, __ATOMIC_RELAXED); }
static inline long lockstep_relaxed_load(const long *address) { return __atomic_load_n(address, __ATOMIC_RELAXED); }

/// Gives the CPU to another runnable thread.
void lockstep_yield(void);

/// Starts a thread named `name` (at most 15 bytes are kept) with a stack of `stack_bytes` that
/// runs `body(context)`, into `thread` (join it). Returns 0, or the errno value of a thread that
/// could not be started (then `body` never runs).
int lockstep_start_thread(void (*body)(void *), void *context, size_t stack_bytes, const char *name, pthread_t *thread);

/// A fiber: a job with a stack of its own that runs on whichever thread switches to it and gives
/// the thread back only by switching away. Several workers run on one thread this way, each
/// suspended at a collective until the thread's others have reached it.
typedef struct lockstep_fiber lockstep_fiber;

/// The calling thread's own context, as a fiber to switch from and back to (no stack of its own).
/// NULL when memory runs out.
lockstep_fiber *lockstep_fiber_for_thread(void);

/// A fiber with a stack of `stack_bytes` (and a guard page below it) that runs `body(context)`
/// the first time it is switched to; when `body` returns, the fiber switches to `return_to` for
/// good. NULL, with errno set, when the stack cannot be mapped.
lockstep_fiber *lockstep_fiber_create(void (*body)(void *), void *context, size_t stack_bytes, lockstep_fiber *return_to);

/// Saves the running fiber `from` and resumes `to`; returns when something switches back to `from`.
void lockstep_fiber_switch(lockstep_fiber *from, lockstep_fiber *to);

/// Frees a fiber that is not running (finished, never started, or the thread's own).
void lockstep_fiber_destroy(lockstep_fiber *fiber);
#endif
