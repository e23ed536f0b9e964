/* SPDX-License-Identifier: Apache-2.0 */
/*
 * _linlearn.c - the CPython extension module under the linlearn package: thin wrappers over
 * include/linlearn.h. Arrays arrive through the buffer protocol (no copy; strides honoured),
 * work that touches no Python object runs with the GIL released, and every C failure becomes
 * an exception of the class for its ll_code carrying the formatted ll_err message and its
 * location fields. The Python layer (linlearn/*.py) resolves dtypes and does the SDK's checks.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "linlearn.h"
#include <string.h>

static PyObject *Error, *code_classes[8];

/* Raises the exception for err and returns NULL. */
static PyObject *raise_err(const ll_err *err)
{
    char buf[600];
    ll_err_format(err, buf, sizeof buf);
    int code = err->code >= 0 && err->code < 8 ? (int)err->code : 5;
    PyObject *cls = code_classes[code] ? code_classes[code] : Error;
    PyObject *args = Py_BuildValue("(s)", buf);
    if (!args)
        return NULL;
    PyObject *exc = PyObject_Call(cls, args, NULL);
    Py_DECREF(args);
    if (!exc)
        return NULL;
    PyObject *v;
#define SETA(name, val)                                                                          \
    if ((v = (val)) != NULL) {                                                                   \
        PyObject_SetAttrString(exc, name, v);                                                    \
        Py_DECREF(v);                                                                            \
    }
    SETA("code", PyLong_FromLong(err->code));
    SETA("c_message", PyUnicode_DecodeUTF8(err->msg, strlen(err->msg), "replace"));
    SETA("src", err->src[0] ? PyUnicode_DecodeUTF8(err->src, strlen(err->src), "replace")
                            : Py_NewRef(Py_None));
    SETA("offset", err->has & LL_ERR_OFFSET ? PyLong_FromUnsignedLongLong(err->offset)
                                            : Py_NewRef(Py_None));
    SETA("line", err->has & LL_ERR_LINE ? PyLong_FromUnsignedLongLong(err->line)
                                        : Py_NewRef(Py_None));
    SETA("record", err->has & LL_ERR_RECORD ? PyLong_FromUnsignedLongLong(err->record)
                                            : Py_NewRef(Py_None));
#undef SETA
    PyErr_SetObject(cls, exc);
    Py_DECREF(exc);
    return NULL;
}

/* ---- encoders ---- */

/* Fills m from a buffer of 1 or 2 dimensions (a vector is n x 1). */
static int matrix_from(Py_buffer *b, int elem, ll_matrix *m)
{
    memset(m, 0, sizeof *m);
    if (b->ndim < 1 || b->ndim > 2) {
        PyErr_SetString(PyExc_ValueError, "expected a 1- or 2-dimensional array");
        return -1;
    }
    m->data = b->buf;
    m->elem = (ll_elem)elem;
    m->n_rows = (size_t)b->shape[0];
    m->row_stride = b->strides[0];
    if (b->ndim == 2) {
        m->n_cols = (size_t)b->shape[1];
        m->col_stride = b->strides[1];
    } else {
        m->n_cols = 1;
        m->col_stride = b->itemsize;
    }
    return 0;
}

static PyObject *take_buf(ll_buf *out)
{
    PyObject *r = PyBytes_FromStringAndSize((const char *)out->data, (Py_ssize_t)out->len);
    ll_buf_free(out);
    return r;
}

/* A chunk of encoded records handed to file.write without a copy: it owns its ll_buf and
 * exports it through the buffer protocol. The encoder reuses it for the next chunk unless
 * write() kept a reference (then a fresh chunk is made and the kept one stays valid). */
typedef struct {
    PyObject_HEAD ll_buf buf;
    Py_ssize_t exports;
} ChunkObject;

static void Chunk_dealloc(ChunkObject *c)
{
    ll_buf_free(&c->buf);
    Py_TYPE(c)->tp_free((PyObject *)c);
}

static int Chunk_getbuffer(ChunkObject *c, Py_buffer *view, int flags)
{
    if (PyBuffer_FillInfo(view, (PyObject *)c, c->buf.data ? c->buf.data : (void *)"",
                          (Py_ssize_t)c->buf.len, 1, flags) < 0)
        return -1;
    c->exports++;
    return 0;
}

static void Chunk_releasebuffer(ChunkObject *c, Py_buffer *view)
{
    c->exports--;
}

