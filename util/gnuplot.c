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

struct acdc_util_gnuplot {
    FILE *f;              /* the script, into buf */
    char *buf;            /* open_memstream's buffer */
    size_t len;
    long out_at, out_len; /* where the set output line is in the script; -1 if nowhere */
    char *figure;         /* NULL without a figure */
    acdc_util_file tmp;        /* the figure's temporary, created at open */
    char *keep_script, *keep_data;
};

int acdc_util_gnuplot_find(void)
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
    return found ? ACDC_UTIL_OK
                 : acdc_util_error(ACDC_UTIL_EDATA,
                                   "gnuplot not found on PATH: install it (Debian: "
                                   "apt-get install gnuplot-nox)");
}

int acdc_util_gnuplot_unsafe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 32 || *s == 127)
            return 1;
    return 0;
}

int acdc_util_gnuplot_quote(const char *s, char *buf, size_t cap)
{
    size_t k = 0;
    if (cap < 3)
        return acdc_util_error(ACDC_UTIL_EUSAGE, "'%s' is too long for a gnuplot string", s);
    buf[k++] = '\'';
    for (const char *p = s; *p; p++) {
        int two = *p == '\'';
        if (k + 2 + (size_t)two >= cap)
            return acdc_util_error(ACDC_UTIL_EUSAGE, "'%s' is too long for a gnuplot string", s);
        if (two)
            buf[k++] = '\'';
        buf[k++] = (unsigned char)*p < 32 || *p == 127 ? ' ' : *p;
    }
    buf[k++] = '\'';
    buf[k] = '\0';
    return ACDC_UTIL_OK;
}

void acdc_util_gnuplot_str(FILE *f, const char *s)
{
    /* acdc_util_gnuplot_quote() into a buffer that always suffices: at most two characters
     * per character and the quotes */
    size_t cap = 2 * strlen(s) + 3;
    char *buf = malloc(cap);
    if (buf && acdc_util_gnuplot_quote(s, buf, cap) == ACDC_UTIL_OK)
        fputs(buf, f);
    else
        fputs("''", f);   /* out of memory: an empty string keeps the script valid */
    free(buf);
}

int acdc_util_gnuplot_escape(const char *s, char *buf, size_t cap)
{
    size_t k = 0;
    const char *p = s;
    for (; *p; p++) {
        const int esc = strchr("^_@&~{}\\", *p) != NULL;
        if (k + 1 + (size_t)esc >= cap)
            break;
        if (esc)
            buf[k++] = '\\';
        buf[k++] = *p;
    }
    if (*p) {
        /* end on a whole UTF-8 character: drop continuation bytes and their lead */
        while (k > 0 && ((unsigned char)buf[k - 1] & 0xC0) == 0x80)
            k--;
        if (k > 0 && (unsigned char)buf[k - 1] >= 0xC0)
            k--;
    }
    if (cap)
        buf[k] = '\0';
    return *p ? acdc_util_error(ACDC_UTIL_EUSAGE, "'%s' is too long for a gnuplot label", s)
              : ACDC_UTIL_OK;
}

int acdc_util_gnuplot_format(const char *figure)
{
    static const char *const ext[] = {".png", ".svg", ".pdf"};
    size_t n = strlen(figure);
    for (int i = 0; i < 3; i++)
        if (n > 4 && !strcmp(figure + n - 4, ext[i]))
            return i;
    return -1;
}

static void release(acdc_util_gnuplot *g)
{
    if (g->f)
        fclose(g->f);
    free(g->buf);
    if (g->figure)
        acdc_util_file_abort(&g->tmp);
    free(g->figure);
    free(g->keep_script);
    free(g->keep_data);
    free(g);
}

int acdc_util_gnuplot_open(acdc_util_gnuplot **out, const char *figure)
{
    int rc;
    *out = NULL;
    if ((rc = acdc_util_gnuplot_find()))
        return rc;
    if (figure && acdc_util_gnuplot_unsafe(figure))
        return acdc_util_error(ACDC_UTIL_EUSAGE, "the figure's name contains control characters");
    acdc_util_gnuplot *g = calloc(1, sizeof *g);
    if (!g)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    g->out_at = g->out_len = -1;
    if (figure) {
        if (!(g->figure = strdup(figure))) {
            release(g);
            return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
        }
        /* the project makes the temporary: a folder it cannot write ends here, in one
         * line naming the figure, before gnuplot could fall back to standard output */
        if ((rc = acdc_util_file_create_for(figure, &g->tmp))) {
            free(g->figure);
            g->figure = NULL;
            release(g);
            return rc;
        }
    }
    if (!(g->f = open_memstream(&g->buf, &g->len))) {
        release(g);
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for a gnuplot script");
    }
    *out = g;
    return ACDC_UTIL_OK;
}

