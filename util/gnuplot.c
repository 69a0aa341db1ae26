/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/gnuplot.c -- see gnuplot.h. */
#include "util/gnuplot.h"
#include "util/error.h"
#include "util/file.h"
#include "util/signal.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct util_gnuplot {
    FILE *f;              /* gnuplot's standard input */
    FILE *err;            /* its standard error, kept in an unnamed temporary file */
    pid_t pid;
    char *figure;         /* NULL without a figure */
    util_file out;        /* the figure's temporary (util/file.h), gnuplot writes it */
    int has_out;
    util_signal_saved sig;
};

int util_gnuplot_find(void)
{
    const char *path = getenv("PATH");
    int found = 0;
    char *copy = path && *path ? strdup(path) : NULL, *save = NULL;
    for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir && !found;
         dir = strtok_r(NULL, ":", &save)) {
        char full[4096];
        struct stat st;
        snprintf(full, sizeof full, "%s/gnuplot", *dir ? dir : ".");
        found = stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0;
    }
    free(copy);
    return found ? UTIL_OK
                 : util_error(UTIL_EDATA, "gnuplot not found on PATH: install it (Debian: "
                              "apt-get install gnuplot-nox)");
}

int util_gnuplot_unsafe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 32 || *s == 127)
            return 1;
    return 0;
}

int util_gnuplot_quote(const char *s, char *buf, size_t cap)
{
    size_t k = 0;
    if (cap < 3)
        return util_error(UTIL_EUSAGE, "'%s' is too long for a gnuplot string", s);
    buf[k++] = '\'';
    for (const char *p = s; *p; p++) {
        int two = *p == '\'';
        if (k + 2 + (size_t)two >= cap)
            return util_error(UTIL_EUSAGE, "'%s' is too long for a gnuplot string", s);
        if (two)
            buf[k++] = '\'';
        buf[k++] = (unsigned char)*p < 32 || *p == 127 ? ' ' : *p;
    }
    buf[k++] = '\'';
    buf[k] = '\0';
    return UTIL_OK;
}

void util_gnuplot_str(FILE *f, const char *s)
{
    /* util_gnuplot_quote() into a buffer that always suffices: at most two characters
     * per character and the quotes */
    size_t cap = 2 * strlen(s) + 3;
    char *buf = malloc(cap);
    if (buf && util_gnuplot_quote(s, buf, cap) == UTIL_OK)
        fputs(buf, f);
    else
        fputs("''", f);   /* out of memory: an empty string keeps the script valid */
    free(buf);
}

static void release(util_gnuplot *g)
{
    if (g->err)
        fclose(g->err);
    util_signal_restore(&g->sig);
    if (g->has_out)
        util_file_abort(&g->out);
    free(g->figure);
    free(g);
}

