/* SPDX-License-Identifier: Apache-2.0 */
/* test_model.c - the model artifact: save/load round trip (tar.gz and folder), scoring of dense
 * and sparse rows against hand-computed values, and refusal of damaged or foreign files. */
#include "linlearn.h"
#include "mem.h"
#include "model.h"
#include "tt.h"
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static void mk_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ll_test_model_XXXXXX");
    if (!mkdtemp(tmpdir))
        abort();
}

static void rm_tmp(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
}

/* A 3-feature model with weights w = (1, -2, 0.5), bias 0.25. */
static ll_model *small_model(ll_predictor p, model_score s, uint32_t nout)
{
    ll_model *m = NULL;
    ll_err err;
    if (model_new(p, s, 3, nout, "test", &m, &err) != LL_OK)
        return NULL;
    for (uint32_t j = 0; j < 3; j++)
        for (uint32_t c = 0; c < nout; c++)
            m->w[j * nout + c] = (j == 0 ? 1.0f : j == 1 ? -2.0f : 0.5f) * (float)(c + 1);
    for (uint32_t c = 0; c < nout; c++)
        m->b[c] = 0.25f * (float)(c + 1);
    return m;
}

static void test_predict_regressor_dense_and_sparse(void)
{
    ll_err err;
    ll_model *m = small_model(LL_REGRESSOR, MODEL_SCORE_IDENTITY, 1);
    CHECK(m);
    ll_batch b;
    ll_batch_init(&b);
    float r1[3] = {1, 2, 3}, r2[3] = {0, 0, 4};
    CHECK_OK(ll_batch_add_row(&b, r1, NULL, 3, 3, NULL, 0, &err));
    CHECK_OK(ll_batch_add_row(&b, r2, NULL, 3, 3, NULL, 0, &err));
    float s[2];
    CHECK_OK(ll_model_predict(m, &b, s, NULL, &err));
    CHECK(fabsf(s[0] - (1 - 4 + 1.5f + 0.25f)) < 1e-6f);
    CHECK(fabsf(s[1] - (2 + 0.25f)) < 1e-6f);
    /* the same rows sparse give the same scores */
    ll_batch_clear(&b);
    uint32_t i1[3] = {0, 1, 2}, i2[1] = {2};
    float v2[1] = {4};
    CHECK_OK(ll_batch_add_row(&b, r1, i1, 3, 3, NULL, 0, &err));
    CHECK_OK(ll_batch_add_row(&b, v2, i2, 1, 3, NULL, 0, &err));
    float t[2];
    CHECK_OK(ll_model_predict(m, &b, t, NULL, &err));
    CHECK(t[0] == s[0] && t[1] == s[1]);
    /* a dense row of the wrong width is refused, naming both counts */
    ll_batch_clear(&b);
    CHECK_OK(ll_batch_add_row(&b, r1, NULL, 2, 2, NULL, 0, &err));
    CHECK(ll_model_predict(m, &b, t, NULL, &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "input: 2") && strstr(err.msg, "model: 3"));
    ll_batch_deinit(&b);
    ll_model_free(m);
}

static void test_predict_binary_and_multiclass(void)
{
    ll_err err;
    ll_model *m = small_model(LL_BINARY_CLASSIFIER, MODEL_SCORE_SIGMOID, 1);
    CHECK(m);
    m->threshold = 0.9f;
    ll_batch b;
    ll_batch_init(&b);
    float r1[3] = {1, 0, 0}, r2[3] = {3, 0, 0};
    CHECK_OK(ll_batch_add_row(&b, r1, NULL, 3, 3, NULL, 0, &err));
    CHECK_OK(ll_batch_add_row(&b, r2, NULL, 3, 3, NULL, 0, &err));
    float s[2], l[2];
    CHECK_OK(ll_model_predict(m, &b, s, l, &err));
    CHECK(fabsf(s[0] - 1.0f / (1.0f + expf(-1.25f))) < 1e-6f);
    CHECK(l[0] == 0.0f && l[1] == 1.0f); /* 0.777 < 0.9 < 0.9608 */
    ll_model_free(m);

    m = small_model(LL_MULTICLASS_CLASSIFIER, MODEL_SCORE_SOFTMAX, 4);
    CHECK(m);
    float s4[8], l4[2];
    CHECK_OK(ll_model_predict(m, &b, s4, l4, &err));
    for (int i = 0; i < 2; i++) {
        float sum = 0;
        for (int c = 0; c < 4; c++)
            sum += s4[i * 4 + c];
        CHECK(fabsf(sum - 1) < 1e-5f);
        CHECK(l4[i] == 3.0f); /* z_c = 1.25 (c+1) grows with c */
    }
    /* p_c / p_0 = exp(z_c - z_0) */
    CHECK(fabsf(s4[1] / s4[0] - expf(1.25f)) < 1e-4f);
    ll_batch_deinit(&b);
    ll_model_free(m);
}

