/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_compiler_profile.c -- device profiles: built-ins, INI round trip, base and
 * overrides, range checks, every parser error path, robustness against garbage. */
#include "tests/testutil.h"

#include "compiler/profile.h"
#include "util/error.h"
#include "util/h5.h"

#include <dirent.h>
#include <float.h>

/* Writes text (len bytes) to a scratch file and returns its path (slot 0). */
static const char *scratch(const char *name, const char *text, size_t len)
{
    const char *path = test_path(0, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static const char *scratch_text(const char *name, const char *text)
{
    return scratch(name, text, strlen(text));
}

static void modulator_equal(const acdc_optics_modulator *a, const acdc_optics_modulator *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->modulation, b->modulation);
    assert_true(a->pitch_m == b->pitch_m);
    assert_true(a->fill == b->fill);
    assert_int_equal(a->pixels, b->pixels);
    assert_int_equal(a->amplitude_bits, b->amplitude_bits);
    assert_int_equal(a->phase_bits, b->phase_bits);
    assert_true(a->phase_error_rad == b->phase_error_rad);
    assert_int_equal(a->rows, b->rows);
    assert_int_equal(a->dp_layout, b->dp_layout);
    assert_true(a->frame_rate_hz == b->frame_rate_hz);
    assert_int_equal(a->pair_levels, b->pair_levels);
}

static void lens_equal(const acdc_optics_lens *a, const acdc_optics_lens *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->model, b->model);
    assert_true(a->wavefront_rms == b->wavefront_rms);
    for (int j = 0; j < ACDC_OPTICS_ZERNIKE_TERMS; j++)
        assert_true(a->zernike[j] == b->zernike[j]);
}

/* Exact equality of every field (doubles compared with ==: the round trip is exact). */
static void profile_equal(const acdc_compiler_profile *a, const acdc_compiler_profile *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->ideal, b->ideal);
    assert_true(a->wavelength_m == b->wavelength_m);
    assert_true(a->laser_power_w == b->laser_power_w);
    modulator_equal(&a->input, &b->input);
    modulator_equal(&a->fourier, &b->fourier);
    modulator_equal(&a->image, &b->image);
    lens_equal(&a->lens, &b->lens);
    const acdc_optics_camera *c = &a->camera, *d = &b->camera;
    assert_string_equal(c->name, d->name);
    assert_true(c->pitch_m == d->pitch_m);
    assert_true(c->fill == d->fill);
    assert_int_equal(c->pixels, d->pixels);
    assert_true(c->qe == d->qe);
    assert_true(c->full_well_e == d->full_well_e);
    assert_true(c->read_noise_e == d->read_noise_e);
    assert_true(c->dark_e_per_s == d->dark_e_per_s);
    assert_int_equal(c->adc_bits, d->adc_bits);
    assert_true(c->exposure_s == d->exposure_s);
    assert_int_equal(c->rows, d->rows);
    assert_true(c->frame_rate_hz == d->frame_rate_hz);
    assert_int_equal(a->frames, b->frames);
    assert_true(a->max_focal_m == b->max_focal_m);
    assert_true(a->max_na == b->max_na);
    assert_true(a->max_length_m == b->max_length_m);
    assert_int_equal(a->fourier_oversample, b->fourier_oversample);
    assert_int_equal(a->superpixel, b->superpixel);
}

/* Asserts that msg starts with "'path':line: " and contains every needle. */
static void assert_message(const char *msg, const char *path, int line, const char *needle)
{
    char head[700];
    snprintf(head, sizeof head, "'%s':%d: ", path, line);
    if (strncmp(msg, head, strlen(head)))
        fail_msg("message '%s' does not start with '%s'", msg, head);
    if (needle && !strstr(msg, needle))
        fail_msg("message '%s' does not name '%s'", msg, needle);
}

/* ---------------------------------------------------------------------------------- */

static void test_builtins_check(void **state)
{
    (void)state;
    int n = 0;
    for (const char *const *name = acdc_compiler_profile_names(); *name; name++, n++) {
        acdc_compiler_profile p;
        memset(&p, 0xa5, sizeof p);
        assert_int_equal(acdc_compiler_profile_builtin(*name, &p), 0);
        assert_string_equal(p.name, *name);
        if (acdc_compiler_profile_check(&p))
            fail_msg("built-in '%s' fails its check: %s", *name, acdc_util_errmsg());
        assert_int_equal(p.ideal, !strcmp(*name, "ideal"));
        /* the design rules of real devices */
        if (!p.ideal) {
            assert_close(p.max_focal_m, 2, 0);
            assert_close(p.max_na, 0.1, 0);
            assert_close(p.max_length_m, 10, 0);
            /* lens NA for the Fourier pitch, lambda / (2 pitch), inside the rule */
            assert_true(p.wavelength_m / (2 * p.fourier.pitch_m) <= p.max_na);
        }
        /* every device has its rows (a 2D system reads them); superpixel is the
         * compiler's choice; phase-only devices put a 2D system's double-phase values
         * in a checkerboard, the 1D profiles' 4K LCoS down its strip's rows
         * (compiler/profile.c says why) */
        const acdc_optics_modulator *m[] = {&p.input, &p.fourier, &p.image};
        for (int j = 0; j < 3; j++) {
            assert_true(m[j]->rows >= 1);
            const int k4 = !strcmp(m[j]->name, "4K LCoS phase SLM, 8 bit");
            assert_int_equal(m[j]->dp_layout, m[j]->modulation != ACDC_OPTICS_MOD_PHASE
                                                  ? ACDC_OPTICS_DP_COLUMNS
                                                  : k4 ? ACDC_OPTICS_DP_ROWS
                                                       : ACDC_OPTICS_DP_CHECKERBOARD);
        }
        assert_true(p.camera.rows >= 1);
        assert_int_equal(p.superpixel, 0);
        /* the ideal profile keeps the compiler's own lenses; the real ones a Fourier-
         * transform objective with a residual wavefront error, diffraction limited
         * (Strehl >= 0.8 by Marechal) */
        assert_int_equal(p.lens.model, ACDC_OPTICS_LENS_FOURIER);
        if (!p.ideal) {
            assert_close(p.lens.wavefront_rms, 0.02, 0);
            assert_true(acdc_optics_lens_wavefront_rms(&p.lens,
                                                       2) <= acdc_optics_marechal_rms(0.8));
        }
        assert_close(p.lens.focal_m, 0, 0);
        assert_close(p.lens.aperture_m, 0, 0);
    }
    assert_true(n >= 6);
    /* the 2D benches are listed and reachable by name */
    int has1080 = 0, has1152 = 0;
    for (const char *const *name = acdc_compiler_profile_names(); *name; name++) {
        has1080 |= !strcmp(*name, "slm1080");
        has1152 |= !strcmp(*name, "slm1152");
    }
    assert_true(has1080 && has1152);
    acdc_compiler_profile p;
    assert_int_equal(acdc_compiler_profile_builtin("slm9", &p), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "'slm9'"));
    assert_non_null(strstr(acdc_util_errmsg(), "amplitude-slm"));
    assert_non_null(strstr(acdc_util_errmsg(), "slm1152")); /* the list follows the table */
    assert_int_equal(acdc_compiler_profile_builtin(NULL, &p), ACDC_UTIL_EUSAGE);
}