static Py_ssize_t Chunk_len(ChunkObject *c)
{
    return (Py_ssize_t)c->buf.len;
}

static PyBufferProcs Chunk_as_buffer = {(getbufferproc)Chunk_getbuffer,
                                        (releasebufferproc)Chunk_releasebuffer};
static PySequenceMethods Chunk_as_sequence = {.sq_length = (lenfunc)Chunk_len};

static PyTypeObject ChunkType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "linlearn._linlearn.Chunk",
    .tp_basicsize = sizeof(ChunkObject),
    .tp_dealloc = (destructor)Chunk_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "encoded RecordIO records (read-only buffer)",
    .tp_as_buffer = &Chunk_as_buffer,
    .tp_as_sequence = &Chunk_as_sequence,
};

/* Encodes rows [r0, r1) in chunks of `step` rows through enc, handing each chunk to
 * write(chunk) (GIL released while encoding); with write None returns all as bytes. */
typedef ll_code (*enc_fn)(const void *ctx, size_t r0, size_t r1, ll_buf *out, ll_err *err);

static PyObject *encode_rows(enc_fn enc, const void *ctx, size_t r0, size_t r1, size_t step,
                             PyObject *write)
{
    ll_err err;
    ll_err_clear(&err);
    if (step == 0)
        step = 1;
    if (write == Py_None) {
        ll_buf out = {0};
        ll_code c;
        Py_BEGIN_ALLOW_THREADS c = enc(ctx, r0, r1, &out, &err);
        Py_END_ALLOW_THREADS if (c)
        {
            ll_buf_free(&out);
            return raise_err(&err);
        }
        return take_buf(&out);
    }
    ChunkObject *ch = NULL;
    for (size_t a = r0; a < r1; a += step) {
        size_t b = r1 - a < step ? r1 : a + step;
        if (ch && (Py_REFCNT(ch) > 1 || ch->exports > 0))
            Py_CLEAR(ch); /* write() kept it: leave it alone */
        if (!ch) {
            if (!(ch = PyObject_New(ChunkObject, &ChunkType)))
                return NULL;
            memset(&ch->buf, 0, sizeof ch->buf);
            ch->exports = 0;
        }
        ll_code c;
        ch->buf.len = 0;
        Py_BEGIN_ALLOW_THREADS c = enc(ctx, a, b, &ch->buf, &err);
        Py_END_ALLOW_THREADS if (c)
        {
            Py_DECREF(ch);
            return raise_err(&err);
        }
        PyObject *r = PyObject_CallOneArg(write, (PyObject *)ch);
        if (!r) {
            Py_DECREF(ch);
            return NULL;
        }
        Py_DECREF(r);
    }
    Py_XDECREF(ch);
    Py_RETURN_NONE;
}

typedef struct dense_ctx {
    ll_matrix x, l;
    int has_l;
} dense_ctx;

static ll_code enc_dense(const void *ctx, size_t r0, size_t r1, ll_buf *out, ll_err *err)
{
    const dense_ctx *d = ctx;
    return ll_encode_dense(&d->x, d->has_l ? &d->l : NULL, r0, r1, out, err);
}

/* encode_dense(x, x_elem, labels|None, labels_elem, r0, r1[, write, step]) -> bytes | None */
static PyObject *py_encode_dense(PyObject *self, PyObject *args)
{
    PyObject *xo, *lo, *write = Py_None;
    int xe, le;
    Py_ssize_t r0, r1, step = 0;
    if (!PyArg_ParseTuple(args, "OiOinn|On", &xo, &xe, &lo, &le, &r0, &r1, &write, &step))
        return NULL;
    if (r0 < 0 || r1 < r0) {
        PyErr_SetString(PyExc_ValueError, "bad row range");
        return NULL;
    }
    Py_buffer xb, lb;
    if (PyObject_GetBuffer(xo, &xb, PyBUF_RECORDS_RO) < 0)
        return NULL;
    dense_ctx d;
    d.has_l = lo != Py_None;
    if (d.has_l && PyObject_GetBuffer(lo, &lb, PyBUF_RECORDS_RO) < 0) {
        PyBuffer_Release(&xb);
        return NULL;
    }
    PyObject *res = NULL;
    if (matrix_from(&xb, xe, &d.x) == 0 && (!d.has_l || matrix_from(&lb, le, &d.l) == 0))
        res = encode_rows(enc_dense, &d, (size_t)r0, (size_t)r1, step ? (size_t)step : (size_t)r1,
                          write);
    PyBuffer_Release(&xb);
    if (d.has_l)
        PyBuffer_Release(&lb);
    return res;
}

