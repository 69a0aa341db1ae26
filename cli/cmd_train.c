/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli/cmd_train.c -- `acdc train`: fit an ACDC cascade (operator or classify task). */
#include "cli/cli.h"
#include "cli/options.h"
#include "compiler/compile.h"
#include "compiler/profile.h"
#include "compiler/surrogate.h"
#include "models/dct.h"
#include "models/idx.h"
#include "models/io.h"
#include "models/train.h"
#include "util/error.h"
#include "util/output.h"
#include "util/parse.h"
#include "util/progress.h"
#include "util/signal.h"

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    O_LABELS = 256, O_SPLIT, O_TEST, O_CLASSES, O_SIZE, O_ROWS, O_NOISE, O_DSEED, O_NOPERM,
    O_PERM, O_NORELU, O_BIAS, O_IMEAN, O_SIGMA, O_STD, O_STDFLOOR, O_OPT, O_LR, O_LRA,
    O_LRD, O_LRB, O_MOM, O_WD, O_SCHED, O_LRF, O_WARM, O_SGAMMA, O_SEP, O_VAL, O_THREADS,
    O_CKPT, O_RESUME, O_TASK, O_TRANSFORM, O_SHAPE, O_INSHAPE, O_INIT, O_HARDWARE, O_HWLENS,
    O_PRECISION, O_DISTIL, O_DWEIGHT, O_DTEMP
};

static const cli_option options[] = {
    CLI_OPT_GROUP("data (classify):"),
    CLI_OPT('d', "data", "PATH", 'd',
            "directory of IDX files (Fashion-MNIST names), an IDX image file (labels beside "
            "it or --labels), or an HDF5 data file"),
    CLI_OPT(0, "labels", "FILE", O_LABELS, "IDX label file for an IDX image file"),
    CLI_OPT(0, "split", "S", O_SPLIT, "train|test, for a directory (default train)"),
    CLI_OPT(0, "test", "PATH", O_TEST,
            "evaluate on these data at the end (a directory: its test split)"),
    CLI_OPT(0, "classes", "C", O_CLASSES, "number of classes (default: largest label + 1)"),
    CLI_OPT_GROUP("data (operator):"),
    CLI_OPT(0, "size", "N", O_SIZE, "N (default 32)"),
    CLI_OPT(0, "rows", "R", O_ROWS, "examples drawn (default 8192)"),
    CLI_OPT(0, "noise", "S", O_NOISE, "standard deviation of the additive noise (default 0.01)"),
    CLI_OPT(0, "data-seed", "S", O_DSEED, "seed of the target and the examples (default 7)"),
    CLI_OPT_GROUP("model:"),
    CLI_OPT(0, "task", "T", O_TASK, "operator or classify (required)"),
    CLI_OPT('K', "layers", "K", 'K', "number of ACDC layers (default 4)"),
    CLI_OPT('n', "n", "N", 'n', "layer size for classify (default: the input width)"),
    CLI_OPT(0, "transform", "T", O_TRANSFORM,
            "dct (1D, default) or dct2: the 2D DCT of an H x W grid, what a spherical-lens "
            "4f system computes (needs --shape)"),
    CLI_OPT(0, "shape", "HxW", O_SHAPE, "dct2: the layer grid, e.g. 28x28 (N = H*W; --n optional)"),
    CLI_OPT(0, "input-shape", "HxW", O_INSHAPE,
            "dct2: the image's grid when it is smaller than --shape (e.g. 28x28 in 32x32): "
            "laid row by row into the top-left corner, the rest zero (default: the whole "
            "grid)"),
    CLI_OPT(0, "no-perm", NULL, O_NOPERM, "no permutations between layers"),
    CLI_OPT(0, "perm", NULL, O_PERM, "permutations (default for classify; off for operator)"),
    CLI_OPT(0, "no-relu", NULL, O_NORELU, "no ReLU between layers (classify)"),
    CLI_OPT(0, "bias", "B", O_BIAS, "both|a|d|none: additive biases (default both)"),
    CLI_OPT(0, "init-mean", "M", O_IMEAN,
            "diagonals drawn from N(M, sigma) (default 1: near identity)"),
    CLI_OPT(0, "sigma", "S", O_SIGMA, "their standard deviation (default 0.06)"),
    CLI_OPT(0, "standardise", "S", O_STD,
            "pixel|global|none (classify default pixel; operator none)"),
    CLI_OPT(0, "std-floor", "F", O_STDFLOOR,
            "pixel scales floored at F x the mean scale (default 0.1)"),
    CLI_OPT(0, "init", "MODEL.h5",
            O_INIT, "fine-tune this model (its layers, permutations and input "
            "standardisation) instead of drawing a new one; the options above do not apply"),
    CLI_OPT_GROUP("hardware-aware training:"),
    CLI_OPT(0, "hardware", "PROFILE|SYSTEM.h5", O_HARDWARE,
            "train through the compiler's differentiable model of the hardware "
            "(compiler/surrogate.h): a built-in profile or profile file (the starting model "
            "is compiled for it, detection designed as 'acdc compile' does) or a compiled "
            "system; device levels, double-phase pairs, pixels, the camera's clip and noise "
            "at the designed level, phase errors drawn per step.  Systems of one layer per "
            "optical chain (pixel-aware designs), 1D or 2D (2D: ideal lenses)"),
    CLI_OPT(0, "hardware-lens", "L", O_HWLENS,
            "profile (default: the lenses with the profile's wavefront error) or ideal "
            "(about 6x faster; for a first stage)"),
    CLI_OPT(0, "distil", "MODEL.h5", O_DISTIL,
            "classify: distil from this model (e.g. the --init model before fine-tuning): "
            "the loss is (1-w) x cross-entropy + w T^2 x KL(teacher || student), both "
            "softmaxes at temperature T (Hinton et al. 2015); its numeric logits are "
            "computed once for every training row"),
    CLI_OPT(0, "distil-weight", "W", O_DWEIGHT, "w in [0, 1] (default 0.5)"),
    CLI_OPT(0, "distil-temperature", "T", O_DTEMP, "T in (0, 1000] (default 2)"),
    CLI_OPT_GROUP("optimiser:"),
    CLI_OPT(0, "optimiser", "O", O_OPT, "adam|sgd (default adam)"),
    CLI_OPT(0, "lr", "X", O_LR, "learning rate of every group (default 1e-2)"),
    CLI_OPT(0, "lr-a", "X", O_LRA, "learning rate of the a diagonals (after --lr)"),
    CLI_OPT(0, "lr-d", "X", O_LRD, "learning rate of the d diagonals (after --lr)"),
    CLI_OPT(0, "lr-bias", "X", O_LRB, "learning rate of the biases (after --lr)"),
    CLI_OPT(0, "momentum", "M", O_MOM, "SGD momentum (default 0.9)"),
    CLI_OPT(0, "weight-decay", "W", O_WD, "decoupled weight decay (default 0)"),
    CLI_OPT(0, "schedule", "S", O_SCHED, "constant|cosine|step (default cosine)"),
    CLI_OPT(0, "lr-final", "F", O_LRF,
            "cosine: final rate as a fraction of the first (default 0)"),
    CLI_OPT(0, "warmup", "E", O_WARM, "epochs of linear warm-up (default 0)"),
    CLI_OPT(0, "step-gamma", "G", O_SGAMMA, "step schedule: the factor the rate is multiplied by (default 0.1)"),
    CLI_OPT(0, "step-epochs", "E", O_SEP, "step schedule: epochs between two multiplications (default 10)"),
    CLI_OPT('e', "epochs", "E", 'e', "epochs (default 10)"),
    CLI_OPT('b', "batch", "B", 'b', "minibatch rows (default 64)"),
    CLI_OPT(0, "val", "F", O_VAL, "fraction held out for validation (default 0.1)"),
    CLI_OPT('s', "seed", "S", 's',
            "initialisation, permutations, split and shuffling (default 1)"),
    CLI_OPT(0, "threads", "T", O_THREADS, "threads (default 1); results do not depend on T"),
    CLI_OPT(0, "precision", "P", O_PRECISION,
            "double (default) or single: the forward and backward passes in float32 "
            "(FFTW's fftwf_ plans, float activations); parameters, optimiser state, "
            "losses and the model file stay float64 (models/README.md).  Not with "
            "--hardware (its model is float64); --resume keeps the checkpoint's"),
    CLI_OPT_GROUP("run:"),
    CLI_OPT('o', "output", "FILE", 'o', "the trained model (HDF5)"),
    CLI_OPT(0, "checkpoint", "FILE", O_CKPT, "(default OUTPUT with '.ckpt' before '.h5')"),
    CLI_OPT(0, "resume", NULL, O_RESUME,
            "continue from the checkpoint, with the options stored in it (model, optimiser, "
            "schedule, epochs, batch, seed); give the same data; --threads, --test and -o "
            "still apply"),
    CLI_OPT('q', "quiet", NULL, 'q', "no per-epoch lines on stdout"),
    CLI_OPT_END};

