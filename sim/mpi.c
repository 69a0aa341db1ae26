/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sim/mpi.c -- see mpi.h.
 *
 * The single-rank functions come first: they are the whole layer in a build without
 * MPI, and what an MPI build runs as one rank.  The MPI part below them is compiled with
 * -DACDC_MPI only.
 *
 * The protocol of the scheduler, on MPI_COMM_WORLD:
 *   TAG_TASK    rank 0 -> worker: two int64, {1, task} (run it) or {0, status} (stop;
 *               the run's status)
 *   TAG_RESULT  worker -> rank 0: bytes, an int64 header {task, status} followed by the
 *               task's result (status 0) or its error message (else)
 *   TAG_BCAST   rank 0 -> every rank: acdc_sim_mpi_bcast()'s bytes
 *   TAG_AGREE   every rank -> rank 0: its status (one int); rank 0 -> every rank: the
 *               first failure, {status, rank} (acdc_sim_mpi_agree())
 * A worker runs one task at a time and asks for nothing: rank 0 sends it the next task
 * as soon as its result is in.
 */
#include "sim/mpi.h"
#include "util/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int g_init, g_rank, g_size = 1, g_foreign;

int acdc_sim_mpi_rank(void)
{
    return g_rank;
}

int acdc_sim_mpi_size(void)
{
    return g_size;
}

int acdc_sim_mpi_foreign(void)
{
    return g_foreign;
}

/* The number of ranks a launcher says this process is one of (0: none says). */
static long launcher_size(void)
{
    static const char *const names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const char *v = getenv(names[i]);
        if (v && *v)
            return strtol(v, NULL, 10);
    }
    return 0;
}

/* Every task here, in order: one rank's scheduler. */
static int schedule_serial(const acdc_sim_mpi_work *w, const size_t *tasks, size_t n,
                           const volatile sig_atomic_t *stop)
{
    g_foreign = 0;
    for (size_t i = 0; i < n; i++) {
        if (stop && *stop)
            return acdc_util_error(ACDC_UTIL_EINTR, "interrupted");
        void *out = NULL;
        size_t bytes = 0;
        if (w->start)
            w->start(tasks[i], w->ctx);
        int rc = w->work(tasks[i], &out, &bytes, w->ctx, stop);
        if (!rc)
            rc = w->done(tasks[i], out, bytes, w->ctx);
        free(out);
        if (rc)
            return rc;
    }
    return ACDC_UTIL_OK;
}

#ifndef ACDC_MPI

int acdc_sim_mpi_init(void)
{
    const long n = launcher_size();
    g_init = 1;
    if (n > 1)
        return acdc_util_error(ACDC_UTIL_EUSAGE,
                               "this acdc is built without MPI but was started as one of "
                               "%ld ranks, which would each run the whole study; build it "
                               "with 'make MPI=1' (or run it without mpirun)", n);
    return ACDC_UTIL_OK;
}

const char *acdc_sim_mpi_library(void)
{
    return NULL;
}

int acdc_sim_mpi_agree(int rc)
{
    g_foreign = 0;
    return rc;
}

int acdc_sim_mpi_bcast(void *buf, size_t bytes)
{
    return ACDC_UTIL_OK;
}

int acdc_sim_mpi_schedule(const acdc_sim_mpi_work *w, const size_t *tasks, size_t n,
                          const volatile sig_atomic_t *stop)
{
    return schedule_serial(w, tasks, n, stop);
}

#else /* ACDC_MPI */

#include <mpi.h>
#include <omp.h>
#include <pthread.h>

enum { TAG_TASK = 1, TAG_RESULT = 2, TAG_BCAST = 3, TAG_AGREE = 4 };
enum { MSG_CAP = 1024 };

/* After a signal, how long rank 0 waits for the tasks running elsewhere (ms): a rank
 * signalled too answers within a batch; one that died never does, and mpirun ends the
 * job soon after (SIGKILL 1 s after SIGTERM, Open MPI's odls_base_sigkill_timeout), so
 * rank 0 must be done with its files by then. */
enum { STOP_GRACE_MS = 300 };

static int g_mpi;   /* 1 once MPI_Init_thread succeeded */

