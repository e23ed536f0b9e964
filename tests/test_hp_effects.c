/* SPDX-License-Identifier: Apache-2.0 */
/* test_hp_effects.c - every Linear Learner hyperparameter has an effect a test can see: small
 * synthetic data sets (fixed seeds, dense CSV and sparse LIBSVM) are trained through the public
 * API (threads=1, fixed seed) with one value and another, and the saved model, its threshold or
 * the metrics JSON must change, in the expected direction wherever that is knowable. */
#define _XOPEN_SOURCE 700
#include "linlearn.h"
#include "tt.h"
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

/* ---- data ---- */

static uint64_t rs;
static double urand(void)
{
    uint64_t z = (rs += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}
static double nrand(void)
{
    return sqrt(-2 * log(urand())) * cos(2 * M_PI * urand());
}

/* A dense data set kept in memory (for predictions) and written as CSV (label first). */
typedef struct {
    size_t n, D;
    float *X, *y;
    char path[128];
} dset;

static dset REG, REGV, REGQ, ROUT, WIDE, Y100, YOFF, XOFF, XBIG, BIN, BINV, BSEP, BORD, MC, MC4,
    MC4V;
static char SPARSE[128]; /* LIBSVM regression, 100 features, 5 non-zeros a row */

static int dset_alloc(dset *d, size_t n, size_t D, const char *name)
{
    d->n = n;
    d->D = D;
    d->X = calloc(n * D, sizeof(float));
    d->y = calloc(n, sizeof(float));
    snprintf(d->path, sizeof d->path, "%s/%s.csv", dir, name);
    return d->X && d->y;
}

static int dset_write(const dset *d)
{
    FILE *f = fopen(d->path, "w");
    if (!f)
        return 0;
    for (size_t i = 0; i < d->n; i++) {
        fprintf(f, "%.9g", (double)d->y[i]);
        for (size_t j = 0; j < d->D; j++)
            fprintf(f, ",%.9g", (double)d->X[i * d->D + j]);
        fputc('\n', f);
    }
    return fclose(f) == 0;
}

static void dset_free(dset *d)
{
    free(d->X);
    free(d->y);
}

static const double TW[3] = {2, -1, 0.5}; /* true weights of REG; intercept 3 */
#define TB 3.0

/* y = 2 x0 - x1 + 0.5 x2 + 3 + noise * N(0,1), x ~ N(0,1) */
static int make_reg(dset *d, const char *name, size_t n, uint64_t seed, double noise)
{
    rs = seed;
    if (!dset_alloc(d, n, 3, name))
        return 0;
    for (size_t i = 0; i < n; i++) {
        float *x = d->X + i * 3;
        double y = TB;
        for (int j = 0; j < 3; j++) {
            x[j] = (float)nrand();
            y += TW[j] * x[j];
        }
        d->y[i] = (float)(y + noise * nrand());
    }
    return dset_write(d);
}

/* A copy of s with labels y*ya + yb and features x*xa + xb. */
static int make_affine(dset *d, const dset *s, const char *name, double ya, double yb, double xa,
                       double xb)
{
    if (!dset_alloc(d, s->n, s->D, name))
        return 0;
    for (size_t i = 0; i < s->n; i++) {
        d->y[i] = (float)(s->y[i] * ya + yb);
        for (size_t j = 0; j < s->D; j++)
            d->X[i * s->D + j] = (float)(s->X[i * s->D + j] * xa + xb);
    }
    return dset_write(d);
}

/* binary: P(y=1) = sigmoid(k (1.5 x0 - x1 + 0.5)); gap > 0 drops rows with |score| < gap */
static int make_bin(dset *d, const char *name, size_t n, uint64_t seed, double k, double gap)
{
    rs = seed;
    if (!dset_alloc(d, n, 4, name))
        return 0;
    for (size_t i = 0; i < n;) {
        float *x = d->X + i * 4;
        for (int j = 0; j < 4; j++)
            x[j] = (float)nrand();
        double z = 1.5 * x[0] - x[1] + 0.5;
        if (gap > 0) {
            if (fabs(z) < gap)
                continue;
            d->y[i] = z > 0;
        } else {
            d->y[i] = urand() < 1 / (1 + exp(-k * z));
        }
        i++;
    }
    return dset_write(d);
}

/* classes c with counts cnt[c], 2-D Gaussian blobs (sd 1) around mean[c] */
static int make_mc(dset *d, const char *name, uint64_t seed, int C, const int *cnt,
                   const double (*mean)[2])
{
    size_t n = 0;
    for (int c = 0; c < C; c++)
        n += (size_t)cnt[c];
    rs = seed;
    if (!dset_alloc(d, n, 2, name))
        return 0;
    /* interleave the classes so every mini-batch sees each */
    int left[8];
    memcpy(left, cnt, (size_t)C * sizeof(int));
    for (size_t i = 0; i < n;) {
        for (int c = 0; c < C && i < n; c++) {
            if (!left[c] || (c > 0 && urand() * cnt[0] > cnt[c] && left[0]))
                continue;
            left[c]--;
            d->y[i] = (float)c;
            d->X[i * 2] = (float)(mean[c][0] + nrand());
            d->X[i * 2 + 1] = (float)(mean[c][1] + nrand());
            i++;
        }
    }
    return dset_write(d);
}

static int make_sparse(void)
{
    snprintf(SPARSE, sizeof SPARSE, "%s/sparse.libsvm", dir);
    FILE *f = fopen(SPARSE, "w");
    if (!f)
        return 0;
    rs = 404;
    for (int i = 0; i < 300; i++) {
        uint32_t idx[5];
        int k = 0;
        while (k < 5) {
            uint32_t j = (uint32_t)(urand() * 100);
            int dup = 0;
            for (int q = 0; q < k; q++)
                dup |= idx[q] == j;
            if (!dup)
                idx[k++] = j;
        }
        for (int a = 0; a < 5; a++) /* ascending indices */
            for (int b = a + 1; b < 5; b++)
                if (idx[b] < idx[a]) {
                    uint32_t t = idx[a];
                    idx[a] = idx[b];
                    idx[b] = t;
                }
        double v[5], y = 2.0;
        for (int q = 0; q < 5; q++) {
            v[q] = 0.5 + urand();
            y += (idx[q] < 10 ? 1.5 : 0.0) * v[q]; /* features 0..9 matter */
        }
        fprintf(f, "%.6g", y + 0.05 * nrand());
        for (int q = 0; q < 5; q++)
            fprintf(f, " %u:%.6g", idx[q] + 1, v[q]);
        fputc('\n', f);
    }
    return fclose(f) == 0;
}

/* ---- training ---- */

typedef struct {
    ll_model *m;
    json_t *j;
    const float *w, *b;
    uint64_t D;
    uint32_t C;
    float thr;
} res;

static void res_free(res *r)
{
    ll_model_free(r->m);
    json_decref(r->j);
    memset(r, 0, sizeof *r);
}

#define HP(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Trains on train (and val) with base then extra (pairs; extra wins), loads the model and the
 * metrics JSON. */
static int train(res *r, const char *tr, const char *val, const char *const *base,
                 const char *const *extra)
{
    static int no;
    memset(r, 0, sizeof *r);
    char md[128], mj[128], mp[160];
    no++;
    snprintf(md, sizeof md, "%s/m%d", dir, no);
    snprintf(mj, sizeof mj, "%s/m%d.json", dir, no);
    snprintf(mp, sizeof mp, "%s/model.tar.gz", md);
    if (mkdir(md, 0700) != 0)
        return 0;
    ll_err err;
    ll_hparams *hp = NULL;
    ll_code rc = ll_hparams_new(&hp, &err);
    for (int i = 0; rc == LL_OK && base && base[i]; i += 2)
        rc = ll_hparams_set(hp, base[i], base[i + 1], &err);
    for (int i = 0; rc == LL_OK && extra && extra[i]; i += 2)
        rc = ll_hparams_set(hp, extra[i], extra[i + 1], &err);
    ll_train_opts o;
    ll_train_opts_init(&o);
    o.train = tr;
    o.validation = val;
    o.model_dir = md;
    o.metrics_json = mj;
    o.seed = 11;
    o.threads = 1;
    if (rc == LL_OK)
        rc = ll_train(hp, &o, &err);
    ll_hparams_free(hp);
    if (rc == LL_OK)
        rc = ll_model_load(mp, &r->m, &err);
    if (rc != LL_OK) {
        char b[600];
        fprintf(stderr, "  training run %d: %s\n", no, ll_err_format(&err, b, sizeof b));
        return 0;
    }
    r->j = json_load_file(mj, 0, NULL);
    if (!r->j)
        return 0;
    r->w = ll_model_weights(r->m);
    r->b = ll_model_bias(r->m);
    r->D = ll_model_feature_dim(r->m);
    r->C = ll_model_n_outputs(r->m);
    r->thr = ll_model_threshold(r->m);
    return 1;
}

#define TRAIN(r, tr, val, base, ...) CHECK(train(&(r), (tr), (val), (base), HP(__VA_ARGS__)))

/* metrics JSON: "metrics" entry, "selected_model" entry, top-level number */
static double met(const res *r, const char *k)
{
    json_t *x = json_object_get(json_object_get(r->j, "metrics"), k);
    return json_is_number(x) ? json_number_value(x) : NAN;
}
static double selm(const res *r, const char *k)
{
    json_t *x = json_object_get(json_object_get(r->j, "selected_model"), k);
    return json_is_number(x) ? json_number_value(x) : NAN;
}
static long long epochs_done(const res *r)
{
    json_t *x = json_object_get(r->j, "epochs_completed");
    return json_is_integer(x) ? json_integer_value(x) : -1;
}

/* Euclidean distance of the weights (and bias) to the truth of REG. */
static double dist_reg(const res *r)
{
    double s = 0;
    for (int j = 0; j < 3; j++)
        s += (r->w[j] - TW[j]) * (r->w[j] - TW[j]);
    return sqrt(s + (r->b[0] - TB) * (r->b[0] - TB));
}
static double max_abs_diff(const res *a, const res *b)
{
    double m = fabs((double)a->b[0] - b->b[0]);
    for (uint64_t j = 0; j < a->D * a->C; j++)
        m = fmax(m, fabs((double)a->w[j] - b->w[j]));
    return m;
}
static double wnorm(const res *r)
{
    double s = 0;
    for (uint64_t j = 0; j < r->D * r->C; j++)
        s += (double)r->w[j] * r->w[j];
    return sqrt(s);
}
static int same_model(const res *a, const res *b)
{
    return a->D == b->D && a->C == b->C && !memcmp(a->w, b->w, a->D * a->C * sizeof(float)) &&
           !memcmp(a->b, b->b, a->C * sizeof(float));
}

/* Scores and predicted labels of every row of d through ll_model_predict (caller frees). */
static int predict(const res *r, const dset *d, float **scores, float **labels)
{
    ll_batch b;
    ll_batch_init(&b);
    ll_err err;
    *scores = malloc(d->n * r->C * sizeof(float));
    *labels = malloc(d->n * sizeof(float));
    ll_code rc = *scores && *labels ? LL_OK : LL_E_NOMEM;
    for (size_t i = 0; i < d->n && rc == LL_OK; i++)
        rc = ll_batch_add_row(&b, d->X + i * d->D, NULL, d->D, d->D, NULL, 0, &err);
    if (rc == LL_OK)
        rc = ll_model_predict(r->m, &b, *scores, *labels, &err);
    ll_batch_deinit(&b);
    return rc == LL_OK;
}

/* Recall of class c over d. */
static double class_recall(const res *r, const dset *d, int c)
{
    float *s, *l;
    if (!predict(r, d, &s, &l)) {
        free(s);
        free(l);
        return NAN;
    }
    double hit = 0, all = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->y[i] == (float)c) {
            all++;
            hit += l[i] == (float)c;
        }
    free(s);
    free(l);
    return all > 0 ? hit / all : NAN;
}

