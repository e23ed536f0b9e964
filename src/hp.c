/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hp.c - the hyperparameter table (SageMaker names, defaults, types, ranges; spec §2.2), value
 * checks on set, JSON file loading (jansson), and resolution of the whole set into hp_values.
 * What `auto` resolves to is documented in docs/TRAINING.md.
 */
#include "hp.h"
#include "err.h"
#include "mem.h"
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { T_INT, T_FLOAT, T_BOOL, T_ENUM, T_STR } hp_type;

/* Range flags. */
enum {
    A_AUTO = 1,   /* "auto" accepted */
    A_GT = 2,     /* value > lo (else >= lo) */
    A_LT = 4,     /* value < hi (else <= hi) */
    A_NOHI = 8,   /* no upper bound */
    A_NOLO = 16,  /* no lower bound */
    A_BAL = 32,   /* "balanced" accepted */
    A_HIDDEN = 64 /* accepted and ignored (container-internal keys) */
};

typedef struct {
    const char *name;
    hp_type type;
    const char *def;
    unsigned flags;
    double lo, hi;
    const char *choices; /* T_ENUM: space-separated */
    const char *range;   /* human text of the valid range */
} hp_def;

static const hp_def DEFS[] = {
    {"predictor_type", T_ENUM, NULL, 0, 0, 0, "binary_classifier multiclass_classifier regressor",
     "binary_classifier, multiclass_classifier or regressor"},
    {"num_classes", T_INT, "1", A_NOHI, 1, 0, NULL, "an integer >= 1 (>= 3 for multiclass)"},
    {"feature_dim", T_INT, "auto", A_AUTO | A_NOHI, 1, 0, NULL, "auto or an integer >= 1"},
    {"mini_batch_size", T_INT, "1000", A_NOHI, 1, 0, NULL, "an integer >= 1"},
    {"epochs", T_INT, "15", A_NOHI, 1, 0, NULL, "an integer >= 1"},
    {"accuracy_top_k", T_INT, "3", 0, 1, 1000000, NULL, "an integer in [1, 1000000]"},
    {"balance_multiclass_weights", T_BOOL, "false", 0, 0, 0, NULL, "true or false"},
    {"beta_1", T_FLOAT, "auto", A_AUTO | A_LT, 0, 1, NULL, "auto or a number in [0, 1)"},
    {"beta_2", T_FLOAT, "auto", A_AUTO | A_LT, 0, 1, NULL, "auto or a number in [0, 1)"},
    {"bias_lr_mult", T_FLOAT, "auto", A_AUTO | A_GT | A_NOHI, 0, 0, NULL, "auto or a number > 0"},
    {"bias_wd_mult", T_FLOAT, "auto", A_AUTO | A_NOHI, 0, 0, NULL, "auto or a number >= 0"},
    {"binary_classifier_model_selection_criteria", T_ENUM, "accuracy", 0, 0, 0,
     "accuracy f_beta precision_at_target_recall recall_at_target_precision loss_function f1 "
     "cross_entropy_loss",
     "accuracy, f_beta, precision_at_target_recall, recall_at_target_precision or "
     "loss_function"},
    {"early_stopping_patience", T_INT, "3", A_NOHI, 1, 0, NULL, "an integer >= 1"},
    {"early_stopping_tolerance", T_FLOAT, "0.001", A_GT | A_NOHI, 0, 0, NULL, "a number > 0"},
    {"f_beta", T_FLOAT, "1.0", A_GT | A_NOHI, 0, 0, NULL, "a number > 0"},
    {"huber_delta", T_FLOAT, "1.0", A_NOHI, 0, 0, NULL, "a number >= 0"},
    {"init_bias", T_FLOAT, "0.0", A_NOLO | A_NOHI, 0, 0, NULL, "any number"},
    {"init_method", T_ENUM, "uniform", 0, 0, 0, "uniform normal", "uniform or normal"},
    {"init_scale", T_FLOAT, "0.07", A_GT | A_NOHI, 0, 0, NULL, "a number > 0"},
    {"init_sigma", T_FLOAT, "0.01", A_GT | A_NOHI, 0, 0, NULL, "a number > 0"},
    {"l1", T_FLOAT, "auto", A_AUTO | A_NOHI, 0, 0, NULL, "auto or a number >= 0"},
    {"learning_rate", T_FLOAT, "auto", A_AUTO | A_GT | A_NOHI, 0, 0, NULL, "auto or a number > 0"},
    {"loss", T_ENUM, "auto", 0, 0, 0,
     "auto logistic hinge_loss softmax_loss squared_loss absolute_loss "
     "eps_insensitive_squared_loss eps_insensitive_absolute_loss quantile_loss huber_loss",
     "auto, logistic, hinge_loss, softmax_loss, squared_loss, absolute_loss, "
     "eps_insensitive_squared_loss, eps_insensitive_absolute_loss, quantile_loss or huber_loss"},
    {"loss_insensitivity", T_FLOAT, "0.01", A_GT | A_NOHI, 0, 0, NULL, "a number > 0"},
    {"lr_scheduler_factor", T_FLOAT, "auto", A_AUTO | A_GT | A_LT, 0, 1, NULL,
     "auto or a number in (0, 1)"},
    {"lr_scheduler_minimum_lr", T_FLOAT, "auto", A_AUTO | A_GT | A_NOHI, 0, 0, NULL,
     "auto or a number > 0"},
    {"lr_scheduler_step", T_INT, "auto", A_AUTO | A_NOHI, 1, 0, NULL, "auto or an integer >= 1"},
    {"margin", T_FLOAT, "1.0", A_NOHI, 0, 0, NULL, "a number >= 0"},
    {"momentum", T_FLOAT, "auto", A_AUTO | A_LT, 0, 1, NULL, "auto or a number in [0, 1)"},
    {"normalize_data", T_BOOL, "true", A_AUTO, 0, 0, NULL, "auto, true or false"},
    {"normalize_label", T_BOOL, "auto", A_AUTO, 0, 0, NULL, "auto, true or false"},
    {"num_calibration_samples", T_INT, "10000000", A_AUTO | A_NOHI, 1, 0, NULL,
     "auto or an integer >= 1"},
    {"num_models", T_INT, "auto", A_AUTO, 1, 1024, NULL, "auto or an integer in [1, 1024]"},
    {"num_point_for_scaler", T_INT, "10000", A_NOHI, 1, 0, NULL, "an integer >= 1"},
    {"optimizer", T_ENUM, "auto", 0, 0, 0, "auto sgd adam rmsprop", "auto, sgd, adam or rmsprop"},
    {"positive_example_weight_mult", T_FLOAT, "1.0", A_AUTO | A_BAL | A_GT | A_NOHI, 0, 0, NULL,
     "auto, balanced or a number > 0"},
    {"quantile", T_FLOAT, "0.5", A_GT | A_LT, 0, 1, NULL, "a number in (0, 1)"},
    {"target_precision", T_FLOAT, "0.8", A_GT | A_LT, 0, 1, NULL, "a number in (0, 1)"},
    {"target_recall", T_FLOAT, "0.8", A_GT | A_LT, 0, 1, NULL, "a number in (0, 1)"},
    {"unbias_data", T_BOOL, "auto", A_AUTO, 0, 0, NULL, "auto, true or false"},
    {"unbias_label", T_BOOL, "auto", A_AUTO, 0, 0, NULL, "auto, true or false"},
    {"use_bias", T_BOOL, "true", 0, 0, 0, NULL, "true or false"},
    {"use_lr_scheduler", T_BOOL, "true", 0, 0, 0, NULL, "true or false"},
    {"wd", T_FLOAT, "auto", A_AUTO | A_NOHI, 0, 0, NULL, "auto or a number >= 0"},
    {"_num_gpus", T_STR, "auto", A_HIDDEN, 0, 0, NULL, "any"},
    {"_num_kv_servers", T_STR, "auto", A_HIDDEN, 0, 0, NULL, "any"},
    {"_kvstore", T_STR, "auto", A_HIDDEN, 0, 0, NULL, "any"},
    {"_log_level", T_STR, "info", A_HIDDEN, 0, 0, NULL, "any"},
    {"_enable_profiler", T_STR, "false", A_HIDDEN, 0, 0, NULL, "any"},
    {"_tuning_objective_metric", T_STR, "", A_HIDDEN, 0, 0, NULL, "any"},
};

