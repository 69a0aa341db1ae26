/* cli/cmd_sweep.c -- `acdc sweep`: Monte Carlo over one or two imperfections.
 *
 * Every point of the grid is one `acdc simulate` job (sim_execute) with `trials` seeds;
 * its metrics are reduced to a mean and a sample standard deviation per metric, end to
 * end and per optical chain.  After each finished point the whole file is rewritten
 * atomically (util_h5_create + util_h5_commit: temporary + rename), so an interruption
 * leaves the last complete file and a /done mask saying which points it holds.
 *
 * Resuming: the file's "settings" attribute is a canonical string of everything the
 * numbers depend on (fingerprints of the system file and of the data rows used, rows,
 * trials, seed, propagation, noise, fixed overrides, the grid).  Threads and batch size
 * are not in it: results do not depend on them.  When -o exists and holds a sweep with
 * the same settings, its finished points are kept and only the others are run; with
 * other settings the command stops with exit 1 (--restart discards the old file).
 */
#include "cli/cli.h"
#include "compiler/profile.h"
#include "compiler/system.h"
#include "models/io.h"
#include "sim/simulate.h"
#include "util/error.h"
#include "util/h5.h"
#include "util/parse.h"
#include "util/progress.h"

#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
    "usage: acdc sweep SYSTEM.h5 DATA.h5 -o SWEEP.h5 --vary NAME=FROM:TO[:STEPS] [options]\n"
    "\n"
    "Monte Carlo over one parameter, or a grid over two: at every point, run the data\n"
    "through the optical system --trials times (seeds S, S+1, ...) and keep the mean and\n"
    "the sample standard deviation of every fidelity metric, end to end and per optical\n"
    "chain.  The file is rewritten atomically after every point; run the same command\n"
    "again after an interruption and it continues where it stopped.\n"
    "\n"
    "parameters (NAME):\n"
    "  photons            photons per inference on the input modulator (log-spaced)\n"
    "  phase-bits         phase levels 2^B of the Fourier and image masks (integer)\n"
    "  amplitude-bits     amplitude levels of the Fourier and image masks (integer)\n"
    "  phase-error        rms phase error of every mask pixel (rad; 'mrad', 'deg')\n"
    "  SECTION.KEY        any profile value, with its unit where it has one, e.g.\n"
    "                     camera.exposure=1ms:10ms:4 or camera.adc_bits=6:12 (the system\n"
    "                     is recompiled at each point; integer keys are rounded)\n"
    "  STEPS defaults to every integer for integer parameters, one per decade (plus\n"
    "  one) for log spacing, 6 otherwise.  Append ':log' or ':lin' to choose the\n"
    "  spacing of one parameter: --vary phase-error=1mrad:1rad:7:log.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE        sweep file (HDF5, format acdc-sweep)\n"
    "      --vary NAME=FROM:TO[:STEPS][:log|:lin]   once or twice (twice: a grid)\n"
    "      --trials T           trials per point (default 3)\n"
    "      --log                log spacing for every varied parameter\n"
    "      --lin                linear spacing for every varied parameter (photons too)\n"
    "      --rows N             use the first N rows of DATA.h5 only (default: all)\n"
    "      --resume             demand an existing sweep to continue (else: exit 1)\n"
    "      --restart            discard an existing sweep file and start over\n"
    "  -q, --quiet              no line per point on stdout\n"
    "  simulate's options, fixed for the whole sweep:\n"
    "      --propagation P, --no-noise, --photons N, --phase-error R, --phase-bits B,\n"
    "      --amplitude-bits B, --set SEC.KEY=VAL, --seed S (default 1), --batch B,\n"
    "      --threads T (results do not depend on batch or threads), --misalign-x D,\n"
    "      --oversample S, --fill F\n"
    "  -h, --help               this text\n"
    "\n"
    "exit codes: 0 done, 1 data or I/O error (also: -o holds another sweep), 2 usage\n"
    "error, 3 interrupted (the file holds every point finished before the signal)\n";

enum pkind { P_PHOTONS, P_PHASE_BITS, P_AMP_BITS, P_PHASE_ERROR, P_PROFILE };

struct param {
    char name[64];      /* as given */
    enum pkind kind;
    double from, to;    /* in `unit` */
    size_t steps;       /* 0 until resolved */
    int spacing;        /* -1 default, 0 linear, 1 log */
    int integer;
    char unit[16];      /* "" plain, "rad", or the profile value's unit as given */
    double *values;     /* steps values */
};

