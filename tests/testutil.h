/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/testutil.h -- shared helpers for the cmocka suites. */
#ifndef TESTS_TESTUTIL_H
#define TESTS_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>
#include <cmocka.h>

/* Asserts |got - want| <= tol, printing both on failure. */
#define assert_close(got, want, tol)                                                 \
    do {                                                                             \
        double g_ = (got), w_ = (want), t_ = (tol);                                  \
        if (!(fabs(g_ - w_) <= t_))                                                  \
            fail_msg("%s = %.17g, want %.17g (tol %.3g, diff %.3g)", #got, g_, w_,  \
                     t_, fabs(g_ - w_));                                             \
    } while (0)

/* A fresh scratch directory for this test binary: build/tests/tmp/<name>. */
static inline const char *test_tmpdir(void)
{
    static char dir[512];
    if (!dir[0]) {
        const char *b = getenv("BUILD");
        snprintf(dir, sizeof dir, "%s/tests/tmp/%ld", b ? b : "build", (long)getpid());
        char cmd[600];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
        if (system(cmd) != 0)
            return "/tmp";
    }
    return dir;
}

/* A path inside test_tmpdir(); the result lives until the next call with the same slot. */
static inline const char *test_path(int slot, const char *name)
{
    static char buf[8][600];
    snprintf(buf[slot & 7], sizeof buf[0], "%s/%s", test_tmpdir(), name);
    return buf[slot & 7];
}

/* A synthetic 3-class problem in 10 dimensions for the trainer's tests: class k shifts
 * the block of inputs 3k .. 3k + 2; rows x 10 values into x, rows labels into lab. */
static inline void test_classes(size_t rows, double *x, int64_t *lab)
{
    for (size_t r = 0; r < rows; r++) {
        lab[r] = (int64_t)((r * 7 + r / 3) % 3);
        for (size_t j = 0; j < 10; j++) {
            double noise = 0.5 * sin(2.385 * (double)(r * 10 + j) + 0.3 * (double)r);
            x[r * 10 + j] = noise + (j / 3 == (size_t)lab[r] ? 1.0 : 0.0) + 0.2;
        }
    }
}

#endif
