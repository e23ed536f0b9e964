/* SPDX-License-Identifier: Apache-2.0 */
/* test_train_quality.c - default hyperparameters (plus predictor_type, feature_dim,
 * num_classes) with the validation channel on every data set of shared/testdata/datasets,
 * test metrics compared with reference.json: accuracy/F1 within 0.03, ROC AUC within 0.01,
 * RMSE and absolute loss within 5%. */
#include "linlearn.h"
#include "tt.h"
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name, *ext;
    const char *hp[8];
    int index_base;
} dataset;

static char last_mbs[32]; /* the resolved mini_batch_size of the last run */

static double ref_of(json_t *ref, const char *metric)
{
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(ref, "reference"), k, v)
    {
        json_t *x = json_object_get(v, metric);
        if (json_is_number(x))
            return json_number_value(x);
    }
    return NAN;
}

/* exact: the options' exact_final_metrics; no_val: without the validation channel; *sel
 * (when not NULL): the metrics file's selected_model. */
static int run_as(const dataset *d, int exact, int no_val, json_t **metrics, json_t **ref,
                  json_t **sel)
{
    char tr[512], va[512], te[512], rp[512];
    const char *td = tt_testdata();
    snprintf(tr, sizeof tr, "%s/datasets/%s/train.%s", td, d->name, d->ext);
    snprintf(va, sizeof va, "%s/datasets/%s/validation.%s", td, d->name, d->ext);
    snprintf(te, sizeof te, "%s/datasets/%s/test.%s", td, d->name, d->ext);
    snprintf(rp, sizeof rp, "%s/datasets/%s/reference.json", td, d->name);
    char mj[] = "/tmp/ll_quality_XXXXXX";
    int fd = mkstemp(mj);
    if (fd < 0)
        return 0;
    ll_err err;
    ll_hparams *hp = NULL;
    ll_code rc = ll_hparams_new(&hp, &err);
    for (int i = 0; rc == LL_OK && d->hp[i]; i += 2)
        rc = ll_hparams_set(hp, d->hp[i], d->hp[i + 1], &err);
    ll_train_opts o;
    ll_train_opts_init(&o);
    o.train = tr;
    o.validation = no_val ? NULL : va;
    o.test = te;
    o.exact_final_metrics = exact;
    o.parse.index_base = d->index_base;
    o.metrics_json = mj;
    if (rc == LL_OK)
        rc = ll_train(hp, &o, &err);
    ll_hparams_free(hp);
    if (rc != LL_OK) {
        char b[512];
        fprintf(stderr, "  %s: %s\n", d->name, ll_err_format(&err, b, sizeof b));
        remove(mj);
        return 0;
    }
    json_t *j = json_load_file(mj, 0, NULL);
    remove(mj);
    *ref = json_load_file(rp, 0, NULL);
    if (!j || !*ref)
        return 0;
    *metrics = json_incref(json_object_get(j, "metrics"));
    if (sel)
        *sel = json_incref(json_object_get(j, "selected_model"));
    const char *mbs = json_string_value(
        json_object_get(json_object_get(j, "hyperparameters"), "mini_batch_size"));
    snprintf(last_mbs, sizeof last_mbs, "%s", mbs ? mbs : "?");
    json_decref(j);
    return 1;
}

static int run(const dataset *d, json_t **metrics, json_t **ref)
{
    return run_as(d, 0, 0, metrics, ref, NULL);
}

static double got(json_t *m, const char *k)
{
    json_t *x = json_object_get(m, k);
    return json_is_number(x) ? json_number_value(x) : NAN;
}

#define NEAR_ABS(metric, tol)                                                                      \
    do {                                                                                           \
        double g_ = got(m, metric), r_ = ref_of(ref, metric);                                      \
        printf("  %-16s %-36s got %.4f ref %.4f\n", d.name, metric, g_, r_);                       \
        CHECKF(fabs(g_ - r_) <= (tol), "%s: %s = %g, reference %g", d.name, metric, g_, r_);       \
    } while (0)
#define NEAR_REL(metric, tol)                                                                      \
    do {                                                                                           \
        double g_ = got(m, metric), r_ = ref_of(ref, metric);                                      \
        printf("  %-16s %-36s got %.4f ref %.4f\n", d.name, metric, g_, r_);                       \
        CHECKF(g_ <= r_ * (1 + (tol)), "%s: %s = %g, reference %g", d.name, metric, g_, r_);       \
    } while (0)

