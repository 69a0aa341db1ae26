/* SPDX-License-Identifier: GPL-3.0-or-later */
/* models/io.h -- the model file and data files (HDF5); the contract is models/FORMAT.md.
 *
 * Readers check everything (types, ranks, lengths, finite values, permutations, known
 * attribute values) and name the file and object at fault.  Writers are atomic.
 */
#ifndef ACDC_MODELS_IO_H
#define ACDC_MODELS_IO_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "models/model.h"

/* Reads the model file at path.  On success *out is a new model (caller frees with
 * acdc_model_free()).  Errors: ACDC_UTIL_EIO (cannot open), ACDC_UTIL_EDATA (any violation of the
 * format, with a message naming the file and the dataset or attribute). */
int acdc_model_read(const char *path, acdc_model **out);

/* Writes m to path through a temporary file renamed into place. */
int acdc_model_write(const acdc_model *m, const char *path);

/* The same, inside an open file under group `group` ("/" for the root); other formats
 * (the compiled system) embed a model copy this way.  file names the file in messages. */
int acdc_model_read_h5(hid_t loc, const char *file, const char *group, acdc_model **out);
int acdc_model_write_h5(hid_t loc, const char *group, const acdc_model *m);

/* A data file: /x (batch × dim, float64) and optionally /labels (batch, integers). */
typedef struct acdc_data {
    size_t batch, dim;
    double *x;
    int64_t *labels;   /* NULL if the file has none */
    char *path;        /* the file read, for messages (NULL if made in memory) */
} acdc_data;

/* Reads a data file.  dim > 0 demands that width of /x (0 accepts any) and every value
 * must be finite with |x| <= ACDC_DATA_BOUND (acdc_check_values()).  Labels, if present,
 * must have batch entries, each >= 0 (acdc_check_labels() with the model's classes
 * follows, once the model is known). */
int acdc_data_read(const char *path, size_t dim, acdc_data **out);
void acdc_data_free(acdc_data *d);

/* The largest magnitude a data value may have.  Larger ones overflow on the way through
 * (a square in the standardisation, a product in the first layer) and give infinite or
 * NaN outputs, so they are refused when read; models/FORMAT.md states the rule. */
#define ACDC_DATA_BOUND 1e150

/* The most classes a classifier may have (and a label, without a model, may name). */
#define ACDC_MAX_CLASSES ((int64_t)1 << 20)

/* The one check of numbers on the way in and in flight: every value of the rows x cols
 * array v must be finite and, if bound > 0, at most bound in magnitude.  Else ACDC_UTIL_EDATA
 * naming the file (if not NULL), the array `what` and the row (v's first row being
 * first_row of the whole):
 *   '/x' in 'data.h5': row 11, column 2 is 1e+308, beyond the bound 1e+150 on data values
 *   the outputs for 'data.h5': row 11 is not finite (column 0 is inf) ...
 * Data readers pass ACDC_DATA_BOUND; commands check every output they computed with
 * bound 0 (finite), before writing it. */
int acdc_check_values(const double *v, size_t rows, size_t cols, size_t first_row,
                      double bound, const char *file, const char *what);

/* Labels are data: every label must be a class index in 0 .. classes - 1, where classes
 * is the model's outputs (or --classes, or ACDC_MAX_CLASSES).  Else ACDC_UTIL_EDATA naming the
 * file and the row:  'data.h5': row 17 has label 9999, outside the classes 0..3 of the
 * model.  whose names the side that sets the count ("the model", "--classes"); file
 * may be NULL (the caller prefixes the message). */
int acdc_check_labels(const int64_t *labels, size_t rows, const char *file, size_t classes,
                      const char *whose);

/* Writes /y (batch × dim) and, if labels is not NULL, /labels, atomically. */
int acdc_output_write(const char *path, size_t batch, size_t dim, const double *y,
                      const int64_t *labels);

/* The value of the root attribute `format` of an HDF5 file ("" if absent), so commands
 * can tell models, data, systems and results apart. */
int acdc_file_kind(const char *path, char *buf, size_t size);

#endif
