/* SPDX-License-Identifier: Apache-2.0 */
/* test_sgd.c - training against closed-form facts: noise-free least squares reaches the true
 * weights (in raw units, through the folded scaler), l1 gives exact zeros, the same seed gives
 * a bit-identical model, and class weights / selection criteria move precision and recall the
 * way they should on an imbalanced data set. Every case writes the data it reads and starts
 * its random numbers from its own seed, so cases run alone or in any order. */
#include "linlearn.h"
#include "loss.h"
#include "model.h"
#include "tt.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char dir[64];

static uint64_t rng = 88172645463325252ull;
/* Each case starts its own sequence: no case depends on what an earlier one drew. */
static void reseed(uint64_t s)
{
    rng = 88172645463325252ull ^ (s * 0x9E3779B97F4A7C15ull);
}
static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static const char *path(const char *name)
{
    static char p[4][128];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
    return p[i];
}

/* y = 3 x0 - 2 x1 + 0.5 x2 + 0 x3 + 4, features with different scales and offsets */
static void write_linear(const char *name, int n)
{
    FILE *f = fopen(path(name), "w");
    for (int i = 0; i < n; i++) {
        double x0 = urand() * 10 + 5, x1 = urand() - 0.5, x2 = urand() * 100, x3 = urand();
        fprintf(f, "%.9g,%.9g,%.9g,%.9g,%.9g\n", 3 * x0 - 2 * x1 + 0.5 * x2 + 4, x0, x1, x2, x3);
    }
    fclose(f);
}

static ll_code train_threads(const char *const *hps, const char *tr, const char *va,
                             const char *mdir, uint64_t seed, int n_threads, ll_err *err)
{
    ll_hparams *hp = NULL;
    ll_code rc = ll_hparams_new(&hp, err);
    for (int i = 0; rc == LL_OK && hps[i]; i += 2)
        rc = ll_hparams_set(hp, hps[i], hps[i + 1], err);
    ll_train_opts o;
    ll_train_opts_init(&o);
    o.train = tr;
    o.validation = va;
    o.model_dir = mdir;
    o.seed = seed;
    o.threads = n_threads;
    if (rc == LL_OK)
        rc = ll_train(hp, &o, err);
    ll_hparams_free(hp);
    return rc;
}

static ll_code train(const char *const *hps, const char *tr, const char *va, const char *mdir,
                     uint64_t seed, ll_err *err)
{
    return train_threads(hps, tr, va, mdir, seed, 1, err);
}

static void test_least_squares_reaches_true_weights(void)
{
    reseed(1);
    ll_err err;
    write_linear("lin.csv", 2000);
    const char *hps[] = {"predictor_type",
                         "regressor",
                         "epochs",
                         "60",
                         "mini_batch_size",
                         "100",
                         "num_models",
                         "4",
                         "wd",
                         "0",
                         "l1",
                         "0",
                         "early_stopping_patience",
                         "100",
                         NULL};
    CHECK_OK(train(hps, path("lin.csv"), NULL, path("m1"), 1, &err));
    ll_model *m = NULL;
    CHECK_OK(ll_model_load(path("m1"), &m, &err));
    const float *w = ll_model_weights(m), *b = ll_model_bias(m);
    double want[4] = {3, -2, 0.5, 0};
    for (int j = 0; j < 4; j++)
        CHECKF(fabs(w[j] - want[j]) < 0.02, "w[%d] = %g, want %g", j, w[j], want[j]);
    CHECKF(fabs(b[0] - 4) < 0.1, "bias %g", b[0]);
    ll_model_free(m);
}