static void test_builtin_values(void **state)
{
    (void)state;
    acdc_compiler_profile p;
    assert_int_equal(acdc_compiler_profile_builtin("ideal", &p), 0);
    assert_int_equal(p.fourier.modulation, ACDC_OPTICS_MOD_COMPLEX);
    assert_int_equal(p.fourier.phase_bits, 0);
    assert_int_equal(p.fourier.amplitude_bits, 0);
    assert_close(p.fourier.phase_error_rad, 0, 0);
    assert_close(p.camera.read_noise_e, 0, 0);
    assert_close(p.camera.dark_e_per_s, 0, 0);
    assert_int_equal(p.camera.adc_bits, 0);
    assert_close(p.wavelength_m, 633e-9, 1e-21);
    assert_close(p.laser_power_w, 1e-3, 1e-18);

    assert_int_equal(acdc_compiler_profile_builtin("slm8", &p), 0);
    assert_int_equal(p.fourier.modulation, ACDC_OPTICS_MOD_PHASE);
    assert_int_equal(p.fourier.phase_bits, 8);
    assert_true(p.fourier.phase_error_rad > 0 && p.fourier.phase_error_rad < 0.1);
    /* double-phase encoding of a Fashion-MNIST layer needs 2 x 2 x 784 pixels */
    assert_true(p.fourier.pixels >= 2 * 2 * 784);
    assert_close(p.camera.qe, 0.8, 1e-12);
    assert_close(p.camera.full_well_e, 30000, 0);
    assert_close(p.camera.read_noise_e, 1.5, 0);
    assert_close(p.camera.dark_e_per_s, 0.5, 0);
    assert_true(p.camera.adc_bits >= 12 && p.camera.adc_bits <= 16);

    assert_int_equal(acdc_compiler_profile_builtin("amplitude-slm", &p), 0);
    assert_int_equal(p.fourier.modulation, ACDC_OPTICS_MOD_AMPLITUDE);
    assert_int_equal(p.image.modulation, ACDC_OPTICS_MOD_AMPLITUDE);
    assert_int_equal(p.fourier.amplitude_bits, 8);
    assert_int_equal(p.input.modulation, ACDC_OPTICS_MOD_PHASE);

    assert_int_equal(acdc_compiler_profile_builtin("doe", &p), 0);
    assert_int_equal(p.fourier.modulation, ACDC_OPTICS_MOD_PHASE);
    assert_int_equal(p.fourier.phase_bits, 4);
    assert_close(p.fourier.fill, 1, 0);
    assert_close(p.fourier.phase_error_rad, 0.05, 1e-15);
    assert_int_equal(p.fourier.rows, p.fourier.pixels); /* a square substrate */

    /* the devices' rows (datasheet pixel counts; compiler/PROFILES.md) */
    assert_int_equal(acdc_compiler_profile_builtin("ideal", &p), 0);
    assert_int_equal(p.fourier.rows, 4096);
    assert_int_equal(p.camera.rows, 4096);
    assert_int_equal(acdc_compiler_profile_builtin("slm8", &p), 0);
    assert_int_equal(p.input.pixels, 4160); /* GAEA-2: 4160 x 2464 */
    assert_int_equal(p.input.rows, 2464);
    assert_int_equal(p.camera.pixels, 2048); /* sCMOS: 2048 x 2048 */
    assert_int_equal(p.camera.rows, 2048);
    assert_int_equal(acdc_compiler_profile_builtin("amplitude-slm", &p), 0);
    assert_int_equal(p.fourier.pixels, 1920); /* DMD: 1920 x 1080 */
    assert_int_equal(p.fourier.rows, 1080);

    /* the 2D benches: slm8's laser, camera and rules with 1080p / 1152p phase SLMs */
    acdc_compiler_profile slm8;
    assert_int_equal(acdc_compiler_profile_builtin("slm8", &slm8), 0);
    static const struct {
        const char *name;
        double pitch_m, fill;
        size_t pixels, rows;
    } bench[] = {{"slm1080", 8e-6, 0.93, 1920, 1080}, {"slm1152", 9.2e-6, 0.957, 1920, 1152}};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(acdc_compiler_profile_builtin(bench[i].name, &p), 0);
        assert_int_equal(p.ideal, 0);
        const acdc_optics_modulator *m[] = {&p.input, &p.fourier, &p.image};
        for (int j = 0; j < 3; j++) {
            assert_int_equal(m[j]->modulation, ACDC_OPTICS_MOD_PHASE);
            assert_close(m[j]->pitch_m, bench[i].pitch_m, 1e-18);
            assert_close(m[j]->fill, bench[i].fill, 1e-15);
            assert_int_equal(m[j]->pixels, bench[i].pixels);
            assert_int_equal(m[j]->rows, bench[i].rows);
            assert_int_equal(m[j]->phase_bits, 8);
            assert_int_equal(m[j]->amplitude_bits, 0);
        }
        assert_true(p.wavelength_m == slm8.wavelength_m);
        assert_close(p.laser_power_w, 30e-6, 1e-20);   /* hene-2d */
        assert_string_equal(p.camera.name, slm8.camera.name);
        assert_int_equal(p.camera.rows, 2048);
        assert_close(p.max_focal_m, 2, 0);
        assert_close(p.max_na, 0.1, 0);
        assert_close(p.max_length_m, 10, 0);
        assert_int_equal(p.superpixel, 0);
    }
}

/* write -> read gives every field back exactly, for the built-ins and awkward values */
static void test_round_trip(void **state)
{
    (void)state;
    const char *path = test_path(1, "round.ini");
    for (const char *const *name = acdc_compiler_profile_names(); *name; name++) {
        acdc_compiler_profile p, q;
        assert_int_equal(acdc_compiler_profile_builtin(*name, &p), 0);
        if (acdc_compiler_profile_write_ini(&p, path))
            fail_msg("%s", acdc_util_errmsg());
        memset(&q, 0, sizeof q);
        if (acdc_compiler_profile_read(path, &q))
            fail_msg("%s", acdc_util_errmsg());
        profile_equal(&p, &q);
    }
    /* values that print badly in any unit: the writer must still be exact */
    acdc_compiler_profile p, q;
    assert_int_equal(acdc_compiler_profile_builtin("doe", &p), 0);
    snprintf(p.name, sizeof p.name, "lab bench 3 (µ-optics, rev. 2.385)");
    snprintf(p.camera.name, sizeof p.camera.name, "%s", "");
    p.wavelength_m = 632.991e-9 / 3;
    p.laser_power_w = nextafter(2.385e-7, 1);
    p.input.pitch_m = 1.0 / 3 * 1e-5;
    p.fourier.fill = 0.1 + 0.2;
    p.fourier.phase_error_rad = M_PI / 7;
    p.image.modulation = ACDC_OPTICS_MOD_COMPLEX;
    p.image.pixels = 16777216;
    p.image.amplitude_bits = 16;
    p.camera.exposure_s = 1.0 / 7;
    p.camera.full_well_e = 12345.678901234567;
    p.camera.dark_e_per_s = 2.385e-3;
    p.camera.read_noise_e = 0;
    p.max_na = 0.1 + 1e-16;
    p.max_length_m = DBL_MIN * 1e10;
    p.image.rows = 16777216;
    p.fourier.rows = 1;
    p.camera.rows = 3;
    p.fourier.dp_layout = ACDC_OPTICS_DP_CHECKERBOARD;
    p.superpixel = 16;
    assert_int_equal(acdc_compiler_profile_check(&p), 0);
    assert_int_equal(acdc_compiler_profile_write_ini(&p, path), 0);
    memset(&q, 0, sizeof q);
    if (acdc_compiler_profile_read(path, &q))
        fail_msg("%s", acdc_util_errmsg());
    profile_equal(&p, &q);
    /* and again: the written file is a fixed point */
    acdc_compiler_profile r;
    assert_int_equal(acdc_compiler_profile_write_ini(&q, path), 0);
    assert_int_equal(acdc_compiler_profile_read(path, &r), 0);
    profile_equal(&p, &r);
    /* a lookup-table path as long as the field holds, blanks inside (found by
     * fuzz/fuzz_profile.c: the writer cut values at 127 bytes, and the cut one, ending in
     * blanks, read back shorter) */
    memset(p.input.lut, 0, sizeof p.input.lut);
    memset(p.input.lut, ' ', sizeof p.input.lut - 1);
    p.input.lut[0] = '.';
    memcpy(p.input.lut + sizeof p.input.lut - 3, "i[", 2);
    assert_int_equal(acdc_compiler_profile_write_ini(&p, path), 0);
    memset(&q, 0, sizeof q);
    if (acdc_compiler_profile_read(path, &q))
        fail_msg("%s", acdc_util_errmsg());
    assert_string_equal(q.input.lut, p.input.lut);
}

/* The writer replaces the file by rename: no temporary files remain, an invalid profile
 * writes nothing, an unwritable place is an I/O error naming the path. */
static void test_write_atomic(void **state)
{
    (void)state;
    acdc_compiler_profile p;
    assert_int_equal(acdc_compiler_profile_builtin("slm8", &p), 0);
    const char *path = test_path(1, "atomic.ini");
    const char *dirpath = test_path(2, "");
    scratch_text("atomic.ini", "old contents\n");
    assert_int_equal(acdc_compiler_profile_write_ini(&p, path), 0);
    acdc_compiler_profile q;
    assert_int_equal(acdc_compiler_profile_read(path, &q), 0);
    profile_equal(&p, &q);
    DIR *d = opendir(dirpath);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp."))
            fail_msg("temporary file '%s' left behind", e->d_name);
    closedir(d);

    p.fourier.fill = 1.5;
    const char *bad = test_path(1, "never.ini");
    unlink(bad);
    assert_int_equal(acdc_compiler_profile_write_ini(&p, bad), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "'fourier.fill'"));
    assert_int_equal(access(bad, F_OK), -1);

    assert_int_equal(acdc_compiler_profile_builtin("slm8", &p), 0);
    assert_int_equal(acdc_compiler_profile_write_ini(&p, "/nonexistent-dir/x.ini"), ACDC_UTIL_EIO);
    assert_non_null(strstr(acdc_util_errmsg(), "/nonexistent-dir/x.ini"));
}

/* base = slm8 with single overrides, in any order, with devices per section */
static void test_base_and_override(void **state)
{
    (void)state;
    const char *path = scratch_text("base.ini",
                                    "; overrides come before the base on purpose\n"
                                    "[fourier]\n"
                                    "phase_bits = 6\n"
                                    "pitch = 8um\n"
                                    "[profile]\n"
                                    "name = bench\n"
                                    "base = slm8\n"
                                    "[camera]\n"
                                    "  exposure = 2 ms   ; indented, with a comment\n"
                                    "  full_well = 20000 e-\n"
                                    "dark_current = 0.06 e-/s\n"
                                    "read_noise = 1.1\n"
                                    "[laser]\n"
                                    "wavelength: 0.532 µm\n"
                                    "[image]\n"
                                    "device = doe-phase4\n"
                                    "phase_bits = 3\n"
                                    "[rules]\n"
                                    "max_na = 0.05\n");
    acdc_compiler_profile want, got;
    assert_int_equal(acdc_compiler_profile_builtin("slm8", &want), 0);
    snprintf(want.name, sizeof want.name, "bench");
    want.fourier.phase_bits = 6;
    want.fourier.pitch_m = 8 * 1e-6;
    want.camera.exposure_s = 2 * 1e-3;
    want.camera.full_well_e = 20000;
    want.camera.dark_e_per_s = 0.06;
    want.camera.read_noise_e = 1.1;
    want.wavelength_m = 0.532 * 1e-6;
    acdc_compiler_profile doe;
    assert_int_equal(acdc_compiler_profile_builtin("doe", &doe), 0);
    want.image = doe.fourier;
    want.image.phase_bits = 3;
    want.max_na = 0.05;
    if (acdc_compiler_profile_read(path, &got))
        fail_msg("%s", acdc_util_errmsg());
    profile_equal(&want, &got);

    /* the shipped example reads and differs from its base */
    acdc_compiler_profile lab, slm8;
    if (acdc_compiler_profile_read("examples/profiles/lab-slm.ini", &lab))
        fail_msg("%s", acdc_util_errmsg());
    assert_int_equal(acdc_compiler_profile_builtin("slm8", &slm8), 0);
    assert_string_not_equal(lab.name, "slm8");
    assert_true(lab.camera.exposure_s != slm8.camera.exposure_s ||
                lab.fourier.phase_bits != slm8.fourier.phase_bits);
}

