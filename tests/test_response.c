/* SPDX-License-Identifier: Apache-2.0 */
/* test_response.c - response encoders (response.c): Accept negotiation, Python-repr numbers checked
 * against values printed by CPython, and the JSON, JSON Lines, CSV and RecordIO layouts of
 * spec §5.2 for each predictor type. */
#include "pb.h"
#include "response.h"
#include "rio.h"
#include "tt.h"

static int eq_buf(const response_buf *b, const char *s)
{
    return b->len == strlen(s) && memcmp(b->p, s, b->len) == 0;
}

static void accept_negotiation(void)
{
    response_format f = RESP_CSV;
    CHECK(response_parse_accept(NULL, &f) && f == RESP_JSON);
    f = RESP_CSV;
    CHECK(response_parse_accept("", &f) && f == RESP_JSON);
    CHECK(response_parse_accept("*/*", &f) && f == RESP_JSON);
    CHECK(response_parse_accept("application/jsonlines", &f) && f == RESP_JSONL);
    CHECK(response_parse_accept("application/x-recordio-protobuf", &f) && f == RESP_RECORDIO);
    CHECK(response_parse_accept("text/csv; charset=utf-8", &f) && f == RESP_CSV);
    CHECK(response_parse_accept("image/png, application/JSON;q=0.5", &f) && f == RESP_JSON);
    CHECK(!response_parse_accept("image/png", &f));
    CHECK(!response_parse_accept("text/html, application/xml", &f));
    CHECK(!strcmp(response_content_type(RESP_JSONL), "application/jsonlines"));
    CHECK(!strcmp(response_content_type(RESP_RECORDIO), "application/x-recordio-protobuf"));
}

static void python_repr_numbers(void)
{
    /* right-hand sides printed by CPython: repr(float(numpy.float32(x))) */
    static const struct {
        float v;
        const char *py;
    } cases[] = {
        {28.711287f, "28.711286544799805"}, /* the real regressor reply of spec §5.2 */
        {0.1f, "0.10000000149011612"},
        {1e-5f, "9.999999747378752e-06"},
        {1.0f, "1.0"},
        {1e20f, "1.0000000200408773e+20"},
        {-0.5f, "-0.5"},
        {0.73f, "0.7300000190734863"},
        {1e16f, "1.0000000272564224e+16"},
        {123456789.0f, "123456792.0"},
        {3e-7f, "3.000000106112566e-07"},
        {1e-4f, "9.999999747378752e-05"},
        {2.5e15f, "2500000068141056.0"},
        {0.0f, "0.0"},
    };
    char o[40];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = response_json_num(o, cases[i].v);
        CHECKF(n == strlen(cases[i].py) && !strcmp(o, cases[i].py), "%s vs %s", o, cases[i].py);
    }
    CHECK(response_json_num(o, __builtin_nanf("")) == 3 && !strcmp(o, "NaN"));
    CHECK(response_json_num(o, -__builtin_inff()) == 9 && !strcmp(o, "-Infinity"));
}

/* Significant digits of a number as printed (no sign, dot, leading zeros or exponent). */
static int n_sig(const char *s)
{
    int n = 0, started = 0, trail = 0;
    for (; *s && *s != 'e'; s++) {
        if (*s < '0' || *s > '9')
            continue;
        if (*s != '0' || started) {
            started = 1;
            n++;
            trail = *s == '0' ? trail + 1 : 0;
        }
    }
    return n - trail;
}

static void shortest_round_trip(void)
{
    /* against a plain reference: the fewest of 15..17 %.*g digits that read back */
    uint32_t x = 12345;
    char o[40], ref[40];
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        float f;
        uint32_t bits = i < 100000 ? x : (0x3f800000u - (x & 0x0fffffff)); /* many in (0, 1) */
        memcpy(&f, &bits, 4);
        if (f != f || f - f != 0 || f == 0)
            continue;
        response_json_num(o, f);
        int want = 17;
        for (int p = 15; p <= 17; p++) {
            snprintf(ref, sizeof ref, "%.*g", p, (double)f);
            if (strtod(ref, NULL) == (double)f) {
                want = n_sig(ref);
                break;
            }
        }
        CHECKF(strtod(o, NULL) == (double)f && n_sig(o) == want, "%.17g -> %s (want %d digits)",
               (double)f, o, want);
    }
}

