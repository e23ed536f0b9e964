/* SPDX-License-Identifier: Apache-2.0 */
/* svm.c - placeholder until the LIBSVM chunk parser lands. */
#include "err.h"
#include "txt.h"

ll_code svm_parse(txt_state *st, const char *buf, size_t len, int eof, size_t max_rows, ll_batch *b,
                  size_t *used, ll_err *err)
{
    *used = 0;
    return err_set(err, LL_E_STATE, "LIBSVM input is not implemented yet");
}
