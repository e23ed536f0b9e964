/* SPDX-License-Identifier: Apache-2.0 */
/* test_arrays.c - the "Arrays in memory" API (src/arrays.c): every SDK vector decoded with
 * ll_rio/ll_record, rebuilt as arrays and re-encoded with ll_encode_dense / ll_encode_csr must
 * give the file's bytes; strides, int64 narrowing, errors and the callback reader. */
#include "linlearn.h"
#include "tt.h"
#include <stdlib.h>
#include <string.h>

static unsigned char *load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/recordio/%s", tt_testdata(), name);
    return tt_read_file(path, len);
}

/* Rebuilds the file's rows (one map entry "values" each side) and re-encodes them. */
static void roundtrip(const char *name, int sparse, int int_labels)
{
    size_t len;
    unsigned char *data = load(name, &len);
    CHECKF(data != NULL, "missing %s", name);
    if (!data)
        return;
    ll_err err;
    ll_reader *rd = ll_reader_mem(data, len, name);
    ll_rio *rio = NULL;
    CHECK_OK(ll_rio_open(rd, LL_SPLIT_DMLC, 0, &rio, &err));
    ll_record *rec = ll_record_new();
    size_t n = 0, cols = 0, nnz = 0, cap = 0, capv = 0;
    double *vals = NULL;       /* widest type: copied per dtype below */
    uint8_t *raw = malloc(16); /* never NULL: raw + 0 on NULL is undefined */
    int64_t *ind = NULL, *ptr = calloc(1, sizeof *ptr);
    int64_t *lab_i = NULL;
    float *lab_f = NULL;
    int dtype = 0, has_lab = 0;
    for (;;) {
        const uint8_t *p;
        size_t pl;
        int eof = 0;
        CHECK_OK(ll_rio_next(rio, &p, &pl, &eof, &err));
        if (eof)
            break;
        CHECK_OK(ll_record_decode(rec, p, pl, &err));
        ll_tensor_info f, l;
        ll_record_entry(rec, 0, 0, &f);
        dtype = f.dtype;
        size_t w = dtype == 3 ? 8 : 4;
        if (nnz + f.n_values > capv) {
            capv = 2 * (nnz + f.n_values) + 16;
            raw = realloc(raw, capv * w);
            ind = realloc(ind, capv * sizeof *ind);
        }
        ll_record_values(rec, 0, 0, raw + nnz * w);
        uint64_t keys[4096], shape[4];
        if (f.n_keys && f.n_keys <= 4096)
            ll_record_keys(rec, 0, 0, 0, keys);
        if (f.n_shape && f.n_shape <= 4)
            ll_record_keys(rec, 0, 0, 1, shape);
        for (size_t j = 0; j < f.n_keys; j++)
            ind[nnz + j] = (int64_t)keys[j];
        if (sparse)
            cols = (size_t)shape[0];
        else
            cols = f.n_values;
        nnz += f.n_values;
        if (n + 2 > cap) {
            cap = 2 * cap + 16;
            ptr = realloc(ptr, (cap + 1) * sizeof *ptr);
            lab_i = realloc(lab_i, cap * sizeof *lab_i);
            lab_f = realloc(lab_f, cap * sizeof *lab_f);
        }
        ptr[n + 1] = (int64_t)nnz;
        has_lab = ll_record_n_entries(rec, 1) > 0;
        if (has_lab) {
            ll_record_entry(rec, 1, 0, &l);
            int32_t iv;
            float fv;
            if (int_labels) {
                ll_record_values(rec, 1, 0, &iv);
                lab_i[n] = iv;
            } else {
                ll_record_values(rec, 1, 0, &fv);
                lab_f[n] = fv;
            }
        }
        n++;
    }
    (void)vals;
    ll_elem e = dtype == 2 ? LL_ELEM_F32 : dtype == 3 ? LL_ELEM_F64 : LL_ELEM_I32;
    size_t w = dtype == 3 ? 8 : 4;
    ll_matrix lm = {int_labels ? (const void *)lab_i : (const void *)lab_f,
                    int_labels ? LL_ELEM_I64 : LL_ELEM_F32,
                    n,
                    1,
                    int_labels ? 8 : 4,
                    int_labels ? 8 : 4};
    ll_buf out = {0};
    if (sparse) {
        ll_csr x = {n, cols, raw, e, ind, LL_ELEM_I64, ptr, LL_ELEM_I64};
        CHECK_OK(ll_encode_csr(&x, has_lab ? &lm : NULL, 0, n, &out, &err));
    } else {
        ll_matrix x = {raw, e, n, cols, (ptrdiff_t)(cols * w), (ptrdiff_t)w};
        CHECK_OK(ll_encode_dense(&x, has_lab ? &lm : NULL, 0, n, &out, &err));
    }
    CHECKF(out.len == len && memcmp(out.data, data, len) == 0, "%s: %zu bytes re-encoded, %zu",
           name, out.len, len);
    ll_buf_free(&out);
    ll_record_free(rec);
    ll_rio_free(rio);
    ll_reader_free(rd);
    free(raw);
    free(ind);
    free(ptr);
    free(lab_i);
    free(lab_f);
    free(data);
}