#define N_DEFS (sizeof DEFS / sizeof DEFS[0])

struct ll_hparams {
    char *val[N_DEFS]; /* NULL: default */
};

int ll_hparams_info(size_t i, const char **name, const char **def, const char **range)
{
    if (i >= N_DEFS)
        return 0;
    if (name)
        *name = DEFS[i].name;
    if (def)
        *def = DEFS[i].def;
    if (range)
        *range = DEFS[i].range;
    return 1;
}

size_t hp_count(void)
{
    return N_DEFS;
}

const char *hp_name(size_t i)
{
    return i < N_DEFS ? DEFS[i].name : NULL;
}

static int find(const char *name)
{
    for (size_t i = 0; i < N_DEFS; i++)
        if (!strcmp(DEFS[i].name, name))
            return (int)i;
    return -1;
}

ll_code ll_hparams_new(ll_hparams **out, ll_err *err)
{
    *out = mem_calloc(1, sizeof **out);
    return *out ? LL_OK : err_set(err, LL_E_NOMEM, "out of memory");
}

void ll_hparams_free(ll_hparams *hp)
{
    if (!hp)
        return;
    for (size_t i = 0; i < N_DEFS; i++)
        mem_free(hp->val[i]);
    mem_free(hp);
}

const char *ll_hparams_get(const ll_hparams *hp, const char *name)
{
    int i = find(name);
    if (i < 0)
        return NULL;
    return hp->val[i] ? hp->val[i] : DEFS[i].def;
}