/* Regression, everything in raw units: no scaling, no centring, one model, no regularisation. */
static const char *const CLEAN[] = {"predictor_type",
                                    "regressor",
                                    "num_models",
                                    "1",
                                    "normalize_data",
                                    "false",
                                    "normalize_label",
                                    "false",
                                    "unbias_data",
                                    "false",
                                    "unbias_label",
                                    "false",
                                    "wd",
                                    "0",
                                    "l1",
                                    "0",
                                    "mini_batch_size",
                                    "20",
                                    NULL};
static const char *const REG1[] = {"predictor_type",  "regressor", "num_models", "1",
                                   "mini_batch_size", "20",        NULL};
static const char *const BIN1[] = {
    "predictor_type", "binary_classifier", "num_models", "1", "mini_batch_size", "40", NULL};

/* ---- tests ---- */

static void test_use_bias(void)
{
    res a, b;
    TRAIN(a, REG.path, NULL, CLEAN, "use_bias", "false");
    TRAIN(b, REG.path, NULL, CLEAN, "use_bias", "true");
    CHECKF(a.b[0] == 0.0f, "use_bias=false: bias %g", (double)a.b[0]);
    CHECKF(fabs(b.b[0] - TB) < 0.3, "use_bias=true: bias %g, true 3", (double)b.b[0]);
    res_free(&a);
    res_free(&b);
    /* default scaling (label centring and feature shift are off without a bias) and sparse */
    TRAIN(a, REG.path, NULL, REG1, "use_bias", "false");
    CHECKF(a.b[0] == 0.0f, "use_bias=false, default scaling: bias %g", (double)a.b[0]);
    res_free(&a);
    TRAIN(a, SPARSE, NULL, REG1, "feature_dim", "100", "use_bias", "false");
    TRAIN(b, SPARSE, NULL, REG1, "feature_dim", "100", "use_bias", "true");
    CHECKF(a.b[0] == 0.0f, "sparse, use_bias=false: bias %g", (double)a.b[0]);
    CHECKF(fabs(b.b[0]) > 1.0, "sparse, use_bias=true: bias %g (true 2)", (double)b.b[0]);
    res_free(&a);
    res_free(&b);
}

