/* SPDX-License-Identifier: GPL-3.0-or-later */
/* compiler/export.c -- what a lab builds from (compiler/export.h, compiler/EXPORT.md):
 * the planes on their devices, device images through drive tables, relief levels, the
 * camera's read-out map and the build sheet. */
#include "compiler/export.h"
#include "optics/device.h"
#include "optics/field.h"
#include "util/error.h"
#include "util/input.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const acdc_optics_modulator *acdc_compiler_role_device(const acdc_compiler_profile *p,
                                                       enum acdc_compiler_role r)
{
    return r == ACDC_COMPILER_ROLE_INPUT ? &p->input : r == ACDC_COMPILER_ROLE_FOURIER ? &p->fourier
                                                                              : &p->image;
}

const char *acdc_compiler_role_name(enum acdc_compiler_role r)
{
    return r == ACDC_COMPILER_ROLE_INPUT ? "input" : r == ACDC_COMPILER_ROLE_FOURIER ? "fourier"
                                                                            : "image";
}

/* ---------------------------------------------------------------------------------- */
/* The plan: every plane on its device.                                                 */

/* Pixels per sample along x of role r's device: the superpixel (rank 2), two for a
 * double-phase pair or one (rank 1), as the design saw the device. */
static size_t role_px(const acdc_compiler_system *s, enum acdc_compiler_role r)
{
    acdc_compiler_profile e;
    acdc_compiler_profile_effective(&s->profile, &e);
    if (s->rank == 2)
        return (size_t)s->profile.superpixel;
    return (size_t)acdc_optics_modulator_pixels_per_sample(acdc_compiler_role_device(&e, r));
}

void acdc_compiler_plan_free(acdc_compiler_plan *plan)
{
    if (!plan)
        return;
    free(plan->slots);
    plan->slots = NULL;
    plan->nslots = 0;
}

/* Places the plane slot (its role, samples and px set) as plane i of its role. */
static int place(const acdc_compiler_system *s, acdc_compiler_plan *plan,
                 acdc_compiler_slot *slot, size_t i)
{
    const enum acdc_compiler_role r = slot->role;
    const acdc_optics_modulator *dev = acdc_compiler_role_device(&s->profile, r);
    const size_t cols = dev->pixels, rows = dev->rows ? dev->rows : 1;
    const size_t half = slot->samples / 2, w = slot->samples * slot->px;
    plan->cols[r] = cols;
    plan->rows[r] = rows;
    if (s->rank != 2) {
        /* one plane per device, its axis (the centre of sample floor(m/2)) on the
         * device's axis pixel floor(cols/2); the line fills every row */
        if (w > cols || cols / 2 < half * slot->px || cols / 2 - half * slot->px + w > cols)
            return acdc_util_error(ACDC_UTIL_EDATA, "the %s plane needs %zu pixels along x; device "
                                   "'%s' has %zu", acdc_compiler_role_name(r), w, dev->name, cols);
        /* a double-phase pair down the strip's rows: the strip its first orders clear
         * (acdc_compiler_strip_orders()), centred; otherwise every row */
        const size_t strip = acdc_compiler_strip_rows(s, dev), h = strip ? strip : rows;
        slot->device = i;
        slot->x0 = cols / 2 - half * slot->px;
        slot->y0 = (rows - h) / 2;
        slot->width = w;
        slot->height = h;
        slot->py = h;
        slot->axis_x = (double)(cols / 2) + 0.5 * (double)slot->px;
        slot->axis_y = (double)slot->y0 + 0.5 * (double)h;
    } else {
        if (w > cols || w > rows)
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "the %s plane needs %zux%zu pixels; device '%s' "
                                   "has %zux%zu", acdc_compiler_role_name(r), w, w, dev->name, cols,
                                   rows);
        acdc_compiler_tile(s, w, cols, rows, i, &slot->device, &slot->x0, &slot->y0);
        slot->width = slot->height = w;
        slot->py = slot->px;
        slot->axis_x = (double)(slot->x0 + half * slot->px) + 0.5 * (double)slot->px;
        slot->axis_y = (double)(slot->y0 + half * slot->px) + 0.5 * (double)slot->px;
    }
    if (slot->device + 1 > plan->devices[r])
        plan->devices[r] = slot->device + 1;
    return ACDC_UTIL_OK;
}

