/* SPDX-License-Identifier: GPL-3.0-or-later */
/* models/idx.h -- IDX files (LeCun's MNIST format, also Fashion-MNIST) and a loader that
 * takes whatever the user names: an IDX directory, an IDX image file or an HDF5 data file.
 *
 * IDX layout (big-endian): two zero bytes, a type code (0x08 = unsigned byte), the rank
 * r, r 32-bit extents, then the values in row-major order.  Files may be gzip-compressed
 * (read through zlib, which also reads plain files).  Images are rank >= 2 (count ×
 * rows × cols …) and become float64 rows scaled to [0, 1]; labels are rank 1.
 */
#ifndef ACDC_MODELS_IDX_H
#define ACDC_MODELS_IDX_H

#include <stddef.h>

#include "models/io.h"

/* Reads an IDX image file and, if labels_path is not NULL, its IDX label file.  On
 * success *out is a new data set: batch = image count, dim = product of the other
 * extents, x = pixel / 255, labels (or NULL).  Caller frees with acdc_data_free().
 * Errors (each a one-line message naming the file): ACDC_UTIL_EIO cannot open or read;
 * ACDC_UTIL_EDATA bad magic, type code other than 0x08, wrong rank, zero extent, truncated
 * or trailing data, label count differing from image count. */
int acdc_idx_read(const char *images_path, const char *labels_path, acdc_data **out);

/* Loads a data set from path, which is one of
 *   - a directory holding Fashion-MNIST/MNIST files: split "train" reads
 *     train-images-idx3-ubyte and train-labels-idx1-ubyte, split "test" reads
 *     t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each optionally ".gz");
 *   - an IDX image file; its labels come from labels_path if not NULL, else from the
 *     file beside it whose name has "images" → "labels" and "idx3" → "idx1", if present;
 *   - an HDF5 data file (/x, optional /labels; see models/FORMAT.md); split is ignored.
 * split may be NULL (= "train").  Caller frees *out with acdc_data_free(). */
int acdc_data_load(const char *path, const char *split, const char *labels_path,
                   acdc_data **out);

/* The files acdc_data_load() with the same arguments reads, for a command to declare
 * as its inputs (util/output.h): into files[0 .. *n), *n <= 3, each of PATH_MAX bytes
 * (4096) -- path itself, and for a directory or an IDX image file the image and label
 * files found as acdc_data_load() finds them.  Never fails: a file not found is left
 * out (the load reports it). */
void acdc_data_files(const char *path, const char *split, const char *labels_path,
                     char files[][4096], size_t *n);

#endif