/* A file without base must give every value, except those its device keys fill */
static void test_complete_without_base(void **state)
{
    (void)state;
    acdc_compiler_profile p, q;
    assert_int_equal(acdc_compiler_profile_builtin("amplitude-slm", &p), 0);
    const char *path = test_path(1, "complete.ini");
    assert_int_equal(acdc_compiler_profile_write_ini(&p, path), 0);
    /* drop the exposure line: now the file is incomplete */
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char text[8192] = "", line[256];
    int lines = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        if (strncmp(line, "exposure", 8))
            strcat(text, line);
    }
    fclose(f);
    const char *cut = scratch_text("incomplete.ini", text);
    assert_int_equal(acdc_compiler_profile_read(cut, &q), ACDC_UTIL_EDATA);
    assert_message(acdc_util_errmsg(), cut, lines - 1, "'camera.exposure'");

    /* a device key stands for its whole section */
    const char *dev = scratch_text("devices.ini",
                                   "[profile]\nname = made of parts\nideal = no\n"
                                   "[laser]\ndevice = dpss532\n"
                                   "[input]\ndevice = lcos-phase8\n"
                                   "[fourier]\ndevice = dmd-amplitude8\n"
                                   "[image]\ndevice = dmd-amplitude8\n"
                                   "[lens]\ndevice = ft-objective\n"
                                   "[camera]\ndevice = scmos\n"
                                   "[rules]\nmax_focal = 2 m\nmax_na = 0.1\nmax_length = 10 m\n");
    if (acdc_compiler_profile_read(dev, &q))
        fail_msg("%s", acdc_util_errmsg());
    snprintf(p.name, sizeof p.name, "made of parts");
    profile_equal(&p, &q);
}

static void test_set(void **state)
{
    (void)state;
    acdc_compiler_profile p, want;
    assert_int_equal(acdc_compiler_profile_builtin("slm8", &p), 0);
    want = p;
    assert_int_equal(acdc_compiler_profile_set(&p, "fourier.phase_bits=6"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "camera.exposure=2 ms"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "  laser.wavelength =  532nm "), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "profile.ideal=yes"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "image.modulation=amplitude"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "camera.full_well=2.385e4 e-"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "input.phase_error=1 deg"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "profile.name=bench 2"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "rules.fourier_oversample=2"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "input.rows = 1080"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "camera.rows=1"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "fourier.double_phase=checkerboard"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "rules.superpixel=6"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "input.frame_rate=1.44 kHz"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "camera.frame_rate=23.85 Hz"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "camera.frames=7"), 0);
    assert_int_equal(p.image.pair_levels, ACDC_OPTICS_PAIRS_JOINT);   /* the built-ins' */
    assert_int_equal(acdc_compiler_profile_set(&p, "image.pair_levels=nearest"), 0);
    want.image.pair_levels = ACDC_OPTICS_PAIRS_NEAREST;
    want.input.frame_rate_hz = 1.44 * 1e3;
    want.camera.frame_rate_hz = 23.85;
    want.frames = 7;
    want.input.rows = 1080;
    want.camera.rows = 1;
    want.fourier.dp_layout = ACDC_OPTICS_DP_CHECKERBOARD;
    want.superpixel = 6;
    want.fourier_oversample = 2;
    want.fourier.phase_bits = 6;
    want.camera.exposure_s = 2 * 1e-3;
    want.wavelength_m = 532 * 1e-9;
    want.ideal = 1;
    want.image.modulation = ACDC_OPTICS_MOD_AMPLITUDE;
    want.camera.full_well_e = 2.385e4;
    want.input.phase_error_rad = M_PI / 180;
    snprintf(want.name, sizeof want.name, "bench 2");
    profile_equal(&p, &want);
    assert_int_equal(acdc_compiler_profile_check(&p), 0);
    /* the compiler's choice of design, and back */
    assert_int_equal(acdc_compiler_profile_set(&p, "rules.fourier_oversample = auto"), 0);
    assert_int_equal(p.fourier_oversample, ACDC_COMPILER_OVERSAMPLE_AUTO);
    assert_int_equal(acdc_compiler_profile_check(&p), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "rules.fourier_oversample=2"), 0);
    /* the frames the compiler chooses, spelled as it writes them */
    assert_int_equal(acdc_compiler_profile_set(&p, "camera.frames=auto"), 0);
    assert_int_equal(p.frames, ACDC_COMPILER_FRAMES_AUTO);
    acdc_compiler_profile q = p;
    assert_int_equal(acdc_compiler_profile_set(&q, "camera.frames=0"), 0);
    assert_int_equal(q.frames, ACDC_COMPILER_FRAMES_AUTO);
    assert_int_equal(acdc_compiler_profile_set(&p, "camera.frames=7"), 0);

    /* errors leave the profile untouched and name the key */
    static const struct {
        const char *assignment, *needle;
    } bad[] = {
        {"fourier.phase_bits", "section.key=value"},
        {"phase_bits=6", "section.key=value"},
        {"lenses.focal=1 m", "'lenses'"},
        {"fourier.pich=8 um", "'pich'"},
        {"fourier.phase_bits=17", "'fourier.phase_bits'"},
        {"rules.fourier_oversample=automatic", "'rules.fourier_oversample'"},
        {"rules.fourier_oversample=-1", "'rules.fourier_oversample'"},
        {"camera.exposure=2", "'camera.exposure'"},
        {"camera.exposure=2 m", "'camera.exposure'"},
        {"camera.exposure=nan ms", "'camera.exposure'"},
        {"fourier.fill=1.0001", "'fourier.fill'"},
        {"profile.name=", "'profile.name'"},
        {"profile.base=slm9", "'profile.base'"},
        {"rules.fourier_oversample=9", "'rules.fourier_oversample'"},
        {"rules.fourier_oversample=1.5", "'rules.fourier_oversample'"},
        {"input.rows=0", "'input.rows'"},
        {"input.frame_rate=60", "frequency (Hz, kHz, MHz)"},
        {"camera.frame_rate=-1 Hz", "'camera.frame_rate'"},
        {"fourier.frame_rate=60 ms", "'fourier.frame_rate'"},
        {"camera.frames=1000001", "'camera.frames'"},
        {"camera.frames=2.5", "'camera.frames'"},
        {"camera.frames=automatic", "'camera.frames'"},
        {"camera.rows=16777217", "'camera.rows'"},
        {"image.rows=1080 px", "'image.rows'"},
        {"image.rows=", "'image.rows'"},
        {"fourier.double_phase=diagonal", "'fourier.double_phase'"},
        {"fourier.double_phase=", "'fourier.double_phase'"},
        {"fourier.pair_levels=round", "'fourier.pair_levels'"},
        {"input.pair_levels=Joint", "'input.pair_levels'"},
        {"rules.superpixel=17", "'rules.superpixel'"},
        {"rules.superpixel=-2", "'rules.superpixel'"},
        {"camera.double_phase=columns", "'double_phase'"}, /* not a camera key */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (acdc_compiler_profile_set(&p, bad[i].assignment) != ACDC_UTIL_EUSAGE)
            fail_msg("'%s' was accepted", bad[i].assignment);
        if (!strstr(acdc_util_errmsg(), bad[i].needle))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].assignment, acdc_util_errmsg(),
                     bad[i].needle);
        profile_equal(&p, &want);
    }

    /* base through set resets to the built-in */
    assert_int_equal(acdc_compiler_profile_set(&p, "profile.base=doe"), 0);
    assert_int_equal(acdc_compiler_profile_builtin("doe", &want), 0);
    profile_equal(&p, &want);
}

