/* SPDX-License-Identifier: Apache-2.0 */
/* test_loss.c - loss values against hand-computed references and derivatives against finite
 * differences; metrics (AUC, calibration) on small known cases. */
#include "cpu.h"
#include "loss.h"
#include "metrics.h"
#include "pool.h"
#include "tt.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_values(void)
{
    loss_params p = {LOSS_LOGISTIC, 1, 0.1, 0.9, 1.0};
    CHECK(fabs(loss_eval(&p, 0, 1, NULL) - log(2)) < 1e-12);
    CHECK(fabs(loss_eval(&p, 2, 0, NULL) - log(1 + exp(2))) < 1e-12);
    CHECK(fabs(loss_eval(&p, 800, 0, NULL) - 800) < 1e-9); /* no overflow */
    p.kind = LOSS_HINGE;                                   /* margin 1: y=1 needs z >= 1 */
    CHECK(loss_eval(&p, 1.0, 1, NULL) == 0 && fabs(loss_eval(&p, 0.5, 1, NULL) - 0.5) < 1e-12);
    CHECK(loss_eval(&p, 0.0, 0, NULL) == 0 && fabs(loss_eval(&p, 0.25, 0, NULL) - 0.25) < 1e-12);
    p.kind = LOSS_QUANTILE; /* q = 0.9 */
    CHECK(fabs(loss_eval(&p, 1, 3, NULL) - 1.8) < 1e-12);
    CHECK(fabs(loss_eval(&p, 3, 1, NULL) - 0.2) < 1e-12);
    p.kind = LOSS_HUBER;
    CHECK(fabs(loss_eval(&p, 0.5, 0, NULL) - 0.125) < 1e-12);
    CHECK(fabs(loss_eval(&p, 3, 0, NULL) - 2.5) < 1e-12);
    p.kind = LOSS_EPS_ABSOLUTE;
    CHECK(loss_eval(&p, 0.05, 0, NULL) == 0 && fabs(loss_eval(&p, 1, 0, NULL) - 0.9) < 1e-12);
    p.kind = LOSS_EPS_SQUARED;
    CHECK(loss_eval(&p, 0.05, 0, NULL) == 0 && fabs(loss_eval(&p, 1, 0, NULL) - 0.99) < 1e-12);
    float z[3] = {1, 2, 3};
    double l = loss_softmax(z, 3, 0, NULL);
    CHECK(fabs(l - (log(exp(1) + exp(2) + exp(3)) - 1)) < 1e-6);
}

static void test_derivatives(void)
{
    loss_kind kinds[] = {LOSS_LOGISTIC,    LOSS_HINGE,        LOSS_SQUARED,  LOSS_ABSOLUTE,
                         LOSS_EPS_SQUARED, LOSS_EPS_ABSOLUTE, LOSS_QUANTILE, LOSS_HUBER};
    double zs[] = {-1.3, -0.2, 0.37, 0.81, 2.2};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        loss_params p = {kinds[k], 1.5, 0.1, 0.3, 0.7};
        for (int y = 0; y <= 1; y++)
            for (size_t i = 0; i < 5; i++) {
                double d, h = 1e-6;
                loss_eval(&p, zs[i], y, &d);
                double fd =
                    (loss_eval(&p, zs[i] + h, y, NULL) - loss_eval(&p, zs[i] - h, y, NULL)) /
                    (2 * h);
                CHECKF(fabs(d - fd) < 1e-4, "loss %d z %g y %d: %g vs %g", (int)kinds[k], zs[i], y,
                       d, fd);
            }
    }
    float z[4] = {0.3f, -1.0f, 2.0f, 0.5f}, dz[4];
    loss_softmax(z, 4, 2, dz);
    for (int c = 0; c < 4; c++) {
        float zp[4], zm[4];
        memcpy(zp, z, sizeof z);
        memcpy(zm, z, sizeof z);
        zp[c] += 1e-3f;
        zm[c] -= 1e-3f;
        double fd = (loss_softmax(zp, 4, 2, NULL) - loss_softmax(zm, 4, 2, NULL)) / 2e-3;
        CHECK(fabs(dz[c] - fd) < 1e-3);
    }
}

