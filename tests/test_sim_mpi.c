/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_sim_mpi.c -- sim/mpi.h as one rank (no launcher: what every build runs
 * outside mpirun): the tasks in the order given, each started, worked and delivered
 * before the next; a stop before a task, a failing task and a failing `done` end the
 * run with their status; agree and bcast leave things as they are.  The ranks
 * themselves are tested under mpirun by tests/mpi.sh. */
#include "tests/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "sim/mpi.h"
#include "util/error.h"

/* What the callbacks saw: a log of "s3 w3 d3 ..." and the task that fails. */
struct seen {
    char log[256];
    size_t fail_work, fail_done;   /* a task number, or SIZE_MAX */
    volatile sig_atomic_t *raise_at_done;   /* set to 1 after the first delivery */
};

static void note(struct seen *s, char what, size_t task)
{
    size_t n = strlen(s->log);
    snprintf(s->log + n, sizeof s->log - n, "%s%c%zu", n ? " " : "", what, task);
}

static int work(size_t task, void **out, size_t *bytes, void *ctx,
                const volatile sig_atomic_t *stop)
{
    struct seen *s = ctx;
    note(s, 'w', task);
    if (task == s->fail_work)
        return acdc_util_error(ACDC_UTIL_EDATA, "task %zu fails", task);
    double *v = malloc(2 * sizeof *v);
    assert_non_null(v);
    v[0] = (double)task;
    v[1] = 0.5 * (double)task;
    *out = v;
    *bytes = 2 * sizeof *v;
    return ACDC_UTIL_OK;
}

static void start(size_t task, void *ctx)
{
    note(ctx, 's', task);
}

static int done(size_t task, const void *res, size_t bytes, void *ctx)
{
    struct seen *s = ctx;
    const double *v = res;
    assert_int_equal(bytes, 2 * sizeof *v);
    assert_true(v[0] == (double)task && v[1] == 0.5 * (double)task);
    note(s, 'd', task);
    if (s->raise_at_done)
        *s->raise_at_done = 1;
    if (task == s->fail_done)
        return acdc_util_error(ACDC_UTIL_EIO, "cannot write for task %zu", task);
    return ACDC_UTIL_OK;
}

static void test_one_rank(void **state)
{
    assert_int_equal(acdc_sim_mpi_init(), 0);
    assert_int_equal(acdc_sim_mpi_rank(), 0);
    assert_int_equal(acdc_sim_mpi_size(), 1);
    /* a second call does nothing */
    assert_int_equal(acdc_sim_mpi_init(), 0);
    assert_int_equal(acdc_sim_mpi_size(), 1);
}

static void test_order(void **state)
{
    struct seen s = {.fail_work = SIZE_MAX, .fail_done = SIZE_MAX};
    const acdc_sim_mpi_work w = {.work = work, .start = start, .done = done, .ctx = &s};
    const size_t tasks[] = {7, 2, 5};
    volatile sig_atomic_t stop = 0;
    assert_int_equal(acdc_sim_mpi_schedule(&w, tasks, 3, &stop), 0);
    assert_string_equal(s.log, "s7 w7 d7 s2 w2 d2 s5 w5 d5");
    assert_false(acdc_sim_mpi_foreign());
    /* no tasks, no start callback, no stop flag */
    memset(s.log, 0, sizeof s.log);
    const acdc_sim_mpi_work bare = {.work = work, .done = done, .ctx = &s};
    assert_int_equal(acdc_sim_mpi_schedule(&bare, NULL, 0, NULL), 0);
    assert_string_equal(s.log, "");
    assert_int_equal(acdc_sim_mpi_schedule(&bare, tasks, 2, NULL), 0);
    assert_string_equal(s.log, "w7 d7 w2 d2");
}

static void test_failures(void **state)
{
    const size_t tasks[] = {1, 2, 3};
    /* a failing task: its status and message; nothing after it runs */
    struct seen s = {.fail_work = 2, .fail_done = SIZE_MAX};
    const acdc_sim_mpi_work w = {.work = work, .start = start, .done = done, .ctx = &s};
    assert_int_equal(acdc_sim_mpi_schedule(&w, tasks, 3, NULL), ACDC_UTIL_EDATA);
    assert_string_equal(acdc_util_errmsg(), "task 2 fails");
    assert_string_equal(s.log, "s1 w1 d1 s2 w2");
    /* a failing delivery (the file cannot be written) ends it the same way */
    struct seen t = {.fail_work = SIZE_MAX, .fail_done = 1};
    const acdc_sim_mpi_work v = {.work = work, .done = done, .ctx = &t};
    assert_int_equal(acdc_sim_mpi_schedule(&v, tasks, 3, NULL), ACDC_UTIL_EIO);
    assert_string_equal(acdc_util_errmsg(), "cannot write for task 1");
    assert_string_equal(t.log, "w1 d1");
    /* a signal: the task delivered before it counts, none starts after it */
    volatile sig_atomic_t stop = 0;
    struct seen u = {.fail_work = SIZE_MAX, .fail_done = SIZE_MAX, .raise_at_done = &stop};
    const acdc_sim_mpi_work x = {.work = work, .start = start, .done = done, .ctx = &u};
    assert_int_equal(acdc_sim_mpi_schedule(&x, tasks, 3, &stop), ACDC_UTIL_EINTR);
    assert_string_equal(acdc_util_errmsg(), "interrupted");
    assert_string_equal(u.log, "s1 w1 d1");
    /* one rank agrees with itself, keeping the message */
    acdc_util_error(ACDC_UTIL_EDATA, "mine");
    assert_int_equal(acdc_sim_mpi_agree(ACDC_UTIL_EDATA), ACDC_UTIL_EDATA);
    assert_string_equal(acdc_util_errmsg(), "mine");
    assert_false(acdc_sim_mpi_foreign());
    assert_int_equal(acdc_sim_mpi_agree(ACDC_UTIL_OK), ACDC_UTIL_OK);
    double b[2] = {1.5, -2};
    assert_int_equal(acdc_sim_mpi_bcast(b, sizeof b), 0);
    assert_true(b[0] == 1.5 && b[1] == -2);
}

int main(void)
{
    /* outside a launcher, whatever started the tests */
    unsetenv("OMPI_COMM_WORLD_SIZE");
    unsetenv("PMI_SIZE");
    unsetenv("PMI_RANK");
    unsetenv("PMIX_RANK");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_rank),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
