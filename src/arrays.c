/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arrays.c - the library's face to language bindings (the Python package): numeric arrays in
 * memory encoded as RecordIO-protobuf exactly as the SageMaker Python SDK writes them, a reader
 * over a callback, RecordIO framing as an object, and decoded Records as an opaque handle.
 *
 * The encoders write one frame (cflag 0) per row: features["values"] holds the row, and
 * label["values"] one value when labels are given; the byte layout is pb_encode's (pb.h).
 */
#include "err.h"
#include "linlearn.h"
#include "mem.h"
#include "pb.h"
#include "rd.h"
#include "rio.h"
#include <string.h>

void ll_buf_free(ll_buf *b)
{
    if (!b)
        return;
    mem_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static ll_code buf_need(ll_buf *b, size_t n, ll_err *err)
{
    if (b->cap - b->len >= n)
        return LL_OK;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2)
            return err_set(err, LL_E_NOMEM, "output buffer of %zu bytes too large", b->len + n);
        cap *= 2;
    }
    uint8_t *p = mem_realloc(b->data, cap);
    if (!p)
        return err_set(err, LL_E_NOMEM, "cannot grow the output buffer to %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return LL_OK;
}

static size_t elem_size(ll_elem e)
{
    return e == LL_ELEM_F64 || e == LL_ELEM_I64 ? 8 : 4;
}

static pb_dtype elem_dtype(ll_elem e)
{
    return e == LL_ELEM_F32 ? PB_F32 : e == LL_ELEM_F64 ? PB_F64 : PB_I32;
}

static int elem_ok(ll_elem e)
{
    return e == LL_ELEM_F32 || e == LL_ELEM_F64 || e == LL_ELEM_I32 || e == LL_ELEM_I64;
}

/* Scratch space for a gathered or narrowed row. */
typedef struct scratch {
    void *p;
    size_t cap;
} scratch;

static ll_code scratch_need(scratch *s, size_t n, ll_err *err)
{
    if (s->cap >= n)
        return LL_OK;
    void *p = mem_realloc(s->p, n ? n : 1);
    if (!p)
        return err_set(err, LL_E_NOMEM, "cannot allocate %zu bytes of row scratch", n);
    s->p = p;
    s->cap = n;
    return LL_OK;
}

/* Makes n values starting at base (stride bytes apart) available as a contiguous array of the
 * tensor's type: in place when already so, else gathered (and int64 narrowed, range-checked)
 * into s. what/row name the values in messages. */
static ll_code row_values(const uint8_t *base, ll_elem e, size_t n, ptrdiff_t stride, scratch *s,
                          const char *what, size_t row, const void **out, ll_err *err)
{
    size_t es = elem_size(e);
    if (e != LL_ELEM_I64 && (stride == (ptrdiff_t)es || n <= 1)) {
        *out = base;
        return LL_OK;
    }
    size_t ts = e == LL_ELEM_I64 ? 4 : es;
    if (n > SIZE_MAX / ts)
        return err_set(err, LL_E_TOOBIG, "%s row %zu: %zu values too many", what, row, n);
    ll_code c = scratch_need(s, n * ts, err);
    if (c)
        return c;
    uint8_t *d = s->p;
    for (size_t j = 0; j < n; j++) {
        const uint8_t *p = base + (ptrdiff_t)j * stride;
        if (e == LL_ELEM_I64) {
            int64_t v;
            memcpy(&v, p, 8);
            if (v < INT32_MIN || v > INT32_MAX)
                return err_set(err, LL_E_ARG,
                               "%s row %zu, column %zu: value %lld does not fit an int32 tensor",
                               what, row, j, (long long)v);
            int32_t w = (int32_t)v;
            memcpy(d + 4 * j, &w, 4);
        } else
            memcpy(d + ts * j, p, ts);
    }
    *out = s->p;
    return LL_OK;
}

static ll_code check_labels(const ll_matrix *labels, size_t r1, ll_err *err)
{
    if (!labels)
        return LL_OK;
    if (!elem_ok(labels->elem))
        return err_set(err, LL_E_ARG, "labels: unknown element type %d", (int)labels->elem);
    if (labels->n_rows < r1)
        return err_set(err, LL_E_ARG, "labels: %zu values for %zu rows", labels->n_rows, r1);
    return LL_OK;
}