int acdc_compiler_plan_make(const acdc_compiler_system *s, acdc_compiler_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    size_t total = s->n_chains;
    for (size_t c = 0; c < s->n_chains; c++)
        total += 2 * s->chains[c].count;
    plan->slots = calloc(total, sizeof *plan->slots);
    if (!plan->slots)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the export plan");
    size_t count[3] = {0, 0, 0};
    int rc = ACDC_UTIL_OK;
    for (int r = ACDC_COMPILER_ROLE_INPUT; !rc && r <= ACDC_COMPILER_ROLE_IMAGE; r++) {
        for (size_t c = 0; !rc && c < s->n_chains; c++) {
            const acdc_compiler_chain *ch = &s->chains[c];
            const size_t nst = r == ACDC_COMPILER_ROLE_INPUT ? 1 : ch->count;
            for (size_t k = 0; !rc && k < nst; k++) {
                const acdc_compiler_mask *mask = r == ACDC_COMPILER_ROLE_INPUT ? NULL
                                            : r == ACDC_COMPILER_ROLE_FOURIER
                                                ? &ch->stages[k].fourier
                                                : ch->stages[k].image;
                if (r == ACDC_COMPILER_ROLE_IMAGE && !mask)
                    continue;
                acdc_compiler_slot *sl = &plan->slots[plan->nslots++];
                sl->role = (enum acdc_compiler_role)r;
                sl->chain = c;
                sl->stage = k;
                sl->mask = mask;
                sl->samples = r == ACDC_COMPILER_ROLE_FOURIER ? s->fm : s->m;
                sl->px = role_px(s, sl->role);
                rc = place(s, plan, sl, count[r]++);
            }
        }
    }
    if (rc)
        acdc_compiler_plan_free(plan);
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* Drive tables.                                                                        */

void acdc_compiler_lut_free(acdc_compiler_lut *lut)
{
    if (!lut)
        return;
    free(lut->value);
    free(lut->grey);
    lut->value = NULL;
    lut->grey = NULL;
}

static double level_value(const acdc_compiler_lut *lut, int32_t level)
{
    return lut->phase ? acdc_optics_phase_of_level(level, lut->bits)
                      : (double)level / (double)(lut->nlevels - 1);
}

int32_t acdc_compiler_lut_level(const acdc_compiler_lut *lut, uint16_t grey)
{
    if (grey >= lut->ngrey || isnan(lut->value[grey]))
        return -1;
    const double v = lut->value[grey];
    return lut->phase ? acdc_optics_phase_level(v, lut->bits)
                      : (int32_t)lround(fmin(1, fmax(0, v)) * (double)(lut->nlevels - 1));
}

/* Distance between two values of the table: around the circle for phases. */
static double lut_distance(const acdc_compiler_lut *lut, double a, double b)
{
    return lut->phase ? fabs(remainder(a - b, 2 * M_PI)) : fabs(a - b);
}

/* Reads a table file: "grey value" per line, '#' comments, blank lines. */
static int lut_read(acdc_compiler_lut *lut, const char *path)
{
    FILE *f;
    int rc = acdc_util_input_fopen(path, &f);
    if (rc) {
        acdc_util_error_prefix("lookup table");
        return rc;
    }
    char line[512];
    size_t lineno = 0, given = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            rc = acdc_util_error(ACDC_UTIL_EDATA, "%s:%zu: line too long", path, lineno);
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '\n' || *p == '\r')
            continue;
        char *end;
        errno = 0;
        long g = strtol(p, &end, 10);
        if (end == p || errno || g < 0 || (size_t)g >= lut->ngrey) {
            rc = acdc_util_error(ACDC_UTIL_EDATA,
                                 "%s:%zu: expected a grey level 0..%zu first", path,
                                 lineno, lut->ngrey - 1);
            break;
        }
        p = end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || !isfinite(v)) {
            rc = acdc_util_error(ACDC_UTIL_EDATA,
                                 "%s:%zu: expected a finite %s after the grey level",
                                 path, lineno, lut->phase ? "phase in rad" : "amplitude 0..1");
            break;
        }
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (*end) {
            rc = acdc_util_error(ACDC_UTIL_EDATA, "%s:%zu: unexpected '%s' after the value", path,
                                 lineno, end);
            break;
        }
        if (!lut->phase && (v < 0 || v > 1)) {
            rc = acdc_util_error(ACDC_UTIL_EDATA, "%s:%zu: amplitude %g is outside 0..1",
                                 path, lineno, v);
            break;
        }
        if (!isnan(lut->value[g])) {
            rc = acdc_util_error(ACDC_UTIL_EDATA, "%s:%zu: grey level %ld given twice",
                                 path, lineno, g);
            break;
        }
        lut->value[g] = v;
        given++;
    }
    if (!rc && ferror(f))
        rc = acdc_util_error(ACDC_UTIL_EIO, "cannot read lookup table '%s'", path);
    fclose(f);
    if (!rc && !given)
        rc = acdc_util_error(ACDC_UTIL_EDATA, "lookup table '%s' has no entries", path);
    return rc;
}

