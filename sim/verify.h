/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/verify.h -- the verdict at compile time: what the hardware will do, and why.
 *
 * `acdc compile --verify DATA` asks, before anyone builds anything: with the devices'
 * pixels resolved, the profile's levels, phase errors, camera noise and lens model, what
 * error and accuracy does the compiled system give, and which effect costs the most?
 * acdc_sim_verify() answers with short simulations of the first rows of DATA (sim/README.md,
 * 'Verdict'):
 *
 *   full      everything at once, through the profile's lens: the expected figures;
 *   base      resolved pixels (S = ACDC_SIM_VERIFY_OVERSAMPLE) with continuous levels, no
 *             phase error, a noise-free camera, ideal Fourier lenses: the design and
 *             the devices' geometry;
 *   effects   base plus one effect: quantisation (the profile's levels), phase error
 *             (the profile's), camera noise (shot, dark, read, ADC, full well at the
 *             designed detection), the lens (the profile's lens and propagation,
 *             acdc_sim_optics_of(); skipped where that runs as the ideal transform);
 * and, on phase-only devices, the base split into the pixels (the same geometry shown
 * by complex modulators whose pixels are a whole sample wide: no double-phase pairs)
 * and the double-phase pairs' leakage.  An effect is measured by the chain error: the
 * relative RMS error of each optical chain fed the numeric input of its own, averaged
 * over the chains (end to end, errors compound through the ReLUs and differ by chance
 * more than the effects do).  Each effect's share is sqrt(chain^2 - base^2) (errors that
 * add in quadrature); the largest is named.
 *
 * Every run recompiles the system's model for the changed profile (the simulator does
 * not compile: `compile` is handed in, as for acdc_sim_system_override()) and simulates the
 * same rows with the same seed.  The honesty rule holds: each run is light through the
 * optics; the numeric model is only the reference.
 */
#ifndef ACDC_SIM_VERIFY_H
#define ACDC_SIM_VERIFY_H

#include <stddef.h>

#include "compiler/system.h"
#include "models/io.h"
#include "sim/simulate.h"

/* Sub-samples per sample of every verdict run: the pixels resolved (sim/README.md:
 * the residual of a pixel-aware design falls as 1/S^2; S = 4 is within 0.02 of S = 8). */
#define ACDC_SIM_VERIFY_OVERSAMPLE 4

/* Called before each run with what it is ("camera noise", ...), i of n runs. */
typedef void (*acdc_sim_verify_note)(const char *what, size_t i, size_t n, void *ctx);

/* The verdict on system s for the first `rows` rows of d (all if rows is 0 or more than
 * d has), on `threads` threads; data_name names d in v->conditions.  Fills *v.
 * Errors: those of acdc_sim_system_override() and acdc_sim_execute(); ACDC_UTIL_EUSAGE (NULL, compile
 * NULL); ACDC_UTIL_EINTR if *stop became non-zero (may be NULL). */
int acdc_sim_verify(const acdc_compiler_system *s, acdc_sim_compile_fn compile, const acdc_data *d,
                    const char *data_name, size_t rows, int threads, acdc_sim_verify_note note,
                    void *ctx, const volatile sig_atomic_t *stop, acdc_compiler_verdict *v);

/* The effect with the largest share (index into v->effect), or -1 if v has none. */
int acdc_sim_verdict_largest(const acdc_compiler_verdict *v);

/* Prints v as a table (the expected figures, then the budget) to f. */
void acdc_sim_verdict_print(const acdc_compiler_verdict *v, FILE *f);

#endif
