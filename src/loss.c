/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loss.c - loss values and derivatives (spec §1.1). Hinge uses the {0,1}-label form
 * y*max(0, (m+1)/2 - z) + (1-y)*max(0, (m-1)/2 + z), whose neutral point is z = 0.5.
 */
#include "loss.h"
#include <math.h>
#include <string.h>

double loss_softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

#if defined(__GNUC__) && !defined(__clang__)
#define LL_VEC __attribute__((optimize("tree-vectorize", "no-trapping-math")))
#else
#define LL_VEC
#endif

/* e^-a for a >= 0 (a is clamped to 87): 2^-n e^-r with |r| <= ln2/2, degree-6 Taylor. */
LL_VEC static inline float exp_neg(float a)
{
    float x = a < 87.0f ? -a : -87.0f;
    int32_t ni = (int32_t)(x * 1.44269504f - 0.5f); /* round to nearest (x <= 0) */
    float n = (float)ni;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.6666667e-1f +
                                                  r * (4.1666668e-2f +
                                                       r * (8.3333338e-3f + r * 1.3888889e-3f)))));
    union {
        int32_t i;
        float f;
    } sc = {.i = (ni + 127) << 23};
    return p * sc.f;
}

/* log(1 + e) for e in [0, 1]: 2 atanh(s), s = e / (2 + e) <= 1/3. */
LL_VEC static inline float log1p_01(float e)
{
    float s = e / (2.0f + e), q = s * s;
    return 2.0f * s *
           (1.0f +
            q * (0.33333334f +
                 q * (0.2f + q * (0.14285715f +
                                  q * (0.11111111f + q * (0.09090909f + q * 0.07692308f))))));
}

LL_VEC void loss_logistic_n(const float *restrict z, size_t n, float y, float *restrict loss,
                            float *restrict d)
{
    for (size_t i = 0; i < n; i++) {
        float zz = z[i], pz = zz > 0.0f ? zz : 0.0f;
        float e = exp_neg(pz - (zz - pz)); /* e^-|z| */
        float q = 1.0f / (1.0f + e);       /* sigmoid(|z|) */
        loss[i] = pz - y * zz + log1p_01(e);
        d[i] = (zz >= 0.0f ? q : 1.0f - q) - y;
    }
}

LL_VEC void loss_logistic_value_n(const float *restrict z, size_t n, float y, float *restrict loss)
{
    for (size_t i = 0; i < n; i++) {
        float zz = z[i], pz = zz > 0.0f ? zz : 0.0f;
        float e = exp_neg(pz - (zz - pz));
        loss[i] = pz - y * zz + log1p_01(e); /* loss_logistic_n's loss, bit for bit */
    }
}

LL_VEC void loss_exp_neg_n(const float *a, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = exp_neg(a[i]);
}

LL_VEC void loss_sigmoid_n(const float *restrict z, size_t n, float *restrict p)
{
    for (size_t i = 0; i < n; i++) {
        float zz = z[i], pz = zz > 0.0f ? zz : 0.0f;
        float q = 1.0f / (1.0f + exp_neg(pz - (zz - pz)));
        p[i] = zz >= 0.0f ? q : 1.0f - q;
    }
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
        if (isfinite(z) && (y == 0 || y == 1)) /* one term is 0 x a finite value: exactly */
            l = loss_softplus(y == 1 ? -z : z);
        else
            l = y * loss_softplus(-z) + (1 - y) * loss_softplus(z);
        d = dz ? loss_sigmoid(z) - y : 0;
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
