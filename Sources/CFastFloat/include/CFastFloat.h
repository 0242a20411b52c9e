#ifndef LOCKSTEP_CFASTFLOAT_H
#define LOCKSTEP_CFASTFLOAT_H

#ifdef __cplusplus
extern "C" {
#endif

/// Parses the bytes [first, last) as one decimal number (fast_float's general format: an
/// optional '-', digits with an optional '.', an optional exponent), correctly rounded to the
/// nearest float as strtof does. Returns 1 and stores the value when the whole range is that
/// number and the value is finite; returns 0 otherwise (the caller decides what else it may be).
int lockstep_parse_float(const char *first, const char *last, float *value);

/// Parses the longest decimal number at the start of [first, last), as `lockstep_parse_float`
/// would parse exactly those bytes. Returns how many bytes it took and stores the value, or
/// returns 0 when no number starts there or its value is not finite.
long lockstep_parse_float_prefix(const char *first, const char *last, float *value);

#ifdef __cplusplus
}
#endif

#endif
