/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz/fuzz_parse.c -- strict number parsing: acdc_util_parse_double, acdc_util_parse_int and
 * acdc_util_parse_quantity with every unit kind, on the input as a string.
 *
 * Properties: no crash; an accepted value is finite and inside the range asked for; a
 * refusal is ACDC_UTIL_EUSAGE with one line naming the option (for inputs without a line
 * break); the three parsers agree where their languages overlap.
 */
#define _GNU_SOURCE
#include "fuzz/fuzz_common.h"

#include "util/error.h"
#include "util/parse.h"

#include <math.h>

static const char *const units[] = {"m", "s", "W", "rad", "Hz", "A", ""};

static void refused(int rc, const char *what, int multiline)
{
    const char *msg = acdc_util_errmsg();
    FUZZ_CHECK(rc == ACDC_UTIL_EUSAGE, "status %d: %s", rc, msg);
    FUZZ_CHECK(!strncmp(msg, what, strlen(what)), "message does not name %s: '%s'", what,
               msg);
    if (!multiline)
        FUZZ_CHECK(fuzz_one_line(msg), "message is not one line: '%s'", msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len > 4096)
        return 0;
    char *s = malloc(len + 1);
    memcpy(s, data, len);
    s[len] = '\0';
    int multiline = strchr(s, '\n') != NULL;

    /* doubles: unbounded and a narrow range */
    double d = NAN, d2;
    int rc_d = acdc_util_parse_double(s, "--x", -INFINITY, INFINITY, &d);
    if (rc_d)
        refused(rc_d, "--x", multiline);
    else
        FUZZ_CHECK(isfinite(d), "accepted non-finite %g from '%s'", d, s);
    int rc = acdc_util_parse_double(s, "--y", -2.385, 1e3, &d2);
    if (rc)
        refused(rc, "--y", multiline);
    else {
        FUZZ_CHECK(d2 >= -2.385 && d2 <= 1e3, "%g outside the range", d2);
        FUZZ_CHECK(!rc_d && d2 == d, "range changed the value of '%s'", s);
    }

    /* integers */
    int64_t i = 0, i2;
    int rc_i = acdc_util_parse_int(s, "--n", INT64_MIN, INT64_MAX, &i);
    if (rc_i)
        refused(rc_i, "--n", multiline);
    else if (i > -(INT64_C(1) << 53) && i < (INT64_C(1) << 53)) {
        /* every integer the int parser takes is also a decimal number */
        FUZZ_CHECK(!rc_d && d == (double)i, "int %lld but double %g for '%s'",
                   (long long)i, d, s);
    }
    rc = acdc_util_parse_int(s, "--k", 1, 1000, &i2);
    if (rc)
        refused(rc, "--k", multiline);
    else
        FUZZ_CHECK(i2 >= 1 && i2 <= 1000 && !rc_i && i2 == i, "--k %lld", (long long)i2);

    /* quantities with each unit kind */
    for (size_t u = 0; u < sizeof units / sizeof *units; u++) {
        double q = NAN;
        rc = acdc_util_parse_quantity(s, "--q", units[u], -INFINITY, INFINITY, &q);
        if (rc) {
            refused(rc, "--q", multiline);
            /* a bare number is a quantity in the base unit */
            FUZZ_CHECK(rc_d, "'%s' is a number but not a quantity of '%s'", s, units[u]);
            continue;
        }
        FUZZ_CHECK(isfinite(q), "accepted non-finite %g from '%s'", q, s);
        if (!rc_d)
            FUZZ_CHECK(q == d, "'%s' as '%s' gives %g, as a number %g", s, units[u], q, d);
        double r;
        rc = acdc_util_parse_quantity(s, "--r", units[u], 0, 1e-3, &r);
        if (rc)
            refused(rc, "--r", multiline);
        else
            FUZZ_CHECK(r >= 0 && r <= 1e-3 && r == q, "--r %g", r);
    }
    free(s);
    return 0;
}