static int idx_elem(Py_buffer *b)
{
    return b->itemsize == 8 ? LL_ELEM_I64 : LL_ELEM_I32;
}

typedef struct csr_ctx {
    ll_csr x;
    ll_matrix l;
    int has_l;
} csr_ctx;

static ll_code enc_csr(const void *ctx, size_t r0, size_t r1, ll_buf *out, ll_err *err)
{
    const csr_ctx *d = ctx;
    return ll_encode_csr(&d->x, d->has_l ? &d->l : NULL, r0, r1, out, err);
}

/* encode_csr(data, elem, indices, indptr, n_rows, n_cols, labels|None, labels_elem, r0, r1
 *            [, write, step]) -> bytes | None */
static PyObject *py_encode_csr(PyObject *self, PyObject *args)
{
    PyObject *dob, *iob, *pob, *lo, *write = Py_None;
    int e, le;
    Py_ssize_t nr, r0, r1, step = 0;
    unsigned long long nc;
    if (!PyArg_ParseTuple(args, "OiOOnKOinn|On", &dob, &e, &iob, &pob, &nr, &nc, &lo, &le, &r0,
                          &r1, &write, &step))
        return NULL;
    if (r0 < 0 || r1 < r0 || r1 > nr) {
        PyErr_SetString(PyExc_ValueError, "bad row range");
        return NULL;
    }
    Py_buffer db, ib, pb, lb;
    int got = 0, has_l = lo != Py_None;
    PyObject *res = NULL;
    if (PyObject_GetBuffer(dob, &db, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        goto done;
    got = 1;
    if (PyObject_GetBuffer(iob, &ib, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        goto done;
    got = 2;
    if (PyObject_GetBuffer(pob, &pb, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        goto done;
    got = 3;
    if (has_l) {
        if (PyObject_GetBuffer(lo, &lb, PyBUF_RECORDS_RO) < 0)
            goto done;
        got = 4;
    }
    if ((ib.itemsize != 4 && ib.itemsize != 8) || (pb.itemsize != 4 && pb.itemsize != 8)) {
        PyErr_SetString(PyExc_ValueError, "indices and indptr must be 32- or 64-bit integers");
        goto done;
    }
    if (pb.len / pb.itemsize != nr + 1) {
        PyErr_SetString(PyExc_ValueError, "indptr must hold n_rows + 1 entries");
        goto done;
    }
    csr_ctx d;
    d.has_l = has_l;
    if (has_l && matrix_from(&lb, le, &d.l) < 0)
        goto done;
    ll_csr x = {(size_t)nr, nc, db.buf, (ll_elem)e, ib.buf, idx_elem(&ib), pb.buf, idx_elem(&pb)};
    d.x = x;
    size_t nnz = (size_t)(db.len / (db.itemsize ? db.itemsize : 1));
    size_t nidx = (size_t)(ib.len / ib.itemsize);
    /* indptr must stay within data and indices: checked here, where their sizes are known */
    for (Py_ssize_t i = 0; i <= nr; i++) {
        long long v = pb.itemsize == 8 ? ((const long long *)pb.buf)[i]
                                       : (long long)((const int *)pb.buf)[i];
        if (v < 0 || (size_t)v > nnz || (size_t)v > nidx) {
            PyErr_Format(PyExc_ValueError, "indptr[%zd] = %lld is outside data (%zu entries)", i,
                         v, nnz);
            goto done;
        }
    }
    res = encode_rows(enc_csr, &d, (size_t)r0, (size_t)r1, step ? (size_t)step : (size_t)r1,
                      write);
done:
    if (got >= 1)
        PyBuffer_Release(&db);
    if (got >= 2)
        PyBuffer_Release(&ib);
    if (got >= 3)
        PyBuffer_Release(&pb);
    if (got >= 4)
        PyBuffer_Release(&lb);
    return res;
}

/* ---- RecordIO reading over a Python read(n) callable ---- */

typedef struct {
    PyObject_HEAD PyObject *read; /* file.read */
    ll_reader *rd;
    ll_rio *rio;
    ll_record *rec;
    int failed; /* the callback raised: the Python exception is pending */
} ReaderObject;

static ll_code reader_cb(void *ud, void *buf, size_t cap, size_t *n, int *eof, ll_err *err)
{
    ReaderObject *r = ud;
    if (cap > (1u << 20))
        cap = 1u << 20;
    PyObject *b = PyObject_CallFunction(r->read, "n", (Py_ssize_t)cap);
    if (!b) {
        r->failed = 1;
        snprintf(err->msg, sizeof err->msg, "the file object's read() raised");
        err->code = LL_E_IO;
        return LL_E_IO;
    }
    Py_buffer v;
    if (PyObject_GetBuffer(b, &v, PyBUF_SIMPLE) < 0) {
        Py_DECREF(b);
        r->failed = 1;
        err->code = LL_E_IO;
        return LL_E_IO;
    }
    size_t len = (size_t)v.len < cap ? (size_t)v.len : cap;
    memcpy(buf, v.buf, len);
    PyBuffer_Release(&v);
    Py_DECREF(b);
    *n = len;
    *eof = len == 0;
    return LL_OK;
}

static void Reader_dealloc(ReaderObject *r)
{
    ll_rio_free(r->rio);
    ll_reader_free(r->rd);
    ll_record_free(r->rec);
    Py_XDECREF(r->read);
    Py_TYPE(r)->tp_free((PyObject *)r);
}

static int Reader_init(ReaderObject *r, PyObject *args, PyObject *kw)
{
    PyObject *read;
    const char *name = "file object";
    int split = 0;
    if (!PyArg_ParseTuple(args, "O|si", &read, &name, &split))
        return -1;
    if (r->rd) {
        PyErr_SetString(PyExc_RuntimeError, "reader already initialised");
        return -1;
    }
    Py_INCREF(read);
    r->read = read;
    r->rd = ll_reader_fn(reader_cb, r, name);
    r->rec = ll_record_new();
    if (!r->rd || !r->rec) {
        PyErr_NoMemory();
        return -1;
    }
    ll_err err;
    ll_err_clear(&err);
    if (ll_rio_open(r->rd, split ? LL_SPLIT_CONCAT : LL_SPLIT_DMLC, 0, &r->rio, &err)) {
        raise_err(&err);
        return -1;
    }
    return 0;
}

/* next_payload() -> bytes, or None at the end */
static PyObject *Reader_next_payload(ReaderObject *r, PyObject *unused)
{
    if (!r->rio) {
        PyErr_SetString(PyExc_ValueError, "reader not initialised");
        return NULL;
    }
    const uint8_t *p;
    size_t len;
    int eof = 0;
    ll_err err;
    ll_err_clear(&err);
    r->failed = 0;
    ll_code c = ll_rio_next(r->rio, &p, &len, &eof, &err);
    if (c) {
        if (r->failed && PyErr_Occurred())
            return NULL;
        return raise_err(&err);
    }
    if (eof)
        Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)len);
}

static PyObject *Reader_offset(ReaderObject *r, PyObject *unused)
{
    return PyLong_FromUnsignedLongLong(r->rio ? ll_rio_offset(r->rio) : 0);
}

static PyMethodDef Reader_methods[] = {
    {"next_payload", (PyCFunction)Reader_next_payload, METH_NOARGS, "next record's payload"},
    {"offset", (PyCFunction)Reader_offset, METH_NOARGS, "byte offset of the last record"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "linlearn._linlearn.RioReader",
    .tp_basicsize = sizeof(ReaderObject),
    .tp_dealloc = (destructor)Reader_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "RioReader(read, name='file object', concat=0): RecordIO payloads from read(n)",
    .tp_methods = Reader_methods,
    .tp_init = (initproc)Reader_init,
    .tp_new = PyType_GenericNew,
};

/* decode(payload) -> (features, label, uid, metadata, configuration); an entry is
 * (name, dtype, present, values, keys, shape) with values/keys/shape as bytes of the raw
 * little-endian arrays, or for dtype 9 (Bytes) values a list of bytes and keys the
 * content_type (bytes or None). */
static PyObject *entries(ll_record *rec, int which)
{
    size_t n = ll_record_n_entries(rec, which);
    PyObject *l = PyList_New((Py_ssize_t)n);
    if (!l)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        ll_tensor_info ti;
        ll_record_entry(rec, which, i, &ti);
        PyObject *vals = NULL, *keys = NULL, *shape = NULL;
        if (ti.dtype == 9) {
            vals = PyList_New(0);
            const uint8_t *p;
            size_t len;
            for (size_t k = 0; vals && ll_record_bytes(rec, which, i, k, &p, &len); k++) {
                PyObject *b = PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)len);
                if (!b || PyList_Append(vals, b) < 0) {
                    Py_XDECREF(b);
                    Py_CLEAR(vals);
                    break;
                }
                Py_DECREF(b);
            }
            if (ll_record_bytes(rec, which, i, (size_t)-1, &p, &len))
                keys = PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)len);
            else
                keys = Py_NewRef(Py_None);
            shape = Py_NewRef(Py_None);
        } else {
            size_t w = ti.dtype == 3 ? 8 : 4;
            vals = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(ti.n_values * w));
            keys = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(ti.n_keys * 8));
            shape = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(ti.n_shape * 8));
            if (vals && keys && shape) {
                if (ti.dtype && ti.n_values)
                    ll_record_values(rec, which, i, PyBytes_AS_STRING(vals));
                if (ti.dtype && ti.n_keys)
                    ll_record_keys(rec, which, i, 0, (uint64_t *)PyBytes_AS_STRING(keys));
                if (ti.dtype && ti.n_shape)
                    ll_record_keys(rec, which, i, 1, (uint64_t *)PyBytes_AS_STRING(shape));
            }
        }
        PyObject *t = NULL;
        if (vals && keys && shape)
            t = Py_BuildValue("(s#iiOOO)", ti.name, (Py_ssize_t)ti.name_len, ti.dtype,
                              ti.present, vals, keys, shape);
        Py_XDECREF(vals);
        Py_XDECREF(keys);
        Py_XDECREF(shape);
        if (!t) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, (Py_ssize_t)i, t);
    }
    return l;
}