static const cli_spec spec = {
    "train", "--task operator|classify [options] -o MODEL.h5",
    "Train an ACDC cascade z = C^T diag(d) C diag(a) x (Moczulski et al. 2016).\n"
    "  operator  the paper's experiment: fit a random dense map y = W x + b (N x N, x in\n"
    "            U[0,1], small noise) with a K-layer cascade without ReLU, by mean\n"
    "            squared error.\n"
    "  classify  ReLU and fixed random permutations between layers; the logits are the\n"
    "            first C outputs of the last layer; softmax cross-entropy.  Inputs are\n"
    "            standardised with statistics stored in the model (/input/mean, /scale),\n"
    "            so 'acdc infer' and 'acdc eval' apply them too.\n"
    "\n"
    "A checkpoint (the model plus a /train group) is written atomically after every\n"
    "epoch; --resume continues from it to bitwise the result of an uninterrupted run\n"
    "(the same data: the checkpoint's fingerprint of them must match).  Labels must be\n"
    "classes 0..C-1 and data values finite with |x| <= 1e150 (models/FORMAT.md).  Ctrl-C or SIGTERM stops at the next minibatch, keeps the last\n"
    "checkpoint and exits 3.  A progress bar is drawn when stderr is a terminal.",
    options, "exit codes: 0 trained, 1 data or I/O error, 2 usage error, 3 interrupted"};

static int pick(const char *v, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (!strcmp(v, names[i]))
            return i;
    return -1;
}

struct args {
    int task, perm, relu, bias, stdz, resume, quiet, optim, sched, transform;
    const char *data, *labels, *split, *test, *out, *ckpt, *init, *hardware, *distil;
    double dweight, dtemp; /* --distil-weight, --distil-temperature; -1 if not given */
    int model_opt;         /* a model option was given (refused with --init) */
    int precision;         /* --precision: ACDC_PRECISION_*, or -1 if not given */
    int hwlens;            /* --hardware-lens: 0 ideal, 1 the profile's */
    int64_t classes, size, rows, dseed, K, n, epochs, batch, seed, threads, sep;
    double noise, imean, sigma, stdfloor, lr, val, lra, lrd, lrb, mom, wd, lrf, warm, sgamma;
    size_t gh, gw, in_h, in_w;
};