int acdc_compiler_lut_make(const acdc_optics_modulator *dev, int phase, acdc_compiler_lut *lut)
{
    memset(lut, 0, sizeof *lut);
    const int bits = phase ? dev->phase_bits : dev->amplitude_bits;
    if (bits <= 0)
        return acdc_util_error(ACDC_UTIL_EDATA,
                               "device '%s' has continuous %s levels: there are no "
                               "device codes to export", dev->name, phase ? "phase" : "amplitude");
    lut->phase = phase;
    lut->bits = bits;
    lut->nlevels = (size_t)1 << bits;
    lut->grey_bits = bits <= 8 ? 8 : 16;
    lut->ngrey = (size_t)1 << lut->grey_bits;
    lut->value = malloc(lut->ngrey * sizeof *lut->value);
    lut->grey = malloc(lut->nlevels * sizeof *lut->grey);
    if (!lut->value || !lut->grey) {
        acdc_compiler_lut_free(lut);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for a lookup table");
    }
    int rc = ACDC_UTIL_OK;
    if (dev->lut[0]) {
        for (size_t g = 0; g < lut->ngrey; g++)
            lut->value[g] = NAN;
        rc = lut_read(lut, dev->lut);
    } else {
        for (size_t g = 0; g < lut->ngrey; g++)
            lut->value[g] = phase ? 2 * M_PI * (double)g / (double)lut->ngrey
                                  : (double)g / (double)(lut->ngrey - 1);
    }
    /* each level shown by the nearest grey (the lowest of equals) */
    for (size_t m = 0; !rc && m < lut->nlevels; m++) {
        const double want = level_value(lut, (int32_t)m);
        double best = INFINITY;
        size_t bg = 0;
        for (size_t g = 0; g < lut->ngrey; g++) {
            if (isnan(lut->value[g]))
                continue;
            const double d = lut_distance(lut, lut->value[g], want);
            if (d < best) {
                best = d;
                bg = g;
            }
        }
        lut->grey[m] = (uint16_t)bg;
        if (acdc_compiler_lut_level(lut, (uint16_t)bg) != (int32_t)m)
            rc = acdc_util_error(ACDC_UTIL_EDATA,
                                 "lookup table %s%s%s: level %zu of device '%s' (%g%s) "
                                 "has no grey level of its own (the nearest, %zu, shows level %d)",
                                 dev->lut[0] ? "'" : "", dev->lut[0] ? dev->lut : "(linear)",
                                 dev->lut[0] ? "'" : "", m, dev->name, want, phase ? " rad" : "",
                                 bg, (int)acdc_compiler_lut_level(lut, (uint16_t)bg));
    }
    if (rc)
        acdc_compiler_lut_free(lut);
    return rc;
}

int acdc_compiler_lut_write(const acdc_compiler_lut *lut, const char *device, FILE *f)
{
    fprintf(f, "# drive table of '%s': grey level (%d-bit image), the %s it shows, the "
            "device level (%d bits) that is\n", device, lut->grey_bits,
            lut->phase ? "phase in rad" : "normalised amplitude drive", lut->bits);
    fprintf(f, "# grey %s level\n", lut->phase ? "phase_rad" : "amplitude");
    for (size_t g = 0; g < lut->ngrey; g++)
        if (!isnan(lut->value[g]))
            fprintf(f, "%zu %.17g %d\n", g, lut->value[g], (int)acdc_compiler_lut_level(lut, (uint16_t)g));
    return ferror(f) ? acdc_util_error(ACDC_UTIL_EIO, "cannot write a lookup table") : ACDC_UTIL_OK;
}

