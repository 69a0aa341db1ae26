/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/file.h -- writing a file atomically: a temporary beside the destination, put in
 * place only when everything was written (util/output.h: the rule util/h5.h follows for
 * HDF5 too), so a failed or interrupted write never leaves a half-written file. */
#ifndef ACDC_UTIL_FILE_H
#define ACDC_UTIL_FILE_H

#include <stdio.h>

#include "util/output.h"

typedef struct acdc_util_file {
    FILE *f;             /* write here; NULL for another process's file (create_for) */
    acdc_util_output_tmp t;   /* the destination and the temporary (t.tmp) */
} acdc_util_file;

/* Opens the temporary for path ("wb").  Errors: those of acdc_util_output_begin() (an output
 * that is an input: ACDC_UTIL_EUSAGE), ACDC_UTIL_EIO naming path (a folder that cannot be
 * written), ACDC_UTIL_EUSAGE (empty name), ACDC_UTIL_ENOMEM. */
int acdc_util_file_create(const char *path, acdc_util_file *out);
/* The same for a file another process writes (gnuplot, python): out->f is NULL and
 * out->t.tmp names the temporary, created empty, that the other process fills. */
int acdc_util_file_create_for(const char *path, acdc_util_file *out);
/* Flushes, checks for write errors (a full disk), closes and puts the temporary in place
 * (acdc_util_output_finish()); on failure removes the temporary.  Frees out's strings either
 * way. */
int acdc_util_file_commit(acdc_util_file *out);
/* Closes and removes the temporary; the destination is untouched.  Safe to call twice. */
void acdc_util_file_abort(acdc_util_file *out);

#endif