static void sdk_vectors(void)
{
    roundtrip("dense_f32_labeled_7x5.pbr", 0, 0);
    roundtrip("dense_f32_unlabeled_4x3.pbr", 0, 0);
    roundtrip("dense_f32_1row.pbr", 0, 0);
    roundtrip("dense_f32_1feature_5rows.pbr", 0, 0);
    roundtrip("dense_f32_0features_2rows.pbr", 0, 0);
    roundtrip("dense_f32_100k_features.pbr", 0, 0);
    roundtrip("dense_f32_labeled_10000x6.pbr", 0, 0);
    roundtrip("dense_f32_int_labels_multiclass_8x3.pbr", 0, 1);
    roundtrip("sparse_csr_f32_labeled_6x10.pbr", 1, 0);
}

static void strides_and_narrowing(void)
{
    ll_err err;
    /* a 3x2 float matrix stored column-major must encode as its row-major copy */
    float cm[6] = {1, 2, 3, 4, 5, 6}, rm[6] = {1, 4, 2, 5, 3, 6};
    ll_matrix a = {cm, LL_ELEM_F32, 3, 2, 4, 12}, b = {rm, LL_ELEM_F32, 3, 2, 8, 4};
    ll_buf x = {0}, y = {0};
    CHECK_OK(ll_encode_dense(&a, NULL, 0, 3, &x, &err));
    CHECK_OK(ll_encode_dense(&b, NULL, 0, 3, &y, &err));
    CHECK(x.len == y.len && x.len > 0 && memcmp(x.data, y.data, x.len) == 0);
    /* appending rows 1..3 after row 0 gives the same bytes as all at once */
    y.len = 0;
    CHECK_OK(ll_encode_dense(&b, NULL, 0, 1, &y, &err));
    CHECK_OK(ll_encode_dense(&b, NULL, 1, 3, &y, &err));
    CHECK(x.len == y.len && memcmp(x.data, y.data, x.len) == 0);
    /* int64 narrows to int32 tensors; out of range is an error naming row and column */
    int64_t i64[4] = {1, -2, 3, (int64_t)1 << 40};
    int32_t i32[3] = {1, -2, 3};
    ll_matrix c = {i64, LL_ELEM_I64, 1, 3, 24, 8}, d = {i32, LL_ELEM_I32, 1, 3, 12, 4};
    x.len = y.len = 0;
    CHECK_OK(ll_encode_dense(&c, NULL, 0, 1, &x, &err));
    CHECK_OK(ll_encode_dense(&d, NULL, 0, 1, &y, &err));
    CHECK(x.len == y.len && memcmp(x.data, y.data, x.len) == 0);
    ll_matrix e = {i64, LL_ELEM_I64, 1, 4, 32, 8};
    CHECK(ll_encode_dense(&e, NULL, 0, 1, &x, &err) == LL_E_ARG);
    CHECKF(strstr(err.msg, "row 0, column 3") != NULL, "%s", err.msg);
    /* bad ranges and too few labels */
    CHECK(ll_encode_dense(&b, NULL, 2, 5, &x, &err) == LL_E_ARG);
    ll_matrix l = {rm, LL_ELEM_F32, 2, 1, 4, 4};
    CHECK(ll_encode_dense(&b, &l, 0, 3, &x, &err) == LL_E_ARG);
    ll_buf_free(&x);
    ll_buf_free(&y);
    ll_buf_free(NULL);
}

typedef struct src {
    const unsigned char *p;
    size_t len, pos;
    int fail_at;
} src;

static ll_code cb(void *ud, void *buf, size_t cap, size_t *n, int *eof, ll_err *err)
{
    src *s = ud;
    if (s->fail_at >= 0 && s->pos >= (size_t)s->fail_at) {
        err->code = LL_E_IO;
        snprintf(err->msg, sizeof err->msg, "callback failed");
        return LL_E_IO;
    }
    size_t k = s->len - s->pos < 7 ? s->len - s->pos : 7; /* dribble 7 bytes at a time */
    if (k > cap)
        k = cap;
    memcpy(buf, s->p + s->pos, k);
    s->pos += k;
    *n = k;
    *eof = k == 0;
    return LL_OK;
}

static void callback_reader(void)
{
    size_t len;
    unsigned char *data = load("dense_f32_labeled_7x5.pbr", &len);
    CHECK(data != NULL);
    if (!data)
        return;
    ll_err err;
    for (int fail = 0; fail < 2; fail++) {
        src s = {data, len, 0, fail ? 100 : -1};
        ll_reader *rd = ll_reader_fn(cb, &s, "callback");
        ll_rio *rio = NULL;
        CHECK_OK(ll_rio_open(rd, LL_SPLIT_DMLC, 0, &rio, &err));
        int n = 0, eof = 0;
        ll_code c = LL_OK;
        while (!eof) {
            const uint8_t *p;
            size_t pl;
            c = ll_rio_next(rio, &p, &pl, &eof, &err);
            if (c)
                break;
            n += !eof;
        }
        if (fail)
            CHECKF(c == LL_E_IO && n == 1, "rc %d after %d records", c, n);
        else
            CHECKF(c == LL_OK && n == 7 && ll_rio_offset(rio) == 6 * 64, "rc %d n %d", c, n);
        ll_rio_free(rio);
        ll_reader_free(rd);
    }
    ll_record *r = ll_record_new();
    CHECK(ll_record_decode(r, "\xff\xff", 2, &err) == LL_E_PARSE);
    ll_record_free(r);
    ll_record_free(NULL);
    free(data);
}

int main(void)
{
    TT_BEGIN("test_arrays");
    RUN(sdk_vectors);
    RUN(strides_and_narrowing);
    RUN(callback_reader);
    TT_END();
}