FILE *acdc_util_gnuplot_file(const acdc_util_gnuplot *g)
{
    return g->f;
}

void acdc_util_gnuplot_set_output(acdc_util_gnuplot *g)
{
    fflush(g->f);
    g->out_at = ftell(g->f);
    fputs("set output ", g->f);
    acdc_util_gnuplot_str(g->f, g->figure ? g->tmp.t.tmp : "");
    fputc('\n', g->f);
    fflush(g->f);
    g->out_len = ftell(g->f) - g->out_at;
}

void acdc_util_gnuplot_terminal(acdc_util_gnuplot *g, int width, int height)
{
    FILE *f = g->f;
    fputs("set encoding utf8\n", f);
    switch (g->figure ? acdc_util_gnuplot_format(g->figure) : ACDC_UTIL_GNUPLOT_PNG) {
    case ACDC_UTIL_GNUPLOT_SVG:
        fprintf(f, "set terminal svg size %d,%d dynamic enhanced font 'Sans,12' background "
                   "rgb 'white'\n", width, height);
        break;
    case ACDC_UTIL_GNUPLOT_PDF:
        /* pdfcairo's points: 8.5 pt at 96 per inch is the PNG's 11 at 72; its lines
         * half as wide as the PNG's without the factor */
        fprintf(f, "set terminal pdfcairo size %.4gin,%.4gin enhanced font 'Sans,8.5' "
                   "fontscale 1 linewidth 1.5 background rgb 'white'\n", width / 96.0,
                height / 96.0);
        break;
    default:
        /* pngcairo (antialiased) where the gnuplot build has it, libgd png otherwise */
        fprintf(f, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
                   "  set terminal pngcairo size %d,%d enhanced font 'Sans,11' background "
                   "rgb 'white'\n"
                   "} else {\n  set terminal png size %d,%d enhanced background "
                   "rgb 'white'\n}\n", width, height, width, height);
    }
    acdc_util_gnuplot_set_output(g);
}

int acdc_util_gnuplot_keep(acdc_util_gnuplot *g, const char *script, const char *data)
{
    free(g->keep_script);
    free(g->keep_data);
    g->keep_script = script ? strdup(script) : NULL;
    g->keep_data = data ? strdup(data) : NULL;
    if ((script && !g->keep_script) || (data && !g->keep_data))
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory");
    return ACDC_UTIL_OK;
}

/* Starts gnuplot reading the pipe *in, its standard output and error into err. */
static int spawn(FILE *err, pid_t *pid, int *in)
{
    int fd[2];
    if (pipe(fd) != 0)
        return acdc_util_error(ACDC_UTIL_EIO, "cannot run gnuplot: %s", strerror(errno));
    const int efd = fileno(err);
    /* Only the dup2'ed copies (not close-on-exec) reach gnuplot; the write end stays
     * ours alone, so gnuplot sees the end of its input when we close it. */
    fcntl(fd[0], F_SETFD, FD_CLOEXEC);
    fcntl(fd[1], F_SETFD, FD_CLOEXEC);
    fcntl(efd, F_SETFD, FD_CLOEXEC);
    posix_spawn_file_actions_t fa;
    char *argv[] = {"gnuplot", NULL};
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[0], 0);
    posix_spawn_file_actions_adddup2(&fa, efd, 1);
    posix_spawn_file_actions_adddup2(&fa, efd, 2);
    fflush(stdout);
    fflush(stderr);
    int e = posix_spawnp(pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[0]);
    if (e != 0) {
        close(fd[1]);
        return acdc_util_error(ACDC_UTIL_EIO, "cannot run gnuplot: %s", strerror(e));
    }
    *in = fd[1];
    return ACDC_UTIL_OK;
}

/* Writes all of buf to fd; 0, or -1 (gnuplot stopped reading). */
static int send_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, buf, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        buf += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Runs gnuplot on the script; returns its wait status (-1 if it could not be waited
 * for) in *st and whether the whole script went down in *sent. */
static int run(acdc_util_gnuplot *g, FILE *err, int *st, int *sent)
{
    acdc_util_signal_saved sig = {0};
    pid_t pid;
    int in = -1, rc;
    if ((rc = acdc_util_signal_ignore_pipe(&sig)))
        return rc;
    if ((rc = spawn(err, &pid, &in))) {
        acdc_util_signal_restore(&sig);
        return rc;
    }
    *sent = send_all(in, g->buf, g->len) == 0 &&
            send_all(in, "\nunset output\nquit\n", 19) == 0;
    close(in);   /* gnuplot sees the end of its script */
    *st = -1;
    while (waitpid(pid, st, 0) < 0 && errno == EINTR)
        ;
    acdc_util_signal_restore(&sig);
    return ACDC_UTIL_OK;
}

