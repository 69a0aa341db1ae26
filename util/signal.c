/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util/signal.c -- see signal.h. */
#include "util/signal.h"
#include "util/error.h"
#include "util/output.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t flag;
static volatile sig_atomic_t polling;    /* open polling sections */
static volatile sig_atomic_t installed;  /* acdc_util_signal_install() was called */
static char prefix[64] = "acdc";         /* "acdc compile", for the handler's message */

/* write() in full, ignoring errors: the handler has nowhere to report them */
static void say(const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Only async-signal-safe calls below: unlink (acdc_util_output_cleanup), write, _exit. */
static void on_signal(int sig)
{
    if (!installed || (polling > 0 && !flag)) {
        flag = sig;
        return;
    }
    flag = sig;
    acdc_util_output_cleanup();
    say(prefix);
    say(": error: interrupted by ");
    say(sig == SIGINT ? "SIGINT\n" : sig == SIGTERM ? "SIGTERM\n" : "a signal\n");
    _exit(3);
}

static int install(struct sigaction *old_int, struct sigaction *old_term)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);    /* one handler at a time */
    sigaddset(&sa.sa_mask, SIGTERM);
    if (sigaction(SIGINT, &sa, old_int) != 0)
        return acdc_util_error(ACDC_UTIL_EIO, "cannot install a handler for SIGINT: %s",
                               strerror(errno));
    if (sigaction(SIGTERM, &sa, old_term) != 0) {
        int e = errno;
        sigaction(SIGINT, old_int, NULL);
        return acdc_util_error(ACDC_UTIL_EIO,
                               "cannot install a handler for SIGTERM: %s", strerror(e));
    }
    return ACDC_UTIL_OK;
}

int acdc_util_signal_install(const char *name)
{
    struct sigaction old_int, old_term;
    snprintf(prefix, sizeof prefix, "acdc%s%s", name && *name ? " " : "", name ? name : "");
    int rc = install(&old_int, &old_term);
    if (!rc)
        installed = 1;
    return rc;
}

int acdc_util_signal_catch(acdc_util_signal_saved *saved)
{
    if (!installed) {
        flag = 0;
        int rc = install(&saved->old_int, &saved->old_term);
        if (rc)
            return rc;
        saved->own = 1;
    }
    polling++;
    saved->caught = 1;
    return ACDC_UTIL_OK;
}

int acdc_util_signal_ignore_pipe(acdc_util_signal_saved *saved)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, &saved->old_pipe) != 0)
        return acdc_util_error(ACDC_UTIL_EIO, "cannot ignore SIGPIPE: %s", strerror(errno));
    saved->piped = 1;
    return ACDC_UTIL_OK;
}

void acdc_util_signal_restore(acdc_util_signal_saved *saved)
{
    if (saved->caught) {
        polling--;
        if (saved->own) {
            sigaction(SIGINT, &saved->old_int, NULL);
            sigaction(SIGTERM, &saved->old_term, NULL);
        }
        saved->caught = saved->own = 0;
    }
    if (saved->piped) {
        sigaction(SIGPIPE, &saved->old_pipe, NULL);
        saved->piped = 0;
    }
}

int acdc_util_signal_caught(void)
{
    return flag;
}

const volatile sig_atomic_t *acdc_util_signal_flag(void)
{
    return &flag;
}
