/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/parse.h -- strict parsing of numbers given on the command line or in profiles.
 *
 * No atof: the whole string must be a number (optionally followed by a unit where the
 * function accepts one), finite, and inside the stated range.  Errors name the option:
 *   --sigma: 'abc' is not a number
 */
#ifndef ACDC_UTIL_PARSE_H
#define ACDC_UTIL_PARSE_H

#include <stdint.h>

/* Parses a finite double in [lo, hi].  what names the option in messages. */
int acdc_util_parse_double(const char *s, const char *what, double lo, double hi, double *out);

/* Parses a decimal integer in [lo, hi] (no trailing garbage, no overflow). */
int acdc_util_parse_int(const char *s, const char *what, int64_t lo, int64_t hi, int64_t *out);

/* Parses a quantity with an optional SI unit and converts it to the base unit `unit`:
 * "m" (nm, um, µm, mm, cm, m), "s" (ps, ns, us, µs, ms, s), "W" (nW, uW, µW, mW, W),
 * "rad" (mrad, rad, deg), "Hz", "A" or "" (no unit).  A bare number is taken in the
 * base unit: "633nm", "633e-9", "0.633 um" all give 6.33e-7 for unit "m". */
int acdc_util_parse_quantity(const char *s, const char *what, const char *unit, double lo,
                             double hi, double *out);

/* The same, except that a length, time or power (unit "m", "s" or "W") must carry its
 * unit: "633" is refused ("give a unit, e.g. 633nm"), lest it be read as 633 metres; a
 * bare 0 is taken (zero in any unit).  For command-line options and perturbations. */
int acdc_util_parse_quantity_strict(const char *s, const char *what, const char *unit, double lo,
                                    double hi, double *out);

#endif