static void test_save_load_round_trip(void)
{
    ll_err err;
    mk_tmp();
    ll_model *m = small_model(LL_MULTICLASS_CLASSIFIER, MODEL_SCORE_SOFTMAX, 3);
    CHECK(m);
    m->threshold = 0.5f;
    CHECK_OK(
        model_set_info(m, "{\"epochs\": \"15\"}", "{\"test:multiclass_accuracy\": 0.9}", &err));
    CHECK_OK(model_save(m, tmpdir, &err));
    char path[512];
    snprintf(path, sizeof path, "%s/model.tar.gz", tmpdir);
    ll_model *l = NULL;
    CHECK_OK(ll_model_load(path, &l, &err));
    CHECK(ll_model_predictor(l) == LL_MULTICLASS_CLASSIFIER);
    CHECK(ll_model_feature_dim(l) == 3 && ll_model_n_outputs(l) == 3);
    CHECK(!memcmp(l->w, m->w, 9 * sizeof(float)) && !memcmp(l->b, m->b, 3 * sizeof(float)));
    CHECK(l->hp_json && strstr(l->hp_json, "epochs"));
    CHECK(l->met_json && strstr(l->met_json, "multiclass_accuracy"));
    ll_model_free(l);
    /* the folder holding model.tar.gz loads too */
    CHECK_OK(ll_model_load(tmpdir, &l, &err));
    ll_model_free(l);
    /* and a folder with the unpacked files */
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/u' && tar -xzf '%s' -C '%s/u'", tmpdir, path, tmpdir);
    CHECK(system(cmd) == 0);
    snprintf(path, sizeof path, "%s/u", tmpdir);
    CHECK_OK(ll_model_load(path, &l, &err));
    CHECK(!memcmp(l->w, m->w, 9 * sizeof(float)));
    ll_model_free(l);
    ll_model_free(m);
    rm_tmp();
}

static void test_threshold_survives(void)
{
    ll_err err;
    mk_tmp();
    ll_model *m = small_model(LL_BINARY_CLASSIFIER, MODEL_SCORE_RAW, 1);
    CHECK(m);
    m->threshold = 0.123456789f;
    CHECK_OK(model_save(m, tmpdir, &err));
    ll_model *l = NULL;
    CHECK_OK(ll_model_load(tmpdir, &l, &err));
    CHECK(ll_model_threshold(l) == m->threshold);
    CHECK(l->score == MODEL_SCORE_RAW);
    ll_model_free(l);
    ll_model_free(m);
    rm_tmp();
}

static void write_file(const char *path, const void *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(p, 1, len, f);
    fclose(f);
}

