/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sgd.h - K linear models trained together on the same mini-batches (spec §1.4). Weights are
 * one D x M matrix (M = K * C columns, model k's output c in column k*C + c), so a dense batch
 * is one sgemm forward and one backward; sparse batches go through a CSR kernel that walks each
 * row once for all models and update only the features present (lazy: a feature's missed L2
 * decay and L1 shrinkage are applied when it is next used, or at sgd_sync). Training happens on
 * scaled features/labels (scaler.h); sgd_fold writes one model back in raw units.
 */
#ifndef LL_SGD_H
#define LL_SGD_H
#include "hp.h"
#include "loss.h"
#include "scaler.h"

/* Per-model settings (the spread around the base values: docs/TRAINING.md). */
typedef struct sgd_cfg {
    double lr, wd, l1, posw;
} sgd_cfg;

/* One thread's scratch for the sparse kernels: a row's per-model losses and a small
 * direct-mapped cache (slot t0 mod nslot) of catch-up factors: per slot the step pair
 * (t0, t1) it holds (UINT64_MAX: none) and its 2 x stride floats, decay then shrinkage. */
typedef struct sgd_part {
    float *lrow, *ca;
    float *g;          /* M floats: the gradient of the feature being updated */
    uint64_t *cache_t; /* 2 per slot: t0, t1 */
    size_t stride;
    unsigned nslot;
} sgd_part;

struct pool;

/* Per feature: the step whose batch last listed it, and its place in that batch's touched list. */
typedef struct sgd_mark {
    uint64_t step;
    uint32_t pos, pad;
} sgd_mark;

typedef struct sgd {
    hp_values hv;
    loss_params lp_scaled, lp_raw;
    uint64_t D;
    uint32_t C, K;
    size_t M;
    const scaler *sc;
    float *W, *B, *s1W, *s2W, *s1B, *s2B, *G, *gB;
    sgd_cfg *cfg;
    double *lr; /* current (scheduled) learning rate per model */
    float *cw;  /* multiclass class weights (NULL: none) */
    float *X, *Z, *dZ, *yb;
    size_t capX, capZ, capY, capdZ;
    uint64_t t;     /* optimizer steps taken */
    double *tl, tw; /* this epoch's training loss sums per model, weight sum */
    float *bestW, *bestB;
    /* lazy sparse updates: per feature the step its weights are current at, the batch mark,
     * the features of the batch, per step and model the cumulative learning rate */
    uint64_t *last;
    sgd_mark *mark;
    uint64_t synced; /* every last[j] is at least this step (sgd_sync has nothing to do at it) */
    uint32_t *touched;
    size_t cap_touched;
    double *lrsum;
    float *pw, *pwd, *pl1, *pb, *pbwd, *ca, *cl; /* per column: step parameters, scratch */
    int any_l1;
    sgd_part *part; /* one per thread; sparse kernels split rows and features over them */
    unsigned nparts;
    struct pool *pool;
    const ll_batch *jb; /* the job the parts run: batch, labels, touched features, step */
    const float *jy;
    size_t jnt;
    int jcsc;       /* the step's update gathers from the batch transposed */
    size_t cu_next; /* the catch-up phase's next chunk of touched features (atomic) */
    uint64_t jT;
    double *rowloss; /* n x K row-weighted losses of a batch, summed in row order */
    size_t cap_rowloss;
    /* the batch transposed (sgd.c's transpose): per nonzero its feature's place in touched;
     * per touched feature its count, then its first entry; per entry the row and the value */
    uint32_t *epos, *tcnt, *tstart, *erow;
    float *ex;
    size_t cap_ent;
    int lazy_steps; /* sparse steps were taken: checkpoints keep last[] and lrsum (ckpt.h) */
    float *posw, *lrow, *drow; /* per model: positive-class weight; one row's losses, grads */
    size_t cap_lrsum;
    /* Across hosts (docs/DISTRIBUTED.md; NULL: one host): sums n floats in place over every
     * host. When set, sgd_step hands each step's gradient sums (gradients of this host's rows,
     * not yet divided by the rows), its row count and dist_flag to it in one buffer, then every
     * host divides by the step's total rows (n_step; 0: no step) and applies the same update.
     * dist_flag in: this host's value for the step; out: the sum over the hosts. */
    ll_code (*allreduce)(float *buf, size_t n, ll_err *err);
    float dist_flag;
    double n_step;
    float *red;
    size_t cap_red;
} sgd;

/* Sets up K models for D features from hv (resolved) and the finished scaler (borrowed). */
ll_code sgd_init(sgd *s, const hp_values *hv, uint64_t D, const scaler *sc, uint64_t seed,
                 ll_err *err);
/* Runs the sparse kernels on n threads (the caller's and n - 1 more): the batch's rows for the
 * forward pass, its features for the updates. Every sum keeps its serial order, so the weights
 * do not depend on n. */
ll_code sgd_threads(sgd *s, unsigned n, ll_err *err);
void sgd_deinit(sgd *s);

/* Raw outputs of every model for the batch into s->Z (n_rows x M), scaled space. Row numbers
 * in messages count from row0. */
ll_code sgd_forward(sgd *s, const ll_batch *b, uint64_t row0, ll_err *err);

/* One optimizer step on batch b with labels y (n_rows, already mapped to 0/1 or class ids). */
ll_code sgd_step(sgd *s, const ll_batch *b, const float *y, uint64_t row0, ll_err *err);

/* Losses of every model on b in raw label units, each with the class weights it trains with,
 * added (row-weighted) to loss[K]; *wsum gets the row weights. s->Z keeps the raw outputs. */
ll_code sgd_eval(sgd *s, const ll_batch *b, const float *y, uint64_t row0, double *loss,
                 double *wsum, ll_err *err);

/* Applies the pending (lazy) regularisation of sparse features: after it every weight is
 * current. sgd_eval and sgd_snapshot call it. */
/* Sets the step counter to t after a checkpoint's weights were loaded and sizes the
 * learning-rate sums for the steps to come; every feature is taken as current at t unless the
 * checkpoint then restores last[] and the sums (its lazy sparse state, ckpt.h). */
ll_code sgd_restore_step(sgd *s, uint64_t t, ll_err *err);
void sgd_sync(sgd *s);

/* Starts a new epoch's training-loss sums. */
void sgd_epoch_begin(sgd *s);
/* Copies model k (columns) into / out of the best-epoch snapshot. */
ll_code sgd_snapshot(sgd *s, uint32_t k, ll_err *err);
void sgd_restore(sgd *s, uint32_t k);

/* Averages the weights, biases and optimizer state over the hosts (s->allreduce, n_hosts):
 * model averaging every H steps instead of summed gradients every step. dist_flag is summed
 * as in sgd_step. */
ll_code sgd_average(sgd *s, uint32_t n_hosts, ll_err *err);

/* Writes model k, unscaled, into m (feature_dim D, n_out C). */
void sgd_fold(const sgd *s, uint32_t k, float *w, float *b);

/* The inverse of sgd_fold: model k takes the raw-unit weights w (D x C, feature-major) and
 * biases b, mapped into the scaler's space (warm start). Call before the first step. */
void sgd_unfold(sgd *s, uint32_t k, const float *w, const float *b);
/* Raw-unit outputs of s->Z in place (regression: z * ysd + ymu). */
void sgd_unscale(sgd *s, size_t n_rows);
#endif
