/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/input.h -- opening a file named by the user for reading, without blocking.
 *
 * A path given as input (a data file, a model, a profile, a lookup table, an IDX file, a
 * sweep) may name a FIFO, a terminal or a device, whose open() or read() would block
 * forever or never end.  Every reader of a path opens it through these functions: the
 * open is non-blocking, fstat() must report a regular file, and only then is the
 * descriptor switched back to blocking reads.  Errors name the file:
 *   cannot open 'some.fifo': not a regular file (a FIFO)
 */
#ifndef ACDC_UTIL_INPUT_H
#define ACDC_UTIL_INPUT_H

#include <stdio.h>
#include <sys/types.h>

/* Opens path read-only as a regular file; *fd is a blocking descriptor (caller closes).
 * Errors: ACDC_UTIL_EIO (missing, unreadable: the system's reason), ACDC_UTIL_EDATA (a directory,
 * a FIFO, a device or a socket). */
int acdc_util_input_open(const char *path, int *fd);

/* The same as a stdio stream ("rb"). */
int acdc_util_input_fopen(const char *path, FILE **f);

/* Checks that path can be opened as a regular file and gives its size (size may be
 * NULL), for readers whose library opens the file itself (HDF5, zlib). */
int acdc_util_input_check(const char *path, off_t *size);

#endif
