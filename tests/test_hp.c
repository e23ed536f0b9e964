/* SPDX-License-Identifier: Apache-2.0 */
/* test_hp.c - hyperparameters: defaults, checks with messages naming name/value/range, JSON
 * files, cross-checks, and refusal before any data is read. */
#include "hp.h"
#include "linlearn.h"
#include "tt.h"
#include <stdlib.h>

static void test_defaults_and_set(void)
{
    ll_err err;
    ll_hparams *hp = NULL;
    CHECK_OK(ll_hparams_new(&hp, &err));
    CHECK(!strcmp(ll_hparams_get(hp, "mini_batch_size"), "1000"));
    CHECK(!strcmp(ll_hparams_get(hp, "epochs"), "15"));
    CHECK(!strcmp(ll_hparams_get(hp, "optimizer"), "auto"));
    CHECK(ll_hparams_get(hp, "predictor_type") == NULL);
    CHECK(ll_hparams_get(hp, "nope") == NULL);
    CHECK_OK(ll_hparams_set(hp, "use_bias", "False", &err));
    CHECK_OK(ll_hparams_set(hp, "use_lr_scheduler", "TRUE", &err));
    CHECK_OK(ll_hparams_set(hp, "positive_example_weight_mult", "balanced", &err));
    CHECK_OK(ll_hparams_set(hp, "_kvstore", "dist_sync", &err));
    CHECK_OK(ll_hparams_set(hp, "predictor_type", "regressor", &err));
    hp_values v;
    CHECK_OK(hp_resolve(hp, &v, &err));
    CHECK(v.use_bias == 0 && v.use_lr_scheduler == 1 && v.posw_mode == POSW_BALANCED);
    CHECK(v.loss == LOSS_SQUARED && v.optimizer == OPT_ADAM && v.learning_rate == 0.005);
    CHECK(v.lr_scheduler_step == 10 && v.lr_scheduler_minimum_lr == 1e-4 &&
          v.lr_scheduler_factor == 0.99);
    CHECK(v.num_models == 32 && v.epochs == 15 && v.mini_batch_size == 1000);
    CHECK(v.bias_lr_mult == 10 && v.bias_wd_mult == 0 && v.beta_1 == 0.9 && v.beta_2 == 0.999);
    ll_hparams_free(hp);
}

static void test_refusals_name_value_range(void)
{
    ll_err err;
    ll_hparams *hp = NULL;
    CHECK_OK(ll_hparams_new(&hp, &err));
    CHECK(ll_hparams_set(hp, "mini_batch_siz", "10", &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "mini_batch_siz"));
    CHECK(ll_hparams_set(hp, "epochs", "0", &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "epochs") && strstr(err.msg, "'0'") && strstr(err.msg, ">= 1"));
    CHECK(ll_hparams_set(hp, "epochs", "1.5", &err) == LL_E_ARG);
    CHECK(ll_hparams_set(hp, "beta_1", "1", &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "[0, 1)"));
    CHECK(ll_hparams_set(hp, "wd", "-1", &err) == LL_E_ARG);
    CHECK(ll_hparams_set(hp, "use_bias", "yes", &err) == LL_E_ARG);
    CHECK(ll_hparams_set(hp, "optimizer", "adagrad", &err) == LL_E_ARG);
    CHECK(ll_hparams_set(hp, "quantile", "1", &err) == LL_E_ARG);
    CHECK(ll_hparams_set(hp, "learning_rate", "abc", &err) == LL_E_ARG);
    CHECK(ll_hparams_set(hp, "feature_dim", "auto", &err) == LL_OK);
    CHECK(ll_hparams_set(hp, "epochs", "auto", &err) == LL_E_ARG);
    /* cross-checks */
    CHECK(ll_hparams_validate(hp, &err) == LL_E_ARG && strstr(err.msg, "predictor_type"));
    CHECK_OK(ll_hparams_set(hp, "predictor_type", "multiclass_classifier", &err));
    CHECK(ll_hparams_validate(hp, &err) == LL_E_ARG && strstr(err.msg, "num_classes"));
    CHECK_OK(ll_hparams_set(hp, "num_classes", "5", &err));
    CHECK_OK(ll_hparams_validate(hp, &err));
    CHECK_OK(ll_hparams_set(hp, "loss", "logistic", &err));
    CHECK(ll_hparams_validate(hp, &err) == LL_E_ARG && strstr(err.msg, "softmax_loss"));
    CHECK_OK(ll_hparams_set(hp, "loss", "auto", &err));
    CHECK_OK(ll_hparams_set(hp, "use_bias", "false", &err));
    CHECK_OK(ll_hparams_validate(hp, &err)); /* unbias_data=auto follows use_bias */
    CHECK_OK(ll_hparams_set(hp, "unbias_data", "True", &err));
    CHECK(ll_hparams_validate(hp, &err) == LL_E_ARG && strstr(err.msg, "unbias_data") &&
          strstr(err.msg, "use_bias"));
    ll_hparams_free(hp);
}

static void test_json_file(void)
{
    ll_err err;
    char path[] = "/tmp/ll_test_hp_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("{\"feature_dim\": \"30\", \"predictor_type\": \"binary_classifier\", "
          "\"epochs\": 40, \"use_bias\": \"True\", \"wd\": 0.5}",
          f);
    fclose(f);
    ll_hparams *hp = NULL;
    CHECK_OK(ll_hparams_new(&hp, &err));
    CHECK_OK(ll_hparams_load_json(hp, path, &err));
    hp_values v;
    CHECK_OK(hp_resolve(hp, &v, &err));
    CHECK(v.feature_dim == 30 && v.epochs == 40 && v.use_bias && v.wd == 0.5);
    f = fopen(path, "w");
    fputs("{\"epochs\": \"-3\"}", f);
    fclose(f);
    CHECK(ll_hparams_load_json(hp, path, &err) == LL_E_ARG && strstr(err.msg, "epochs"));
    remove(path);
    ll_hparams_free(hp);
}

static void test_refused_before_reading_data(void)
{
    ll_err err;
    ll_hparams *hp = NULL;
    CHECK_OK(ll_hparams_new(&hp, &err));
    CHECK_OK(ll_hparams_set(hp, "predictor_type", "regressor", &err));
    CHECK_OK(ll_hparams_set(hp, "loss", "hinge_loss", &err));
    ll_train_opts o;
    ll_train_opts_init(&o);
    o.train = "/nonexistent/train.csv";
    /* the loss does not fit a regressor: LL_E_ARG, not an I/O error on the missing file */
    CHECK(ll_train(hp, &o, &err) == LL_E_ARG && strstr(err.msg, "loss"));
    ll_hparams_free(hp);
}

int main(void)
{
    TT_BEGIN("test_hp");
    RUN(test_defaults_and_set);
    RUN(test_refusals_name_value_range);
    RUN(test_json_file);
    RUN(test_refused_before_reading_data);
    TT_END();
}
