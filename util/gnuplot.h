/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/gnuplot.h -- gnuplot for `acdc plot` and the examples.
 *
 * The script (and its inline data) is written into memory through acdc_util_gnuplot_file();
 * acdc_util_gnuplot_close() then starts gnuplot without a shell (posix_spawnp of the constant
 * "gnuplot") and sends it down gnuplot's standard input, so no file name is ever given
 * to a shell.  The figure's temporary is created by this module beside the figure
 * (util/file.h) before gnuplot runs: a folder that cannot be written is refused with one
 * line, and gnuplot never falls back to writing the image to standard output.  The
 * temporary is renamed into place only when gnuplot succeeded and wrote something, so a
 * failed plot leaves no file.  gnuplot's standard output and standard error go to an
 * unnamed temporary file, condensed into one line naming the figure: the error on
 * failure, a warning on success.  SIGPIPE is ignored while the pipe is open, so a
 * gnuplot that dies early gives an error message, not the death of the caller.
 */
#ifndef ACDC_UTIL_GNUPLOT_H
#define ACDC_UTIL_GNUPLOT_H

#include <stddef.h>
#include <stdio.h>

typedef struct acdc_util_gnuplot acdc_util_gnuplot;

/* ACDC_UTIL_OK if an executable gnuplot is on PATH, else ACDC_UTIL_EDATA with the message
 * "gnuplot not found on PATH: install it (Debian: apt-get install gnuplot-nox)". */
int acdc_util_gnuplot_find(void);

/* 1 if s holds a control character: such a name or title cannot be passed on safely. */
int acdc_util_gnuplot_unsafe(const char *s);

/* The figure formats, told by the name's extension. */
enum acdc_util_gnuplot_format { ACDC_UTIL_GNUPLOT_PNG, ACDC_UTIL_GNUPLOT_SVG,
                               ACDC_UTIL_GNUPLOT_PDF };

/* ACDC_UTIL_GNUPLOT_PNG, _SVG or _PDF for a name ending in .png, .svg or .pdf; -1 else. */
int acdc_util_gnuplot_format(const char *figure);

/* Starts a script.  figure: the file the script draws (it must send its output to
 * acdc_util_gnuplot_set_output() or acdc_util_gnuplot_terminal()), whose temporary is created
 * now; NULL if the script writes only files it names itself.  *out is a new handle,
 * ended with acdc_util_gnuplot_close() or acdc_util_gnuplot_abort().  Errors: those of
 * acdc_util_gnuplot_find(); ACDC_UTIL_EIO naming the figure if its folder cannot be written;
 * ACDC_UTIL_EUSAGE if figure holds a control character; ACDC_UTIL_ENOMEM. */
int acdc_util_gnuplot_open(acdc_util_gnuplot **out, const char *figure);

/* The script's stream (in memory until acdc_util_gnuplot_close()). */
FILE *acdc_util_gnuplot_file(const acdc_util_gnuplot *g);

/* Writes "set output '<the figure's temporary>'" and a newline. */
void acdc_util_gnuplot_set_output(acdc_util_gnuplot *g);

/* Writes the terminal for the figure's format, width × height pixels, white
 * background, enhanced text in UTF-8 (so ± π µ and x_{sub} in titles and labels; give
 * names from data through acdc_util_gnuplot_escape()), and then the set output line above:
 * PNG pngcairo (libgd png where gnuplot lacks cairo), SVG svg, PDF pdfcairo of the
 * same proportions at 96 pixels per inch (a 720 × 480 panel is 7.5 × 5 in).  A figure
 * of another extension is drawn as PNG. */
void acdc_util_gnuplot_terminal(acdc_util_gnuplot *g, int width, int height);

/* s as literal enhanced text: each of ^ _ @ & ~ { } \ preceded by a backslash, into
 * buf (cap bytes, NUL-terminated).  Errors: ACDC_UTIL_EUSAGE if it does not fit (buf then
 * holds a shortened copy that ends on a whole character). */
int acdc_util_gnuplot_escape(const char *s, char *buf, size_t cap);

/* Also keep, when the figure is written, the script that drew it (script, with its set
 * output line naming the figure itself, so `gnuplot SCRIPT` redraws it) and the data
 * (data: every inline data block "$name << EOD ... EOD" of the script, as a gnuplot data
 * file: a comment line "# $name" before each block, blocks apart by two blank lines, so
 * `index i` selects the i-th).  Either may be NULL.  Both written atomically
 * (util/file.h), before the figure is renamed into place.  Errors: ACDC_UTIL_ENOMEM. */
int acdc_util_gnuplot_keep(acdc_util_gnuplot *g, const char *script, const char *data);

/* Writes s to f as a gnuplot single-quoted string: inside '' only ' is special (it is
 * doubled); control characters become spaces. */
void acdc_util_gnuplot_str(FILE *f, const char *s);

/* The same into buf (cap bytes, NUL-terminated).  Errors: ACDC_UTIL_EUSAGE if it does not
 * fit, naming s. */
int acdc_util_gnuplot_quote(const char *s, char *buf, size_t cap);

/* Ends the script, runs gnuplot on it, writes the kept files and renames the figure into
 * place.  Frees g (NULL: ACDC_UTIL_OK).  gnuplot's output on success (warnings) is one line
 * on standard error: "acdc: warning: gnuplot drawing 'FIGURE' said N lines, the last:
 * ...".  Errors
 * (the temporary is removed, the figure untouched): those of acdc_util_gnuplot_find();
 * ACDC_UTIL_EDATA "gnuplot failed (status S) drawing 'FIGURE': LAST LINE OF ITS OUTPUT", or
 * gnuplot wrote nothing; ACDC_UTIL_EIO if the script could not be sent, a kept file not
 * written or the rename failed; ACDC_UTIL_ENOMEM. */
int acdc_util_gnuplot_close(acdc_util_gnuplot *g);

/* Drops the script without running gnuplot: removes the temporary, frees g.  NULL is a
 * no-op. */
void acdc_util_gnuplot_abort(acdc_util_gnuplot *g);

#endif