static PyObject *str_field(ll_record *rec, int field)
{
    const uint8_t *p;
    size_t len;
    if (!ll_record_string(rec, field, &p, &len))
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8((const char *)p, (Py_ssize_t)len, "surrogateescape");
}

static PyObject *py_decode(PyObject *self, PyObject *args)
{
    Py_buffer b;
    if (!PyArg_ParseTuple(args, "y*", &b))
        return NULL;
    ll_record *rec = ll_record_new();
    PyObject *res = NULL;
    if (!rec) {
        PyErr_NoMemory();
        goto out;
    }
    ll_err err;
    ll_err_clear(&err);
    if (ll_record_decode(rec, b.buf, (size_t)b.len, &err)) {
        raise_err(&err);
        goto out;
    }
    PyObject *f = entries(rec, 0), *l = f ? entries(rec, 1) : NULL;
    if (f && l)
        res = Py_BuildValue("(NNNNN)", f, l, str_field(rec, 3), str_field(rec, 4),
                            str_field(rec, 5));
    else {
        Py_XDECREF(f);
        Py_XDECREF(l);
    }
out:
    ll_record_free(rec);
    PyBuffer_Release(&b);
    return res;
}

/* ---- models ---- */

typedef struct {
    PyObject_HEAD ll_model *m;
} ModelObject;

