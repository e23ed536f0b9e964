/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_warm_start.c - `train --initial-model` (ll_train_opts.initial_model): every model starts
 * from the initial model's weights, mapped into the new run's scaled space; a model trained on
 * A and continued on B ends where one run over A then B ends; mismatches are refused before
 * any data is read. Data: halves of the breast_cancer, diabetes and digits train splits, and
 * SageMaker's real titanic artifact (tests/data/sagemaker/models).
 */
#include "linlearn.h"
#include "tt.h"
#include <jansson.h>
#include <math.h>
#include <unistd.h>

static char g_dir[] = "/tmp/llwarm.XXXXXX";

typedef struct ds {
    const char *name, *pred, *classes;
} ds;

static const ds BIN = {"breast_cancer", "binary_classifier", NULL};
static const ds REG = {"diabetes", "regressor", NULL};
static const ds MUL = {"digits", "multiclass_classifier", "10"};

/* Paths of a data set's files: A (first half of train), B (second half), AB (A then B), the
 * test split. */
typedef struct files {
    char a[600], b[600], ab[600], test[600];
} files;

static int split(const ds *d, files *f)
{
    char tr[600];
    snprintf(tr, sizeof tr, "%s/datasets/%s/train.csv", tt_testdata(), d->name);
    snprintf(f->test, sizeof f->test, "%s/datasets/%s/test.csv", tt_testdata(), d->name);
    snprintf(f->a, sizeof f->a, "%s/%s.A.csv", g_dir, d->name);
    snprintf(f->b, sizeof f->b, "%s/%s.B.csv", g_dir, d->name);
    snprintf(f->ab, sizeof f->ab, "%s/%s.AB.csv", g_dir, d->name);
    FILE *in = fopen(tr, "r");
    if (!in)
        return 0;
    static char line[1 << 16];
    size_t n = 0;
    while (fgets(line, sizeof line, in))
        n++;
    rewind(in);
    FILE *a = fopen(f->a, "w"), *b = fopen(f->b, "w"), *ab = fopen(f->ab, "w");
    for (size_t i = 0; fgets(line, sizeof line, in); i++) {
        fputs(line, i < n / 2 ? a : b);
        fputs(line, ab);
    }
    fclose(in);
    fclose(a);
    fclose(b);
    fclose(ab);
    return 1;
}

typedef struct run_out {
    json_t *metrics;   /* the metrics JSON */
    double first_loss; /* epoch 0's train loss of model 0 (the #quality_metric line) */
    char model[700];   /* its model.tar.gz */
} run_out;

static void on_log(void *ud, const char *line)
{
    run_out *o = ud;
    const char *p = strstr(line, "#quality_metric: host=algo-1, epoch=0, train ");
    if (p && (p = strstr(p, "<loss>=")))
        o->first_loss = strtod(p + 7, NULL);
}

static int g_runs;

/* Trains with the data set's predictor type, the given extra hyperparameters (name, value,
 * ..., NULL) and an optional initial model. */
static ll_code train(const ds *d, const char *tr, const char *te, const char *init,
                     const char *const *kv, run_out *out, ll_err *err)
{
    memset(out, 0, sizeof *out);
    out->first_loss = NAN;
    char dir[620], mj[640];
    snprintf(dir, sizeof dir, "%s/run%d", g_dir, g_runs++);
    snprintf(mj, sizeof mj, "%s.json", dir);
    snprintf(out->model, sizeof out->model, "%s/model.tar.gz", dir);
    ll_hparams *hp = NULL;
    ll_code rc = ll_hparams_new(&hp, err);
    if (rc == LL_OK)
        rc = ll_hparams_set(hp, "predictor_type", d->pred, err);
    if (rc == LL_OK && d->classes)
        rc = ll_hparams_set(hp, "num_classes", d->classes, err);
    for (size_t i = 0; rc == LL_OK && kv && kv[i]; i += 2)
        rc = ll_hparams_set(hp, kv[i], kv[i + 1], err);
    ll_train_opts o;
    ll_train_opts_init(&o);
    o.train = tr;
    o.test = te;
    o.model_dir = dir;
    o.metrics_json = mj;
    o.threads = 1;
    o.initial_model = init;
    o.log = on_log;
    o.ud = out;
    if (rc == LL_OK)
        rc = ll_train(hp, &o, err);
    ll_hparams_free(hp);
    if (rc == LL_OK) {
        json_t *j = json_load_file(mj, 0, NULL);
        out->metrics = json_incref(json_object_get(j, "metrics"));
        json_decref(j);
    }
    return rc;
}