/* gnuplot's output condensed: its count of lines with text, and the last such line
 * (its error message, or its last warning). */
static size_t condense(FILE *err, char *buf, size_t cap)
{
    char line[512];
    size_t lines = 0;
    buf[0] = '\0';
    rewind(err);
    while (fgets(line, sizeof line, err)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = '\0';
        const char *s = line + strspn(line, " \t");
        if (*s && strspn(s, "^ \t") != strlen(s)) {   /* not gnuplot's caret line */
            snprintf(buf, cap, "%s", s);
            lines++;
        }
    }
    return lines;
}

/* The script as kept: the set output line names the figure, not its temporary. */
static int write_script(const acdc_util_gnuplot *g, const char *path)
{
    acdc_util_file f;
    int rc = acdc_util_file_create(path, &f);
    if (rc)
        return rc;
    if (g->out_at >= 0 && g->figure) {
        fwrite(g->buf, 1, (size_t)g->out_at, f.f);
        fputs("set output ", f.f);
        acdc_util_gnuplot_str(f.f, g->figure);
        fputc('\n', f.f);
        fwrite(g->buf + g->out_at + g->out_len, 1,
               g->len - (size_t)(g->out_at + g->out_len), f.f);
    } else {
        fwrite(g->buf, 1, g->len, f.f);
    }
    fputs("\nunset output\n", f.f);
    return acdc_util_file_commit(&f);
}

/* The script's inline data blocks ("$name << EOD" to "EOD") as one data file. */
static int write_data(const acdc_util_gnuplot *g, const char *path)
{
    acdc_util_file f;
    int rc = acdc_util_file_create(path, &f);
    if (rc)
        return rc;
    fprintf(f.f, "# the data of %s%s%s, drawn by gnuplot; one block per data set, "
                 "blocks apart by two blank lines (gnuplot: index 0, 1, ...)\n",
            g->figure ? "'" : "", g->figure ? g->figure : "a figure", g->figure ? "'" : "");
    const char *p = g->buf, *end = g->buf + g->len;
    int in = 0, blocks = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (in && n == 3 && !memcmp(p, "EOD", 3)) {
            in = 0;
        } else if (in) {
            fwrite(p, 1, n, f.f);
            fputc('\n', f.f);
        } else if (*p == '$' && n > 7 && !memcmp(p + n - 7, " << EOD", 7)) {
            fprintf(f.f, "%s# %.*s\n", blocks++ ? "\n\n" : "", (int)(n - 7), p);
            in = 1;
        }
        p += n + 1;
    }
    return acdc_util_file_commit(&f);
}

int acdc_util_gnuplot_close(acdc_util_gnuplot *g)
{
    if (!g)
        return ACDC_UTIL_OK;
    int rc, st = -1, sent = 0;
    const char *what = g->figure ? g->figure : "a figure";
    FILE *err = NULL;
    if (fflush(g->f) != 0 || ferror(g->f))
        rc = acdc_util_error(ACDC_UTIL_ENOMEM,
                             "out of memory for the gnuplot script of '%s'", what);
    else if (!(rc = acdc_util_gnuplot_find()) && !(err = tmpfile()))
        rc = acdc_util_error(ACDC_UTIL_EIO, "cannot run gnuplot: %s", strerror(errno));
    if (!rc)
        rc = run(g, err, &st, &sent);
    char msg[512] = "";
    size_t lines = err ? condense(err, msg, sizeof msg) : 0;
    if (!rc && (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0))
        rc = acdc_util_error(ACDC_UTIL_EDATA, "gnuplot failed (status %d) drawing '%s'%s%s",
                             st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
                             what, *msg ? ": " : "", msg);
    else if (!rc && !sent)
        rc = acdc_util_error(ACDC_UTIL_EIO, "cannot send the script to gnuplot drawing '%s'", what);
    else if (!rc && lines)
        fprintf(stderr, "acdc: warning: gnuplot drawing '%s' said %zu line%s, the last: "
                "%s\n", what, lines, lines == 1 ? "" : "s", msg);
    if (err)
        fclose(err);
    struct stat sb;
    if (!rc && g->figure && (stat(g->tmp.t.tmp, &sb) != 0 || sb.st_size == 0))
        rc = acdc_util_error(ACDC_UTIL_EDATA, "gnuplot wrote nothing drawing '%s'", what);
    if (!rc && g->keep_data)
        rc = write_data(g, g->keep_data);
    if (!rc && g->keep_script)
        rc = write_script(g, g->keep_script);
    if (!rc && g->figure) {
        rc = acdc_util_file_commit(&g->tmp);   /* frees the names: nothing left to abort */
        free(g->figure);
        g->figure = NULL;
    }
    release(g);
    return rc;
}

void acdc_util_gnuplot_abort(acdc_util_gnuplot *g)
{
    if (g)
        release(g);
}
