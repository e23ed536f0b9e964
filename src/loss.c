/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loss.c - loss values and derivatives (spec §1.1). Hinge uses the {0,1}-label form
 * y*max(0, (m+1)/2 - z) + (1-y)*max(0, (m-1)/2 + z), whose neutral point is z = 0.5.
 */
#include "loss.h"
#include "cpu.h"
#include <math.h>
#include <string.h>
#ifdef LL_X86
#include <immintrin.h>
#endif
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

double loss_softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

#if defined(__GNUC__) && !defined(__clang__)
#define LL_VEC __attribute__((optimize("tree-vectorize", "no-trapping-math", "fp-contract=off")))
#else
#define LL_VEC
#endif

/* e^-a for a >= 0 (a is clamped to 87): 2^-n e^-r with |r| <= ln2/2, degree-6 Taylor. */
#define LL_INL static inline __attribute__((always_inline))

LL_INL float exp_neg(float a)
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
LL_INL float log1p_01(float e)
{
    float s = e / (2.0f + e), q = s * s;
    return 2.0f * s *
           (1.0f +
            q * (0.33333334f +
                 q * (0.2f + q * (0.14285715f +
                                  q * (0.11111111f + q * (0.09090909f + q * 0.07692308f))))));
}

/* The kernels over n floats: one body each, compiled for the baseline and (cpu.h) for
 * AVX-512, with the same operations in the same order (tests/test_loss.c compares them). */
LL_INL void logistic_body(const float *restrict z, size_t n, float y, float *restrict loss,
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

LL_INL void logistic_value_body(const float *restrict z, size_t n, float y, float *restrict loss)
{
    for (size_t i = 0; i < n; i++) {
        float zz = z[i], pz = zz > 0.0f ? zz : 0.0f;
        float e = exp_neg(pz - (zz - pz));
        loss[i] = pz - y * zz + log1p_01(e); /* logistic_body's loss, bit for bit */
    }
}

LL_INL void exp_neg_body(const float *restrict a, size_t n, float *restrict out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = exp_neg(a[i]);
}

LL_INL void sigmoid_body(const float *restrict z, size_t n, float *restrict p)
{
    for (size_t i = 0; i < n; i++) {
        float zz = z[i], pz = zz > 0.0f ? zz : 0.0f;
        float q = 1.0f / (1.0f + exp_neg(pz - (zz - pz)));
        p[i] = zz >= 0.0f ? q : 1.0f - q;
    }
}

LL_VEC static void logistic_base(const float *restrict z, size_t n, float y, float *restrict loss,
                                 float *restrict d)
{
    logistic_body(z, n, y, loss, d);
}

LL_VEC static void logistic_value_base(const float *restrict z, size_t n, float y,
                                       float *restrict loss)
{
    logistic_value_body(z, n, y, loss);
}

LL_VEC static void sigmoid_base(const float *restrict z, size_t n, float *restrict p)
{
    sigmoid_body(z, n, p);
}

#ifdef LL_X86
/* AVX-512 forms of exp_neg and log1p_01, operation for operation (min_ps and max_ps return
 * their second operand for a NaN, as the scalar comparisons pick the constant). */
#define V512 LL_AVX512 static inline __attribute__((always_inline))

V512 __m512 exp_neg16(__m512 a)
{
    __m512 x = _mm512_castsi512_ps(
        _mm512_xor_si512(_mm512_castps_si512(_mm512_min_ps(a, _mm512_set1_ps(87.0f))),
                         _mm512_set1_epi32(INT32_MIN)));
    __m512i ni = _mm512_cvttps_epi32(
        _mm512_sub_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), _mm512_set1_ps(0.5f)));
    __m512 n = _mm512_cvtepi32_ps(ni);
    __m512 r = _mm512_add_ps(_mm512_sub_ps(x, _mm512_mul_ps(n, _mm512_set1_ps(0.693359375f))),
                             _mm512_mul_ps(n, _mm512_set1_ps(2.12194440e-4f)));
    __m512 p = _mm512_set1_ps(1.3888889e-3f);
    p = _mm512_add_ps(_mm512_set1_ps(8.3333338e-3f), _mm512_mul_ps(r, p));
    p = _mm512_add_ps(_mm512_set1_ps(4.1666668e-2f), _mm512_mul_ps(r, p));
    p = _mm512_add_ps(_mm512_set1_ps(1.6666667e-1f), _mm512_mul_ps(r, p));
    p = _mm512_add_ps(_mm512_set1_ps(0.5f), _mm512_mul_ps(r, p));
    p = _mm512_add_ps(_mm512_set1_ps(1.0f), _mm512_mul_ps(r, p));
    p = _mm512_add_ps(_mm512_set1_ps(1.0f), _mm512_mul_ps(r, p));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(ni, _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

V512 __m512 log1p_01_16(__m512 e)
{
    __m512 s = _mm512_div_ps(e, _mm512_add_ps(_mm512_set1_ps(2.0f), e));
    __m512 q = _mm512_mul_ps(s, s);
    __m512 p = _mm512_set1_ps(0.07692308f);
    p = _mm512_add_ps(_mm512_set1_ps(0.09090909f), _mm512_mul_ps(q, p));
    p = _mm512_add_ps(_mm512_set1_ps(0.11111111f), _mm512_mul_ps(q, p));
    p = _mm512_add_ps(_mm512_set1_ps(0.14285715f), _mm512_mul_ps(q, p));
    p = _mm512_add_ps(_mm512_set1_ps(0.2f), _mm512_mul_ps(q, p));
    p = _mm512_add_ps(_mm512_set1_ps(0.33333334f), _mm512_mul_ps(q, p));
    p = _mm512_add_ps(_mm512_set1_ps(1.0f), _mm512_mul_ps(q, p));
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(2.0f), s), p);
}