static double metric(const run_out *o, const char *name)
{
    json_t *v = json_object_get(o->metrics, name);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static double rel(double a, double b)
{
    return fabs(a - b) / fabs(b);
}

/* With a learning rate too small to move anything, the continued run's model is the initial
 * one: its loss on B equals the initial model's loss on B (scored with raw features when
 * the first run tested on B). This checks the mapping into the new scaler's space, whose
 * means and deviations come from B, not A. */
static void keeps_the_model(const ds *d)
{
    files f;
    CHECK(split(d, &f));
    ll_err err;
    static const char *const kv[] = {"epochs", "2", "mini_batch_size", "20", NULL};
    static const char *const still[] = {"epochs",
                                        "1",
                                        "learning_rate",
                                        "1e-12",
                                        "mini_batch_size",
                                        "20",
                                        "num_models",
                                        "4",
                                        "wd",
                                        "0",
                                        "l1",
                                        "0",
                                        "bias_lr_mult",
                                        "1",
                                        NULL};
    run_out a, w, cold;
    CHECK_OK(train(d, f.a, f.b, NULL, kv, &a, &err));
    double l0 = metric(&a, "test:objective_loss");
    CHECK_OK(train(d, f.b, NULL, a.model, still, &w, &err));
    CHECK_OK(train(d, f.b, NULL, NULL, still, &cold, &err));
    double lw = metric(&w, "train:objective_loss"), lc = metric(&cold, "train:objective_loss");
    printf("  %s: initial model on B %.6g, continued (lr 1e-12) %.6g, untrained %.6g\n", d->name,
           l0, lw, lc);
    CHECKF(rel(lw, l0) < 1e-4, "%s: loss %g, the initial model's %g", d->name, lw, l0);
    CHECKF(lc > 1.5 * l0, "%s: an untrained model's loss %g is not far above %g", d->name, lc, l0);
    /* classifiers train on raw labels: the first epoch's loss is the initial model's too */
    if (strcmp(d->pred, "regressor"))
        CHECKF(rel(w.first_loss, l0) < 1e-3 && cold.first_loss > 1.5 * l0,
               "%s: first-epoch loss %g (initial model %g, untrained %g)", d->name, w.first_loss,
               l0, cold.first_loss);
    json_decref(a.metrics);
    json_decref(w.metrics);
    json_decref(cold.metrics);
}

static void keeps_the_model_binary(void)
{
    keeps_the_model(&BIN);
}

static void keeps_the_model_regressor(void)
{
    keeps_the_model(&REG);
}

static void keeps_the_model_multiclass(void)
{
    keeps_the_model(&MUL);
}

/* A, then B continued from A's model, ends within 5 % of one run over A then B (the test-set
 * objective; one epoch each, one model, so the two see the same rows in the same order and
 * differ only in the optimizer state, the scaler and the scheduler restarting). B alone ends
 * more than 10 % worse, so the check would catch a warm start that is ignored. The first epoch
 * on B starts near A's model's loss, not at an untrained model's. */
static void continues_training(const ds *d)
{
    files f;
    CHECK(split(d, &f));
    ll_err err;
    static const char *const kv[] = {"epochs", "1", "mini_batch_size", "20", "num_models",
                                     "1",      NULL};
    run_out a, w, one, b;
    CHECK_OK(train(d, f.a, f.b, NULL, kv, &a, &err));
    CHECK_OK(train(d, f.b, f.test, a.model, kv, &w, &err));
    CHECK_OK(train(d, f.ab, f.test, NULL, kv, &one, &err));
    CHECK_OK(train(d, f.b, f.test, NULL, kv, &b, &err));
    double lw = metric(&w, "test:objective_loss"), l1 = metric(&one, "test:objective_loss"),
           lb = metric(&b, "test:objective_loss");
    printf("  %s test loss: A then B %.6g, one run over A+B %.6g, B alone %.6g; first epoch on "
           "B %.6g (A's model on B %.6g, untrained %.6g)\n",
           d->name, lw, l1, lb, w.first_loss, metric(&a, "test:objective_loss"), b.first_loss);
    CHECKF(rel(lw, l1) < 0.05, "%s: A then B %g vs one run %g", d->name, lw, l1);
    CHECKF(lb > 1.1 * l1, "%s: B alone %g is no worse than A+B %g (the check has no teeth)",
           d->name, lb, l1);
    if (strcmp(d->pred, "regressor"))
        CHECKF(rel(w.first_loss, metric(&a, "test:objective_loss")) < 0.2 &&
                   w.first_loss < 0.8 * b.first_loss,
               "%s: first epoch %g", d->name, w.first_loss);
    json_decref(a.metrics);
    json_decref(w.metrics);
    json_decref(one.metrics);
    json_decref(b.metrics);
}

static void continues_training_binary(void)
{
    continues_training(&BIN);
}

static void continues_training_regressor(void)
{
    continues_training(&REG);
}

/* SageMaker's own artifact (the real titanic model, 5 features) as the initial model: with a
 * learning rate of 1e-12 the run's loss is the artifact's loss on the data, computed here from
 * its weights with sigmoid(x.w + b). */
static void starts_from_a_sagemaker_artifact(void)
{
    char art[600], data[700];
    snprintf(art, sizeof art, "%s/sagemaker/models/titanic-binary-2018/model.tar.gz",
             tt_testdata());
    snprintf(data, sizeof data, "%s/titanic-like.csv", g_dir);
    ll_err err;
    ll_model *m = NULL;
    CHECK_OK(ll_model_load(art, &m, &err));
    CHECK(ll_model_feature_dim(m) == 5 && ll_model_n_outputs(m) == 1);
    const float *w = ll_model_weights(m), *b = ll_model_bias(m);
    FILE *f = fopen(data, "w");
    CHECK(f != NULL);
    uint64_t x = 99;
    double loss = 0;
    int n = 300;
    for (int i = 0; i < n; i++) {
        float v[5];
        double z = b[0];
        for (int j = 0; j < 5; j++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            v[j] = (float)((double)(x >> 40) / 16777216.0 * 4 - 1); /* exact in float and text */
            z += (double)w[j] * v[j];
        }
        int y = (i * 7919) % 3 == 0;
        double p = 1 / (1 + exp(-z));
        loss -= y ? log(p) : log(1 - p);
        fprintf(f, "%d", y);
        for (int j = 0; j < 5; j++)
            fprintf(f, ",%.9g", (double)v[j]);
        fputc('\n', f);
    }
    fclose(f);
    ll_model_free(m);
    loss /= n;
    static const char *const still[] = {"epochs",     "1", "learning_rate", "1e-12", "wd", "0",
                                        "num_models", "2", "bias_lr_mult",  "1",     NULL};
    run_out r;
    CHECK_OK(train(&BIN, data, NULL, art, still, &r, &err));
    double got = metric(&r, "train:objective_loss");
    printf("  SageMaker artifact: its loss %.6g, continued (lr 1e-12) %.6g, first epoch %.6g\n",
           loss, got, r.first_loss);
    CHECKF(rel(got, loss) < 1e-4 && rel(r.first_loss, loss) < 1e-3, "loss %g / %g, want %g", got,
           r.first_loss, loss);
    json_decref(r.metrics);
}

/* Refused before any data is read: the train channel does not even exist. */
static void mismatches_refused_first(void)
{
    files f;
    CHECK(split(&BIN, &f));
    ll_err err;
    static const char *const kv[] = {"epochs", "1", NULL};
    run_out a, x;
    CHECK_OK(train(&BIN, f.a, NULL, NULL, kv, &a, &err));
    json_decref(a.metrics);
    char missing[700];
    snprintf(missing, sizeof missing, "%s/no-such-train.csv", g_dir);
    CHECK(train(&REG, missing, NULL, a.model, kv, &x, &err) == LL_E_ARG);
    CHECKF(strstr(err.msg, "binary_classifier") && strstr(err.msg, "regressor") &&
               strstr(err.src, "model.tar.gz"),
           "%s: %s", err.src, err.msg);
    static const char *const fd[] = {"feature_dim", "29", NULL};
    CHECK(train(&BIN, missing, NULL, a.model, fd, &x, &err) == LL_E_ARG);
    CHECKF(strstr(err.msg, "30 features") && strstr(err.msg, "feature_dim is 29"), "%s", err.msg);
    static const char *const mc[] = {"num_classes", "3", NULL};
    ds bin_as_multi = {"breast_cancer", "multiclass_classifier", NULL};
    CHECK(train(&bin_as_multi, missing, NULL, a.model, mc, &x, &err) == LL_E_ARG);
    /* feature_dim auto: the model's; wider data is refused naming the initial model */
    files g;
    CHECK(split(&REG, &g));
    run_out r;
    CHECK_OK(train(&REG, g.a, NULL, NULL, kv, &r, &err));
    json_decref(r.metrics);
    CHECK(train(&BIN, f.b, NULL, r.model, kv, &x, &err) == LL_E_ARG); /* regressor model */
    ds reg_on_bc = {"breast_cancer", "regressor", NULL};
    CHECK(train(&reg_on_bc, f.b, NULL, r.model, kv, &x, &err) == LL_E_PARSE);
    CHECKF(strstr(err.msg, "initial model") && strstr(err.msg, "30 features"), "%s", err.msg);
}

int main(void)
{
    TT_BEGIN("warm_start");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(keeps_the_model_binary);
    RUN(keeps_the_model_regressor);
    RUN(keeps_the_model_multiclass);
    RUN(continues_training_binary);
    RUN(continues_training_regressor);
    RUN(starts_from_a_sagemaker_artifact);
    RUN(mismatches_refused_first);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_dir);
    TT_END();
}
