/* SPDX-License-Identifier: Apache-2.0 */
/*
 * history.h - what a training run records for people (docs/REPORT.md): per epoch and model the
 * train and validation objective and the early-stopping criterion, each model's settings and
 * selection values, and per channel the selected model's confusion matrix, ROC/PR points and
 * (regressors) a sample of predicted and actual values. Bounded in size whatever the data.
 * The driver (train.c) feeds it; hist_json turns it into the metrics JSON's "history" object.
 */
#ifndef LL_HISTORY_H
#define LL_HISTORY_H
#include "hp.h"
#include "sgd.h"
#include <jansson.h>

#define HIST_MAX_SCORES 262144 /* binary scores kept per channel for the ROC/PR curves */
#define HIST_ROC_POINTS 200    /* points written per curve */
#define HIST_SAMPLES 500       /* regressor (predicted, actual) pairs kept per channel */
#define HIST_MAX_CLASSES 64    /* confusion matrices up to this many classes */

typedef struct hist_chan {
    int on;
    double rows;
    double *cm; /* C x C, row = actual, column = predicted */
    float *sc, *lab, *wt;
    size_t n;
    float *pred, *act; /* regressor reservoir sample */
    size_t ns;
    uint64_t seen, rng;
} hist_chan;

typedef struct hist {
    ll_predictor pred;
    uint32_t K, C;
    int sigmoid;
    float thr;
    const char *objective, *criterion;
    int crit_higher;
    sgd_cfg *cfg;
    double *sel_loss, *sel_value; /* per model, from model selection (NaN: not computed) */
    uint32_t n_ep, cap_ep;
    double *tr, *va, *cr; /* n_ep x K */
    double *crit_best, *secs, *rows;
    int has_va, has_cr;
    hist_chan ch[3];
    const ll_train_opts *o; /* epoch and progress callbacks (borrowed) */
    uint32_t epochs;
    double t_last; /* when the last epoch ended (or the history began) */
} hist;

/* Sets up for K models (settings copied from s->cfg), just before the first epoch; o (borrowed)
 * gives the epoch and progress callbacks. Returns LL_E_NOMEM. */
ll_code hist_init(hist *h, const hp_values *hv, const sgd *s, const char *objective,
                  const char *criterion, int crit_higher, const ll_train_opts *o, ll_err *err);
void hist_deinit(hist *h);

/* One finished epoch: train loss sums tl / tw per model, validation losses va (NULL: none),
 * criterion values cr (NULL: the criterion is the loss), the epoch's criterion value, the rows
 * of its training pass, the throughput so far. Calls o->epoch. Out of memory drops the epoch
 * from the history silently. */
void hist_epoch(hist *h, uint32_t e, const double *tl, double tw, const double *va,
                const double *cr, double crit, double rows, double rows_per_s);

/* Inside epoch e, rows of the train pass done: calls o->progress with the fraction of the run
 * when the previous epoch's row count tells how long an epoch is. */
void hist_batch(hist *h, uint32_t e, double rows);

/* Model k's loss and criterion value in model selection. */
void hist_select(hist *h, uint32_t k, double loss, double value);

/* The selected model's raw outputs z (n x C) for n rows of channel ch, labels y, weights w
 * (NULL: 1), at threshold thr (binary). */
void hist_rows(hist *h, int ch, const float *z, const float *y, const float *w, size_t n,
               float thr);

/* The "history" object (new reference); sources are the channels' names as given (NULL:
 * absent). */
json_t *hist_json(const hist *h, const char *const src[3], double seconds, double rows_per_s);
#endif
