/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_util_output.c -- util/output.h as a library: an output that is an input
 * (a hard link) or another output is refused; a lock another process holds names its
 * PID; a file is replaced only when complete, through a temporary named with the PID;
 * a dead process's temporary is removed and a live one's kept; strict mode refuses an
 * undeclared destination; acdc_util_output_cleanup() removes live temporaries and locks;
 * a signal that lands while outputs are being locked leaves no lock file behind. */
#include "tests/testutil.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "util/error.h"
#include "util/file.h"
#include "util/output.h"
#include "util/signal.h"

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void get(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A PID no process has: a child that has exited and been waited for. */
static pid_t dead_pid(void)
{
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0)
        _exit(0);
    waitpid(p, NULL, 0);
    return p;
}

static void test_input_as_output(void **state)
{
    (void)state;
    const char *in = test_path(0, "in.txt"), *hard = test_path(1, "hard.txt");
    put(in, "keep me");
    unlink(hard);
    assert_int_equal(link(in, hard), 0);
    const char *ins[] = {in}, *outs[] = {hard};
    assert_int_equal(acdc_util_output_claim(ins, 1, outs, 1), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "is the input"));
    assert_non_null(strstr(acdc_util_errmsg(), "(the same file)"));
    /* two outputs that are one file, spelt differently */
    char other[700];
    snprintf(other, sizeof other, "%s/./two.txt", test_tmpdir());
    const char *two[] = {test_path(2, "two.txt"), other};
    assert_int_equal(acdc_util_output_claim(NULL, 0, two, 2), ACDC_UTIL_EUSAGE);
    assert_non_null(strstr(acdc_util_errmsg(), "are the same file"));
    /* the declared input is also refused when a file is created over it later */
    acdc_util_file f;
    assert_int_equal(acdc_util_file_create(hard, &f), ACDC_UTIL_EUSAGE);
    char buf[64];
    get(in, buf, sizeof buf);
    assert_string_equal(buf, "keep me");
}

static void test_lock_names_holder(void **state)
{
    (void)state;
    const char *out = test_path(0, "locked.h5");
    int go[2], done[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(done), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        const char *outs[] = {out};
        char c = acdc_util_output_claim(NULL, 0, outs, 1) == ACDC_UTIL_OK ? 'y' : 'n';
        if (write(go[1], &c, 1) != 1 || read(done[0], &c, 1) < 0)
            _exit(2);
        _exit(0);   /* the lock goes with the process (the file stays: no atexit) */
    }
    char c = 0;
    assert_int_equal(read(go[0], &c, 1), 1);
    assert_int_equal(c, 'y');
    const char *outs[] = {out};
    assert_int_equal(acdc_util_output_claim(NULL, 0, outs, 1), ACDC_UTIL_EIO);
    char want[64];
    snprintf(want, sizeof want, "(PID %ld)", (long)child);
    assert_non_null(strstr(acdc_util_errmsg(), want));
    assert_int_equal(write(done[1], "x", 1), 1);
    waitpid(child, NULL, 0);
    /* the holder is gone; its lock file is left, unlocked: taken over */
    assert_int_equal(acdc_util_output_claim(NULL, 0, outs, 1), ACDC_UTIL_OK);
}

static void test_replace_and_stale(void **state)
{
    (void)state;
    const char *out = test_path(0, "fig.txt");
    put(out, "old");
    char stale[700], live[700];
    const pid_t gone = dead_pid();
    snprintf(stale, sizeof stale, "%s/.fig.txt.acdc-tmp.%ld", test_tmpdir(), (long)gone);
    snprintf(live, sizeof live, "%s/.fig.txt.acdc-tmp.%ld", test_tmpdir(), (long)getppid());
    put(stale, "x");
    put(live, "x");
    acdc_util_file f;
    assert_int_equal(acdc_util_file_create(out, &f), ACDC_UTIL_OK);
    char want[700];
    snprintf(want, sizeof want, "%s/.fig.txt.acdc-tmp.%ld", test_tmpdir(), (long)getpid());
    assert_string_equal(f.t.tmp, want);
    assert_false(exists(stale));
    assert_true(exists(live));
    fputs("new", f.f);
    char buf[64];
    get(out, buf, sizeof buf);
    assert_string_equal(buf, "old");   /* not replaced before the commit */
    assert_int_equal(acdc_util_file_commit(&f), ACDC_UTIL_OK);
    get(out, buf, sizeof buf);
    assert_string_equal(buf, "new");
    assert_false(exists(want));
    unlink(live);
}

static void test_cleanup(void **state)
{
    (void)state;
    const char *out = test_path(0, "cleanup.txt");
    acdc_util_file f;
    assert_int_equal(acdc_util_file_create(out, &f), ACDC_UTIL_OK);
    assert_true(exists(f.t.tmp));
    acdc_util_output_cleanup();   /* what the signal handler does */
    assert_false(exists(f.t.tmp));
    acdc_util_file_abort(&f);
    assert_false(exists(out));
}