static void test_init_bias(void)
{
    res a, b;
    TRAIN(a, REG.path, NULL, CLEAN, "epochs", "1", "learning_rate", "1e-6", "init_bias", "5");
    TRAIN(b, REG.path, NULL, CLEAN, "epochs", "1", "learning_rate", "1e-6", "init_bias", "-5");
    CHECKF(fabs(a.b[0] - 5) < 1e-3, "init_bias=5: bias %g", (double)a.b[0]);
    CHECKF(fabs(b.b[0] + 5) < 1e-3, "init_bias=-5: bias %g", (double)b.b[0]);
    res_free(&a);
    res_free(&b);
    /* binary classifier with feature scaling on: without the mean shift the folded bias is the
     * trained one (the label is never scaled for classifiers) */
    TRAIN(a, BIN.path, NULL, BIN1, "epochs", "1", "learning_rate", "1e-6", "unbias_data", "false",
          "init_bias", "2");
    CHECKF(fabs(a.b[0] - 2) < 1e-3, "binary init_bias=2: bias %g", (double)a.b[0]);
    res_free(&a);
}

/* sample standard deviation and largest magnitude of the weights */
static void wstats(const res *r, double *sd, double *mx)
{
    double s = 0, q = 0;
    *mx = 0;
    for (uint64_t j = 0; j < r->D; j++) {
        s += r->w[j];
        q += (double)r->w[j] * r->w[j];
        *mx = fmax(*mx, fabs(r->w[j]));
    }
    double m = s / r->D;
    *sd = sqrt(q / r->D - m * m);
}

static void test_init_method_scale_sigma(void)
{
    res u5, u01, n1, n01;
    double sd, mx;
#define FROZEN "epochs", "1", "learning_rate", "1e-7"
    TRAIN(u5, WIDE.path, NULL, CLEAN, FROZEN, "init_method", "uniform", "init_scale", "0.5");
    TRAIN(u01, WIDE.path, NULL, CLEAN, FROZEN, "init_method", "uniform", "init_scale", "0.01");
    TRAIN(n1, WIDE.path, NULL, CLEAN, FROZEN, "init_method", "normal", "init_sigma", "1");
    TRAIN(n01, WIDE.path, NULL, CLEAN, FROZEN, "init_method", "normal", "init_sigma", "0.01");
    CHECK(u5.D == 50);
    wstats(&u5, &sd, &mx);
    CHECKF(mx <= 0.5001 && mx > 0.4, "uniform 0.5: max |w| %g", mx);
    CHECKF(fabs(sd - 0.5 / sqrt(3)) < 0.07, "uniform 0.5: sd %g, expected %g", sd, 0.5 / sqrt(3));
    wstats(&u01, &sd, &mx);
    CHECKF(mx <= 0.0101 && mx > 0.008, "uniform 0.01: max |w| %g", mx);
    wstats(&n1, &sd, &mx);
    CHECKF(fabs(sd - 1) < 0.25 && mx > 1.5, "normal 1: sd %g, max |w| %g", sd, mx);
    wstats(&n01, &sd, &mx);
    CHECKF(fabs(sd - 0.01) < 0.0025 && mx > 0.015 && mx < 0.05, "normal 0.01: sd %g max %g", sd,
           mx);
    /* init_scale is the uniform draw's bound only; init_sigma the normal draw's only */
    res a;
    TRAIN(a, WIDE.path, NULL, CLEAN, FROZEN, "init_method", "normal", "init_sigma", "1",
          "init_scale", "0.3");
    CHECK(same_model(&a, &n1));
    res_free(&a);
#undef FROZEN
    res_free(&u5);
    res_free(&u01);
    res_free(&n1);
    res_free(&n01);
}

/* fraction of the rows of d whose prediction is above the label */
static double frac_above(const res *r, const dset *d)
{
    float *s, *l;
    if (!predict(r, d, &s, &l)) {
        free(s);
        free(l);
        return NAN;
    }
    double k = 0;
    for (size_t i = 0; i < d->n; i++)
        k += s[i] > d->y[i];
    free(s);
    free(l);
    return k / d->n;
}

static void test_quantile(void)
{
    res hi, lo;
    TRAIN(hi, REGQ.path, NULL, REG1, "loss", "quantile_loss", "quantile", "0.9", "epochs", "40",
          "learning_rate", "0.01", "early_stopping_patience", "100");
    TRAIN(lo, REGQ.path, NULL, REG1, "loss", "quantile_loss", "quantile", "0.1", "epochs", "40",
          "learning_rate", "0.01", "early_stopping_patience", "100");
    CHECK(!strcmp(ll_model_loss(hi.m), "quantile_loss"));
    double fh = frac_above(&hi, &REGQ), fl = frac_above(&lo, &REGQ);
    printf("  quantile 0.9: %.3f of rows below the prediction; 0.1: %.3f (%lld, %lld epochs)\n", fh,
           fl, epochs_done(&hi), epochs_done(&lo));
    CHECKF(fh > 0.82 && fh < 0.97, "quantile 0.9: %g", fh);
    CHECKF(fl > 0.03 && fl < 0.18, "quantile 0.1: %g", fl);
    res_free(&hi);
    res_free(&lo);
}

