#ifndef LOCKSTEP_CFASTFLOAT_H
#define LOCKSTEP_CFASTFLOAT_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Parses the bytes [first, last) as one decimal number (fast_float's general format: an
/// optional '-', digits with an optional '.', an optional exponent), correctly rounded to the
/// nearest float as strtof does. Returns 1 and stores the value when the whole range is that
/// number and the value is finite; returns 0 otherwise (the caller decides what else it may be).
int lockstep_parse_float(const char *first, const char *last, float *value);

/// Reads the common CSV line at `line` (up to `end`, a break or the chunk's end) in one pass:
/// column k is feature `slots[k]` (stored in `row`), the target (-1) or skipped (-2); features
/// are decimal numbers that end at a comma, blanks or the line's end. Returns the offset of the
/// byte that ends the row (its break, or `end`) with its features stored and the target cell's
/// bytes in [*target_start, *target_end) (-1 when there is none), *target_parsed 1 with its
/// value when the whole cell is a finite decimal; -1 when the line needs the plain reading (a
/// blank line, a cell that is not such a number, a short or long row); -2 for a byte only the
/// full reader reads (non-ASCII, a quote, NUL) in a skipped or target cell.
ptrdiff_t lockstep_csv_quick_line(const char *line, const char *end, const ptrdiff_t *slots, ptrdiff_t columns, float *row,
                                  ptrdiff_t *target_start, ptrdiff_t *target_end, float *target_value, int *target_parsed);

#ifdef __cplusplus
}
#endif

#endif