static void test_l1_gives_exact_zeros(void)
{
    reseed(2);
    ll_err err;
    /* only x0 matters; 6 noise features */
    FILE *f = fopen(path("l1.csv"), "w");
    for (int i = 0; i < 1000; i++) {
        double x[7];
        for (int j = 0; j < 7; j++)
            x[j] = urand() * 2 - 1;
        fprintf(f, "%.9g", 2 * x[0] + 0.01 * (urand() - 0.5));
        for (int j = 0; j < 7; j++)
            fprintf(f, ",%.9g", x[j]);
        fputc('\n', f);
    }
    fclose(f);
    const char *hps[] = {"predictor_type", "regressor", "epochs", "20",   "mini_batch_size", "100",
                         "num_models",     "1",         "l1",     "0.05", "optimizer",       "sgd",
                         "learning_rate",  "0.05",      NULL};
    CHECK_OK(train(hps, path("l1.csv"), NULL, path("m2"), 1, &err));
    ll_model *m = NULL;
    CHECK_OK(ll_model_load(path("m2"), &m, &err));
    const float *w = ll_model_weights(m);
    CHECKF(w[0] > 1.5, "w0 = %g", w[0]);
    int zeros = 0;
    for (int j = 1; j < 7; j++)
        zeros += w[j] == 0.0f;
    CHECKF(zeros == 6, "only %d of 6 noise weights are exactly 0", zeros);
    ll_model_free(m);
}

static void test_same_seed_bit_identical(void)
{
    ll_err err;
    const char *hps[] = {"predictor_type", "regressor", "epochs", "3", "num_models", "8", NULL};
    reseed(3);
    write_linear("seed.csv", 2000);
    CHECK_OK(train(hps, path("seed.csv"), NULL, path("s1"), 7, &err));
    CHECK_OK(train(hps, path("seed.csv"), NULL, path("s2"), 7, &err));
    CHECK_OK(train(hps, path("seed.csv"), NULL, path("s3"), 8, &err));
    ll_model *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(ll_model_load(path("s1"), &a, &err));
    CHECK_OK(ll_model_load(path("s2"), &b, &err));
    CHECK_OK(ll_model_load(path("s3"), &c, &err));
    CHECK(!memcmp(ll_model_weights(a), ll_model_weights(b), 4 * sizeof(float)));
    CHECK(!memcmp(ll_model_bias(a), ll_model_bias(b), sizeof(float)));
    CHECK(memcmp(ll_model_weights(a), ll_model_weights(c), 4 * sizeof(float)));
    ll_model_free(a);
    ll_model_free(b);
    ll_model_free(c);
}

/* Imbalanced binary data: 10% positives, overlapping classes. */
static void write_imbalanced(const char *name, int n)
{
    FILE *f = fopen(path(name), "w");
    for (int i = 0; i < n; i++) {
        int y = urand() < 0.1;
        double x0 = (y ? 1.0 : 0.0) + (urand() + urand() + urand() - 1.5);
        double x1 = (y ? 0.5 : 0.0) + (urand() - 0.5);
        fprintf(f, "%d,%.9g,%.9g\n", y, x0, x1);
    }
    fclose(f);
}

typedef struct {
    double p, r;
} pr;

static ll_code pr_of(const char *const *hps, pr *out, ll_err *err)
{
    const char *mj = path("pr.json");
    ll_hparams *hp = NULL;
    ll_code rc = ll_hparams_new(&hp, err);
    for (int i = 0; rc == LL_OK && hps[i]; i += 2)
        rc = ll_hparams_set(hp, hps[i], hps[i + 1], err);
    ll_train_opts o;
    ll_train_opts_init(&o);
    o.train = path("imb_train.csv");
    o.validation = path("imb_val.csv");
    o.metrics_json = mj;
    o.threads = 1;
    if (rc == LL_OK)
        rc = ll_train(hp, &o, err);
    ll_hparams_free(hp);
    if (rc != LL_OK)
        return rc;
    size_t len = 0;
    char *s = (char *)tt_read_file(mj, &len);
    if (!s)
        return LL_E_IO;
    s = realloc(s, len + 1);
    s[len] = 0;
    char *a = strstr(s, "\"validation:precision\": "), *b = strstr(s, "\"validation:recall\": ");
    out->p = a ? atof(a + 24) : -1;
    out->r = b ? atof(b + 21) : -1;
    free(s);
    return LL_OK;
}