/* The exact 128-bit path against the printf/strtod reference, byte for byte: every power of
 * two and its neighbours in the fast range and beyond its edges, and random floats (both signs,
 * all exponents of the range). */
static void fast_numbers_match_reference(void)
{
    char a[40], b[40];
    for (int ex = 100; ex <= 160; ex++) {
        for (int d = -2; d <= 2; d++) {
            uint32_t bits = ((uint32_t)ex << 23) + (uint32_t)d;
            for (int neg = 0; neg < 2; neg++) {
                float f;
                uint32_t w = bits | (neg ? 0x80000000u : 0);
                memcpy(&f, &w, 4);
                size_t na = response_json_num(a, f), nb = response_json_num_ref(b, f);
                CHECKF(na == nb && !strcmp(a, b), "%08x: %s vs %s", w, a, b);
            }
        }
    }
    uint32_t x = 987654321;
    int bad = 0;
    for (int i = 0; i < 150000 && bad < 5; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        uint32_t ex = 108 + (x >> 9) % 45; /* 108..152 */
        uint32_t w = (x & 0x807FFFFFu) | (ex << 23);
        float f;
        memcpy(&f, &w, 4);
        response_json_num(a, f);
        response_json_num_ref(b, f);
        if (strcmp(a, b) != 0)
            bad++;
        CHECKF(!strcmp(a, b), "%08x: %s vs %s", w, a, b);
    }
}

static void json_layouts(void)
{
    ll_err err;
    response_buf b = {0};
    response_enc e;
    float sc[] = {0.75f, 0.25f}, lab[] = {1, 0};
    response_init(&e, RESP_JSON, LL_BINARY_CLASSIFIER, 1);
    CHECK_OK(response_begin(&e, &b, &err));
    CHECK_OK(response_rows(&e, sc, lab, 1, &b, &err));
    CHECK_OK(response_rows(&e, sc + 1, lab + 1, 1, &b, &err)); /* a second mini-batch */
    CHECK_OK(response_end(&e, &b, &err));
    CHECK(eq_buf(&b, "{\"predictions\": [{\"score\": 0.75, \"predicted_label\": 1}, "
                     "{\"score\": 0.25, \"predicted_label\": 0}]}"));
    b.len = 0;
    float mc[] = {0.125f, 0.5f, 0.375f}, ml[] = {1};
    response_init(&e, RESP_JSON, LL_MULTICLASS_CLASSIFIER, 3);
    CHECK_OK(response_begin(&e, &b, &err));
    CHECK_OK(response_rows(&e, mc, ml, 1, &b, &err));
    CHECK_OK(response_end(&e, &b, &err));
    CHECK(eq_buf(&b,
                 "{\"predictions\": [{\"score\": [0.125, 0.5, 0.375], \"predicted_label\": 1}]}"));
    b.len = 0;
    float rg[] = {28.711287f};
    response_init(&e, RESP_JSON, LL_REGRESSOR, 1);
    CHECK_OK(response_begin(&e, &b, &err));
    CHECK_OK(response_rows(&e, rg, NULL, 1, &b, &err));
    CHECK_OK(response_end(&e, &b, &err));
    CHECK(eq_buf(&b, "{\"predictions\": [{\"score\": 28.711286544799805}]}"));
    b.len = 0;
    response_init(&e, RESP_JSON, LL_REGRESSOR, 1);
    CHECK_OK(response_begin(&e, &b, &err));
    CHECK_OK(response_end(&e, &b, &err));
    CHECK(eq_buf(&b, "{\"predictions\": []}"));
    response_buf_deinit(&b);
}

