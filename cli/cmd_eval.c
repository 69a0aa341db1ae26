/* cli/cmd_eval.c -- `acdc eval`: loss, accuracy and confusion matrix on labelled data. */
#include "cli/cli.h"
#include "models/idx.h"
#include "models/io.h"
#include "models/train.h"
#include "util/error.h"
#include "util/h5.h"
#include "util/parse.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: acdc eval MODEL.h5 DATA [options]\n"
    "\n"
    "Classify every row of DATA with the numeric cascade (logits = the model's n_out\n"
    "outputs, its stored input standardisation applied) and print the mean softmax\n"
    "cross-entropy, the accuracy and the confusion matrix (rows: true class, columns:\n"
    "predicted).  DATA is a directory of IDX files (Fashion-MNIST names), an IDX image\n"
    "file with its labels beside it (or --labels), or an HDF5 data file (/x, /labels).\n"
    "\n"
    "options:\n"
    "  -o, --output FILE   also write the figures to FILE (HDF5: attributes loss,\n"
    "                      accuracy, rows; dataset /confusion, classes x classes)\n"
    "      --split S       train|test, for a directory (default test)\n"
    "      --labels FILE   IDX label file for an IDX image file\n"
    "      --threads T     threads (default 1)\n"
    "  -h, --help          this text\n"
    "\n"
    "exit codes: 0 done, 1 data or I/O error, 2 usage error\n";

static int write_eval(const char *path, const char *model, const char *data,
                      const acdc_eval *ev)
{
    util_h5_out o;
    int rc = util_h5_create(path, &o);
    if (rc)
        return rc;
    hsize_t dims[2] = {ev->classes, ev->classes};
    if ((rc = util_h5_set_attr_str(o.fid, "/", "format", "acdc-eval")) ||
        (rc = util_h5_set_attr_str(o.fid, "/", "model", model)) ||
        (rc = util_h5_set_attr_str(o.fid, "/", "data", data)) ||
        (rc = util_h5_set_attr_i64(o.fid, "/", "rows", (int64_t)ev->rows)) ||
        (rc = util_h5_set_attr_i64(o.fid, "/", "classes", (int64_t)ev->classes)) ||
        (rc = util_h5_set_attr_f64(o.fid, "/", "loss", ev->loss)) ||
        (rc = util_h5_set_attr_f64(o.fid, "/", "accuracy", ev->acc)) ||
        (rc = util_h5_write_i64(o.fid, "/confusion", 2, dims, ev->confusion))) {
        util_h5_abort(&o);
        return rc;
    }
    return util_h5_commit(&o);
}

int cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"split", required_argument, 0, 's'},
                                         {"labels", required_argument, 0, 'l'},
                                         {"threads", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *cmd = "eval", *out = NULL, *split = "test", *labels = NULL;
    int64_t threads = 1;
    int c, rc;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        rc = UTIL_OK;
        switch (c) {
        case 'o': out = optarg; break;
        case 's':
            if (strcmp(optarg, "train") && strcmp(optarg, "test"))
                return cli_usage_error(cmd, "--split: '%s' is neither 'train' nor 'test'",
                                       optarg);
            split = optarg;
            break;
        case 'l': labels = optarg; break;
        case 't': rc = util_parse_int(optarg, "--threads", 1, 256, &threads); break;
        case 'h': fputs(help, stdout); return cli_finish(cmd);
        default:
            return cli_usage_error(cmd, "unknown option or missing value '%s'",
                                   argv[optind - 1]);
        }
        if (rc)
            return cli_fail(cmd, rc);
    }
    if (argc - optind != 2)
        return cli_usage_error(cmd, "expected MODEL.h5 and DATA, got %d arguments",
                               argc - optind);
    const char *mpath = argv[optind], *dpath = argv[optind + 1];
    acdc_model *m = NULL;
    acdc_data *d = NULL;
    acdc_eval ev = {0};
    if ((rc = acdc_model_read(mpath, &m)) || (rc = acdc_data_load(dpath, split, labels, &d)))
        goto fail;
    if (!d->labels) {
        rc = util_error(UTIL_EDATA, "'%s' has no labels to evaluate against", dpath);
        goto fail;
    }
    if (d->dim != m->n_in) {
        rc = util_error(UTIL_EDATA, "'%s' has %zu columns but model '%s' takes n_in = %zu "
                        "inputs", dpath, d->dim, mpath, m->n_in);
        goto fail;
    }
    acdc_train_data td = {d->batch, d->dim, d->x, NULL, d->labels};
    if ((rc = acdc_evaluate(m, ACDC_LOSS_XENT, &td, (int)threads, &ev))) {
        util_error_prefix("'%s' on '%s'", mpath, dpath);
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
    if (out && (rc = write_eval(out, mpath, dpath, &ev)))
        goto fail;
    if (out)
        printf("wrote '%s'\n", out);
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