/* A value that must be one of names[0 .. count): its index into *dst, or a usage error
 * naming the option and the choices. */
static int choose(const char *v, const char *opt, const char *const *names, int count,
                  const char *choices, int *dst)
{
    if ((*dst = pick(v, names, count)) < 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "%s: '%s' is not one of %s", opt, v, choices);
    return ACDC_UTIL_OK;
}

static int on_option(void *ctx, int key, const char *arg)
{
    static const char *const tasks[] = {"operator", "classify"};
    static const char *const biases[] = {"none", "a", "d", "both"};
    static const char *const stds[] = {"none", "global", "pixel"};
    static const char *const optims[] = {"adam", "sgd"};
    static const char *const scheds[] = {"constant", "cosine", "step"};
    static const char *const splits[] = {"train", "test"};
    struct args *a = ctx;
    int k;
    switch (key) {
    case O_TASK: return choose(arg, "--task", tasks, 2, "operator, classify", &a->task);
    case 'd': a->data = arg; return ACDC_UTIL_OK;
    case O_LABELS: a->labels = arg; return ACDC_UTIL_OK;
    case O_SPLIT: {
        int rc = choose(arg, "--split", splits, 2, "train, test", &k);
        if (!rc)
            a->split = splits[k];
        return rc;
    }
    case O_TEST: a->test = arg; return ACDC_UTIL_OK;
    case O_CLASSES: return acdc_util_parse_int(arg, "--classes", 2, ACDC_MAX_CLASSES, &a->classes);
    case O_SIZE: return acdc_util_parse_int(arg, "--size", 1, 1 << 16, &a->size);
    case O_ROWS: return acdc_util_parse_int(arg, "--rows", 1, 1 << 26, &a->rows);
    case O_NOISE: return acdc_util_parse_double(arg, "--noise", 0, 1e6, &a->noise);
    case O_DSEED: return acdc_util_parse_int(arg, "--data-seed", 0, INT64_MAX, &a->dseed);
    case O_INIT: a->init = arg; return ACDC_UTIL_OK;
    case O_HARDWARE: a->hardware = arg; return ACDC_UTIL_OK;
    case O_DISTIL: a->distil = arg; return ACDC_UTIL_OK;
    case O_DWEIGHT: return acdc_util_parse_double(arg, "--distil-weight", 0, 1, &a->dweight);
    case O_DTEMP:
        return acdc_util_parse_double(arg, "--distil-temperature", 1e-6, 1e3, &a->dtemp);
    case O_HWLENS: {
        static const char *const lenses[] = {"ideal", "profile"};
        return choose(arg, "--hardware-lens", lenses, 2, "profile, ideal", &a->hwlens);
    }
    }
    switch (key) {
    case 'K': case 'n': case O_TRANSFORM: case O_SHAPE: case O_INSHAPE: case O_NOPERM:
    case O_PERM: case O_NORELU: case O_BIAS: case O_IMEAN: case O_SIGMA: case O_STD:
    case O_STDFLOOR:
        a->model_opt = 1;
        break;
    }
    switch (key) {
    case 'K': return acdc_util_parse_int(arg, "--layers", 1, 100000, &a->K);
    case 'n': return acdc_util_parse_int(arg, "--n", 1, 1 << 26, &a->n);
    case O_TRANSFORM:
        if ((a->transform = acdc_transform_parse(arg)) < 0)
            return acdc_util_error(ACDC_UTIL_EUSAGE,
                                   "--transform: '%s' is neither dct nor dct2", arg);
        return ACDC_UTIL_OK;
    case O_SHAPE: return acdc_shape_parse(arg, "--shape", &a->gh, &a->gw);
    case O_INSHAPE: return acdc_shape_parse(arg, "--input-shape", &a->in_h, &a->in_w);
    case O_NOPERM: a->perm = 0; return ACDC_UTIL_OK;
    case O_PERM: a->perm = 1; return ACDC_UTIL_OK;
    case O_NORELU: a->relu = 0; return ACDC_UTIL_OK;
    case O_BIAS: return choose(arg, "--bias", biases, 4, "both, a, d, none", &a->bias);
    case O_IMEAN: return acdc_util_parse_double(arg, "--init-mean", -1e3, 1e3, &a->imean);
    case O_SIGMA: return acdc_util_parse_double(arg, "--sigma", 0, 1e3, &a->sigma);
    case O_STD:
        return choose(arg, "--standardise", stds, 3, "pixel, global, none", &a->stdz);
    case O_STDFLOOR: return acdc_util_parse_double(arg, "--std-floor", 0, 1e3, &a->stdfloor);
    case O_OPT: return choose(arg, "--optimiser", optims, 2, "adam, sgd", &a->optim);
    case O_LR: return acdc_util_parse_double(arg, "--lr", 0, 1e3, &a->lr);
    case O_LRA: return acdc_util_parse_double(arg, "--lr-a", 0, 1e3, &a->lra);
    case O_LRD: return acdc_util_parse_double(arg, "--lr-d", 0, 1e3, &a->lrd);
    case O_LRB: return acdc_util_parse_double(arg, "--lr-bias", 0, 1e3, &a->lrb);
    case O_MOM: return acdc_util_parse_double(arg, "--momentum", 0, 0.999999, &a->mom);
    case O_WD: return acdc_util_parse_double(arg, "--weight-decay", 0, 1e3, &a->wd);
    case O_SCHED:
        return choose(arg, "--schedule", scheds, 3, "constant, cosine, step", &a->sched);
    case O_LRF: return acdc_util_parse_double(arg, "--lr-final", 0, 1, &a->lrf);
    case O_WARM: return acdc_util_parse_double(arg, "--warmup", 0, 1e6, &a->warm);
    case O_SGAMMA: return acdc_util_parse_double(arg, "--step-gamma", 1e-12, 1, &a->sgamma);
    case O_SEP: return acdc_util_parse_int(arg, "--step-epochs", 1, 1 << 30, &a->sep);
    case 'e': return acdc_util_parse_int(arg, "--epochs", 1, 1 << 30, &a->epochs);
    case 'b': return acdc_util_parse_int(arg, "--batch", 1, 1 << 20, &a->batch);
    case O_VAL: return acdc_util_parse_double(arg, "--val", 0, 0.9, &a->val);
    case 's': return acdc_util_parse_int(arg, "--seed", 0, INT64_MAX, &a->seed);
    case O_THREADS: return acdc_util_parse_int(arg, "--threads", 1, 256, &a->threads);
    case O_PRECISION: {
        static const char *const precs[] = {"double", "single"};
        return choose(arg, "--precision", precs, 2, "double, single", &a->precision);
    }
    case 'o': a->out = arg; return ACDC_UTIL_OK;
    case O_CKPT: a->ckpt = arg; return ACDC_UTIL_OK;
    case O_RESUME: a->resume = 1; return ACDC_UTIL_OK;
    case 'q': a->quiet = 1; return ACDC_UTIL_OK;
    }
    return ACDC_UTIL_OK;
}