static volatile int stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* FNV-1a, 64 bit: a fingerprint, not a cryptographic hash. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int file_hash(const char *path, uint64_t *h)
{
    FILE *f = fopen(path, "rb");
    unsigned char buf[65536];
    size_t k;
    if (!f)
        return util_error(UTIL_EIO, "cannot open '%s'", path);
    *h = 1469598103934665603ULL;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        *h = fnv(*h, buf, k);
    int bad = ferror(f);
    fclose(f);
    return bad ? util_error(UTIL_EIO, "cannot read '%s'", path) : UTIL_OK;
}

/* Splits "1.5 ms" into 1.5 and "ms". */
static int split_number(const char *s, const char *what, double *v, char *unit, size_t cap)
{
    char *end;
    *v = strtod(s, &end);
    if (end == s || !isfinite(*v))
        return util_error(UTIL_EUSAGE, "%s: '%s' is not a number", what, s);
    while (*end == ' ')
        end++;
    if (strlen(end) >= cap)
        return util_error(UTIL_EUSAGE, "%s: unit '%s' is too long", what, end);
    strcpy(unit, end);
    return UTIL_OK;
}

/* Parses NAME=FROM:TO[:STEPS][:log|:lin] into p (values are made later). */
static int parse_vary(const char *arg, struct param *p)
{
    char buf[256], what[300], *f[5];
    int nf = 0, rc;
    int64_t iv;
    memset(p, 0, sizeof *p);
    p->spacing = -1;
    snprintf(what, sizeof what, "--vary '%s'", arg);
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof p->name)
        return util_error(UTIL_EUSAGE, "%s: expected NAME=FROM:TO[:STEPS]", what);
    memcpy(p->name, arg, (size_t)(eq - arg));
    if (strlen(eq + 1) >= sizeof buf)
        return util_error(UTIL_EUSAGE, "%s: too long", what);
    strcpy(buf, eq + 1);
    for (char *s = buf;;) {
        if (nf == 5)
            return util_error(UTIL_EUSAGE, "%s: expected NAME=FROM:TO[:STEPS][:log|:lin]",
                              what);
        f[nf++] = s;
        char *c = strchr(s, ':');
        if (!c)
            break;
        *c = '\0';
        s = c + 1;
    }
    if (nf >= 3 && (!strcmp(f[nf - 1], "log") || !strcmp(f[nf - 1], "lin"))) {
        p->spacing = !strcmp(f[nf - 1], "log");
        nf--;
    }
    if (nf < 2 || nf > 3 || !*f[0] || !*f[1])
        return util_error(UTIL_EUSAGE, "%s: expected NAME=FROM:TO[:STEPS][:log|:lin]", what);
    if (!strcmp(p->name, "photons")) {
        p->kind = P_PHOTONS;
        if ((rc = util_parse_double(f[0], what, 1, 1e30, &p->from)) ||
            (rc = util_parse_double(f[1], what, 1, 1e30, &p->to)))
            return UTIL_EUSAGE;
    } else if (!strcmp(p->name, "phase-bits") || !strcmp(p->name, "amplitude-bits")) {
        p->kind = p->name[0] == 'p' ? P_PHASE_BITS : P_AMP_BITS;
        p->integer = 1;
        strcpy(p->unit, "bits");
        if ((rc = util_parse_int(f[0], what, 0, 16, &iv)))
            return UTIL_EUSAGE;
        p->from = (double)iv;
        if ((rc = util_parse_int(f[1], what, 0, 16, &iv)))
            return UTIL_EUSAGE;
        p->to = (double)iv;
    } else if (!strcmp(p->name, "phase-error")) {
        p->kind = P_PHASE_ERROR;
        strcpy(p->unit, "rad");
        if ((rc = util_parse_quantity(f[0], what, "rad", 0, 10, &p->from)) ||
            (rc = util_parse_quantity(f[1], what, "rad", 0, 10, &p->to)))
            return UTIL_EUSAGE;
    } else if (strchr(p->name, '.')) {
        char u0[16], u1[16];
        p->kind = P_PROFILE;
        if ((rc = split_number(f[0], what, &p->from, u0, sizeof u0)) ||
            (rc = split_number(f[1], what, &p->to, u1, sizeof u1)))
            return rc;
        if (*u0 && strcmp(u0, u1))
            return util_error(UTIL_EUSAGE, "%s: FROM and TO have different units ('%s', "
                              "'%s')", what, u0, u1);
        strcpy(p->unit, u1);
    } else {
        return util_error(UTIL_EUSAGE, "%s: unknown parameter '%s' (known: photons, "
                          "phase-bits, amplitude-bits, phase-error, or a profile value "
                          "SECTION.KEY)", what, p->name);
    }
    if (p->from > p->to)
        return util_error(UTIL_EUSAGE, "%s: FROM %g is larger than TO %g", what, p->from,
                          p->to);
    if (nf == 3) {
        if ((rc = util_parse_int(f[2], what, 1, 10000, &iv)))
            return UTIL_EUSAGE;
        p->steps = (size_t)iv;
    }
    return UTIL_OK;
}