static void Model_dealloc(ModelObject *m)
{
    ll_model_free(m->m);
    Py_TYPE(m)->tp_free((PyObject *)m);
}

static int Model_init(ModelObject *m, PyObject *args, PyObject *kw)
{
    PyObject *po;
    if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &po))
        return -1;
    ll_err err;
    ll_err_clear(&err);
    ll_model *x = NULL;
    ll_code c;
    const char *path = PyBytes_AS_STRING(po);
    Py_BEGIN_ALLOW_THREADS c = ll_model_load(path, &x, &err);
    Py_END_ALLOW_THREADS Py_DECREF(po);
    if (c) {
        raise_err(&err);
        return -1;
    }
    ll_model_free(m->m);
    m->m = x;
    return 0;
}

static int model_ok(ModelObject *m)
{
    if (m->m)
        return 1;
    PyErr_SetString(PyExc_ValueError, "model not loaded");
    return 0;
}

static PyObject *Model_info(ModelObject *m, PyObject *unused)
{
    if (!model_ok(m))
        return NULL;
    uint64_t d = ll_model_feature_dim(m->m);
    uint32_t c = ll_model_n_outputs(m->m);
    PyObject *w = PyBytes_FromStringAndSize((const char *)ll_model_weights(m->m),
                                            (Py_ssize_t)(d * c * sizeof(float)));
    PyObject *b = PyBytes_FromStringAndSize((const char *)ll_model_bias(m->m),
                                            (Py_ssize_t)(c * sizeof(float)));
    const char *loss = ll_model_loss(m->m);
    return Py_BuildValue("{s:s,s:K,s:I,s:d,s:s,s:N,s:N}", "predictor_type",
                         ll_predictor_name(ll_model_predictor(m->m)), "feature_dim",
                         (unsigned long long)d, "n_outputs", (unsigned)c, "threshold",
                         (double)ll_model_threshold(m->m), "loss", loss ? loss : "", "weights",
                         w, "bias", b);
}