/* The float fast path against the double reference over z in [-100, 100], both labels. */
static void test_logistic_fast_path(void)
{
    enum { N = 4001 };
    static float z[N], l[N], d[N];
    for (int i = 0; i < N; i++)
        z[i] = (float)(-100.0 + 0.05 * i);
    loss_params p = {LOSS_LOGISTIC, 1, 0, 0.5, 1};
    double worst_l = 0, worst_d = 0;
    for (int y = 0; y <= 1; y++) {
        loss_logistic_n(z, N, (float)y, l, d);
        for (int i = 0; i < N; i++) {
            double dz, ref = loss_eval(&p, z[i], y, &dz);
            double el = fabs(l[i] - ref) / fmax(ref, 1e-30), ed = fabs(d[i] - dz);
            if (ref < 1e-30)
                el = fabs(l[i] - ref);
            worst_l = fmax(worst_l, el);
            worst_d = fmax(worst_d, ed);
        }
    }
    CHECKF(worst_l < 2e-6, "logistic loss relative error %g", worst_l);
    CHECKF(worst_d < 1e-6, "logistic gradient error %g", worst_d);
}

static void test_auc_and_calibration(void)
{
    float s[6] = {0.9f, 0.8f, 0.7f, 0.6f, 0.4f, 0.2f};
    float y[6] = {1, 1, 0, 1, 0, 0};
    /* positives above negatives: 3*3 pairs, the 0.6 positive is below one negative: 8/9 */
    CHECK(fabs(metrics_auc(s, y, NULL, 6, NULL) - 8.0 / 9) < 1e-12);
    hp_values hv;
    memset(&hv, 0, sizeof hv);
    hv.criteria = CRIT_ACCURACY;
    calib c;
    ll_err err;
    CHECK_OK(metrics_calibrate(s, y, NULL, 6, &hv, &c, &err));
    /* best accuracy 5/6 at a cut between 0.8 and 0.7 or between 0.6 and 0.4 */
    CHECK(fabs(c.value - 5.0 / 6) < 1e-12);
    CHECK((c.threshold > 0.7f && c.threshold < 0.8f) || (c.threshold > 0.4f && c.threshold < 0.6f));
    hv.criteria = CRIT_PRECISION_AT_RECALL;
    hv.target_recall = 0.99;
    CHECK_OK(metrics_calibrate(s, y, NULL, 6, &hv, &c, &err));
    CHECK(fabs(c.value - 0.75) < 1e-12 && c.threshold > 0.4f && c.threshold < 0.6f);
    hv.criteria = CRIT_RECALL_AT_PRECISION;
    hv.target_precision = 0.99;
    CHECK_OK(metrics_calibrate(s, y, NULL, 6, &hv, &c, &err));
    CHECK(fabs(c.value - 2.0 / 3) < 1e-12 && c.threshold > 0.7f && c.threshold < 0.8f);
}

/* metrics_calibrate's bucketed walk against the full sort: the same value and threshold (bit for
 * bit) for every criterion on sigmoid-like, tied, skewed and raw (signed) scores. */