/* acdc_compiler_profile_check names the value at fault */
static void test_check(void **state)
{
    (void)state;
    acdc_compiler_profile p0, p;
    assert_int_equal(acdc_compiler_profile_builtin("slm8", &p0), 0);
#define BAD(stmt, needle)                                                                  \
    do {                                                                                   \
        p = p0;                                                                            \
        stmt;                                                                              \
        assert_int_equal(acdc_compiler_profile_check(&p), ACDC_UTIL_EDATA);                          \
        if (!strstr(acdc_util_errmsg(), needle))                                                \
            fail_msg("%s: message '%s' lacks '%s'", #stmt, acdc_util_errmsg(), needle);         \
    } while (0)
    BAD(p.wavelength_m = NAN, "'laser.wavelength'");
    BAD(p.wavelength_m = 0, "'laser.wavelength'");
    BAD(p.laser_power_w = -1e-3, "'laser.power'");
    BAD(p.laser_power_w = INFINITY, "'laser.power'");
    BAD(p.fourier.fill = 0, "'fourier.fill'");
    BAD(p.image.fill = 1.01, "'image.fill'");
    BAD(p.input.pitch_m = 0, "'input.pitch'");
    BAD(p.input.pixels = 0, "'input.pixels'");
    BAD(p.fourier.phase_bits = 17, "'fourier.phase_bits'");
    BAD(p.fourier.amplitude_bits = -1, "'fourier.amplitude_bits'");
    BAD(p.fourier.modulation = (enum acdc_optics_modulation)7, "'fourier.modulation'");
    BAD(p.fourier.phase_error_rad = -0.1, "'fourier.phase_error'");
    BAD(p.ideal = 2, "'profile.ideal'");
    BAD(p.camera.qe = 0, "'camera.quantum_efficiency'");
    BAD(p.camera.full_well_e = 0, "'camera.full_well'");
    BAD(p.camera.read_noise_e = -1, "'camera.read_noise'");
    BAD(p.camera.dark_e_per_s = NAN, "'camera.dark_current'");
    BAD(p.camera.adc_bits = 17, "'camera.adc_bits'");
    BAD(p.camera.exposure_s = 0, "'camera.exposure'");
    BAD(p.max_focal_m = 0, "'rules.max_focal'");
    BAD(p.max_na = 1.5, "'rules.max_na'");
    BAD(p.max_length_m = -1, "'rules.max_length'");
    BAD(p.name[0] = '\0', "'profile.name'");
    BAD(snprintf(p.name, sizeof p.name, "a;b"), "'profile.name'");
    BAD(snprintf(p.camera.name, sizeof p.camera.name, " padded"), "'camera.name'");
    BAD(p.input.name[3] = '\n', "'input.name'");
    BAD(memset(p.fourier.name, 'x', sizeof p.fourier.name), "'fourier.name'");
    BAD(p.input.rows = 0, "'input.rows'");
    BAD(p.image.rows = 16777217, "'image.rows'");
    BAD(p.camera.rows = 0, "'camera.rows'");
    BAD(p.fourier.dp_layout = (enum acdc_optics_dp_layout)3, "'fourier.double_phase'");
    BAD(p.image.pair_levels = (enum acdc_optics_pair_levels)2, "'image.pair_levels'");
    BAD(p.superpixel = 17, "'rules.superpixel'");
    BAD(p.superpixel = -1, "'rules.superpixel'");
    /* an odd superpixel cannot hold a double-phase pair: refused on phase-only devices */
    BAD(p.superpixel = 3, "'rules.superpixel'");
    BAD((p.input.modulation = ACDC_OPTICS_MOD_COMPLEX,
         p.fourier.modulation = ACDC_OPTICS_MOD_COMPLEX,
         p.superpixel = 1),
        "image device is phase-only");
#undef BAD
    /* ... but fits complex devices, and an ideal profile (its devices are complex) */
    p = p0;
    p.input.modulation = p.fourier.modulation = p.image.modulation = ACDC_OPTICS_MOD_COMPLEX;
    p.superpixel = 3;
    assert_int_equal(acdc_compiler_profile_check(&p), 0);
    p = p0;
    p.ideal = 1;
    p.superpixel = 5;
    assert_int_equal(acdc_compiler_profile_check(&p), 0);
    p = p0;
    p.superpixel = 16;
    assert_int_equal(acdc_compiler_profile_check(&p), 0);
    assert_int_equal(acdc_compiler_profile_check(NULL), ACDC_UTIL_EUSAGE);
}

/* The keys of 2D systems in a file: given, they are read; left out of a complete file
 * (one written before they existed), rows read as 1, double_phase as columns and
 * superpixel as 0 -- unless a section's device supplies its rows. */
static void test_2d_keys(void **state)
{
    (void)state;
    const char *path = scratch_text("2d.ini",
                                    "[profile]\nname = bench 2d\nbase = slm1080\n"
                                    "[input]\nrows = 1200\ndouble_phase = checkerboard\n"
                                    "[fourier]\ndouble_phase = columns\n"
                                    "[image]\ndevice = lcos1152-phase8\n"
                                    "[camera]\nrows: 7   ; a strip of the sensor\n"
                                    "[rules]\nsuperpixel = 4\n");
    acdc_compiler_profile want, got, b1152;
    assert_int_equal(acdc_compiler_profile_builtin("slm1080", &want), 0);
    assert_int_equal(acdc_compiler_profile_builtin("slm1152", &b1152), 0);
    snprintf(want.name, sizeof want.name, "bench 2d");
    want.input.rows = 1200;
    want.input.dp_layout = ACDC_OPTICS_DP_CHECKERBOARD;
    want.fourier.dp_layout = ACDC_OPTICS_DP_COLUMNS;
    want.image = b1152.image;
    want.camera.rows = 7;
    want.superpixel = 4;
    if (acdc_compiler_profile_read(path, &got))
        fail_msg("%s", acdc_util_errmsg());
    profile_equal(&want, &got);
    assert_int_equal(got.image.rows, 1152);

    /* a complete file without the new keys: the file of a 1D bench */
    acdc_compiler_profile p, q;
    assert_int_equal(acdc_compiler_profile_builtin("slm1152", &p), 0);
    p.fourier.dp_layout = ACDC_OPTICS_DP_CHECKERBOARD;
    p.superpixel = 2;
    p.image.pair_levels = ACDC_OPTICS_PAIRS_NEAREST;   /* unlike the absent value */
    const char *full = test_path(1, "full2d.ini");
    assert_int_equal(acdc_compiler_profile_write_ini(&p, full), 0);
    FILE *f = fopen(full, "r");
    assert_non_null(f);
    char text[8192] = "", line[256];
    int dropped = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "rows", 4) || !strncmp(line, "double_phase", 12) ||
            !strncmp(line, "superpixel", 10))
            dropped++;
        else
            strcat(text, line);
    }
    fclose(f);
    assert_int_equal(dropped, 3 * 2 + 1 + 1); /* each modulator's two, the camera's, rules' */
    /* and without pair_levels (a file older than the key): joint, the default */
    for (char *at; (at = strstr(text, "pair_levels"));) {
        char *end = strchr(at, '\n');
        memmove(at, end + 1, strlen(end + 1) + 1);
    }
    assert_null(strstr(text, "pair_levels"));
    const char *old = scratch_text("old1d.ini", text);
    memset(&q, 0x5a, sizeof q);
    if (acdc_compiler_profile_read(old, &q))
        fail_msg("%s", acdc_util_errmsg());
    want = p;
    want.input.rows = want.fourier.rows = want.image.rows = want.camera.rows = 1;
    want.input.dp_layout = want.fourier.dp_layout = want.image.dp_layout = ACDC_OPTICS_DP_COLUMNS;
    want.superpixel = 0;
    want.image.pair_levels = ACDC_OPTICS_PAIRS_JOINT;
    profile_equal(&want, &q);
    assert_int_equal(acdc_compiler_profile_check(&q), 0);

    /* without base, a section's device supplies its rows; the key overrides the device */
    const char *dev = scratch_text("devices2d.ini",
                                   "[profile]\nname = parts\nideal = no\n"
                                   "[laser]\ndevice = hene\n"
                                   "[input]\ndevice = lcos1080-phase8\n"
                                   "[fourier]\ndevice = lcos1152-phase8\nrows = 1000\n"
                                   "[image]\ndevice = dmd-amplitude8\n"
                                   "[camera]\ndevice = scmos\n"
                                   "[rules]\nmax_focal = 2 m\nmax_na = 0.1\nmax_length = 10 m\n");
    if (acdc_compiler_profile_read(dev, &q))
        fail_msg("%s", acdc_util_errmsg());
    assert_int_equal(q.input.rows, 1080);
    assert_int_equal(q.fourier.rows, 1000);
    assert_int_equal(q.image.rows, 1080);
    assert_int_equal(q.camera.rows, 2048);
    assert_int_equal(q.superpixel, 0);

    /* an odd superpixel on phase-only devices: refused, naming the file and the key */
    path = scratch_text("odd.ini", "[profile]\nname = x\nbase = slm1080\n"
                                   "[rules]\nsuperpixel = 3\n");
    assert_int_equal(acdc_compiler_profile_builtin("ideal", &q), 0);
    const acdc_compiler_profile before = q;
    assert_int_equal(acdc_compiler_profile_read(path, &q), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), path));
    assert_non_null(strstr(acdc_util_errmsg(), "'rules.superpixel'"));
    profile_equal(&q, &before);
}

/* The [lens] section: keys read from a file over a base, a lens device, overrides with
 * the optional unit "waves", each key's range; a complete file written before lens
 * models (no [lens]) reads as ideal Fourier lenses without a wavefront error. */
