/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/verify.c -- see verify.h. */
#include "sim/verify.h"
#include "util/error.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const sections[3] = {"input", "fourier", "image"};

static const acdc_optics_modulator *section_device(const acdc_compiler_profile *p, int i)
{
    return i == 0 ? &p->input : i == 1 ? &p->fourier : &p->image;
}

/* Assignments to a profile, built up one at a time. */
struct sets {
    char text[40][80];
    char *v[40];
    size_t n;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void add(struct sets *s, const char *fmt, ...)
{
    if (s->n >= sizeof s->text / sizeof *s->text)
        return;   /* never: at most 28 assignments are made */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->text[s->n], sizeof s->text[s->n], fmt, ap);
    va_end(ap);
    s->v[s->n] = s->text[s->n];
    s->n++;
}

/* The base: continuous levels, no phase error and perfect contrast on every modulator
 * (what `keep` does not name: "levels" keeps the profile's levels, "phase" its phase
 * errors, "contrast" its contrast). */
static void base_sets(struct sets *s, const char *keep)
{
    for (int i = 0; i < 3; i++) {
        if (strcmp(keep, "contrast"))
            add(s, "%s.contrast=0", sections[i]);
        if (strcmp(keep, "registration"))
            add(s, "%s.registration=0", sections[i]);
        if (strcmp(keep, "levels")) {
            add(s, "%s.phase_bits=0", sections[i]);
            add(s, "%s.amplitude_bits=0", sections[i]);
        }
        if (strcmp(keep, "phase"))
            add(s, "%s.phase_error=0 rad", sections[i]);
    }
}

/* Does a device show double-phase pairs side by side along a 1D system's line (two
 * pixels a sample; a pair down the strip's rows is one pixel column, which shows the
 * value itself)? */
static int pairs_on_line(const acdc_optics_modulator *d)
{
    return d->modulation == ACDC_OPTICS_MOD_PHASE && acdc_optics_modulator_pixels_per_sample(d) == 2;
}

/* Can the geometry be shown without double-phase pairs -- each phase-only device
 * replaced by a complex one of pixels a sample wide, the same sample pitch?  Rank 1:
 * any phase-only device whose pairs lie along x (pairs_on_line()).  Rank 2: only if
 * every modulator is phase-only (the superpixel, shared by all, halves). */
static int can_split(const acdc_compiler_system *s)
{
    if (s->profile.ideal)
        return 0;
    int phase = 0;
    int line = 0;
    for (int i = 0; i < 3; i++) {
        phase += section_device(&s->profile, i)->modulation == ACDC_OPTICS_MOD_PHASE;
        line += pairs_on_line(section_device(&s->profile, i));
    }
    return s->rank == 2 ? phase == 3 && s->profile.superpixel % 2 == 0 : line > 0;
}

static void complex_sets(const acdc_compiler_system *s, struct sets *st)
{
    for (int i = 0; i < 3; i++) {
        const acdc_optics_modulator *d = section_device(&s->profile, i);
        if (d->modulation != ACDC_OPTICS_MOD_PHASE || (s->rank != 2 && !pairs_on_line(d)))
            continue;
        add(st, "%s.modulation=complex", sections[i]);
        add(st, "%s.pitch=%.17g m", sections[i], 2 * d->pitch_m);
        add(st, "%s.pixels=%zu", sections[i], d->pixels / 2);
        if (s->rank == 2)
            add(st, "%s.rows=%zu", sections[i], (d->rows ? d->rows : 1) / 2);
    }
    if (s->rank == 2)
        add(st, "rules.superpixel=%d", s->profile.superpixel / 2);
}

enum role {
    FULL,     /* the system as compiled, every effect on: the expected figures */
    PIXELS,   /* the base geometry on complex devices: no double-phase pairs */
    BASE,     /* resolved pixels, nothing else */
    EFFECT    /* the base and one effect */
};

/* Does a modulator that sets amplitudes have a finite contrast ("contrast"), or a
 * complex one a registration error ("registration")? */
static int two_devices(const acdc_compiler_profile *p, const char *what)
{
    for (int i = 0; i < 3; i++) {
        const acdc_optics_modulator *d = section_device(p, i);
        if (!p->ideal && (strcmp(what, "contrast")
                              ? d->modulation == ACDC_OPTICS_MOD_COMPLEX && d->registration != 0
                              : d->modulation != ACDC_OPTICS_MOD_PHASE && d->contrast > 1))
            return 1;
    }
    return 0;
}

struct run {
    const char *name;
    enum role role;
    const char *keep;     /* "levels", "phase" or "" (see base_sets) */
    int noise;
    int lens;             /* the profile's lens and propagation (else ideal lenses) */
};

