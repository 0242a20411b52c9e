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

/// Gives the CPU to another runnable thread.
void lockstep_yield(void);

/// Starts a thread named `name` (at most 15 bytes are kept) with a stack of `stack_bytes` that
/// runs `body(context)`, into `thread` (join it). Returns 0, or the errno value of a thread that
/// could not be started (then `body` never runs).
int lockstep_start_thread(void (*body)(void *), void *context, size_t stack_bytes, const char *name, pthread_t *thread);
#endif
