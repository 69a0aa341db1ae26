/* sim/run.h -- running light through a compiled system.
 *
 * The honesty rule: the optical output is produced by the optics library alone —
 * fields on the input modulator, Fourier-transform lenses, masks, homodyne detection —
 * plus the electronics the compiler specified (encode, gain, bias, ReLU, permutation).
 * Nothing here calls the numeric ACDC path or a DCT; the model copy in the system is
 * only ever used as the reference (sim_reference()).
 */
#ifndef SIM_RUN_H
#define SIM_RUN_H

#include <stddef.h>

#include "compiler/system.h"

typedef struct sim sim;

/* Prepares a simulation of system s (lens plans, masks sampled, buffers) for batches of
 * up to `batch` inputs with `threads` threads.  The system must outlive the simulation.
 * *out receives a new simulation; caller frees with sim_free().
 * Errors: UTIL_EUSAGE, UTIL_ENOMEM. */
int sim_alloc(sim **out, const compiler_system *s, size_t batch, int threads);
void sim_free(sim *m);

/* y (batch × n_out) = the optical system applied to x (batch × n_in), with ideal
 * Fourier-transform lenses and the realised (quantised) masks, noise-free detection. */
int sim_run(sim *m, size_t batch, const double *x, double *y);

/* y = the numeric reference: the model copy in the system, through models/. */
int sim_reference(const compiler_system *s, size_t batch, const double *x, double *y);

#endif
