/* SPDX-License-Identifier: Apache-2.0 */
/*
 * score.h - the scoring core shared by predict and serve: checks each row of a batch against the
 * model's feature dimension, scores it with ll_model_predict (the training kernels) into
 * buffers reused from batch to batch, and appends the encoded rows to a response buffer.
 */
#ifndef LL_SCORE_H
#define LL_SCORE_H
#include "linlearn.h"
#include "response.h"

/* Scores and labels of the last batch; the arrays grow to the largest batch and are kept. */
typedef struct score_buf {
    float *scores, *labels;
    size_t cap_rows, cap_scores;
    /* set when score_batch fails on a row of the wrong width */
    uint64_t bad_row; /* 0-based row number (row_base + index in the batch) */
    uint64_t expected, received;
} score_buf;

void score_buf_deinit(score_buf *sb);

/* The message SageMaker gives for a row of the wrong width (without the row number). */
#define SCORE_DIM_MSG                                                                              \
    "Customer Error: The feature dimension of the input: %llu does not match the feature "         \
    "dimension of the model: %llu. Please fix the input and try again."

/* Checks that every row of b has the model's feature dimension (a dense row that many values,
 * a sparse row a shape of at most that), then scores b into sb. row_base numbers the batch's first
 * row in messages. A wrong width is LL_E_PARSE (bad data) with sb->bad_row/expected/received set.
 */
ll_code score_batch(const ll_model *m, const ll_batch *b, uint64_t row_base, score_buf *sb,
                    ll_err *err);

/* score_batch, then the batch's rows encoded by e onto out. */
ll_code score_encode(const ll_model *m, const ll_batch *b, uint64_t row_base, score_buf *sb,
                     response_enc *e, response_buf *out, ll_err *err);
#endif