/* 16 lanes of the logistic loss (and, with d, the derivative); m: the lanes in use. */
V512 void logistic16(const float *z, float y, float *loss, float *d, __mmask16 m)
{
    __m512 zz = _mm512_maskz_loadu_ps(m, z), zero = _mm512_setzero_ps();
    __m512 pz = _mm512_max_ps(zz, zero);
    __m512 e = exp_neg16(_mm512_sub_ps(pz, _mm512_sub_ps(zz, pz)));
    __m512 vy = _mm512_set1_ps(y);
    __m512 l = _mm512_add_ps(_mm512_sub_ps(pz, _mm512_mul_ps(vy, zz)), log1p_01_16(e));
    _mm512_mask_storeu_ps(loss, m, l);
    if (d) {
        __m512 one = _mm512_set1_ps(1.0f);
        __m512 q = _mm512_div_ps(one, _mm512_add_ps(one, e));
        __mmask16 ge = _mm512_cmp_ps_mask(zz, zero, _CMP_GE_OQ);
        __m512 sg = _mm512_mask_blend_ps(ge, _mm512_sub_ps(one, q), q);
        _mm512_mask_storeu_ps(d, m, _mm512_sub_ps(sg, vy));
    }
}

LL_AVX512 static void logistic_512(const float *restrict z, size_t n, float y, float *restrict loss,
                                   float *restrict d)
{
    for (size_t i = 0; i < n; i += 16)
        logistic16(z + i, y, loss + i, d ? d + i : NULL, cpu_lanes16(n - i));
}

LL_AVX512 static void logistic_value_512(const float *restrict z, size_t n, float y,
                                         float *restrict loss)
{
    logistic_512(z, n, y, loss, NULL);
}

LL_AVX512 static void sigmoid_512(const float *restrict z, size_t n, float *restrict p)
{
    __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = cpu_lanes16(n - i);
        __m512 zz = _mm512_maskz_loadu_ps(m, z + i), pz = _mm512_max_ps(zz, zero);
        __m512 q = _mm512_div_ps(
            one, _mm512_add_ps(one, exp_neg16(_mm512_sub_ps(pz, _mm512_sub_ps(zz, pz)))));
        __mmask16 ge = _mm512_cmp_ps_mask(zz, zero, _CMP_GE_OQ);
        _mm512_mask_storeu_ps(p + i, m, _mm512_mask_blend_ps(ge, _mm512_sub_ps(one, q), q));
    }
}
#endif

void loss_logistic_n(const float *restrict z, size_t n, float y, float *restrict loss,
                     float *restrict d)
{
#ifdef LL_X86
    if (cpu_avx512()) {
        logistic_512(z, n, y, loss, d);
        return;
    }
#endif
    logistic_base(z, n, y, loss, d);
}

void loss_logistic_value_n(const float *restrict z, size_t n, float y, float *restrict loss)
{
#ifdef LL_X86
    if (cpu_avx512()) {
        logistic_value_512(z, n, y, loss);
        return;
    }
#endif
    logistic_value_base(z, n, y, loss);
}

/* the catch-up factors of lazy regularisation: a row at a time, not worth a second variant */
LL_VEC void loss_exp_neg_n(const float *a, size_t n, float *out)
{
    exp_neg_body(a, n, out);
}

void loss_sigmoid_n(const float *restrict z, size_t n, float *restrict p)
{
#ifdef LL_X86
    if (cpu_avx512()) {
        sigmoid_512(z, n, p);
        return;
    }
#endif
    sigmoid_base(z, n, p);
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
