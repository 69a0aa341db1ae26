/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/mpi.h -- the work of a study shared out over MPI ranks (issue 18).
 *
 * A small work-sharing layer for the resumable studies (sim/sweep.h, sim/tolerance.h):
 * the ranks of an MPI job, a master-worker scheduler over task numbers, and a broadcast
 * from rank 0.  Built with -DACDC_MPI (`make MPI=1`, the compiler wrapper mpicc) it
 * speaks MPI; without it the same functions are a single rank's: every task runs here,
 * in order.  An MPI build started without a launcher (no mpirun, no srun) is a single
 * rank too and never initialises MPI.
 *
 * The scheduler.  Rank 0 holds the list of tasks and the output; it hands the next task
 * to whichever rank is idle (dynamic scheduling: a rank that finishes takes the next
 * one), and calls `done` with each task's result as it arrives, in the order the tasks
 * finish -- that is where a study writes its file, so only rank 0 writes.  Rank 0 also
 * computes: a thread of its own runs tasks like any other rank while the main thread
 * answers the others (it polls with MPI_Iprobe and sleeps 1 ms when nothing arrived, so
 * waiting costs no core).  A task's result is a byte buffer the task made (doubles for
 * a sweep's trials, an item for a tolerance search); the numbers cannot depend on the
 * rank that made them, as long as `work` depends only on the task.
 *
 * Threads: `work` runs on rank 0 in a second thread, with the caller's OpenMP thread
 * count, concurrently with `done` and `start` in the main thread: the two must share no
 * writable state.  Only the main thread calls MPI (MPI_THREAD_FUNNELED).
 *
 * Failures: a task that fails (its status and message travel to rank 0) stops the
 * handing out; the tasks already running are waited for, their results delivered; every
 * rank then returns the first failure's status.  On a rank where the failure was not
 * its own, acdc_sim_mpi_foreign() says so (the command line prints a message on the rank
 * where it happened only).
 */
#ifndef ACDC_SIM_MPI_H
#define ACDC_SIM_MPI_H

#include <signal.h>
#include <stddef.h>

/* Joins the MPI job if this process was started by a launcher (mpirun, srun: the
 * environment has OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK); a second call does
 * nothing.  MPI is finalised at exit.  Errors: ACDC_UTIL_EUSAGE in a build without MPI
 * started as one of several ranks ("built without MPI: ... make MPI=1"), which would
 * otherwise run identical copies racing for the output; ACDC_UTIL_EIO if MPI_Init
 * fails. */
int acdc_sim_mpi_init(void);

/* This process's rank, 0 .. size - 1, and the number of ranks (0 and 1 before
 * acdc_sim_mpi_init() or without MPI). */
int acdc_sim_mpi_rank(void);
int acdc_sim_mpi_size(void);

/* The MPI library this program was built with ("Open MPI v4.1.4"), or NULL for a
 * build without MPI. */
const char *acdc_sim_mpi_library(void);

/* Collective: every rank passes its own status; every rank gets the lowest failing
 * rank's status (ACDC_UTIL_OK when all succeeded), waiting by polling.  A rank that
 * failed keeps its own status and message; the others get that status with the message
 * "rank K failed (see its message)" and acdc_sim_mpi_foreign() = 1. */
int acdc_sim_mpi_agree(int rc);

/* 1 if the last failure returned by acdc_sim_mpi_agree() or acdc_sim_mpi_schedule()
 * happened on another rank. */
int acdc_sim_mpi_foreign(void);

/* Collective: rank 0's `bytes` bytes at buf copied to every rank's buf (received by
 * polling, so a rank waiting for a long computation on rank 0 spends no core).
 * Errors: ACDC_UTIL_EIO if MPI fails. */
int acdc_sim_mpi_bcast(void *buf, size_t bytes);

/* What the scheduler calls. */
typedef struct acdc_sim_mpi_work {
    /* Runs task `task` on any rank: *out becomes a malloc'ed result of *bytes bytes
     * (the scheduler frees it).  Returns an ACDC_UTIL_ status with its message. */
    int (*work)(size_t task, void **out, size_t *bytes, void *ctx,
                const volatile sig_atomic_t *stop);
    /* Rank 0, main thread: task is handed out (may be NULL). */
    void (*start)(size_t task, void *ctx);
    /* Rank 0, main thread: task's result, as the tasks finish.  A failure stops the
     * handing out as a task's would. */
    int (*done)(size_t task, const void *result, size_t bytes, void *ctx);
    void *ctx;
} acdc_sim_mpi_work;

/* Collective: runs the tasks tasks[0..n) (significant on rank 0 only; the others pass
 * NULL, 0) over every rank, handing them out in the order given.  Returns ACDC_UTIL_OK
 * when every task was done; ACDC_UTIL_EINTR (message "interrupted") when *stop (may be
 * NULL) became non-zero on rank 0 or a task was interrupted -- the tasks finished
 * before were all delivered to `done`; else the first failure of a task or of `done`
 * (see the top), or ACDC_UTIL_EIO for MPI's own. */
int acdc_sim_mpi_schedule(const acdc_sim_mpi_work *w, const size_t *tasks, size_t n,
                          const volatile sig_atomic_t *stop);

#endif
