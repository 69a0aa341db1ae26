/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/gnuplot.h -- one pipe to gnuplot, for `acdc plot` and the examples.
 *
 * gnuplot is started without a shell (posix_spawnp of the constant "gnuplot"), the
 * script and the data go down its standard input, and no file name is ever given to a
 * shell.  A figure is drawn to a temporary beside it and renamed into place only when
 * gnuplot succeeded, so a failed plot leaves no file.  gnuplot's standard error is
 * kept: on success it is passed on (warnings), on failure its last line ends the one
 * error message.  SIGPIPE is ignored while the pipe is open, so a gnuplot that dies
 * early gives an error message, not the death of the caller.
 */
#ifndef UTIL_GNUPLOT_H
#define UTIL_GNUPLOT_H

#include <stddef.h>
#include <stdio.h>

typedef struct util_gnuplot util_gnuplot;

/* UTIL_OK if an executable gnuplot is on PATH, else UTIL_EDATA with the message
 * "gnuplot not found on PATH: install it (Debian: apt-get install gnuplot-nox)". */
int util_gnuplot_find(void);

/* 1 if s holds a control character: such a name or title cannot be passed on safely. */
int util_gnuplot_unsafe(const char *s);

/* Starts gnuplot.  figure: the file the script draws (it must send its output to
 * util_gnuplot_set_output()); NULL if the script writes only files it names itself.
 * *out is a new handle, ended with util_gnuplot_close() or util_gnuplot_abort().
 * Errors: those of util_gnuplot_find(); UTIL_EIO if the pipe or process cannot be made;
 * UTIL_EUSAGE if figure holds a control character; UTIL_ENOMEM. */
int util_gnuplot_open(util_gnuplot **out, const char *figure);

/* The script's stream (the pipe to gnuplot's standard input). */
FILE *util_gnuplot_file(const util_gnuplot *g);

/* Writes "set output '<temporary beside the figure>'" and a newline. */
void util_gnuplot_set_output(util_gnuplot *g);

/* Writes s to f as a gnuplot single-quoted string: inside '' only ' is special (it is
 * doubled); control characters become spaces. */
void util_gnuplot_str(FILE *f, const char *s);

/* The same into buf (cap bytes, NUL-terminated).  Errors: UTIL_EUSAGE if it does not
 * fit, naming s. */
int util_gnuplot_quote(const char *s, char *buf, size_t cap);

/* Ends the script, waits for gnuplot and renames the figure into place.  Frees g (NULL:
 * UTIL_OK).  Errors (the temporary is removed, the figure untouched): UTIL_EDATA
 * "gnuplot failed (status S) drawing 'FIGURE': LAST LINE OF ITS STDERR", or gnuplot
 * wrote nothing; UTIL_EIO if the script could not be sent or the rename failed. */
int util_gnuplot_close(util_gnuplot *g);

/* Stops gnuplot without a figure: closes the pipe, waits, removes the temporary, frees
 * g.  NULL is a no-op. */
void util_gnuplot_abort(util_gnuplot *g);

#endif
