/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/parse.c -- see parse.h. */
#include "util/parse.h"
#include "util/error.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int range(const char *s, const char *what, double v, double lo, double hi)
{
    if (!isfinite(v))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: '%s' is not a finite number", what, s);
    if (v < lo || v > hi)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: %s is outside %g..%g", what, s, lo, hi);
    return ACDC_UTIL_OK;
}

/* strtod, but rejecting a missing value, hexadecimal, "inf", "nan" and leading blanks. */
static int number(const char *s, const char *what, double *v, char **end)
{
    if (!s)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: missing value", what);
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!(isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]))))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: '%s' is not a number", what, s);
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: '%s' is not a decimal number", what, s);
    errno = 0;
    *v = strtod(s, end);
    if (errno == ERANGE && fabs(*v) > 1)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: '%s' is too large", what, s);
    return ACDC_UTIL_OK;
}

int acdc_util_parse_double(const char *s, const char *what, double lo, double hi, double *out)
{
    char *end;
    double v;
    int rc = number(s, what, &v, &end);
    if (rc)
        return rc;
    if (*end)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: '%s' is not a number", what, s);
    if ((rc = range(s, what, v, lo, hi)))
        return rc;
    *out = v;
    return ACDC_UTIL_OK;
}

int acdc_util_parse_int(const char *s, const char *what, int64_t lo, int64_t hi, int64_t *out)
{
    if (!s)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: missing value", what);
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: '%s' is not an integer", what, s);
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: '%s' is not an integer", what, s);
    if (errno == ERANGE)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: '%s' is too large", what, s);
    if (v < lo || v > hi)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: %s is outside %lld..%lld", what, s,
                               (long long)lo, (long long)hi);
    *out = (int64_t)v;
    return ACDC_UTIL_OK;
}

struct unit {
    const char *base, *name;
    double factor;
};

static const struct unit units[] = {
    {"m", "nm", 1e-9},   {"m", "um", 1e-6},   {"m", "\xc2\xb5m", 1e-6},
    {"m", "mm", 1e-3},   {"m", "cm", 1e-2},   {"m", "m", 1},
    {"s", "ps", 1e-12},  {"s", "ns", 1e-9},   {"s", "us", 1e-6},
    {"s", "\xc2\xb5s", 1e-6}, {"s", "ms", 1e-3}, {"s", "s", 1},
    {"W", "nW", 1e-9},   {"W", "uW", 1e-6},   {"W", "\xc2\xb5W", 1e-6},
    {"W", "mW", 1e-3},   {"W", "W", 1},
    {"rad", "mrad", 1e-3}, {"rad", "rad", 1}, {"rad", "deg", M_PI / 180},
    {"Hz", "Hz", 1},     {"Hz", "kHz", 1e3},  {"Hz", "MHz", 1e6},
    {"A", "A", 1},       {"A", "mA", 1e-3},
};

/* A quantity in unit; strict: a length, time or power must carry its unit (a bare 0
 * excepted). */
static int quantity(const char *s, const char *what, const char *unit, double lo, double hi,
                    int strict, double *out)
{
    char *end;
    double v;
    int rc = number(s, what, &v, &end);
    if (rc)
        return rc;
    while (*end == ' ')
        end++;
    if (strict && !*end && v != 0 &&
        (!strcmp(unit, "m") || !strcmp(unit, "s") || !strcmp(unit, "W")))
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "%s: '%s' needs a unit: give one, e.g. %s", what, s,
                               !strcmp(unit, "m")   ? "633nm, 8um, 2mm"
                               : !strcmp(unit, "s") ? "100us, 2ms"
                                               : "1mW, 30uW");
    if (*end) {
        size_t i, nu = sizeof units / sizeof *units;
        for (i = 0; i < nu; i++)
            if (!strcmp(units[i].base, unit) && !strcmp(units[i].name, end))
                break;
        if (i == nu)
            return acdc_util_error(ACDC_UTIL_EUSAGE,
                                   "%s: unit '%s' in '%s' is not a unit of %s", what,
                                   end, s, *unit ? unit : "a plain number");
        v *= units[i].factor;
    }
    if (!isfinite(v))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: '%s' is not a finite number", what, s);
    if (v < lo || v > hi)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: %s is outside %g..%g %s", what, s,
                               lo, hi, unit);
    *out = v;
    return ACDC_UTIL_OK;
}

int acdc_util_parse_quantity(const char *s, const char *what, const char *unit, double lo,
                             double hi, double *out)
{
    return quantity(s, what, unit, lo, hi, 0, out);
}

int acdc_util_parse_quantity_strict(const char *s, const char *what, const char *unit, double lo,
                                    double hi, double *out)
{
    return quantity(s, what, unit, lo, hi, 1, out);
}
