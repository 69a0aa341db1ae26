/* SPDX-License-Identifier: GPL-3.0-or-later */
/* models/io.h -- the model file and data files (HDF5); the contract is models/FORMAT.md.
 *
 * Readers check everything (types, ranks, lengths, finite values, permutations, known
 * attribute values) and name the file and object at fault.  Writers are atomic.
 */
#ifndef MODELS_IO_H
#define MODELS_IO_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "models/model.h"

/* Reads the model file at path.  On success *out is a new model (caller frees with
 * acdc_model_free()).  Errors: UTIL_EIO (cannot open), UTIL_EDATA (any violation of the
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
} acdc_data;

/* Reads a data file.  dim > 0 demands that width of /x (0 accepts any).  Labels, if
 * present, must have batch entries, each >= 0. */
int acdc_data_read(const char *path, size_t dim, acdc_data **out);
void acdc_data_free(acdc_data *d);

/* Writes /y (batch × dim) and, if labels is not NULL, /labels, atomically. */
int acdc_output_write(const char *path, size_t batch, size_t dim, const double *y,
                      const int64_t *labels);

/* The value of the root attribute `format` of an HDF5 file ("" if absent), so commands
 * can tell models, data, systems and results apart. */
int acdc_file_kind(const char *path, char *buf, size_t size);

#endif