static void test_calibration_fast_equals_exact(void)
{
    static const crit_kind crits[4] = {CRIT_ACCURACY, CRIT_F_BETA, CRIT_PRECISION_AT_RECALL,
                                       CRIT_RECALL_AT_PRECISION};
    size_t n = 60000;
    float *s = malloc(n * sizeof *s), *y = malloc(n * sizeof *y), *w = malloc(n * sizeof *w);
    uint64_t x = 12345;
    int bad = 0, cases = 0;
    for (int shape = 0; shape < 6; shape++) {
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            double u = (double)(x >> 11) / 9007199254740992.0;
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            double v = (double)(x >> 11) / 9007199254740992.0;
            double z = (u - 0.5) * 8;
            switch (shape) {
            case 0: /* sigmoid of a score correlated with the label */
                y[i] = v < 1 / (1 + exp(-z));
                s[i] = (float)(1 / (1 + exp(-z)));
                break;
            case 1: /* heavy ties: 50 distinct values */
                y[i] = v < u;
                s[i] = (float)floor(u * 50) / 50;
                break;
            case 2: /* rare positives */
                y[i] = v < 0.02 * (1 + u);
                s[i] = (float)(u * u);
                break;
            case 3: /* raw margins of both signs, some exact zeros */
                y[i] = v < u;
                s[i] = i % 97 ? (float)(z * (0.5 + v)) : 0.0f;
                break;
            case 4: /* nearly constant: every score in a few ulps */
                y[i] = v < 0.5;
                s[i] = nextafterf(0.5f, (float)(i % 4));
                break;
            default: /* one label only */
                y[i] = 1;
                s[i] = (float)u;
                break;
            }
            w[i] = 1;
        }
        for (int c = 0; c < 4; c++)
            for (int t = 0; t < 3; t++) {
                hp_values hv;
                memset(&hv, 0, sizeof hv);
                hv.criteria = crits[c];
                hv.f_beta = t == 0 ? 1.0 : t == 1 ? 0.5 : 2.0;
                hv.target_recall = hv.target_precision = t == 0 ? 0.8 : t == 1 ? 0.5 : 0.97;
                calib a, b;
                ll_err err;
                CHECK_OK(metrics_calibrate(s, y, t == 2 ? w : NULL, n, &hv, &a, &err));
                CHECK_OK(metrics_calibrate_exact(s, y, NULL, n, &hv, &b, &err));
                cases++;
                if (a.value != b.value || memcmp(&a.threshold, &b.threshold, sizeof(float))) {
                    bad++;
                    fprintf(stderr, "shape %d crit %d t %d: fast %.17g %.9g exact %.17g %.9g\n",
                            shape, c, t, a.value, a.threshold, b.value, b.threshold);
                }
            }
    }
    CHECKF(bad == 0, "%d of %d calibrations differ", bad, cases);
    /* a weight other than 1 takes the full sort: still the same answer */
    w[7] = 2;
    hp_values hv;
    memset(&hv, 0, sizeof hv);
    calib a, b;
    ll_err err;
    CHECK_OK(metrics_calibrate(s, y, w, n, &hv, &a, &err));
    CHECK_OK(metrics_calibrate_exact(s, y, w, n, &hv, &b, &err));
    CHECK(a.value == b.value && a.threshold == b.threshold);
    free(s);
    free(y);
    free(w);
}

/* The logistic loss of a 0/1 label takes one softplus: the same bits as the two-term formula,
 * and the two-term formula where a term is not finite or the label is not 0/1. */
static void test_logistic_one_term(void)
{
    loss_params p = {LOSS_LOGISTIC, 1, 0.1, 0.9, 1.0};
    static const double zs[] = {0, 1e-300, -3.5, 2.25, 40, -40, 700, -745.5, 1e300};
    int same = 0, n = 0;
    for (size_t i = 0; i < sizeof zs / sizeof zs[0]; i++)
        for (int y = 0; y <= 1; y++) {
            double z = zs[i], two = y * loss_softplus(-z) + (1 - y) * loss_softplus(z);
            double one = loss_eval(&p, z, y, NULL), dz = 0;
            n++;
            same += memcmp(&one, &two, sizeof one) == 0;
            loss_eval(&p, z, y, &dz);
            CHECKF(fabs(dz - (loss_sigmoid(z) - y)) == 0, "z %g y %d: gradient %g", z, y, dz);
        }
    CHECKF(same == n, "%d of %d values differ from the two-term formula", n - same, n);
    CHECK(isnan(loss_eval(&p, INFINITY, 0.5, NULL)) || isinf(loss_eval(&p, INFINITY, 0.5, NULL)));
    CHECK(fabs(loss_eval(&p, 1.0, 0.25, NULL) -
               (0.25 * loss_softplus(-1.0) + 0.75 * loss_softplus(1.0))) < 1e-15);
}

/* Binary metrics summed in blocks: one call, calls of random sizes and two threads give the
 * same bits; the sums match a long double reference. */
static void add_rows(metrics *m, const float *z, const float *y, const float *w, size_t n,
                     unsigned seed)
{
    ll_err err;
    size_t i = 0;
    while (i < n) {
        size_t k = seed ? 1 + (size_t)(rand_r(&seed) % 20000) : n;
        if (k > n - i)
            k = n - i;
        CHECK_OK(metrics_add(m, z + i, y + i, w ? w + i : NULL, k, &err));
        i += k;
    }
}

typedef struct rep {
    int n;
    char name[24][64];
    double v[24];
} rep;

static void rep_fn(void *ud, const char *name, const char *log_name, double v, int is_loss)
{
    rep *r = ud;
    if (r->n < 24) {
        snprintf(r->name[r->n], sizeof r->name[r->n], "%s", name);
        r->v[r->n++] = v;
    }
}

