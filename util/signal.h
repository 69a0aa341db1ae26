/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/signal.h -- the one way acdc-optics stops on SIGINT and SIGTERM.
 *
 * A long command installs handlers that only set a flag, polls the flag between units
 * of work (a batch, an epoch, a sweep point), leaves its last complete output in place
 * and restores the previous handlers on the way out.  SIGPIPE can be ignored while a
 * pipe is written, so that a reader that dies early (gnuplot) gives an error, not death.
 */
#ifndef UTIL_SIGNAL_H
#define UTIL_SIGNAL_H

#include <signal.h>

/* The handlers that util_signal_catch() / util_signal_ignore_pipe() replaced. */
typedef struct util_signal_saved {
    struct sigaction old_int, old_term, old_pipe;
    int caught;   /* 1 while SIGINT and SIGTERM are ours */
    int piped;    /* 1 while SIGPIPE is ignored */
} util_signal_saved;

/* Clears the flag and installs handlers for SIGINT and SIGTERM that set it to the
 * signal's number; *saved (which must be zeroed or restored before) keeps the previous
 * handlers.  Errors: UTIL_EIO if sigaction() refuses (the previous handlers stay). */
int util_signal_catch(util_signal_saved *saved);

/* Ignores SIGPIPE until util_signal_restore(); the previous action goes to *saved.
 * Errors: UTIL_EIO if sigaction() refuses. */
int util_signal_ignore_pipe(util_signal_saved *saved);

/* Puts back every handler *saved holds; safe to call twice or on a zeroed struct.  The
 * flag keeps its value. */
void util_signal_restore(util_signal_saved *saved);

/* 0, or the number of the signal caught since the last util_signal_catch(). */
int util_signal_caught(void);

/* The flag itself, for loops that take a stop pointer (sim_execute, the trainer). */
const volatile sig_atomic_t *util_signal_flag(void);

#endif