static void test_huber_and_loss(void)
{
    /* ROUT: y = x0 + 1 + noise, 20% of the rows +20: the mean is pulled up by ~4, not the
     * median. Huber with a tiny delta is robust, with a huge one it is squared loss. */
    res small, big, ab, sq;
    TRAIN(small, ROUT.path, NULL, REG1, "loss", "huber_loss", "huber_delta", "0.05", "epochs",
          "30");
    TRAIN(big, ROUT.path, NULL, REG1, "loss", "huber_loss", "huber_delta", "100", "epochs", "30");
    TRAIN(ab, ROUT.path, NULL, REG1, "loss", "absolute_loss", "epochs", "30");
    TRAIN(sq, ROUT.path, NULL, REG1, "loss", "squared_loss", "epochs", "30");
    printf("  bias: huber 0.05 %.3f, huber 100 %.3f, absolute %.3f, squared %.3f\n",
           (double)small.b[0], (double)big.b[0], (double)ab.b[0], (double)sq.b[0]);
    CHECKF(fabs(small.b[0] - 1) < 0.7, "huber_delta=0.05: bias %g (median line 1)",
           (double)small.b[0]);
    CHECKF(big.b[0] - small.b[0] > 2, "huber_delta=100 bias %g vs 0.05 bias %g", (double)big.b[0],
           (double)small.b[0]);
    CHECKF(fabs(ab.b[0] - 1) < 0.7, "absolute_loss: bias %g", (double)ab.b[0]);
    CHECKF(sq.b[0] - ab.b[0] > 2, "squared_loss bias %g vs absolute %g", (double)sq.b[0],
           (double)ab.b[0]);
    CHECK(!strcmp(ll_model_loss(ab.m), "absolute_loss"));
    res_free(&small);
    res_free(&big);
    res_free(&ab);
    res_free(&sq);
}

static void test_loss_insensitivity(void)
{
    /* an epsilon larger than every residual: no gradient, the weights stay at their draw */
    static const char *const losses[2] = {"eps_insensitive_absolute_loss",
                                          "eps_insensitive_squared_loss"};
    for (int l = 0; l < 2; l++) {
        res wide, narrow;
        TRAIN(wide, REG.path, NULL, CLEAN, "loss", losses[l], "loss_insensitivity", "1000");
        TRAIN(narrow, REG.path, NULL, CLEAN, "loss", losses[l], "loss_insensitivity", "0.01",
              "learning_rate", "0.1");
        for (int j = 0; j < 3; j++)
            CHECKF(fabs(wide.w[j]) <= 0.0701, "%s eps=1000: w%d = %g (not the init draw)",
                   losses[l], j, (double)wide.w[j]);
        CHECKF(wide.b[0] == 0.0f, "%s eps=1000: bias %g", losses[l], (double)wide.b[0]);
        CHECKF(dist_reg(&narrow) < 0.4, "%s eps=0.01: distance to the truth %g", losses[l],
               dist_reg(&narrow));
        res_free(&wide);
        res_free(&narrow);
    }
}

static void test_margin(void)
{
    res m0, m4;
    TRAIN(m0, BSEP.path, NULL, BIN1, "loss", "hinge_loss", "margin", "0.2", "epochs", "20");
    TRAIN(m4, BSEP.path, NULL, BIN1, "loss", "hinge_loss", "margin", "4", "epochs", "20");
    printf("  hinge |w|: margin 0.2 %.3f, margin 4 %.3f\n", wnorm(&m0), wnorm(&m4));
    CHECKF(wnorm(&m4) > 1.5 * wnorm(&m0), "|w| margin 4 %g vs margin 0.2 %g", wnorm(&m4),
           wnorm(&m0));
    CHECK(!strcmp(ll_model_loss(m4.m), "hinge_loss"));
    res_free(&m0);
    res_free(&m4);
}

static void test_momentum(void)
{
    res a, b;
#define SLOW "optimizer", "sgd", "learning_rate", "0.002", "epochs", "1"
    TRAIN(a, REG.path, NULL, CLEAN, SLOW, "momentum", "0");
    TRAIN(b, REG.path, NULL, CLEAN, SLOW, "momentum", "0.9");
#undef SLOW
    printf("  sgd distance to the truth: momentum 0 %.3f, 0.9 %.3f\n", dist_reg(&a), dist_reg(&b));
    CHECKF(dist_reg(&b) < dist_reg(&a) - 0.3, "momentum 0.9: %g vs 0: %g", dist_reg(&b),
           dist_reg(&a));
    res_free(&a);
    res_free(&b);
    /* sparse path */
    TRAIN(a, SPARSE, NULL, REG1, "feature_dim", "100", "optimizer", "sgd", "momentum", "0");
    TRAIN(b, SPARSE, NULL, REG1, "feature_dim", "100", "optimizer", "sgd", "momentum", "0.9");
    CHECKF(max_abs_diff(&a, &b) > 1e-3, "sparse: momentum changes nothing (%g)",
           max_abs_diff(&a, &b));
    res_free(&a);
    res_free(&b);
}

static void test_adam_betas(void)
{
    res base, b1, b2;
#define AD "optimizer", "adam", "learning_rate", "0.05", "epochs", "2"
    TRAIN(base, REG.path, NULL, CLEAN, AD, "beta_1", "0.9", "beta_2", "0.999");
    TRAIN(b1, REG.path, NULL, CLEAN, AD, "beta_1", "0", "beta_2", "0.999");
    TRAIN(b2, REG.path, NULL, CLEAN, AD, "beta_1", "0.9", "beta_2", "0.5");
#undef AD
    CHECKF(max_abs_diff(&base, &b1) > 1e-3, "beta_1: %g", max_abs_diff(&base, &b1));
    CHECKF(max_abs_diff(&base, &b2) > 1e-3, "beta_2: %g", max_abs_diff(&base, &b2));
    CHECKF(max_abs_diff(&b1, &b2) > 1e-3, "beta_1 vs beta_2: %g", max_abs_diff(&b1, &b2));
    res_free(&base);
    res_free(&b1);
    res_free(&b2);
    /* the sparse path (lazy adam) too */
    TRAIN(base, SPARSE, NULL, REG1, "feature_dim", "100", "beta_1", "0.9", "beta_2", "0.999");
    TRAIN(b1, SPARSE, NULL, REG1, "feature_dim", "100", "beta_1", "0", "beta_2", "0.999");
    TRAIN(b2, SPARSE, NULL, REG1, "feature_dim", "100", "beta_1", "0.9", "beta_2", "0.5");
    CHECKF(max_abs_diff(&base, &b1) > 1e-3, "sparse beta_1: %g", max_abs_diff(&base, &b1));
    CHECKF(max_abs_diff(&base, &b2) > 1e-3, "sparse beta_2: %g", max_abs_diff(&base, &b2));
    res_free(&base);
    res_free(&b1);
    res_free(&b2);
}

