/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/output.c -- see output.h.
 *
 * Two registries live in static storage so that the signal handler can walk them with
 * nothing but unlink(): the live temporaries and the lock files held.  A slot's path is
 * written before its `used` flag is raised and the flag is lowered before the slot is
 * reused (a signal fence orders them), so the handler never sees half a name. */
#include "util/output.h"
#include "util/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A claim admits up to MAX_FILES outputs over a process's life, and each may hold a lock:
 * as many lock slots, so that no admitted output is refused its lock (with 16 a process
 * claiming more than 16 in all failed half-way, its locks taken so far left behind when
 * it then _exit()ed). */
enum { TMP_SLOTS = 32, MAX_FILES = 64, LOCK_SLOTS = MAX_FILES };

struct slot {
    volatile sig_atomic_t used;
    int fd;                   /* a lock's descriptor */
    const char *dest;         /* a temporary's destination (its owner's string) */
    char path[PATH_MAX];
};
static struct slot tmps[TMP_SLOTS], locks[LOCK_SLOTS];

/* What acdc_util_output_claim() was told: the inputs that exist (by device and inode), the
 * outputs (by canonical name, see canon()). */
struct input {
    dev_t dev;
    ino_t ino;
    char *path;
};
static struct input inputs[MAX_FILES];
static size_t n_inputs;
static char *outputs[MAX_FILES];
static size_t n_outputs;
static int strict;

static const char TMP_TAG[] = ".acdc-tmp.", LOCK_TAG[] = ".acdc-lock";

/* ---- the registries ---------------------------------------------------------------- */

static int slot_take(struct slot *s, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i].used) {
            snprintf(s[i].path, sizeof s[i].path, "%s", path);
            atomic_signal_fence(memory_order_seq_cst);
            s[i].used = 1;
            return (int)i;
        }
    return -1;
}

static void slot_drop(struct slot *s, int i)
{
    if (i >= 0) {
        s[i].used = 0;
        atomic_signal_fence(memory_order_seq_cst);
    }
}

const char *acdc_util_output_name(const char *path)
{
    for (size_t i = 0; i < TMP_SLOTS; i++)
        if (tmps[i].used && tmps[i].dest && !strcmp(tmps[i].path, path))
            return tmps[i].dest;
    return path;
}

void acdc_util_output_cleanup(void)
{
    for (size_t i = 0; i < TMP_SLOTS; i++)
        if (tmps[i].used)
            unlink(tmps[i].path);
    /* the lock file goes before its lock: a process that opened it meanwhile finds the
     * name gone or another file after locking, and starts over (lock_file()) */
    for (size_t i = 0; i < LOCK_SLOTS; i++)
        if (locks[i].used)
            unlink(locks[i].path);
}

static void at_exit(void)
{
    acdc_util_output_cleanup();
    for (size_t i = 0; i < LOCK_SLOTS; i++)
        if (locks[i].used) {
            close(locks[i].fd);
            slot_drop(locks, (int)i);
        }
}

static void at_exit_once(void)
{
    static int done;
    if (!done)
        done = atexit(at_exit) == 0;
}

/* ---- names -------------------------------------------------------------------------- */

/* The folder and the last component of path (trailing slashes ignored) into dir and
 * base, each PATH_MAX bytes.  Errors: ACDC_UTIL_EUSAGE for an empty name, ACDC_UTIL_EIO for one
 * longer than the system takes (ENAMETOOLONG, as the system would say). */
static int split(const char *path, char *dir, char *base)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    if (n == 0)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "empty output file name");
    if (n >= PATH_MAX)
        return acdc_util_error(ACDC_UTIL_EIO, "cannot create '%s': %s", path,
                               strerror(ENAMETOOLONG));
    size_t k = n;
    while (k > 0 && path[k - 1] != '/')
        k--;
    if (k == 0)
        snprintf(dir, PATH_MAX, ".");
    else if (k == 1)
        snprintf(dir, PATH_MAX, "/");
    else
        snprintf(dir, PATH_MAX, "%.*s", (int)(k - 1), path);
    snprintf(base, PATH_MAX, "%.*s", (int)(n - k), path + k);
    return ACDC_UTIL_OK;
}

