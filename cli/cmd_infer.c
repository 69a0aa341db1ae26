/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli/cmd_infer.c -- `acdc infer`: the numeric forward pass. */
#include "cli/cli.h"
#include "models/io.h"
#include "util/error.h"
#include "util/output.h"
#include "util/parse.h"

#include <fftw3.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_OUTPUT = 'o', OPT_THREADS = 't', OPT_BATCH = 'b' };

static const cli_option options[] = {
    CLI_OPT('o', "output", "FILE", OPT_OUTPUT, "result file to write (HDF5)"),
    CLI_OPT(0, "threads", "T", OPT_THREADS, "threads (default 1)"),
    CLI_OPT(0, "batch", "B", OPT_BATCH, "rows per pass (default 256)"),
    CLI_OPT_END};

static const cli_spec spec = {
    "infer", "MODEL.h5 DATA.h5 -o OUT.h5 [options]",
    "Run the numeric ACDC cascade on every row of DATA.h5's /x (batch x n_in) and write\n"
    "/y (batch x n_out); /labels is copied if present.  This is the reference that the\n"
    "optical simulation is compared with.  Data values must be finite with |x| <= 1e150\n"
    "and labels classes 0..n_out-1 (models/FORMAT.md); a row that breaks either, or whose\n"
    "output is not finite, is an error naming the file and the row.",
    options, NULL};

struct args {
    const char *out;
    int64_t threads, chunk;
};

static int on_option(void *ctx, int key, const char *arg)
{
    struct args *a = ctx;
    switch (key) {
    case OPT_OUTPUT: a->out = arg; return ACDC_UTIL_OK;
    case OPT_THREADS: return acdc_util_parse_int(arg, "--threads", 1, 256, &a->threads);
    case OPT_BATCH: return acdc_util_parse_int(arg, "--batch", 1, 1 << 20, &a->chunk);
    }
    return ACDC_UTIL_OK;
}

int cmd_infer(int argc, char **argv)
{
    struct args a = {NULL, 1, 256};
    int rc = cli_parse(&spec, argc, argv, on_option, &a);
    if (rc >= 0)
        return rc;
    const char *out = a.out;
    if (argc - optind != 2)
        return cli_usage_error("infer", "expected MODEL.h5 and DATA.h5, got %d arguments",
                               argc - optind);
    if (!out)
        return cli_usage_error("infer", "no output file: give -o OUT.h5");
    const char *mpath = argv[optind], *dpath = argv[optind + 1];
    if ((rc = acdc_util_output_claim((const char *const *)argv + optind, 2, &out, 1)))
        return cli_fail("infer", rc);
    acdc_model *m = NULL;
    acdc_data *d = NULL;
    acdc_work *w = NULL;
    double *y = NULL;
    if ((rc = acdc_model_read(mpath, &m)) || (rc = acdc_data_read(dpath, 0, &d)))
        goto fail;
    if (d->dim != m->n_in) {
        rc = acdc_util_error(ACDC_UTIL_EDATA, "'/x' in '%s' has %zu columns but model '%s' takes "
                             "n_in = %zu inputs", dpath, d->dim, mpath, m->n_in);
        goto fail;
    }
    if ((rc = acdc_check_labels(d->labels, d->batch, dpath, m->n_out, "the model")))
        goto fail;
    size_t b = d->batch < (size_t)a.chunk ? d->batch : (size_t)a.chunk;
    if ((rc = acdc_work_alloc(&w, m, b, 0, (int)a.threads, FFTW_ESTIMATE)))
        goto fail;
    if (!(y = malloc(d->batch * m->n_out * sizeof *y))) {
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for %zu outputs",
                             d->batch * m->n_out);
        goto fail;
    }
    for (size_t r = 0; r < d->batch; r += b) {
        size_t k = d->batch - r < b ? d->batch - r : b;
        if ((rc = acdc_model_forward(m, w, k, d->x + r * m->n_in, y + r * m->n_out)))
            goto fail;
    }
    if ((rc = acdc_check_values(y, d->batch, m->n_out, 0, 0, dpath, "the outputs")) ||
        (rc = acdc_output_write(out, d->batch, m->n_out, y, d->labels)))
        goto fail;
    printf("wrote '%s': %zu rows x %zu outputs\n", out, d->batch, m->n_out);
    free(y);
    acdc_work_free(w);
    acdc_data_free(d);
    acdc_model_free(m);
    return cli_finish("infer");
fail:
    free(y);
    acdc_work_free(w);
    acdc_data_free(d);
    acdc_model_free(m);
    return cli_fail("infer", rc);
}