static void test_lr_scheduler(void)
{
    /* 15 sgd steps an epoch, 5 epochs: halving every step freezes learning after a few */
    res off, freeze, floor_, late, gentle;
#define SC "optimizer", "sgd", "learning_rate", "0.05", "epochs", "5"
    TRAIN(off, REG.path, NULL, CLEAN, SC, "use_lr_scheduler", "false", "lr_scheduler_step", "1",
          "lr_scheduler_factor", "0.5");
    TRAIN(freeze, REG.path, NULL, CLEAN, SC, "use_lr_scheduler", "true", "lr_scheduler_step", "1",
          "lr_scheduler_factor", "0.5", "lr_scheduler_minimum_lr", "1e-9");
    TRAIN(floor_, REG.path, NULL, CLEAN, SC, "use_lr_scheduler", "true", "lr_scheduler_step", "1",
          "lr_scheduler_factor", "0.5", "lr_scheduler_minimum_lr", "0.05");
    TRAIN(late, REG.path, NULL, CLEAN, SC, "use_lr_scheduler", "true", "lr_scheduler_step", "1000",
          "lr_scheduler_factor", "0.5", "lr_scheduler_minimum_lr", "1e-9");
    TRAIN(gentle, REG.path, NULL, CLEAN, SC, "use_lr_scheduler", "true", "lr_scheduler_step", "1",
          "lr_scheduler_factor", "0.99", "lr_scheduler_minimum_lr", "1e-9");
#undef SC
    printf("  distance: scheduler off %.3f, halving %.3f, factor 0.99 %.3f\n", dist_reg(&off),
           dist_reg(&freeze), dist_reg(&gentle));
    CHECKF(dist_reg(&off) < 0.2, "no scheduler: distance %g", dist_reg(&off));
    CHECKF(dist_reg(&freeze) > 1.0, "halving every step: distance %g", dist_reg(&freeze));
    CHECKF(dist_reg(&gentle) < dist_reg(&freeze) - 0.5, "factor 0.99 %g vs 0.5 %g",
           dist_reg(&gentle), dist_reg(&freeze));
    CHECKF(max_abs_diff(&gentle, &off) > 1e-4, "factor 0.99 vs off: %g",
           max_abs_diff(&gentle, &off));
    /* a floor at the learning rate itself, or a step longer than the run: no decay at all */
    CHECK(same_model(&floor_, &off));
    CHECK(same_model(&late, &off));
    res_free(&off);
    res_free(&freeze);
    res_free(&floor_);
    res_free(&late);
    res_free(&gentle);
}

static void test_bias_lr_wd_mult(void)
{
    res a, b;
#define SB "optimizer", "sgd", "learning_rate", "0.01", "epochs", "1"
    TRAIN(a, REG.path, NULL, CLEAN, SB, "bias_lr_mult", "1");
    TRAIN(b, REG.path, NULL, CLEAN, SB, "bias_lr_mult", "20");
#undef SB
    printf("  bias after 15 sgd steps: bias_lr_mult 1 %.3f, 20 %.3f\n", (double)a.b[0],
           (double)b.b[0]);
    CHECKF(fabs(b.b[0] - TB) < fabs(a.b[0] - TB) - 0.5, "bias_lr_mult 20: %g, 1: %g",
           (double)b.b[0], (double)a.b[0]);
    res_free(&a);
    res_free(&b);
    TRAIN(a, REG.path, NULL, CLEAN, "wd", "0.1", "bias_wd_mult", "0");
    TRAIN(b, REG.path, NULL, CLEAN, "wd", "0.1", "bias_wd_mult", "50");
    printf("  bias with wd 0.1: bias_wd_mult 0 %.3f, 50 %.3f\n", (double)a.b[0], (double)b.b[0]);
    CHECKF(fabs(a.b[0] - TB) < 0.4, "bias_wd_mult 0: bias %g", (double)a.b[0]);
    CHECKF(fabs(b.b[0]) < 0.5 * fabs(a.b[0]), "bias_wd_mult 50: bias %g vs %g", (double)b.b[0],
           (double)a.b[0]);
    res_free(&a);
    res_free(&b);
}

static void test_wd_l1(void)
{
    res a, b;
    TRAIN(a, REG.path, NULL, CLEAN, "wd", "0", "learning_rate", "0.1");
    TRAIN(b, REG.path, NULL, CLEAN, "wd", "1", "learning_rate", "0.1");
    CHECKF(wnorm(&b) < 0.7 * wnorm(&a), "wd=1: |w| %g vs wd=0 %g", wnorm(&b), wnorm(&a));
    res_free(&a);
    res_free(&b);
    /* WIDE: only feature 0 matters; l1 zeroes (exactly) most of the other 49 */
    int z0 = 0, z1 = 0;
#define SL "optimizer", "sgd", "learning_rate", "0.05"
    TRAIN(a, WIDE.path, NULL, CLEAN, SL, "l1", "0");
    TRAIN(b, WIDE.path, NULL, CLEAN, SL, "l1", "0.1");
#undef SL
    for (int j = 1; j < 50; j++) {
        z0 += a.w[j] == 0.0f;
        z1 += b.w[j] == 0.0f;
    }
    printf("  exact zeros among 49 irrelevant weights: l1 0 %d, l1 0.1 %d\n", z0, z1);
    CHECKF(z0 == 0 && z1 >= 40, "zeros: l1=0 %d, l1=0.1 %d", z0, z1);
    CHECKF(fabs(b.w[0] - 1) < 0.3, "l1=0.1: w0 %g (true 1)", (double)b.w[0]);
    res_free(&a);
    res_free(&b);
    /* sparse: features 10..99 do not matter */
    TRAIN(a, SPARSE, NULL, REG1, "feature_dim", "100", "optimizer", "sgd", "l1", "0");
    TRAIN(b, SPARSE, NULL, REG1, "feature_dim", "100", "optimizer", "sgd", "l1", "0.5");
    z0 = z1 = 0;
    for (int j = 10; j < 100; j++) {
        z0 += a.w[j] == 0.0f;
        z1 += b.w[j] == 0.0f;
    }
    printf("  sparse: exact zeros among 90 irrelevant weights: l1 0 %d, l1 0.5 %d\n", z0, z1);
    CHECKF(z1 > z0 + 30, "sparse zeros: l1=0 %d, l1=0.5 %d", z0, z1);
    res_free(&a);
    res_free(&b);
}