static void jsonl_and_csv_layouts(void)
{
    ll_err err;
    response_buf b = {0};
    response_enc e;
    float sc[] = {0.75f, 0.25f}, lab[] = {1, 0};
    response_init(&e, RESP_JSONL, LL_BINARY_CLASSIFIER, 1);
    CHECK_OK(response_rows(&e, sc, lab, 2, &b, &err));
    CHECK(eq_buf(&b, "{\"score\": 0.75, \"predicted_label\": 1}\n"
                     "{\"score\": 0.25, \"predicted_label\": 0}\n"));
    b.len = 0;
    float mc[] = {0.125f, 0.5f, 0.375f}, ml[] = {1};
    response_init(&e, RESP_JSONL, LL_MULTICLASS_CLASSIFIER, 3);
    CHECK_OK(response_rows(&e, mc, ml, 1, &b, &err));
    CHECK(eq_buf(&b, "{\"score\": [0.125, 0.5, 0.375], \"predicted_label\": 1}\n"));
    b.len = 0;
    response_init(&e, RESP_CSV, LL_BINARY_CLASSIFIER, 1);
    CHECK_OK(response_rows(&e, sc, lab, 2, &b, &err));
    CHECK(eq_buf(&b, "1,0.75\n0,0.25\n"));
    b.len = 0;
    response_init(&e, RESP_CSV, LL_MULTICLASS_CLASSIFIER, 3);
    CHECK_OK(response_rows(&e, mc, ml, 1, &b, &err));
    CHECK(eq_buf(&b, "1,0.125,0.5,0.375\n"));
    b.len = 0;
    float rg[] = {28.711287f, -3.0f};
    response_init(&e, RESP_CSV, LL_REGRESSOR, 1);
    CHECK_OK(response_rows(&e, rg, NULL, 2, &b, &err));
    CHECK(eq_buf(&b, "28.711287\n-3\n"));
    response_buf_deinit(&b);
}