/* ---------------------------------------------------------------------------------- */
/* Images and levels.                                                                   */

int acdc_compiler_pixel_code(const acdc_compiler_system *s,
                             const acdc_optics_modulator *dev, size_t ix,
                             size_t iy)
{
    if (s->profile.ideal || dev->modulation != ACDC_OPTICS_MOD_PHASE)
        return 0;
    if (dev->dp_layout == ACDC_OPTICS_DP_ROWS)   /* 1D: down the strip; 2D: pairs along y */
        return (int)(iy & 1);
    if (s->rank != 2)
        return (int)(ix & 1);
    return dev->dp_layout == ACDC_OPTICS_DP_CHECKERBOARD ? (int)((ix + iy) & 1) : (int)(ix & 1);
}

/* The code pixel (x, y) of the slot's region shows (region coordinates), part as in
 * acdc_compiler_device_image(). */
static int32_t slot_code(const acdc_compiler_system *s, const acdc_compiler_slot *sl,
                         const acdc_optics_modulator *dev, size_t x, size_t y, int part)
{
    const size_t kx = x / sl->px, ix = x % sl->px;
    const size_t ky = s->rank == 2 ? y / sl->py : 0, iy = s->rank == 2 ? y % sl->py : y;
    const acdc_compiler_mask *mk = sl->mask;
    const int col = mk->ncodes == 1 ? 0
                    : dev->modulation == ACDC_OPTICS_MOD_COMPLEX ? part
                                                            : acdc_compiler_pixel_code(s, dev, ix, iy);
    return mk->codes[(ky * sl->samples + kx) * (size_t)mk->ncodes + (size_t)col];
}

int acdc_compiler_device_image(const acdc_compiler_system *s, const acdc_compiler_plan *plan,
                               enum acdc_compiler_role r, size_t device, int part,
                               const acdc_compiler_lut *lut, uint16_t *img)
{
    const acdc_optics_modulator *dev = acdc_compiler_role_device(&s->profile, r);
    const size_t cols = plan->cols[r], rows = plan->rows[r];
    memset(img, 0, cols * rows * sizeof *img);
    for (size_t i = 0; i < plan->nslots; i++) {
        const acdc_compiler_slot *sl = &plan->slots[i];
        if (sl->role != r || sl->device != device || !sl->mask)
            continue;
        if (!sl->mask->codes)
            return acdc_util_error(ACDC_UTIL_EDATA,
                                   "the %s mask of chain %zu stage %zu has no device "
                                   "codes (an ideal profile)",
                                   acdc_compiler_role_name(r), sl->chain,
                                   sl->stage);
        /* 1D: the line on the first row, or on the first two when a double-phase pair
         * sits down the strip (ACDC_OPTICS_DP_ROWS) */
        const size_t two = dev->modulation == ACDC_OPTICS_MOD_PHASE &&
                                   dev->dp_layout == ACDC_OPTICS_DP_ROWS && sl->height > 1
                               ? 2 : 1;
        const size_t hh = s->rank == 2 ? sl->height : two;
        for (size_t y = 0; y < hh; y++) {
            uint16_t *row = img + (sl->y0 + y) * cols + sl->x0;
            for (size_t x = 0; x < sl->width; x++) {
                const int32_t code = slot_code(s, sl, dev, x, y, part);
                if (code < 0 || (size_t)code >= lut->nlevels)
                    return acdc_util_error(ACDC_UTIL_EDATA,
                                           "code %d of the %s mask of chain %zu is "
                                           "outside the device's %zu levels", (int)code,
                                           acdc_compiler_role_name(r), sl->chain, lut->nlevels);
                row[x] = lut->grey[code];
            }
        }
        if (s->rank != 2) /* the line on every row (rows alternating: a pair down them) */
            for (size_t y = hh; y < sl->height; y++)
                memcpy(img + (sl->y0 + y) * cols + sl->x0, img + (sl->y0 + y % hh) * cols + sl->x0,
                       sl->width * sizeof *img);
    }
    return ACDC_UTIL_OK;
}

