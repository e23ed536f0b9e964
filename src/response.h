/* SPDX-License-Identifier: Apache-2.0 */
/*
 * response.h - inference responses: the Accept header's choice of format and the encoders that turn
 * scores and predicted labels into SageMaker's response bodies (spec §5.2), shared by predict
 * and serve. Rows are appended to a response_buf, which predict flushes to a writer after every
 * mini-batch and serve hands to the HTTP layer.
 *
 *   application/json                {"predictions": [{"score": 0.73, "predicted_label": 1}, ...]}
 *   application/jsonlines           {"score": 0.73, "predicted_label": 1}\n per row
 *   application/x-recordio-protobuf one Record per row: empty features, label map
 *                                   {"predicted_label": Float32Tensor [1.0],
 *                                    "score": Float32Tensor [s, ...]} (no predicted_label for
 *                                   regressors); entries written in that (sorted) key order
 *   text/csv (ours)                 predicted_label,score[,score...]\n (regressor: score\n)
 *
 * JSON numbers are written the way the SageMaker container writes them: the float32 score
 * widened to double and printed as Python's repr (28.711286544799805), labels as integers.
 */
#ifndef LL_RESP_H
#define LL_RESP_H
#include "linlearn.h"

typedef enum { RESP_JSON = 0, RESP_JSONL = 1, RESP_RECORDIO = 2, RESP_CSV = 3 } response_format;

/* Picks the response format for an Accept header value: absent, empty, "*" + "/" + "*" or
 * "application/" + "*" mean JSON (SageMaker's default); a list is tried in order (q-values are
 * ignored). Returns 0 and leaves *out alone when nothing in the list is supported. */
int response_parse_accept(const char *accept, response_format *out);
/* The Content-Type of a response ("application/json", ...). */
const char *response_content_type(response_format f);

/* A growable byte buffer; memory is kept across resets. */
typedef struct response_buf {
    uint8_t *p;
    size_t len, cap;
} response_buf;

/* Ensures room for `extra` more bytes. LL_E_NOMEM on failure. */
ll_code response_buf_reserve(response_buf *b, size_t extra, ll_err *err);
/* Appends len bytes. */
ll_code response_buf_put(response_buf *b, const void *p, size_t len, ll_err *err);
void response_buf_deinit(response_buf *b);

/* Largest RecordIO row frame kept as a template (a binary row is 72 bytes). */
#define RESP_TMPL_MAX 512

typedef struct response_enc {
    response_format fmt;
    ll_predictor pred;
    uint32_t n_out;  /* scores per row */
    uint64_t n_rows; /* rows written so far */
    /* RecordIO: every row's frame is the same bytes but for its floats, so one frame is built
     * with marker values and copied per row, the label and scores patched in at their offsets */
    int tmpl_state; /* 0 not built, 1 usable, -1 not usable (encode each row) */
    uint32_t tmpl_len, tmpl_label, tmpl_score;
    uint8_t tmpl[RESP_TMPL_MAX];
} response_enc;

void response_init(response_enc *e, response_format f, ll_predictor pred, uint32_t n_out);
/* Writes what precedes the first row ("{\"predictions\": [" for JSON, nothing otherwise). */
ll_code response_begin(response_enc *e, response_buf *out, ll_err *err);
/* Appends n rows: scores holds n * n_out values, labels n predicted labels (ignored for
 * regressors). */
ll_code response_rows(response_enc *e, const float *scores, const float *labels, size_t n,
                      response_buf *out, ll_err *err);
/* Writes what follows the last row. */
ll_code response_end(response_enc *e, response_buf *out, ll_err *err);

/* A float32 widened to double, spelt as Python's repr of that double ("0.5", "1e-05",
 * "28.711286544799805", "NaN", "-Infinity"). out needs 32 bytes; returns the length. */
size_t response_json_num(char *out, float v);
/* The same through printf and strtod (the reference response_json_num is tested against; it serves
 * the floats outside response_json_num's exact 128-bit range). */
size_t response_json_num_ref(char *out, float v);
/* Appends s as a JSON string literal (quotes and escapes included). */
ll_code response_json_str(response_buf *b, const char *s, ll_err *err);
#endif