static void test_optimizer_learning_rate(void)
{
    res sgd, adam, rms;
    TRAIN(sgd, REG.path, NULL, CLEAN, "optimizer", "sgd", "epochs", "2");
    TRAIN(adam, REG.path, NULL, CLEAN, "optimizer", "adam", "epochs", "2");
    TRAIN(rms, REG.path, NULL, CLEAN, "optimizer", "rmsprop", "epochs", "2");
    CHECK(max_abs_diff(&sgd, &adam) > 1e-3 && max_abs_diff(&sgd, &rms) > 1e-3 &&
          max_abs_diff(&adam, &rms) > 1e-3);
    /* learning_rate=auto: 0.01 for sgd and rmsprop, 0.005 for adam (docs/TRAINING.md) */
    CHECKF(fabs(selm(&sgd, "learning_rate") - 0.01) < 1e-9, "sgd lr %g",
           selm(&sgd, "learning_rate"));
    CHECKF(fabs(selm(&adam, "learning_rate") - 0.005) < 1e-9, "adam lr %g",
           selm(&adam, "learning_rate"));
    res_free(&sgd);
    res_free(&adam);
    res_free(&rms);
    res tiny, fast;
    TRAIN(tiny, REG.path, NULL, CLEAN, "epochs", "1", "learning_rate", "1e-6");
    TRAIN(fast, REG.path, NULL, CLEAN, "epochs", "1", "learning_rate", "0.1");
    for (int j = 0; j < 3; j++)
        CHECKF(fabs(tiny.w[j]) < 0.071, "lr 1e-6: w%d %g", j, (double)tiny.w[j]);
    CHECKF(dist_reg(&fast) < dist_reg(&tiny) - 1, "lr 0.1 %g vs 1e-6 %g", dist_reg(&fast),
           dist_reg(&tiny));
    CHECKF(fabs(selm(&fast, "learning_rate") - 0.1) < 1e-9, "lr %g", selm(&fast, "learning_rate"));
    res_free(&tiny);
    res_free(&fast);
}

static void test_batch_epochs_models(void)
{
    res one, many;
#define SE "optimizer", "sgd", "learning_rate", "0.01", "epochs", "1"
    TRAIN(one, REG.path, NULL, CLEAN, SE, "mini_batch_size", "300");
    TRAIN(many, REG.path, NULL, CLEAN, SE, "mini_batch_size", "10");
#undef SE
    CHECKF(dist_reg(&many) < dist_reg(&one) - 0.5, "30 steps %g vs 1 step %g", dist_reg(&many),
           dist_reg(&one));
    const char *mbs = json_string_value(
        json_object_get(json_object_get(many.j, "hyperparameters"), "mini_batch_size"));
    CHECK(mbs && !strcmp(mbs, "10"));
    res_free(&one);
    res_free(&many);
    res e1, e8;
    TRAIN(e1, REG.path, NULL, CLEAN, "optimizer", "sgd", "learning_rate", "0.01", "epochs", "1");
    TRAIN(e8, REG.path, NULL, CLEAN, "optimizer", "sgd", "learning_rate", "0.01", "epochs", "8");
    CHECKF(epochs_done(&e1) == 1 && epochs_done(&e8) == 8, "epochs_completed %lld, %lld",
           epochs_done(&e1), epochs_done(&e8));
    CHECKF(dist_reg(&e8) < dist_reg(&e1) - 1, "8 epochs %g vs 1 %g", dist_reg(&e8), dist_reg(&e1));
    res_free(&e1);
    res_free(&e8);
    /* num_models: slow models all under-train; with 4 the lr x8 variant (model 1) is best */
    res m1, m4;
#define SM "optimizer", "sgd", "learning_rate", "0.001", "epochs", "1"
    TRAIN(m1, REG.path, NULL, CLEAN, SM, "num_models", "1");
    TRAIN(m4, REG.path, NULL, CLEAN, SM, "num_models", "4");
#undef SM
    CHECKF(selm(&m1, "index") == 0 && fabs(selm(&m1, "learning_rate") - 0.001) < 1e-12,
           "1 model: index %g lr %g", selm(&m1, "index"), selm(&m1, "learning_rate"));
    CHECKF(selm(&m4, "index") == 1 && fabs(selm(&m4, "learning_rate") - 0.008) < 1e-12,
           "4 models: index %g lr %g", selm(&m4, "index"), selm(&m4, "learning_rate"));
    CHECK(dist_reg(&m4) < dist_reg(&m1));
    res_free(&m1);
    res_free(&m4);
}

static void test_normalize_data(void)
{
    res on, off;
    TRAIN(on, XBIG.path, NULL, REG1, "normalize_data", "true", "learning_rate", "0.1");
    TRAIN(off, XBIG.path, NULL, REG1, "normalize_data", "false", "learning_rate", "0.1");
    /* XBIG = REG with x * 100: the raw weights are TW / 100 */
    double d_on = 0, d_off = 0;
    for (int j = 0; j < 3; j++) {
        d_on += fabs(on.w[j] * 100 - TW[j]);
        d_off += fabs(off.w[j] * 100 - TW[j]);
    }
    printf("  x*100: |100 w - w_true|_1 normalize on %.3f, off %.3f\n", d_on, d_off);
    CHECKF(d_on < 0.3 && d_off > d_on, "normalize_data on %g off %g", d_on, d_off);
    res_free(&on);
    res_free(&off);
    /* sparse: scaling (root mean square of the non-zeros) and, asked for, centring */
    res sh;
    TRAIN(on, SPARSE, NULL, REG1, "feature_dim", "100", "normalize_data", "true");
    TRAIN(off, SPARSE, NULL, REG1, "feature_dim", "100", "normalize_data", "false");
    TRAIN(sh, SPARSE, NULL, REG1, "feature_dim", "100", "normalize_data", "true", "unbias_data",
          "true");
    CHECKF(max_abs_diff(&on, &off) > 1e-3, "sparse normalize_data: %g", max_abs_diff(&on, &off));
    CHECKF(max_abs_diff(&on, &sh) > 1e-3, "sparse unbias_data: %g", max_abs_diff(&on, &sh));
    res_free(&on);
    res_free(&off);
    res_free(&sh);
}

static void test_label_scaling(void)
{
    res a, b;
    /* Y100: labels x100 (sd ~230): unscaled, 15 epochs of adam at 0.1 cannot reach them */
    TRAIN(a, Y100.path, NULL, REG1, "normalize_label", "true");
    TRAIN(b, Y100.path, NULL, REG1, "normalize_label", "false");
    printf("  y*100 train rmse: normalize_label on %.2f, off %.2f\n", met(&a, "train:rmse"),
           met(&b, "train:rmse"));
    CHECKF(met(&a, "train:rmse") < 0.5 * met(&b, "train:rmse"), "normalize_label: %g vs %g",
           met(&a, "train:rmse"), met(&b, "train:rmse"));
    res_free(&a);
    res_free(&b);
    /* YOFF: labels +1000: without centring the bias has far to go */
    TRAIN(a, YOFF.path, NULL, REG1, "unbias_label", "true");
    TRAIN(b, YOFF.path, NULL, REG1, "unbias_label", "false");
    printf("  y+1000 train rmse: unbias_label on %.2f, off %.2f\n", met(&a, "train:rmse"),
           met(&b, "train:rmse"));
    CHECKF(met(&a, "train:rmse") < 0.5 * met(&b, "train:rmse"), "unbias_label: %g vs %g",
           met(&a, "train:rmse"), met(&b, "train:rmse"));
    res_free(&a);
    res_free(&b);
}