static void test_lens_keys(void **state)
{
    (void)state;
    const char *path = scratch_text("lens.ini",
                                    "[profile]\nname = lens bench\nbase = slm8\n"
                                    "[lens]\nname = AC254-150\nmodel = paraxial\n"
                                    "wavefront_rms = 0.02 waves\nz4 = -0.013\n"
                                    "z8 = 0.004 waves\nz11 = 0.031\n");
    acdc_compiler_profile want, got;
    assert_int_equal(acdc_compiler_profile_builtin("slm8", &want), 0);
    snprintf(want.name, sizeof want.name, "lens bench");
    snprintf(want.lens.name, sizeof want.lens.name, "AC254-150");
    want.lens.model = ACDC_OPTICS_LENS_PARAXIAL;
    want.lens.wavefront_rms = 0.02;
    want.lens.zernike[3] = -0.013;
    want.lens.zernike[7] = 0.004;
    want.lens.zernike[10] = 0.031;
    if (acdc_compiler_profile_read(path, &got))
        fail_msg("%s", acdc_util_errmsg());
    profile_equal(&want, &got);
    /* round trip through INI and HDF5, the Zernike keys written with their unit */
    const char *ini = test_path(1, "lens-rt.ini");
    acdc_compiler_profile q;
    assert_int_equal(acdc_compiler_profile_write_ini(&got, ini), 0);
    assert_int_equal(acdc_compiler_profile_read(ini, &q), 0);
    profile_equal(&got, &q);
    FILE *f = fopen(ini, "r");
    char text[8192] = "", line[256];
    assert_non_null(f);
    while (fgets(line, sizeof line, f))
        strcat(text, line);
    fclose(f);
    assert_non_null(strstr(text, "[lens]\nname = AC254-150\nmodel = paraxial\n"
                                 "wavefront_rms = 0.02 waves\n"));
    assert_non_null(strstr(text, "z11 = 0.031 waves\n"));

    /* a lens device; the ideal profile's lens is the Fourier lens */
    acdc_compiler_profile p;
    assert_int_equal(acdc_compiler_profile_builtin("ideal", &p), 0);
    assert_int_equal(p.lens.model, ACDC_OPTICS_LENS_FOURIER);
    assert_int_equal(acdc_compiler_profile_set(&p, "lens.device=achromat"), 0);
    assert_int_equal(p.lens.model, ACDC_OPTICS_LENS_CORRECTED);
    assert_close(p.lens.wavefront_rms, 0.07, 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "lens.model = fourier"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "lens.z1=-1 waves"), 0);
    assert_close(p.lens.zernike[0], -1, 0);
    static const struct {
        const char *set, *want;
    } bad[] = {
        {"lens.model=ideal", "'lens.model': 'ideal' is not fourier, paraxial or corrected"},
        {"lens.device=singlet",
         "'lens.device': unknown lens 'singlet' (known: ideal, ft-objective, achromat)"},
        {"lens.wavefront_rms=-0.01", "'lens.wavefront_rms': -0.01 is outside [0, 1]"},
        {"lens.wavefront_rms=1.5 waves", "'lens.wavefront_rms': 1.5 waves is outside [0, 1]"},
        {"lens.z11=2", "'lens.z11': 2 is outside [-1, 1]"},
        {"lens.z4=0.1 rad", "'lens.z4': unit 'rad' in '0.1 rad' is not 'waves'"},
        {"lens.z12=0", "unknown key 'z12' in [lens]"},
        {"lens.focal=150 mm", "unknown key 'focal' in [lens]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        q = p;
        assert_int_equal(acdc_compiler_profile_set(&q, bad[i].set), ACDC_UTIL_EUSAGE);
        if (!strstr(acdc_util_errmsg(), bad[i].want))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].set, acdc_util_errmsg(), bad[i].want);
        profile_equal(&q, &p);
    }
    /* acdc_compiler_profile_check holds a profile made in C to the same ranges */
    q = p;
    q.lens.model = (enum acdc_optics_lens_model)3;
    assert_int_equal(acdc_compiler_profile_check(&q), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "'lens.model': 3 is not a lens model"));
    q = p;
    q.lens.zernike[6] = 1.01;
    assert_int_equal(acdc_compiler_profile_check(&q), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "'lens.z7'"));

    /* a complete file from before lens models: ideal Fourier lenses, no error */
    assert_int_equal(acdc_compiler_profile_builtin("slm8", &p), 0);
    const char *full = test_path(1, "full-lens.ini");
    assert_int_equal(acdc_compiler_profile_write_ini(&p, full), 0);
    f = fopen(full, "r");
    assert_non_null(f);
    text[0] = '\0';
    int in_lens = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '[')
            in_lens = !strncmp(line, "[lens]", 6);
        if (!in_lens)
            strcat(text, line);
    }
    fclose(f);
    assert_null(strstr(text, "wavefront_rms"));
    const char *old = scratch_text("old-lens.ini", text);
    memset(&q, 0x5a, sizeof q);
    if (acdc_compiler_profile_read(old, &q))
        fail_msg("%s", acdc_util_errmsg());
    want = p;
    memset(&want.lens, 0, sizeof want.lens);
    profile_equal(&want, &q);
}

