/* SPDX-License-Identifier: Apache-2.0 */
/* test_spk.c - the sparse step's row kernels (spk.h): the AVX-512 and portable forms give the
 * same bits as the stated order of operations, for every column remainder, split rows, empty
 * rows and features, and special values. */
#include "cpu.h"
#include "spk.h"
#include "support_rows.h"
#include "tt.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t next(void)
{
    return tsup_rnd();
}

static float frand(void)
{
    return (float)((double)(next() >> 11) / 9007199254740992.0 * 2 - 1);
}

static float *fill(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = frand();
    return p;
}

static int same_bits(const float *a, const float *b, size_t n)
{
    return tsup_same_bytes(a, b, n * sizeof *a);
}

/* The stated orders, one element at a time (volatile: every product rounded before its sum). */
static void forward_ref(const float *W, const float *B, size_t M, const uint32_t *idx,
                        const float *val, const size_t *off, const float *sc, size_t n, float *Z)
{
    for (size_t i = 0; i < n; i++)
        for (size_t m = 0; m < M; m++) {
            volatile float a = B[m];
            for (size_t k = off[i]; k < off[i + 1]; k++) {
                volatile float x = val[k] * sc[idx[k]];
                volatile float p = x * W[(size_t)idx[k] * M + m];
                a = a + p;
            }
            Z[i * M + m] = a;
        }
}

static void gather_ref(const float *dZ, size_t M, const uint32_t *row, const float *v, float scale,
                       size_t n, float *g)
{
    for (size_t m = 0; m < M; m++) {
        volatile float a = 0.0f;
        for (size_t e = 0; e < n; e++) {
            volatile float x = v[e] * scale;
            volatile float p = x * dZ[(size_t)row[e] * M + m];
            a = a + p;
        }
        g[m] = a;
    }
}

static void adam_ref(size_t M, float *W, const float *G, float *m1, float *m2, const float *st,
                     const float *wd, const float *l1, float b1, float b2, float eps)
{
    for (size_t i = 0; i < M; i++) {
        volatile float t = wd[i] * W[i];
        volatile float g = G[i] + t;
        volatile float a1 = b1 * m1[i], a2 = (1 - b1) * g;
        m1[i] = a1 + a2;
        volatile float v1 = b2 * m2[i], v2 = (1 - b2) * g;
        volatile float v3 = v2 * g;
        m2[i] = v1 + v3;
        volatile float r = sqrtf(m2[i]);
        volatile float den = r + eps, num = st[i] * m1[i];
        volatile float d = num / den;
        W[i] = W[i] - d;
        if (l1) {
            volatile float w = W[i], th = l1[i];
            if (w > th)
                W[i] = w - th;
            else if (w < -th)
                W[i] = w + th;
            else
                W[i] = 0.0f;
        }
    }
}

/* A CSR batch of n rows over D features, row i with i % 5 nonzeros (some rows empty). */
static void one_forward(size_t M, size_t n, size_t D)
{
    size_t *off = malloc((n + 1) * sizeof *off), nnz = 0;
    off[0] = 0;
    for (size_t i = 0; i < n; i++)
        off[i + 1] = off[i] + i % 5;
    nnz = off[n];
    uint32_t *idx = malloc((nnz + 1) * sizeof *idx);
    for (size_t k = 0; k < nnz; k++)
        idx[k] = (uint32_t)(next() % D);
    float *val = fill(nnz), *sc = fill(D), *W = fill(D * M), *B = fill(M);
    float *za = fill(n * M), *zc = fill(n * M), *zr = fill(n * M), *zs = fill(n * M);
    int had = cpu_set_avx512(1);
    spk_forward(W, B, M, idx, val, off, sc, 0, n, za);
    size_t r1 = n / 3; /* split rows: the same bits */
    spk_forward(W, B, M, idx, val, off, sc, 0, r1, zs);
    spk_forward(W, B, M, idx, val, off, sc, r1, n, zs);
    cpu_set_avx512(0);
    spk_forward(W, B, M, idx, val, off, sc, 0, n, zc);
    cpu_set_avx512(had);
    forward_ref(W, B, M, idx, val, off, sc, n, zr);
    CHECKF(same_bits(zc, zr, n * M), "M=%zu n=%zu: portable forward is not the stated order", M, n);
    CHECKF(same_bits(za, zr, n * M), "M=%zu n=%zu: AVX-512 forward is not the stated order", M, n);
    CHECKF(same_bits(zs, zr, n * M), "M=%zu n=%zu: forward depends on the row split", M, n);
    free(off), free(idx), free(val), free(sc), free(W), free(B);
    free(za), free(zc), free(zr), free(zs);
}

