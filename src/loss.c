/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loss.c - loss values and derivatives (spec §1.1). Hinge uses the {0,1}-label form
 * y*max(0, (m+1)/2 - z) + (1-y)*max(0, (m-1)/2 + z), whose neutral point is z = 0.5.
 */
#include "loss.h"
#include <math.h>

double loss_softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

double loss_sigmoid(double x)
{
    if (x >= 0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

double loss_eval(const loss_params *p, double z, double y, double *dz)
{
    double d = 0, l = 0, e = z - y;
    switch (p->kind) {
    case LOSS_LOGISTIC:
        /* -[y log s(z) + (1-y) log(1 - s(z))] */
        l = y * loss_softplus(-z) + (1 - y) * loss_softplus(z);
        d = loss_sigmoid(z) - y;
        break;
    case LOSS_HINGE: {
        double m = p->margin;
        if (y > 0.5) {
            double t = (m + 1) / 2 - z;
            l = t > 0 ? t : 0;
            d = t > 0 ? -1 : 0;
        } else {
            double t = (m - 1) / 2 + z;
            l = t > 0 ? t : 0;
            d = t > 0 ? 1 : 0;
        }
        break;
    }
    case LOSS_SQUARED:
        l = e * e;
        d = 2 * e;
        break;
    case LOSS_ABSOLUTE:
        l = fabs(e);
        d = e > 0 ? 1 : e < 0 ? -1 : 0;
        break;
    case LOSS_EPS_SQUARED: {
        double t = e * e - p->eps * p->eps;
        l = t > 0 ? t : 0;
        d = t > 0 ? 2 * e : 0;
        break;
    }
    case LOSS_EPS_ABSOLUTE: {
        double t = fabs(e) - p->eps;
        l = t > 0 ? t : 0;
        d = t > 0 ? (e > 0 ? 1 : -1) : 0;
        break;
    }
    case LOSS_QUANTILE: {
        /* q * max(0, y - z) + (1 - q) * max(0, z - y) */
        double q = p->quantile;
        if (e < 0) {
            l = -q * e;
            d = -q;
        } else {
            l = (1 - q) * e;
            d = e > 0 ? 1 - q : 0;
        }
        break;
    }
    case LOSS_HUBER: {
        double a = fabs(e), dl = p->delta;
        if (a < dl) {
            l = e * e / 2;
            d = e;
        } else {
            l = dl * a - dl * dl / 2;
            d = e > 0 ? dl : -dl;
        }
        break;
    }
    case LOSS_SOFTMAX:
        break; /* loss_softmax */
    }
    if (dz)
        *dz = d;
    return l;
}

double loss_softmax(const float *z, uint32_t C, uint32_t y, float *dz)
{
    double mx = z[0];
    for (uint32_t c = 1; c < C; c++)
        if (z[c] > mx)
            mx = z[c];
    double s = 0;
    for (uint32_t c = 0; c < C; c++)
        s += exp(z[c] - mx);
    double lse = mx + log(s);
    if (dz)
        for (uint32_t c = 0; c < C; c++)
            dz[c] = (float)(exp(z[c] - lse) - (c == y ? 1.0 : 0.0));
    return lse - z[y];
}