/* The hardware surrogate the trainer trains through: the starting model compiled for
 * spec (a built-in profile or .ini file) or the compiled system spec (.h5).  The
 * detection design (exposure, frames and reference of every chain) is stored with the
 * trainer and restored from a checkpoint, so that a resumed run models exactly what the
 * first run did. */
static int attach_hardware(acdc_trainer *tr, const char *what, int lens, int threads,
                           int quiet, acdc_compiler_surrogate **out)
{
    acdc_model *m = acdc_trainer_model(tr);
    acdc_compiler_system *s = NULL;
    const double *saved;
    size_t hwlen, len = strlen(what);
    const char *stored = acdc_trainer_hardware(tr, &saved, &hwlen);
    int rc;
    if (stored && strcmp(stored, what))
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "the checkpoint trains through '%s', not --hardware "
                               "'%s'", stored, what);
    if (len > 3 && !strcmp(what + len - 3, ".h5")) {
        if (!(rc = acdc_compiler_system_read(what, &s)) &&
            (s->n != m->n || s->n_chains != m->n_layers || s->n_in != m->n_in))
            rc = acdc_util_error(ACDC_UTIL_EDATA,
                                 "system '%s' carries %zu layers of n = %zu with %zu "
                                 "inputs; the model has %zu layers of n = %zu with %zu", what,
                                 s->n_chains, s->n, s->n_in, m->n_layers, m->n, m->n_in);
    } else {
        acdc_compiler_profile p;
        rc = len > 4 && !strcmp(what + len - 4, ".ini") ? acdc_compiler_profile_read(what, &p)
                                                         : acdc_compiler_profile_builtin(what, &p);
        if (!rc)
            rc = acdc_compiler_compile(m, &p, &s);
    }
    if (rc) {
        acdc_compiler_system_free(s);
        acdc_util_error_prefix("--hardware '%s'", what);
        return rc;
    }
    double *design = malloc((3 * s->n_chains + 1) * sizeof *design);
    if (!design) {
        acdc_compiler_system_free(s);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    }
    if (stored && hwlen == 3 * s->n_chains + 1) {
        lens = saved[3 * s->n_chains] != 0;   /* the stored choice wins, as on --resume */
        for (size_t c = 0; c < s->n_chains; c++) {
            s->chains[c].exposure_s = saved[3 * c];
            s->chains[c].frames = (size_t)saved[3 * c + 1];
            s->chains[c].ref_amplitude = saved[3 * c + 2];
        }
    } else {
        for (size_t c = 0; c < s->n_chains; c++) {
            design[3 * c] = s->chains[c].exposure_s;
            design[3 * c + 1] = (double)s->chains[c].frames;
            design[3 * c + 2] = s->chains[c].ref_amplitude;
        }
        design[3 * s->n_chains] = lens;
        rc = acdc_trainer_set_hardware(tr, what, design, 3 * s->n_chains + 1);
    }
    free(design);
    acdc_compiler_surrogate_opts o = acdc_compiler_surrogate_opts_default();
    o.seed = acdc_trainer_opts(tr)->seed;
    o.threads = threads;
    o.lens = lens;
    if (!rc)
        rc = acdc_compiler_surrogate_alloc(out, s, acdc_trainer_work_rows(tr), &o);
    if (rc) {
        acdc_util_error_prefix("--hardware '%s'", what);
    } else {
        acdc_trainer_set_op(tr, acdc_compiler_surrogate_op(*out));
        if (!quiet)
            printf("through the hardware: %s, %zu optical chains, %s Fourier design "
                   "(R = %d), %s levels, phase errors %.3g rad rms, camera noise and clip "
                   "at the designed detection; %s\n", s->profile.name, s->n_chains,
                   s->profile.fourier_oversample > 0 ? "pixel-aware" : "point",
                   s->profile.fourier_oversample, s->profile.ideal ? "continuous" : "device",
                   s->profile.ideal ? 0.0 : s->profile.fourier.phase_error_rad,
                   acdc_compiler_surrogate_lens_terms(*out) > 1
                       ? "lenses with the profile's wavefront error"
                       : "ideal lenses");
        if (!quiet && acdc_compiler_clip_scale(s->profile.fourier_clip) < 1)
            printf("through the hardware: Fourier masks scaled to %.3g of their largest "
                   "value, the values above clipped (rules.fourier_clip)\n",
                   acdc_compiler_clip_scale(s->profile.fourier_clip));
    }
    acdc_compiler_system_free(s);
    return rc;
}