static int is_word(const char *s, const char *w)
{
    return !strcasecmp(s, w);
}

/* Parses a whole-string decimal number. */
static int parse_num(const char *s, double *v)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return 0;
    char *end;
    *v = strtod(s, &end);
    while (isspace((unsigned char)*end))
        end++;
    return *end == 0 && isfinite(*v);
}

static int parse_bool(const char *s, int *b)
{
    if (is_word(s, "true")) {
        *b = 1;
        return 1;
    }
    if (is_word(s, "false")) {
        *b = 0;
        return 1;
    }
    return 0;
}

static int in_choices(const char *choices, const char *s)
{
    size_t n = strlen(s);
    const char *p = choices;
    while (*p) {
        const char *e = strchr(p, ' ');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        if (k == n && !strncmp(p, s, n))
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

static ll_code refuse(const hp_def *d, const char *value, ll_err *err)
{
    return err_set(err, LL_E_ARG, "hyperparameter %s: invalid value '%.60s' (valid: %s)", d->name,
                   value, d->range);
}

/* Checks one value against its definition. */
static ll_code check_value(const hp_def *d, const char *v, ll_err *err)
{
    if (d->flags & A_HIDDEN)
        return LL_OK;
    if ((d->flags & A_AUTO) && is_word(v, "auto"))
        return LL_OK;
    if ((d->flags & A_BAL) && is_word(v, "balanced"))
        return LL_OK;
    switch (d->type) {
    case T_BOOL: {
        int b;
        return parse_bool(v, &b) ? LL_OK : refuse(d, v, err);
    }
    case T_ENUM:
        return in_choices(d->choices, v) ? LL_OK : refuse(d, v, err);
    case T_STR:
        return LL_OK;
    case T_INT:
    case T_FLOAT: {
        double x;
        if (!parse_num(v, &x))
            return refuse(d, v, err);
        if (d->type == T_INT && (x != floor(x) || x > 9.0e15))
            return refuse(d, v, err);
        if (!(d->flags & A_NOLO) && ((d->flags & A_GT) ? !(x > d->lo) : !(x >= d->lo)))
            return refuse(d, v, err);
        if (!(d->flags & A_NOHI) && ((d->flags & A_LT) ? !(x < d->hi) : !(x <= d->hi)))
            return refuse(d, v, err);
        return LL_OK;
    }
    }
    return LL_OK;
}

ll_code ll_hparams_set(ll_hparams *hp, const char *name, const char *value, ll_err *err)
{
    int i = find(name);
    if (i < 0) {
        const char *names[N_DEFS];
        for (size_t j = 0; j < N_DEFS; j++)
            names[j] = DEFS[j].name[0] == '_' ? NULL : DEFS[j].name;
        const char *near = ll_closest(name, names, N_DEFS);
        if (near)
            return err_set(err, LL_E_ARG,
                           "unknown hyperparameter '%.80s'; did you mean '%s'? (train "
                           "--list-hyperparameters lists the names)",
                           name, near);
        return err_set(err, LL_E_ARG,
                       "unknown hyperparameter '%.80s' (Additional properties are not allowed; "
                       "train --list-hyperparameters and docs/TRAINING.md list the names)",
                       name);
    }
    ll_code rc = check_value(&DEFS[i], value, err);
    if (rc != LL_OK)
        return rc;
    char *c = mem_strdup(value);
    if (!c)
        return err_set(err, LL_E_NOMEM, "out of memory");
    mem_free(hp->val[i]);
    hp->val[i] = c;
    return LL_OK;
}

ll_code ll_hparams_load_json(ll_hparams *hp, const char *path, ll_err *err)
{
    json_error_t je;
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_sys(err, path, "cannot open the hyperparameters file");
    json_t *j = json_loadf(f, 0, &je);
    fclose(f);
    if (!j) {
        err_set(err, LL_E_PARSE, "not a JSON file: %s (line %d)", je.text, je.line);
        err_src(err, path);
        return LL_E_PARSE;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        err_set(err, LL_E_PARSE, "hyperparameters must be a JSON object of name: value");
        err_src(err, path);
        return LL_E_PARSE;
    }
    const char *k;
    json_t *v;
    ll_code rc = LL_OK;
    json_object_foreach(j, k, v)
    {
        char buf[64];
        const char *s = NULL;
        if (json_is_string(v))
            s = json_string_value(v);
        else if (json_is_integer(v)) {
            snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
            s = buf;
        } else if (json_is_real(v)) {
            snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
            s = buf;
        } else if (json_is_boolean(v))
            s = json_is_true(v) ? "true" : "false";
        if (!s) {
            rc = err_set(err, LL_E_ARG, "hyperparameter %.80s: the value must be a string", k);
            break;
        }
        rc = ll_hparams_set(hp, k, s, err);
        if (rc != LL_OK)
            break;
    }
    json_decref(j);
    if (rc != LL_OK)
        err_src(err, path);
    return rc;
}

/* ---- resolution ---- */

static const char *get(const ll_hparams *hp, const char *name)
{
    return ll_hparams_get(hp, name);
}

static double num(const ll_hparams *hp, const char *name, double if_auto, int *was_auto)
{
    const char *s = get(hp, name);
    if (was_auto)
        *was_auto = 0;
    if (is_word(s, "auto")) {
        if (was_auto)
            *was_auto = 1;
        return if_auto;
    }
    double x = 0;
    parse_num(s, &x);
    return x;
}

static int tri(const ll_hparams *hp, const char *name)
{
    const char *s = get(hp, name);
    int b = -1;
    if (!is_word(s, "auto"))
        parse_bool(s, &b);
    return b;
}

const char *loss_name(loss_kind k)
{
    static const char *names[] = {"logistic",
                                  "hinge_loss",
                                  "softmax_loss",
                                  "squared_loss",
                                  "absolute_loss",
                                  "eps_insensitive_squared_loss",
                                  "eps_insensitive_absolute_loss",
                                  "quantile_loss",
                                  "huber_loss"};
    return names[k];
}

ll_code hp_resolve(const ll_hparams *hp, hp_values *v, ll_err *err)
{
    memset(v, 0, sizeof *v);
    const char *pt = get(hp, "predictor_type");
    if (!pt)
        return err_set(err, LL_E_ARG,
                       "hyperparameter predictor_type is required (binary_classifier, "
                       "multiclass_classifier or regressor)");
    v->pred = !strcmp(pt, "binary_classifier")       ? LL_BINARY_CLASSIFIER
              : !strcmp(pt, "multiclass_classifier") ? LL_MULTICLASS_CLASSIFIER
                                                     : LL_REGRESSOR;
    double nc = num(hp, "num_classes", 1, NULL);
    if (v->pred == LL_MULTICLASS_CLASSIFIER) {
        if (!hp->val[find("num_classes")])
            return err_set(err, LL_E_ARG,
                           "hyperparameter num_classes is required for a multiclass_classifier "
                           "(the number of classes, an integer in [3, 1000000]; labels are "
                           "0..num_classes-1)");
        if (nc < 3 || nc > 1000000)
            return err_set(err, LL_E_ARG,
                           "hyperparameter num_classes: invalid value '%s' for a "
                           "multiclass_classifier (valid: an integer in [3, 1000000])",
                           get(hp, "num_classes"));
        v->num_classes = (uint32_t)nc;
    } else {
        v->num_classes = 1;
    }
    v->feature_dim = (uint64_t)num(hp, "feature_dim", 0, NULL);
    v->mini_batch_size = (uint64_t)num(hp, "mini_batch_size", 1000, NULL);
    v->mbs_default = hp->val[find("mini_batch_size")] == NULL;
    v->epochs = (uint32_t)fmin(num(hp, "epochs", 15, NULL), 1e9);
    v->accuracy_top_k = (uint32_t)num(hp, "accuracy_top_k", 3, NULL);
    v->balance_multiclass_weights = tri(hp, "balance_multiclass_weights") == 1;
    v->beta_1 = num(hp, "beta_1", 0.9, NULL);
    v->beta_2 = num(hp, "beta_2", 0.999, NULL);
    v->bias_lr_mult = num(hp, "bias_lr_mult", 10, NULL);
    v->bias_wd_mult = num(hp, "bias_wd_mult", 0, NULL);
    const char *c = get(hp, "binary_classifier_model_selection_criteria");
    v->criteria = !strcmp(c, "accuracy")                     ? CRIT_ACCURACY
                  : !strcmp(c, "f_beta") || !strcmp(c, "f1") ? CRIT_F_BETA
                  : !strcmp(c, "precision_at_target_recall") ? CRIT_PRECISION_AT_RECALL
                  : !strcmp(c, "recall_at_target_precision") ? CRIT_RECALL_AT_PRECISION
                                                             : CRIT_LOSS;
    v->early_stopping_patience = (uint32_t)fmin(num(hp, "early_stopping_patience", 3, NULL), 1e9);
    v->early_stopping_tolerance = num(hp, "early_stopping_tolerance", 0.001, NULL);
    v->f_beta = num(hp, "f_beta", 1, NULL);
    v->huber_delta = num(hp, "huber_delta", 1, NULL);
    v->init_bias = num(hp, "init_bias", 0, NULL);
    v->init_normal = !strcmp(get(hp, "init_method"), "normal");
    v->init_scale = num(hp, "init_scale", 0.07, NULL);
    v->init_sigma = num(hp, "init_sigma", 0.01, NULL);
    const char *opt = get(hp, "optimizer");
    v->optimizer = !strcmp(opt, "sgd") ? OPT_SGD : !strcmp(opt, "rmsprop") ? OPT_RMSPROP : OPT_ADAM;
    v->l1 = num(hp, "l1", 0, &v->l1_auto);
    v->wd = num(hp, "wd", 1e-4, &v->wd_auto);
    /* adam: 0.005, as the selected model of real 2024 jobs (docs/TRAINING.md, "auto") */
    double lr_auto = v->optimizer == OPT_SGD ? 0.01 : v->optimizer == OPT_RMSPROP ? 0.01 : 0.005;
    v->learning_rate = num(hp, "learning_rate", lr_auto, &v->lr_auto);
    v->loss_insensitivity = num(hp, "loss_insensitivity", 0.01, NULL);
    int a1, a2, a3;
    v->lr_scheduler_factor = num(hp, "lr_scheduler_factor", 0.99, &a1);
    v->lr_scheduler_minimum_lr = num(hp, "lr_scheduler_minimum_lr", 1e-4, &a2);
    v->lr_scheduler_step = (uint64_t)num(hp, "lr_scheduler_step", 10, &a3);
    v->sched_auto = a1 || a2 || a3;
    v->margin = num(hp, "margin", 1, NULL);
    v->momentum = num(hp, "momentum", 0, NULL);
    v->normalize_data = tri(hp, "normalize_data");
    v->normalize_label = tri(hp, "normalize_label");
    v->unbias_data = tri(hp, "unbias_data");
    v->unbias_label = tri(hp, "unbias_label");
    v->num_calibration_samples = (uint64_t)num(hp, "num_calibration_samples", 10000000, NULL);
    v->num_models = (uint32_t)num(hp, "num_models", 32, &v->num_models_auto);
    v->num_point_for_scaler = (uint64_t)num(hp, "num_point_for_scaler", 10000, NULL);
    const char *pw = get(hp, "positive_example_weight_mult");
    v->posw_mode = is_word(pw, "auto")       ? POSW_AUTO
                   : is_word(pw, "balanced") ? POSW_BALANCED
                                             : POSW_VALUE;
    v->posw = v->posw_mode == POSW_VALUE ? num(hp, "positive_example_weight_mult", 1, NULL) : 1;
    v->quantile = num(hp, "quantile", 0.5, NULL);
    v->target_precision = num(hp, "target_precision", 0.8, NULL);
    v->target_recall = num(hp, "target_recall", 0.8, NULL);
    v->use_bias = tri(hp, "use_bias") != 0;
    v->use_lr_scheduler = tri(hp, "use_lr_scheduler") != 0;

    const char *l = get(hp, "loss");
    static const char *allowed[3] = {
        "auto logistic hinge_loss",
        "auto softmax_loss",
        ("auto squared_loss absolute_loss eps_insensitive_squared_loss "
         "eps_insensitive_absolute_loss quantile_loss huber_loss"),
    };
    if (!in_choices(allowed[v->pred], l))
        return err_set(err, LL_E_ARG,
                       "hyperparameter loss: invalid value '%s' for a %s (valid: %s)", l, pt,
                       v->pred == LL_BINARY_CLASSIFIER       ? "auto, logistic or hinge_loss"
                       : v->pred == LL_MULTICLASS_CLASSIFIER ? "auto or softmax_loss"
                                                             : "auto, squared_loss, "
                                                               "absolute_loss, "
                                                               "eps_insensitive_squared_loss, "
                                                               "eps_insensitive_absolute_loss, "
                                                               "quantile_loss or huber_loss");
    if (!strcmp(l, "auto"))
        v->loss = v->pred == LL_BINARY_CLASSIFIER       ? LOSS_LOGISTIC
                  : v->pred == LL_MULTICLASS_CLASSIFIER ? LOSS_SOFTMAX
                                                        : LOSS_SQUARED;
    else
        for (int k = 0; k <= LOSS_HUBER; k++)
            if (!strcmp(l, loss_name((loss_kind)k)))
                v->loss = (loss_kind)k;
    /* removing a mean folds an intercept into the saved model, which use_bias=false forbids */
    if (!v->use_bias && (v->unbias_data == 1 || v->unbias_label == 1))
        return err_set(err, LL_E_ARG,
                       "hyperparameter %s: 'true' needs use_bias=true (removing the mean adds an "
                       "intercept to the model); set use_bias=true or %s=false/auto",
                       v->unbias_data == 1 ? "unbias_data" : "unbias_label",
                       v->unbias_data == 1 ? "unbias_data" : "unbias_label");
    if (v->pred == LL_MULTICLASS_CLASSIFIER && v->accuracy_top_k > v->num_classes)
        v->accuracy_top_k = v->num_classes;
    return LL_OK;
}

ll_code ll_hparams_validate(const ll_hparams *hp, ll_err *err)
{
    hp_values v;
    return hp_resolve(hp, &v, err);
}
