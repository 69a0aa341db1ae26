/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli/cmd_eval.c -- `acdc eval`: loss, accuracy and confusion matrix on labelled data. */
#include "cli/cli.h"
#include "models/idx.h"
#include "models/io.h"
#include "models/train.h"
#include "util/error.h"
#include "util/output.h"
#include "util/h5.h"
#include "util/parse.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_OUTPUT = 'o', OPT_SPLIT = 's', OPT_LABELS = 'l', OPT_THREADS = 't' };

static const cli_option options[] = {
    CLI_OPT('o', "output", "FILE", OPT_OUTPUT,
            "also write the figures to FILE (HDF5: attributes loss, accuracy, rows; "
            "dataset /confusion, classes x classes)"),
    CLI_OPT(0, "split", "S", OPT_SPLIT, "train|test, for a directory (default test)"),
    CLI_OPT(0, "labels", "FILE", OPT_LABELS, "IDX label file for an IDX image file"),
    CLI_OPT(0, "threads", "T", OPT_THREADS, "threads (default 1)"),
    CLI_OPT_END};

static const cli_spec spec = {
    "eval", "MODEL.h5 DATA [options]",
    "Classify every row of DATA with the numeric cascade (logits = the model's n_out\n"
    "outputs, its stored input standardisation applied) and print the mean softmax\n"
    "cross-entropy, the accuracy and the confusion matrix (rows: true class, columns:\n"
    "predicted).  DATA is a directory of IDX files (Fashion-MNIST names), an IDX image\n"
    "file with its labels beside it (or --labels), or an HDF5 data file (/x, /labels).\n"
    "Labels must be classes 0..n_out-1 and values finite with |x| <= 1e150\n"
    "(models/FORMAT.md): a row that breaks either is an error naming the file and row.",
    options, "exit codes: 0 done, 1 data or I/O error, 2 usage error"};

struct args {
    const char *out, *split, *labels;
    int64_t threads;
};

static int on_option(void *ctx, int key, const char *arg)
{
    struct args *a = ctx;
    switch (key) {
    case OPT_OUTPUT: a->out = arg; break;
    case OPT_SPLIT: a->split = arg; break;   /* checked after the options: see below */
    case OPT_LABELS: a->labels = arg; break;
    case OPT_THREADS: return acdc_util_parse_int(arg, "--threads", 1, 256, &a->threads);
    }
    return ACDC_UTIL_OK;
}

static int write_eval(const char *path, const char *model, const char *data,
                      const acdc_eval *ev)
{
    acdc_util_h5_out o;
    int rc = acdc_util_h5_create(path, &o);
    if (rc)
        return rc;
    hsize_t dims[2] = {ev->classes, ev->classes};
    if ((rc = acdc_util_h5_set_attr_str(o.fid, "/", "format", "acdc-eval")) ||
        (rc = acdc_util_h5_set_attr_str(o.fid, "/", "model", model)) ||
        (rc = acdc_util_h5_set_attr_str(o.fid, "/", "data", data)) ||
        (rc = acdc_util_h5_set_attr_i64(o.fid, "/", "rows", (int64_t)ev->rows)) ||
        (rc = acdc_util_h5_set_attr_i64(o.fid, "/", "classes", (int64_t)ev->classes)) ||
        (rc = acdc_util_h5_set_attr_f64(o.fid, "/", "loss", ev->loss)) ||
        (rc = acdc_util_h5_set_attr_f64(o.fid, "/", "accuracy", ev->acc)) ||
        (rc = acdc_util_h5_write_i64(o.fid, "/confusion", 2, dims, ev->confusion))) {
        acdc_util_h5_abort(&o);
        return rc;
    }
    return acdc_util_h5_commit(&o);
}

int cmd_eval(int argc, char **argv)
{
    const char *cmd = "eval";
    struct args a = {.split = "test", .threads = 1};
    int rc = cli_parse(&spec, argc, argv, on_option, &a);
    if (rc >= 0)
        return rc;
    /* Here rather than in on_option, for the usage error's pointer to --help. */
    if (strcmp(a.split, "train") && strcmp(a.split, "test"))
        return cli_usage_error(cmd, "--split: '%s' is neither 'train' nor 'test'", a.split);
    if (argc - optind != 2)
        return cli_usage_error(cmd, "expected MODEL.h5 and DATA, got %d arguments",
                               argc - optind);
    const char *mpath = argv[optind], *dpath = argv[optind + 1];
    char files[3][4096];
    const char *in[4] = {mpath};
    size_t nf;
    acdc_data_files(dpath, a.split, a.labels, files, &nf);
    for (size_t i = 0; i < nf; i++)
        in[1 + i] = files[i];
    if ((rc = acdc_util_output_claim(in, 1 + nf, &a.out, 1)))
        return cli_fail(cmd, rc);
    acdc_model *m = NULL;
    acdc_data *d = NULL;
    acdc_eval ev = {0};
    if ((rc = acdc_model_read(mpath, &m)) ||
        (rc = acdc_data_load(dpath, a.split, a.labels, &d)))
        goto fail;
    if (!d->labels) {
        rc = acdc_util_error(ACDC_UTIL_EDATA, "'%s' has no labels to evaluate against", dpath);
        goto fail;
    }
    if (d->dim != m->n_in) {
        rc = acdc_util_error(ACDC_UTIL_EDATA,
                             "'%s' has %zu columns but model '%s' takes n_in = %zu "
                             "inputs", dpath, d->dim, mpath, m->n_in);
        goto fail;
    }
    if ((rc = acdc_check_labels(d->labels, d->batch, dpath, m->n_out, "the model")))
        goto fail;
    acdc_train_data td = {d->batch, d->dim, d->x, NULL, d->labels, NULL};
    if ((rc = acdc_evaluate(m, ACDC_LOSS_XENT, &td, (int)a.threads, &ev))) {
        acdc_util_error_prefix("'%s' on '%s'", mpath, dpath);
        goto fail;
    }
    printf("rows      %zu\nloss      %.6f\naccuracy  %.4f\n", ev.rows, ev.loss, ev.acc);
    printf("confusion (rows: true class, columns: predicted)\n       ");
    for (size_t j = 0; j < ev.classes; j++)
        printf(" %6zu", j);
    printf("   recall\n");
    for (size_t i = 0; i < ev.classes; i++) {
        int64_t row = 0;
        printf("  %4zu ", i);
        for (size_t j = 0; j < ev.classes; j++) {
            printf(" %6lld", (long long)ev.confusion[i * ev.classes + j]);
            row += ev.confusion[i * ev.classes + j];
        }
        if (row)
            printf("   %.4f\n", (double)ev.confusion[i * ev.classes + i] / (double)row);
        else
            printf("   -\n");
    }
    if (a.out && (rc = write_eval(a.out, mpath, dpath, &ev)))
        goto fail;
    if (a.out)
        printf("wrote '%s'\n", a.out);
    acdc_eval_clear(&ev);
    acdc_data_free(d);
    acdc_model_free(m);
    return cli_finish(cmd);
fail:
    acdc_eval_clear(&ev);
    acdc_data_free(d);
    acdc_model_free(m);
    return cli_fail(cmd, rc);
}
