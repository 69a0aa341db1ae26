/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/progress.c -- see progress.h. */
#include "util/progress.h"
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct acdc_util_progress {
    char label[128], unit[16], status[160];
    uint64_t total, done;
    double t0, last_draw;
    int enabled, drawn;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int acdc_util_progress_alloc(acdc_util_progress **out, const char *label, uint64_t total,
                             const char *unit)
{
    acdc_util_progress *p = *out = calloc(1, sizeof *p);
    if (!p)
        return acdc_util_error(ACDC_UTIL_ENOMEM, "out of memory for the progress bar '%s'",
                               label ? label : "");
    snprintf(p->unit, sizeof p->unit, "%s", unit ? unit : "");
    p->enabled = isatty(STDERR_FILENO);
    acdc_util_progress_reset(p, label, total);
    return 0;
}

void acdc_util_progress_free(acdc_util_progress *p)
{
    if (!p)
        return;
    acdc_util_progress_finish(p);
    free(p);
}

void acdc_util_progress_enable(acdc_util_progress *p, int on)
{
    if (p)
        p->enabled = on != 0;
}

void acdc_util_progress_reset(acdc_util_progress *p, const char *label, uint64_t total)
{
    if (!p)
        return;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->total = total;
    p->done = 0;
    p->status[0] = '\0';
    p->t0 = now_s();
    p->last_draw = -1;
}

double acdc_util_progress_elapsed(const acdc_util_progress *p)
{
    return p ? now_s() - p->t0 : 0;
}

/* 1234 -> "1.23k", 1234567 -> "1.23M". */
static void si(char *buf, size_t size, double v)
{
    if (v >= 1e6)
        snprintf(buf, size, "%.3gM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, size, "%.3gk", v / 1e3);
    else
        snprintf(buf, size, "%.3g", v);
}

static void hms(char *buf, size_t size, double s)
{
    if (!(s >= 0) || s > 3.6e7) {
        snprintf(buf, size, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

static void draw(acdc_util_progress *p, double t)
{
    double el = t - p->t0, rate = el > 0 ? (double)p->done / el : 0;
    char line[512], r[32], eta[32];
    int k = snprintf(line, sizeof line, "\r%s", p->label);
    if (p->total) {
        enum { W = 24 };
        double f = (double)p->done / (double)p->total;
        if (f > 1)
            f = 1;
        int fill = (int)(f * W);
        char bar[W + 1];
        for (int i = 0; i < W; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[W] = '\0';
        k += snprintf(line + k, sizeof line - (size_t)k, " [%s] %3d%%", bar, (int)(100 * f));
    }
    if (p->status[0] && k < (int)sizeof line)
        k += snprintf(line + k, sizeof line - (size_t)k, "  %s", p->status);
    si(r, sizeof r, rate);
    if (k < (int)sizeof line)
        k += snprintf(line + k, sizeof line - (size_t)k, "  %s %s/s", r, p->unit);
    if (p->total && k < (int)sizeof line) {
        hms(eta, sizeof eta, rate > 0 ? (double)(p->total - (p->done < p->total ?
                                                             p->done : p->total)) / rate
                                      : -1);
        k += snprintf(line + k, sizeof line - (size_t)k, "  ETA %s", eta);
    }
    /* Clear to the end of the line: the previous status may have been longer. */
    fputs(line, stderr);
    fputs("\033[K", stderr);
    fflush(stderr);
    p->drawn = 1;
    p->last_draw = t;
}

void acdc_util_progress_update(acdc_util_progress *p, uint64_t done, const char *fmt, ...)
{
    if (!p)
        return;
    p->done = done;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->status, sizeof p->status, fmt, ap);
        va_end(ap);
    }
    if (!p->enabled)
        return;
    double t = now_s();
    if (p->last_draw < 0 || t - p->last_draw >= 0.1 || (p->total && done >= p->total))
        draw(p, t);
}

void acdc_util_progress_finish(acdc_util_progress *p)
{
    if (!p || !p->enabled || !p->drawn)
        return;
    draw(p, now_s());
    fputc('\n', stderr);
    fflush(stderr);
    p->drawn = 0;
}
