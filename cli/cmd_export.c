/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli/cmd_export.c -- `acdc export`: what a lab builds from (compiler/export.h,
 * compiler/EXPORT.md): SLM images, drive tables, DOE reliefs and layouts, the camera's
 * map, a manifest and the build sheet, each file written atomically. */
#include "cli/cli.h"
#include "compiler/export.h"
#include "sim/result.h"
#include "sim/tolerance.h"
#include "util/error.h"
#include "util/output.h"
#include "util/file.h"
#include "util/fingerprint.h"
#include "util/h5.h"
#include "util/png.h"
#include "util/signal.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* cli/gds.py as a C string (made by the Makefile) */
static const char gds_script[] =
#include "gds_py.h"
    ;

enum { OPT_OUTPUT = 'o', OPT_NO_GDS = 0x100, OPT_QUIET = 'q', OPT_TOLERANCE = 0x101 };

static const cli_option options[] = {
    CLI_OPT('o', "output", "DIR", OPT_OUTPUT, "the folder to write (made if missing)"),
    CLI_OPT(0, "no-gds", NULL, OPT_NO_GDS, "no GDSII layouts of fabricated elements (they "
            "need python3 with gdspy)"),
    CLI_OPT(0, "tolerance", "TOL.h5", OPT_TOLERANCE, "quote the tolerances of `acdc "
            "tolerance` on this system (as built: not recompiled with --set) in the build "
            "sheet"),
    CLI_OPT('q', "quiet", NULL, OPT_QUIET, "no list of the files written"),
    CLI_OPT_END};

static const cli_spec spec = {
    "export", "SYSTEM.h5 -o DIR [options]",
    "Write what a lab builds the compiled system from (compiler/EXPORT.md):\n"
    "  ROLE-D.png          per physical SLM (ROLE fourier or image, D = 0, 1, ...), an\n"
    "                      8-bit (16-bit above 8 device bits) grey image at the device's\n"
    "                      resolution, every mask where the design puts it, grey levels\n"
    "                      through the device's drive table, mirrored in x for a\n"
    "                      reflective device; a complex device's two SLMs as\n"
    "                      ROLE-D-amplitude.png and ROLE-D-phase.png\n"
    "  lut-ROLE.txt        the drive table used: grey, value, device level\n"
    "  doe-ROLE-cC-sK.*    per fabricated element (a device with a refractive index): its\n"
    "                      levels and relief height in metres (.h5), the levels as an\n"
    "                      image (.png) and the binary lithography masks as GDSII layers\n"
    "                      (.gds, written by python3's gdspy)\n"
    "  camera.tsv          per chain and component: the image sample and camera pixel\n"
    "  manifest.tsv        every plane: its device, image file, region and optical axis\n"
    "  build-sheet.md      the optical train in order with distances, parts and settings",
    options,
    "environment: ACDC_PYTHON, the python3 that runs gdspy (default: python3 on PATH)\n"
    "\n"
    "exit codes: 0 written, 1 data or I/O error (nothing to export, a folder that cannot be\n"
    "written, gdspy missing), 2 usage error, 3 interrupted (files written so far are whole)"};

struct args {
    const char *out, *tolerance;
    int no_gds, quiet;
};

static int on_option(void *ctx, int key, const char *arg)
{
    struct args *a = ctx;
    switch (key) {
    case OPT_OUTPUT: a->out = arg; break;
    case OPT_NO_GDS: a->no_gds = 1; break;
    case OPT_QUIET: a->quiet = 1; break;
    case OPT_TOLERANCE: a->tolerance = arg; break;
    }
    return ACDC_UTIL_OK;
}

struct ctx {
    const acdc_compiler_system *s;
    acdc_compiler_plan plan;
    const char *dir;
    int no_gds, quiet;
    size_t written;
    const acdc_compiler_lut *lut;      /* the table fill_lut() writes */
    const char *lut_device;
    const char *system_path;      /* the build sheet's title */
    char *tolerances;             /* the build sheet's tolerance section, or NULL */
};

static int path_of(char *buf, size_t n, const char *dir, const char *name)
{
    if ((size_t)snprintf(buf, n, "%s/%s", dir, name) >= n)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "output path '%s/%s' is too long", dir, name);
    return ACDC_UTIL_OK;
}

