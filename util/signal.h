/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/signal.h -- the one way acdc-optics stops on SIGINT and SIGTERM.
 *
 * The acdc program installs one handler for its whole life (util_signal_install(),
 * before a command runs).  Outside a polling section a signal ends the process at once:
 * the handler removes every live temporary and lock file (util_output_cleanup(), with
 * unlink() only) and exits with status 3, so an output is either its old file or the
 * complete new one -- a rename is atomic -- and no temporary is left.
 *
 * A long command polls instead: between util_signal_catch() and util_signal_restore()
 * a signal only sets the flag, which the loop reads between units of work (a batch, an
 * epoch, a sweep point), keeping its last complete output, and the command exits 3.  A
 * second signal while the flag is set ends the process at once, as above.  Without
 * util_signal_install() (a library caller), util_signal_catch() installs a handler that
 * only sets the flag and util_signal_restore() puts the previous ones back.
 *
 * SIGPIPE can be ignored while a pipe is written, so that a reader that dies early
 * (gnuplot) gives an error, not death.
 */
#ifndef UTIL_SIGNAL_H
#define UTIL_SIGNAL_H

#include <signal.h>

/* The handlers that util_signal_catch() / util_signal_ignore_pipe() replaced. */
typedef struct util_signal_saved {
    struct sigaction old_int, old_term, old_pipe;
    int caught;   /* 1 inside a polling section this struct began */
    int own;      /* 1 if that section installed the handlers (no util_signal_install) */
    int piped;    /* 1 while SIGPIPE is ignored */
} util_signal_saved;

/* Installs the process's handler for SIGINT and SIGTERM, for good; name ("compile")
 * goes into the message the handler writes when it ends the process:
 *   acdc NAME: error: interrupted by SIGINT
 * Errors: UTIL_EIO if sigaction() refuses. */
int util_signal_install(const char *name);

/* Begins a polling section: until util_signal_restore(), SIGINT and SIGTERM set the
 * flag to the signal's number.  *saved must be zeroed or restored before.  Without
 * util_signal_install() the flag is cleared and handlers installed (the previous ones
 * kept in *saved).  Errors: UTIL_EIO if sigaction() refuses (the previous handlers
 * stay). */
int util_signal_catch(util_signal_saved *saved);

/* Ignores SIGPIPE until util_signal_restore(); the previous action goes to *saved.
 * Errors: UTIL_EIO if sigaction() refuses. */
int util_signal_ignore_pipe(util_signal_saved *saved);

/* Ends what *saved began (a polling section, ignoring SIGPIPE); safe to call twice or
 * on a zeroed struct.  The flag keeps its value. */
void util_signal_restore(util_signal_saved *saved);

/* 0, or the number of the signal caught (since the last util_signal_catch() that
 * installed handlers). */
int util_signal_caught(void);

/* The flag itself, for loops that take a stop pointer (sim_execute, the trainer). */
const volatile sig_atomic_t *util_signal_flag(void);

#endif
