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