static void test_class_weights_and_criteria(void)
{
    reseed(7);
    ll_err err;
    write_imbalanced("imb_train.csv", 4000);
    write_imbalanced("imb_val.csv", 2000);
    pr base, bal, rec, prec, f1;
    const char *h0[] = {"predictor_type",
                        "binary_classifier",
                        "num_models",
                        "4",
                        "binary_classifier_model_selection_criteria",
                        "loss_function",
                        NULL};
    CHECK_OK(pr_of(h0, &base, &err));
    const char *h1[] = {"predictor_type",
                        "binary_classifier",
                        "num_models",
                        "4",
                        "binary_classifier_model_selection_criteria",
                        "loss_function",
                        "positive_example_weight_mult",
                        "balanced",
                        NULL};
    CHECK_OK(pr_of(h1, &bal, &err));
    /* balanced weights: more positives predicted -> recall up, precision down */
    CHECKF(bal.r > base.r + 0.1 && bal.p < base.p, "base p %g r %g, balanced p %g r %g", base.p,
           base.r, bal.p, bal.r);
    const char *h2[] = {"predictor_type",
                        "binary_classifier",
                        "num_models",
                        "4",
                        "binary_classifier_model_selection_criteria",
                        "precision_at_target_recall",
                        "target_recall",
                        "0.9",
                        NULL};
    CHECK_OK(pr_of(h2, &rec, &err));
    CHECKF(rec.r >= 0.9 - 1e-9, "recall %g below target 0.9", rec.r);
    const char *h3[] = {"predictor_type",
                        "binary_classifier",
                        "num_models",
                        "4",
                        "binary_classifier_model_selection_criteria",
                        "recall_at_target_precision",
                        "target_precision",
                        "0.9",
                        NULL};
    CHECK_OK(pr_of(h3, &prec, &err));
    CHECKF(prec.p >= 0.9 - 1e-9, "precision %g below target 0.9", prec.p);
    CHECK(rec.r > prec.r && prec.p > rec.p);
    const char *h4[] = {"predictor_type",
                        "binary_classifier",
                        "num_models",
                        "4",
                        "binary_classifier_model_selection_criteria",
                        "f_beta",
                        NULL};
    CHECK_OK(pr_of(h4, &f1, &err));
    /* F1 sits between the two extremes */
    CHECKF(f1.r < rec.r && f1.p < prec.p, "f1 p %g r %g", f1.p, f1.r);
}

/* The same rows as LIBSVM (sparse: lazy updates of the features present) and as dense CSV
 * (every weight every step). Plain sgd without regularisation: identical up to rounding; with
 * wd and l1 the lazy catch-up (decay and shrinkage of the missed steps) stays close. */
enum { D = 40 };

/* Writes the same 400 rows as sd_<tag>.libsvm and sd_<tag>.csv. */
static void write_sparse_dense(const char *tag)
{
    char sp[32], de[32];
    snprintf(sp, sizeof sp, "sd_%s.libsvm", tag);
    snprintf(de, sizeof de, "sd_%s.csv", tag);
    FILE *fs = fopen(path(sp), "w"), *fd = fopen(path(de), "w");
    for (int i = 0; i < 400; i++) {
        float x[D] = {0};
        double z = 0.3;
        for (int k = 0; k < 4; k++) {
            int j = (int)(urand() * urand() * D); /* skewed: some features rare */
            x[j] = (float)(urand() * 2 - 1);
        }
        for (int j = 0; j < D; j++)
            z += x[j] * (j % 3 - 1);
        int y = urand() < 1 / (1 + exp(-3 * z));
        fprintf(fs, "%d", y);
        fprintf(fd, "%d", y);
        for (int j = 0; j < D; j++) {
            if (x[j] != 0)
                fprintf(fs, " %d:%.9g", j + 1, x[j]);
            fprintf(fd, ",%.9g", x[j]);
        }
        fputc('\n', fs);
        fputc('\n', fd);
    }
    fclose(fs);
    fclose(fd);
}