static void wrote(struct ctx *x, const char *name)
{
    x->written++;
    if (!x->quiet)
        printf("  %s\n", name);
}

static int check_signal(void)
{
    return acdc_util_signal_caught() ? acdc_util_error(ACDC_UTIL_EINTR, "interrupted")
                                     : ACDC_UTIL_OK;
}

/* Makes dir if it does not exist; refuses a name that is not a folder. */
static int make_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0)
        return S_ISDIR(st.st_mode) ? ACDC_UTIL_OK
                                   : acdc_util_error(ACDC_UTIL_EIO,
                                                     "'%s' exists and is not a folder", dir);
    if (mkdir(dir, 0777) != 0)
        return acdc_util_error(ACDC_UTIL_EIO, "cannot create folder '%s': %s", dir,
                               strerror(errno));
    return ACDC_UTIL_OK;
}

/* Writes DIR/name atomically with fill(x, f). */
static int text_out(struct ctx *x, const char *name, int (*fill)(struct ctx *, FILE *))
{
    char path[4096];
    acdc_util_file f;
    int rc = path_of(path, sizeof path, x->dir, name);
    if (rc || (rc = acdc_util_file_create(path, &f)))
        return rc;
    if ((rc = fill(x, f.f))) {
        acdc_util_file_abort(&f);
        return rc;
    }
    if (!(rc = acdc_util_file_commit(&f)))
        wrote(x, name);
    return rc;
}

/* ---- drive tables and SLM images ---- */

static int fill_lut(struct ctx *x, FILE *f)
{
    return acdc_compiler_lut_write(x->lut, x->lut_device, f);
}

/* The images of role r's devices (part: 0 only/amplitude, 1 phase; suffix "" or
 * "-amplitude"/"-phase"). */
static int export_slm(struct ctx *x, enum acdc_compiler_role r, int part, int phase,
                      const char *suffix)
{
    const acdc_compiler_system *s = x->s;
    const acdc_optics_modulator *dev = acdc_compiler_role_device(&s->profile, r);
    acdc_compiler_lut lut;
    int rc = acdc_compiler_lut_make(dev, phase, &lut);
    if (rc)
        return rc;
    char name[256];
    snprintf(name, sizeof name, "lut-%s%s.txt", acdc_compiler_role_name(r), suffix);
    x->lut = &lut;
    x->lut_device = dev->name;
    rc = text_out(x, name, fill_lut);
    const size_t cols = x->plan.cols[r], rows = x->plan.rows[r];
    uint16_t *img = rc ? NULL : malloc(cols * rows * sizeof *img);
    if (!rc && !img)
        rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for a %zu x %zu image", cols, rows);
    for (size_t d = 0; !rc && d < x->plan.devices[r]; d++) {
        char path[4096];
        snprintf(name, sizeof name, "%s-%zu%s.png", acdc_compiler_role_name(r), d, suffix);
        if ((rc = check_signal()) || (rc = path_of(path, sizeof path, x->dir, name)) ||
            (rc = acdc_compiler_device_image(s, &x->plan, r, d, part, &lut, img)))
            break;
        if (dev->reflective)
            acdc_compiler_mirror(img, cols, rows);
        if (!(rc = acdc_util_png_write_grey(path, img, cols, rows, lut.grey_bits)))
            wrote(x, name);
    }
    free(img);
    acdc_compiler_lut_free(&lut);
    return rc;
}

/* ---- fabricated elements ---- */

/* Runs python3 -c gds_script src tmp cell, tmp dst's temporary (acdc_util_file_create_for),
 * then puts it in place.  python's standard error is read; its last line ends the
 * one-line message when it fails. */
