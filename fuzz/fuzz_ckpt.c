/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ckpt.c - fuzz target for the checkpoint loader (ckpt.h). The CRC guards against
 * accidents, not against crafted values, so the target rewrites the input's fingerprint, seed
 * and CRC before loading: every mutant reaches the field checks. Models sized from the header
 * (when small) and a scaler copied from the file let mutants pass the configuration checks too,
 * so the apply stage runs on them. Checks: no crash or overflow (the sanitizers), a refusal
 * changes nothing, an accepted file leaves finite weights and a step counter with room.
 */
#include "ckpt.h"
#include "mem.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "fuzz_ckpt: " __VA_ARGS__);                                                \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

#define FP 0x0123456789abcdefull
#define SEED 7u
#define EPOCHS 10u

static uint64_t get(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put(uint8_t *p, int n, uint64_t v)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The models a loader would be given: D x (K * C) weights and their optimizer state. */
static int models_init(sgd *s, uint64_t D, uint32_t C, uint32_t K)
{
    memset(s, 0, sizeof *s);
    s->D = D;
    s->C = C;
    s->K = K;
    s->M = (size_t)K * C;
    size_t DM = (size_t)D * s->M;
    s->W = calloc(DM, 4);
    s->s1W = calloc(DM, 4);
    s->s2W = calloc(DM, 4);
    s->B = calloc(s->M, 4);
    s->s1B = calloc(s->M, 4);
    s->s2B = calloc(s->M, 4);
    s->lr = calloc(K, 8);
    s->last = calloc(D, 8);
    s->cap_lrsum = 2 * (size_t)K;
    s->lrsum = mem_calloc(s->cap_lrsum, 8);
    return s->W && s->s1W && s->s2W && s->B && s->s1B && s->s2B && s->lr && s->last && s->lrsum;
}

static void models_free(sgd *s)
{
    free(s->W);
    free(s->s1W);
    free(s->s2W);
    free(s->B);
    free(s->s1B);
    free(s->s2B);
    free(s->lr);
    free(s->last);
    mem_free(s->lrsum);
    mem_free(s->bestW);
    mem_free(s->bestB);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 132 || size > (1u << 20))
        return 0;
    uint8_t *b = malloc(size);
    memcpy(b, data, size);
    put(b + 16, 8, FP);
    put(b + 104, 8, SEED);
    put(b + size - 4, 4, (uint32_t)crc32(crc32(0, NULL, 0), b, (uInt)(size - 4)));
    uint64_t D = get(b + 24, 8);
    uint32_t C = (uint32_t)get(b + 32, 4), K = (uint32_t)get(b + 36, 4);
    uint32_t flags = (uint32_t)get(b + 44, 4);
    if (D == 0 || D > 128 || C == 0 || C > 4 || K == 0 || K > 4) {
        D = 3;
        C = 1;
        K = 2;
    }
    /* the scaler this run "computed": the file's own when it lies inside the file */
    float *mu = calloc(D, 4), *scl = calloc(D, 4);
    for (uint64_t j = 0; j < D; j++)
        scl[j] = 1.0f;
    size_t at = 128 + 24 * (size_t)K;
    int shift = (flags & CKPT_SHIFT) != 0;
    if (shift && at + 4 * D <= size - 4) {
        memcpy(mu, b + at, 4 * D);
        at += 4 * D;
    }
    if (at + 4 * D <= size - 4)
        memcpy(scl, b + at, 4 * D);
    scaler sc;
    memset(&sc, 0, sizeof sc);
    sc.shift = shift;
    sc.mu = shift ? mu : NULL;
    sc.sc = scl;
    double ymu, ysd;
    uint64_t u = get(b + 88, 8);
    memcpy(&ymu, &u, 8);
    u = get(b + 96, 8);
    memcpy(&ysd, &u, 8);
    sc.ymu = ymu;
    sc.ysd = ysd;

    sgd s;
    if (!models_init(&s, D, C, K))
        FAIL("out of memory setting up");
    double best[4] = {1, 1, 1, 1}, bestc[4] = {2, 2, 2, 2};
    ckpt_state st;
    memset(&st, 0, sizeof st);
    st.fingerprint = FP;
    st.seed = SEED;
    st.epochs = EPOCHS;
    st.best = best;
    st.bestc = bestc;
    ll_err err;
    ll_code rc = ckpt_load_bytes("fuzz.ckpt", b, size, &st, &s, &sc, &err);
    if (rc != LL_OK) {
        if (rc != LL_E_PARSE && rc != LL_E_STATE && rc != LL_E_NOMEM)
            FAIL("unexpected code %d: %s", (int)rc, err.msg);
        if (!err.msg[0] || strcmp(err.src, "fuzz.ckpt"))
            FAIL("a refusal without a message naming the file");
        if (s.t != 0 || st.flags != 0 || best[0] != 1 || bestc[0] != 2 || st.owns_part)
            FAIL("a refused checkpoint changed the state");
        for (size_t i = 0; i < (size_t)D * s.M; i++)
            if (s.W[i] != 0)
                FAIL("a refused checkpoint changed the weights");
    } else {
        if (st.epochs_done > EPOCHS || st.stale > st.epochs_done || s.t > st.rows_trained)
            FAIL("accepted counters out of range");
        for (size_t i = 0; i < (size_t)D * s.M; i++)
            if (!isfinite(s.W[i]))
                FAIL("accepted a non-finite weight");
        for (uint32_t k = 0; k < K; k++)
            if (!(s.lr[k] > 0))
                FAIL("accepted a learning rate <= 0");
        /* the restored step's learning-rate sums lie inside their buffer */
        if (s.cap_lrsum < ((size_t)s.t + 1) * K)
            FAIL("step counter %llu without room for its sums", (unsigned long long)s.t);
        s.lrsum[(size_t)s.t * K + K - 1] += 0;
        if ((st.flags & CKPT_PARTIAL) && st.part.n && !isfinite(st.part.lab[st.part.n - 1]))
            FAIL("accepted a non-finite sampled label");
    }
    ckpt_state_deinit(&st);
    models_free(&s);
    free(mu);
    free(scl);
    free(b);
    return 0;
}