/* Encodes one Record (features tensor ft, optional label at lp) as a frame appended to out. */
static ll_code put_record(const pb_tensor_in *ft, const ll_matrix *labels, size_t row, scratch *ls,
                          ll_buf *out, ll_err *err)
{
    pb_entry_in fe = {"values", *ft}, le;
    pb_record_in r = {&fe, 1, NULL, 0, NULL, NULL, NULL};
    if (labels) {
        const uint8_t *lp = (const uint8_t *)labels->data + (ptrdiff_t)row * labels->row_stride;
        const void *v;
        ll_code c = row_values(lp, labels->elem, 1, (ptrdiff_t)elem_size(labels->elem), ls,
                               "labels", row, &v, err);
        if (c)
            return c;
        memset(&le, 0, sizeof le);
        le.name = "values";
        le.t.dtype = elem_dtype(labels->elem);
        le.t.values = v;
        le.t.n_values = 1;
        r.lab = &le;
        r.n_lab = 1;
    }
    size_t len = pb_encoded_size(&r);
    if (len > RIO_MAX_LEN)
        return err_set(err, LL_E_TOOBIG, "row %zu: a %zu-byte record exceeds RecordIO's %u", row,
                       len, RIO_MAX_LEN);
    ll_code c = buf_need(out, rio_frame_size(len), err);
    if (c)
        return c;
    uint8_t *o = out->data + out->len;
    uint32_t h[2] = {RIO_MAGIC, (uint32_t)len};
    for (int k = 0; k < 2; k++)
        for (int b = 0; b < 4; b++)
            *o++ = (uint8_t)(h[k] >> (8 * b));
    size_t w = pb_encode(&r, o);
    o += w;
    while ((w & 3) != 0) {
        *o++ = 0;
        w++;
    }
    out->len = (size_t)(o - out->data);
    return LL_OK;
}

ll_code ll_encode_dense(const ll_matrix *x, const ll_matrix *labels, size_t r0, size_t r1,
                        ll_buf *out, ll_err *err)
{
    if (!x || !out || !elem_ok(x->elem))
        return err_set(err, LL_E_ARG, "ll_encode_dense: missing matrix or unknown element type");
    if (r1 > x->n_rows || r0 > r1)
        return err_set(err, LL_E_ARG, "rows %zu..%zu out of range (%zu rows)", r0, r1, x->n_rows);
    ll_code c = check_labels(labels, r1, err);
    if (c)
        return c;
    scratch s = {0}, ls = {0};
    for (size_t i = r0; i < r1 && !c; i++) {
        const uint8_t *rp = (const uint8_t *)x->data + (ptrdiff_t)i * x->row_stride;
        pb_tensor_in t;
        memset(&t, 0, sizeof t);
        t.dtype = elem_dtype(x->elem);
        t.n_values = x->n_cols;
        c = row_values(rp, x->elem, x->n_cols, x->col_stride, &s, "features", i, &t.values, err);
        if (!c)
            c = put_record(&t, labels, i, &ls, out, err);
    }
    mem_free(s.p);
    mem_free(ls.p);
    return c;
}

static uint64_t index_at(const void *a, ll_elem e, size_t i)
{
    if (e == LL_ELEM_I64) {
        int64_t v;
        memcpy(&v, (const uint8_t *)a + 8 * i, 8);
        return (uint64_t)v;
    }
    int32_t v;
    memcpy(&v, (const uint8_t *)a + 4 * i, 4);
    return (uint64_t)(int64_t)v;
}

ll_code ll_encode_csr(const ll_csr *x, const ll_matrix *labels, size_t r0, size_t r1, ll_buf *out,
                      ll_err *err)
{
    if (!x || !out || !elem_ok(x->elem) ||
        (x->index_elem != LL_ELEM_I32 && x->index_elem != LL_ELEM_I64) ||
        (x->indptr_elem != LL_ELEM_I32 && x->indptr_elem != LL_ELEM_I64))
        return err_set(err, LL_E_ARG, "ll_encode_csr: missing matrix or unknown element type");
    if (r1 > x->n_rows || r0 > r1)
        return err_set(err, LL_E_ARG, "rows %zu..%zu out of range (%zu rows)", r0, r1, x->n_rows);
    ll_code c = check_labels(labels, r1, err);
    if (c)
        return c;
    scratch s = {0}, ks = {0}, ls = {0};
    uint64_t shape = x->n_cols;
    size_t es = elem_size(x->elem);
    for (size_t i = r0; i < r1 && !c; i++) {
        uint64_t a = index_at(x->indptr, x->indptr_elem, i);
        uint64_t b = index_at(x->indptr, x->indptr_elem, i + 1);
        if (b < a || (int64_t)a < 0) {
            c = err_set(err, LL_E_ARG, "indptr: row %zu spans %lld..%lld", i, (long long)a,
                        (long long)b);
            break;
        }
        size_t n = (size_t)(b - a);
        pb_tensor_in t;
        memset(&t, 0, sizeof t);
        t.dtype = elem_dtype(x->elem);
        t.n_values = n;
        c = row_values((const uint8_t *)x->data + a * es, x->elem, n, (ptrdiff_t)es, &s, "features",
                       i, &t.values, err);
        if (c)
            break;
        if ((c = scratch_need(&ks, n * sizeof(uint64_t), err)) != LL_OK)
            break;
        uint64_t *k = ks.p;
        for (size_t j = 0; j < n; j++)
            k[j] = index_at(x->indices, x->index_elem, a + j);
        t.keys = k;
        t.n_keys = n;
        t.shape = &shape;
        t.n_shape = 1;
        c = put_record(&t, labels, i, &ls, out, err);
    }
    mem_free(s.p);
    mem_free(ks.p);
    mem_free(ls.p);
    return c;
}

/* ---- a reader over a callback ---- */