static int run_gds(const char *src, const char *dst, const char *cell)
{
    acdc_util_file out;
    int rc = acdc_util_file_create_for(dst, &out);
    if (rc)
        return rc;
    char *tmp = out.t.tmp;
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        rc = acdc_util_error(ACDC_UTIL_EIO, "cannot make a pipe for python3: %s", strerror(errno));
        acdc_util_file_abort(&out);
        return rc;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, pipefd[1]);
    const char *py = getenv("ACDC_PYTHON");
    if (!py || !*py)
        py = "python3";
    char *argv[] = {(char *)py, "-c", (char *)gds_script, (char *)src, tmp, (char *)cell, NULL};
    extern char **environ;
    pid_t pid;
    const int e = posix_spawnp(&pid, py, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (e != 0) {
        close(pipefd[0]);
        acdc_util_file_abort(&out);
        return acdc_util_error(ACDC_UTIL_EDATA, "GDSII layouts need python3 with gdspy (Debian: "
                               "python3-gdspy), or --no-gds: cannot run '%s': %s", py, strerror(e));
    }
    char buf[8192];
    size_t used = 0;
    ssize_t got;
    while ((got = read(pipefd[0], buf + used, sizeof buf - 1 - used)) > 0 ||
           (got < 0 && errno == EINTR)) {
        if (got < 0)
            continue;
        used += (size_t)got;
        if (used == sizeof buf - 1) { /* keep the tail */
            memmove(buf, buf + used / 2, used - used / 2);
            used -= used / 2;
        }
    }
    close(pipefd[0]);
    buf[used] = '\0';
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        acdc_util_file_abort(&out);
        while (used && (buf[used - 1] == '\n' || buf[used - 1] == '\r'))
            buf[--used] = '\0';
        const char *last = strrchr(buf, '\n');
        last = last ? last + 1 : buf;
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "GDSII layout '%s' failed (python3 with gdspy; Debian: "
                               "python3-gdspy, or --no-gds): %s", dst, *last ? last : "no message");
    }
    return acdc_util_file_commit(&out);
}

static int export_doe(struct ctx *x, const acdc_compiler_slot *sl)
{
    const acdc_compiler_system *s = x->s;
    const acdc_optics_modulator *dev = acdc_compiler_role_device(&s->profile, sl->role);
    const size_t w = sl->width, h = s->rank == 2 ? sl->height : 1;
    const int bits = dev->phase_bits;
    if (dev->modulation != ACDC_OPTICS_MOD_PHASE || bits <= 0 || bits > 16)
        return acdc_util_error(ACDC_UTIL_EDATA, "fabricated element '%s': only phase levels (1..16 "
                               "bits) are made as a relief", dev->name);
    int32_t *lv = malloc(w * h * sizeof *lv);
    int64_t *lv64 = malloc(w * h * sizeof *lv64);
    double *hm = malloc(w * h * sizeof *hm);
    uint16_t *img = malloc(w * h * sizeof *img);
    int rc = lv && lv64 && hm && img ? ACDC_UTIL_OK
                                     : acdc_util_error(ACDC_UTIL_ENOMEM,
                                                       "out of memory for a relief");
    if (!rc)
        rc = acdc_compiler_slot_levels(s, sl, lv);
    const double L = (double)((size_t)1 << bits), n = dev->refractive_index;
    for (size_t i = 0; !rc && i < w * h; i++) {
        lv64[i] = lv[i];
        hm[i] = s->wavelength_m * (double)lv[i] / (L * (n - 1));
        img[i] = (uint16_t)lround((double)lv[i] * 255.0 / (L - 1));
    }
    char base[128], name[160], path[4096], cell[96];
    snprintf(base, sizeof base, "doe-%s-c%zu-s%zu", acdc_compiler_role_name(sl->role), sl->chain,
             sl->stage);
    snprintf(cell, sizeof cell, "DOE_%s_C%zu_S%zu", acdc_compiler_role_name(sl->role), sl->chain,
             sl->stage);
    /* the levels and the relief */
    acdc_util_h5_out o = {.fid = H5I_INVALID_HID};
    snprintf(name, sizeof name, "%s.h5", base);
    if (!rc && !(rc = path_of(path, sizeof path, x->dir, name)) &&
        !(rc = acdc_util_h5_create(path, &o))) {
        const hsize_t dims[2] = {h, w};
        if ((rc = acdc_util_h5_write_i64(o.fid, "level", 2, dims, lv64)) ||
            (rc = acdc_util_h5_write_f64(o.fid, "height_m", 2, dims, hm)) ||
            (rc = acdc_util_h5_set_attr_i64(o.fid, "/", "bits", bits)) ||
            (rc = acdc_util_h5_set_attr_f64(o.fid, "/", "pitch_m", dev->pitch_m)) ||
            (rc = acdc_util_h5_set_attr_f64(o.fid, "/", "wavelength_m", s->wavelength_m)) ||
            (rc = acdc_util_h5_set_attr_f64(o.fid, "/", "refractive_index", n)) ||
            (rc = acdc_util_h5_set_attr_i64(o.fid, "/", "extent_rows",
                                            s->rank == 2 ? 0 : (int64_t)sl->height)) ||
            (rc = acdc_util_h5_set_attr_i64(o.fid, "/", "x0", (int64_t)sl->x0)) ||
            (rc = acdc_util_h5_set_attr_i64(o.fid, "/", "y0", (int64_t)sl->y0)) ||
            (rc = acdc_util_h5_set_attr_str(o.fid, "/", "device", dev->name)))
            acdc_util_h5_abort(&o);
        else if (!(rc = acdc_util_h5_commit(&o)))
            wrote(x, name);
    }
    /* the levels as an image (a 1D element: one row) */
    snprintf(name, sizeof name, "%s.png", base);
    if (!rc && !(rc = path_of(path, sizeof path, x->dir, name)) &&
        !(rc = acdc_util_png_write_grey(path, img, w, h, 8)))
        wrote(x, name);
    if (!rc && !x->no_gds) {
        char src[4096];
        snprintf(name, sizeof name, "%s.h5", base);
        path_of(src, sizeof src, x->dir, name);
        snprintf(name, sizeof name, "%s.gds", base);
        if (!(rc = path_of(path, sizeof path, x->dir, name)) && !(rc = run_gds(src, path, cell)))
            wrote(x, name);
    }
    free(lv);
    free(lv64);
    free(hm);
    free(img);
    return rc;
}

