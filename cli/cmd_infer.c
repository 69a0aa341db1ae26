/* cli/cmd_infer.c -- `acdc infer`: the numeric forward pass. */
#include "cli/cli.h"
#include "models/io.h"
#include "util/error.h"
#include "util/parse.h"

#include <fftw3.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: acdc infer MODEL.h5 DATA.h5 -o OUT.h5 [options]\n"
    "\n"
    "Run the numeric ACDC cascade on every row of DATA.h5's /x (batch x n_in) and write\n"
    "/y (batch x n_out); /labels is copied if present.  This is the reference that the\n"
    "optical simulation is compared with.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE   result file to write (HDF5)\n"
    "      --threads T     threads (default 1)\n"
    "      --batch B       rows per pass (default 256)\n"
    "  -h, --help          this text\n";

int cmd_infer(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"threads", required_argument, 0, 't'},
                                         {"batch", required_argument, 0, 'b'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *out = NULL;
    int64_t threads = 1, chunk = 256;
    int c, rc;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        rc = UTIL_OK;
        switch (c) {
        case 'o': out = optarg; break;
        case 't': rc = util_parse_int(optarg, "--threads", 1, 256, &threads); break;
        case 'b': rc = util_parse_int(optarg, "--batch", 1, 1 << 20, &chunk); break;
        case 'h': fputs(help, stdout); return cli_finish("infer");
        default:
            return cli_usage_error("infer", "unknown option '%s'", argv[optind - 1]);
        }
        if (rc)
            return cli_fail("infer", rc);
    }
    if (argc - optind != 2)
        return cli_usage_error("infer", "expected MODEL.h5 and DATA.h5, got %d arguments",
                               argc - optind);
    if (!out)
        return cli_usage_error("infer", "no output file: give -o OUT.h5");
    const char *mpath = argv[optind], *dpath = argv[optind + 1];
    acdc_model *m = NULL;
    acdc_data *d = NULL;
    acdc_work *w = NULL;
    double *y = NULL;
    if ((rc = acdc_model_read(mpath, &m)) || (rc = acdc_data_read(dpath, 0, &d)))
        goto fail;
    if (d->dim != m->n_in) {
        rc = util_error(UTIL_EDATA, "'/x' in '%s' has %zu columns but model '%s' takes "
                        "n_in = %zu inputs", dpath, d->dim, mpath, m->n_in);
        goto fail;
    }
    size_t b = d->batch < (size_t)chunk ? d->batch : (size_t)chunk;
    if ((rc = acdc_work_alloc(&w, m, b, 0, (int)threads, FFTW_ESTIMATE)))
        goto fail;
    if (!(y = malloc(d->batch * m->n_out * sizeof *y))) {
        rc = util_error(UTIL_ENOMEM, "out of memory for %zu outputs", d->batch * m->n_out);
        goto fail;
    }
    for (size_t r = 0; r < d->batch; r += b) {
        size_t k = d->batch - r < b ? d->batch - r : b;
        if ((rc = acdc_model_forward(m, w, k, d->x + r * m->n_in, y + r * m->n_out)))
            goto fail;
    }
    if ((rc = acdc_output_write(out, d->batch, m->n_out, y, d->labels)))
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
