/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hp.h - Linear Learner hyperparameters: the table of SageMaker names, defaults and valid
 * ranges (spec §2), string values checked when set, cross-checks, and resolution of `auto` into
 * the typed hp_values the trainer reads. The public face is ll_hparams_* in linlearn.h.
 */
#ifndef LL_HP_H
#define LL_HP_H
#include "linlearn.h"

typedef enum {
    LOSS_LOGISTIC,
    LOSS_HINGE,
    LOSS_SOFTMAX,
    LOSS_SQUARED,
    LOSS_ABSOLUTE,
    LOSS_EPS_SQUARED,
    LOSS_EPS_ABSOLUTE,
    LOSS_QUANTILE,
    LOSS_HUBER,
} loss_kind;

typedef enum { OPT_SGD, OPT_ADAM, OPT_RMSPROP } opt_kind;

typedef enum {
    CRIT_ACCURACY,
    CRIT_F_BETA,
    CRIT_PRECISION_AT_RECALL,
    CRIT_RECALL_AT_PRECISION,
    CRIT_LOSS,
} crit_kind;

typedef enum { POSW_VALUE, POSW_AUTO, POSW_BALANCED } posw_mode;

/* A tri-state: -1 auto, 0 false, 1 true. */
typedef struct hp_values {
    ll_predictor pred;
    uint32_t num_classes; /* outputs for multiclass */
    uint64_t feature_dim; /* 0: auto (from the data) */
    uint64_t mini_batch_size;
    int mbs_default; /* mini_batch_size left at its default (see train.c, small data) */
    uint32_t epochs;
    uint32_t accuracy_top_k;
    int balance_multiclass_weights;
    double beta_1, beta_2;
    double bias_lr_mult, bias_wd_mult;
    crit_kind criteria;
    uint32_t early_stopping_patience;
    double early_stopping_tolerance;
    double f_beta, huber_delta, init_bias;
    int init_normal; /* init_method=normal */
    double init_scale, init_sigma;
    double l1, wd, learning_rate; /* resolved (auto -> documented defaults) */
    int l1_auto, wd_auto, lr_auto;
    loss_kind loss;
    double loss_insensitivity;
    double lr_scheduler_factor, lr_scheduler_minimum_lr;
    uint64_t lr_scheduler_step;
    int sched_auto; /* any of the three scheduler values was auto */
    double margin, momentum;
    int normalize_data, normalize_label, unbias_data, unbias_label; /* tri-state */
    uint64_t num_calibration_samples;
    uint32_t num_models;
    int num_models_auto;
    uint64_t num_point_for_scaler;
    opt_kind optimizer;
    posw_mode posw_mode;
    double posw;
    double quantile, target_precision, target_recall;
    int use_bias, use_lr_scheduler;
} hp_values;

/* Checks the set as a whole and resolves it (auto values that depend on data stay flagged). */
ll_code hp_resolve(const ll_hparams *hp, hp_values *v, ll_err *err);

/* Number of names in the table, and the i-th name / current value text. */
size_t hp_count(void);
const char *hp_name(size_t i);

const char *loss_name(loss_kind k);
#endif
