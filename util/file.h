/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/file.h -- writing a file atomically: a temporary beside the destination, renamed
 * into place only when everything was written (the same rule util/h5.h follows for
 * HDF5), so a failed or interrupted write never leaves a half-written file. */
#ifndef UTIL_FILE_H
#define UTIL_FILE_H

#include <stdio.h>

typedef struct util_file {
    FILE *f;     /* write here */
    char *path;  /* destination */
    char *tmp;   /* the temporary, renamed to path by util_file_commit() */
} util_file;

/* Opens the temporary for path ("wb").  Errors: UTIL_EIO naming path (a folder that
 * cannot be written), UTIL_EUSAGE (empty name), UTIL_ENOMEM. */
int util_file_create(const char *path, util_file *out);
/* Flushes, checks for write errors (a full disk), fsyncs, closes and renames into place;
 * on failure removes the temporary.  Frees out's strings either way. */
int util_file_commit(util_file *out);
/* Closes and removes the temporary; the destination is untouched.  Safe to call twice. */
void util_file_abort(util_file *out);

#endif
