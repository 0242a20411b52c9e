// Debian's libfast-float-dev (header only): correctly rounded decimal-to-float conversion
// without strtof's locale and multi-precision paths.
#include <fast_float/fast_float.h>
#include <cmath>
#include "CFastFloat.h"

extern "C" int lockstep_parse_float(const char *first, const char *last, float *value) {
    float parsed = 0;
    auto result = fast_float::from_chars(first, last, parsed);
    if (result.ec != std::errc() || result.ptr != last || !std::isfinite(parsed)) return 0;
    *value = parsed;
    return 1;
}

static inline bool is_break(unsigned char b) { return b >= 0x0A && b <= 0x0D; }
static inline bool is_blank(unsigned char b) { return b == ' ' || b == '\t'; }
static inline bool is_unusual(unsigned char b) { return b >= 0x80 || b == '"' || b == 0; }

extern "C" ptrdiff_t lockstep_csv_quick_line(const char *line, const char *end, const ptrdiff_t *slots, ptrdiff_t columns, float *row,
                                             ptrdiff_t *target_start, ptrdiff_t *target_end, float *target_value, int *target_parsed) {
    // The loop of CSVFastPath's line reading, here so that fast_float inlines into it.
    const char *p = line, *target_first = nullptr, *target_last = nullptr;
    ptrdiff_t k = 0;
    for (;;) {
        while (p < end && is_blank((unsigned char)*p)) p++;
        if (k == 0 && (p == end || is_break((unsigned char)*p))) return -1;   // a blank line
        if (k >= columns) return -1;
        ptrdiff_t slot = slots[k];
        const char *q;
        if (slot >= 0) {
            float value = 0;
            auto result = fast_float::from_chars(p, end, value);
            if (result.ec != std::errc() || result.ptr == p || !std::isfinite(value)) return -1;
            q = result.ptr;
            while (q < end && is_blank((unsigned char)*q)) q++;
            if (!(q == end || *q == ',' || is_break((unsigned char)*q))) return -1;
            row[slot] = value;
        } else {
            q = p;
            while (q < end && *q != ',' && !is_break((unsigned char)*q)) {
                if (is_unusual((unsigned char)*q)) return -2;
                q++;
            }
            if (slot == -1) {
                const char *z = q;
                while (z > p && is_blank((unsigned char)z[-1])) z--;
                if (z == p) return -1;
                target_first = p;
                target_last = z;
            }
        }
        k++;
        if (q < end && *q == ',') {
            p = q + 1;
            continue;
        }
        if (k != columns) return -1;
        if (target_first != nullptr) {
            *target_start = target_first - line;
            *target_end = target_last - line;
            *target_parsed = lockstep_parse_float(target_first, target_last, target_value);
        } else {
            *target_start = -1;
        }
        return q - line;
    }
}