static void compare_sparse_dense(const char *wd, const char *l1, double tol, const char *tag)
{
    ll_err err;
    char sp[32], de[32];
    snprintf(sp, sizeof sp, "sd_%s.libsvm", tag);
    snprintf(de, sizeof de, "sd_%s.csv", tag);
    write_sparse_dense(tag);
    const char *hps[] = {"predictor_type",
                         "binary_classifier",
                         "feature_dim",
                         "40",
                         "normalize_data",
                         "false",
                         "optimizer",
                         "sgd",
                         "learning_rate",
                         "0.1",
                         "wd",
                         wd,
                         "l1",
                         l1,
                         "num_models",
                         "1",
                         "mini_batch_size",
                         "10",
                         "epochs",
                         "4",
                         "binary_classifier_model_selection_criteria",
                         "loss_function",
                         NULL};
    char ms[32], md[32];
    snprintf(ms, sizeof ms, "sd_%s_s", tag);
    snprintf(md, sizeof md, "sd_%s_d", tag);
    CHECK_OK(train(hps, path(sp), NULL, path(ms), 3, &err));
    CHECK_OK(train(hps, path(de), NULL, path(md), 3, &err));
    ll_model *a = NULL, *b = NULL;
    CHECK_OK(ll_model_load(path(ms), &a, &err));
    CHECK_OK(ll_model_load(path(md), &b, &err));
    if (!a || !b)
        return;
    double worst = 0, big = 0;
    for (int j = 0; j < D; j++) {
        double d = fabs(ll_model_weights(a)[j] - ll_model_weights(b)[j]);
        worst = d > worst ? d : worst;
        big = fmax(big, fabs(ll_model_weights(b)[j]));
    }
    worst = fmax(worst, fabs(ll_model_bias(a)[0] - ll_model_bias(b)[0]));
    CHECKF(worst <= tol, "%s: sparse and dense weights differ by %g (tolerance %g)", tag, worst,
           tol);
    CHECKF(big > 0.1, "%s: the model learned nothing (largest weight %g)", tag, big);
    ll_model_free(a);
    ll_model_free(b);
}

/* Two threads (prefetch + BLAS), sparse and dense inputs, 32 adam models: the same seed gives
 * the same bytes. */
static void test_threads_bit_identical(void)
{
    ll_err err;
    const char *hps[] = {"predictor_type",
                         "binary_classifier",
                         "feature_dim",
                         "40",
                         "epochs",
                         "3",
                         "mini_batch_size",
                         "50",
                         NULL};
    reseed(6);
    write_sparse_dense("thr");
    const char *in[2] = {"sd_thr.libsvm", "sd_thr.csv"};
    for (int f = 0; f < 2; f++) {
        CHECK_OK(train_threads(hps, path(in[f]), NULL, path("t1"), 5, 2, &err));
        CHECK_OK(train_threads(hps, path(in[f]), NULL, path("t2"), 5, 2, &err));
        ll_model *a = NULL, *b = NULL;
        CHECK_OK(ll_model_load(path("t1"), &a, &err));
        CHECK_OK(ll_model_load(path("t2"), &b, &err));
        if (a && b) {
            CHECKF(!memcmp(ll_model_weights(a), ll_model_weights(b), 40 * sizeof(float)),
                   "%s: two runs differ", in[f]);
            CHECK(!memcmp(ll_model_bias(a), ll_model_bias(b), sizeof(float)));
        }
        ll_model_free(a);
        ll_model_free(b);
    }
}

/* The sparse kernels on 1, 2 and 3 threads (rows of the forward pass, features of the updates
 * split over them) give the same bytes, for every optimizer, with wd and l1 (the lazy
 * catch-up), one model and 32, binary, multiclass and regression. */