typedef struct rd_fn {
    ll_reader r;
    ll_read_fn fn;
    void *ud;
} rd_fn;

static ll_code fn_read(ll_reader *self, void *buf, size_t cap, size_t *n, int *eof, ll_err *err)
{
    rd_fn *f = (rd_fn *)self;
    *n = 0;
    *eof = 0;
    ll_code c = f->fn(f->ud, buf, cap, n, eof, err);
    if (c == LL_OK && *n == 0)
        *eof = 1;
    return c;
}

static void fn_close(ll_reader *self)
{
    mem_free(self);
}

ll_reader *ll_reader_fn(ll_read_fn fn, void *ud, const char *name)
{
    rd_fn *f = mem_calloc(1, sizeof *f);
    if (!f)
        return NULL;
    rd_init(&f->r, name ? name : "callback");
    f->r.read = fn_read;
    f->r.close = fn_close;
    f->fn = fn;
    f->ud = ud;
    return &f->r;
}

/* ---- RecordIO framing as an object ---- */

struct ll_rio {
    rio_reader r;
};

ll_code ll_rio_open(ll_reader *rd, ll_split_mode split, size_t max_len, ll_rio **out, ll_err *err)
{
    *out = NULL;
    ll_rio *x = mem_calloc(1, sizeof *x);
    if (!x)
        return err_set(err, LL_E_NOMEM, "cannot allocate a RecordIO reader");
    ll_code c = rio_reader_init(&x->r, rd, split, max_len, err);
    if (c) {
        mem_free(x);
        return c;
    }
    *out = x;
    return LL_OK;
}

ll_code ll_rio_next(ll_rio *r, const uint8_t **payload, size_t *len, int *eof, ll_err *err)
{
    return rio_next(&r->r, payload, len, eof, err);
}

uint64_t ll_rio_offset(const ll_rio *r)
{
    return r->r.rec_off;
}

void ll_rio_free(ll_rio *r)
{
    if (!r)
        return;
    rio_reader_deinit(&r->r);
    mem_free(r);
}

/* ---- decoded Records ---- */

struct ll_record {
    pb_record r;
};

ll_record *ll_record_new(void)
{
    ll_record *r = mem_calloc(1, sizeof *r);
    if (r)
        pb_record_init(&r->r);
    return r;
}

void ll_record_free(ll_record *r)
{
    if (!r)
        return;
    pb_record_deinit(&r->r);
    mem_free(r);
}

ll_code ll_record_decode(ll_record *r, const void *payload, size_t len, ll_err *err)
{
    return pb_decode(payload, len, &r->r, err);
}

static const pb_entry *entry(const ll_record *r, int which, size_t i)
{
    size_t n = which ? r->r.n_lab : r->r.n_feat;
    if (i >= n)
        return NULL;
    return which ? &r->r.lab[i] : &r->r.feat[i];
}

size_t ll_record_n_entries(const ll_record *r, int which)
{
    return which ? r->r.n_lab : r->r.n_feat;
}

void ll_record_entry(const ll_record *r, int which, size_t i, ll_tensor_info *ti)
{
    memset(ti, 0, sizeof *ti);
    const pb_entry *e = entry(r, which, i);
    if (!e)
        return;
    ti->name = (const char *)e->name;
    ti->name_len = e->name_len;
    ti->dtype = (int)e->t.dtype;
    ti->present = e->t.present;
    ti->n_values = e->t.n_values;
    ti->n_keys = e->t.n_keys;
    ti->n_shape = e->t.n_shape;
}

void ll_record_values(const ll_record *r, int which, size_t i, void *dst)
{
    const pb_entry *e = entry(r, which, i);
    if (e && e->t.dtype != PB_BYTES && e->t.dtype != PB_NONE)
        pb_values_raw(&r->r, &e->t, dst);
}

void ll_record_keys(const ll_record *r, int which, size_t i, int shape, uint64_t *dst)
{
    const pb_entry *e = entry(r, which, i);
    if (e && e->t.dtype != PB_BYTES && e->t.dtype != PB_NONE)
        pb_u64s(&r->r, &e->t, shape ? 3 : 2, dst);
}

int ll_record_bytes(const ll_record *r, int which, size_t i, size_t k, const uint8_t **p,
                    size_t *len)
{
    const pb_entry *e = entry(r, which, i);
    if (!e || e->t.dtype != PB_BYTES)
        return 0;
    const pb_seg *s =
        k == (size_t)-1 ? pb_bytes_item(&r->r, &e->t, 2, 0) : pb_bytes_item(&r->r, &e->t, 1, k);
    if (!s)
        return 0;
    *p = s->p;
    *len = s->len;
    return 1;
}

int ll_record_string(const ll_record *r, int field, const uint8_t **p, size_t *len)
{
    const pb_str *s = field == 3   ? &r->r.uid
                      : field == 4 ? &r->r.metadata
                      : field == 5 ? &r->r.configuration
                                   : NULL;
    if (!s || !s->set)
        return 0;
    *p = s->p;
    *len = s->len;
    return 1;
}