static void test_binary_metrics_blocks(void)
{
    enum { N = 100003 };
    float *z = malloc(N * sizeof *z), *y = malloc(N * sizeof *y), *w = malloc(N * sizeof *w);
    unsigned seed = 7;
    long double loss = 0, n = 0;
    loss_params lp = {LOSS_LOGISTIC, 1, 0.1, 0.9, 1.0};
    for (int i = 0; i < N; i++) {
        z[i] = (float)((rand_r(&seed) % 20001) / 1000.0 - 10);
        y[i] = (float)(rand_r(&seed) % 2);
        w[i] = (float)(0.5 + (rand_r(&seed) % 100) / 50.0);
        loss += (long double)w[i] * loss_eval(&lp, z[i], y[i], NULL);
        n += w[i];
    }
    hp_values hv;
    memset(&hv, 0, sizeof hv);
    hv.pred = LL_BINARY_CLASSIFIER;
    hv.f_beta = 1;
    ll_err err;
    pool *pl = pool_new(2, &err);
    CHECK(pl != NULL);
    for (int wt = 0; wt < 2; wt++) {
        rep r[4];
        memset(r, 0, sizeof r);
        for (int way = 0; way < 4; way++) {
            metrics m;
            CHECK_OK(metrics_init(&m, &hv, &lp, 1, 0.5f, &err));
            if (way == 3)
                m.pool = pl;
            add_rows(&m, z, y, wt ? w : NULL, N, way == 1 ? 11u : way == 2 ? 12345u : 0u);
            metrics_report(&m, rep_fn, &r[way]);
            CHECKF(m.ns == N, "%zu scores kept of %d", m.ns, N);
            metrics_deinit(&m);
        }
        for (int way = 1; way < 4; way++) {
            CHECK(r[way].n == r[0].n && r[0].n > 5);
            for (int i = 0; i < r[0].n; i++)
                CHECKF(memcmp(&r[way].v[i], &r[0].v[i], sizeof(double)) == 0,
                       "weights %d, way %d: %s %.17g vs %.17g", wt, way, r[0].name[i], r[way].v[i],
                       r[0].v[i]);
        }
        if (wt) {
            double ref = (double)(loss / n);
            CHECKF(strcmp(r[0].name[0], "objective_loss") == 0 &&
                       fabs(r[0].v[0] - ref) <= 1e-13 * ref,
                   "%s %.17g, long double %.17g", r[0].name[0], r[0].v[0], ref);
        }
    }
    pool_free(pl);
    free(z);
    free(y);
    free(w);
}

/* The AUC of unit weights (a radix sort of keys) equals the general walk's (weights all 0.5:
 * the same sums times powers of two, so the same bits) on ties, signed zeros and infinities. */
static void test_auc_unit_weights(void)
{
    enum { N = 50000 };
    float *sc = malloc(N * sizeof *sc), *y = malloc(N * sizeof *y), *w = malloc(N * sizeof *w);
    unsigned seed = 3;
    int same = 0, cases = 0;
    for (int c = 0; c < 4; c++) {
        size_t n = c == 0 ? 7 : c == 1 ? 5000 : N;
        for (size_t i = 0; i < n; i++) {
            int r = rand_r(&seed) % 1000;
            sc[i] = c == 3 ? (float)(r % 7) : (float)((rand_r(&seed) % 100001) / 1e5 - 0.5);
            if (r < 5)
                sc[i] = r & 1 ? -0.0f : 0.0f;
            else if (r < 8)
                sc[i] = r & 1 ? INFINITY : -INFINITY;
            y[i] = (float)(rand_r(&seed) % 2);
            w[i] = 0.5f;
        }
        double a = metrics_auc(sc, y, NULL, n, NULL), b = metrics_auc(sc, y, w, n, NULL);
        cases++;
        same += memcmp(&a, &b, sizeof a) == 0;
        CHECKF(a > 0 && a < 1, "AUC %g", a);
    }
    CHECKF(same == cases, "%d of %d AUCs differ from the general walk", cases - same, cases);
    free(sc);
    free(y);
    free(w);
}