/* Every parser error: ACDC_UTIL_EDATA, "'FILE':LINE: ...", naming the key or section. */
static void test_file_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int line;
        const char *needle;
    } cases[] = {
        {"[profile]\nname = x\nbase = slm8\n[lenses]\nfocal = 1 m\n", 4, "'[lenses]'"},
        {"[profile]\nname = x\nbase = slm8\n[ laser ]\n", 4, "'[ laser ]'"},
        {"[profile]\nname = x\nbase = slm8\n[fourier]\npich = 8 um\n", 5, "'pich'"},
        {"[profile]\nname = x\nbase = slm8\n[laser]\nwavelength = 633\n", 5,
         "'laser.wavelength'"},
        {"[profile]\nname = x\nbase = slm8\n[laser]\nwavelength = 633 ms\n", 5,
         "'laser.wavelength'"},
        {"[profile]\nname = x\nbase = slm8\n[laser]\nwavelength = 633 furlongs\n", 5,
         "'laser.wavelength'"},
        {"[profile]\nname = x\nbase = slm8\n[laser]\npower = 1 kg\n", 5, "'laser.power'"},
        {"[profile]\nname = x\nbase = slm8\n[image]\nfill = nan\n", 5, "'image.fill'"},
        {"[profile]\nname = x\nbase = slm8\n[laser]\npower = inf mW\n", 5, "'laser.power'"},
        {"[profile]\nname = x\nbase = slm8\n[laser]\npower = NaN W\n", 5, "'laser.power'"},
        {"[profile]\nname = x\nbase = slm8\n[input]\npitch = -8 um\n", 5, "'input.pitch'"},
        {"[profile]\nname = x\nbase = slm8\n[input]\npitch = 0 um\n", 5, "'input.pitch'"},
        {"[profile]\nname = x\nbase = slm8\n[input]\npitch = 0x10 um\n", 5, "'input.pitch'"},
        {"[profile]\nname = x\nbase = slm8\n[camera]\nexposure = -1 ms\n", 5,
         "'camera.exposure'"},
        {"[profile]\nname = x\nbase = slm8\n[fourier]\nphase_bits = 17\n", 5,
         "'fourier.phase_bits'"},
        {"[profile]\nname = x\nbase = slm8\n[fourier]\namplitude_bits = -1\n", 5,
         "'fourier.amplitude_bits'"},
        {"[profile]\nname = x\nbase = slm8\n[fourier]\nphase_bits = 8.5\n", 5,
         "'fourier.phase_bits'"},
        {"[profile]\nname = x\nbase = slm8\n[camera]\nadc_bits = 99\n", 5, "'camera.adc_bits'"},
        {"[profile]\nname = x\nbase = slm8\n[fourier]\nfill = 1.2\n", 5, "'fourier.fill'"},
        {"[profile]\nname = x\nbase = slm8\n[fourier]\nfill = 0.9 um\n", 5, "'fourier.fill'"},
        {"[profile]\nname = x\nbase = slm8\n[camera]\nquantum_efficiency = 0\n", 5,
         "'camera.quantum_efficiency'"},
        {"[profile]\nname = x\nbase = slm8\n[camera]\nread_noise = 1.5 mW\n", 5,
         "'camera.read_noise'"},
        {"[profile]\nname = x\nbase = slm8\n[camera]\ndark_current = 0.5 e-\n", 5,
         "'camera.dark_current'"},
        {"[profile]\nname = x\nbase = slm8\n[camera]\nfull_well = -3 e-\n", 5,
         "'camera.full_well'"},
        {"[profile]\nname = x\nbase = slm8\n[camera]\npixels = 99999999999999999999999\n", 5,
         "'camera.pixels'"},
        {"[profile]\nname = x\nbase = slm8\n[camera]\npixels = 0\n", 5, "'camera.pixels'"},
        {"[profile]\nname = x\nbase = slm8\n[laser]\nwavelength = 1e400 nm\n", 5,
         "'laser.wavelength'"},
        {"[profile]\nname = x\nbase = slm8\n[laser]\nwavelength = 1e300 m\n", 5,
         "'laser.wavelength'"},
        {"[profile]\nname = x\nbase = slm8\n[rules]\nmax_na = 2\n", 5, "'rules.max_na'"},
        {"[profile]\nname = x\nbase = slm8\n[rules]\nmax_focal = 2\n", 5, "'rules.max_focal'"},
        {"[profile]\nname = x\nbase = slm8\n[image]\nmodulation = both\n", 5,
         "'image.modulation'"},
        {"[profile]\nname = x\nbase = slm8\nideal = maybe\n", 4, "'profile.ideal'"},
        {"[profile]\nname = x\nbase = slm9\n", 3, "'profile.base'"},
        {"[profile]\nname = x\nbase = slm8\n[camera]\ndevice = webcam\n", 5,
         "'camera.device'"},
        {"[profile]\nname = x\nbase = slm8\n[laser]\ndevice = ruby\n", 5, "'laser.device'"},
        {"[profile]\nname = x\nbase = slm8\n[image]\ndevice = lcd\n", 5, "'image.device'"},
        {"[profile]\nname = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
         2, "'profile.name'"},
        {"[profile]\nname = a ; b\nbase = slm8\n[camera]\nname = bad\tname\n", 5,
         "'camera.name'"},
        {"[profile]\nname = x\nbase = slm8\n[laser]\npower = 1 mW\npower = 2 mW\n", 6,
         "'laser.power'"},
        {"[laser]\npower = 1 mW\n[profile]\nname = x\nbase = slm8\n[laser]\npower = 2 mW\n", 7,
         "'laser.power'"},
        {"wavelength = 633 nm\n[profile]\nname = x\n", 1, "'wavelength'"},
        {"[profile]\nname = x\nbase = slm8\n[laser\n", 4, "'[laser'"},
        {"[profile] extra\nname = x\nbase = slm8\n", 1, "'[profile]'"},
        {"[profile]\nname = x\nbase = slm8\nhello world\n", 4, "'hello world'"},
        {"[profile]\nbase = slm8\n\n; no name\n", 4, "'name'"},
        {"[profile]\nname = x\n[laser]\nwavelength = 633 nm\n", 4, "'profile.ideal'"},
        {"[profile]\r\nname = x\r\nbase = slm8\r\n[fourier]\r\npitch = 8 parsecs\r\n", 5,
         "'fourier.pitch'"},
        {"[profile]\nname = x\nbase = slm8\n[camera]\nexposure = 2\n", 5, "unit of time"},
        /* the keys of 2D systems */
        {"[profile]\nname = x\nbase = slm8\n[input]\nrows = 0\n", 5, "'input.rows'"},
        {"[profile]\nname = x\nbase = slm8\n[fourier]\nrows = 16777217\n", 5,
         "'fourier.rows'"},
        {"[profile]\nname = x\nbase = slm8\n[image]\nrows = 1080 px\n", 5, "'image.rows'"},
        {"[profile]\nname = x\nbase = slm8\n[image]\nrows = 10.5\n", 5, "'image.rows'"},
        {"[profile]\nname = x\nbase = slm8\n[camera]\nrows = -2048\n", 5, "'camera.rows'"},
        {"[profile]\nname = x\nbase = slm8\n[camera]\nrows =\n", 5, "'camera.rows'"},
        {"[profile]\nname = x\nbase = slm8\n[fourier]\ndouble_phase = diagonal\n", 5,
         "'fourier.double_phase'"},
        {"[profile]\nname = x\nbase = slm8\n[input]\ndouble_phase = Columns\n", 5,
         "'input.double_phase'"},
        {"[profile]\nname = x\nbase = slm8\n[input]\ndouble_phase =\n", 5,
         "'input.double_phase'"},
        {"[profile]\nname = x\nbase = slm8\n[camera]\ndouble_phase = columns\n", 5,
         "'double_phase' in [camera]"},
        {"[profile]\nname = x\nbase = slm8\n[rules]\nsuperpixel = 17\n", 5,
         "'rules.superpixel'"},
        {"[profile]\nname = x\nbase = slm8\n[rules]\nsuperpixel = 4 px\n", 5,
         "'rules.superpixel'"},
        {"[profile]\nname = x\nbase = slm8\n[rules]\nsuperpixel = -1\n", 5,
         "'rules.superpixel'"},
        {"[profile]\nname = x\nbase = slm8\n[rules]\nsuperpixel = 2\nsuperpixel = 4\n", 6,
         "'rules.superpixel'"},
        {"[profile]\nname = x\nbase = slm8\n[profile]\nsuperpixel = 2\n", 5,
         "'superpixel' in [profile]"},
        /* inih itself refuses this line (the ';' after a blank starts a comment) */
        {"[profile]\nname = x\nbase = slm8\nfoo ;= bar\n", 4, "syntax error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char name[32];
        snprintf(name, sizeof name, "error-%02zu.ini", i);
        const char *path = scratch_text(name, cases[i].text);
        acdc_compiler_profile p;
        assert_int_equal(acdc_compiler_profile_builtin("ideal", &p), 0);
        const acdc_compiler_profile before = p;
        int rc = acdc_compiler_profile_read(path, &p);
        if (rc != ACDC_UTIL_EDATA)
            fail_msg("case %zu: status %d, message '%s'", i, rc, acdc_util_errmsg());
        assert_message(acdc_util_errmsg(), path, cases[i].line, cases[i].needle);
        profile_equal(&p, &before); /* untouched on error */
    }
}

/* Empty, comment-only, binary, over-long and missing files. */
static void test_file_garbage(void **state)
{
    (void)state;
    acdc_compiler_profile p;
    const char *path = scratch("empty.ini", "", 0);
    assert_int_equal(acdc_compiler_profile_read(path, &p), ACDC_UTIL_EDATA);
    assert_message(acdc_util_errmsg(), path, 1, "empty profile");

    path = scratch_text("comments.ini", "; nothing\n# here\n\n");
    assert_int_equal(acdc_compiler_profile_read(path, &p), ACDC_UTIL_EDATA);
    assert_message(acdc_util_errmsg(), path, 3, "empty profile");

    path = scratch_text("sections.ini", "[profile]\n[laser]\n");
    assert_int_equal(acdc_compiler_profile_read(path, &p), ACDC_UTIL_EDATA);
    assert_message(acdc_util_errmsg(), path, 2, "empty profile");

    static const char bin[] = "[profile]\nname = x\x00\x01\x02\xff\nbase = slm8\n";
    path = scratch("binary.ini", bin, sizeof bin - 1);
    assert_int_equal(acdc_compiler_profile_read(path, &p), ACDC_UTIL_EDATA);
    assert_message(acdc_util_errmsg(), path, 2, "NUL");

    /* a 5000-character value: rejected, not split into pieces */
    char *big = malloc(6000);
    assert_non_null(big);
    strcpy(big, "[profile]\nname = x\nbase = slm8\n[camera]\nname = ");
    size_t n = strlen(big);
    memset(big + n, 'a', 5000);
    strcpy(big + n + 5000, "\npixels = 7\n");
    path = scratch_text("long.ini", big);
    assert_int_equal(acdc_compiler_profile_read(path, &p), ACDC_UTIL_EDATA);
    assert_message(acdc_util_errmsg(), path, 5, "longer than");

    /* a long comment is harmless */
    strcpy(big, "[profile]\nname = x\nbase = slm8\n; ");
    n = strlen(big);
    memset(big + n, 'c', 5000);
    strcpy(big + n + 5000, "\n[camera]\npixels = 7\n");
    path = scratch_text("longcomment.ini", big);
    if (acdc_compiler_profile_read(path, &p))
        fail_msg("%s", acdc_util_errmsg());
    assert_int_equal(p.camera.pixels, 7);
    free(big);

    /* a BOM, CRLF, tabs and ':' separators are accepted */
    path = scratch_text("bom.ini", "\xef\xbb\xbf[profile]\r\n\tname : tabbed\r\nbase=ideal\r\n"
                                   "[fourier]\r\n\t\tphase_bits = 5 ; five\r\n");
    if (acdc_compiler_profile_read(path, &p))
        fail_msg("%s", acdc_util_errmsg());
    assert_string_equal(p.name, "tabbed");
    assert_int_equal(p.fourier.phase_bits, 5);

    path = test_path(0, "does-not-exist.ini");
    assert_int_equal(acdc_compiler_profile_read(path, &p), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), path));
    assert_non_null(strstr(acdc_util_errmsg(), "cannot open"));

    /* a directory opens but cannot be read */
    path = test_path(0, "");
    assert_int_equal(acdc_compiler_profile_read(path, &p), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), path));

    assert_int_equal(acdc_compiler_profile_read(NULL, &p), ACDC_UTIL_EUSAGE);
}

/* Random bytes and random mutations of a valid file: never a crash (run under ASan),
 * always 0 or ACDC_UTIL_EDATA, and any profile accepted passes its check. */