/* Decodes the i-th frame's Record from a RecordIO buffer. */
static const uint8_t *frame_at(const response_buf *b, size_t *pos, size_t *len)
{
    if (*pos + 8 > b->len)
        return NULL;
    const uint8_t *h = b->p + *pos;
    uint32_t magic =
        (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
    uint32_t l = (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;
    if (magic != RIO_MAGIC || *pos + rio_frame_size(l) > b->len)
        return NULL;
    *len = l;
    *pos += rio_frame_size(l);
    return h + 8;
}

static void recordio_layout(void)
{
    ll_err err;
    response_buf b = {0};
    response_enc e;
    float mc[] = {0.125f, 0.5f, 0.375f, 0.25f, 0.25f, 0.5f}, ml[] = {1, 2};
    response_init(&e, RESP_RECORDIO, LL_MULTICLASS_CLASSIFIER, 3);
    CHECK_OK(response_rows(&e, mc, ml, 2, &b, &err));
    size_t pos = 0, len = 0;
    pb_record r;
    pb_record_init(&r);
    for (int row = 0; row < 2; row++) {
        const uint8_t *p = frame_at(&b, &pos, &len);
        CHECK(p != NULL);
        CHECK_OK(pb_decode(p, len, &r, &err));
        CHECK(r.n_feat == 0 && r.n_lab == 2);
        /* written in sorted key order: predicted_label, then score */
        CHECK(r.lab[0].name_len == 15 && !memcmp(r.lab[0].name, "predicted_label", 15));
        CHECK(r.lab[1].name_len == 5 && !memcmp(r.lab[1].name, "score", 5));
        const pb_entry *pl = pb_find(&r, 1, "predicted_label"), *s = pb_find(&r, 1, "score");
        CHECK(pl && s && pl->t.dtype == PB_F32 && s->t.dtype == PB_F32);
        CHECK(pl->t.n_values == 1 && s->t.n_values == 3);
        float v[3], l;
        pb_values_f32(&r, &pl->t, &l);
        pb_values_f32(&r, &s->t, v);
        CHECK(l == ml[row]);
        CHECK(v[0] == mc[row * 3] && v[1] == mc[row * 3 + 1] && v[2] == mc[row * 3 + 2]);
    }
    CHECK(pos == b.len);
    /* regressors carry only the score */
    b.len = 0;
    float rg[] = {2.5f};
    response_init(&e, RESP_RECORDIO, LL_REGRESSOR, 1);
    CHECK_OK(response_rows(&e, rg, NULL, 1, &b, &err));
    pos = 0;
    const uint8_t *p = frame_at(&b, &pos, &len);
    CHECK(p != NULL);
    CHECK_OK(pb_decode(p, len, &r, &err));
    CHECK(r.n_lab == 1 && pb_find(&r, 1, "score") && !pb_find(&r, 1, "predicted_label"));
    pb_record_deinit(&r);
    response_buf_deinit(&b);
}

/* The copied-template rows are byte for byte what encoding each row gives, for every predictor
 * type and for a class count too large for the template (encoded per row). */
static void recordio_template_bytes(void)
{
    ll_err err;
    static const ll_predictor preds[] = {LL_BINARY_CLASSIFIER, LL_REGRESSOR,
                                         LL_MULTICLASS_CLASSIFIER, LL_MULTICLASS_CLASSIFIER};
    static const uint32_t outs[] = {1, 1, 5, 200};
    for (int c = 0; c < 4; c++) {
        uint32_t k = outs[c];
        size_t n = 37;
        float *sc = malloc(n * k * sizeof *sc), lab[37];
        for (size_t i = 0; i < n * k; i++)
            sc[i] = (float)i * 0.37f - 3.0f;
        for (size_t i = 0; i < n; i++)
            lab[i] = (float)(i % 3);
        response_buf b = {0}, want = {0};
        response_enc e;
        response_init(&e, RESP_RECORDIO, preds[c], k);
        /* in two calls: the template survives between batches */
        CHECK_OK(response_rows(&e, sc, lab, 10, &b, &err));
        CHECK_OK(response_rows(&e, sc + 10 * k, lab + 10, n - 10, &b, &err));
        CHECK(e.tmpl_state == (k <= 64 ? 1 : -1));
        for (size_t i = 0; i < n; i++) {
            pb_entry_in ent[2];
            memset(ent, 0, sizeof ent);
            size_t m = 0;
            if (preds[c] != LL_REGRESSOR) {
                ent[m].name = "predicted_label";
                ent[m].t.dtype = PB_F32;
                ent[m].t.values = lab + i;
                ent[m].t.n_values = 1;
                m++;
            }
            ent[m].name = "score";
            ent[m].t.dtype = PB_F32;
            ent[m].t.values = sc + i * k;
            ent[m].t.n_values = k;
            m++;
            pb_record_in r;
            memset(&r, 0, sizeof r);
            r.lab = ent;
            r.n_lab = m;
            size_t len = pb_encoded_size(&r);
            uint8_t *tmp = malloc(len);
            pb_encode(&r, tmp);
            CHECK_OK(response_buf_reserve(&want, rio_frame_size(len), &err));
            want.len += rio_frame(want.p + want.len, tmp, len);
            free(tmp);
        }
        CHECK(b.len == want.len && !memcmp(b.p, want.p, b.len));
        response_buf_deinit(&b);
        response_buf_deinit(&want);
        free(sc);
    }
}

static void json_strings(void)
{
    ll_err err;
    response_buf b = {0};
    CHECK_OK(response_json_str(&b, "a\"b\\c\n", &err));
    CHECK(eq_buf(&b, "\"a\\\"b\\\\c\\u000a\""));
    response_buf_deinit(&b);
}

int main(void)
{
    TT_BEGIN("response");
    RUN(accept_negotiation);
    RUN(python_repr_numbers);
    RUN(recordio_template_bytes);
    RUN(fast_numbers_match_reference);
    RUN(shortest_round_trip);
    RUN(json_layouts);
    RUN(jsonl_and_csv_layouts);
    RUN(recordio_layout);
    RUN(json_strings);
    TT_END();
}