/* 1 if a launcher started this process (mpirun, mpiexec, srun with PMI or PMIx). */
static int launched(void)
{
    return launcher_size() > 0 || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

static void finalize(void)
{
    int done = 0;
    MPI_Finalized(&done);
    if (!done)
        MPI_Finalize();
}

int acdc_sim_mpi_init(void)
{
    int provided;
    if (g_init)
        return ACDC_UTIL_OK;
    g_init = 1;
    if (!launched())
        return ACDC_UTIL_OK;
    /* The MPI library's own threads (progress, PMIx) inherit the signal mask they are
     * started with: with SIGINT and SIGTERM blocked there, those signals always reach
     * one of ours, where util/signal.h handles them and util/output.c may hold them off
     * for a moment. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    const int ok = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) == MPI_SUCCESS;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!ok)
        return acdc_util_error(ACDC_UTIL_EIO, "MPI_Init_thread failed");
    g_mpi = 1;
    atexit(finalize);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    return ACDC_UTIL_OK;
}

const char *acdc_sim_mpi_library(void)
{
    static char name[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    if (!*name) {
        MPI_Get_library_version(name, &len);
        name[strcspn(name, ",\n")] = '\0';   /* "Open MPI v4.1.4, package: ..." */
    }
    return name;
}

/* A millisecond's sleep: what a rank waiting for a message does between probes. */
static void nap(void)
{
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
}

/* Waits, polling, for a message with the tag from source; *st describes it. */
static int wait_for(int source, int tag, MPI_Status *st)
{
    for (;;) {
        int flag = 0;
        if (MPI_Iprobe(source, tag, MPI_COMM_WORLD, &flag, st) != MPI_SUCCESS)
            return acdc_util_error(ACDC_UTIL_EIO, "MPI_Iprobe failed on rank %d", g_rank);
        if (flag)
            return ACDC_UTIL_OK;
        nap();
    }
}

/* Receives n int from source with the tag, waiting by polling. */
static int recv_ints(int *v, int n, int source, int tag)
{
    MPI_Status st;
    int rc = wait_for(source, tag, &st);
    if (!rc && MPI_Recv(v, n, MPI_INT, source, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE) !=
                   MPI_SUCCESS)
        rc = acdc_util_error(ACDC_UTIL_EIO, "MPI_Recv on rank %d failed", g_rank);
    return rc;
}

/* Every rank's status to rank 0, and the first failure back to each (by polling, not a
 * collective that spins: rank 0 may have a long computation behind it, e.g. a
 * tolerance study's baseline). */
int acdc_sim_mpi_agree(int rc)
{
    int first[2] = {ACDC_UTIL_OK, 0}, e;   /* status, rank */
    g_foreign = 0;
    if (!g_mpi || g_size == 1)
        return rc;
    if (g_rank == 0) {
        if (rc) {
            first[0] = rc;
            first[1] = 0;
        }
        for (int r = 1; r < g_size; r++) {
            int theirs;
            if ((e = recv_ints(&theirs, 1, r, TAG_AGREE)))
                return e;
            if (theirs && !first[0]) {
                first[0] = theirs;
                first[1] = r;
            }
        }
        for (int r = 1; r < g_size; r++)
            if (MPI_Send(first, 2, MPI_INT, r, TAG_AGREE, MPI_COMM_WORLD) != MPI_SUCCESS)
                return acdc_util_error(ACDC_UTIL_EIO, "MPI_Send to rank %d failed", r);
    } else {
        if (MPI_Send(&rc, 1, MPI_INT, 0, TAG_AGREE, MPI_COMM_WORLD) != MPI_SUCCESS)
            return acdc_util_error(ACDC_UTIL_EIO, "MPI_Send from rank %d failed", g_rank);
        if ((e = recv_ints(first, 2, 0, TAG_AGREE)))
            return e;
    }
    if (rc || !first[0])
        return rc;
    g_foreign = 1;
    return acdc_util_error(first[0], "rank %d failed (see its message)", first[1]);
}