/* Scores a batch: returns (scores bytes n*C float32, labels bytes n float32). */
static PyObject *score_batch(ModelObject *m, ll_batch *b)
{
    uint32_t C = ll_model_n_outputs(m->m);
    PyObject *s = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(b->n_rows * C * sizeof(float)));
    PyObject *l = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(b->n_rows * sizeof(float)));
    if (!s || !l) {
        Py_XDECREF(s);
        Py_XDECREF(l);
        return NULL;
    }
    ll_err err;
    ll_err_clear(&err);
    ll_code c;
    float *sp = (float *)PyBytes_AS_STRING(s), *lp = (float *)PyBytes_AS_STRING(l);
    Py_BEGIN_ALLOW_THREADS c = ll_model_predict(m->m, b, sp, lp, &err);
    Py_END_ALLOW_THREADS if (c)
    {
        Py_DECREF(s);
        Py_DECREF(l);
        return raise_err(&err);
    }
    return Py_BuildValue("(NN)", s, l);
}

/* A batch over borrowed arrays: val (and idx) point into the caller's buffers. */
typedef struct view {
    ll_batch b;
    size_t *off, *loff;
    uint64_t *dim;
    uint8_t *sparse;
} view;

static int view_alloc(view *v, size_t n)
{
    memset(v, 0, sizeof *v);
    v->off = PyMem_Calloc(n + 1, sizeof(size_t));
    v->loff = PyMem_Calloc(n + 1, sizeof(size_t));
    v->dim = PyMem_Calloc(n ? n : 1, sizeof(uint64_t));
    v->sparse = PyMem_Calloc(n ? n : 1, 1);
    if (!v->off || !v->loff || !v->dim || !v->sparse) {
        PyErr_NoMemory();
        return -1;
    }
    v->b.n_rows = n;
    v->b.off = v->off;
    v->b.loff = v->loff;
    v->b.dim = v->dim;
    v->b.sparse = v->sparse;
    return 0;
}

static void view_free(view *v)
{
    PyMem_Free(v->off);
    PyMem_Free(v->loff);
    PyMem_Free(v->dim);
    PyMem_Free(v->sparse);
}

