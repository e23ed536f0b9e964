/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_sm_params.c - fuzz target for the MXNet NDArray list of SageMaker's model artifact
 * (sm_model.h). The input is mx-mod-0000.params; the other three members of model_algo-1 are a
 * real binary classifier's, with the weight shape taken from the input when it parses far
 * enough. Checks: no crash or overflow (the sanitizers); a refusal is LL_E_PARSE (or TOOBIG /
 * NOMEM) naming the member; an accepted model has finite weights, and written back and read
 * again it is the same model.
 */
#include "arch.h"
#include "mem.h"
#include "model.h"
#include "sm_model.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "fuzz_sm_params: " __VA_ARGS__);                                           \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

static const char ADDL[] = "{\"threshold\": 0.4, \"loss_type\": \"logistic\", \"predictor_type\": "
                           "\"binary_classifier\"}";
static const char MAN[] = "{\"mx-mod\": \"mxnet_module\", \"additional-params.json\": \"json\", "
                          "\"version\": 1}";
static const char SYM[] = "{\"nodes\": [{\"op\": \"null\", \"name\": \"data\", \"inputs\": []}, "
                          "{\"op\": \"LogisticRegressionOutput\", \"name\": \"o\", \"inputs\": "
                          "[[0, 0, 0]]}], \"heads\": [[1, 0, 0]]}";

static ll_code parse(const uint8_t *p, size_t n, ll_model **m, ll_err *err)
{
    arch_member mem[4] = {
        {(char *)"manifest.json", (unsigned char *)MAN, sizeof MAN - 1},
        {(char *)"additional-params.json", (unsigned char *)ADDL, sizeof ADDL - 1},
        {(char *)"mx-mod-symbol.json", (unsigned char *)SYM, sizeof SYM - 1},
        {(char *)"mx-mod-0000.params", (unsigned char *)p, n}};
    arch_list l = {mem, 4, 1};
    return sm_model_parse("fuzz", &l, m, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1 << 20))
        return 0;
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    ll_err err;
    ll_model *m = NULL;
    ll_code rc = parse(buf, size, &m, &err);
    if (rc != LL_OK) {
        if (m)
            FAIL("a refusal returned a model");
        if (rc == LL_E_PARSE && !strstr(err.msg, "mx-mod-0000.params"))
            FAIL("a refusal does not name the member: %s", err.msg);
        if (rc != LL_E_PARSE && rc != LL_E_TOOBIG && rc != LL_E_NOMEM && rc != LL_E_ARG)
            FAIL("unexpected code %d: %s", (int)rc, err.msg);
        free(buf);
        return 0;
    }
    size_t nw = (size_t)m->feature_dim * m->n_out;
    for (size_t i = 0; i < nw; i++)
        if (!isfinite(m->w[i]))
            FAIL("a non-finite weight was accepted");
    unsigned char *zip = NULL;
    size_t zlen = 0;
    if (sm_model_zip(m, 0, &zip, &zlen, &err) != LL_OK)
        FAIL("cannot write an accepted model back: %s", err.msg);
    arch_list z;
    if (arch_read_mem(zip, zlen, "back", 1 << 24, &z, &err) != LL_OK)
        FAIL("the written zip does not read: %s", err.msg);
    const arch_member *pm = arch_find(&z, "mx-mod-0000.params");
    ll_model *m2 = NULL;
    if (!pm || parse(pm->data, pm->len, &m2, &err) != LL_OK)
        FAIL("the written params do not parse: %s", err.msg);
    if (m2->feature_dim != m->feature_dim || m2->n_out != m->n_out || memcmp(m2->w, m->w, nw * 4) ||
        memcmp(m2->b, m->b, 4 * m->n_out))
        FAIL("written back, the model changed");
    ll_model_free(m2);
    arch_list_free(&z);
    mem_free(zip);
    ll_model_free(m);
    free(buf);
    return 0;
}
