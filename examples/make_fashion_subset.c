/* SPDX-License-Identifier: GPL-3.0-or-later */
/* examples/make_fashion_subset.c -- writes the embedded default data set.
 *
 *   build/examples/make_fashion_subset [IDX_DIR [OUT_DIR [N_TRAIN [N_TEST]]]]
 *
 * Reads Fashion-MNIST from IDX_DIR (default /usr/share/datasets/fashion-mnist, as
 * Debian's dataset-fashion-mnist installs it) and writes the FIRST N_TRAIN images of
 * the training file (default 5000) to OUT_DIR/fashion-train.h5 and the first N_TEST
 * images of the test file (default 1000) to OUT_DIR/fashion-test.h5 (default OUT_DIR
 * examples/data).  Each is a data file of models/FORMAT.md: /x float64 (rows x 784,
 * pixel/255) and /labels int64, chunked and deflated.  No shuffle filter: pixel/255
 * doubles repeat whole 8-byte values, which deflate finds directly (shuffled byte
 * planes compress 4x worse).  No time stamps, so the bytes are reproducible.  Each file
 * is written beside its destination and renamed into place when complete
 * (util/h5.h), so an error or a signal never leaves a half-written data set.
 */
#include "models/idx.h"
#include "util/error.h"
#include "util/h5.h"
#include "util/parse.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>

static int write_subset(const char *path, const acdc_data *d, size_t rows)
{
    if (rows > d->batch)
        rows = d->batch;
    acdc_util_h5_out out;
    int rc = acdc_util_h5_create(path, &out);
    if (rc)
        return rc;
    const hid_t f = out.fid;
    hid_t fcpl = H5Pcreate(H5P_DATASET_CREATE);
    /* Track no times, so regenerating the file gives the same bytes. */
    H5Pset_obj_track_times(fcpl, 0);
    hsize_t dims[2] = {rows, d->dim}, chunk[2] = {rows < 500 ? rows : 500, d->dim};
    H5Pset_chunk(fcpl, 2, chunk);
    H5Pset_deflate(fcpl, 9);
    hid_t sp = H5Screate_simple(2, dims, NULL);
    hid_t ds = H5Dcreate2(f, "x", H5T_IEEE_F64LE, sp, H5P_DEFAULT, fcpl, H5P_DEFAULT);
    herr_t e = ds < 0 ? -1 : H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                       d->x);
    H5Dclose(ds);
    H5Sclose(sp);
    hid_t lcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(lcpl, 0);
    hsize_t ld[1] = {rows}, lc[1] = {rows};
    H5Pset_chunk(lcpl, 1, lc);
    H5Pset_deflate(lcpl, 9);
    sp = H5Screate_simple(1, ld, NULL);
    ds = H5Dcreate2(f, "labels", H5T_STD_I64LE, sp, H5P_DEFAULT, lcpl, H5P_DEFAULT);
    if (e >= 0)
        e = ds < 0 ? -1 : H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                   d->labels);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Pclose(fcpl);
    H5Pclose(lcpl);
    if (e < 0) {
        acdc_util_h5_abort(&out);
        return acdc_util_error(ACDC_UTIL_EIO, "cannot write '%s'", path);
    }
    if ((rc = acdc_util_h5_commit(&out)))
        return rc;
    printf("wrote '%s': first %zu images\n", path, rows);
    return ACDC_UTIL_OK;
}

int main(int argc, char **argv)
{
    const char *in = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    const char *out = argc > 2 ? argv[2] : "examples/data";
    int64_t ntr = 5000, nte = 1000;
    int rc = ACDC_UTIL_OK;
    if ((argc > 3 && (rc = acdc_util_parse_int(argv[3], "N_TRAIN", 1, 60000, &ntr))) ||
        (argc > 4 && (rc = acdc_util_parse_int(argv[4], "N_TEST", 1, 10000, &nte)))) {
        fprintf(stderr, "make_fashion_subset: error: %s\n", acdc_util_errmsg());
        return 2;
    }
    char path[4096];
    const char *split[2] = {"train", "test"};
    const char *name[2] = {"fashion-train.h5", "fashion-test.h5"};
    int64_t rows[2] = {ntr, nte};
    for (int s = 0; s < 2 && !rc; s++) {
        acdc_data *d;
        if ((rc = acdc_data_load(in, split[s], NULL, &d)))
            break;
        snprintf(path, sizeof path, "%s/%s", out, name[s]);
        rc = write_subset(path, d, (size_t)rows[s]);
        acdc_data_free(d);
    }
    if (rc) {
        fprintf(stderr, "make_fashion_subset: error: %s\n", acdc_util_errmsg());
        return 1;
    }
    return 0;
}
