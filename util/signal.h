/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/signal.h -- the one way acdc-optics stops on SIGINT and SIGTERM.
 *
 * The acdc program installs one handler for its whole life (acdc_util_signal_install(),
 * before a command runs).  Outside a polling section a signal ends the process at once:
 * the handler removes every live temporary and lock file (acdc_util_output_cleanup(), with
 * unlink() only) and exits with status 3, so an output is either its old file or the
 * complete new one -- a rename is atomic -- and no temporary is left.
 *
 * A long command polls instead: between acdc_util_signal_catch() and acdc_util_signal_restore()
 * a signal only sets the flag, which the loop reads between units of work (a batch, an
 * epoch, a sweep point), keeping its last complete output, and the command exits 3.  A
 * second signal while the flag is set ends the process at once, as above.  Without
 * acdc_util_signal_install() (a library caller), acdc_util_signal_catch() installs a handler that
 * only sets the flag and acdc_util_signal_restore() puts the previous ones back.
 *
 * SIGPIPE can be ignored while a pipe is written, so that a reader that dies early
 * (gnuplot) gives an error, not death.
 */
#ifndef ACDC_UTIL_SIGNAL_H
#define ACDC_UTIL_SIGNAL_H

#include <signal.h>

/* The handlers that acdc_util_signal_catch() / acdc_util_signal_ignore_pipe() replaced. */
typedef struct acdc_util_signal_saved {
    struct sigaction old_int, old_term, old_pipe;
    int caught;   /* 1 inside a polling section this struct began */
    int own;      /* 1 if that section installed the handlers (no acdc_util_signal_install) */
    int piped;    /* 1 while SIGPIPE is ignored */
} acdc_util_signal_saved;

/* Installs the process's handler for SIGINT and SIGTERM, for good; name ("compile")
 * goes into the message the handler writes when it ends the process:
 *   acdc NAME: error: interrupted by SIGINT
 * Errors: ACDC_UTIL_EIO if sigaction() refuses. */
int acdc_util_signal_install(const char *name);

/* Begins a polling section: until acdc_util_signal_restore(), SIGINT and SIGTERM set the
 * flag to the signal's number.  *saved must be zeroed or restored before.  Without
 * acdc_util_signal_install() the flag is cleared and handlers installed (the previous ones
 * kept in *saved).  Errors: ACDC_UTIL_EIO if sigaction() refuses (the previous handlers
 * stay). */
int acdc_util_signal_catch(acdc_util_signal_saved *saved);

/* Ignores SIGPIPE until acdc_util_signal_restore(); the previous action goes to *saved.
 * Errors: ACDC_UTIL_EIO if sigaction() refuses. */
int acdc_util_signal_ignore_pipe(acdc_util_signal_saved *saved);

/* Ends what *saved began (a polling section, ignoring SIGPIPE); safe to call twice or
 * on a zeroed struct.  The flag keeps its value. */
void acdc_util_signal_restore(acdc_util_signal_saved *saved);

/* 0, or the number of the signal caught (since the last acdc_util_signal_catch() that
 * installed handlers). */
int acdc_util_signal_caught(void);

/* The flag itself, for loops that take a stop pointer (acdc_sim_execute, the trainer). */
const volatile sig_atomic_t *acdc_util_signal_flag(void);

#endif