/* The name a path is compared by: realpath() if it exists, else its folder's realpath()
 * and its last component; malloc'ed, NULL when out of memory. */
static char *canon(const char *path)
{
    char *r = realpath(path, NULL);
    if (r)
        return r;
    char dir[PATH_MAX], base[PATH_MAX], full[2 * PATH_MAX + 2];
    if (split(path, dir, base))
        return strdup(path);
    char *d = realpath(dir, NULL);
    snprintf(full, sizeof full, "%s/%s", d ? d : dir, base);
    free(d);
    return strdup(full);
}

/* "DIR/.BASE" + tag (+ pid) into buf. */
static int hidden_name(char *buf, size_t size, const char *dir, const char *base,
                       const char *tag, long pid)
{
    int n = pid ? snprintf(buf, size, "%s/.%s%s%ld", dir, base, tag, pid)
                : snprintf(buf, size, "%s/.%s%s", dir, base, tag);
    if (n < 0 || (size_t)n >= size)
        return acdc_util_error(ACDC_UTIL_EIO, "cannot create '%s/%s': %s", dir, base,
                               strerror(ENAMETOOLONG));
    return ACDC_UTIL_OK;
}

/* Removes the temporaries `.BASE.acdc-tmp.PID` in dir whose process is gone. */
static void remove_stale(const char *dir, const char *base)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char prefix[PATH_MAX + 16];
    snprintf(prefix, sizeof prefix, ".%s%s", base, TMP_TAG);
    const size_t lp = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *tail = e->d_name + lp;
        if (strncmp(e->d_name, prefix, lp) || !*tail || strspn(tail, "0123456789") !=
            strlen(tail))
            continue;
        long pid = strtol(tail, NULL, 10);
        if (pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) == -1 && errno == ESRCH)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

/* ---- claims ------------------------------------------------------------------------- */

static int same(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static const struct input *input_of(const struct stat *st)
{
    for (size_t i = 0; i < n_inputs; i++)
        if (inputs[i].dev == st->st_dev && inputs[i].ino == st->st_ino)
            return &inputs[i];
    return NULL;
}

static int lock_file_masked(const char *path, const char *name);

/* Locks `.BASE.acdc-lock` beside the output path (its canonical name c). */
static int lock_file(const char *path, const char *c)
{
    char dir[PATH_MAX], base[PATH_MAX], name[PATH_MAX];
    int rc = split(c, dir, base);
    if (rc || (rc = hidden_name(name, sizeof name, dir, base, LOCK_TAG, 0)))
        return rc;
    /* From the lock file's creation until it is in the registry the signal handler
     * cleans, SIGINT and SIGTERM wait: one arriving in between would leave the file
     * behind (a command interrupted as it starts).  Blocked in this thread: at claim
     * time the program has no other thread of its own (OpenMP's start at the first
     * parallel region; MPI's are started with these signals blocked, sim/mpi.c); a
     * pending signal is handled as the mask is restored, with the file registered. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    rc = lock_file_masked(path, name);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* lock_file()'s work, with SIGINT and SIGTERM blocked. */
static int lock_file_masked(const char *path, const char *name)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        int fd = open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return acdc_util_error(ACDC_UTIL_EIO, "cannot create '%s': %s", path, strerror(errno));
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        if (fcntl(fd, F_SETLK, &fl) != 0) {
            const int e = errno;
            struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
            long pid = fcntl(fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK
                           ? (long)who.l_pid : 0;
            close(fd);
            if (e != EACCES && e != EAGAIN)
                return acdc_util_error(ACDC_UTIL_EIO, "cannot lock '%s' ('%s'): %s", path, name,
                                       strerror(e));
            if (pid > 0)
                return acdc_util_error(ACDC_UTIL_EIO, "'%s' is being written by another acdc (PID "
                                       "%ld): wait for it to finish, or choose another output",
                                       path, pid);
            return acdc_util_error(ACDC_UTIL_EIO, "'%s' is being written by another process (lock "
                                   "'%s'): wait for it to finish, or choose another output",
                                   path, name);
        }
        /* the holder may have removed the name between our open() and our lock */
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(name, &b) == 0 && same(&a, &b)) {
            char pid[32];
            int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)len, 0) < 0)
                (void)0;   /* the PID inside is for people; the lock is what counts */
            int k = slot_take(locks, LOCK_SLOTS, name);
            if (k < 0) {
                close(fd);
                return acdc_util_error(ACDC_UTIL_EIO, "cannot lock '%s': too many outputs", path);
            }
            locks[k].fd = fd;
            at_exit_once();
            return ACDC_UTIL_OK;
        }
        close(fd);
    }
    return acdc_util_error(ACDC_UTIL_EIO, "cannot lock '%s': '%s' keeps changing", path, name);
}