static void test_unbias_data(void)
{
    res a, b;
    /* XOFF: features +50: centring them keeps the bias from doing all the work */
    TRAIN(a, XOFF.path, NULL, REG1, "unbias_data", "true", "epochs", "5");
    TRAIN(b, XOFF.path, NULL, REG1, "unbias_data", "false", "epochs", "5");
    printf("  x+50 train rmse: unbias_data on %.3f, off %.3f\n", met(&a, "train:rmse"),
           met(&b, "train:rmse"));
    CHECKF(max_abs_diff(&a, &b) > 1e-3, "unbias_data changes nothing");
    CHECKF(met(&a, "train:rmse") < met(&b, "train:rmse"), "unbias_data: %g vs %g",
           met(&a, "train:rmse"), met(&b, "train:rmse"));
    res_free(&a);
    res_free(&b);
}

static void test_num_point_for_scaler(void)
{
    /* BORD: the first 100 rows hold 90 negatives and 10 positives, the whole set 100 and 200:
     * "balanced" is #neg/#pos of the scaler sample */
    res a, b;
    TRAIN(a, BORD.path, NULL, BIN1, "positive_example_weight_mult", "balanced",
          "num_point_for_scaler", "100");
    TRAIN(b, BORD.path, NULL, BIN1, "positive_example_weight_mult", "balanced",
          "num_point_for_scaler", "10000");
    double pa = selm(&a, "positive_example_weight_mult"),
           pb = selm(&b, "positive_example_weight_mult");
    CHECKF(fabs(pa - 9) < 1e-6 && fabs(pb - 0.5) < 1e-6, "balanced weight %g (100 rows), %g", pa,
           pb);
    CHECK(max_abs_diff(&a, &b) > 1e-3);
    res_free(&a);
    res_free(&b);
}

static void test_early_stopping(void)
{
    res a, b, c;
#define ES "optimizer", "sgd", "learning_rate", "0.002", "epochs", "12"
    TRAIN(a, REG.path, REGV.path, CLEAN, ES, "early_stopping_tolerance", "1e-6");
    TRAIN(b, REG.path, REGV.path, CLEAN, ES, "early_stopping_tolerance", "10");
    TRAIN(c, REG.path, REGV.path, CLEAN, ES, "early_stopping_tolerance", "10",
          "early_stopping_patience", "1");
#undef ES
    CHECKF(epochs_done(&a) == 12, "tolerance 1e-6: %lld epochs", epochs_done(&a));
    /* the first epoch improves, then patience + 1 that do not (SageMaker's traces) */
    CHECKF(epochs_done(&b) == 5, "tolerance 10, patience 3: %lld epochs", epochs_done(&b));
    CHECKF(epochs_done(&c) == 3, "tolerance 10, patience 1: %lld epochs", epochs_done(&c));
    res_free(&a);
    res_free(&b);
    res_free(&c);
}

static void test_calibration(void)
{
    res a, b;
    TRAIN(a, BIN.path, BINV.path, BIN1, "num_calibration_samples", "3");
    TRAIN(b, BIN.path, BINV.path, BIN1, "num_calibration_samples", "10000");
    printf("  threshold: 3 calibration rows %.4f, 10000 %.4f\n", (double)a.thr, (double)b.thr);
    CHECK(a.thr != b.thr);
    {
        /* tuned on the first 3 validation rows only: the threshold lies within their scores */
        float *sc = NULL, *lb = NULL;
        int ok = predict(&a, &BINV, &sc, &lb);
        double lo = ok ? fmin(sc[0], fmin(sc[1], sc[2])) : NAN,
               hi = ok ? fmax(sc[0], fmax(sc[1], sc[2])) : NAN;
        free(sc);
        free(lb);
        CHECKF(ok && a.thr >= lo - 1e-4 && a.thr <= hi + 1e-4,
               "threshold %g outside the first 3 rows' scores [%g, %g]", (double)a.thr, lo, hi);
    }
    res_free(&a);
    res_free(&b);
    /* f_beta: recall-heavy beta lowers the threshold */
#define FB "binary_classifier_model_selection_criteria", "f_beta"
    TRAIN(a, BIN.path, BINV.path, BIN1, FB, "f_beta", "10");
    TRAIN(b, BIN.path, BINV.path, BIN1, FB, "f_beta", "0.1");
#undef FB
    printf("  threshold: f_beta 10 %.4f, 0.1 %.4f\n", (double)a.thr, (double)b.thr);
    CHECK(a.thr < b.thr);
    CHECK(isfinite(met(&a, "validation:binary_f_10.000")));
    CHECK(isfinite(met(&b, "validation:binary_f_0.100")));
    CHECK(met(&a, "validation:recall") > met(&b, "validation:recall"));
    res_free(&a);
    res_free(&b);
#define PR "binary_classifier_model_selection_criteria", "precision_at_target_recall"
    TRAIN(a, BIN.path, BINV.path, BIN1, PR, "target_recall", "0.95");
    TRAIN(b, BIN.path, BINV.path, BIN1, PR, "target_recall", "0.3");
#undef PR
    printf("  threshold: target_recall 0.95 %.4f, 0.3 %.4f\n", (double)a.thr, (double)b.thr);
    CHECK(a.thr < b.thr);
    CHECKF(met(&a, "validation:recall") >= 0.95, "recall %g", met(&a, "validation:recall"));
    res_free(&a);
    res_free(&b);
#define RP "binary_classifier_model_selection_criteria", "recall_at_target_precision"
    TRAIN(a, BIN.path, BINV.path, BIN1, RP, "target_precision", "0.95");
    TRAIN(b, BIN.path, BINV.path, BIN1, RP, "target_precision", "0.55");
#undef RP
    printf("  threshold: target_precision 0.95 %.4f, 0.55 %.4f\n", (double)a.thr, (double)b.thr);
    CHECK(a.thr > b.thr);
    CHECKF(met(&a, "validation:precision") >= 0.95, "precision %g",
           met(&a, "validation:precision"));
    res_free(&a);
    res_free(&b);
}

static void test_positive_weight(void)
{
#define LF "binary_classifier_model_selection_criteria", "loss_function"
    res a, b;
    TRAIN(a, BIN.path, NULL, BIN1, LF, "positive_example_weight_mult", "10");
    TRAIN(b, BIN.path, NULL, BIN1, LF, "positive_example_weight_mult", "0.1");
#undef LF
    printf("  train recall: positive weight 10 %.3f, 0.1 %.3f\n", met(&a, "train:recall"),
           met(&b, "train:recall"));
    CHECK(a.thr == 0.5f && b.thr == 0.5f);
    CHECK(met(&a, "train:recall") > met(&b, "train:recall") + 0.2);
    CHECK(selm(&a, "positive_example_weight_mult") == 10);
    CHECK(!strcmp(ll_model_loss(a.m), "logistic")); /* loss=auto */
    res_free(&a);
    res_free(&b);
}