int acdc_sim_mpi_bcast(void *buf, size_t bytes)
{
    if (!g_mpi || g_size == 1)
        return ACDC_UTIL_OK;
    if (g_rank == 0) {
        for (int r = 1; r < g_size; r++)
            if (MPI_Send(buf, (int)bytes, MPI_BYTE, r, TAG_BCAST, MPI_COMM_WORLD) !=
                MPI_SUCCESS)
                return acdc_util_error(ACDC_UTIL_EIO, "MPI_Send to rank %d failed", r);
        return ACDC_UTIL_OK;
    }
    MPI_Status st;
    int rc = wait_for(0, TAG_BCAST, &st);
    if (!rc && MPI_Recv(buf, (int)bytes, MPI_BYTE, 0, TAG_BCAST, MPI_COMM_WORLD,
                        MPI_STATUS_IGNORE) != MPI_SUCCESS)
        rc = acdc_util_error(ACDC_UTIL_EIO, "MPI_Recv on rank %d failed", g_rank);
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* rank 0's own worker: a thread fed one task at a time by the main thread              */

struct local {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const acdc_sim_mpi_work *w;
    const volatile sig_atomic_t *stop;
    int threads;          /* the caller's OpenMP threads */
    int has_task, has_result, quit;
    size_t task;
    int rc;               /* the task's result: status, buffer or message */
    void *out;
    size_t bytes;
    char msg[MSG_CAP];
};

static void *local_main(void *arg)
{
    struct local *l = arg;
    omp_set_num_threads(l->threads);   /* a new thread starts with the default */
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->has_task && !l->quit)
            pthread_cond_wait(&l->cv, &l->mu);
        if (!l->has_task)
            break;
        const size_t task = l->task;
        l->has_task = 0;
        pthread_mutex_unlock(&l->mu);
        void *out = NULL;
        size_t bytes = 0;
        const int rc = l->w->work(task, &out, &bytes, l->w->ctx, l->stop);
        pthread_mutex_lock(&l->mu);
        l->rc = rc;
        l->out = out;
        l->bytes = bytes;
        if (rc)
            snprintf(l->msg, sizeof l->msg, "%s", acdc_util_errmsg());
        l->has_result = 1;
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static void local_post(struct local *l, size_t task)
{
    pthread_mutex_lock(&l->mu);
    l->task = task;
    l->has_task = 1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

/* ---------------------------------------------------------------------------------- */
/* rank 0: the master                                                                   */

struct master {
    const acdc_sim_mpi_work *w;
    int status, origin;   /* the first failure and the rank it happened on */
    int stopping;         /* hand out nothing more */
    int done_failed;      /* `done` failed: deliver nothing more */
    char msg[MSG_CAP];
};

/* One finished task from rank r: delivered, or its failure recorded. */
static void handle(struct master *m, int r, size_t task, int rc, const void *res, size_t bytes)
{
    if (rc) {
        if (!m->status || (m->status == ACDC_UTIL_EINTR && rc != ACDC_UTIL_EINTR)) {
            m->status = rc;
            m->origin = r;
            const int len = (int)(bytes < MSG_CAP - 1 ? bytes : MSG_CAP - 1);
            snprintf(m->msg, sizeof m->msg, "%.*s", len, (const char *)res);
        }
        m->stopping = 1;
        return;
    }
    if (m->done_failed)
        return;
    if ((rc = m->w->done(task, res, bytes, m->w->ctx))) {
        m->done_failed = 1;
        m->stopping = 1;
        if (!m->status || m->status == ACDC_UTIL_EINTR) {
            m->status = rc;
            m->origin = 0;
            snprintf(m->msg, sizeof m->msg, "%s", acdc_util_errmsg());
        }
    }
}

/* Receives one result from a worker, if one is waiting: 1 if one was, -1 on failure. */
static int receive(struct master *m, long *busy, size_t *running)
{
    int flag = 0, count = 0;
    MPI_Status st;
    if (MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &st) != MPI_SUCCESS)
        return -1;
    if (!flag)
        return 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    char *buf = malloc(count > 0 ? (size_t)count : 1);
    if (!buf || count < (int)(2 * sizeof(int64_t)) ||
        MPI_Recv(buf, count, MPI_BYTE, st.MPI_SOURCE, TAG_RESULT, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE) != MPI_SUCCESS) {
        free(buf);
        return -1;
    }
    int64_t head[2];
    memcpy(head, buf, sizeof head);
    busy[st.MPI_SOURCE] = -1;
    (*running)--;
    handle(m, st.MPI_SOURCE, (size_t)head[0], (int)head[1], buf + sizeof head,
           (size_t)count - sizeof head);
    free(buf);
    return 1;
}

static int master(const acdc_sim_mpi_work *w, const size_t *tasks, size_t n,
                  const volatile sig_atomic_t *stop)
{
    struct master m = {.w = w};
    struct local l = {.w = w, .stop = stop, .threads = omp_get_max_threads()};
    long *busy = malloc((size_t)g_size * sizeof *busy);
    size_t next = 0, running = 0;
    int grace = STOP_GRACE_MS;   /* naps left once a signal came */
    if (!busy)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    for (int r = 0; r < g_size; r++)
        busy[r] = -1;
    pthread_mutex_init(&l.mu, NULL);
    pthread_cond_init(&l.cv, NULL);
    const int threaded = pthread_create(&l.thread, NULL, local_main, &l) == 0;
    busy[0] = threaded ? -1 : -2;   /* -2: no local worker */
    for (;;) {
        if (!m.stopping && stop && *stop) {
            m.stopping = 1;
            if (!m.status) {
                m.status = ACDC_UTIL_EINTR;
                snprintf(m.msg, sizeof m.msg, "interrupted");
            }
        }
        for (int r = 0; r < g_size && !m.stopping && next < n; r++) {
            if (busy[r] != -1)
                continue;
            const size_t task = tasks[next++];
            if (w->start)
                w->start(task, w->ctx);
            if (r == 0) {
                local_post(&l, task);
            } else {
                int64_t msg[2] = {1, (int64_t)task};
                if (MPI_Send(msg, 2, MPI_INT64_T, r, TAG_TASK, MPI_COMM_WORLD) !=
                    MPI_SUCCESS) {
                    m.stopping = 1;
                    m.status = ACDC_UTIL_EIO;
                    snprintf(m.msg, sizeof m.msg, "MPI_Send to rank %d failed", r);
                    break;
                }
            }
            busy[r] = (long)task;
            running++;
        }
        if (!running && (m.stopping || next == n))
            break;
        if (stop && *stop && grace-- <= 0)
            break;   /* the results still out are lost: they were interrupted anyway */
        int got = receive(&m, busy, &running);
        if (got < 0) {
            /* a broken MPI: nothing more can be received, stop here */
            m.status = ACDC_UTIL_EIO;
            snprintf(m.msg, sizeof m.msg, "MPI_Recv on rank 0 failed");
            break;
        }
        pthread_mutex_lock(&l.mu);
        if (l.has_result) {
            l.has_result = 0;
            busy[0] = -1;
            running--;
            pthread_mutex_unlock(&l.mu);
            handle(&m, 0, (size_t)l.task, l.rc, l.rc ? l.msg : l.out,
                   l.rc ? strlen(l.msg) : l.bytes);
            free(l.out);
            l.out = NULL;
            got = 1;
        } else {
            pthread_mutex_unlock(&l.mu);
        }
        if (!got)
            nap();
    }
    for (int r = 1; r < g_size; r++) {
        int64_t msg[2] = {0, m.status};
        MPI_Send(msg, 2, MPI_INT64_T, r, TAG_TASK, MPI_COMM_WORLD);
    }
    if (threaded) {
        pthread_mutex_lock(&l.mu);
        l.quit = 1;
        pthread_cond_signal(&l.cv);
        pthread_mutex_unlock(&l.mu);
        pthread_join(l.thread, NULL);
        free(l.out);
    }
    pthread_cond_destroy(&l.cv);
    pthread_mutex_destroy(&l.mu);
    free(busy);
    g_foreign = 0;
    if (!m.status)
        return ACDC_UTIL_OK;
    if (m.origin)
        return acdc_util_error(m.status, "rank %d: %s", m.origin, m.msg);
    return acdc_util_error(m.status, "%s", m.msg);
}

/* ---------------------------------------------------------------------------------- */
/* ranks 1 ..: workers                                                                  */

static int worker(const acdc_sim_mpi_work *w, const volatile sig_atomic_t *stop)
{
    int rc;
    int64_t msg[2];
    MPI_Status st;
    for (;;) {
        if ((rc = wait_for(0, TAG_TASK, &st)))
            return rc;
        if (MPI_Recv(msg, 2, MPI_INT64_T, 0, TAG_TASK, MPI_COMM_WORLD, MPI_STATUS_IGNORE) !=
            MPI_SUCCESS)
            return acdc_util_error(ACDC_UTIL_EIO, "MPI_Recv on rank %d failed", g_rank);
        if (!msg[0])
            break;
        void *out = NULL;
        size_t bytes = 0;
        rc = w->work((size_t)msg[1], &out, &bytes, w->ctx, stop);
        const char *text = rc ? acdc_util_errmsg() : NULL;
        const size_t len = rc ? strlen(text) : bytes;
        int64_t head[2] = {msg[1], rc};
        char *buf = malloc(sizeof head + len + 1);
        if (!buf) {
            free(out);
            return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory on rank %d", g_rank);
        }
        memcpy(buf, head, sizeof head);
        if (len)
            memcpy(buf + sizeof head, rc ? (const void *)text : out, len);
        free(out);
        rc = MPI_Send(buf, (int)(sizeof head + len), MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
        free(buf);
        if (rc != MPI_SUCCESS)
            return acdc_util_error(ACDC_UTIL_EIO, "MPI_Send from rank %d failed", g_rank);
    }
    /* rank 0 says how the run ended, and reports a failure itself */
    if (!msg[1])
        return ACDC_UTIL_OK;
    g_foreign = 1;
    return acdc_util_error((int)msg[1], "%s (rank 0 reports it)",
                           msg[1] == ACDC_UTIL_EINTR ? "interrupted" : "stopped by a failure");
}

int acdc_sim_mpi_schedule(const acdc_sim_mpi_work *w, const size_t *tasks, size_t n,
                          const volatile sig_atomic_t *stop)
{
    if (!g_mpi || g_size == 1)
        return schedule_serial(w, tasks, n, stop);
    return g_rank == 0 ? master(w, tasks, n, stop) : worker(w, stop);
}

#endif /* ACDC_MPI */