/* Turns the AVX-512 kernels on (*had: the setting before); 0 when the CPU has none. */
static int wide_on(int *had)
{
    *had = cpu_set_avx512(1);
    if (cpu_avx512())
        return 1;
    cpu_set_avx512(*had);
    return 0;
}

/* The AVX-512 variants of the float kernels give the baseline's bits, on every lane count and
 * on special values (cpu.h). */
static void test_kernels_same_bits_any_width(void)
{
    int had;
    if (!wide_on(&had))
        SKIP("this CPU has no AVX-512F: one width only");
    enum { N = 4099 };
    static float z[N], l[2][N], d[2][N], v[2][N], p[2][N];
    uint64_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(x >> 11) / 9007199254740992.0;
        z[i] = (float)((u * 2 - 1) * (i % 3 == 0 ? 120 : i % 3 == 1 ? 9 : 0.01));
    }
    float sp[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-42f, -1e-42f, 88.7f, -88.7f, 1e30f};
    for (size_t i = 0; i < sizeof sp / sizeof *sp; i++)
        z[i * 37] = sp[i];
    for (int w = 0; w < 2; w++) {
        cpu_set_avx512(w);
        for (int n0 = 0; n0 < N; n0 += 1 + n0 % 37) { /* calls of 1 .. 37 floats, and one long */
            int n = n0 + 1 + n0 % 37 <= N ? 1 + n0 % 37 : N - n0;
            loss_logistic_n(z + n0, (size_t)n, (float)(n0 & 1), l[w] + n0, d[w] + n0);
            loss_logistic_value_n(z + n0, (size_t)n, (float)(n0 & 1), v[w] + n0);
        }
        loss_sigmoid_n(z, N, p[w]);
    }
    cpu_set_avx512(had);
    CHECK(memcmp(l[0], l[1], sizeof l[0]) == 0);
    CHECK(memcmp(d[0], d[1], sizeof d[0]) == 0);
    CHECK(memcmp(v[0], v[1], sizeof v[0]) == 0);
    CHECK(memcmp(p[0], p[1], sizeof p[0]) == 0);
    CHECK(memcmp(l[0], v[0], sizeof l[0]) == 0); /* the value-only kernel: the same losses */
}

/* Threshold calibration gives the same threshold and value whichever width checks the scores
 * and finds their key range: random scores, ties, one non-finite score, a -0, a weight not 1. */
static void test_calibration_any_width(void)
{
    int had;
    if (!wide_on(&had))
        SKIP("this CPU has no AVX-512F: one width only");
    enum { N = 20011 };
    static float s[N], y[N], w[N];
    uint64_t x = 777;
    hp_values hv;
    memset(&hv, 0, sizeof hv);
    hv.criteria = CRIT_ACCURACY;
    for (int c = 0; c < 5; c++) {
        for (int i = 0; i < N; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            double u = (double)(x >> 11) / 9007199254740992.0;
            s[i] = c == 1 ? (float)(int)(u * 50) / 50 : (float)(u * 2 - 1) * (c == 2 ? 1e-3f : 3);
            y[i] = (x >> 7) % 3 == 0;
            w[i] = 1.0f;
        }
        if (c == 2)
            s[N - 3] = NAN;
        if (c == 3)
            s[N / 2] = -0.0f;
        if (c == 4)
            w[N - 1] = 2.0f;
        calib a, b;
        ll_err err;
        cpu_set_avx512(1);
        CHECK_OK(metrics_calibrate(s, y, w, N, &hv, &a, &err));
        cpu_set_avx512(0);
        CHECK_OK(metrics_calibrate(s, y, w, N, &hv, &b, &err));
        CHECKF(memcmp(&a.threshold, &b.threshold, sizeof a.threshold) == 0 && a.value == b.value,
               "case %d: %.9g/%.9g vs %.9g/%.9g", c, a.threshold, a.value, b.threshold, b.value);
    }
    cpu_set_avx512(had);
}

int main(void)
{
    TT_BEGIN("test_loss");
    RUN(test_calibration_any_width);
    RUN(test_kernels_same_bits_any_width);
    RUN(test_values);
    RUN(test_derivatives);
    RUN(test_auc_and_calibration);
    RUN(test_calibration_fast_equals_exact);
    RUN(test_logistic_fast_path);
    RUN(test_logistic_one_term);
    RUN(test_binary_metrics_blocks);
    RUN(test_auc_unit_weights);
    TT_END();
}