int acdc_util_output_claim(const char *const *in, size_t n_in, const char *const *out,
                           size_t n_out)
{
    struct stat so[MAX_FILES];
    int exists[MAX_FILES];
    char *c[MAX_FILES] = {0};
    int rc = ACDC_UTIL_OK;
    if (n_out > MAX_FILES || n_inputs + n_in > MAX_FILES || n_outputs + n_out > MAX_FILES)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "too many files for one command");
    for (size_t i = 0; i < n_in; i++) {
        struct stat st;
        if (!in[i] || stat(in[i], &st) != 0 || input_of(&st))
            continue;
        if (!(inputs[n_inputs].path = strdup(in[i])))
            return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        inputs[n_inputs].dev = st.st_dev;
        inputs[n_inputs++].ino = st.st_ino;
    }
    for (size_t o = 0; o < n_out && !rc; o++) {
        if (!out[o])
            continue;
        exists[o] = stat(out[o], &so[o]) == 0;
        const struct input *hit = exists[o] ? input_of(&so[o]) : NULL;
        if (hit)
            rc = acdc_util_error(ACDC_UTIL_EUSAGE,
                                 "the output '%s' is the input '%s'%s: writing it "
                                 "would destroy it; choose another output", out[o], hit->path,
                                 strcmp(out[o], hit->path) ? " (the same file)" : "");
        else if (!(c[o] = canon(out[o])))
            rc = acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        for (size_t p = 0; p < o && !rc; p++)
            if (out[p] && ((exists[o] && exists[p] && same(&so[o], &so[p])) ||
                           !strcmp(c[o], c[p])))
                rc = acdc_util_error(ACDC_UTIL_EUSAGE,
                                     "the outputs '%s' and '%s' are the same file: "
                                     "choose two", out[p], out[o]);
    }
    for (size_t o = 0; o < n_out && !rc; o++) {
        if (!out[o])
            continue;
        /* a device or a FIFO is written in place, never replaced: nothing to lock */
        if (!exists[o] || S_ISREG(so[o].st_mode) || S_ISDIR(so[o].st_mode))
            rc = lock_file(out[o], c[o]);
        if (!rc) {
            outputs[n_outputs++] = c[o];
            c[o] = NULL;
        }
    }
    for (size_t o = 0; o < n_out; o++)
        free(c[o]);
    return rc;
}

void acdc_util_output_strict(int on)
{
    strict = on;
}

/* 1 if canonical name c is a declared output or directly inside one. */
static int declared(const char *c)
{
    const char *slash = strrchr(c, '/');
    const size_t dl = slash ? (size_t)(slash - c) : 0;
    for (size_t i = 0; i < n_outputs; i++)
        if (!strcmp(c, outputs[i]) ||
            (slash && strlen(outputs[i]) == dl && !strncmp(c, outputs[i], dl)))
            return 1;
    return 0;
}

/* ---- temporaries -------------------------------------------------------------------- */

