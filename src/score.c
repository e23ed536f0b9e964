/* SPDX-License-Identifier: Apache-2.0 */
/* score.c - the scoring core of predict and serve (see score.h). The model's arithmetic is
 * ll_model_predict's; this file owns the width check, the reusable output arrays and the
 * hand-off to the response encoders. */
#include "score.h"
#include "err.h"
#include "mem.h"
#include <string.h>

void score_buf_deinit(score_buf *sb)
{
    if (!sb)
        return;
    mem_free(sb->scores);
    mem_free(sb->labels);
    memset(sb, 0, sizeof *sb);
}

static ll_code reserve(score_buf *sb, size_t rows, size_t n_out, ll_err *err)
{
    if (rows > sb->cap_rows) {
        float *l = mem_realloc_array(sb->labels, rows, sizeof *l);
        if (!l)
            return err_set(err, LL_E_NOMEM, "cannot hold the labels of %zu rows", rows);
        sb->labels = l;
        sb->cap_rows = rows;
    }
    if (rows * n_out > sb->cap_scores) {
        float *s = mem_realloc_array(sb->scores, rows, n_out * sizeof *s);
        if (!s)
            return err_set(err, LL_E_NOMEM, "cannot hold the scores of %zu rows", rows);
        sb->scores = s;
        sb->cap_scores = rows * n_out;
    }
    return LL_OK;
}

ll_code score_batch(const ll_model *m, const ll_batch *b, uint64_t row_base, score_buf *sb,
                    ll_err *err)
{
    uint64_t fd = ll_model_feature_dim(m);
    for (size_t i = 0; i < b->n_rows; i++) {
        if (b->sparse[i] ? b->dim[i] > fd : b->dim[i] != fd) {
            sb->bad_row = row_base + i;
            sb->expected = fd;
            sb->received = b->dim[i];
            /* the usual newcomer's mistake: the label column left in */
            const char *hint = !b->sparse[i] && b->dim[i] == fd + 1
                                   ? "; one column more: is the first the label? "
                                     "(predict --label-column 0)"
                                   : "";
            return err_set(err, LL_E_PARSE, SCORE_DIM_MSG " (row %llu)%s",
                           (unsigned long long)b->dim[i], (unsigned long long)fd,
                           (unsigned long long)(row_base + i + 1), hint);
        }
    }
    size_t n_out = ll_model_n_outputs(m);
    ll_code rc = reserve(sb, b->n_rows ? b->n_rows : 1, n_out ? n_out : 1, err);
    if (rc != LL_OK || b->n_rows == 0)
        return rc;
    return ll_model_predict(m, b, sb->scores, sb->labels, err);
}

ll_code score_encode(const ll_model *m, const ll_batch *b, uint64_t row_base, score_buf *sb,
                     response_enc *e, response_buf *out, ll_err *err)
{
    ll_code rc = score_batch(m, b, row_base, sb, err);
    if (rc == LL_OK && b->n_rows)
        rc = response_rows(e, sb->scores, sb->labels, b->n_rows, out, err);
    return rc;
}