void acdc_compiler_mirror(uint16_t *img, size_t cols, size_t rows)
{
    for (size_t y = 0; y < rows; y++)
        for (size_t a = 0, b = cols - 1; a < b; a++, b--) {
            uint16_t t = img[y * cols + a];
            img[y * cols + a] = img[y * cols + b];
            img[y * cols + b] = t;
        }
}

int acdc_compiler_slot_levels(const acdc_compiler_system *s, const acdc_compiler_slot *slot,
                              int32_t *levels)
{
    if (!slot->mask || !slot->mask->codes)
        return acdc_util_error(ACDC_UTIL_EDATA, "the %s plane of chain %zu has no device codes",
                               acdc_compiler_role_name(slot->role), slot->chain);
    const acdc_optics_modulator *dev = acdc_compiler_role_device(&s->profile, slot->role);
    const size_t hh = s->rank == 2 ? slot->height : 1;
    for (size_t y = 0; y < hh; y++)
        for (size_t x = 0; x < slot->width; x++)
            levels[y * slot->width + x] = slot_code(s, slot, dev, x, y,
                                                    dev->modulation == ACDC_OPTICS_MOD_COMPLEX);
    return ACDC_UTIL_OK;
}

/* ---------------------------------------------------------------------------------- */
/* The camera.                                                                          */

void acdc_compiler_camera_roi(const acdc_compiler_system *s, size_t c, size_t *x0, size_t *y0,
                              size_t *w, size_t *h)
{
    const acdc_optics_camera *cam = &s->profile.camera;
    const size_t cols = cam->pixels, rows = cam->rows ? cam->rows : 1;
    if (s->rank != 2) {
        *x0 = acdc_optics_axis_index(cols) >= s->m / 2 ? acdc_optics_axis_index(cols) - s->m / 2 : 0;
        *y0 = acdc_optics_axis_index(rows);
        *w = s->m;
        *h = 1;
        return;
    }
    size_t camera;
    acdc_compiler_tile(s, s->m, cols, rows, c, &camera, x0, y0);
    *w = *h = s->m;
}

void acdc_compiler_camera_pixel(const acdc_compiler_system *s, size_t c, size_t j, size_t *x,
                                size_t *y)
{
    size_t x0, y0, w, h;
    acdc_compiler_camera_roi(s, c, &x0, &y0, &w, &h);
    const size_t smp = (size_t)s->chains[c].pixel[j];
    *x = x0 + (s->rank == 2 ? smp % s->m : smp);
    *y = y0 + (s->rank == 2 ? smp / s->m : 0);
}

/* ---------------------------------------------------------------------------------- */
/* The build sheet.                                                                     */

static const char *lens_word(const acdc_compiler_system *s)
{
    return s->rank == 2 ? "spherical lens" : "cylindrical lens";
}

static const char *modulation_word(const acdc_optics_modulator *d)
{
    return d->modulation == ACDC_OPTICS_MOD_COMPLEX ? "amplitude SLM imaged 1:1 onto a phase SLM"
           : d->modulation == ACDC_OPTICS_MOD_AMPLITUDE ? "amplitude" : "phase only, double-phase";
}

static const acdc_compiler_slot *find_slot(const acdc_compiler_plan *plan,
                                           enum acdc_compiler_role r,
                                           size_t c, size_t k)
{
    for (size_t i = 0; i < plan->nslots; i++)
        if (plan->slots[i].role == r && plan->slots[i].chain == c && plan->slots[i].stage == k)
            return &plan->slots[i];
    return NULL;
}

