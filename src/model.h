/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model.h - building and saving ll_model (the trainer's side; loading and scoring are public in
 * linlearn.h). The artifact layout is in docs/MODEL.md; in short, model.tar.gz holds
 * manifest.json and weights.bin:
 *
 *   weights.bin (all little-endian)
 *   offset  size      field
 *   0       4         magic "LLWB"
 *   4       4         uint32 format version (1)
 *   8       8         uint64 feature_dim D
 *   16      4         uint32 n_outputs C (1, or num_classes for multiclass)
 *   20      4         uint32 flags (0)
 *   24      8         uint64 number of weights (D * C)
 *   32      4*D*C     float32 weights, feature-major: weight of feature j for output c at j*C+c
 *   32+4DC  4*C       float32 bias per output
 *   end-4   4         uint32 CRC-32 (zlib) of every byte before it
 */
#ifndef LL_MODEL_H
#define LL_MODEL_H
#include "linlearn.h"

#define MODEL_FORMAT "linlearn-model"
#define MODEL_VERSION 1
#define MODEL_WEIGHTS_MAGIC "LLWB"
#define MODEL_WEIGHTS_HDR 32

/* How a raw output z becomes a score. */
typedef enum {
    MODEL_SCORE_IDENTITY = 0, /* regressor */
    MODEL_SCORE_SIGMOID = 1,  /* binary, logistic loss: P(label = 1) */
    MODEL_SCORE_RAW = 2,      /* binary, hinge loss: the raw score */
    MODEL_SCORE_SOFTMAX = 3,  /* multiclass */
} model_score;

struct ll_model {
    ll_predictor pred;
    model_score score;
    uint64_t feature_dim;
    uint32_t n_out;
    float threshold;
    float *w;       /* feature_dim * n_out, feature-major */
    float *b;       /* n_out */
    char *loss;     /* loss name ("logistic", ...) */
    char *hp_json;  /* resolved hyperparameters: a JSON object text, or NULL */
    char *met_json; /* final metrics: a JSON object text, or NULL */
};

/* A zeroed model. n_out must be 1 for binary/regressor and >= 3 for multiclass. */
ll_code model_new(ll_predictor pred, model_score score, uint64_t feature_dim, uint32_t n_out,
                  const char *loss, ll_model **out, ll_err *err);
/* Attaches the hyperparameter and metric objects (JSON texts, copied; NULL clears). */
ll_code model_set_info(ll_model *m, const char *hp_json, const char *met_json, ll_err *err);
/* Raw outputs z = x.W + b for every row (n_rows * n_out into z), checking widths. */
ll_code model_raw(const ll_model *m, const ll_batch *b, float *z, ll_err *err);
/* Writes model.tar.gz into folder dir (temporary name + rename): linlearn's own layout. */
ll_code model_save(const ll_model *m, const char *dir, ll_err *err);
/* The same; with sagemaker set, the archive is SageMaker's (model_algo-1, sm_model.h) with
 * linlearn's manifest.json and weights.bin beside it. */
ll_code model_save_as(const ll_model *m, const char *dir, int sagemaker, ll_err *err);
/* Writes the model.tar.gz bytes (either layout) to w, without committing it. */
ll_code model_write(const ll_model *m, ll_writer *w, int sagemaker, ll_err *err);
/* Writes manifest.json and weights.bin into memory (mem_free both). */
ll_code model_serialize(const ll_model *m, char **manifest, size_t *mlen, unsigned char **wbin,
                        size_t *wlen, ll_err *err);
/* Builds a model from the two files' bytes, checking every field; src names them in errors. */
ll_code model_parse(const char *src, const char *manifest, size_t mlen, const unsigned char *wbin,
                    size_t wlen, ll_model **out, ll_err *err);
/* The model's JSON manifest object text (mem_free). */
char *model_manifest_text(const ll_model *m);
#endif
