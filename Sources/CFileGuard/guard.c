#define _GNU_SOURCE
#include "CFileGuard.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define SLOTS 32
#define MESSAGE 1024

static _Atomic uintptr_t starts[SLOTS];
static _Atomic uintptr_t ends[SLOTS];
static char messages[SLOTS][MESSAGE];
static size_t lengths[SLOTS];
static struct sigaction previous;
static pthread_once_t installed = PTHREAD_ONCE_INIT;
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_sigbus(int number, siginfo_t *info, void *context) {
    uintptr_t address = (uintptr_t)info->si_addr;
    for (int i = 0; i < SLOTS; i++) {
        uintptr_t start = atomic_load(&starts[i]), end = atomic_load(&ends[i]);
        if (start != 0 && address >= start && address < end) {
            ssize_t ignored = write(STDERR_FILENO, messages[i], lengths[i]);
            (void)ignored;
            _exit(74);
        }
    }
    // Not ours: as if this handler had never been installed.
    if (previous.sa_flags & SA_SIGINFO) { previous.sa_sigaction(number, info, context); return; }
    if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) { previous.sa_handler(number); return; }
    signal(SIGBUS, SIG_DFL);   // returning re-runs the access, which now ends the process as usual
}

static void install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &previous);
}

int lockstep_guard_mapping(const void *base, size_t length, const char *path) {
    pthread_once(&installed, install);
    pthread_mutex_lock(&slots_lock);
    int slot = -1;
    for (int i = 0; i < SLOTS; i++) if (atomic_load(&starts[i]) == 0) { slot = i; break; }
    if (slot >= 0) {
        static const char tail[] = ": the file was truncated while it was being read\n";
        size_t room = MESSAGE - sizeof tail - sizeof "lockstep: ";
        size_t n = strlen(path) < room ? strlen(path) : room;
        memcpy(messages[slot], "lockstep: ", 10);
        memcpy(messages[slot] + 10, path, n);
        memcpy(messages[slot] + 10 + n, tail, sizeof tail - 1);
        lengths[slot] = 10 + n + sizeof tail - 1;
        atomic_store(&ends[slot], (uintptr_t)base + length);
        atomic_store(&starts[slot], (uintptr_t)base);
    }
    pthread_mutex_unlock(&slots_lock);
    return slot;
}

void lockstep_unguard_mapping(int slot) {
    if (slot < 0 || slot >= SLOTS) return;
    pthread_mutex_lock(&slots_lock);
    atomic_store(&starts[slot], 0);
    atomic_store(&ends[slot], 0);
    pthread_mutex_unlock(&slots_lock);
}