/* Writes assignment "section.key=value" for point value v of a profile parameter. */
static void profile_assign(const struct param *p, double v, char *buf, size_t cap)
{
    if (p->integer)
        snprintf(buf, cap, "%s=%.0f%s%s", p->name, v, *p->unit ? " " : "", p->unit);
    else
        snprintf(buf, cap, "%s=%.17g%s%s", p->name, v, *p->unit ? " " : "", p->unit);
}

/* Resolves spacing, steps and integer-ness, makes the values and checks every value
 * against profile (a scratch copy) for profile keys. */
static int resolve(struct param *p, int all_log, int all_lin, const compiler_profile *prof)
{
    char what[96], a[160];
    int rc;
    snprintf(what, sizeof what, "--vary '%.63s'", p->name);
    if (p->kind == P_PROFILE) {
        compiler_profile t = *prof;
        /* An integer key refuses 0.5 and takes 1; every real-valued key takes 0.5 (with
         * the unit) -- the keys' ranges all contain it. */
        snprintf(a, sizeof a, "%.63s=0.5%s%.15s", p->name, *p->unit ? " " : "", p->unit);
        int half = compiler_profile_set(&t, a);
        t = *prof;
        snprintf(a, sizeof a, "%.63s=1%s%.15s", p->name, *p->unit ? " " : "", p->unit);
        p->integer = half != UTIL_OK && compiler_profile_set(&t, a) == UTIL_OK;
    }
    if (all_log && p->spacing < 0)
        p->spacing = 1;
    if (all_lin && p->spacing < 0)
        p->spacing = 0;
    if (p->spacing < 0)
        p->spacing = p->kind == P_PHOTONS;
    if (p->spacing == 1 && !(p->from > 0))
        return util_error(UTIL_EUSAGE, "%s: log spacing needs FROM > 0, not %g", what,
                          p->from);
    if (!p->steps) {
        if (p->from == p->to)
            p->steps = 1;
        else if (p->spacing == 1)
            p->steps = (size_t)fmax(2, fmin(50, floor(log10(p->to / p->from) + 0.5) + 1));
        else if (p->integer)
            p->steps = (size_t)(llround(p->to) - llround(p->from) + 1);
        else
            p->steps = 6;
    }
    p->values = malloc(p->steps * sizeof *p->values);
    if (!p->values)
        return util_error(UTIL_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->steps; i++) {
        double f = p->steps > 1 ? (double)i / (double)(p->steps - 1) : 0;
        double v = p->spacing == 1 ? p->from * pow(p->to / p->from, f)
                                   : p->from + (p->to - p->from) * f;
        if (i == p->steps - 1 && p->steps > 1)
            v = p->to;
        if (p->integer)
            v = round(v);
        if (i && !(v > p->values[i - 1]))
            return util_error(UTIL_EUSAGE, "%s: %zu steps repeat values (%g twice); use "
                              "fewer steps", what, p->steps, v);
        p->values[i] = v;
        if (p->kind == P_PROFILE) {
            compiler_profile t = *prof;
            profile_assign(p, v, a, sizeof a);
            if ((rc = compiler_profile_set(&t, a)) || (rc = compiler_profile_check(&t))) {
                char msg[256];   /* util_error() must not read the buffer it writes */
                snprintf(msg, sizeof msg, "%s", util_errmsg());
                return util_error(UTIL_EUSAGE, "%s: %s", what, msg);
            }
        }
    }
    return UTIL_OK;
}

/* The canonical settings string (see the top of this file). */
static char *settings_string(uint64_t hsys, uint64_t hdata, size_t rows, size_t trials,
                             const sim_options *o, int oversample, char **sets,
                             size_t nsets, const struct param *p, int np)
{
    size_t cap = 1024 + nsets * 300 + (size_t)np * 300, len;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    len = (size_t)snprintf(s, cap,
                           "version=1;system=%016llx;data=%016llx;rows=%zu;trials=%zu;"
                           "seed=%llu;propagation=%d;noise=%d;photons=%.17g;"
                           "phase_error=%.17g",
                           (unsigned long long)hsys, (unsigned long long)hdata, rows, trials,
                           (unsigned long long)o->seed, (int)o->propagation, o->noise,
                           o->photons, o->phase_error_rad);
    /* Named only when used, so that sweeps written before these options resume. */
    if (o->misalign_px != 0)
        len += (size_t)snprintf(s + len, cap - len, ";misalign=%.17g", o->misalign_px);
    if (oversample > 1)
        len += (size_t)snprintf(s + len, cap - len, ";oversample=%d", oversample);
    for (size_t i = 0; i < nsets; i++)
        len += (size_t)snprintf(s + len, cap - len, ";set=%.250s", sets[i]);
    for (int k = 0; k < np; k++)
        len += (size_t)snprintf(s + len, cap - len, ";vary%d=%s:%.17g:%.17g:%zu:%s:%s", k,
                                p[k].name, p[k].from, p[k].to, p[k].steps,
                                p[k].spacing ? "log" : "lin", p[k].unit);
    return s;
}