/* A device row: the part, the file, the region and what the device needs. */
static void device_row(const acdc_compiler_system *s, const acdc_compiler_plan *plan,
                       const char *const files[3], enum acdc_compiler_role r, size_t c, size_t k,
                       size_t *elem, const char *what, double z_mm, double dz_mm, FILE *f)
{
    const acdc_optics_modulator *d = acdc_compiler_role_device(&s->profile, r);
    const acdc_compiler_slot *sl = find_slot(plan, r, c, k);
    char file[128] = "-";
    if (sl && sl->mask && d->refractive_index > 0)
        snprintf(file, sizeof file, "doe-%s-c%zu-s%zu.h5/.png/.gds",
                 acdc_compiler_role_name(r), c, k);
    else if (sl && sl->mask && files && files[r])
        snprintf(file, sizeof file, files[r], sl->device);
    fprintf(f, "| E%zu | %s | %.3f | %.3f | %s (%s, %zux%zu px of %.2f um%s) | ", (*elem)++,
            what, z_mm, dz_mm, d->name, modulation_word(d), d->pixels, d->rows ? d->rows : 1,
            1e6 * d->pitch_m, d->reflective ? ", reflective" : "");
    if (sl)
        fprintf(f, "device %zu, region x %zu..%zu, y %zu..%zu, optical axis at pixel (%.1f, "
                "%.1f); %s%s", sl->device, sl->x0, sl->x0 + sl->width - 1, sl->y0,
                sl->y0 + sl->height - 1, sl->axis_x, sl->axis_y,
                r == ACDC_COMPILER_ROLE_INPUT ? "shows each input (the electronics' encoding)"
                                         : "image `",
                r == ACDC_COMPILER_ROLE_INPUT ? "" : file);
    if (sl && r != ACDC_COMPILER_ROLE_INPUT)
        fprintf(f, "`");
    if (d->reflective)
        fprintf(f, "; reflective: folded at this plane, the image loaded mirrored in x");
    if (d->frame_rate_hz == 0 && d->refractive_index > 1)
        fprintf(f, "; fabricated (n = %.4g): relief and layout in the DOE files", d->refractive_index);
    fprintf(f, " |\n");
    if (d->reflective)
        fprintf(f, "| - | fold | %.3f | 0 | (the device itself; a plane mirror where the layout "
                "turns the beam again) | the device is met at an angle of incidence as small as "
                "the mounts allow (phase SLMs are specified near normal incidence) in the "
                "horizontal (x-z) plane; every distance is measured along the folded axis |\n",
                z_mm);
}

/* The stop around a plane on a device whose surround is not dark: the simulator's device
 * surround is opaque (optics/device.h), so the light outside the region is blocked. */
static void stop_row(const acdc_compiler_system *s, const acdc_compiler_plan *plan,
                     enum acdc_compiler_role r, size_t c, size_t k, double z_mm, FILE *f)
{
    const acdc_optics_modulator *d = acdc_compiler_role_device(&s->profile, r);
    const acdc_compiler_slot *sl = find_slot(plan, r, c, k);
    if (!sl || s->profile.ideal)
        return;
    const char *where = r == ACDC_COMPILER_ROLE_FOURIER ? "Fourier-plane"
                        : r == ACDC_COMPILER_ROLE_IMAGE ? "image-plane" : "input";
    const double w = 1e3 * (double)sl->width * d->pitch_m;
    const double h = s->rank == 2 ? 1e3 * (double)sl->height * d->pitch_m : 0;
    if (s->rank == 2)
        fprintf(f, "| - | %s aperture | %.3f | 0 | rectangular stop | %.3f x %.3f mm "
                "around the region, on the plane: no light outside it (the device's unused "
                "pixels%s) |\n", where, z_mm, w, h,
                d->modulation == ACDC_OPTICS_MOD_AMPLITUDE ? " are dark too, to the contrast" : " pass light");
    else
        fprintf(f, "| - | %s aperture | %.3f | 0 | slit | %.3f mm wide around the "
                "region, on the plane: no light outside it (the device's unused pixels%s) |\n",
                where, z_mm, w,
                d->modulation == ACDC_OPTICS_MOD_AMPLITUDE ? " are dark too, to the contrast" : " pass light");
}

