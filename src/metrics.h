/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.h - the metrics of spec §4 over a stream of (raw output, label, weight) rows, under
 * SageMaker's names; threshold calibration for the binary selection criteria; ROC AUC.
 */
#ifndef LL_METRICS_H
#define LL_METRICS_H
#include "hp.h"
#include "loss.h"

/* Binary sums of a block of rows. */
typedef struct metrics_bin {
    double n, loss, tp, fp, fn, tn, bll, bpos, bneg, bpos_ok, bneg_ok;
} metrics_bin;

typedef struct metrics {
    ll_predictor pred;
    uint32_t C;
    loss_params lp;
    int sigmoid; /* binary: score = sigmoid(z) (logistic), else z (hinge) */
    float thr;
    uint32_t topk;
    double beta;
    double n, loss;
    /* binary */
    double tp, fp, tn, fn;
    double bll;                          /* SageMaker 2024's binary_log_loss sum (see metrics.c) */
    double bpos, bneg, bpos_ok, bneg_ok; /* ... and its binary_balanced_accuracy counts */
    float *sc, *lab, *wt;
    size_t ns, cap;
    struct pool *pool; /* binary: large adds split over its threads (NULL: this one) */
    metrics_bin open;  /* binary: the sums of the block being filled, not yet in the totals */
    uint64_t nrow;     /* binary: rows added */
    /* multiclass */
    double *tp_c, *pred_c, *act_c;
    double correct, topk_ok, dcg;
    double mll; /* SageMaker 2024's multiclass_log_loss sum */
    /* regression */
    double se, ae, sy, syy;
} metrics;

ll_code metrics_init(metrics *m, const hp_values *hv, const loss_params *lp, int sigmoid, float thr,
                     ll_err *err);
void metrics_deinit(metrics *m);

/* Room for the scores of n rows (binary; the AUC keeps up to 2^24), so adding them moves none. */
ll_code metrics_reserve(metrics *m, uint64_t n, ll_err *err);
/* Adds n rows: z holds n * C raw outputs (label units for regressors), y the labels, w the row
 * weights (NULL: 1). Binary rows are summed in blocks of 8192 consecutive rows, the blocks'
 * sums added in order: the totals depend neither on how the rows are split into calls nor on
 * m->pool's threads. */
ll_code metrics_add(metrics *m, const float *z, const float *y, const float *w, size_t n,
                    ll_err *err);
/* Adds the block being filled to the totals (before they are read or reduced; once, at the
 * end of the rows: metrics_report does it on a copy). */
void metrics_flush(metrics *m);

/* Reports each metric: name (e.g. "binary_classification_accuracy"), the name printed in
 * SageMaker's log lines (e.g. "binary_f_1.000"), its value, and whether it is a loss. */
typedef void (*metrics_fn)(void *ud, const char *name, const char *log_name, double v, int is_loss);
void metrics_report(const metrics *m, metrics_fn fn, void *ud);

/* The objective's log name: "binary_classification_cross_entropy_objective", "mse_objective"... */
const char *metrics_objective_name(const hp_values *hv);

/* Weighted ROC AUC of scores s for 0/1 labels y (ties count one half). Sorts copies. */
double metrics_auc(const float *s, const float *y, const float *w, size_t n, ll_err *err);

typedef struct calib {
    double value; /* the criterion at the chosen threshold (higher is better) */
    float threshold;
} calib;

/* Chooses the threshold on scores s (predicted 1 when s > threshold) that maximises the
 * criterion over the n rows (spec §1.5). */
ll_code metrics_calibrate(const float *s, const float *y, const float *w, size_t n,
                          const hp_values *hv, calib *out, ll_err *err);
/* The same by sorting every row (metrics_calibrate gives its answer without the full sort where
 * the weights are all 1 and the scores finite; tests compare the two). */
ll_code metrics_calibrate_exact(const float *s, const float *y, const float *w, size_t n,
                                const hp_values *hv, calib *out, ll_err *err);
#endif
