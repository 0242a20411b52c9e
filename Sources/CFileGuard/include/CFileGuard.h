#ifndef LOCKSTEP_CFILEGUARD_H
#define LOCKSTEP_CFILEGUARD_H

#include <stddef.h>

/// A file mapped into memory raises SIGBUS when another process truncates the file and a page
/// past its new end is read. While a mapping is registered here, such a fault ends the process
/// with one line naming the file and exit status 74 (EX_IOERR) instead of a crash; any other
/// SIGBUS goes to the handler that was there before. Returns a slot to unregister, or -1 when all
/// slots are taken (the mapping then stays unguarded).
int lockstep_guard_mapping(const void *base, size_t length, const char *path);
void lockstep_unguard_mapping(int slot);

#endif
