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

ptrdiff_t lockstep_count_breaks(const unsigned char *p, ptrdiff_t n) {
    // Every break byte counts, then each CR LF pair gives one back; blocks of 64 KB keep the
    // sums in 32-bit lanes, so both loops vectorize.
    ptrdiff_t total = 0;
    for (ptrdiff_t i = 0; i < n;) {
        ptrdiff_t end = n - i < 65536 ? n : i + 65536, stop = end < n ? end : n - 1;
        unsigned int breaks = 0, pairs = 0;
        for (ptrdiff_t k = i; k < end; k++) breaks += (unsigned char)(p[k] - 0x0A) <= 3;
        for (ptrdiff_t k = i; k < stop; k++) pairs += (p[k] == 0x0D) & (p[k + 1] == 0x0A);
        total += (ptrdiff_t)breaks - (ptrdiff_t)pairs;
        i = end;
    }
    return total;
}
