/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_request.c - the inference request body parsers (CSV, JSON, JSON Lines, RecordIO) through
 * serve_body, with scoring and response encoding, as /invocations runs them. The first byte picks
 * the request format (low 2 bits) and the response format (next 2 bits); the rest is the body. */
#include "model.h"
#include "serve.h"
#include <string.h>

static ll_model *model(void)
{
    static ll_model *m;
    if (!m) {
        ll_err err;
        if (model_new(LL_MULTICLASS_CLASSIFIER, MODEL_SCORE_SOFTMAX, 3, 3, "softmax_loss", &m,
                      &err) != LL_OK)
            return NULL;
        for (int i = 0; i < 9; i++)
            m->w[i] = (float)(i % 4) - 1.5f;
    }
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const serve_in ins[4] = {SERVE_IN_CSV, SERVE_IN_JSON, SERVE_IN_JSONL, SERVE_IN_RIO};
    serve_in in = ins[data[0] & 3];
    response_format fmt = (response_format)((data[0] >> 2) & 3);
    serve_work w;
    serve_work_init(&w);
    ll_err err;
    ll_code rc = serve_body(model(), in, fmt, data + 1, size - 1, 7, &w, &err);
    if (rc != LL_OK && err.code != rc)
        __builtin_trap(); /* every failure says why */
    serve_work_deinit(&w);
    return 0;
}