int acdc_sim_verify(const acdc_compiler_system *s, acdc_sim_compile_fn compile, const acdc_data *d,
                    const char *data_name, size_t rows, int threads, acdc_sim_verify_note note,
                    void *ctx, const volatile sig_atomic_t *stop, acdc_compiler_verdict *v)
{
    if (!s || !d || !v || !compile)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "acdc_sim_verify: missing argument");
    memset(v, 0, sizeof *v);
    acdc_data head = *d;
    if (rows && rows < head.batch)
        head.batch = rows;
    const int split = can_split(s);
    const struct run runs[] = {
        {"everything", FULL, "", 1, 1},
        {"pixels", PIXELS, "", 0, 0},
        {split ? "double-phase pairs" : "pixels", BASE, "", 0, 0},
        {"quantisation", EFFECT, "levels", 0, 0},
        {"phase error", EFFECT, "phase", 0, 0},
        {"camera noise", EFFECT, "", 1, 0},
        {"lens", EFFECT, "", 0, 1},
        {"contrast", EFFECT, "contrast", 0, 0},
        {"registration", EFFECT, "registration", 0, 0},
    };
    const size_t nruns = sizeof runs / sizeof *runs;
    double base = 0, pixels = 0;
    int rc = ACDC_UTIL_OK;
    for (size_t k = 0; k < nruns && !rc; k++) {
        const struct run *r = &runs[k];
        if (r->role == PIXELS && !split)
            continue;
        if ((!strcmp(r->keep, "contrast") || !strcmp(r->keep, "registration")) &&
            !two_devices(&s->profile, r->keep))
            continue;
        /* an ideal profile has no levels, phase errors or noise to add */
        if (s->profile.ideal && r->role == EFFECT)
            continue;
        if (note)
            note(r->name, k, nruns, ctx);
        struct sets st = {.n = 0};
        acdc_compiler_system *var = NULL;
        if (r->role != FULL) {
            base_sets(&st, r->keep);
            if (r->role == PIXELS)
                complex_sets(s, &st);
            if ((rc = acdc_sim_system_override(s, compile, st.v, st.n, &var)))
                break;
        }
        acdc_sim_job job = {.system = var ? var : s, .data = &head,
                            .options = acdc_sim_options_default(), .trials = 1, .batch = 64};
        job.options.oversample = ACDC_SIM_VERIFY_OVERSAMPLE;
        job.options.noise = r->noise;
        if (!r->lens)
            job.options.propagation = ACDC_SIM_PROP_IDEAL;
        if (r->role == EFFECT && r->lens) {
            /* a lens that runs as the ideal transform adds nothing to measure */
            acdc_sim_optics op;
            acdc_sim_optics_of(var, &job.options, &op);
            if (op.propagation == ACDC_SIM_PROP_IDEAL) {
                acdc_compiler_system_free(var);
                continue;
            }
        }
        job.options.threads = threads > 0 ? threads : 1;
        acdc_sim_result res;
        rc = acdc_sim_execute(&job, &res, stop);
        acdc_compiler_system_free(var);
        if (rc)
            break;
        double e = 0;
        for (size_t c = 0; c < res.n_chains; c++)
            e += res.stage[c].rel_rms / (double)res.n_chains;
        const double acc = res.end[0].acc_optical;
        if (r->role == FULL) {
            v->rel_rms = res.end[0].rel_rms;
            v->chain_rms = e;
            v->accuracy = acc;
            v->numeric_accuracy = res.end[0].acc_ideal;
            v->saturated = (int64_t)res.saturated;
        } else {
            acdc_compiler_verdict_effect *x = &v->effect[v->n++];
            snprintf(x->name, sizeof x->name, "%s", r->name);
            x->chain_rms = e;
            x->accuracy = acc;
            if (r->role == PIXELS)
                x->share = pixels = e;
            else if (r->role == BASE)
                x->share = sqrt(fmax(0, e * e - pixels * pixels)), base = e;
            else
                x->share = sqrt(fmax(0, e * e - base * base));
        }
        acdc_sim_result_free(&res);
    }
    if (rc) {
        memset(v, 0, sizeof *v);
        return rc;
    }
    v->rows = head.batch;
    v->oversample = ACDC_SIM_VERIFY_OVERSAMPLE;
    acdc_sim_options full = acdc_sim_options_default();
    full.oversample = ACDC_SIM_VERIFY_OVERSAMPLE;
    acdc_sim_optics op;
    acdc_sim_optics_of(s, &full, &op);
    snprintf(v->conditions, sizeof v->conditions,
             "S = %d, %s propagation, %s lens '%s' (%.3g waves rms), %s camera noise, the "
             "first %zu rows of '%s'", ACDC_SIM_VERIFY_OVERSAMPLE,
             acdc_sim_propagation_name(op.propagation), acdc_optics_lens_model_name(op.lens.model),
             op.lens.name, acdc_optics_lens_wavefront_rms(&op.lens, s->rank),
             s->profile.ideal ? "no" : "the profile's", head.batch,
             data_name ? data_name : "the data");
    if (op.note[0]) {
        const size_t len = strlen(v->conditions);
        snprintf(v->conditions + len, sizeof v->conditions - len, "; %s", op.note);
    }
    return ACDC_UTIL_OK;
}

int acdc_sim_verdict_largest(const acdc_compiler_verdict *v)
{
    int best = -1;
    for (size_t k = 0; k < v->n; k++)
        if (best < 0 || v->effect[k].share > v->effect[best].share)
            best = (int)k;
    return best;
}

static void percent(char *buf, size_t n, double acc)
{
    if (isnan(acc))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.1f%%", 100 * acc);
}

void acdc_sim_verdict_print(const acdc_compiler_verdict *v, FILE *f)
{
    char a[16], b[16];
    if (!v->rows) {
        fprintf(f, "no verdict (acdc compile --verify DATA)\n");
        return;
    }
    percent(a, sizeof a, v->accuracy);
    percent(b, sizeof b, v->numeric_accuracy);
    fprintf(f, "verdict (%s):\n", v->conditions);
    fprintf(f, "  expected: accuracy %s (numeric %s), relative error %.4f end to end, %.4f "
            "per chain\n", a, b, v->rel_rms, v->chain_rms);
    if (v->saturated)
        fprintf(f, "  the camera saturated on %lld exposures\n", (long long)v->saturated);
    fprintf(f, "  error budget, one effect at a time    chain error   share  accuracy\n");
    const int big = acdc_sim_verdict_largest(v);
    for (size_t k = 0; k < v->n; k++) {
        percent(a, sizeof a, v->effect[k].accuracy);
        fprintf(f, "    %-34s %11.4f %7.4f %9s%s\n", v->effect[k].name, v->effect[k].chain_rms,
                v->effect[k].share, a, (int)k == big ? "   <- largest" : "");
    }
}
