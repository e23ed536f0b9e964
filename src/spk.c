/* SPDX-License-Identifier: Apache-2.0 */
/* spk.c - the row kernels of a sparse step (spk.h): portable forms and AVX-512 forms with the
 * same order of float operations. */
#include "spk.h"
#include "cpu.h"
#include <math.h>
#include <string.h>
#ifdef LL_X86
#include <immintrin.h>
#endif

/* No fused multiply-add: each product is rounded before its sum in both forms. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#define SPK_BASE
#elif defined(__GNUC__)
#define SPK_BASE                                                                                   \
    __attribute__((                                                                                \
        optimize("fp-contract=off", "tree-vectorize", "no-trapping-math", "no-math-errno")))
#else
#define SPK_BASE
#endif

#define SPK_PF 8 /* how many nonzeros ahead the scattered weight rows are prefetched */

static inline void prefetch_row(const float *p, size_t n)
{
    for (size_t i = 0; i < n; i += 16)
        __builtin_prefetch(p + i);
}

/* ---- portable forms ---- */

SPK_BASE static void forward_base(const float *W, const float *B, size_t M, const uint32_t *idx,
                                  const float *val, const size_t *off, const float *sc, size_t i0,
                                  size_t i1, float *Z)
{
    const uint32_t *pf = idx + off[i1]; /* the prefetches run on across rows, to here */
    for (size_t i = i0; i < i1; i++) {
        float *restrict z = Z + i * M;
        memcpy(z, B, M * sizeof(float));
        for (size_t k = off[i]; k < off[i + 1]; k++) {
            uint32_t j = idx[k];
            if (idx + k + SPK_PF < pf)
                prefetch_row(W + (size_t)idx[k + SPK_PF] * M, M);
            float x = val[k] * sc[j];
            const float *restrict wr = W + (size_t)j * M;
            for (size_t m = 0; m < M; m++)
                z[m] += x * wr[m];
        }
    }
}

SPK_BASE static void gather_base(const float *dZ, size_t M, const uint32_t *row, const float *v,
                                 float scale, size_t n, float *restrict g)
{
    for (size_t m = 0; m < M; m++)
        g[m] = 0.0f;
    for (size_t e = 0; e < n; e++) {
        const float *restrict d = dZ + (size_t)row[e] * M;
        float xe = v[e] * scale;
        for (size_t m = 0; m < M; m++)
            g[m] += xe * d[m];
    }
}

SPK_BASE static void adam_base(size_t M, float *restrict W, const float *restrict G,
                               float *restrict m1, float *restrict m2, const float *restrict st,
                               const float *restrict wd, const float *restrict l1, float b1,
                               float b2, float eps)
{
    for (size_t i = 0; i < M; i++) {
        float g = G[i] + wd[i] * W[i];
        m1[i] = b1 * m1[i] + (1 - b1) * g;
        m2[i] = b2 * m2[i] + (1 - b2) * g * g;
        W[i] -= st[i] * m1[i] / (sqrtf(m2[i]) + eps);
    }
    if (l1)
        for (size_t i = 0; i < M; i++) {
            float w = W[i], t = l1[i];
            W[i] = w > t ? w - t : w < -t ? w + t : 0.0f;
        }
}

/* ---- AVX-512 forms: up to 64 columns (NV vectors of 16) in registers per block ---- */

#ifdef LL_X86
#define V512 LL_AVX512 static inline __attribute__((always_inline))

/* The masks of a block's NV vectors when w of its columns are in use. */
V512 void block_masks(size_t w, int nv, __mmask16 *mk)
{
    for (int v = 0; v < nv; v++)
        mk[v] = w > (size_t)v * 16 ? cpu_lanes16(w - (size_t)v * 16) : 0;
}

V512 void forward_block(const float *W, const float *B, size_t M, size_t mb, size_t w, int nv,
                        const uint32_t *idx, const float *val, size_t k0, size_t k1,
                        const uint32_t *pf, const float *sc, float *z)
{
    __mmask16 mk[4];
    __m512 a[4];
    block_masks(w, nv, mk);
    for (int v = 0; v < nv; v++)
        a[v] = _mm512_maskz_loadu_ps(mk[v], B + mb + 16 * v);
    for (size_t k = k0; k < k1; k++) {
        uint32_t j = idx[k];
        if (idx + k + SPK_PF < pf)
            prefetch_row(W + (size_t)idx[k + SPK_PF] * M + mb, w);
        __m512 x = _mm512_set1_ps(val[k] * sc[j]);
        const float *wr = W + (size_t)j * M + mb;
        for (int v = 0; v < nv; v++)
            a[v] = _mm512_add_ps(a[v], _mm512_mul_ps(x, _mm512_maskz_loadu_ps(mk[v], wr + 16 * v)));
    }
    for (int v = 0; v < nv; v++)
        _mm512_mask_storeu_ps(z + mb + 16 * v, mk[v], a[v]);
}

LL_AVX512 static void forward_512(const float *W, const float *B, size_t M, const uint32_t *idx,
                                  const float *val, const size_t *off, const float *sc, size_t i0,
                                  size_t i1, float *Z)
{
    const uint32_t *pf = idx + off[i1];
    for (size_t i = i0; i < i1; i++) {
        for (size_t mb = 0; mb < M; mb += 64) {
            size_t w = M - mb < 64 ? M - mb : 64;
            int nv = (int)((w + 15) / 16);
            float *z = Z + i * M;
            switch (nv) { /* constant block widths: the accumulators stay in registers */
            case 1:
                forward_block(W, B, M, mb, w, 1, idx, val, off[i], off[i + 1], pf, sc, z);
                break;
            case 2:
                forward_block(W, B, M, mb, w, 2, idx, val, off[i], off[i + 1], pf, sc, z);
                break;
            case 3:
                forward_block(W, B, M, mb, w, 3, idx, val, off[i], off[i + 1], pf, sc, z);
                break;
            default:
                forward_block(W, B, M, mb, w, 4, idx, val, off[i], off[i + 1], pf, sc, z);
                break;
            }
        }
    }
}