static void test_breast_cancer(void)
{
    dataset d = {"breast_cancer",
                 "csv",
                 {"predictor_type", "binary_classifier", "feature_dim", "30", NULL},
                 1};
    json_t *m = NULL, *ref = NULL;
    CHECK(run(&d, &m, &ref));
    NEAR_ABS("test:binary_classification_accuracy", 0.03);
    NEAR_ABS("test:binary_f_1.000", 0.03);
    NEAR_ABS("test:roc_auc_score", 0.01);
    json_decref(m);
    json_decref(ref);
}

static void test_diabetes(void)
{
    dataset d = {"diabetes", "csv", {"predictor_type", "regressor", "feature_dim", "10", NULL}, 1};
    json_t *m = NULL, *ref = NULL;
    CHECK(run(&d, &m, &ref));
    NEAR_REL("test:rmse", 0.05);
    NEAR_REL("test:absolute_loss", 0.05);
    json_decref(m);
    json_decref(ref);
}

static void test_sparse_synthetic(void)
{
    dataset d = {"sparse_synthetic",
                 "libsvm",
                 {"predictor_type", "binary_classifier", "feature_dim", "10000", NULL},
                 0};
    json_t *m = NULL, *ref = NULL;
    CHECK(run(&d, &m, &ref));
    NEAR_ABS("test:binary_classification_accuracy", 0.03);
    NEAR_ABS("test:roc_auc_score", 0.01);
    json_decref(m);
    json_decref(ref);
}

static void test_digits(void)
{
    dataset d = {
        "digits",
        "csv",
        {"predictor_type", "multiclass_classifier", "feature_dim", "64", "num_classes", "10", NULL},
        1};
    json_t *m = NULL, *ref = NULL;
    CHECK(run(&d, &m, &ref));
    NEAR_ABS("test:multiclass_accuracy", 0.03);
    NEAR_ABS("test:macro_f_beta", 0.03);
    /* 1078 rows with the default mini_batch_size: at least 10 batches an epoch (108 rows) */
    CHECKF(!strcmp(last_mbs, "108"), "digits: effective mini_batch_size %s, expected 108",
           last_mbs);
    json_decref(m);
    json_decref(ref);
}

/* The final metrics of the selection channel from the selection pass's scores (the default)
 * against a second pass of the saved model (exact_final_metrics): the same selected model and
 * threshold, every metric within float32 rounding of the scores (docs/TRAINING.md). */
static void fold_vs_exact(const dataset *d, int no_val)
{
    json_t *m0 = NULL, *m1 = NULL, *s0 = NULL, *s1 = NULL, *ref = NULL;
    CHECK(run_as(d, 0, no_val, &m0, &ref, &s0));
    json_decref(ref);
    ref = NULL;
    CHECK(run_as(d, 1, no_val, &m1, &ref, &s1));
    json_decref(ref);
    CHECKF(json_equal(s0, s1), "%s: the selected model differs", d->name);
    CHECKF(json_object_size(m0) > 4 && json_object_size(m0) == json_object_size(m1),
           "%s: %zu metrics, exact %zu", d->name, json_object_size(m0), json_object_size(m1));
    const char *k;
    json_t *v;
    size_t n = 0, same = 0;
    json_object_foreach(m1, k, v)
    {
        double a = got(m0, k), b = json_number_value(v);
        CHECKF(fabs(a - b) <= 1e-6 * fmax(1, fabs(b)), "%s: %s = %.17g, exact %.17g", d->name, k, a,
               b);
        n++;
        same += a == b;
    }
    printf("  %-16s %s: %zu metrics, %zu bit-identical to the exact pass\n", d->name,
           no_val ? "no validation" : "validation", n, same);
    json_decref(m0);
    json_decref(m1);
    json_decref(s0);
    json_decref(s1);
}

static void test_folded_final_metrics(void)
{
    dataset bc = {"breast_cancer",
                  "csv",
                  {"predictor_type", "binary_classifier", "feature_dim", "30", NULL},
                  1};
    dataset ss = {"sparse_synthetic",
                  "libsvm",
                  {"predictor_type", "binary_classifier", "feature_dim", "10000",
                   "binary_classifier_model_selection_criteria", "precision_at_target_recall",
                   NULL},
                  0};
    dataset db = {"diabetes", "csv", {"predictor_type", "regressor", "feature_dim", "10", NULL}, 1};
    fold_vs_exact(&bc, 0);
    fold_vs_exact(&bc, 1);
    fold_vs_exact(&ss, 1);
    fold_vs_exact(&db, 1);
}

int main(void)
{
    TT_BEGIN("test_train_quality");
    RUN(test_breast_cancer);
    RUN(test_diabetes);
    RUN(test_sparse_synthetic);
    RUN(test_digits);
    RUN(test_folded_final_metrics);
    TT_END();
}
