/* cli/cmd_train.c -- `acdc train`: fit an ACDC cascade (operator or classify task). */
#include "cli/cli.h"
#include "models/idx.h"
#include "models/io.h"
#include "models/train.h"
#include "util/error.h"
#include "util/parse.h"
#include "util/progress.h"
#include "util/signal.h"

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char help[] =
    "usage: acdc train --task operator|classify [options] -o MODEL.h5\n"
    "\n"
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
    "(give the same data).  Ctrl-C or SIGTERM stops at the next minibatch, keeps the last\n"
    "checkpoint and exits 3.  A progress bar is drawn when stderr is a terminal.\n"
    "\n"
    "data (classify):\n"
    "  -d, --data PATH       directory of IDX files (Fashion-MNIST names), an IDX image\n"
    "                        file (labels beside it or --labels), or an HDF5 data file\n"
    "      --labels FILE     IDX label file for an IDX image file\n"
    "      --split S         train|test, for a directory (default train)\n"
    "      --test PATH       evaluate on these data at the end (a directory: its test\n"
    "                        split)\n"
    "      --classes C       number of classes (default: largest label + 1)\n"
    "data (operator):\n"
    "      --size N          N (default 32)\n"
    "      --rows R          examples drawn (default 8192)\n"
    "      --noise S         standard deviation of the additive noise (default 0.01)\n"
    "      --data-seed S     seed of the target and the examples (default 7)\n"
    "model:\n"
    "  -K, --layers K        number of ACDC layers (default 4)\n"
    "  -n, --n N             layer size for classify (default: the input width)\n"
    "      --transform T     dct (1D, default) or dct2: the 2D DCT of an H x W grid, what\n"
    "                        a spherical-lens 4f system computes (needs --shape)\n"
    "      --shape HxW       dct2: the layer grid, e.g. 28x28 (N = H*W; --n optional)\n"
    "      --input-shape HxW dct2: the image's grid when it is smaller than --shape (e.g.\n"
    "                        28x28 in 32x32): laid row by row into the top-left corner,\n"
    "                        the rest zero (default: the whole grid)\n"
    "      --no-perm         no permutations between layers\n"
    "      --perm            permutations (default for classify; off for operator)\n"
    "      --no-relu         no ReLU between layers (classify)\n"
    "      --bias B          both|a|d|none: additive biases (default both)\n"
    "      --init-mean M     diagonals drawn from N(M, sigma) (default 1: near identity)\n"
    "      --sigma S         (default 0.06)\n"
    "      --standardise S   pixel|global|none (classify default pixel; operator none)\n"
    "      --std-floor F     pixel scales floored at F x the mean scale (default 0.1)\n"
    "optimiser:\n"
    "      --optimiser O     adam|sgd (default adam)\n"
    "      --lr X            learning rate of every group (default 1e-2)\n"
    "      --lr-a X, --lr-d X, --lr-bias X    per-group rates (after --lr)\n"
    "      --momentum M      SGD momentum (default 0.9)\n"
    "      --weight-decay W  decoupled weight decay (default 0)\n"
    "      --schedule S      constant|cosine|step (default cosine)\n"
    "      --lr-final F      cosine: final rate as a fraction of the first (default 0)\n"
    "      --warmup E        epochs of linear warm-up (default 0)\n"
    "      --step-gamma G, --step-epochs E    step: multiply by G every E epochs\n"
    "  -e, --epochs E        (default 10)\n"
    "  -b, --batch B         minibatch rows (default 64)\n"
    "      --val F           fraction held out for validation (default 0.1)\n"
    "  -s, --seed S          initialisation, permutations, split and shuffling (default 1)\n"
    "      --threads T       threads (default 1); results do not depend on T\n"
    "run:\n"
    "  -o, --output FILE     the trained model (HDF5)\n"
    "      --checkpoint FILE (default OUTPUT with '.ckpt' before '.h5')\n"
    "      --resume          continue from the checkpoint, with the options stored in\n"
    "                        it (model, optimiser, schedule, epochs, batch, seed); give\n"
    "                        the same data; --threads, --test and -o still apply\n"
    "  -q, --quiet           no per-epoch lines on stdout\n"
    "  -h, --help            this text\n"
    "\n"
    "exit codes: 0 trained, 1 data or I/O error, 2 usage error, 3 interrupted\n";

