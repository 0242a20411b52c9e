#include "CSafeTensorsMutator.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t maxSize);

int lockstep_safetensors_mutator_linked(void) { return 1; }

static uint64_t load64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static void store64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) { p[i] = (uint8_t)v; v >>= 8; }
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t maxSize, unsigned int seed) {
    // One mutation in eight is a plain one, over the whole file (the length field included).
    if (size < 8 || maxSize < 8 || seed % 8 == 0) return LLVMFuzzerMutate(data, size, maxSize);
    uint64_t header = load64(data);
    if (header > size - 8) return LLVMFuzzerMutate(data, size, maxSize);
    size_t rest = size - 8 - (size_t)header;
    if (seed % 4 == 1 && rest > 0) {
        // The data area.
        size_t n = LLVMFuzzerMutate(data + 8 + header, rest, maxSize - 8 - (size_t)header);
        return 8 + (size_t)header + n;
    }
    // The JSON header: set the data area aside, mutate, put it back, fix the length.
    if (maxSize < 8 + rest) return LLVMFuzzerMutate(data, size, maxSize);
    uint8_t *saved = malloc(rest ? rest : 1);
    if (!saved) return LLVMFuzzerMutate(data, size, maxSize);
    memcpy(saved, data + 8 + header, rest);
    size_t n = LLVMFuzzerMutate(data + 8, (size_t)header, maxSize - 8 - rest);
    memcpy(data + 8 + n, saved, rest);
    free(saved);
    store64(data, n);
    return 8 + n + rest;
}