/* ---- the camera, the manifest, the build sheet ---- */

static int fill_camera(struct ctx *x, FILE *f)
{
    const acdc_compiler_system *s = x->s;
    fprintf(f, "# chain\tcomponent\tsample\tcamera_x\tcamera_y\tminus_x\n"
                 "# the component's image-plane sample (row-major y m + x for a 2D "
                 "system) and the camera pixel of port I+; port I- (the beam splitter's "
                 "reflection) sees x mirrored: minus_x\n");
    const size_t cols = s->profile.camera.pixels;
    for (size_t c = 0; c < s->n_chains; c++)
        for (size_t j = 0; j < s->n; j++) {
            size_t cx, cy;
            acdc_compiler_camera_pixel(s, c, j, &cx, &cy);
            fprintf(f, "%zu\t%zu\t%lld\t%zu\t%zu\t%zu\n", c, j,
                    (long long)s->chains[c].pixel[j], cx, cy, cols - 1 - cx);
        }
    return ACDC_UTIL_OK;
}

static const char *image_file(const struct ctx *x, const acdc_compiler_slot *sl, char *buf,
                              size_t n)
{
    const acdc_optics_modulator *dev = acdc_compiler_role_device(&x->s->profile, sl->role);
    if (!sl->mask)
        snprintf(buf, n, "-");
    else if (dev->refractive_index > 0)
        snprintf(buf, n, "doe-%s-c%zu-s%zu.png", acdc_compiler_role_name(sl->role), sl->chain,
                 sl->stage);
    else if (dev->modulation == ACDC_OPTICS_MOD_COMPLEX)
        snprintf(buf, n, "%s-%zu-amplitude.png,%s-%zu-phase.png", acdc_compiler_role_name(sl->role),
                 sl->device, acdc_compiler_role_name(sl->role), sl->device);
    else
        snprintf(buf, n, "%s-%zu.png", acdc_compiler_role_name(sl->role), sl->device);
    return buf;
}

