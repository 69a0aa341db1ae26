/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/progress.h -- a one-line progress bar on standard error, for long runs.
 *
 *   epoch 3/20 [#########.........]  45%  loss 0.412  acc 0.861  12.3k ex/s  ETA 0:42
 *
 * Drawn only when standard error is a terminal (quiet in pipes, logs and tests), at most
 * ten times a second, so calling acdc_util_progress_update() in an inner loop costs little.
 * The rate is done/elapsed since the bar was started (or last reset); the ETA assumes it
 * holds for the rest of the total.
 */
#ifndef ACDC_UTIL_PROGRESS_H
#define ACDC_UTIL_PROGRESS_H

#include <stdint.h>

typedef struct acdc_util_progress acdc_util_progress;

/* Sets *out to a bar for `total` units (0 = unknown: no bar, no ETA) called `label`
 * (copied), whose rate is shown in `unit` per second ("ex" gives "12.3k ex/s").  Every
 * function accepts a NULL bar and then does nothing.  Caller frees with
 * acdc_util_progress_free(), which ends the line if one was drawn.  Errors: ACDC_UTIL_ENOMEM;
 * *out is then NULL. */
int acdc_util_progress_alloc(acdc_util_progress **out, const char *label, uint64_t total,
                             const char *unit);
void acdc_util_progress_free(acdc_util_progress *p);

/* Overrides the terminal test: 1 draws always, 0 never (for tests and --progress). */
void acdc_util_progress_enable(acdc_util_progress *p, int on);

/* Starts counting again from 0 with a new label and total (e.g. at each epoch). */
void acdc_util_progress_reset(acdc_util_progress *p, const char *label, uint64_t total);

/* Sets the units done so far and an optional status (printf-style, may be NULL) shown
 * after the bar; redraws if 0.1 s passed since the last draw or done == total. */
void acdc_util_progress_update(acdc_util_progress *p, uint64_t done, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Ends the current line (keeps what was drawn), so other output can follow. */
void acdc_util_progress_finish(acdc_util_progress *p);

/* Seconds since the bar was allocated or last reset (monotonic clock). */
double acdc_util_progress_elapsed(const acdc_util_progress *p);

#endif