static void test_accuracy_top_k(void)
{
    static const char *const MC1[] = {"predictor_type",
                                      "multiclass_classifier",
                                      "num_classes",
                                      "4",
                                      "num_models",
                                      "1",
                                      "mini_batch_size",
                                      "40",
                                      NULL};
    res a, b;
    TRAIN(a, MC4.path, MC4V.path, MC1, "accuracy_top_k", "2");
    TRAIN(b, MC4.path, MC4V.path, MC1, "accuracy_top_k", "1");
    double top1 = met(&a, "validation:multiclass_accuracy");
    double top2 = met(&a, "validation:multiclass_top_k_accuracy_2");
    printf("  validation accuracy top-1 %.3f, top-2 %.3f\n", top1, top2);
    CHECKF(top2 > top1 + 0.05 && top2 <= 1, "top-2 %g, top-1 %g", top2, top1);
    CHECK(met(&a, "validation:multiclass_top_k_accuracy") == top2);
    CHECK(isnan(met(&a, "validation:multiclass_top_k_accuracy_3")));
    CHECK(met(&b, "validation:multiclass_top_k_accuracy_1") ==
          met(&b, "validation:multiclass_accuracy"));
    res_free(&a);
    res_free(&b);
}

static void test_balance_multiclass_weights(void)
{
    static const char *const MC1[] = {"predictor_type",
                                      "multiclass_classifier",
                                      "num_classes",
                                      "3",
                                      "num_models",
                                      "1",
                                      "mini_batch_size",
                                      "40",
                                      NULL};
    res a, b;
    TRAIN(a, MC.path, NULL, MC1, "balance_multiclass_weights", "true");
    TRAIN(b, MC.path, NULL, MC1, "balance_multiclass_weights", "false");
    double ra = class_recall(&a, &MC, 2), rb = class_recall(&b, &MC, 2);
    printf("  rare class recall: balanced %.3f, not %.3f\n", ra, rb);
    CHECKF(ra > rb + 0.2, "balanced %g vs %g", ra, rb);
    res_free(&a);
    res_free(&b);
}

/* ---- setup ---- */

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int setup(void)
{
    strcpy(dir, "/tmp/ll_hpfx_XXXXXX");
    if (!mkdtemp(dir))
        return 0;
    int ok = make_reg(&REG, "reg", 300, 1, 0.1) && make_reg(&REGV, "regv", 200, 2, 0.1) &&
             make_reg(&REGQ, "regq", 400, 3, 1.0);
    ok = ok && make_affine(&Y100, &REG, "y100", 100, 0, 1, 0) &&
         make_affine(&YOFF, &REG, "yoff", 1, 1000, 1, 0) &&
         make_affine(&XOFF, &REG, "xoff", 1, 0, 1, 50) &&
         make_affine(&XBIG, &REG, "xbig", 1, 0, 100, 0);
    /* ROUT: y = x0 + 1 + 0.2 N, every 5th row + 20 */
    if (ok && make_reg(&ROUT, "rout", 300, 5, 0)) {
        rs = 55;
        for (size_t i = 0; i < ROUT.n; i++)
            ROUT.y[i] = (float)(ROUT.X[i * 3] + 1 + 0.2 * nrand() + (i % 5 == 0 ? 20 : 0));
        ok = dset_write(&ROUT);
    } else
        ok = 0;
    /* WIDE: 50 features, y = x0 + 0.1 N */
    if (ok && dset_alloc(&WIDE, 200, 50, "wide")) {
        rs = 6;
        for (size_t i = 0; i < WIDE.n; i++) {
            for (size_t j = 0; j < 50; j++)
                WIDE.X[i * 50 + j] = (float)nrand();
            WIDE.y[i] = (float)(WIDE.X[i * 50] + 0.1 * nrand());
        }
        ok = dset_write(&WIDE);
    } else
        ok = 0;
    ok = ok && make_bin(&BIN, "bin", 400, 7, 1.0, 0) && make_bin(&BINV, "binv", 300, 8, 1.0, 0) &&
         make_bin(&BSEP, "bsep", 300, 9, 0, 0.5);
    /* BORD: 300 rows, first 100 with 10 positives, the next 200 with 190 */
    if (ok && make_bin(&BORD, "bord", 300, 10, 1.0, 0)) {
        for (size_t i = 0; i < 300; i++)
            BORD.y[i] = i < 100 ? (i % 10 == 0) : (i % 20 != 0);
        ok = dset_write(&BORD);
    } else
        ok = 0;
    static const int cnt3[3] = {300, 80, 20};
    static const double mean3[3][2] = {{0, 0}, {1.5, 0}, {0, 1.5}};
    static const int cnt4[4] = {100, 100, 100, 100}, cnt4v[4] = {60, 60, 60, 60};
    static const double mean4[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
    ok = ok && make_mc(&MC, "mc", 12, 3, cnt3, mean3) && make_mc(&MC4, "mc4", 13, 4, cnt4, mean4) &&
         make_mc(&MC4V, "mc4v", 14, 4, cnt4v, mean4) && make_sparse();
    return ok;
}

int main(void)
{
    TT_BEGIN("test_hp_effects");
    if (!setup()) {
        fprintf(stderr, "test_hp_effects: cannot write the data sets under /tmp\n");
        tt_failed++;
        TT_END();
    }
    RUN(test_use_bias);
    RUN(test_init_bias);
    RUN(test_init_method_scale_sigma);
    RUN(test_quantile);
    RUN(test_huber_and_loss);
    RUN(test_loss_insensitivity);
    RUN(test_margin);
    RUN(test_momentum);
    RUN(test_adam_betas);
    RUN(test_lr_scheduler);
    RUN(test_bias_lr_wd_mult);
    RUN(test_wd_l1);
    RUN(test_optimizer_learning_rate);
    RUN(test_batch_epochs_models);
    RUN(test_normalize_data);
    RUN(test_label_scaling);
    RUN(test_unbias_data);
    RUN(test_num_point_for_scaler);
    RUN(test_early_stopping);
    RUN(test_calibration);
    RUN(test_positive_weight);
    RUN(test_accuracy_top_k);
    RUN(test_balance_multiclass_weights);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    dset *all[] = {&REG,  &REGV, &REGQ, &ROUT, &WIDE, &Y100, &YOFF, &XOFF,
                   &XBIG, &BIN,  &BINV, &BSEP, &BORD, &MC,   &MC4,  &MC4V};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        dset_free(all[i]);
    TT_END();
}