int util_gnuplot_open(util_gnuplot **out, const char *figure)
{
    int rc, fd[2] = {-1, -1}, efd;
    *out = NULL;
    if ((rc = util_gnuplot_find()))
        return rc;
    if (figure && util_gnuplot_unsafe(figure))
        return util_error(UTIL_EUSAGE, "the figure's name contains control characters");
    util_gnuplot *g = calloc(1, sizeof *g);
    if (!g)
        return util_error(UTIL_ENOMEM, "out of memory");
    if (figure) {
        if (!(g->figure = strdup(figure))) {
            release(g);
            return util_error(UTIL_ENOMEM, "out of memory");
        }
        if ((rc = util_file_create_for(figure, &g->out))) {
            release(g);
            return rc;
        }
        g->has_out = 1;
    }
    g->err = tmpfile();
    if (!g->err || pipe(fd) != 0) {
        rc = util_error(UTIL_EIO, "cannot run gnuplot: %s", strerror(errno));
        release(g);
        return rc;
    }
    efd = fileno(g->err);
    /* Only the dup2'ed copies (not close-on-exec) reach gnuplot; the write end stays
     * ours alone, so gnuplot sees the end of its input when we close it. */
    fcntl(fd[0], F_SETFD, FD_CLOEXEC);
    fcntl(fd[1], F_SETFD, FD_CLOEXEC);
    fcntl(efd, F_SETFD, FD_CLOEXEC);
    posix_spawn_file_actions_t fa;
    char *argv[] = {"gnuplot", NULL};
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[0], 0);
    posix_spawn_file_actions_adddup2(&fa, efd, 2);
    fflush(stdout);
    fflush(stderr);
    int e = posix_spawnp(&g->pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[0]);
    if (e != 0) {
        close(fd[1]);
        release(g);
        return util_error(UTIL_EIO, "cannot run gnuplot: %s", strerror(e));
    }
    if ((rc = util_signal_ignore_pipe(&g->sig)) || !(g->f = fdopen(fd[1], "w"))) {
        if (!rc)
            rc = util_error(UTIL_EIO, "cannot write to gnuplot: %s", strerror(errno));
        close(fd[1]);
        waitpid(g->pid, NULL, 0);
        release(g);
        return rc;
    }
    *out = g;
    return UTIL_OK;
}

FILE *util_gnuplot_file(const util_gnuplot *g)
{
    return g->f;
}

void util_gnuplot_set_output(util_gnuplot *g)
{
    fputs("set output ", g->f);
    util_gnuplot_str(g->f, g->has_out ? g->out.t.tmp : "");
    fputc('\n', g->f);
}

/* Closes the pipe and waits; returns the wait status, or -1. */
static int finish(util_gnuplot *g)
{
    int st = -1;
    fclose(g->f);   /* gnuplot sees the end of its script */
    g->f = NULL;
    while (waitpid(g->pid, &st, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return st;
}

/* The last line of gnuplot's standard error with text in it (its error message). */
static void last_line(FILE *err, char *buf, size_t cap)
{
    char line[512];
    buf[0] = '\0';
    rewind(err);
    while (fgets(line, sizeof line, err)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = '\0';
        const char *s = line + strspn(line, " \t");
        if (*s && strspn(s, "^ \t") != strlen(s))
            snprintf(buf, cap, "%s", s);
    }
}

/* Passes gnuplot's standard error on (its warnings). */
static void pass_on(FILE *err)
{
    char buf[4096];
    size_t k;
    rewind(err);
    while ((k = fread(buf, 1, sizeof buf, err)) > 0)
        fwrite(buf, 1, k, stderr);
}

int util_gnuplot_close(util_gnuplot *g)
{
    if (!g)
        return UTIL_OK;
    int rc = UTIL_OK;
    fputs("\nunset output\nquit\n", g->f);
    int sent = fflush(g->f) == 0 && !ferror(g->f);
    int st = finish(g);
    const char *what = g->figure ? g->figure : "a figure";
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char msg[512];
        last_line(g->err, msg, sizeof msg);
        rc = util_error(UTIL_EDATA, "gnuplot failed (status %d) drawing '%s'%s%s",
                        st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
                        what, *msg ? ": " : "", msg);
    } else if (!sent) {
        rc = util_error(UTIL_EIO, "cannot send the script to gnuplot drawing '%s'", what);
    } else {
        pass_on(g->err);
    }
    struct stat sb;
    if (!rc && g->has_out && (stat(g->out.t.tmp, &sb) != 0 || sb.st_size == 0))
        rc = util_error(UTIL_EDATA, "gnuplot wrote nothing to '%s'", g->out.t.tmp);
    if (!rc && g->has_out) {
        g->has_out = 0;
        rc = util_file_commit(&g->out);
    }
    release(g);   /* removes the temporary after a failure */
    return rc;
}

void util_gnuplot_abort(util_gnuplot *g)
{
    if (!g)
        return;
    fputs("\nquit\n", g->f);
    finish(g);
    release(g);
}