static void test_sparse_threads_same_weights(void)
{
    ll_err err;
    FILE *f = fopen(path("mc.libsvm"), "w");
    for (int i = 0; i < 600; i++) {
        fprintf(f, "%d", (int)(urand() * 3));
        for (int j = 1; j <= 40; j++)
            if (urand() < 0.15)
                fprintf(f, " %d:%.6g", j, urand() * 2 - 1);
        fputc('\n', f);
    }
    fclose(f);
    static const char *opt[3] = {"adam", "sgd", "rmsprop"};
    static const char *pred[3] = {"binary_classifier", "multiclass_classifier", "regressor"};
    static const char *models[2] = {"1", "32"};
    int cases = 0, same = 0;
    for (int o = 0; o < 3; o++)
        for (int p = 0; p < 3; p++)
            for (int m = 0; m < 2; m++) {
                const char *hps[] = {"predictor_type",
                                     pred[p],
                                     "feature_dim",
                                     "40",
                                     "epochs",
                                     "2",
                                     "mini_batch_size",
                                     "37",
                                     "optimizer",
                                     opt[o],
                                     "num_models",
                                     models[m],
                                     "wd",
                                     "0.01",
                                     "l1",
                                     "0.001",
                                     "momentum",
                                     "0.5",
                                     "num_classes",
                                     "3",
                                     NULL};
                if (p != 1)
                    hps[18] = NULL;
                char in[128];
                snprintf(in, sizeof in, "%s", path(p == 1 ? "mc.libsvm" : "sd_reg.libsvm"));
                ll_model *ref = NULL;
                for (int t = 1; t <= 3; t++) {
                    ll_model *a = NULL;
                    CHECK_OK(train_threads(hps, in, NULL, path("thr"), 9, t, &err));
                    CHECK_OK(ll_model_load(path("thr"), &a, &err));
                    if (t == 1) {
                        ref = a;
                        continue;
                    }
                    cases++;
                    size_t nw = 40 * (p == 1 ? 3 : 1);
                    if (a && ref && !memcmp(ll_model_weights(a), ll_model_weights(ref), nw * 4) &&
                        !memcmp(ll_model_bias(a), ll_model_bias(ref), (p == 1 ? 3 : 1) * 4))
                        same++;
                    else
                        fprintf(stderr, "differ: %s %s %s models, %d threads\n", opt[o], pred[p],
                                models[m], t);
                    ll_model_free(a);
                }
                ll_model_free(ref);
            }
    CHECKF(same == cases, "%d of %d thread counts gave other weights", cases - same, cases);
}

static void test_sparse_lazy_updates_match_dense(void)
{
    reseed(5);
    compare_sparse_dense("0", "0", 1e-5, "plain");
    compare_sparse_dense("0.01", "0.001", 2e-3, "reg");
}

/* Features that come back after long and varied gaps (up to ~150 steps of one row): the
 * catch-ups of a step need the decay factors of many different last steps, more than the
 * per-thread cache holds, so its slots are reused. The weights must not depend on the thread
 * count (each thread has its own cache) and must stay the dense path's (which decays every
 * feature at every step) within rounding. */
