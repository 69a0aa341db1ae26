/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tests/test_sim_verify.c -- the verdict at compile time (sim/verify.h): the budget
 * names the effect that was made large, the base adds up, and the verdict survives the
 * system file. */
#include "tests/simtest.h"

#include "sim/verify.h"
#include "util/h5.h"

/* The verdict on s for d's rows, or the test fails. */
static acdc_compiler_verdict verdict(const acdc_compiler_system *s, const acdc_data *d)
{
    acdc_compiler_verdict v;
    if (acdc_sim_verify(s, acdc_compiler_compile, d, "test rows", 0, 1, NULL, NULL, NULL, &v))
        fail_msg("verify: %s", acdc_util_errmsg());
    return v;
}

static const acdc_compiler_verdict_effect *effect(const acdc_compiler_verdict *v, const char *name)
{
    for (size_t k = 0; k < v->n; k++)
        if (!strcmp(v->effect[k].name, name))
            return &v->effect[k];
    fail_msg("no effect '%s' in the verdict", name);
    return NULL;
}

/* An ideal profile: one run besides the full one, the base, and both agree (nothing to
 * add: no levels, no phase errors, no noise). */
static void test_ideal(void **state)
{
    (void)state;
    acdc_model *m = model(16, 3, 16);
    const char *aware[] = {"rules.fourier_oversample=2"};
    acdc_compiler_system *s = compile(m, "ideal", aware, 1);
    acdc_data *d = data(12, 16);
    acdc_compiler_verdict v = verdict(s, d);
    assert_int_equal(v.rows, 12);
    assert_int_equal(v.oversample, ACDC_SIM_VERIFY_OVERSAMPLE);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.effect[0].name, "pixels");
    assert_true(v.effect[0].chain_rms == v.chain_rms);
    assert_true(v.effect[0].share == v.effect[0].chain_rms);
    assert_int_equal(v.saturated, 0);
    assert_non_null(strstr(v.conditions, "the first 12 rows of 'test rows'"));
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

/* slm8: the budget names whichever effect was made large -- 2-bit phases, then a
 * starved camera -- and the shares add up to the full run's error in quadrature. */
static void test_largest(void **state)
{
    (void)state;
    acdc_model *m = model(16, 2, 16);
    acdc_data *d = data(24, 16);
    const char *coarse[] = {"fourier.phase_bits=2", "input.phase_bits=2"};
    const char *dark[] = {"laser.power=1e-14 W"};
    const struct {
        const char **sets;
        const char *largest;
    } cases[] = {{coarse, "quantisation"}, {dark, "camera noise"}};
    for (size_t i = 0; i < 2; i++) {
        acdc_compiler_system *s = compile(m, "slm8", cases[i].sets, i == 0 ? 2 : 1);
        acdc_compiler_verdict v = verdict(s, d);
        /* phase-only devices with their pairs down the strip's rows: one pixel column a
         * value, no pairs to split from the pixels; the Fourier-transform objective's
         * wavefront error: a lens row */
        assert_int_equal(v.n, 5);
        assert_true(effect(&v, "pixels")->chain_rms > 0);
        for (size_t k = 0; k < v.n; k++)
            assert_string_not_equal(v.effect[k].name, "double-phase pairs");
        assert_true(effect(&v, "lens")->share > 0);
        const int big = acdc_sim_verdict_largest(&v);
        print_message("# case %zu: full %.4f, largest '%s' share %.4f\n", i, v.chain_rms,
                      v.effect[big].name, v.effect[big].share);
        assert_string_equal(v.effect[big].name, cases[i].largest);
        double sum = 0;
        for (size_t k = 0; k < v.n; k++)
            sum += v.effect[k].share * v.effect[k].share;
        if (!(sqrt(sum) > 0.7 * v.chain_rms && sqrt(sum) < 1.3 * v.chain_rms))
            fail_msg("shares add to %g in quadrature, the full run's error is %g", sqrt(sum),
                     v.chain_rms);
        acdc_compiler_system_free(s);
    }
    /* pairs side by side along x: the base split into pixels and double-phase pairs,
     * the pixels' run on complex devices of two pixels' pitch */
    const char *cols[] = {"input.double_phase=columns", "fourier.double_phase=columns",
                          "image.double_phase=columns"};
    acdc_compiler_system *s = compile(m, "slm8", cols, 3);
    acdc_compiler_verdict v = verdict(s, d);
    assert_int_equal(v.n, 6);
    assert_true(effect(&v, "double-phase pairs")->share > 0);
    acdc_compiler_system_free(s);
    acdc_data_free(d);
    acdc_model_free(m);
}

/* The verdict is written with the system and read back; a stored accuracy outside
 * 0..1 is refused with the attribute named. */
static void test_file(void **state)
{
    (void)state;
    acdc_model *m = model(16, 2, 16);
    acdc_compiler_system *s = compile(m, "slm8", NULL, 0), *back;
    acdc_data *d = data(8, 16);
    s->verdict = verdict(s, d);
    const char *path = test_path(1, "verdict.h5");
    if (acdc_compiler_system_write(s, path) || acdc_compiler_system_read(path, &back))
        fail_msg("%s", acdc_util_errmsg());
    assert_memory_equal(&back->verdict, &s->verdict, sizeof s->verdict);
    acdc_compiler_system_free(back);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_int_equal(acdc_util_h5_set_attr_f64(f, "/verdict/2", "accuracy", 1.5), 0);
    H5Fclose(f);
    assert_int_equal(acdc_compiler_system_read(path, &back), ACDC_UTIL_EDATA);
    assert_non_null(strstr(acdc_util_errmsg(), "'accuracy' on '/verdict/2'"));
    /* a system without a verdict reads with none */
    s->verdict.rows = 0;
    if (acdc_compiler_system_write(s, path) || acdc_compiler_system_read(path, &back))
        fail_msg("%s", acdc_util_errmsg());
    assert_int_equal(back->verdict.rows, 0);
    acdc_compiler_system_free(back);
    acdc_data_free(d);
    acdc_compiler_system_free(s);
    acdc_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ideal),
        cmocka_unit_test(test_largest),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