static void test_strict(void **state)
{
    (void)state;
    acdc_util_output_strict(1);
    acdc_util_file f;
    assert_int_equal(acdc_util_file_create(test_path(0, "undeclared.txt"), &f), ACDC_UTIL_EIO);
    assert_non_null(strstr(acdc_util_errmsg(), "not declared"));
    const char *outs[] = {test_path(1, "declared")};
    mkdir(outs[0], 0777);
    assert_int_equal(acdc_util_output_claim(NULL, 0, outs, 1), ACDC_UTIL_OK);
    /* a file inside a declared folder is declared */
    char inside[700];
    snprintf(inside, sizeof inside, "%s/a.txt", outs[0]);
    assert_int_equal(acdc_util_file_create(inside, &f), ACDC_UTIL_OK);
    assert_int_equal(acdc_util_file_commit(&f), ACDC_UTIL_OK);
    acdc_util_output_strict(0);
}

/* SIGINT at moments spread over a child's locking of 16 outputs (a POSIX timer, from
 * 0 to about 0.5 ms after it starts): whenever it lands -- also between a lock file's
 * creation and its registration, where it once left the file behind (about 1 run in
 * 900 of `acdc infer` interrupted as it started) -- the handler exits 3 and no lock
 * file stays.  Without that fix about 70% of the runs left a lock, so 16 runs catch it
 * all but surely (0.3^16).  A rarer failure (2 of ~650 executions of 120 runs, and one
 * run of the suite) was this test's own: each child inherits the locks the tests above
 * hold, and the process had 16 lock slots, so a child fast enough to claim 14 outputs
 * before its timer was refused the 15th and _exit()ed with its locks behind
 * (test_many_outputs; util/output.c now has a slot for every output a claim admits).
 * A child that cannot claim says why on stderr and exits 13. */
static void test_claim_interrupted(void **state)
{
    (void)state;
    char dir[] = "/tmp/acdc-claim-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int left = 0, runs = 16;
    for (int r = 0; r < runs; r++) {
        pid_t c = fork();
        assert_true(c >= 0);
        if (c == 0) {
            if (acdc_util_signal_install("test_claim_interrupted"))
                _exit(10);
            struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGINT};
            timer_t t;
            if (timer_create(CLOCK_MONOTONIC, &ev, &t))
                _exit(11);
            struct itimerspec at = {.it_value = {.tv_nsec = 1 + 30000L * r}};
            if (timer_settime(t, 0, &at, NULL))
                _exit(12);
            for (int k = 0; k < 16; k++) {
                char path[64];
                snprintf(path, sizeof path, "%s/o%d-%d.h5", dir, r, k);
                const char *out[1] = {path};
                if (acdc_util_output_claim(NULL, 0, out, 1)) {
                    fprintf(stderr, "run %d, output %d: %s\n", r, k, acdc_util_errmsg());
                    _exit(13);
                }
            }
            for (;;)
                pause();   /* the timer's SIGINT ends it, if it has not yet */
        }
        int st;
        assert_int_equal(waitpid(c, &st, 0), c);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 3)
            fail_msg("run %d: the child ended with status %d, not exit 3", r, st);
        for (int k = 0; k < 16; k++) {
            char lock[80];
            snprintf(lock, sizeof lock, "%s/.o%d-%d.h5.acdc-lock", dir, r, k);
            if (exists(lock)) {
                left++;
                unlink(lock);
            }
        }
    }
    rmdir(dir);
    if (left)
        fail_msg("%d of %d interrupted runs left a lock file", left, runs);
}

/* One process claims 40 outputs, one at a time, besides the locks the tests above hold:
 * every one is locked (with 16 lock slots the 17th was refused), and the first claim
 * past MAX_FILES outputs in all is a usage error, not a half-done claim. */
static void test_many_outputs(void **state)
{
    (void)state;
    char dir[] = "/tmp/acdc-many-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int k = 0;
    for (; k < 40; k++) {
        char path[64];
        snprintf(path, sizeof path, "%s/o%d.h5", dir, k);
        const char *out[1] = {path};
        if (acdc_util_output_claim(NULL, 0, out, 1))
            fail_msg("output %d: %s", k, acdc_util_errmsg());
        char lock[80];
        snprintf(lock, sizeof lock, "%s/.o%d.h5.acdc-lock", dir, k);
        assert_true(exists(lock));
    }
    int refused = 0;
    for (; k < 80 && !refused; k++) {
        char path[64];
        snprintf(path, sizeof path, "%s/o%d.h5", dir, k);
        const char *out[1] = {path};
        refused = acdc_util_output_claim(NULL, 0, out, 1) == ACDC_UTIL_EUSAGE;
    }
    assert_true(refused);
    assert_non_null(strstr(acdc_util_errmsg(), "too many files"));
    acdc_util_output_cleanup();
    for (int i = 0; i < 80; i++) {
        char name[80];
        snprintf(name, sizeof name, "%s/.o%d.h5.acdc-lock", dir, i);
        assert_false(exists(name));
    }
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_input_as_output),
        cmocka_unit_test(test_lock_names_holder),
        cmocka_unit_test(test_replace_and_stale),
        cmocka_unit_test(test_cleanup),
        cmocka_unit_test(test_strict),
        cmocka_unit_test(test_claim_interrupted),
        cmocka_unit_test(test_many_outputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