static int fill_manifest(struct ctx *x, FILE *f)
{
    const acdc_compiler_system *s = x->s;
    fprintf(f, "# acdc export of a rank-%d system: every plane on its device "
                 "(compiler/EXPORT.md)\n", s->rank);
    fprintf(f, "# role\tchain\tstage\tdevice\tfile\tcols\trows\tmirrored\tsamples\tpx\tpy"
                 "\tx0\ty0\twidth\theight\taxis_x\taxis_y\n");
    for (size_t i = 0; i < x->plan.nslots; i++) {
        const acdc_compiler_slot *sl = &x->plan.slots[i];
        const acdc_optics_modulator *dev = acdc_compiler_role_device(&s->profile, sl->role);
        char file[512];
        fprintf(f, "%s\t%zu\t%zu\t%zu\t%s\t%zu\t%zu\t%d\t%zu\t%zu\t%zu\t%zu\t%zu\t%zu\t%zu\t"
                "%.1f\t%.1f\n", acdc_compiler_role_name(sl->role), sl->chain, sl->stage,
                sl->device, image_file(x, sl, file, sizeof file), x->plan.cols[sl->role],
                x->plan.rows[sl->role], dev->reflective && dev->refractive_index == 0,
                sl->samples, sl->px, sl->py, sl->x0, sl->y0, sl->width, sl->height,
                sl->axis_x, sl->axis_y);
    }
    return ACDC_UTIL_OK;
}

static int fill_sheet(struct ctx *x, FILE *f)
{
    const acdc_compiler_system *s = x->s;
    char fmt[3][96];
    const char *files[3] = {NULL, NULL, NULL};
    for (int r = ACDC_COMPILER_ROLE_FOURIER; r <= ACDC_COMPILER_ROLE_IMAGE; r++) {
        const acdc_optics_modulator *dev =
            acdc_compiler_role_device(&s->profile, (enum acdc_compiler_role)r);
        if (dev->modulation == ACDC_OPTICS_MOD_COMPLEX)
            snprintf(fmt[r], sizeof fmt[r], "%s-%%zu-amplitude.png + -phase.png",
                     acdc_compiler_role_name((enum acdc_compiler_role)r));
        else
            snprintf(fmt[r], sizeof fmt[r], "%s-%%zu.png", acdc_compiler_role_name((enum acdc_compiler_role)r));
        files[r] = fmt[r];
    }
    return acdc_compiler_build_sheet(s, &x->plan, files, x->system_path, x->tolerances, f);
}

static int export_all(struct ctx *x, const char *system_path)
{
    const acdc_compiler_system *s = x->s;
    if (s->profile.ideal)
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "'%s' was compiled for the ideal profile '%s': it has no "
                               "devices to export (compile it for a real profile)", system_path,
                               s->profile.name);
    int rc = make_dir(x->dir);
    if (rc || (rc = acdc_compiler_plan_make(s, &x->plan)))
        return rc;
    for (int r = ACDC_COMPILER_ROLE_FOURIER; !rc && r <= ACDC_COMPILER_ROLE_IMAGE; r++) {
        if (!x->plan.devices[r])
            continue;
        const enum acdc_compiler_role role = (enum acdc_compiler_role)r;
        const acdc_optics_modulator *dev = acdc_compiler_role_device(&s->profile, role);
        if (dev->refractive_index > 0) {
            for (size_t i = 0; !rc && i < x->plan.nslots; i++)
                if (x->plan.slots[i].role == role && !(rc = check_signal()))
                    rc = export_doe(x, &x->plan.slots[i]);
        } else if (dev->modulation == ACDC_OPTICS_MOD_COMPLEX) {
            if (!(rc = export_slm(x, role, 0, 0, "-amplitude")))
                rc = export_slm(x, role, 1, 1, "-phase");
        } else {
            rc = export_slm(x, role, 0, dev->modulation == ACDC_OPTICS_MOD_PHASE, "");
        }
    }
    if (!rc && !(rc = check_signal()))
        rc = text_out(x, "camera.tsv", fill_camera);
    if (!rc)
        rc = text_out(x, "manifest.tsv", fill_manifest);
    if (!rc)
        rc = text_out(x, "build-sheet.md", fill_sheet);
    acdc_compiler_plan_free(&x->plan);
    return rc;
}

/* The tolerance section of the build sheet from an `acdc tolerance` file computed on this
 * very system (its fingerprint in the file's settings) as built (no --set). */