/* predict_dense(x: C-contiguous float32 2-D buffer) -> (scores, labels) */
static PyObject *Model_predict_dense(ModelObject *m, PyObject *args)
{
    PyObject *xo;
    if (!model_ok(m) || !PyArg_ParseTuple(args, "O", &xo))
        return NULL;
    Py_buffer xb;
    if (PyObject_GetBuffer(xo, &xb, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return NULL;
    PyObject *res = NULL;
    view v;
    if (xb.ndim != 2 || xb.itemsize != 4 || strcmp(xb.format, "f") != 0) {
        PyErr_SetString(PyExc_ValueError, "expected a C-contiguous 2-D float32 array");
        PyBuffer_Release(&xb);
        return NULL;
    }
    size_t n = (size_t)xb.shape[0], d = (size_t)xb.shape[1];
    if (view_alloc(&v, n) == 0) {
        for (size_t i = 0; i < n; i++) {
            v.off[i + 1] = (i + 1) * d;
            v.dim[i] = d;
        }
        v.b.val = xb.buf;
        v.b.dense = 1;
        v.b.width = d;
        res = score_batch(m, &v.b);
    }
    view_free(&v);
    PyBuffer_Release(&xb);
    return res;
}

/* predict_csr(data float32, indices int32, indptr, n_cols) -> (scores, labels) */
static PyObject *Model_predict_csr(ModelObject *m, PyObject *args)
{
    PyObject *dob, *iob, *pob;
    unsigned long long nc;
    if (!model_ok(m) || !PyArg_ParseTuple(args, "OOOK", &dob, &iob, &pob, &nc))
        return NULL;
    Py_buffer db, ib, pb;
    if (PyObject_GetBuffer(dob, &db, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return NULL;
    if (PyObject_GetBuffer(iob, &ib, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyBuffer_Release(&db);
        return NULL;
    }
    if (PyObject_GetBuffer(pob, &pb, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyBuffer_Release(&db);
        PyBuffer_Release(&ib);
        return NULL;
    }
    PyObject *res = NULL;
    view v;
    memset(&v, 0, sizeof v);
    size_t nnz = (size_t)(db.len / 4), n = (size_t)(pb.len / (pb.itemsize ? pb.itemsize : 1));
    if (db.itemsize != 4 || strcmp(db.format, "f") != 0 || ib.itemsize != 4 ||
        (pb.itemsize != 4 && pb.itemsize != 8) || n < 1 || (size_t)(ib.len / 4) != nnz) {
        PyErr_SetString(PyExc_ValueError,
                        "expected float32 data, int32 indices of the same length and an indptr");
        goto out;
    }
    n -= 1;
    if (view_alloc(&v, n) < 0)
        goto out;
    const int32_t *ix = ib.buf;
    for (size_t i = 0; i <= n; i++) {
        long long o = pb.itemsize == 8 ? ((const long long *)pb.buf)[i]
                                       : (long long)((const int32_t *)pb.buf)[i];
        if (o < 0 || (size_t)o > nnz || (i && (size_t)o < v.off[i - 1])) {
            PyErr_Format(PyExc_ValueError, "indptr[%zu] = %lld is out of order or range", i, o);
            goto out;
        }
        v.off[i] = (size_t)o;
    }
    for (size_t k = 0; k < nnz; k++)
        if (ix[k] < 0 || (unsigned long long)ix[k] >= nc) {
            PyErr_Format(PyExc_ValueError, "column index %d outside 0..%llu", ix[k], nc);
            goto out;
        }
    for (size_t i = 0; i < n; i++) {
        v.dim[i] = nc;
        v.sparse[i] = 1;
    }
    v.b.val = db.buf;
    v.b.idx = (uint32_t *)ib.buf;
    v.b.width = nc;
    v.b.n_sparse = n;
    res = score_batch(m, &v.b);
out:
    view_free(&v);
    PyBuffer_Release(&db);
    PyBuffer_Release(&ib);
    PyBuffer_Release(&pb);
    return res;
}

/* export(dst, fmt) with fmt an ll_model_format number */
static PyObject *Model_export(ModelObject *m, PyObject *args)
{
    PyObject *po;
    int fmt;
    if (!model_ok(m) || !PyArg_ParseTuple(args, "O&i", PyUnicode_FSConverter, &po, &fmt))
        return NULL;
    ll_err err;
    ll_err_clear(&err);
    ll_code c;
    const char *dst = PyBytes_AS_STRING(po);
    Py_BEGIN_ALLOW_THREADS c = ll_model_export(m->m, dst, (ll_model_format)fmt, &err);
    Py_END_ALLOW_THREADS Py_DECREF(po);
    if (c)
        return raise_err(&err);
    Py_RETURN_NONE;
}

static PyMethodDef Model_methods[] = {
    {"export", (PyCFunction)Model_export, METH_VARARGS, "ll_model_export(dst, format)"},
    {"info", (PyCFunction)Model_info, METH_NOARGS, "type, sizes, threshold, weights, bias"},
    {"predict_dense", (PyCFunction)Model_predict_dense, METH_VARARGS, "score a float32 matrix"},
    {"predict_csr", (PyCFunction)Model_predict_csr, METH_VARARGS, "score CSR float32 rows"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject ModelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "linlearn._linlearn.CModel",
    .tp_basicsize = sizeof(ModelObject),
    .tp_dealloc = (destructor)Model_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "CModel(path): a model loaded with ll_model_load",
    .tp_methods = Model_methods,
    .tp_init = (initproc)Model_init,
    .tp_new = PyType_GenericNew,
};

/* ---- hyperparameters and training ---- */

static ll_hparams *hparams_from(PyObject *d)
{
    ll_err err;
    ll_err_clear(&err);
    ll_hparams *hp = NULL;
    if (ll_hparams_new(&hp, &err)) {
        raise_err(&err);
        return NULL;
    }
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(d, &pos, &k, &v)) {
        const char *ks = PyUnicode_AsUTF8(k), *vs = ks ? PyUnicode_AsUTF8(v) : NULL;
        if (!vs) {
            ll_hparams_free(hp);
            return NULL;
        }
        if (ll_hparams_set(hp, ks, vs, &err)) {
            ll_hparams_free(hp);
            raise_err(&err);
            return NULL;
        }
    }
    return hp;
}

/* check_hparams({name: str}) -> None; raises what ll_hparams_set / validate say */
static PyObject *py_check_hparams(PyObject *self, PyObject *args)
{
    PyObject *d;
    if (!PyArg_ParseTuple(args, "O!", &PyDict_Type, &d))
        return NULL;
    ll_hparams *hp = hparams_from(d);
    if (!hp)
        return NULL;
    ll_err err;
    ll_err_clear(&err);
    ll_code c = ll_hparams_validate(hp, &err);
    ll_hparams_free(hp);
    if (c)
        return raise_err(&err);
    Py_RETURN_NONE;
}

/* train({name: str}, train, validation|None, model_dir, seed, threads) -> None */
static PyObject *py_train(PyObject *self, PyObject *args)
{
    PyObject *d;
    const char *tr, *val = NULL, *dir;
    unsigned long long seed;
    int threads;
    if (!PyArg_ParseTuple(args, "O!szsKi", &PyDict_Type, &d, &tr, &val, &dir, &seed, &threads))
        return NULL;
    ll_hparams *hp = hparams_from(d);
    if (!hp)
        return NULL;
    ll_train_opts o;
    ll_train_opts_init(&o);
    o.train = tr;
    o.validation = val;
    o.model_dir = dir;
    o.seed = seed;
    o.threads = threads;
    o.parse.format = LL_FMT_RECORDIO;
    /* the matrix kernels' threads are the program's to set: one less than training's */
    ll_blas_set_threads(threads > 1 ? threads - 1 : 1);
    ll_err err;
    ll_err_clear(&err);
    ll_code c;
    Py_BEGIN_ALLOW_THREADS c = ll_train(hp, &o, &err);
    Py_END_ALLOW_THREADS ll_hparams_free(hp);
    if (c)
        return raise_err(&err);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"encode_dense", py_encode_dense, METH_VARARGS, "rows of a matrix as RecordIO-protobuf"},
    {"encode_csr", py_encode_csr, METH_VARARGS, "rows of a CSR matrix as RecordIO-protobuf"},
    {"decode", py_decode, METH_VARARGS, "decode one Record payload"},
    {"check_hparams", py_check_hparams, METH_VARARGS, "validate hyperparameters"},
    {"train", py_train, METH_VARARGS, "train with ll_train"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "_linlearn",
                                    "linlearn's C library (include/linlearn.h)", -1, methods};

PyMODINIT_FUNC PyInit__linlearn(void)
{
    PyObject *m = PyModule_Create(&moddef);
    if (!m)
        return NULL;
    if (PyType_Ready(&ReaderType) < 0 || PyType_Ready(&ModelType) < 0 ||
        PyType_Ready(&ChunkType) < 0)
        return NULL;
    Error = PyErr_NewExceptionWithDoc("linlearn.Error",
                                      "a failure reported by the C library (ll_err)", NULL, NULL);
    if (!Error)
        return NULL;
    static const struct {
        int code;
        const char *name;
        PyObject **base;
    } sub[] = {{LL_E_NOMEM, "linlearn.OutOfMemory", &PyExc_MemoryError},
               {LL_E_IO, "linlearn.IOFailure", &PyExc_OSError},
               {LL_E_PARSE, "linlearn.ParseError", &PyExc_ValueError},
               {LL_E_TOOBIG, "linlearn.TooBig", &PyExc_ValueError},
               {LL_E_ARG, "linlearn.ArgumentError", &PyExc_ValueError},
               {LL_E_REMOTE, "linlearn.RemoteError", &PyExc_OSError},
               {LL_E_STATE, "linlearn.StateError", &PyExc_RuntimeError}};
    PyModule_AddObject(m, "Error", Py_NewRef(Error));
    code_classes[0] = Error;
    for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
        PyObject *bases = PyTuple_Pack(2, Error, *sub[i].base);
        PyObject *cls = bases ? PyErr_NewException(sub[i].name, bases, NULL) : NULL;
        Py_XDECREF(bases);
        if (!cls)
            return NULL;
        code_classes[sub[i].code] = cls;
        PyModule_AddObject(m, strchr(sub[i].name, '.') + 1, Py_NewRef(cls));
    }
    PyModule_AddObject(m, "RioReader", Py_NewRef((PyObject *)&ReaderType));
    PyModule_AddObject(m, "CModel", Py_NewRef((PyObject *)&ModelType));
    PyModule_AddStringConstant(m, "LL_VERSION", LL_VERSION);
    return m;
}
