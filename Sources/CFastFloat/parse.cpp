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

extern "C" long lockstep_parse_float_prefix(const char *first, const char *last, float *value) {
    float parsed = 0;
    auto result = fast_float::from_chars(first, last, parsed);
    if (result.ec != std::errc() || !std::isfinite(parsed)) return 0;
    *value = parsed;
    return static_cast<long>(result.ptr - first);
}
