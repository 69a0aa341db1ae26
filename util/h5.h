/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/h5.h -- checked HDF5 reading and atomic HDF5 writing.
 *
 * Every reader checks type class, width, rank, dimensions and finiteness and reports
 * through acdc_util_error() naming the file and the object:
 *   cannot read '/layers/3/d' in 'model.h5': expected 784 values, found 783
 * Writers never leave a half-written file: acdc_util_h5_create() opens a temporary file in
 * the destination's folder and acdc_util_h5_commit() renames it into place.
 */
#ifndef ACDC_UTIL_H5_H
#define ACDC_UTIL_H5_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "util/output.h"

/* Opens an existing HDF5 file read-only.  Errors: missing, unreadable, not HDF5. */
int acdc_util_h5_open(const char *path, hid_t *fid);

/* An output file being written: a temporary beside the destination (util/output.h). */
typedef struct acdc_util_h5_out {
    hid_t fid;
    acdc_util_output_tmp t;   /* the destination and the temporary, put in place on commit */
} acdc_util_h5_out;

/* Creates the temporary file for path.  Errors: those of acdc_util_output_begin() (an output
 * that is an input: ACDC_UTIL_EUSAGE), folder not writable. */
int acdc_util_h5_create(const char *path, acdc_util_h5_out *out);
/* Flushes and closes the temporary and puts it in place (acdc_util_output_finish(): renamed
 * over a regular file, copied into a device or FIFO); frees out's strings. */
int acdc_util_h5_commit(acdc_util_h5_out *out);
/* Closes and removes the temporary; the destination is untouched.  Safe to call twice. */
void acdc_util_h5_abort(acdc_util_h5_out *out);

/* 1 if loc has a link called name (paths with '/' allowed, each level checked). */
int acdc_util_h5_exists(hid_t loc, const char *name);

/* The rank (number of dimensions) of dataset name, for a reader that accepts several;
 * -1 if loc has no dataset called name. */
int acdc_util_h5_rank(hid_t loc, const char *name);

/* Reads float64 dataset name of the given rank.  On entry, dims[i] > 0 demands that
 * extent; dims[i] == 0 accepts any.  On return dims holds the extents and *data a
 * malloc'ed array (caller frees).  Rejects other classes or widths, NaN and infinity.
 * file is used in messages only. */
int acdc_util_h5_read_f64(hid_t loc, const char *file, const char *name, int rank,
                          hsize_t *dims, double **data);
/* Like acdc_util_h5_read_f64 but NaN is accepted (a value not measured: an unfinished sweep
 * point, an accuracy without labels); infinity is still refused. */
int acdc_util_h5_read_f64_nan_ok(hid_t loc, const char *file, const char *name, int rank,
                                 hsize_t *dims, double **data);
/* Like acdc_util_h5_read_f64 for any integer dataset, converted to int64. */
int acdc_util_h5_read_i64(hid_t loc, const char *file, const char *name, int rank,
                          hsize_t *dims, int64_t **data);

/* Writes a float64 / int64 dataset (intermediate groups created as needed). */
int acdc_util_h5_write_f64(hid_t loc, const char *name, int rank, const hsize_t *dims,
                           const double *data);
int acdc_util_h5_write_i64(hid_t loc, const char *name, int rank, const hsize_t *dims,
                           const int64_t *data);

/* Attributes on an object (obj is a path relative to loc, "." for loc itself).
 * The getters return ACDC_UTIL_EDATA with a message if missing or of the wrong kind. */
int acdc_util_h5_attr_str(hid_t loc, const char *file, const char *obj, const char *name,
                          char *buf, size_t size);
int acdc_util_h5_attr_i64(hid_t loc, const char *file, const char *obj, const char *name,
                          int64_t *v);
/* As acdc_util_h5_attr_f64(), with NaN allowed (a value that is not defined, e.g. an accuracy
 * without labels); infinity is still refused. */
int acdc_util_h5_attr_f64_nan_ok(hid_t loc, const char *file, const char *obj,
                                 const char *name, double *v);
int acdc_util_h5_attr_f64(hid_t loc, const char *file, const char *obj, const char *name,
                          double *v);
int acdc_util_h5_attr_exists(hid_t loc, const char *obj, const char *name);
/* An integer attribute of exactly count values (int64 (count,), any integer type read). */
int acdc_util_h5_attr_i64_vec(hid_t loc, const char *file, const char *obj, const char *name,
                              size_t count, int64_t *v);
/* Writes count int64 values as a one-dimensional attribute (count 1: a scalar). */
int acdc_util_h5_set_attr_i64_vec(hid_t loc, const char *obj, const char *name, size_t count,
                                  const int64_t *v);
/* The same for finite float64 values (any numeric type read; a value that is not
 * finite is ACDC_UTIL_EDATA naming it). */
int acdc_util_h5_attr_f64_vec(hid_t loc, const char *file, const char *obj, const char *name,
                              size_t count, double *v);
int acdc_util_h5_set_attr_f64_vec(hid_t loc, const char *obj, const char *name, size_t count,
                                  const double *v);
int acdc_util_h5_set_attr_str(hid_t loc, const char *obj, const char *name, const char *v);

/* A resumable run's file: ACDC_UTIL_OK if the root attribute `settings` of f (read from path)
 * equals settings; else ACDC_UTIL_EDATA "'PATH' holds HOLDS with other settings ('trials=2'
 * there, 'trials=3' here): use --restart to start over, or another -o" (the first field
 * that differs, acdc_util_settings_difference()). */
int acdc_util_h5_settings_match(hid_t f, const char *path, const char *settings,
                                const char *holds);
int acdc_util_h5_set_attr_i64(hid_t loc, const char *obj, const char *name, int64_t v);
int acdc_util_h5_set_attr_f64(hid_t loc, const char *obj, const char *name, double v);

/* Creates group name (and its parents) if missing. */
int acdc_util_h5_group(hid_t loc, const char *name);

#endif