static void test_fuzz(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "[profile]\n", "[laser]\n", "[fourier]\n", "[camera]\n", "[rules]\n", "[bogus]\n",
        "name = fz\n", "base = slm8\n", "base = doe\n", "ideal = yes\n", "pitch = 8 um\n",
        "pitch = 8\n", "fill = 0.5\n", "fill = 2\n", "phase_bits = 6\n", "pixels = 12\n",
        "wavelength = 532 nm\n", "exposure = 3 ms\n", "max_na = 0.05\n", "device = scmos\n",
        "  indented = 1\n", "; comment\n", "[", "]", "=", ":", "\n", "\r\n", "\t", " ",
        "\xff\xfe", "1e999", "nan", "-0", "\xc2\xb5m", "e-/s", "[input]\n", "rows = 1080\n",
        "rows = 0\n", "double_phase = checkerboard\n", "superpixel = 4\n", "superpixel = 3\n",
        "base = slm1152\n", "device = lcos1080-phase8\n",
    };
    const size_t np = sizeof pieces / sizeof *pieces;
    unsigned long seed = 2385;
    char *buf = malloc(1 << 16);
    assert_non_null(buf);
    int accepted = 0;
    for (int iter = 0; iter < 600; iter++) {
        size_t len = 0;
        seed = seed * 6364136223846793005UL + 1442695040888963407UL;
        int parts = iter % 3 == 2 ? 1 + (int)(seed >> 33) % 3 : 1 + (int)(seed >> 33) % 40;
        for (int k = 0; k < parts; k++) {
            seed = seed * 6364136223846793005UL + 1442695040888963407UL;
            unsigned r = (unsigned)(seed >> 33);
            if (iter % 3 == 2) { /* a valid file with a few bytes changed */
                static const char valid[] =
                    "[profile]\nname = fz\nbase = slm8\n[fourier]\nphase_bits = 6\n"
                    "pitch = 8 um\n[camera]\nexposure = 3 ms\nfull_well = 2e4 e-\n";
                if (k == 0) {
                    memcpy(buf, valid, sizeof valid - 1);
                    len = sizeof valid - 1;
                }
                static const char plausible[] = "0123456789 .-+e;#=:[]\n\tu";
                buf[r % len] = (r >> 8) & 1 ? (char)(r >> 9)
                                            : plausible[(r >> 9) % (sizeof plausible - 1)];
                continue;
            }
            if (iter % 3 == 0) { /* raw bytes, any value including NUL */
                size_t m = r % 300;
                for (size_t j = 0; j < m && len < 60000; j++) {
                    seed = seed * 6364136223846793005UL + 1442695040888963407UL;
                    buf[len++] = (char)(seed >> 56);
                }
            } else {
                const char *s = pieces[r % np];
                size_t m = strlen(s);
                if (len + m < 60000) {
                    memcpy(buf + len, s, m);
                    len += m;
                }
            }
        }
        const char *path = scratch("fuzz.ini", buf, len);
        acdc_compiler_profile p;
        int rc = acdc_compiler_profile_read(path, &p);
        if (rc != 0 && rc != ACDC_UTIL_EDATA)
            fail_msg("iteration %d: status %d (%s)", iter, rc, acdc_util_errmsg());
        if (rc == ACDC_UTIL_EDATA && strncmp(acdc_util_errmsg(), "'", 1))
            fail_msg("iteration %d: message '%s'", iter, acdc_util_errmsg());
        if (rc == 0) {
            accepted++;
            assert_int_equal(acdc_compiler_profile_check(&p), 0);
        }
    }
    free(buf);
    /* one changed byte in a comment-free file often still reads (e.g. a digit) */
    if (accepted < 3) /* fixed seed: 6 read; the generator must keep reaching them */
        fail_msg("only %d of 600 files read", accepted);
}

/* ---- the profile copy inside a system file (acdc_compiler_profile_write_h5 / _read_h5) ---- */

static void h5_write_profile(const char *path, const acdc_compiler_profile *p)
{
    acdc_util_h5_out o;
    assert_int_equal(acdc_util_h5_create(path, &o), 0);
    if (acdc_compiler_profile_write_h5(o.fid, "/profile", p))
        fail_msg("%s", acdc_util_errmsg());
    assert_int_equal(acdc_util_h5_commit(&o), 0);
}

static int h5_read_profile(const char *path, acdc_compiler_profile *q)
{
    hid_t f;
    assert_int_equal(acdc_util_h5_open(path, &f), 0);
    int rc = acdc_compiler_profile_read_h5(f, path, "/profile", q);
    H5Fclose(f);
    return rc;
}

/* Every key survives write -> read exactly: the built-ins, awkward values, and every
 * number at the edge of the key table's range (which the INI reader accepts too). */
static void test_h5_round_trip(void **state)
{
    (void)state;
    const char *path = test_path(1, "profile.h5");
    acdc_compiler_profile p, q;
    for (const char *const *name = acdc_compiler_profile_names(); *name; name++) {
        assert_int_equal(acdc_compiler_profile_builtin(*name, &p), 0);
        if (p.fourier_oversample == ACDC_COMPILER_OVERSAMPLE_AUTO) {
            /* a system file's copy holds the design chosen, never auto */
            acdc_util_h5_out o;
            assert_int_equal(acdc_util_h5_create(path, &o), 0);
            assert_int_equal(acdc_compiler_profile_write_h5(o.fid, "/profile", &p),
                             ACDC_UTIL_EDATA);
            assert_non_null(strstr(acdc_util_errmsg(), "'rules.fourier_oversample' is auto"));
            acdc_util_h5_abort(&o);
            p.fourier_oversample = 1;
        }
        h5_write_profile(path, &p);
        memset(&q, 0x5a, sizeof q);
        if (h5_read_profile(path, &q))
            fail_msg("%s: %s", *name, acdc_util_errmsg());
        profile_equal(&p, &q);
        assert_int_equal(q.fourier_oversample, p.fourier_oversample);
    }
    static const char *const edges[][2] = {
        {"laser.wavelength=20 um", "fourier.phase_bits=16"},
        {"laser.wavelength=100 nm", "fourier.phase_bits=0"},
        {"input.pixels=16777216", "image.amplitude_bits=16"},
        {"input.pixels=1", "camera.adc_bits=16"},
        {"camera.full_well=1e12", "camera.exposure=3600 s"},
        {"camera.read_noise=1e6", "camera.dark_current=1e9 e-/s"},
        {"rules.max_focal=100 m", "rules.max_length=1000 m"},
        {"rules.fourier_oversample=8", "fourier.phase_error=3.14159 rad"},
        {"image.modulation=amplitude", "input.fill=1e-300"},
        {"camera.name=x", "profile.ideal=yes"},
        {"input.rows=16777216", "rules.superpixel=16"},
        {"camera.rows=1", "fourier.double_phase=checkerboard"},
        {"image.rows=1", "camera.rows=16777216"},
    };
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        assert_int_equal(acdc_compiler_profile_builtin("slm8", &p), 0);
        p.fourier_oversample = 2;
        for (int j = 0; j < 2; j++)
            if (acdc_compiler_profile_set(&p, edges[i][j]))
                fail_msg("%s: %s", edges[i][j], acdc_util_errmsg());
        h5_write_profile(path, &p);
        memset(&q, 0, sizeof q);
        if (h5_read_profile(path, &q))
            fail_msg("%s, %s: %s", edges[i][0], edges[i][1], acdc_util_errmsg());
        profile_equal(&p, &q);
        assert_int_equal(q.fourier_oversample, p.fourier_oversample);
    }
    /* an invalid profile is never written */
    p.fourier.phase_bits = 17;
    acdc_util_h5_out o;
    assert_int_equal(acdc_util_h5_create(path, &o), 0);
    assert_int_equal(acdc_compiler_profile_write_h5(o.fid, "/profile", &p), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "'fourier.phase_bits'"));
    acdc_util_h5_abort(&o);
}

/* A value outside the key table's range in a system file is refused, naming the file,
 * the attribute and the key; the profile passed in is left untouched. */