static void test_refuses_damaged_and_foreign(void)
{
    ll_err err;
    mk_tmp();
    ll_model *m = small_model(LL_REGRESSOR, MODEL_SCORE_IDENTITY, 1);
    CHECK(m);
    CHECK_OK(model_save(m, tmpdir, &err));
    ll_model_free(m);
    char path[512], cmd[2048], p2[512];
    snprintf(path, sizeof path, "%s/model.tar.gz", tmpdir);
    size_t len = 0;
    unsigned char *data = tt_read_file(path, &len);
    CHECK(data && len > 100);
    ll_model *l = NULL;
    /* truncated archive */
    snprintf(p2, sizeof p2, "%s/trunc.tar.gz", tmpdir);
    write_file(p2, data, len / 2);
    CHECK(ll_model_load(p2, &l, &err) != LL_OK && !l);
    /* a flipped byte inside the compressed stream */
    data[len / 2] ^= 0x5a;
    snprintf(p2, sizeof p2, "%s/flip.tar.gz", tmpdir);
    write_file(p2, data, len);
    CHECK(ll_model_load(p2, &l, &err) != LL_OK && !l);
    free(data);
    /* a foreign file */
    snprintf(p2, sizeof p2, "%s/foreign.csv", tmpdir);
    write_file(p2, "1,2,3\n4,5,6\n", 12);
    CHECK(ll_model_load(p2, &l, &err) == LL_E_PARSE && !l);
    CHECK(strstr(err.msg, "not a model archive"));
    /* unpacked folder with a flipped weight byte: checksum */
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/u' && tar -xzf '%s' -C '%s/u'", tmpdir, path, tmpdir);
    CHECK(system(cmd) == 0);
    snprintf(p2, sizeof p2, "%s/u/weights.bin", tmpdir);
    unsigned char *w = tt_read_file(p2, &len);
    CHECK(w && len == MODEL_WEIGHTS_HDR + 4 * 4 + 4);
    w[MODEL_WEIGHTS_HDR + 1] ^= 1;
    write_file(p2, w, len);
    snprintf(p2, sizeof p2, "%s/u", tmpdir);
    CHECK(ll_model_load(p2, &l, &err) == LL_E_PARSE && !l);
    CHECK(strstr(err.msg, "checksum"));
    /* short weights file */
    snprintf(p2, sizeof p2, "%s/u/weights.bin", tmpdir);
    write_file(p2, w, len - 4);
    free(w);
    snprintf(p2, sizeof p2, "%s/u", tmpdir);
    CHECK(ll_model_load(p2, &l, &err) == LL_E_PARSE && !l);
    CHECK(strstr(err.msg, "bytes"));
    /* a manifest from another program */
    snprintf(p2, sizeof p2, "%s/u/manifest.json", tmpdir);
    write_file(p2, "{\"format\": \"mxnet\"}", 19);
    snprintf(p2, sizeof p2, "%s/u", tmpdir);
    CHECK(ll_model_load(p2, &l, &err) == LL_E_PARSE && !l);
    CHECK(strstr(err.msg, "format"));
    /* a folder without a model */
    snprintf(p2, sizeof p2, "%s/empty", tmpdir);
    mkdir(p2, 0755);
    CHECK(ll_model_load(p2, &l, &err) != LL_OK && !l);
    rm_tmp();
}

static void test_manifest_field_checks(void)
{
    ll_err err;
    ll_model *m = small_model(LL_BINARY_CLASSIFIER, MODEL_SCORE_SIGMOID, 1);
    CHECK(m);
    char *man = NULL;
    unsigned char *wb = NULL;
    size_t ml = 0, wl = 0;
    CHECK_OK(model_serialize(m, &man, &ml, &wb, &wl, &err));
    ll_model *l = NULL;
    CHECK_OK(model_parse("mem", man, ml, wb, wl, &l, &err));
    ll_model_free(l);
    /* change one field at a time */
    const char *edits[][2] = {
        {"\"feature_dim\": 3", "\"feature_dim\": 4"},
        {"\"n_outputs\": 1", "\"n_outputs\": 3"},
        {"\"score\": \"sigmoid\"", "\"score\": \"softmax\""},
        {"\"predictor_type\": \"binary_classifier\"", "\"predictor_type\": \"ranker\""},
        {"\"format_version\": 1", "\"format_version\": 2"},
        {"\"threshold\": 0.5", "\"threshold\": \"x\""},
    };
    for (size_t k = 0; k < sizeof edits / sizeof edits[0]; k++) {
        char *p = strstr(man, edits[k][0]);
        CHECKF(p, "manifest lacks %s:\n%s", edits[k][0], man);
        size_t a = strlen(edits[k][0]), bl = strlen(edits[k][1]);
        char *e = malloc(ml + 64);
        memcpy(e, man, (size_t)(p - man));
        memcpy(e + (p - man), edits[k][1], bl);
        strcpy(e + (p - man) + bl, p + a);
        ll_code rc = model_parse("mem", e, strlen(e), wb, wl, &l, &err);
        free(e);
        CHECKF(rc == LL_E_PARSE && !l, "edit %s was accepted", edits[k][1]);
    }
    mem_free(man);
    mem_free(wb);
    ll_model_free(m);
}

int main(void)
{
    TT_BEGIN("test_model");
    RUN(test_predict_regressor_dense_and_sparse);
    RUN(test_predict_binary_and_multiclass);
    RUN(test_save_load_round_trip);
    RUN(test_threshold_survives);
    RUN(test_refuses_damaged_and_foreign);
    RUN(test_manifest_field_checks);
    TT_END();
}
