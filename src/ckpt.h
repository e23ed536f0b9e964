/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ckpt.h - training checkpoints: the state of every parallel model at an epoch boundary, so a
 * stopped run (SIGTERM, spot interruption, a crash) continues where it left off and ends with
 * the same model as an uninterrupted run with the same seed and threads. Written atomically
 * (temporary file + rename, ll_writer_open); loaded with every size, count and checksum checked.
 *
 * File layout (all numbers little-endian; f64/f32 are IEEE-754):
 *
 *   offset size  field
 *   0      8     magic "LLCKPT01"
 *   8      4     u32 version (1)
 *   12     4     u32 header size (128)
 *   16     8     u64 fingerprint of the configuration (ckpt_fingerprint)
 *   24     8     u64 D (features)
 *   32     4     u32 C (outputs per model)
 *   36     4     u32 K (models)
 *   40     4     u32 next epoch (0-based epoch the resumed run starts with)
 *   44     4     u32 flags: 1 training loop finished (early stop or last epoch),
 *                           2 best-epoch snapshot present, 4 scaler has a mean shift,
 *                           8 stopped inside the next epoch (SIGTERM): resume mid-epoch,
 *                           16 lazy sparse state present (features not caught up)
 *   48     4     u32 epochs without improvement (early stopping)
 *   52     4     u32 epochs done
 *   56     8     u64 optimizer steps taken
 *   64     8     f64 best early-stopping value so far
 *   72     8     u64 rows trained so far
 *   80     8     f64 seconds spent training so far
 *   88     8     f64 scaler label mean
 *   96     8     f64 scaler label scale
 *   104    8     u64 seed
 *   112    8     u64 payload size P (bytes from 128 to the checksum)
 *   120    8     u64 mini-batches of the next epoch already trained (flag 8), else 0
 *   128    P     arrays, in order (M = K * C):
 *                  f64 lr[K], f64 best_loss[K], f64 best_criterion[K],
 *                  f32 scaler_mu[D] (flag 4 only), f32 scaler_scale[D],
 *                  f32 W[D*M], f32 B[M], f32 m1W[D*M], f32 m2W[D*M], f32 m1B[M], f32 m2B[M],
 *                  f32 bestW[D*M], f32 bestB[M] (flag 2 only),
 *                then with flag 16 (training took sparse steps, whose weights catch up
 *                lazily; T = optimizer steps):
 *                  u64 t0 (the oldest step a feature is current at), u64 n (= T - t0 + 1),
 *                  f64 lrsum[n*K] (cumulative learning rates of steps t0..T, K a step),
 *                  u64 last[D] (the step each feature is current at, t0..T): a resumed run
 *                  then catches up exactly as an uninterrupted one, bit for bit,
 *                then with flag 8 (stopped inside an epoch):
 *                  f64 epoch_loss_sum[K], f64 epoch_weight_sum, u64 n (sampled rows),
 *                  then with flag 32 (written across H hosts; the sums above are the hosts'
 *                  totals and "mini-batches" at 120 the steps every host took together):
 *                    u64 steps (= the value at 120), u64 H, then for each host h in rank
 *                    order: u64 batches (its own mini-batches of the epoch read so far),
 *                    u64 rows (its rows of them), f64 weight_sum, f64 loss_sum[K],
 *                  f32 sampled_scores[K*n] (model-major), f32 labels[n], f32 weights[n]
 *   128+P  4     u32 CRC-32 (zlib) of bytes 0 .. 128+P-1
 */
#ifndef LL_CKPT_H
#define LL_CKPT_H
#include "linlearn.h"
#include "sgd.h"

#define CKPT_FILE "linlearn-state.ckpt"
enum {
    CKPT_DONE = 1,
    CKPT_HAS_BEST = 2,
    CKPT_SHIFT = 4,
    CKPT_PARTIAL = 8,
    CKPT_LAZY = 16,
    CKPT_HOSTS = 32
};

/* A stop inside an epoch (flag 8): how far its train pass got. Borrowed views when saving;
 * owned by the state (ckpt_state_deinit) after loading. */
typedef struct ckpt_partial {
    uint64_t batches; /* mini-batches of the train pass already stepped */
    double *tl, tw;   /* the epoch's loss sums (K) and weight sum so far */
    uint64_t n;       /* rows in the early-stopping sample so far */
    size_t stride;    /* distance between models' scores in sc (the sample's capacity) */
    float *sc, *lab, *wt;
    /* across hosts (flag 32; nh 0 or 1: one host): where each host's share of the epoch got */
    uint32_t nh;
    uint64_t *h_batches, *h_rows; /* nh each */
    double *h_tw, *h_tl;          /* nh, and nh * K (host-major) */
} ckpt_partial;

/* The driver's state around the models. best and bestc point at K values each. */
typedef struct ckpt_state {
    uint64_t fingerprint, seed;
    uint32_t epochs; /* the configured epochs, checked on loading (0: not checked) */
    uint32_t next_epoch, epochs_done, stale, flags;
    double global_best, train_secs;
    uint64_t rows_trained;
    double *best, *bestc;
    ckpt_partial part; /* with flags & CKPT_PARTIAL */
    int owns_part;
} ckpt_state;

/* Frees what ckpt_load allocated for a partial epoch. */
void ckpt_state_deinit(ckpt_state *st);

/* A hash of everything that must match for a checkpoint to apply: every hyperparameter as set,
 * the seed, and which channels are present. */
uint64_t ckpt_fingerprint(const ll_hparams *hp, uint64_t seed, const int has[3]);

/* Writes st and the models of s (with the scaler sc they were built on) to path atomically. */
ll_code ckpt_save(const char *path, const ckpt_state *st, const sgd *s, const scaler *sc,
                  ll_err *err);

/* Reads path into st (best/bestc must point at K values) and s, which sgd_init set up with
 * the same sizes from the same data. Nothing is changed unless everything checks out:
 * LL_E_PARSE for a damaged file (naming the byte offset), LL_E_STATE for a checkpoint of
 * another configuration (fingerprint, sizes, or a scaler computed from other data), LL_E_IO
 * when it cannot be read. */
ll_code ckpt_load(const char *path, ckpt_state *st, sgd *s, const scaler *sc, ll_err *err);

/* ckpt_load on the len bytes at bytes (borrowed), named path in messages. It decodes (every size
 * and offset checked against the file, overflow-safe), validates (every field against the
 * configuration in st and s and against its range: counters, step count, finite numbers) and
 * only then applies. A field no run writes is LL_E_PARSE naming the byte offset and the field. */
ll_code ckpt_load_bytes(const char *path, const uint8_t *bytes, uint64_t len, ckpt_state *st,
                        sgd *s, const scaler *sc, ll_err *err);
#endif