static void one_gather(size_t M, size_t n_ent, size_t rows)
{
    float *dZ = fill(rows * M), *x = fill(n_ent);
    uint32_t *row = malloc((n_ent + 1) * sizeof *row);
    for (size_t e = 0; e < n_ent; e++)
        row[e] = (uint32_t)(next() % rows);
    float *ga = fill(M), *gc = fill(M), *gr = fill(M);
    int had = cpu_set_avx512(1);
    float scale = 0.3f + frand();
    spk_gather(dZ, M, row, x, scale, n_ent, ga);
    cpu_set_avx512(0);
    spk_gather(dZ, M, row, x, scale, n_ent, gc);
    cpu_set_avx512(had);
    gather_ref(dZ, M, row, x, scale, n_ent, gr);
    CHECKF(same_bits(gc, gr, M), "M=%zu entries=%zu: portable gather is not the stated order", M,
           n_ent);
    CHECKF(same_bits(ga, gr, M), "M=%zu entries=%zu: AVX-512 gather is not the stated order", M,
           n_ent);
    free(dZ), free(x), free(row), free(ga), free(gc), free(gr);
}

static void one_adam(size_t M, int special, int with_l1)
{
    float *W = fill(M), *G = fill(M), *m1 = fill(M), *m2 = fill(M), *st = fill(M), *wd = fill(M);
    float *l1 = fill(M);
    for (size_t i = 0; i < M; i++) /* thresholds about the weights' size: every branch taken */
        l1[i] = i % 3 == 0 ? 0.0f : fabsf(l1[i]) * 0.8f;
    const float *L1 = with_l1 ? l1 : NULL;
    for (size_t i = 0; i < M; i++) {
        m2[i] = fabsf(m2[i]);
        st[i] = fabsf(st[i]) * 0.01f;
        wd[i] = fabsf(wd[i]) * 1e-3f;
        if (special) { /* zeros, signed zeros, tiny and huge gradients */
            static const float sp[] = {0.0f, -0.0f, 1e-30f, -1e30f, 3e38f, 1e-45f};
            G[i] = sp[i % 6];
            if (i % 4 == 1)
                m2[i] = 0.0f;
        }
    }
    size_t bytes = M * sizeof(float);
    float *w[3], *a[3], *v[3];
    for (int c = 0; c < 3; c++) {
        w[c] = malloc(bytes + 4), a[c] = malloc(bytes + 4), v[c] = malloc(bytes + 4);
        memcpy(w[c], W, bytes), memcpy(a[c], m1, bytes), memcpy(v[c], m2, bytes);
    }
    float b1 = 0.9f, b2 = 0.999f, eps = (float)1e-8;
    int had = cpu_set_avx512(1);
    spk_adam(M, w[0], G, a[0], v[0], st, wd, L1, b1, b2, eps);
    cpu_set_avx512(0);
    spk_adam(M, w[1], G, a[1], v[1], st, wd, L1, b1, b2, eps);
    cpu_set_avx512(had);
    adam_ref(M, w[2], G, a[2], v[2], st, wd, L1, b1, b2, eps);
    size_t zeros = 0;
    for (size_t i = 0; i < M; i++)
        zeros += w[2][i] == 0.0f;
    if (with_l1 && M >= 16)
        CHECKF(zeros > 0 && zeros < M, "M=%zu: the L1 step set %zu of the weights to 0", M, zeros);
    for (int c = 0; c < 2; c++)
        CHECKF(same_bits(w[c], w[2], M) && same_bits(a[c], a[2], M) && same_bits(v[c], v[2], M),
               "M=%zu special=%d l1=%d: %s adam is not the stated order", M, special, with_l1,
               c ? "portable" : "AVX-512");
    for (int c = 0; c < 3; c++)
        free(w[c]), free(a[c]), free(v[c]);
    free(W), free(G), free(m1), free(m2), free(st), free(wd), free(l1);
}

static void test_forward_orders(void)
{
    size_t Ms[] = {1, 2, 15, 16, 17, 32, 33, 48, 63, 64, 65, 100, 130};
    for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++) {
        one_forward(Ms[a], 1, 3);
        one_forward(Ms[a], 37, 11);
        one_forward(Ms[a], 200, 1000);
    }
}

static void test_gather_orders(void)
{
    size_t Ms[] = {1, 3, 16, 17, 32, 47, 64, 65, 129};
    size_t ns[] = {0, 1, 2, 9, 500};
    for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++)
        for (size_t b = 0; b < sizeof ns / sizeof *ns; b++)
            one_gather(Ms[a], ns[b], 50);
}

static void test_adam_orders(void)
{
    size_t Ms[] = {1, 2, 7, 16, 17, 32, 33, 100};
    for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++) {
        for (int l = 0; l < 2; l++) {
            one_adam(Ms[a], 0, l);
            one_adam(Ms[a], 1, l);
        }
    }
}

/* An empty gather leaves +0 in every column (the sum's start), not what was in g. */
static void test_gather_empty_is_zero(void)
{
    float dz[4] = {1, 2, 3, 4}, g[4] = {-0.0f, 5, 6, 7};
    for (int w = 0; w < 2; w++) {
        int had = cpu_set_avx512(w);
        spk_gather(dz, 4, NULL, NULL, 1.0f, 0, g);
        cpu_set_avx512(had);
        for (int m = 0; m < 4; m++)
            CHECKF(g[m] == 0.0f && !signbit(g[m]), "width %d: column %d is %g", w, m, g[m]);
    }
}

int main(void)
{
    TT_BEGIN("test_spk");
    RUN(test_forward_orders);
    RUN(test_gather_orders);
    RUN(test_adam_orders);
    RUN(test_gather_empty_is_zero);
    TT_END();
}