enum {
    O_LABELS = 256, O_SPLIT, O_TEST, O_CLASSES, O_SIZE, O_ROWS, O_NOISE, O_DSEED, O_NOPERM,
    O_PERM, O_NORELU, O_BIAS, O_IMEAN, O_SIGMA, O_STD, O_STDFLOOR, O_OPT, O_LR, O_LRA,
    O_LRD, O_LRB, O_MOM, O_WD, O_SCHED, O_LRF, O_WARM, O_SGAMMA, O_SEP, O_VAL, O_THREADS,
    O_CKPT, O_RESUME, O_TASK, O_TRANSFORM, O_SHAPE, O_INSHAPE
};

static int pick(const char *v, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (!strcmp(v, names[i]))
            return i;
    return -1;
}

int cmd_train(int argc, char **argv)
{
    static const struct option lo[] = {
        {"task", required_argument, 0, O_TASK}, {"data", required_argument, 0, 'd'},
        {"labels", required_argument, 0, O_LABELS}, {"split", required_argument, 0, O_SPLIT},
        {"test", required_argument, 0, O_TEST}, {"classes", required_argument, 0, O_CLASSES},
        {"size", required_argument, 0, O_SIZE}, {"rows", required_argument, 0, O_ROWS},
        {"noise", required_argument, 0, O_NOISE},
        {"data-seed", required_argument, 0, O_DSEED},
        {"layers", required_argument, 0, 'K'}, {"n", required_argument, 0, 'n'},
        {"transform", required_argument, 0, O_TRANSFORM},
        {"shape", required_argument, 0, O_SHAPE},
        {"input-shape", required_argument, 0, O_INSHAPE},
        {"no-perm", no_argument, 0, O_NOPERM}, {"perm", no_argument, 0, O_PERM},
        {"no-relu", no_argument, 0, O_NORELU}, {"bias", required_argument, 0, O_BIAS},
        {"init-mean", required_argument, 0, O_IMEAN},
        {"sigma", required_argument, 0, O_SIGMA},
        {"standardise", required_argument, 0, O_STD},
        {"std-floor", required_argument, 0, O_STDFLOOR},
        {"optimiser", required_argument, 0, O_OPT}, {"lr", required_argument, 0, O_LR},
        {"lr-a", required_argument, 0, O_LRA}, {"lr-d", required_argument, 0, O_LRD},
        {"lr-bias", required_argument, 0, O_LRB}, {"momentum", required_argument, 0, O_MOM},
        {"weight-decay", required_argument, 0, O_WD},
        {"schedule", required_argument, 0, O_SCHED},
        {"lr-final", required_argument, 0, O_LRF}, {"warmup", required_argument, 0, O_WARM},
        {"step-gamma", required_argument, 0, O_SGAMMA},
        {"step-epochs", required_argument, 0, O_SEP},
        {"epochs", required_argument, 0, 'e'}, {"batch", required_argument, 0, 'b'},
        {"val", required_argument, 0, O_VAL}, {"seed", required_argument, 0, 's'},
        {"threads", required_argument, 0, O_THREADS},
        {"output", required_argument, 0, 'o'}, {"checkpoint", required_argument, 0, O_CKPT},
        {"resume", no_argument, 0, O_RESUME}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    static const char *const tasks[] = {"operator", "classify"};
    static const char *const biases[] = {"none", "a", "d", "both"};
    static const char *const stds[] = {"none", "global", "pixel"};
    static const char *const optims[] = {"adam", "sgd"};
    static const char *const scheds[] = {"constant", "cosine", "step"};
    const char *cmd = "train";
    int task = -1, perm = -1, relu = 1, bias = 3, stdz = -1, resume = 0, quiet = 0;
    const char *data = NULL, *labels = NULL, *split = "train", *test = NULL, *out = NULL;
    const char *ckpt = NULL;
    int64_t classes = 0, size = 32, rows = 8192, dseed = 7, K = 4, n = 0, epochs = 10,
            batch = 64, seed = 1, threads = 1, sep = 10;
    double noise = 0.01, imean = 1, sigma = 0.06, stdfloor = 0.1, lr = 1e-2, val = 0.1;
    double lra = -1, lrd = -1, lrb = -1, mom = 0.9, wd = 0, lrf = 0, warm = 0, sgamma = 0.1;
    int optim = 0, sched = 1, transform = -1;
    size_t gh = 0, gw = 0, in_h = 0, in_w = 0;
    int c, rc;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "d:K:n:e:b:s:o:qh", lo, NULL)) != -1) {
        rc = UTIL_OK;
        switch (c) {
        case O_TASK:
            if ((task = pick(optarg, tasks, 2)) < 0)
                return cli_usage_error(cmd, "--task: '%s' is neither 'operator' nor "
                                       "'classify'", optarg);
            break;
        case 'd': data = optarg; break;
        case O_LABELS: labels = optarg; break;
        case O_SPLIT:
            if (strcmp(optarg, "train") && strcmp(optarg, "test"))
                return cli_usage_error(cmd, "--split: '%s' is neither 'train' nor 'test'",
                                       optarg);
            split = optarg;
            break;
        case O_TEST: test = optarg; break;
        case O_CLASSES:
            rc = util_parse_int(optarg, "--classes", 2, 1 << 20, &classes);
            break;
        case O_SIZE: rc = util_parse_int(optarg, "--size", 1, 1 << 16, &size); break;
        case O_ROWS: rc = util_parse_int(optarg, "--rows", 1, 1 << 26, &rows); break;
        case O_NOISE: rc = util_parse_double(optarg, "--noise", 0, 1e6, &noise); break;
        case O_DSEED:
            rc = util_parse_int(optarg, "--data-seed", 0, INT64_MAX, &dseed);
            break;
        case 'K': rc = util_parse_int(optarg, "--layers", 1, 100000, &K); break;
        case 'n': rc = util_parse_int(optarg, "--n", 1, 1 << 26, &n); break;
        case O_TRANSFORM:
            if ((transform = acdc_transform_parse(optarg)) < 0)
                return cli_usage_error(cmd, "--transform: '%s' is neither dct nor dct2",
                                       optarg);
            break;
        case O_SHAPE: rc = acdc_shape_parse(optarg, "--shape", &gh, &gw); break;
        case O_INSHAPE: rc = acdc_shape_parse(optarg, "--input-shape", &in_h, &in_w); break;
        case O_NOPERM: perm = 0; break;
        case O_PERM: perm = 1; break;
        case O_NORELU: relu = 0; break;
        case O_BIAS:
            if ((bias = pick(optarg, biases, 4)) < 0)
                return cli_usage_error(cmd, "--bias: '%s' is not one of both, a, d, none",
                                       optarg);
            break;
        case O_IMEAN:
            rc = util_parse_double(optarg, "--init-mean", -1e3, 1e3, &imean);
            break;
        case O_SIGMA: rc = util_parse_double(optarg, "--sigma", 0, 1e3, &sigma); break;
        case O_STD:
            if ((stdz = pick(optarg, stds, 3)) < 0)
                return cli_usage_error(cmd, "--standardise: '%s' is not one of pixel, "
                                       "global, none", optarg);
            break;
        case O_STDFLOOR:
            rc = util_parse_double(optarg, "--std-floor", 0, 1e3, &stdfloor);
            break;
        case O_OPT:
            if ((optim = pick(optarg, optims, 2)) < 0)
                return cli_usage_error(cmd, "--optimiser: '%s' is neither 'adam' nor 'sgd'",
                                       optarg);
            break;
        case O_LR: rc = util_parse_double(optarg, "--lr", 0, 1e3, &lr); break;
        case O_LRA: rc = util_parse_double(optarg, "--lr-a", 0, 1e3, &lra); break;
        case O_LRD: rc = util_parse_double(optarg, "--lr-d", 0, 1e3, &lrd); break;
        case O_LRB: rc = util_parse_double(optarg, "--lr-bias", 0, 1e3, &lrb); break;
        case O_MOM: rc = util_parse_double(optarg, "--momentum", 0, 0.999999, &mom); break;
        case O_WD: rc = util_parse_double(optarg, "--weight-decay", 0, 1e3, &wd); break;
        case O_SCHED:
            if ((sched = pick(optarg, scheds, 3)) < 0)
                return cli_usage_error(cmd, "--schedule: '%s' is not one of constant, "
                                       "cosine, step", optarg);
            break;
        case O_LRF: rc = util_parse_double(optarg, "--lr-final", 0, 1, &lrf); break;
        case O_WARM: rc = util_parse_double(optarg, "--warmup", 0, 1e6, &warm); break;
        case O_SGAMMA:
            rc = util_parse_double(optarg, "--step-gamma", 1e-12, 1, &sgamma);
            break;
        case O_SEP: rc = util_parse_int(optarg, "--step-epochs", 1, 1 << 30, &sep); break;
        case 'e': rc = util_parse_int(optarg, "--epochs", 1, 1 << 30, &epochs); break;
        case 'b': rc = util_parse_int(optarg, "--batch", 1, 1 << 20, &batch); break;
        case O_VAL: rc = util_parse_double(optarg, "--val", 0, 0.9, &val); break;
        case 's': rc = util_parse_int(optarg, "--seed", 0, INT64_MAX, &seed); break;
        case O_THREADS: rc = util_parse_int(optarg, "--threads", 1, 256, &threads); break;
        case 'o': out = optarg; break;
        case O_CKPT: ckpt = optarg; break;
        case O_RESUME: resume = 1; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(help, stdout); return cli_finish(cmd);
        default:
            return cli_usage_error(cmd, "unknown option or missing value '%s'",
                                   argv[optind - 1]);
        }
        if (rc)
            return cli_fail(cmd, rc);
    }
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

    acdc_data *d = NULL, *td = NULL;
    double *ox = NULL, *oy = NULL;
    acdc_trainer *tr = NULL;
    util_progress *bar = NULL;
    acdc_eval ev = {0};
    acdc_train_data td_train = {0};
    util_signal_saved sig = {0};

    /* ---- data ---- */
    if (task == 1) {
        if ((rc = acdc_data_load(data, split, labels, &d)))
            goto fail;
        if (!d->labels) {
            rc = util_error(UTIL_EDATA, "'%s' has no labels to classify by", data);
            goto fail;
        }
        int64_t mx = 0;
        for (size_t i = 0; i < d->batch; i++)
            mx = d->labels[i] > mx ? d->labels[i] : mx;
        if (!classes)
            classes = mx + 1 < 2 ? 2 : mx + 1;
        else if (mx >= classes) {
            rc = util_error(UTIL_EDATA, "'%s' has label %lld but --classes is %lld", data,
                            (long long)mx, (long long)classes);
            goto fail;
        }
        td_train = (acdc_train_data){d->batch, d->dim, d->x, NULL, d->labels};
        if (test) {
            if ((rc = acdc_data_load(test, "test", NULL, &td)))
                goto fail;
            if (td->dim != d->dim || !td->labels) {
                rc = util_error(UTIL_EDATA, "test data '%s' need labels and %zu columns "
                                "like the training data", test, d->dim);
                goto fail;
            }
        }
    } else {
        if ((rc = acdc_operator_data((size_t)size, (size_t)rows, noise, (uint64_t)dseed,
                                     &ox, &oy)))
            goto fail;
        td_train = (acdc_train_data){(size_t)rows, (size_t)size, ox, oy, NULL};
    }

    /* ---- trainer ---- */
    if (resume) {
        if ((rc = acdc_trainer_load(ckpt, td_train.rows, (int)threads, &tr)))
            goto fail;
        acdc_model *m = acdc_trainer_model(tr);
        if (m->n_in != td_train.dim ||
            (task == 1 && m->n_out != (size_t)classes) ||
            acdc_trainer_opts(tr)->loss != (task == 1 ? ACDC_LOSS_XENT : ACDC_LOSS_MSE)) {
            rc = util_error(UTIL_EDATA, "checkpoint '%s' does not match the task and data "
                            "given", ckpt);
            goto fail;
        }
        if (!quiet)
            printf("resuming '%s' after epoch %zu of %zu\n", ckpt,
                   acdc_trainer_epoch_count(tr), acdc_trainer_opts(tr)->epochs);
    } else {
        size_t nin = td_train.dim, nout = task == 1 ? (size_t)classes : nin;
        size_t nn = n ? (size_t)n : nin;
        if (task == 0 && n && (size_t)n != nin) {
            rc = util_error(UTIL_EUSAGE, "--task operator: the layer size is --size");
            goto fail;
        }
        if (nn < nin || nn < nout) {
            rc = util_error(UTIL_EUSAGE, "--n %zu is smaller than the %zu inputs or %zu "
                            "outputs", nn, nin, nout);
            goto fail;
        }
        if (in_h && in_h * in_w != nin) {
            rc = util_error(UTIL_EUSAGE, "--input-shape %zux%zu holds %zu values but the "
                            "data have %zu columns", in_h, in_w, in_h * in_w, nin);
            goto fail;
        }
        if (transform == ACDC_TRANSFORM_DCT2 && nin != nn && !in_h) {
            /* Appending zeros would put the image's rows in the wrong places of the
             * grid: the image's own shape says where they go. */
            rc = util_error(UTIL_EUSAGE, "--shape %zux%zu holds %zu values but the data "
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
        acdc_model *m;
        if ((rc = acdc_model_alloc(&m, nn, nin, nout, (size_t)K, opts)))
            goto fail;
        if ((transform == ACDC_TRANSFORM_DCT2 &&
             (rc = acdc_model_set_grid(m, ACDC_TRANSFORM_DCT2, gh, gw, in_h, in_w))) ||
            (rc = acdc_model_init_normal(m, imean, sigma, (uint64_t)seed)) ||
            (rc = acdc_model_init_perms(m, (uint64_t)seed))) {
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
        if ((rc = acdc_trainer_alloc(&tr, m, &o, td_train.rows)))
            goto fail;
        if (stdz && (rc = acdc_trainer_standardise(tr, &td_train, stdz == 2, stdfloor)))
            goto fail;
        if (!quiet && transform == ACDC_TRANSFORM_DCT2)
            printf("training %zu 2D layers of %zux%zu (%zux%zu inputs, %zu outputs), %zu "
                   "parameters, on %zu rows\n", (size_t)K, gh, gw, m->in_h, m->in_w, nout,
                   acdc_model_param_count(m), td_train.rows);
        else if (!quiet)
            printf("training %zu layers of n = %zu (%zu inputs, %zu outputs), %zu "
                   "parameters, on %zu rows\n", (size_t)K, nn, nin, nout,
                   acdc_model_param_count(m), td_train.rows);
    }

    /* ---- the loop ---- */
    if ((rc = util_signal_catch(&sig)))
        goto fail;
    if ((rc = util_progress_alloc(&bar, "", 0, "ex")))
        goto fail;
    const size_t E = acdc_trainer_opts(tr)->epochs;
    const int xent = task == 1;
    while (acdc_trainer_epoch_count(tr) < E) {
        acdc_epoch_stats st;
        if ((rc = acdc_trainer_epoch(tr, &td_train, util_signal_flag(), bar, &st)))
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
            printf("  %.1f s  %.0f ex/s\n", st.seconds, (double)td_train.rows / st.seconds);
            fflush(stdout);
        }
        if (util_signal_caught()) {
            rc = util_error(UTIL_EINTR, "interrupted after epoch %zu; checkpoint '%s' is "
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
        acdc_train_data tt = {td->batch, td->dim, td->x, NULL, td->labels};
        if ((rc = acdc_evaluate(m, ACDC_LOSS_XENT, &tt, (int)threads, &ev)))
            goto fail;
        printf("test '%s': %zu rows  loss %.4f  accuracy %.4f\n", test, ev.rows, ev.loss,
               ev.acc);
    }
    rc = UTIL_OK;
fail:
    util_signal_restore(&sig);
    util_progress_free(bar);
    acdc_eval_clear(&ev);
    acdc_trainer_free(tr);
    acdc_data_free(d);
    acdc_data_free(td);
    free(ox);
    free(oy);
    if (rc)
        return cli_fail(cmd, rc);
    return cli_finish(cmd);
}
