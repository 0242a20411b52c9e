#define XXH_INLINE_ALL
#include <xxhash.h>
#include <stdlib.h>
#include "CXXHash.h"

struct lockstep_xxh3 { XXH3_state_t state; };

lockstep_xxh3 *lockstep_xxh3_new(void) {
    // XXH3_state_t wants 64-byte alignment (its accumulators are loaded as vectors).
    lockstep_xxh3 *h = aligned_alloc(64, (sizeof(lockstep_xxh3) + 63) / 64 * 64);
    if (h != NULL) XXH3_128bits_reset(&h->state);
    return h;
}

lockstep_xxh3 *lockstep_xxh3_copy(const lockstep_xxh3 *state) {
    lockstep_xxh3 *h = aligned_alloc(64, (sizeof(lockstep_xxh3) + 63) / 64 * 64);
    if (h != NULL) XXH3_copyState(&h->state, &state->state);
    return h;
}

void lockstep_xxh3_free(lockstep_xxh3 *state) { free(state); }

int lockstep_xxh3_update(lockstep_xxh3 *state, const void *bytes, size_t count) {
    return XXH3_128bits_update(&state->state, bytes, count) == XXH_OK ? 0 : 1;
}

void lockstep_xxh3_digest(const lockstep_xxh3 *state, unsigned char out[16]) {
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(&state->state));
    for (int i = 0; i < 16; i++) out[i] = canonical.digest[i];
}
