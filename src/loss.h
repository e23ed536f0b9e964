/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loss.h - the Linear Learner losses (spec §1.1) and their derivatives with respect to the raw
 * output z: value and gradient for one (z, label) pair, and softmax cross-entropy over a row.
 * Labels of binary losses are 0/1; regression losses use e = z - y.
 */
#ifndef LL_LOSS_H
#define LL_LOSS_H
#include "hp.h"
#include <stdint.h>

typedef struct loss_params {
    loss_kind kind;
    double margin;   /* hinge */
    double eps;      /* eps-insensitive losses */
    double quantile; /* quantile loss */
    double delta;    /* Huber */
} loss_params;

/* The loss of raw output z for label y; *dz (if not NULL) receives dL/dz. */
double loss_eval(const loss_params *p, double z, double y, double *dz);

/* Softmax cross-entropy of the C outputs z for class y; dz (if not NULL) receives the C
 * derivatives softmax(z) - onehot(y). */
double loss_softmax(const float *z, uint32_t C, uint32_t y, float *dz);

/* Logistic loss of n raw outputs z against one 0/1 label y, in float with polynomial exp and
 * log1p (relative error below 1e-6): loss[i] = softplus(z) - y z, d[i] = sigmoid(z) - y.
 * The trainer's hot loop (n = num_models per row); loss_eval is the double reference. */
void loss_logistic_n(const float *restrict z, size_t n, float y, float *restrict loss,
                     float *restrict d);

/* out[i] = e^-a[i] for a[i] >= 0 (float polynomial; out may be a). */
void loss_exp_neg_n(const float *a, size_t n, float *out);

/* loss_logistic_n's losses alone (the same values, bit for bit). */
void loss_logistic_value_n(const float *restrict z, size_t n, float y, float *restrict loss);

/* p[i] = 1 / (1 + e^-z[i]) in float (the same polynomial exp). */
void loss_sigmoid_n(const float *restrict z, size_t n, float *restrict p);

/* Numerically stable log(1 + e^x) and 1 / (1 + e^-x). */
double loss_softplus(double x);
double loss_sigmoid(double x);
#endif