static void test_sparse_catch_up_long_gaps(void)
{
    ll_err err;
    enum { DL = 150 };
    FILE *fs = fopen(path("gap.libsvm"), "w"), *fd = fopen(path("gap.csv"), "w");
    reseed(11);
    for (int i = 0; i < 900; i++) {
        float x[DL] = {0};
        x[0] = 1;
        x[1 + i % (DL - 1)] = (float)(urand() + 0.5);
        x[1 + (i * 7 + i / 50) % (DL - 1)] = (float)(urand() - 1.5);
        double z = 0.2 + x[0] * 0.1;
        for (int j = 1; j < DL; j++)
            z += x[j] * (j % 3 - 1);
        int y = urand() < 1 / (1 + exp(-3 * z));
        fprintf(fs, "%d", y);
        fprintf(fd, "%d", y);
        for (int j = 0; j < DL; j++) {
            if (x[j] != 0)
                fprintf(fs, " %d:%.9g", j + 1, x[j]);
            fprintf(fd, ",%.9g", x[j]);
        }
        fputc('\n', fs);
        fputc('\n', fd);
    }
    fclose(fs);
    fclose(fd);
    const char *hps[] = {"predictor_type",
                         "binary_classifier",
                         "feature_dim",
                         "150",
                         "normalize_data",
                         "false",
                         "optimizer",
                         "sgd",
                         "learning_rate",
                         "0.05",
                         "wd",
                         "0.02",
                         "l1",
                         "0.0005",
                         "num_models",
                         "1",
                         "mini_batch_size",
                         "1",
                         "epochs",
                         "2",
                         "binary_classifier_model_selection_criteria",
                         "loss_function",
                         NULL};
    ll_model *m[4] = {NULL, NULL, NULL, NULL};
    CHECK_OK(train_threads(hps, path("gap.libsvm"), NULL, path("gap1"), 4, 1, &err));
    CHECK_OK(train_threads(hps, path("gap.libsvm"), NULL, path("gap2"), 4, 2, &err));
    CHECK_OK(train_threads(hps, path("gap.libsvm"), NULL, path("gap3"), 4, 3, &err));
    CHECK_OK(train_threads(hps, path("gap.csv"), NULL, path("gapd"), 4, 1, &err));
    CHECK_OK(ll_model_load(path("gap1"), &m[0], &err));
    CHECK_OK(ll_model_load(path("gap2"), &m[1], &err));
    CHECK_OK(ll_model_load(path("gap3"), &m[2], &err));
    CHECK_OK(ll_model_load(path("gapd"), &m[3], &err));
    if (m[0] && m[1] && m[2] && m[3]) {
        for (int t = 1; t < 3; t++)
            CHECKF(!memcmp(ll_model_weights(m[0]), ll_model_weights(m[t]), DL * sizeof(float)),
                   "%d threads: other weights than 1", t + 1);
        double worst = 0, big = 0;
        for (int j = 0; j < DL; j++) {
            worst = fmax(worst, fabs(ll_model_weights(m[0])[j] - ll_model_weights(m[3])[j]));
            big = fmax(big, fabs(ll_model_weights(m[3])[j]));
        }
        fprintf(stderr, "long gaps: sparse vs dense %g (largest weight %g)\n", worst, big);
        CHECKF(worst <= 2e-3, "sparse and dense weights differ by %g", worst);
        CHECKF(big > 0.1, "the model learned nothing (largest weight %g)", big);
    }
    for (int i = 0; i < 4; i++)
        ll_model_free(m[i]);
}

/* The evaluation passes use loss_logistic_value_n (no derivative): its losses must be
 * loss_logistic_n's bit for bit, or model selection would change. */
static void test_logistic_value_matches(void)
{
    enum { N = 4099 };
    static float z[N], l0[N], d0[N], l1[N];
    reseed(7);
    for (int i = 0; i < N; i++) {
        double u = urand();
        z[i] = (float)((u - 0.5) * (i % 3 ? 20 : 400)); /* beyond the exp clamp too */
    }
    z[0] = 0.0f;
    z[1] = -0.0f;
    z[2] = 88.0f;
    z[3] = -88.0f;
    size_t bad = 0;
    for (int y = 0; y < 2; y++) {
        loss_logistic_n(z, N, (float)y, l0, d0);
        loss_logistic_value_n(z, N, (float)y, l1);
        bad += memcmp(l0, l1, sizeof l0) != 0;
        /* and one element at a time (the vector lanes and the scalar tail agree) */
        for (int i = 0; i < N; i += 97) {
            float one;
            loss_logistic_value_n(z + i, 1, (float)y, &one);
            bad += memcmp(&one, &l0[i], sizeof one) != 0;
        }
    }
    CHECKF(bad == 0, "%zu loss arrays differ from loss_logistic_n", bad);
    CHECK(l0[5] > 0 && isfinite(l0[3]));
}

int main(void)
{
    TT_BEGIN("test_sgd");
    snprintf(dir, sizeof dir, "/tmp/ll_test_sgd_XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    RUN(test_least_squares_reaches_true_weights);
    RUN(test_l1_gives_exact_zeros);
    RUN(test_same_seed_bit_identical);
    RUN(test_class_weights_and_criteria);
    RUN(test_sparse_lazy_updates_match_dense);
    RUN(test_threads_bit_identical);
    RUN(test_sparse_threads_same_weights);
    RUN(test_sparse_catch_up_long_gaps);
    RUN(test_logistic_value_matches);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    TT_END();
}
