#include "CThreading.h"
#include <sched.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int lockstep_pin_current_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

int lockstep_current_cpu(void) { return sched_getcpu(); }

int lockstep_allowed_cpus(int *cpus, int capacity) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
    int n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < capacity; cpu++) {
        if (CPU_ISSET(cpu, &set)) cpus[n++] = cpu;
    }
    return n;
}

void lockstep_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void lockstep_yield(void) { sched_yield(); }

struct lockstep_thread_start {
    void (*body)(void *);
    void *context;
    char name[16];
};

static void *lockstep_thread_main(void *argument) {
    struct lockstep_thread_start start = *(struct lockstep_thread_start *)argument;
    free(argument);
    pthread_setname_np(pthread_self(), start.name);
    start.body(start.context);
    return NULL;
}

int lockstep_start_thread(void (*body)(void *), void *context, size_t stack_bytes, const char *name, pthread_t *thread) {
    struct lockstep_thread_start *start = malloc(sizeof *start);
    if (start == NULL) return ENOMEM;
    start->body = body;
    start->context = context;
    snprintf(start->name, sizeof start->name, "%s", name);
    pthread_attr_t attributes;
    int error = pthread_attr_init(&attributes);
    if (error == 0) error = pthread_attr_setstacksize(&attributes, stack_bytes);
    if (error == 0) error = pthread_create(thread, &attributes, lockstep_thread_main, start);
    pthread_attr_destroy(&attributes);
    if (error != 0) free(start);
    return error;
}