int acdc_util_output_begin(const char *path, acdc_util_output_tmp *t)
{
    memset(t, 0, sizeof *t);
    t->slot = -1;
    if (!*path)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "empty output file name");
    struct stat st, lst;
    const int exists = stat(path, &st) == 0;
    const struct input *hit = exists ? input_of(&st) : NULL;
    if (hit)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "the output '%s' is the input '%s'%s: writing it "
                               "would destroy it; choose another output", path, hit->path,
                               strcmp(path, hit->path) ? " (the same file)" : "");
    if (exists && S_ISDIR(st.st_mode))
        return acdc_util_error(ACDC_UTIL_EIO, "cannot write '%s': it is a folder", path);
    /* a symbolic link to a regular file: replace the file, keep the link (a link to a
     * device or a FIFO, /dev/stdout, is opened through the link) */
    if (exists && S_ISREG(st.st_mode) && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
        t->dest = realpath(path, NULL);
    if (!t->dest)
        t->dest = strdup(path);
    if (!t->dest)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    if (strict) {
        char *c = canon(path);
        const int ok = c && declared(c);
        free(c);
        if (!ok) {
            acdc_util_output_cancel(t);
            return acdc_util_error(ACDC_UTIL_EIO, "internal error: '%s' is written but was not "
                                   "declared as an output (acdc_util_output_claim)", path);
        }
    }
    t->copy = exists && !S_ISREG(st.st_mode);
    char dir[PATH_MAX], base[PATH_MAX], tmp[PATH_MAX];
    int rc = split(t->dest, dir, base);
    if (!rc && t->copy) {
        const char *td = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s", td && *td ? td : "/tmp");
    }
    if (!rc)
        rc = hidden_name(tmp, sizeof tmp, dir, base, TMP_TAG, (long)getpid());
    if (rc) {
        acdc_util_output_cancel(t);
        return rc;
    }
    remove_stale(dir, base);
    if (!(t->tmp = strdup(tmp))) {
        acdc_util_output_cancel(t);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    }
    if ((t->slot = slot_take(tmps, TMP_SLOTS, tmp)) < 0) {
        acdc_util_output_cancel(t);
        return acdc_util_error(ACDC_UTIL_EIO,
                               "cannot write '%s': too many files open at once", path);
    }
    tmps[t->slot].dest = t->dest;
    at_exit_once();
    return ACDC_UTIL_OK;
}

/* Copies the file src into dest (a device, a FIFO), reporting dest's write errors. */
static int copy_into(const char *src, const char *dest)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return acdc_util_error(ACDC_UTIL_EIO, "cannot read '%s': %s", src, strerror(errno));
    int o = open(dest, O_WRONLY | O_CLOEXEC);
    if (o < 0) {
        const int e = errno;
        close(in);
        return acdc_util_error(ACDC_UTIL_EIO, "cannot write '%s': %s", dest, strerror(e));
    }
    char buf[65536];
    int rc = ACDC_UTIL_OK;
    ssize_t got;
    while (!rc && (got = read(in, buf, sizeof buf)) != 0) {
        if (got < 0) {
            if (errno != EINTR)
                rc = acdc_util_error(ACDC_UTIL_EIO, "cannot read '%s': %s", src, strerror(errno));
            continue;
        }
        for (ssize_t at = 0; at < got && !rc;) {
            ssize_t w = write(o, buf + at, (size_t)(got - at));
            if (w > 0)
                at += w;
            else if (w < 0 && errno != EINTR)
                rc = acdc_util_error(ACDC_UTIL_EIO, "cannot write '%s': %s", dest, strerror(errno));
        }
    }
    if (close(o) != 0 && !rc && errno != EINTR)
        rc = acdc_util_error(ACDC_UTIL_EIO, "cannot write '%s': %s", dest, strerror(errno));
    close(in);
    return rc;
}

/* The temporary no longer live: out of the registry the signal handler cleans, its
 * names freed (the file itself is the caller's business). */
static void forget(acdc_util_output_tmp *t)
{
    if (t->tmp)
        slot_drop(tmps, t->slot);
    t->slot = -1;
    free(t->tmp);
    free(t->dest);
    t->tmp = t->dest = NULL;
}

int acdc_util_output_finish(acdc_util_output_tmp *t)
{
    int rc = ACDC_UTIL_OK;
    if (t->copy) {
        rc = copy_into(t->tmp, t->dest);
    } else {
        int fd = open(t->tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL))
            rc = acdc_util_error(ACDC_UTIL_EIO, "cannot write '%s': %s", t->dest, strerror(errno));
        if (fd >= 0)
            close(fd);
        if (!rc && rename(t->tmp, t->dest) != 0)
            rc = acdc_util_error(ACDC_UTIL_EIO, "cannot rename '%s' to '%s': %s", t->tmp, t->dest,
                                 strerror(errno));
    }
    if (rc || t->copy)
        unlink(t->tmp);
    forget(t);
    return rc;
}

void acdc_util_output_cancel(acdc_util_output_tmp *t)
{
    if (t->tmp)
        unlink(t->tmp);
    forget(t);
}