V512 void gather_block(const float *dZ, size_t M, size_t mb, size_t w, int nv, const uint32_t *row,
                       const float *v, float scale, size_t n, float *g)
{
    __mmask16 mk[4];
    __m512 a[4];
    block_masks(w, nv, mk);
    for (int c = 0; c < nv; c++)
        a[c] = _mm512_setzero_ps();
    for (size_t e = 0; e < n; e++) {
        const float *d = dZ + (size_t)row[e] * M + mb;
        __m512 xe = _mm512_set1_ps(v[e] * scale);
        for (int c = 0; c < nv; c++)
            a[c] = _mm512_add_ps(a[c], _mm512_mul_ps(xe, _mm512_maskz_loadu_ps(mk[c], d + 16 * c)));
    }
    for (int c = 0; c < nv; c++)
        _mm512_mask_storeu_ps(g + mb + 16 * c, mk[c], a[c]);
}

LL_AVX512 static void gather_512(const float *dZ, size_t M, const uint32_t *row, const float *v,
                                 float scale, size_t n, float *g)
{
    for (size_t mb = 0; mb < M; mb += 64) {
        size_t w = M - mb < 64 ? M - mb : 64;
        switch ((w + 15) / 16) {
        case 1:
            gather_block(dZ, M, mb, w, 1, row, v, scale, n, g);
            break;
        case 2:
            gather_block(dZ, M, mb, w, 2, row, v, scale, n, g);
            break;
        case 3:
            gather_block(dZ, M, mb, w, 3, row, v, scale, n, g);
            break;
        default:
            gather_block(dZ, M, mb, w, 4, row, v, scale, n, g);
            break;
        }
    }
}

LL_AVX512 static void adam_512(size_t M, float *W, const float *G, float *m1, float *m2,
                               const float *st, const float *wd, const float *l1, float b1,
                               float b2, float eps)
{
    __m512 vb1 = _mm512_set1_ps(b1), vb2 = _mm512_set1_ps(b2), vc1 = _mm512_set1_ps(1 - b1),
           vc2 = _mm512_set1_ps(1 - b2), veps = _mm512_set1_ps(eps), zero = _mm512_setzero_ps();
    __m512i sign = _mm512_set1_epi32(INT32_MIN);
    for (size_t i = 0; i < M; i += 16) {
        __mmask16 k = cpu_lanes16(M - i);
        __m512 w = _mm512_maskz_loadu_ps(k, W + i);
        __m512 g = _mm512_add_ps(_mm512_maskz_loadu_ps(k, G + i),
                                 _mm512_mul_ps(_mm512_maskz_loadu_ps(k, wd + i), w));
        __m512 a = _mm512_add_ps(_mm512_mul_ps(vb1, _mm512_maskz_loadu_ps(k, m1 + i)),
                                 _mm512_mul_ps(vc1, g));
        __m512 v = _mm512_add_ps(_mm512_mul_ps(vb2, _mm512_maskz_loadu_ps(k, m2 + i)),
                                 _mm512_mul_ps(_mm512_mul_ps(vc2, g), g));
        _mm512_mask_storeu_ps(m1 + i, k, a);
        _mm512_mask_storeu_ps(m2 + i, k, v);
        __m512 d = _mm512_div_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(k, st + i), a),
                                 _mm512_add_ps(_mm512_sqrt_ps(v), veps));
        w = _mm512_sub_ps(w, d);
        if (l1) { /* the comparisons are false for a NaN, which becomes 0 as in the loop */
            __m512 t = _mm512_maskz_loadu_ps(k, l1 + i);
            __m512 nt = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(t), sign));
            __mmask16 gt = _mm512_cmp_ps_mask(w, t, _CMP_GT_OQ);
            __mmask16 lt = _mm512_cmp_ps_mask(w, nt, _CMP_LT_OQ);
            __m512 r = _mm512_mask_blend_ps(gt, zero, _mm512_sub_ps(w, t));
            w = _mm512_mask_blend_ps(lt & (__mmask16)~gt, r, _mm512_add_ps(w, t));
        }
        _mm512_mask_storeu_ps(W + i, k, w);
    }
}
#endif

void spk_forward(const float *W, const float *B, size_t M, const uint32_t *idx, const float *val,
                 const size_t *off, const float *sc, size_t i0, size_t i1, float *Z)
{
#ifdef LL_X86
    if (cpu_avx512()) {
        forward_512(W, B, M, idx, val, off, sc, i0, i1, Z);
        return;
    }
#endif
    forward_base(W, B, M, idx, val, off, sc, i0, i1, Z);
}

void spk_gather(const float *dZ, size_t M, const uint32_t *row, const float *v, float scale,
                size_t n, float *g)
{
#ifdef LL_X86
    if (cpu_avx512()) {
        gather_512(dZ, M, row, v, scale, n, g);
        return;
    }
#endif
    gather_base(dZ, M, row, v, scale, n, g);
}

void spk_adam(size_t M, float *W, const float *G, float *m1, float *m2, const float *st,
              const float *wd, const float *l1, float b1, float b2, float eps)
{
#ifdef LL_X86
    if (cpu_avx512()) {
        adam_512(M, W, G, m1, m2, st, wd, l1, b1, b2, eps);
        return;
    }
#endif
    adam_base(M, W, G, m1, m2, st, wd, l1, b1, b2, eps);
}