static int tolerance_section(const char *tol, const char *system, char **out)
{
    *out = NULL;
    uint64_t h;
    hid_t f;
    char settings[8192], want[64];
    int rc = acdc_util_file_fingerprint(system, &h);
    if (rc || (rc = acdc_util_h5_open(tol, &f)))
        return rc;
    rc = acdc_util_h5_attr_str(f, tol, "/", "settings", settings, sizeof settings);
    H5Fclose(f);
    if (rc)
        return rc;
    snprintf(want, sizeof want, "system=%016llx;", (unsigned long long)h);
    if (!strstr(settings, want))
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "'%s' holds the tolerances of another system than '%s'",
                               tol, system);
    if (strstr(settings, ";set="))
        return acdc_util_error(ACDC_UTIL_EDATA, "'%s' holds the tolerances of '%s' recompiled with "
                               "profile changes (--set), not of the system as built", tol, system);
    acdc_sim_tolerance *t;
    if ((rc = acdc_sim_tolerance_read(tol, &t)))
        return rc;
    size_t cap = 8192, len = 0;
    char *s = malloc(cap), budget[256], v[128];
    if (!s) {
        acdc_sim_tolerance_free(t);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    }
    acdc_sim_tolerance_budget_text(t, budget, sizeof budget);
    len += (size_t)snprintf(s + len, cap - len,
                            "## Tolerances (from %s)\n\nHow far each error of the bench may "
                            "go before it costs %s: `acdc tolerance` on %zu rows, %zu trials, "
                            "S = %d, %s propagation, noise %s (sim/README.md, *Tolerance*). "
                            "\"±\" is the Monte Carlo standard error.\n\n"
                            "| perturbation | tolerance | note |\n|---|---|---|\n",
                            tol, budget, t->rows, t->trials, t->oversample,
                            acdc_sim_propagation_name(t->propagation), t->noise ? "on" : "off");
    for (int i = 0; i < ACDC_SIM_PERTURB_COUNT && len < cap; i++) {
        if (!t->selected[i])
            continue;
        acdc_sim_tolerance_text(t, i, v, sizeof v);
        len += (size_t)snprintf(s + len, cap - len, "| %s | %s | %s |\n",
                                acdc_sim_perturb_table()[i].help, v, t->item[i].note);
    }
    if (len < cap)
        snprintf(s + len, cap - len, "\n");
    acdc_sim_tolerance_free(t);
    *out = s;
    return ACDC_UTIL_OK;
}

int cmd_export(int argc, char **argv)
{
    struct args a = {0};
    int rc = cli_parse(&spec, argc, argv, on_option, &a);
    if (rc >= 0)
        return rc;
    if (!a.out)
        return cli_usage_error("export", "no output folder: give -o DIR");
    if (argc - optind != 1)
        return cli_usage_error("export", "expected one SYSTEM.h5, got %d arguments",
                               argc - optind);
    const char *in = argv[optind];
    acdc_compiler_system *s = NULL;
    const char *ins[] = {in, a.tolerance};
    if ((rc = acdc_util_output_claim(ins, 2, &a.out, 1)))
        return cli_fail("export", rc);
    if ((rc = acdc_compiler_system_read(in, &s)))
        return cli_fail("export", rc);
    struct ctx x = {.s = s, .dir = a.out, .no_gds = a.no_gds, .quiet = a.quiet,
                    .system_path = in};
    if (a.tolerance && (rc = tolerance_section(a.tolerance, in, &x.tolerances))) {
        acdc_compiler_system_free(s);
        return cli_fail("export", rc);
    }
    acdc_util_signal_saved sig = {0};
    if (!a.quiet)
        printf("exporting '%s' to '%s/':\n", in, a.out);
    if (!(rc = acdc_util_signal_catch(&sig)))
        rc = export_all(&x, in);
    acdc_util_signal_restore(&sig);
    acdc_compiler_system_free(s);
    free(x.tolerances);
    if (rc)
        return cli_fail("export", rc);
    printf("wrote %zu files to '%s'\n", x.written, a.out);
    return cli_finish("export");
}
