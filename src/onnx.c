/* SPDX-License-Identifier: Apache-2.0 */
/*
 * onnx.c - `linlearn export --format onnx`: the graph of onnx.h encoded in protobuf's wire
 * format by hand (field numbers from onnx.proto). Each message is built in its own buffer and
 * embedded in its parent as a length-delimited field. ONNX files must stay under 2 GiB.
 */
#include "onnx.h"
#include "err.h"
#include "mem.h"
#include "model.h"
#include <string.h>

#define ONNX_MAX ((size_t)2000 << 20)

typedef struct pbuf {
    unsigned char *p;
    size_t n, cap;
    int nomem;
} pbuf;

static void raw(pbuf *b, const void *p, size_t len)
{
    if (b->nomem || len == 0)
        return;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len)
            cap *= 2;
        unsigned char *q = mem_realloc(b->p, cap);
        if (!q) {
            b->nomem = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, len);
    b->n += len;
}

static void varint(pbuf *b, uint64_t v)
{
    unsigned char t[10];
    int n = 0;
    do {
        t[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            t[n] |= 0x80;
        n++;
    } while (v);
    raw(b, t, (size_t)n);
}

static void f_int(pbuf *b, int field, int64_t v)
{
    varint(b, (uint64_t)field << 3);
    varint(b, (uint64_t)v);
}

static void f_bytes(pbuf *b, int field, const void *p, size_t len)
{
    varint(b, (uint64_t)field << 3 | 2);
    varint(b, len);
    raw(b, p, len);
}

static void f_str(pbuf *b, int field, const char *s)
{
    f_bytes(b, field, s, strlen(s));
}

/* Embeds child as message field `field` of b and frees child. */
static void f_msg(pbuf *b, int field, pbuf *child)
{
    if (child->nomem)
        b->nomem = 1;
    f_bytes(b, field, child->p, child->n);
    mem_free(child->p);
    memset(child, 0, sizeof *child);
}

enum { T_FLOAT = 1, T_BOOL = 9, T_INT64 = 7 };
enum { A_INT = 2 };

/* NodeProto: inputs, outputs (NULL-terminated lists), one optional int attribute. */
static void node(pbuf *g, const char *op, const char *name, const char *const *in,
                 const char *const *out, const char *attr, int64_t aval)
{
    pbuf n = {0};
    for (; *in; in++)
        f_str(&n, 1, *in);
    for (; *out; out++)
        f_str(&n, 2, *out);
    f_str(&n, 3, name);
    f_str(&n, 4, op);
    if (attr) {
        pbuf a = {0};
        f_str(&a, 1, attr);
        f_int(&a, 3, aval);
        f_int(&a, 20, A_INT);
        f_msg(&n, 5, &a);
    }
    f_msg(g, 1, &n);
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

/* TensorProto initializer: float32 or int64 values as raw_data. */
static void tensor(pbuf *g, const char *name, int type, const int64_t *dims, int nd,
                   const void *data, size_t n_vals)
{
    pbuf t = {0};
    for (int i = 0; i < nd; i++)
        f_int(&t, 1, dims[i]);
    f_int(&t, 2, type);
    f_str(&t, 8, name);
    size_t esz = type == T_INT64 ? 8 : 4;
    varint(&t, 9 << 3 | 2);
    varint(&t, n_vals * esz);
    const unsigned char *s = data;
    for (size_t i = 0; i < n_vals; i++, s += esz) {
        unsigned char le[8];
        uint64_t v = 0;
        if (esz == 8) {
            int64_t x;
            memcpy(&x, s, 8);
            v = (uint64_t)x;
        } else {
            uint32_t x;
            memcpy(&x, s, 4);
            v = x;
        }
        for (size_t k = 0; k < esz; k++)
            le[k] = (unsigned char)(v >> (8 * k));
        raw(&t, le, esz);
    }
    f_msg(g, 5, &t);
}

/* ValueInfoProto of a tensor; a dim < 0 is the symbolic batch size "N". */
static void value_info(pbuf *g, int field, const char *name, int type, const int64_t *dims, int nd)
{
    pbuf shape = {0}, tt = {0}, tp = {0}, vi = {0};
    for (int i = 0; i < nd; i++) {
        pbuf d = {0};
        if (dims[i] < 0)
            f_str(&d, 2, "N");
        else
            f_int(&d, 1, dims[i]);
        f_msg(&shape, 1, &d);
    }
    f_int(&tt, 1, type);
    f_msg(&tt, 2, &shape);
    f_msg(&tp, 1, &tt);
    f_str(&vi, 1, name);
    f_msg(&vi, 2, &tp);
    f_msg(g, field, &vi);
}

ll_code onnx_write(const ll_model *m, ll_writer *w, ll_err *err)
{
    const int64_t D = (int64_t)m->feature_dim, C = m->n_out;
    if ((size_t)D * (size_t)C > (ONNX_MAX - 4096) / 4)
        return err_set(err, LL_E_TOOBIG,
                       "%lld x %lld weights do not fit an ONNX file (protobuf's 2 GiB limit)",
                       (long long)D, (long long)C);
    pbuf g = {0};
    node(&g, "MatMul", "matmul", L("features", "W"), L("xw"), NULL, 0);
    node(&g, "Add", "add_bias", L("xw", "B"), L("z"), NULL, 0);
    int label_type = T_INT64;
    switch (m->score) {
    case MODEL_SCORE_SIGMOID:
    case MODEL_SCORE_RAW:
        if (m->score == MODEL_SCORE_SIGMOID)
            node(&g, "Sigmoid", "sigmoid", L("z"), L("score"), NULL, 0);
        else
            node(&g, "Identity", "score", L("z"), L("score"), NULL, 0);
        node(&g, "Greater", "above_threshold", L("score", "threshold"), L("above"), NULL, 0);
        node(&g, "Cast", "to_int64", L("above"), L("label_2d"), "to", T_INT64);
        node(&g, "Reshape", "flatten_label", L("label_2d", "flat"), L("predicted_label"), NULL, 0);
        break;
    case MODEL_SCORE_SOFTMAX:
        node(&g, "Softmax", "softmax", L("z"), L("score"), "axis", 1);
        node(&g, "ArgMax", "argmax", L("z"), L("label_2d"), "axis", 1);
        node(&g, "Reshape", "flatten_label", L("label_2d", "flat"), L("predicted_label"), NULL, 0);
        break;
    case MODEL_SCORE_IDENTITY:
        label_type = T_FLOAT;
        node(&g, "Identity", "score", L("z"), L("score"), NULL, 0);
        node(&g, "Reshape", "flatten_label", L("z", "flat"), L("predicted_label"), NULL, 0);
        break;
    }
    f_str(&g, 2, "linlearn");
    int64_t wd[2] = {D, C}, bd[1] = {C}, one[1] = {1}, minus1 = -1;
    tensor(&g, "W", T_FLOAT, wd, 2, m->w, (size_t)D * (size_t)C);
    tensor(&g, "B", T_FLOAT, bd, 1, m->b, (size_t)C);
    if (m->score == MODEL_SCORE_SIGMOID || m->score == MODEL_SCORE_RAW)
        tensor(&g, "threshold", T_FLOAT, NULL, 0, &m->threshold, 1);
    tensor(&g, "flat", T_INT64, one, 1, &minus1, 1);
    int64_t in[2] = {-1, D}, sc[2] = {-1, C}, lab[1] = {-1};
    value_info(&g, 11, "features", T_FLOAT, in, 2);
    value_info(&g, 12, "score", T_FLOAT, sc, 2);
    value_info(&g, 12, "predicted_label", label_type, lab, 1);

    pbuf mp = {0}, ops = {0}, meta = {0};
    f_int(&mp, 1, 7); /* ir_version 7 goes with opset 13 */
    f_str(&mp, 2, "linlearn");
    f_str(&mp, 3, LL_VERSION);
    f_str(&ops, 1, "");
    f_int(&ops, 2, 13);
    f_msg(&mp, 8, &ops);
    f_msg(&mp, 7, &g);
    const char *keys[3] = {"predictor_type", "loss", "threshold"};
    char th[32];
    ll_f32_to_str(m->threshold, th);
    const char *vals[3] = {ll_predictor_name(m->pred), m->loss ? m->loss : "", th};
    for (int i = 0; i < 3; i++) {
        f_str(&meta, 1, keys[i]);
        f_str(&meta, 2, vals[i]);
        f_msg(&mp, 14, &meta);
    }
    ll_code rc;
    if (mp.nomem)
        rc = err_set(err, LL_E_NOMEM, "out of memory encoding the ONNX model");
    else
        rc = ll_writer_write(w, mp.p, mp.n, err);
    mem_free(mp.p);
    return rc;
}