int acdc_compiler_build_sheet(const acdc_compiler_system *s, const acdc_compiler_plan *plan,
                              const char *const files[3], const char *name, const char *extra,
                              FILE *f)
{
    const acdc_compiler_profile *p = &s->profile;
    double aperture, tol;
    acdc_compiler_lens_need(s, &aperture, &tol);
    const double fl = 1e3 * s->focal_m, na = 0.5 * s->aperture_m / s->focal_m;
    fprintf(f, "# Build sheet: %s\n\n", name);
    fprintf(f, "A %s system (%s) for an ACDC cascade of %zu layers, n = %zu; profile '%s'.\n"
            "Laser %.2f nm, %.3g mW on each input modulator. Every distance is in mm along "
            "the unfolded optical axis of a chain, from its input modulator; every device "
            "region in pixels as the design sees the device from the light's side "
            "(compiler/EXPORT.md).\n\n", s->rank == 2 ? "2D" : "1D",
            s->rank == 2 ? "spherical lenses" : "cylindrical lenses", s->model->n_layers,
            s->n, p->name, 1e9 * s->wavelength_m, 1e3 * p->laser_power_w);
    fprintf(f, "Every lens: f = %.3f mm, NA %.4f, clear aperture >= %.3f mm, wavefront error "
            "<= %.3g waves rms (the Fourier-mask pixels' phase error); profile lens '%s'.\n\n",
            fl, na, 1e3 * aperture, tol, p->lens.name);
    fprintf(f, "## Devices\n\n| role | devices | part | pixels | pitch (um) | modulation | "
            "reflective | image files |\n|---|---|---|---|---|---|---|---|\n");
    for (int r = ACDC_COMPILER_ROLE_INPUT; r <= ACDC_COMPILER_ROLE_IMAGE; r++) {
        if (!plan->devices[r])
            continue;
        const acdc_optics_modulator *d = acdc_compiler_role_device(p, (enum acdc_compiler_role)r);
        char shown[128] = "-";
        if (r != ACDC_COMPILER_ROLE_INPUT && d->refractive_index > 0)
            snprintf(shown, sizeof shown, "doe-%s-cC-sK.h5/.png/.gds (one per plane)",
                     acdc_compiler_role_name((enum acdc_compiler_role)r));
        else if (r != ACDC_COMPILER_ROLE_INPUT && files && files[r]) {
            for (size_t i = 0, o = 0; files[r][i] && o + 2 < sizeof shown; i++) {
                const int at = !strncmp(files[r] + i, "%zu", 3);
                shown[o++] = at ? 'D' : files[r][i];
                shown[o] = '\0';
                i += at ? 2 : 0;
            }
        }
        fprintf(f, "| %s | %zu | %s | %zux%zu | %.2f | %s | %s | %s |\n",
                acdc_compiler_role_name((enum acdc_compiler_role)r), plan->devices[r], d->name,
                d->pixels, d->rows ? d->rows : 1, 1e6 * d->pitch_m, modulation_word(d),
                d->reflective ? "yes" : "no",
                r == ACDC_COMPILER_ROLE_INPUT ? "(the input of each inference)" : shown);
    }
    const size_t per_cam = acdc_compiler_planes_per_device(s, s->m, p->camera.pixels,
                                                           p->camera.rows);
    fprintf(f, "| camera pair | %zu | %s | %zux%zu | %.2f | balanced homodyne | - | "
            "camera.tsv |\n\n", 2 * ((s->n_chains + per_cam - 1) / per_cam), p->camera.name,
            p->camera.pixels,
            p->camera.rows ? p->camera.rows : 1, 1e6 * p->camera.pitch_m);
    size_t elem = 0;
    for (size_t c = 0; c < s->n_chains; c++) {
        const acdc_compiler_chain *ch = &s->chains[c];
        const double rho = ch->ref_amplitude / s->field_amplitude;
        fprintf(f, "## Chain %zu: layers %zu..%zu, %.3f mm\n\n", c, ch->first,
                ch->first + ch->count - 1, 1e3 * ch->length_m);
        fprintf(f, "| # | element | z (mm) | from the last (mm) | part | setting |\n"
                "|---|---|---|---|---|---|\n");
        fprintf(f, "| - | laser and beam splitter | - | - | %.2f nm, %.3g mW | collimated, flat "
                "over the input region; the reference arm split off before the input "
                "modulator at amplitude %.4g E0 (E0 the field of a full-scale input sample) |\n",
                1e9 * s->wavelength_m, 1e3 * p->laser_power_w, rho);
        double z = 0;
        stop_row(s, plan, ACDC_COMPILER_ROLE_INPUT, c, 0, 0, f);
        device_row(s, plan, NULL, ACDC_COMPILER_ROLE_INPUT, c, 0, &elem,
                   "input modulator", 0, 0, f);
        for (size_t k = 0; k < ch->count; k++) {
            const acdc_compiler_stage *st = &ch->stages[k];
            const double z0 = 1e3 * st->z_m;
            if (st->image) {
                stop_row(s, plan, ACDC_COMPILER_ROLE_IMAGE, c, k, z0, f);
                device_row(s, plan, files, ACDC_COMPILER_ROLE_IMAGE, c, k, &elem,
                           "image-plane mask",
                           z0, z0 - z, f);
                z = z0;
            }
            fprintf(f, "| E%zu | %s | %.3f | %.3f | %s | f = %.3f mm, NA %.4f, clear aperture "
                    ">= %.3f mm, wavefront error <= %.3g waves rms |\n", elem++, lens_word(s),
                    z0 + fl, z0 + fl - z, p->lens.name, fl, na, 1e3 * aperture, tol);
            stop_row(s, plan, ACDC_COMPILER_ROLE_FOURIER, c, k, z0 + 2 * fl, f);
            device_row(s, plan, files, ACDC_COMPILER_ROLE_FOURIER, c, k, &elem,
                       "Fourier-plane mask",
                       z0 + 2 * fl, fl, f);
            fprintf(f, "| E%zu | %s | %.3f | %.3f | %s | f = %.3f mm, NA %.4f, clear aperture "
                    ">= %.3f mm, wavefront error <= %.3g waves rms |\n", elem++, lens_word(s),
                    z0 + 3 * fl, fl, p->lens.name, fl, na, 1e3 * aperture, tol);
            z = z0 + 3 * fl;
        }
        const double L = 1e3 * ch->length_m;
        if (fabs(s->relay_magnification - 1) > 1e-9)
            fprintf(f, "| - | relay lens pair | %.3f | - | - | magnification %.5g: image-plane "
                    "sample pitch %.3f um onto camera pitch %.3f um; the image plane at z = "
                    "%.3f mm is the relay's object |\n", L, s->relay_magnification,
                    1e6 * s->pitch_m, 1e6 * p->camera.pitch_m, L);
        size_t x0, y0, w, h;
        acdc_compiler_camera_roi(s, c, &x0, &y0, &w, &h);
        fprintf(f, "| - | homodyne beam splitter (50:50) | %.3f | - | - | combines the image "
                "with the reference arm: amplitude %.4g E0 (%.4g W/m%s at the camera), phase "
                "arg g = %.6f rad (g = %.6g%+.6gi for ideal lenses: calibrate on the bench, "
                "compiler/FORMAT.md); path lengths of both arms matched within the laser's "
                "coherence length |\n", L, rho,
                ch->ref_amplitude * ch->ref_amplitude, s->rank == 2 ? "^2" : "",
                carg(ch->g), creal(ch->g), cimag(ch->g));
        fprintf(f, "| E%zu | balanced homodyne camera pair | %.3f | %.3f | %s x 2 | region of "
                "interest x %zu..%zu, y %zu..%zu (camera.tsv: component to pixel; the "
                "reflected port sees x mirrored); exposure %.4g us, %zu frames averaged; "
                "ports I+ and I-, y = s gain (I+ - I-) + bias, gain %.6g |\n\n", elem++, L,
                L - z, p->camera.name, x0, x0 + w - 1, y0, y0 + h - 1, 1e6 * ch->exposure_s,
                ch->frames, ch->gain);
        fprintf(f, "Electronics after chain %zu: add the folded biases, %s%s; then encode the "
                "next chain's input (u = enc_a v + enc_bias, scaled by s = max|u|).\n\n", c,
                ch->relu ? "ReLU" : "no ReLU", ch->perm ? ", permute (/chains perm)" : "");
    }
    if (extra)
        fputs(extra, f);
    if (s->warnings[0])
        fprintf(f, "## Design warnings\n\n```\n%s\n```\n", s->warnings);
    return ferror(f) ? acdc_util_error(ACDC_UTIL_EIO, "cannot write the build sheet")
                     : ACDC_UTIL_OK;
}