/* The first ';'-separated field in which a and b differ, for the mismatch message. */
static void first_difference(const char *a, const char *b, char *out, size_t cap)
{
    for (;;) {
        size_t la = strcspn(a, ";"), lb = strcspn(b, ";");
        if (la != lb || strncmp(a, b, la)) {
            snprintf(out, cap, "'%.*s' there, '%.*s' here", (int)(la > 120 ? 120 : la), a,
                     (int)(lb > 120 ? 120 : lb), b);
            return;
        }
        if (!a[la] || !b[lb]) {
            snprintf(out, cap, "different number of settings");
            return;
        }
        a += la + 1;
        b += lb + 1;
    }
}

/* Every metric kept: which of the 7, per group (0: end to end, 1 + c: chain c). */
static int metric_kept(int group, int i, int labelled)
{
    if (i == 4 || i == 5)
        return group == 0 && labelled;
    return 1;
}

struct sweep {
    size_t points, groups;   /* groups = 1 + n_chains */
    hsize_t dims[2];
    int rank;
    int64_t *done;
    double *mean, *sd;       /* (group * 7 + metric) * points + point */
    double *seconds;
    int64_t *saturated;
};

static void sweep_free(struct sweep *w)
{
    free(w->done);
    free(w->mean);
    free(w->sd);
    free(w->seconds);
    free(w->saturated);
}

/* Reads a float64 dataset of exactly n values, NaN allowed (unfinished points). */
static int read_nan_ok(hid_t f, const char *file, const char *name, size_t n, double *dst)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return util_error(UTIL_EDATA, "cannot read '%s' in '%s': missing", name, file);
    hid_t s = H5Dget_space(d);
    hssize_t k = s < 0 ? -1 : H5Sget_simple_extent_npoints(s);
    herr_t e = k == (hssize_t)n ? H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                          dst)
                                : -1;
    if (s >= 0)
        H5Sclose(s);
    H5Dclose(d);
    if (e < 0)
        return util_error(UTIL_EDATA, "cannot read '%s' in '%s': expected %zu values", name,
                          file, n);
    return UTIL_OK;
}

/* Loads the finished points of an existing sweep with identical settings. */
static int load_previous(const char *path, const char *settings, struct sweep *w,
                         int labelled, size_t *ndone)
{
    hid_t f;
    char fmt[32];
    int rc;
    if ((rc = util_h5_open(path, &f)))
        return rc;
    if (util_h5_attr_str(f, path, "/", "format", fmt, sizeof fmt) ||
        strcmp(fmt, "acdc-sweep")) {
        H5Fclose(f);
        return util_error(UTIL_EDATA, "'%s' exists and is not a sweep file: choose another "
                          "-o (or --restart to overwrite it)", path);
    }
    size_t cap = strlen(settings) + 4096;
    char *old = malloc(cap), diff[300];
    if (!old) {
        H5Fclose(f);
        return util_error(UTIL_ENOMEM, "out of memory");
    }
    if ((rc = util_h5_attr_str(f, path, "/", "settings", old, cap)))
        goto out;
    if (strcmp(old, settings)) {
        first_difference(old, settings, diff, sizeof diff);
        rc = util_error(UTIL_EDATA, "'%s' holds a sweep with other settings (%s): use "
                        "--restart to start over, or another -o", path, diff);
        goto out;
    }
    hsize_t dd[2] = {w->dims[0], w->dims[1]};
    int64_t *done;
    if ((rc = util_h5_read_i64(f, path, "/done", w->rank, dd, &done)))
        goto out;
    memcpy(w->done, done, w->points * sizeof *done);
    free(done);
    *ndone = 0;
    for (size_t i = 0; i < w->points; i++)
        *ndone += w->done[i] != 0;
    if ((rc = read_nan_ok(f, path, "/seconds", w->points, w->seconds)))
        goto out;
    if ((rc = util_h5_read_i64(f, path, "/saturated", w->rank, dd, &done)))
        goto out;
    memcpy(w->saturated, done, w->points * sizeof *done);
    free(done);
    for (size_t g = 0; g < w->groups && !rc; g++)
        for (int i = 0; i < 7 && !rc; i++) {
            char name[96];
            if (!metric_kept((int)g, i, labelled))
                continue;
            for (int k = 0; k < 2 && !rc; k++) {
                if (g == 0)
                    snprintf(name, sizeof name, "/metrics/%s/%s", sim_metric_names[i],
                             k ? "sd" : "mean");
                else
                    snprintf(name, sizeof name, "/stages/%zu/%s/%s", g - 1,
                             sim_metric_names[i], k ? "sd" : "mean");
                rc = read_nan_ok(f, path, name, w->points,
                                 (k ? w->sd : w->mean) + (g * 7 + (size_t)i) * w->points);
            }
        }
out:
    free(old);
    H5Fclose(f);
    return rc;
}