static void test_h5_out_of_range(void **state)
{
    (void)state;
    const char *path = test_path(1, "range.h5");
    static const struct {
        const char *obj, *attr;
        char kind;           /* i: integer, f: float, s: string */
        double v;
        const char *text, *want;
    } cases[] = {
        {"/profile/fourier", "phase_bits", 'i', 17, NULL, "'fourier.phase_bits'): 17 is outside 0..16"},
        {"/profile/camera", "adc_bits", 'i', 24, NULL, "'camera.adc_bits'): 24 is outside 0..16"},
        {"/profile/input", "pixels", 'i', 16777217, NULL, "'input.pixels'): 16777217 is outside"},
        {"/profile/image", "amplitude_bits", 'i', -1, NULL, "'image.amplitude_bits'): -1"},
        {"/profile", "ideal", 'i', 2, NULL, "'profile.ideal'): 2 is outside 0..1"},
        {"/profile", "fourier_oversample", 'i', 9, NULL, "'rules.fourier_oversample'): 9"},
        {"/profile", "wavelength_m", 'f', 30e-6, NULL, "'laser.wavelength'): 3e-05 is outside"},
        {"/profile", "laser_power_w", 'f', 0, NULL, "'laser.power'): 0 is outside (0, 1000]"},
        {"/profile/image", "fill", 'f', 0, NULL, "'image.fill'): 0 is outside (0, 1]"},
        {"/profile/input", "phase_error_rad", 'f', 4, NULL, "'input.phase_error'): 4 is outside"},
        {"/profile/camera", "exposure_s", 'f', 3601, NULL, "'camera.exposure'): 3601"},
        {"/profile/camera", "full_well_e", 'f', 2e12, NULL, "'camera.full_well'): 2e+12"},
        {"/profile", "max_na", 'f', 1.5, NULL, "'rules.max_na'): 1.5 is outside (0, 1]"},
        {"/profile/input", "modulation", 's', 0, "bogus", "'input.modulation'): 'bogus' is not"},
        {"/profile", "name", 's', 0, "", "'profile.name'): name is empty"},
        {"/profile/camera", "name", 's', 0, "a ;b", "'camera.name'): name 'a ;b' contains ';'"},
        {"/profile/fourier", "phase_bits", 'f', 8, NULL, "'phase_bits' on '/profile/fourier'"},
        /* the keys of 2D systems: a stored 0 rows is refused (no writer makes it) */
        {"/profile/input", "rows", 'i', 0, NULL, "'input.rows'): 0 is outside 1..16777216"},
        {"/profile/camera", "rows", 'i', 16777217, NULL, "'camera.rows'): 16777217 is outside"},
        {"/profile/image", "rows", 'f', 1080, NULL, "'rows' on '/profile/image'"},
        {"/profile/fourier", "double_phase", 's', 0, "diagonal",
         "'fourier.double_phase'): 'diagonal' is not columns, checkerboard or rows"},
        {"/profile/image", "double_phase", 'i', 1, NULL, "'double_phase' on '/profile/image'"},
        {"/profile/fourier", "pair_levels", 's', 0, "round",
         "'fourier.pair_levels'): 'round' is not joint or nearest"},
        {"/profile", "superpixel", 'i', 17, NULL, "'rules.superpixel'): 17 is outside 0..16"},
        {"/profile", "superpixel", 'i', -4, NULL, "'rules.superpixel'): -4 is outside"},
        /* the lens */
        {"/profile/lens", "model", 's', 0, "thick", "'lens.model'): 'thick' is not fourier"},
        {"/profile/lens", "wavefront_rms_waves", 'f', 1.2, NULL,
         "'lens.wavefront_rms'): 1.2 is outside [0, 1]"},
        {"/profile/lens", "z5_waves", 'f', -3, NULL, "'lens.z5'): -3 is outside [-1, 1]"},
        {"/profile/lens", "z11_waves", 's', 0, "0.1", "'z11_waves' on '/profile/lens'"},
    };
    acdc_compiler_profile p, q;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(acdc_compiler_profile_builtin("slm8", &p), 0);
        p.fourier_oversample = 1;
        h5_write_profile(path, &p);
        hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
        assert_true(f >= 0);
        int rc = cases[i].kind == 'i'   ? acdc_util_h5_set_attr_i64(f, cases[i].obj, cases[i].attr,
                                                                    (int64_t)cases[i].v)
                 : cases[i].kind == 'f' ? acdc_util_h5_set_attr_f64(f, cases[i].obj, cases[i].attr,
                                                                    cases[i].v)
                                        : acdc_util_h5_set_attr_str(f, cases[i].obj, cases[i].attr,
                                                                    cases[i].text);
        assert_int_equal(rc, 0);
        H5Fclose(f);
        memset(&q, 0x5a, sizeof q);
        acdc_compiler_profile before = q;
        assert_int_equal(h5_read_profile(path, &q), ACDC_UTIL_EDATA);
        const char *msg = acdc_util_errmsg();
        if (!strstr(msg, cases[i].want) || !strstr(msg, path) || !strstr(msg, cases[i].attr))
            fail_msg("case %zu: message '%s' lacks '%s', the file or the attribute", i, msg,
                     cases[i].want);
        assert_memory_equal(&q, &before, sizeof q);
    }
}

/* fourier_oversample may be absent (systems older than pixel-aware designs): 0; the
 * keys of 2D systems too (systems older than 2D designs): rows 1, double_phase columns,
 * superpixel 0; pair_levels (systems compiled before the pairs' levels were chosen
 * together): nearest.  Any other attribute is required. */
static void test_h5_missing(void **state)
{
    (void)state;
    const char *path = test_path(1, "missing.h5");
    acdc_compiler_profile p, q;
    assert_int_equal(acdc_compiler_profile_builtin("doe", &p), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "rules.fourier_oversample=2"), 0);
    /* values unlike the absent ones, so that reading the absent value is seen */
    assert_int_equal(acdc_compiler_profile_set(&p, "fourier.double_phase=checkerboard"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "rules.superpixel=4"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "camera.frames=3"), 0);
    assert_int_equal(acdc_compiler_profile_set(&p, "lens.z4=0.02"), 0);
    static const struct {
        const char *obj, *attr;
        int optional;
    } gone[] = {{"/profile", "fourier_oversample", 1},
                {"/profile/input", "rows", 1},
                {"/profile/camera", "rows", 1},
                {"/profile/fourier", "double_phase", 1},
                {"/profile/image", "pair_levels", 1},
                {"/profile", "superpixel", 1},
                {"/profile/camera", "frame_rate_hz", 1},
                {"/profile/input", "frame_rate_hz", 1},
                {"/profile/camera", "frames", 1},
                /* the lens's attributes came with their subgroup: one missing from
                 * it is refused (the whole subgroup may be absent, below) */
                {"/profile/lens", "model", 0},
                {"/profile/lens", "z4_waves", 0},
                {"/profile/camera", "exposure_s", 0},
                {"/profile/input", "name", 0},
                {"/profile/image", "pixels", 0},
                {"/profile", "max_focal_m", 0}};
    for (size_t i = 0; i < sizeof gone / sizeof *gone; i++) {
        h5_write_profile(path, &p);
        hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
        assert_true(f >= 0);
        assert_true(H5Adelete_by_name(f, gone[i].obj, gone[i].attr, H5P_DEFAULT) >= 0);
        H5Fclose(f);
        memset(&q, 0x5a, sizeof q);
        int rc = h5_read_profile(path, &q);
        if (!gone[i].optional) {
            assert_int_equal(rc, ACDC_UTIL_EDATA);
            assert_non_null(strstr(acdc_util_errmsg(), gone[i].attr));
            assert_non_null(strstr(acdc_util_errmsg(), path));
            continue;
        }
        if (rc)
            fail_msg("%s on %s: %s", gone[i].attr, gone[i].obj, acdc_util_errmsg());
        acdc_compiler_profile want = p;
        if (!strcmp(gone[i].attr, "frame_rate_hz") && !strcmp(gone[i].obj, "/profile/camera"))
            want.camera.frame_rate_hz = 0;   /* not given */
        else if (!strcmp(gone[i].attr, "frame_rate_hz"))
            want.input.frame_rate_hz = 0;
        else if (!strcmp(gone[i].attr, "frames"))
            want.frames = 1;
        else if (!strcmp(gone[i].attr, "fourier_oversample"))
            want.fourier_oversample = 0;
        else if (!strcmp(gone[i].attr, "pair_levels"))
            want.image.pair_levels = ACDC_OPTICS_PAIRS_NEAREST;   /* how it was compiled */
        else if (!strcmp(gone[i].obj, "/profile/input"))
            want.input.rows = 1;
        else if (!strcmp(gone[i].obj, "/profile/camera"))
            want.camera.rows = 1;
        else if (!strcmp(gone[i].attr, "double_phase"))
            want.fourier.dp_layout = ACDC_OPTICS_DP_COLUMNS;
        else
            want.superpixel = 0;
        profile_equal(&want, &q);
    }

    /* a profile copy from before 2D systems: none of their attributes; it reads as the
     * line devices every 1D system used and passes the check */
    h5_write_profile(path, &p);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    static const char *const dev[] = {"/profile/input", "/profile/fourier", "/profile/image"};
    for (int j = 0; j < 3; j++) {
        assert_true(H5Adelete_by_name(f, dev[j], "rows", H5P_DEFAULT) >= 0);
        assert_true(H5Adelete_by_name(f, dev[j], "double_phase", H5P_DEFAULT) >= 0);
    }
    assert_true(H5Adelete_by_name(f, "/profile/camera", "rows", H5P_DEFAULT) >= 0);
    assert_true(H5Adelete_by_name(f, "/profile", "superpixel", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    memset(&q, 0x5a, sizeof q);
    if (h5_read_profile(path, &q))
        fail_msg("%s", acdc_util_errmsg());
    acdc_compiler_profile want = p;
    want.input.rows = want.fourier.rows = want.image.rows = want.camera.rows = 1;
    want.input.dp_layout = want.fourier.dp_layout = want.image.dp_layout = ACDC_OPTICS_DP_COLUMNS;
    want.superpixel = 0;
    profile_equal(&want, &q);
    assert_int_equal(q.input.dp_layout, ACDC_OPTICS_DP_COLUMNS);
    assert_int_equal(acdc_compiler_profile_check(&q), 0);

    /* a profile copy from before lens models: no /profile/lens at all; it reads as the
     * ideal Fourier lens every simulation then used by default.  (A dataset in its place
     * is no subgroup and holds none of the attributes: refused.) */
    h5_write_profile(path, &p);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_true(H5Ldelete(f, "/profile/lens", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    memset(&q, 0x5a, sizeof q);
    if (h5_read_profile(path, &q))
        fail_msg("%s", acdc_util_errmsg());
    want = p;
    memset(&want.lens, 0, sizeof want.lens);
    profile_equal(&want, &q);
    assert_int_equal(q.lens.model, ACDC_OPTICS_LENS_FOURIER);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    const hsize_t one = 1;
    hid_t sp = H5Screate_simple(1, &one, NULL);
    hid_t d = H5Dcreate2(f, "/profile/lens", H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
    assert_true(d >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Fclose(f);
    assert_int_equal(h5_read_profile(path, &q), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "'/profile/lens'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtins_check),
        cmocka_unit_test(test_builtin_values),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_write_atomic),
        cmocka_unit_test(test_base_and_override),
        cmocka_unit_test(test_complete_without_base),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_2d_keys),
        cmocka_unit_test(test_lens_keys),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_file_garbage),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_h5_round_trip),
        cmocka_unit_test(test_h5_out_of_range),
        cmocka_unit_test(test_h5_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
