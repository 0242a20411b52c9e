#include "CVector.h"
#include <math.h>

ptrdiff_t lockstep_first_beyond(const float *x, ptrdiff_t n, float limit) {
    // Blocks of 256 with no early exit inside, so that the compiler vectorizes the test; the
    // block that holds a value beyond is then scanned for the first.
    ptrdiff_t i = 0;
    while (i < n) {
        ptrdiff_t end = n - i < 256 ? n : i + 256;
        int beyond = 0;
        for (ptrdiff_t k = i; k < end; k++) beyond |= !(fabsf(x[k]) <= limit);
        if (beyond) {
            for (ptrdiff_t k = i; k < end; k++) if (!(fabsf(x[k]) <= limit)) return k;
        }
        i = end;
    }
    return -1;
}

typedef unsigned char lockstep_bytes16 __attribute__((ext_vector_type(16)));
typedef unsigned short lockstep_shorts16 __attribute__((ext_vector_type(16)));

static inline lockstep_bytes16 lockstep_load16(const unsigned char *p) {
    lockstep_bytes16 v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

ptrdiff_t lockstep_count_breaks(const unsigned char *p, ptrdiff_t n, ptrdiff_t *empty) {
    // Sixteen bytes at a time: a lane adds one for a break byte and gives one back for a CR
    // whose next byte is LF; another counts a break followed by a break that is not LF after CR
    // (an empty line begins there). 255 steps at most per byte-wide sum, so no lane overflows.
    ptrdiff_t total = 0, emptyLines = 0, i = 0;
    while (i + 17 <= n) {
        lockstep_bytes16 sum = 0, emptySum = 0;
        for (int step = 0; step < 255 && i + 17 <= n; step++, i += 16) {
            lockstep_bytes16 v = lockstep_load16(p + i), next = lockstep_load16(p + i + 1);
            lockstep_bytes16 isBreak = (lockstep_bytes16)((lockstep_bytes16)(v - 0x0A) <= 3);
            lockstep_bytes16 nextIsBreak = (lockstep_bytes16)((lockstep_bytes16)(next - 0x0A) <= 3);
            lockstep_bytes16 isPair = (lockstep_bytes16)((v == 0x0D) & (next == 0x0A));
            sum += (isBreak & 1) - (isPair & 1);
            emptySum += isBreak & nextIsBreak & ~isPair & 1;
        }
        total += __builtin_reduce_add(__builtin_convertvector(sum, lockstep_shorts16));
        emptyLines += __builtin_reduce_add(__builtin_convertvector(emptySum, lockstep_shorts16));
    }
    for (; i < n; i++) {
        int isBreak = (unsigned char)(p[i] - 0x0A) <= 3, hasNext = i + 1 < n;
        int isPair = hasNext && p[i] == 0x0D && p[i + 1] == 0x0A;
        total += isBreak - isPair;
        emptyLines += isBreak && hasNext && (unsigned char)(p[i + 1] - 0x0A) <= 3 && !isPair;
    }
    *empty = emptyLines;
    return total;
}