struct context {
    const char *out, *system_path, *data_path, *settings, *profile;
    const struct param *p;
    int np, labelled;
    size_t rows, trials;
    const sim_options *o;
    char **sets;
    size_t nsets;
};

static const char *prop_name(enum sim_propagation p)
{
    return p == SIM_PROP_IDEAL ? "ideal" : p == SIM_PROP_FRESNEL ? "fresnel" : "asm";
}

static int write_sweep(const struct context *c, const struct sweep *w)
{
    util_h5_out o;
    int rc = util_h5_create(c->out, &o);
    if (rc)
        return rc;
    hid_t f = o.fid;
    size_t ndone = 0, setlen = 1;
    for (size_t i = 0; i < w->points; i++)
        ndone += w->done[i] != 0;
    for (size_t i = 0; i < c->nsets; i++)
        setlen += strlen(c->sets[i]) + 1;
    char *sets = calloc(setlen, 1);
    if (!sets) {
        util_h5_abort(&o);
        return util_error(UTIL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < c->nsets; i++) {
        if (i)
            strcat(sets, ",");
        strcat(sets, c->sets[i]);
    }
    rc = util_h5_set_attr_str(f, "/", "format", "acdc-sweep");
    if (!rc) rc = util_h5_set_attr_str(f, "/", "settings", c->settings);
    if (!rc) rc = util_h5_set_attr_str(f, "/", "system", c->system_path);
    if (!rc) rc = util_h5_set_attr_str(f, "/", "data", c->data_path);
    if (!rc) rc = util_h5_set_attr_str(f, "/", "profile", c->profile);
    if (!rc) rc = util_h5_set_attr_str(f, "/", "propagation", prop_name(c->o->propagation));
    if (!rc) rc = util_h5_set_attr_str(f, "/", "overrides", sets);
    if (!rc) rc = util_h5_set_attr_i64(f, "/", "rows", (int64_t)c->rows);
    if (!rc) rc = util_h5_set_attr_i64(f, "/", "trials", (int64_t)c->trials);
    if (!rc) rc = util_h5_set_attr_i64(f, "/", "seed", (int64_t)c->o->seed);
    if (!rc) rc = util_h5_set_attr_i64(f, "/", "noise", c->o->noise);
    if (!rc) rc = util_h5_set_attr_f64(f, "/", "photons", c->o->photons);
    if (!rc) rc = util_h5_set_attr_f64(f, "/", "phase_error_rad", c->o->phase_error_rad);
    if (!rc) rc = util_h5_set_attr_i64(f, "/", "labelled", c->labelled);
    if (!rc) rc = util_h5_set_attr_i64(f, "/", "n_params", c->np);
    if (!rc) rc = util_h5_set_attr_i64(f, "/", "n_chains", (int64_t)(w->groups - 1));
    if (!rc) rc = util_h5_set_attr_i64(f, "/", "points", (int64_t)w->points);
    if (!rc) rc = util_h5_set_attr_i64(f, "/", "points_done", (int64_t)ndone);
    free(sets);
    for (int k = 0; k < c->np && !rc; k++) {
        char g[32], v[48];
        hsize_t n = c->p[k].steps;
        snprintf(g, sizeof g, "/params/%d", k);
        snprintf(v, sizeof v, "/params/%d/values", k);
        rc = util_h5_write_f64(f, v, 1, &n, c->p[k].values);
        if (!rc) rc = util_h5_set_attr_str(f, g, "name", c->p[k].name);
        if (!rc) rc = util_h5_set_attr_str(f, g, "unit", c->p[k].unit);
        if (!rc) rc = util_h5_set_attr_i64(f, g, "log", c->p[k].spacing == 1);
        if (!rc) rc = util_h5_set_attr_i64(f, g, "integer", c->p[k].integer);
    }
    if (!rc) rc = util_h5_write_i64(f, "/done", w->rank, w->dims, w->done);
    if (!rc) rc = util_h5_write_f64(f, "/seconds", w->rank, w->dims, w->seconds);
    if (!rc) rc = util_h5_write_i64(f, "/saturated", w->rank, w->dims, w->saturated);
    for (size_t g = 0; g < w->groups && !rc; g++)
        for (int i = 0; i < 7 && !rc; i++) {
            char name[96];
            if (!metric_kept((int)g, i, c->labelled))
                continue;
            for (int k = 0; k < 2 && !rc; k++) {
                if (g == 0)
                    snprintf(name, sizeof name, "/metrics/%s/%s", sim_metric_names[i],
                             k ? "sd" : "mean");
                else
                    snprintf(name, sizeof name, "/stages/%zu/%s/%s", g - 1,
                             sim_metric_names[i], k ? "sd" : "mean");
                rc = util_h5_write_f64(f, name, w->rank, w->dims,
                                       (k ? w->sd : w->mean) + (g * 7 + (size_t)i) * w->points);
            }
        }
    if (rc) {
        util_h5_abort(&o);
        return rc;
    }
    return util_h5_commit(&o);
}

static void describe_point(const struct param *p, int np, const size_t *ix, char *buf,
                           size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < np && len < cap; k++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s=%g%s%s", k ? " " : "",
                                p[k].name, p[k].values[ix[k]],
                                *p[k].unit && strcmp(p[k].unit, "bits") ? " " : "",
                                strcmp(p[k].unit, "bits") ? p[k].unit : "");
}