/* The distillation teacher: the model in file `what`, its numeric logits for every row
 * of *d put in *logits and d->teacher, and its name kept with the trainer (for
 * --resume).  Call before the data's fingerprint is set or checked. */
static int attach_teacher(acdc_trainer *tr, const char *what, acdc_train_data *d, int threads,
                          int quiet, double **logits)
{
    acdc_model *tm = NULL, *m = acdc_trainer_model(tr);
    int rc = acdc_model_read(what, &tm);
    if (!rc && (tm->n_in != m->n_in || tm->n_out != m->n_out))
        rc = acdc_util_error(ACDC_UTIL_EDATA, "the teacher has %zu inputs and %zu outputs; the "
                             "model trained has %zu and %zu", tm->n_in, tm->n_out, m->n_in,
                             m->n_out);
    if (!rc)
        rc = acdc_model_outputs(tm, d, threads, logits);
    if (!rc)
        rc = acdc_trainer_set_teacher(tr, what);
    if (rc) {
        acdc_util_error_prefix("--distil '%s'", what);
    } else {
        d->teacher = *logits;
        if (!quiet)
            printf("distilling from '%s' (its numeric logits; weight %g, temperature %g)\n",
                   what, acdc_trainer_opts(tr)->distil, acdc_trainer_opts(tr)->distil_temp);
    }
    acdc_model_free(tm);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    const char *cmd = "train";
    struct args A = {.task = -1, .perm = -1, .relu = 1, .bias = 3, .stdz = -1, .sched = 1,
                     .transform = -1, .split = "train", .size = 32, .rows = 8192,
                     .dseed = 7, .K = 4, .epochs = 10, .batch = 64, .seed = 1, .threads = 1,
                     .sep = 10, .noise = 0.01, .imean = 1, .sigma = 0.06, .stdfloor = 0.1,
                     .lr = 1e-2, .val = 0.1, .lra = -1, .lrd = -1, .lrb = -1, .mom = 0.9,
                     .sgamma = 0.1, .hwlens = 1, .precision = -1, .dweight = -1,
                     .dtemp = -1};
    int rc = cli_parse(&spec, argc, argv, on_option, &A);
    if (rc >= 0)
        return rc;
    int task = A.task, perm = A.perm, relu = A.relu, bias = A.bias, stdz = A.stdz,
        resume = A.resume, quiet = A.quiet, optim = A.optim, sched = A.sched,
        transform = A.transform;
    const char *data = A.data, *labels = A.labels, *split = A.split, *test = A.test,
               *out = A.out, *ckpt = A.ckpt, *init = A.init, *hardware = A.hardware;
    int64_t classes = A.classes, size = A.size, rows = A.rows, dseed = A.dseed, K = A.K,
            n = A.n, epochs = A.epochs, batch = A.batch, seed = A.seed, threads = A.threads,
            sep = A.sep;
    double noise = A.noise, imean = A.imean, sigma = A.sigma, stdfloor = A.stdfloor,
           lr = A.lr, val = A.val, lra = A.lra, lrd = A.lrd, lrb = A.lrb, mom = A.mom,
           wd = A.wd, lrf = A.lrf, warm = A.warm, sgamma = A.sgamma;
    size_t gh = A.gh, gw = A.gw, in_h = A.in_h, in_w = A.in_w;
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (task < 0)
        return cli_usage_error(cmd, "no task: give --task operator or --task classify");
    if (!out)
        return cli_usage_error(cmd, "no output file: give -o MODEL.h5");
    if (task == 1 && !data)
        return cli_usage_error(cmd, "--task classify needs --data DIR|FILE");
    if (task == 0 && (data || test))
        return cli_usage_error(cmd, "--task operator draws its own data; --data and "
                               "--test belong to --task classify");
    char ckbuf[4096];
    if (!ckpt) {
        size_t len = strlen(out);
        if (len > 3 && !strcmp(out + len - 3, ".h5"))
            snprintf(ckbuf, sizeof ckbuf, "%.*s.ckpt.h5", (int)(len - 3), out);
        else
            snprintf(ckbuf, sizeof ckbuf, "%s.ckpt.h5", out);
        ckpt = ckbuf;
    }
    if (!strcmp(ckpt, out))
        return cli_usage_error(cmd, "the checkpoint and the output must be different files");
    if (init && A.model_opt)
        return cli_usage_error(cmd, "--init fine-tunes the model given: the model options "
                               "(--layers, --n, --transform, --shape, --bias, ...) do not "
                               "apply");
    if (A.distil && task != 1)
        return cli_usage_error(cmd, "--distil belongs to --task classify");
    if (!A.distil && !resume && (A.dweight >= 0 || A.dtemp >= 0))
        return cli_usage_error(cmd, "--distil-weight and --distil-temperature need --distil "
                               "MODEL.h5");
    if (resume && (A.dweight >= 0 || A.dtemp >= 0))
        return cli_usage_error(cmd, "--resume continues with the checkpoint's distillation "
                               "weight and temperature: drop --distil-weight and "
                               "--distil-temperature");
    if (A.distil && (!strcmp(A.distil, out) || !strcmp(A.distil, ckpt)))
        return cli_usage_error(cmd, "--distil '%s' is also the output or the checkpoint: it "
                               "would be overwritten", A.distil);
    if (A.precision == ACDC_PRECISION_SINGLE && hardware)
        return cli_usage_error(cmd, "--precision single and --hardware do not go together: "
                               "the hardware model computes in float64");
    if (init && resume)
        return cli_usage_error(cmd, "--resume continues the checkpoint's model; --init "
                               "starts from another");
    if (init && (!strcmp(init, out) || !strcmp(init, ckpt)))
        return cli_usage_error(cmd, "--init '%s' is also the output or the checkpoint: it "
                               "would be overwritten", init);
    if (transform < 0)
        transform = gh ? ACDC_TRANSFORM_DCT2 : ACDC_TRANSFORM_DCT;
    if (transform == ACDC_TRANSFORM_DCT2 && !gh)
        return cli_usage_error(cmd, "--transform dct2 needs --shape HxW");
    if (transform == ACDC_TRANSFORM_DCT && (in_h || (gh && gh != 1)))
        return cli_usage_error(cmd, "--shape and --input-shape describe 2D grids: give "
                               "--transform dct2");
    if (gh && n && (size_t)n != gh * gw)
        return cli_usage_error(cmd, "--shape %zux%zu holds %zu values, not --n %lld", gh, gw,
                               gh * gw, (long long)n);
    if (gh)
        n = (int64_t)(gh * gw);

    /* the inputs: the data and test files (a directory's IDX files), --init, --hardware,
     * --distil; the outputs: the model and the checkpoint */
    char files[6][4096];
    const char *in[9] = {init, hardware}, *outs[] = {out, ckpt};
    size_t nf = 0, nt = 0;
    if (data)
        acdc_data_files(data, split, labels, files, &nf);
    if (test)
        acdc_data_files(test, "test", NULL, files + nf, &nt);
    for (size_t i = 0; i < nf + nt; i++)
        in[2 + i] = files[i];
    in[2 + nf + nt] = A.distil;
    if ((rc = acdc_util_output_claim(in, 3 + nf + nt, outs, 2)))
        return cli_fail(cmd, rc);
    acdc_data *d = NULL, *td = NULL;
    double *ox = NULL, *oy = NULL;
    acdc_trainer *tr = NULL;
    acdc_util_progress *bar = NULL;
    acdc_eval ev = {0};
    acdc_train_data td_train = {0};
    acdc_util_signal_saved sig = {0};
    acdc_compiler_surrogate *sur = NULL;
    acdc_model *im = NULL;
    double *tlogits = NULL;

    /* ---- data ---- */
    if (task == 1) {
        if ((rc = acdc_data_load(data, split, labels, &d)))
            goto fail;
        if (!d->labels) {
            rc = acdc_util_error(ACDC_UTIL_EDATA, "'%s' has no labels to classify by", data);
            goto fail;
        }
        /* labels are data: each names its row when out of range (models/FORMAT.md) */
        if ((rc = acdc_check_labels(d->labels, d->batch, data,
                                    (size_t)(classes ? classes : ACDC_MAX_CLASSES),
                                    classes ? "--classes" : "any classifier")))
            goto fail;
        int64_t mx = 0;
        for (size_t i = 0; i < d->batch; i++)
            mx = d->labels[i] > mx ? d->labels[i] : mx;
        if (!classes)
            classes = mx + 1 < 2 ? 2 : mx + 1;
        td_train = (acdc_train_data){d->batch, d->dim, d->x, NULL, d->labels, NULL};
        if (test) {
            if ((rc = acdc_data_load(test, "test", NULL, &td)))
                goto fail;
            if (td->dim != d->dim || !td->labels) {
                rc = acdc_util_error(ACDC_UTIL_EDATA, "test data '%s' need labels and %zu columns "
                                     "like the training data", test, d->dim);
                goto fail;
            }
        }
    } else {
        if ((rc = acdc_operator_data((size_t)size, (size_t)rows, noise, (uint64_t)dseed,
                                     &ox, &oy)))
            goto fail;
        td_train = (acdc_train_data){(size_t)rows, (size_t)size, ox, oy, NULL, NULL};
    }

    /* ---- trainer ---- */
    if (resume) {
        if ((rc = acdc_trainer_load(ckpt, td_train.rows, (int)threads, &tr)))
            goto fail;
        acdc_model *m = acdc_trainer_model(tr);
        if (m->n_in != td_train.dim ||
            (task == 1 && m->n_out != (size_t)classes) ||
            acdc_trainer_opts(tr)->loss != (task == 1 ? ACDC_LOSS_XENT : ACDC_LOSS_MSE)) {
            rc = acdc_util_error(ACDC_UTIL_EDATA,
                                 "checkpoint '%s' does not match the task and data "
                                 "given", ckpt);
            goto fail;
        }
        const char *teacher = acdc_trainer_teacher(tr);
        if (A.distil && !(acdc_trainer_opts(tr)->distil > 0)) {
            rc = acdc_util_error(ACDC_UTIL_EUSAGE, "checkpoint '%s' trains without distillation: "
                                 "drop --distil", ckpt);
            goto fail;
        }
        if (acdc_trainer_opts(tr)->distil > 0) {
            if (!A.distil && !teacher) {
                rc = acdc_util_error(ACDC_UTIL_EDATA, "checkpoint '%s' distils but names no "
                                     "teacher: give --distil MODEL.h5", ckpt);
                goto fail;
            }
            /* the teacher's name as stored, unless moved (the fingerprint checks it) */
            char tname[512];
            snprintf(tname, sizeof tname, "%s", A.distil ? A.distil : teacher);
            if (!A.distil && !strcmp(tname, out)) {
                /* a stored teacher was not among the files claimed above */
                rc = acdc_util_error(ACDC_UTIL_EUSAGE, "the checkpoint's teacher '%s' is also "
                                     "the output: it would be overwritten", tname);
                goto fail;
            }
            if ((rc = attach_teacher(tr, tname, &td_train, (int)threads, quiet, &tlogits)))
                goto fail;
        }
        int unknown;
        if ((rc = acdc_trainer_check_data(tr, ckpt, task == 1 ? data : "the operator data",
                                          &td_train, &unknown)))
            goto fail;
        if (unknown) {
            fprintf(stderr, "acdc train: warning: checkpoint '%s' predates data fingerprints: "
                    "cannot check that it was trained on these data\n", ckpt);
            acdc_trainer_set_data(tr, &td_train);
        }
        const int stored = acdc_trainer_opts(tr)->precision;
        if (A.precision >= 0 && A.precision != stored) {
            rc = acdc_util_error(ACDC_UTIL_EUSAGE, "checkpoint '%s' was trained in %s precision: "
                                 "--resume continues it so (drop --precision %s)", ckpt,
                                 stored ? "single" : "double", A.precision ? "single" : "double");
            goto fail;
        }
        if (!quiet)
            printf("resuming '%s' after epoch %zu of %zu\n", ckpt,
                   acdc_trainer_epoch_count(tr), acdc_trainer_opts(tr)->epochs);
        if (!hardware)
            hardware = acdc_trainer_hardware(tr, NULL, NULL);
    } else {
        if (init) {
            if ((rc = acdc_model_read(init, &im)))
                goto fail;
            if (im->n_in != td_train.dim || (task == 1 && im->n_out != (size_t)classes &&
                                             A.classes) ||
                (task == 1 && im->n_out < (size_t)classes)) {
                rc = acdc_util_error(ACDC_UTIL_EDATA,
                                     "--init '%s' has %zu inputs and %zu outputs; the "
                                     "data have %zu columns and %lld classes", init, im->n_in,
                                     im->n_out, td_train.dim, (long long)classes);
                goto fail;
            }
            if (task == 1)
                classes = (int64_t)im->n_out;
            K = (int64_t)im->n_layers;
            n = (int64_t)im->n;
        }
        size_t nin = td_train.dim, nout = task == 1 ? (size_t)classes : nin;
        size_t nn = n ? (size_t)n : nin;
        if (task == 0 && n && (size_t)n != nin) {
            rc = acdc_util_error(ACDC_UTIL_EUSAGE, "--task operator: the layer size is --size");
            goto fail;
        }
        if (task == 1 && !A.classes && !n && nout > nn) {
            /* classes counted from the labels, the width from the data: a label beyond
             * the width is a data error (--n and --classes train wider on purpose) */
            char whose[160];
            snprintf(whose, sizeof whose, "a layer of n = %zu (the input width; --n and "
                     "--classes train more)", nn);
            rc = acdc_check_labels(d->labels, d->batch, data, nn, whose);
            goto fail;
        }
        if (nn < nin || nn < nout) {
            rc = acdc_util_error(ACDC_UTIL_EUSAGE, "--n %zu is smaller than the %zu inputs or %zu "
                                 "outputs", nn, nin, nout);
            goto fail;
        }
        if (in_h && in_h * in_w != nin) {
            rc = acdc_util_error(ACDC_UTIL_EUSAGE, "--input-shape %zux%zu holds %zu values but the "
                                 "data have %zu columns", in_h, in_w, in_h * in_w, nin);
            goto fail;
        }
        if (transform == ACDC_TRANSFORM_DCT2 && nin != nn && !in_h) {
            /* Appending zeros would put the image's rows in the wrong places of the
             * grid: the image's own shape says where they go. */
            rc = acdc_util_error(ACDC_UTIL_EUSAGE, "--shape %zux%zu holds %zu values but the data "
                                 "have %zu columns: give the image's grid with --input-shape "
                                 "HxW", gh, gw, nn, nin);
            goto fail;
        }
        if (perm < 0)
            perm = task == 1;
        if (stdz < 0)
            stdz = task == 1 ? 2 : 0;
        unsigned opts = (bias & 1 ? ACDC_A_BIAS : 0) | (bias & 2 ? ACDC_D_BIAS : 0) |
                        (perm ? ACDC_PERM : 0) | (task == 1 && relu ? ACDC_RELU : 0) |
                        (stdz ? ACDC_STANDARDISE : 0);
        acdc_model *m = im;
        im = NULL;
        if (m)
            stdz = 0;   /* the model's own standardisation */
        else if ((rc = acdc_model_alloc(&m, nn, nin, nout, (size_t)K, opts)))
            goto fail;
        if (!init && ((transform == ACDC_TRANSFORM_DCT2 &&
                       (rc = acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, gh, gw, in_h, in_w))) ||
                      (rc = acdc_model_init_normal(m, imean, sigma, (uint64_t)seed)) ||
                      (rc = acdc_model_init_perms(m, (uint64_t)seed)))) {
            acdc_model_free(m);
            goto fail;
        }
        acdc_train_opts o;
        acdc_train_opts_default(&o, task == 1 ? ACDC_LOSS_XENT : ACDC_LOSS_MSE);
        o.optimiser = optim;
        o.lr[0] = lra >= 0 ? lra : lr;
        o.lr[1] = lrd >= 0 ? lrd : lr;
        o.lr[2] = lrb >= 0 ? lrb : lr;
        o.momentum = mom;
        o.weight_decay = wd;
        o.schedule = sched;
        o.lr_final = lrf;
        o.warmup = warm;
        o.step_gamma = sgamma;
        o.step_epochs = (size_t)sep;
        o.epochs = (size_t)epochs;
        o.batch = (size_t)batch;
        o.val_frac = val;
        o.seed = (uint64_t)seed;
        o.threads = (int)threads;
        o.precision = A.precision > 0 ? A.precision : ACDC_PRECISION_DOUBLE;
        if (A.distil) {
            o.distil = A.dweight >= 0 ? A.dweight : 0.5;
            o.distil_temp = A.dtemp >= 0 ? A.dtemp : 2;
        }
        if ((rc = acdc_trainer_alloc(&tr, m, &o, td_train.rows)))
            goto fail;
        if (A.distil && o.distil > 0 &&
            (rc = attach_teacher(tr, A.distil, &td_train, (int)threads, quiet, &tlogits)))
            goto fail;
        acdc_trainer_set_data(tr, &td_train);
        if (stdz && (rc = acdc_trainer_standardise(tr, &td_train, stdz == 2, stdfloor)))
            goto fail;
        if (!quiet && init)
            printf("fine-tuning '%s': %zu layers of n = %zu, %zu parameters, on %zu rows\n",
                   init, m->n_layers, m->n, acdc_model_param_count(m), td_train.rows);
        else if (!quiet && transform == ACDC_TRANSFORM_DCT2)
            printf("training %zu 2D layers of %zux%zu (%zux%zu inputs, %zu outputs), %zu "
                   "parameters, on %zu rows\n", (size_t)K, gh, gw, m->in_h, m->in_w, nout,
                   acdc_model_param_count(m), td_train.rows);
        else if (!quiet)
            printf("training %zu layers of n = %zu (%zu inputs, %zu outputs), %zu "
                   "parameters, on %zu rows\n", (size_t)K, nn, nin, nout,
                   acdc_model_param_count(m), td_train.rows);
    }

    if (hardware && (rc = attach_hardware(tr, hardware, A.hwlens, (int)threads, quiet, &sur)))
        goto fail;
    if (!quiet) {
        const int single = acdc_trainer_opts(tr)->precision == ACDC_PRECISION_SINGLE;
        if (acdc_plan_wisdom() & (single ? ACDC_WISDOM_FLOAT : ACDC_WISDOM_DOUBLE))
            printf("FFTW: the DCTs take their plans from the system wisdom where it holds them "
                   "(/etc/fftw/wisdom%s; models/README.md, \"FFTW's plans\")\n", single ? "f" : "");
    }

    /* ---- the loop ---- */
    if ((rc = acdc_util_signal_catch(&sig)))
        goto fail;
    if ((rc = acdc_util_progress_alloc(&bar, "", 0, "ex")))
        goto fail;
    const size_t E = acdc_trainer_opts(tr)->epochs;
    const int xent = task == 1;
    while (acdc_trainer_epoch_count(tr) < E) {
        acdc_epoch_stats st;
        if ((rc = acdc_trainer_epoch(tr, &td_train, acdc_util_signal_flag(), bar, &st)))
            goto fail;
        if ((rc = acdc_trainer_save(tr, ckpt)))
            goto fail;
        if (!quiet) {
            printf("epoch %zu/%zu  %s %.6g", st.epoch, E, xent ? "loss" : "mse", st.loss);
            if (xent)
                printf("  acc %.4f", st.acc);
            if (!isnan(st.val_loss))
                printf("  %s %.6g", xent ? "val_loss" : "val_mse", st.val_loss);
            if (xent && !isnan(st.val_acc))
                printf("  val_acc %.4f", st.val_acc);
            /* throughput: the rows trained on over the training steps' time (the
             * validation pass is in the epoch's time, not in the rate) */
            printf("  %.1f s  %.0f ex/s\n", st.seconds, (double)st.rows / st.train_seconds);
            fflush(stdout);
        }
        if (acdc_util_signal_caught()) {
            rc = acdc_util_error(ACDC_UTIL_EINTR, "interrupted after epoch %zu; checkpoint '%s' is "
                                 "complete", st.epoch, ckpt);
            goto fail;
        }
    }
    acdc_model *m = acdc_trainer_model(tr);
    if ((rc = acdc_model_write(m, out)))
        goto fail;
    if (!quiet)
        printf("wrote '%s': %zu layers, %zu parameters\n", out, m->n_layers,
               acdc_model_param_count(m));
    if (td) {
        acdc_train_data tt = {td->batch, td->dim, td->x, NULL, td->labels, NULL};
        if ((rc = acdc_evaluate(m, ACDC_LOSS_XENT, &tt, (int)threads, &ev)))
            goto fail;
        printf("test '%s': %zu rows  loss %.4f  accuracy %.4f\n", test, ev.rows, ev.loss,
               ev.acc);
        if (sur) {
            acdc_eval_clear(&ev);
            if ((rc = acdc_evaluate_op(m, ACDC_LOSS_XENT, &tt, (int)threads,
                                       acdc_compiler_surrogate_op(sur), UINT64_C(3) << 61, &ev)))
                goto fail;
            printf("test '%s' through the hardware surrogate: accuracy %.4f (the simulator "
                   "judges: acdc compile, acdc simulate)\n", test, ev.acc);
        }
    }
    rc = ACDC_UTIL_OK;
fail:
    acdc_util_signal_restore(&sig);
    acdc_util_progress_free(bar);
    acdc_eval_clear(&ev);
    acdc_trainer_free(tr);
    acdc_compiler_surrogate_free(sur);
    acdc_model_free(im);
    free(tlogits);
    acdc_data_free(d);
    acdc_data_free(td);
    free(ox);
    free(oy);
    if (rc)
        return cli_fail(cmd, rc);
    return cli_finish(cmd);
}