int cmd_sweep(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},      {"vary", required_argument, 0, 'v'},
        {"trials", required_argument, 0, 't'},      {"log", no_argument, 0, 'L'},
        {"lin", no_argument, 0, 'l'},               {"rows", required_argument, 0, 'r'},
        {"resume", no_argument, 0, 'R'},            {"restart", no_argument, 0, 'X'},
        {"quiet", no_argument, 0, 'q'},             {"batch", required_argument, 0, 'B'},
        {"help", no_argument, 0, 'h'},              CLI_SIM_OPTIONS,
        {0, 0, 0, 0}};
    const char *out = NULL;
    struct param p[2];
    int np = 0, all_log = 0, all_lin = 0, resume = 0, restart = 0, quiet = 0, c;
    size_t trials = 3, rows_limit = 0, batch = 64;
    sim_options base = sim_options_default();
    cli_sets cs;
    char **sets = NULL;
    size_t nsets = 0;
    int64_t iv;
    int rc = UTIL_OK;
    memset(p, 0, sizeof p);
    if ((rc = cli_sets_alloc(&cs, argc)))
        return cli_fail("sweep", rc);
    optind = 0;
    opterr = 0;
    while (rc == UTIL_OK && (c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        if (cli_sim_option(c, optarg, &base, &cs, &rc))
            continue;
        switch (c) {
        case 'o': out = optarg; break;
        case 'v':
            if (np == 2) {
                rc = util_error(UTIL_EUSAGE, "--vary: at most two parameters");
                break;
            }
            if (!(rc = parse_vary(optarg, &p[np]))) {
                if (np == 1 && !strcmp(p[0].name, p[1].name))
                    rc = util_error(UTIL_EUSAGE, "--vary: '%s' given twice", p[0].name);
                np++;
            }
            break;
        case 't':
            if (!(rc = util_parse_int(optarg, "--trials", 1, 100000, &iv)))
                trials = (size_t)iv;
            break;
        case 'L': all_log = 1; break;
        case 'l': all_lin = 1; break;
        case 'r':
            if (!(rc = util_parse_int(optarg, "--rows", 1, INT64_MAX / 2, &iv)))
                rows_limit = (size_t)iv;
            break;
        case 'R': resume = 1; break;
        case 'X': restart = 1; break;
        case 'q': quiet = 1; break;
        case 'B':
            if (!(rc = util_parse_int(optarg, "--batch", 1, 1 << 16, &iv)))
                batch = (size_t)iv;
            break;
        case 'h':
            cli_sets_free(&cs);
            fputs(help, stdout);
            return cli_finish("sweep");
        default:
            cli_sets_free(&cs);
            return cli_usage_error("sweep", "unknown option '%s'", argv[optind - 1]);
        }
    }
    sets = cs.v;
    nsets = cs.n;
    if (!rc && all_log && all_lin)
        rc = util_error(UTIL_EUSAGE, "--log and --lin exclude each other");
    if (!rc && resume && restart)
        rc = util_error(UTIL_EUSAGE, "--resume and --restart exclude each other");
    if (rc) {
        cli_sets_free(&cs);
        return cli_fail("sweep", rc);
    }
    if (argc - optind != 2 || !out || !np) {
        cli_sets_free(&cs);
        if (!out)
            return cli_usage_error("sweep", "no output file: give -o SWEEP.h5");
        if (!np)
            return cli_usage_error("sweep", "nothing to vary: give --vary NAME=FROM:TO");
        return cli_usage_error("sweep", "expected SYSTEM.h5 and DATA.h5, got %d arguments",
                               argc - optind);
    }

    const char *sys_path = argv[optind], *data_path = argv[optind + 1];
    compiler_system *s = NULL;
    acdc_data *d = NULL;
    struct sweep w = {0};
    char *settings = NULL;
    char **pset = NULL;
    util_progress *bar = NULL;
    uint64_t hsys, hdata = 1469598103934665603ULL;
    int handlers = 0;
    struct sigaction sa = {0}, old_int, old_term;
    if ((rc = compiler_system_read(sys_path, &s)))
        goto fail;
    if ((rc = acdc_data_read(data_path, s->n_in, &d)))
        goto fail;
    if ((rc = file_hash(sys_path, &hsys)))
        goto fail;
    if (rows_limit && rows_limit < d->batch)
        d->batch = rows_limit;
    hdata = fnv(hdata, d->x, d->batch * d->dim * sizeof *d->x);
    if (d->labels)
        hdata = fnv(hdata, d->labels, d->batch * sizeof *d->labels);
    if (nsets) {   /* check the fixed overrides once, before any work */
        compiler_system *t = NULL;
        rc = sim_system_override(s, sets, nsets, &t);
        compiler_system_free(t);
        if (rc) {
            if (rc == UTIL_EDATA && strstr(util_errmsg(), "="))
                rc = UTIL_EUSAGE;
            goto fail;
        }
    }
    for (int k = 0; k < np; k++)
        if ((rc = resolve(&p[k], all_log, all_lin, &s->profile)))
            goto fail;

    w.rank = np;
    w.dims[0] = p[0].steps;
    w.dims[1] = np == 2 ? p[1].steps : 1;
    w.points = (size_t)(w.dims[0] * w.dims[1]);
    w.groups = 1 + s->n_chains;
    w.done = calloc(w.points, sizeof *w.done);
    w.saturated = calloc(w.points, sizeof *w.saturated);
    w.seconds = malloc(w.points * sizeof *w.seconds);
    w.mean = malloc(w.groups * 7 * w.points * sizeof *w.mean);
    w.sd = malloc(w.groups * 7 * w.points * sizeof *w.sd);
    pset = calloc(nsets + 4, sizeof *pset);
    settings = settings_string(hsys, hdata, d->batch, trials, &base,
                               sim_oversample(s, base.oversample), sets, nsets, p, np);
    if (!w.done || !w.saturated || !w.seconds || !w.mean || !w.sd || !pset || !settings) {
        rc = util_error(UTIL_ENOMEM, "out of memory for %zu points", w.points);
        goto fail;
    }
    for (size_t i = 0; i < w.points; i++)
        w.seconds[i] = NAN;
    for (size_t i = 0; i < w.groups * 7 * w.points; i++)
        w.mean[i] = w.sd[i] = NAN;

    size_t ndone = 0;
    int exists = access(out, F_OK) == 0;
    if (resume && !exists) {
        rc = util_error(UTIL_EDATA, "--resume: '%s' does not exist", out);
        goto fail;
    }
    if (exists && !restart) {
        if ((rc = load_previous(out, settings, &w, d->labels != NULL, &ndone)))
            goto fail;
        printf("resuming '%s': %zu of %zu points already done\n", out, ndone, w.points);
    }
    struct context ctx = {.out = out, .system_path = sys_path, .data_path = data_path,
                          .settings = settings, .profile = s->profile.name, .p = p,
                          .np = np, .labelled = d->labels != NULL, .rows = d->batch,
                          .trials = trials, .o = &base, .sets = sets, .nsets = nsets};
    if (!exists || restart) /* the empty grid on disk at once: settings and all */
        if ((rc = write_sweep(&ctx, &w)))
            goto fail;

    omp_set_num_threads(base.threads);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    handlers = 1;
    /* Test hook: ACDC_SWEEP_INTERRUPT_AFTER=k sends this process SIGINT after k points,
     * exercising the same path as Ctrl-C at a deterministic moment. */
    const char *hook = getenv("ACDC_SWEEP_INTERRUPT_AFTER");
    long interrupt_after = hook && *hook ? strtol(hook, NULL, 10) : -1;
    long ran = 0;
    size_t todo = w.points - ndone, finished = 0;
    bar = util_progress_alloc("sweep", todo, "pt");
    if (!quiet && todo)
        printf("%zu point%s x %zu trial%s x %zu rows\n", todo, todo == 1 ? "" : "s", trials,
               trials == 1 ? "" : "s", d->batch);
    for (size_t pt = 0; pt < w.points; pt++) {
        if (w.done[pt])
            continue;
        if (stop) {
            rc = util_error(UTIL_EINTR, "interrupted: '%s' holds %zu of %zu points; run the "
                            "same command again to continue", out, ndone, w.points);
            goto fail;
        }
        size_t ix[2] = {pt / (size_t)w.dims[1], pt % (size_t)w.dims[1]};
        sim_job job = {.options = base, .trials = trials, .batch = batch, .progress = 0,
                       .data = d};
        size_t nps = nsets;
        char assign[4][200];
        memcpy(pset, sets, nsets * sizeof *pset);
        for (int k = 0; k < np; k++) {
            double v = p[k].values[ix[k]];
            switch (p[k].kind) {
            case P_PHOTONS: job.options.photons = v; break;
            case P_PHASE_ERROR: job.options.phase_error_rad = v; break;
            case P_PHASE_BITS:
            case P_AMP_BITS: {
                const char *key = p[k].kind == P_PHASE_BITS ? "phase_bits" : "amplitude_bits";
                snprintf(assign[2 * k], sizeof assign[0], "fourier.%s=%.0f", key, v);
                snprintf(assign[2 * k + 1], sizeof assign[0], "image.%s=%.0f", key, v);
                pset[nps++] = assign[2 * k];
                pset[nps++] = assign[2 * k + 1];
                break;
            }
            case P_PROFILE:
                profile_assign(&p[k], v, assign[2 * k], sizeof assign[0]);
                pset[nps++] = assign[2 * k];
                break;
            }
        }
        compiler_system *over = NULL;
        if (nps && (rc = sim_system_override(s, pset, nps, &over)))
            goto fail;
        job.system = over ? over : s;
        sim_result r = {0};
        char where[160];
        describe_point(p, np, ix, where, sizeof where);
        util_progress_update(bar, finished, "%s", where);
        rc = sim_execute(&job, &r, &stop);
        compiler_system_free(over);
        if (rc == UTIL_EINTR) {
            rc = util_error(UTIL_EINTR, "interrupted: '%s' holds %zu of %zu points; run the "
                            "same command again to continue", out, ndone, w.points);
            goto fail;
        }
        if (rc) {
            util_error_prefix("at %s", where);
            goto fail;
        }
        for (size_t g = 0; g < w.groups; g++)
            for (int i = 0; i < 7; i++) {
                double m, sd;
                sim_result_stats(&r, (int)g - 1, i, &m, &sd);
                w.mean[(g * 7 + (size_t)i) * w.points + pt] = m;
                w.sd[(g * 7 + (size_t)i) * w.points + pt] = sd;
            }
        w.seconds[pt] = r.seconds;
        w.saturated[pt] = (int64_t)r.saturated;
        w.done[pt] = 1;
        sim_result_free(&r);
        if ((rc = write_sweep(&ctx, &w)))
            goto fail;
        ndone++;
        finished++;
        util_progress_update(bar, finished, "%s", where);
        if (!quiet) {
            double *m = w.mean, *sd = w.sd;
            util_progress_finish(bar);
            printf("  %-32s rel_rms %.4g ± %.2g  snr %.1f dB", where, m[pt], sd[pt],
                   m[2 * w.points + pt]);
            if (d->labels)
                printf("  acc %.4f ± %.4f (ideal %.4f)", m[4 * w.points + pt],
                       sd[4 * w.points + pt], m[5 * w.points + pt]);
            printf("\n");
            fflush(stdout);
        }
        if (interrupt_after >= 0 && ++ran == interrupt_after)
            raise(SIGINT);
    }
    util_progress_free(bar);
    bar = NULL;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    handlers = 0;
    printf("wrote '%s': %zu point%s, %zu trial%s each\n", out, w.points,
           w.points == 1 ? "" : "s", trials, trials == 1 ? "" : "s");
    rc = UTIL_OK;
fail:
    util_progress_free(bar);
    if (handlers) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    for (int k = 0; k < 2; k++)
        free(p[k].values);
    sweep_free(&w);
    free(settings);
    free(pset);
    compiler_system_free(s);
    acdc_data_free(d);
    cli_sets_free(&cs);
    return rc ? cli_fail("sweep", rc) : cli_finish("sweep");
}
