/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pb.c - the Record codec against hand-written bytes and against protobuf-c (the oracle
 * generated from tests/record.proto): special float bits, negative int32, unknown fields at
 * every level, map/oneof merge rules, packed and unpacked fields, presence, Bytes, strings,
 * malformed input, and pb_row_to_batch's handling of sparse/dense tensors. Spec sections 4, 6
 * and 8 of recordio-protobuf.md.
 */
#include "pb.h"
#include "record.pb-c.h"
#include "support_pb.h"
#include "tt.h"
#include <math.h>

/* ---- a small protobuf builder ---- */

typedef tsup_buf B;

static void raw(B *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void vi(B *b, uint64_t v)
{
    uint8_t t[10];
    raw(b, t, pb_put_varint(t, v));
}

static void tag(B *b, uint32_t field, int wt)
{
    vi(b, (uint64_t)field << 3 | (uint64_t)wt);
}

/* Appends field `field` (length-delimited) holding sub, and frees sub. */
static void ld(B *b, uint32_t field, B *sub)
{
    tag(b, field, 2);
    vi(b, sub->n);
    raw(b, sub->p, sub->n);
    free(sub->p);
    *sub = (B){0};
}

static void lds(B *b, uint32_t field, const char *s)
{
    tag(b, field, 2);
    vi(b, strlen(s));
    raw(b, s, strlen(s));
}

static void f32s(B *b, const float *v, size_t n)
{
    raw(b, v, 4 * n);
}

/* Unknown fields of all four wire types. */
static void unknowns(B *b, uint32_t base)
{
    tag(b, base, 0);
    vi(b, 0xFFFFFFFFFFFFFFFFull); /* 10-byte varint */
    tag(b, base + 1, 1);
    raw(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    tag(b, base + 2, 2);
    vi(b, 3);
    raw(b, "\x0A\x23\xD7", 3);
    tag(b, base + 3, 5);
    raw(b, "\xFF\xFF\xFF\xFF", 4);
}

static ll_err err;

static int decode(const B *b, pb_record *r)
{
    return pb_decode(b->p ? b->p : (const uint8_t *)"", b->n, r, &err) == LL_OK;
}

/* ---- protobuf-c as the oracle for encoding ---- */

typedef struct {
    Aialgs__Data__Record rec;
    Aialgs__Data__Record__FeaturesEntry *fe;
    Aialgs__Data__Record__LabelEntry *le;
    Aialgs__Data__Record__FeaturesEntry **fp;
    Aialgs__Data__Record__LabelEntry **lp;
    Aialgs__Data__Value *vals;
    Aialgs__Data__Float32Tensor *t32;
    Aialgs__Data__Float64Tensor *t64;
    Aialgs__Data__Int32Tensor *ti;
    Aialgs__Data__Bytes *tb;
    ProtobufCBinaryData *bins;
} pc_rec;

static void pc_value(pc_rec *o, size_t i, const pb_tensor_in *t, Aialgs__Data__Value *v)
{
    aialgs__data__value__init(v);
    switch (t->dtype) {
    case PB_F32:
        aialgs__data__float32_tensor__init(&o->t32[i]);
        o->t32[i].n_values = t->n_values;
        o->t32[i].values = (float *)t->values;
        o->t32[i].n_keys = t->n_keys;
        o->t32[i].keys = (uint64_t *)t->keys;
        o->t32[i].n_shape = t->n_shape;
        o->t32[i].shape = (uint64_t *)t->shape;
        v->value_case = AIALGS__DATA__VALUE__VALUE_FLOAT32_TENSOR;
        v->float32_tensor = &o->t32[i];
        break;
    case PB_F64:
        aialgs__data__float64_tensor__init(&o->t64[i]);
        o->t64[i].n_values = t->n_values;
        o->t64[i].values = (double *)t->values;
        o->t64[i].n_keys = t->n_keys;
        o->t64[i].keys = (uint64_t *)t->keys;
        o->t64[i].n_shape = t->n_shape;
        o->t64[i].shape = (uint64_t *)t->shape;
        v->value_case = AIALGS__DATA__VALUE__VALUE_FLOAT64_TENSOR;
        v->float64_tensor = &o->t64[i];
        break;
    case PB_I32:
        aialgs__data__int32_tensor__init(&o->ti[i]);
        o->ti[i].n_values = t->n_values;
        o->ti[i].values = (int32_t *)t->values;
        o->ti[i].n_keys = t->n_keys;
        o->ti[i].keys = (uint64_t *)t->keys;
        o->ti[i].n_shape = t->n_shape;
        o->ti[i].shape = (uint64_t *)t->shape;
        v->value_case = AIALGS__DATA__VALUE__VALUE_INT32_TENSOR;
        v->int32_tensor = &o->ti[i];
        break;
    case PB_BYTES: {
        aialgs__data__bytes__init(&o->tb[i]);
        const pb_seg *items = t->values;
        ProtobufCBinaryData *bins = o->bins + 8 * i;
        for (size_t k = 0; k < t->n_values && k < 8; k++)
            bins[k] = (ProtobufCBinaryData){items[k].len, (uint8_t *)items[k].p};
        o->tb[i].n_value = t->n_values;
        o->tb[i].value = bins;
        o->tb[i].content_type = (char *)t->content_type;
        v->value_case = AIALGS__DATA__VALUE__VALUE_BYTES;
        v->bytes = &o->tb[i];
        break;
    }
    case PB_NONE:
        break;
    }
}

/* Packs the record with protobuf-c; returns malloc'd bytes. */
static uint8_t *pc_pack(const pb_record_in *in, size_t *len)
{
    pc_rec o;
    size_t n = in->n_feat + in->n_lab + 1;
    o.fe = calloc(n, sizeof *o.fe);
    o.le = calloc(n, sizeof *o.le);
    o.fp = calloc(n, sizeof *o.fp);
    o.lp = calloc(n, sizeof *o.lp);
    o.vals = calloc(n, sizeof *o.vals);
    o.t32 = calloc(n, sizeof *o.t32);
    o.t64 = calloc(n, sizeof *o.t64);
    o.ti = calloc(n, sizeof *o.ti);
    o.tb = calloc(n, sizeof *o.tb);
    o.bins = calloc(8 * n, sizeof *o.bins);
    aialgs__data__record__init(&o.rec);
    for (size_t i = 0; i < in->n_feat; i++) {
        aialgs__data__record__features_entry__init(&o.fe[i]);
        o.fe[i].key = (char *)in->feat[i].name;
        pc_value(&o, i, &in->feat[i].t, &o.vals[i]);
        o.fe[i].value = &o.vals[i];
        o.fp[i] = &o.fe[i];
    }
    for (size_t i = 0; i < in->n_lab; i++) {
        size_t j = in->n_feat + i;
        aialgs__data__record__label_entry__init(&o.le[i]);
        o.le[i].key = (char *)in->lab[i].name;
        pc_value(&o, j, &in->lab[i].t, &o.vals[j]);
        o.le[i].value = &o.vals[j];
        o.lp[i] = &o.le[i];
    }
    o.rec.n_features = in->n_feat;
    o.rec.features = o.fp;
    o.rec.n_label = in->n_lab;
    o.rec.label = o.lp;
    o.rec.uid = (char *)in->uid;
    o.rec.metadata = (char *)in->metadata;
    o.rec.configuration = (char *)in->configuration;
    *len = aialgs__data__record__get_packed_size(&o.rec);
    uint8_t *out = malloc(*len + 1);
    aialgs__data__record__pack(&o.rec, out);
    free(o.fe);
    free(o.le);
    free(o.fp);
    free(o.lp);
    free(o.vals);
    free(o.t32);
    free(o.t64);
    free(o.ti);
    free(o.tb);
    free(o.bins);
    return out;
}

/* pb_encode and protobuf-c produce the same bytes, and pb_decode reads them back. */
static int encode_check(const pb_record_in *in, uint8_t **enc, size_t *enc_len)
{
    size_t n = pb_encoded_size(in), pn;
    uint8_t *mine = malloc(n + 1);
    size_t w = pb_encode(in, mine);
    uint8_t *theirs = pc_pack(in, &pn);
    int ok = w == n && pn == n && memcmp(mine, theirs, n) == 0;
    if (!ok) {
        fprintf(stderr, "  pb_encode %zu bytes (size said %zu), protobuf-c %zu bytes\n", w, n, pn);
        for (size_t i = 0; i < n && i < pn; i++)
            if (mine[i] != theirs[i]) {
                fprintf(stderr, "  first difference at byte %zu: %02X vs %02X\n", i, mine[i],
                        theirs[i]);
                break;
            }
    }
    free(theirs);
    if (enc) {
        *enc = mine;
        *enc_len = n;
    } else {
        free(mine);
    }
    return ok;
}

/* ---- tests ---- */

static void special_float_bits(void)
{
    static const uint32_t b32[] = {0x7FC00001, 0xFFC12345, 0x7F800000, 0xFF800000, 0x80000000,
                                   0x00000001, 0x007FFFFF, 0x00000000, 0x7F7FFFFF, 0xCED7230A};
    static const uint64_t b64[] = {0x7FF8000000000123ull, 0xFFF0000000000000ull,
                                   0x7FF0000000000000ull, 0x8000000000000000ull,
                                   0x0000000000000001ull, 0x000FFFFFFFFFFFFFull};
    float f[10];
    double d[6];
    memcpy(f, b32, sizeof f);
    memcpy(d, b64, sizeof d);
    pb_entry_in fe = {"values", {PB_F32, f, 10, NULL, 0, NULL, 0, NULL}};
    pb_entry_in le = {"values", {PB_F64, d, 6, NULL, 0, NULL, 0, NULL}};
    pb_record_in in = {&fe, 1, &le, 1, NULL, NULL, NULL};
    uint8_t *enc;
    size_t n;
    CHECK(encode_check(&in, &enc, &n));
    pb_record r;
    pb_record_init(&r);
    CHECK_OK(pb_decode(enc, n, &r, &err));
    const pb_entry *e = pb_find(&r, 0, "values");
    CHECK(e && e->t.dtype == PB_F32 && e->t.n_values == 10);
    uint32_t g32[10];
    pb_values_raw(&r, &e->t, g32);
    CHECK(memcmp(g32, b32, sizeof g32) == 0);
    e = pb_find(&r, 1, "values");
    CHECK(e && e->t.dtype == PB_F64 && e->t.n_values == 6);
    uint64_t g64[6];
    pb_values_raw(&r, &e->t, g64);
    CHECK(memcmp(g64, b64, sizeof g64) == 0);
    double dd[6];
    pb_values_f64(&r, &e->t, dd);
    CHECK(memcmp(dd, b64, sizeof dd) == 0);
    /* the parser keeps float32 bits (NaN payloads included) */
    ll_batch b;
    ll_batch_init(&b);
    CHECK_OK(pb_row_to_batch(&r, &b, &err));
    CHECK(b.n_rows == 1 && b.off[1] == 10 && memcmp(b.val, b32, sizeof b32) == 0);
    CHECK(b.loff[1] == 6 && isnan(b.label[0]) && isinf(b.label[1]) && b.label[1] < 0);
    CHECK(signbit(b.label[3]) && b.label[3] == 0 && b.label[4] == 0); /* -0.0; 5e-324 -> 0 */
    ll_batch_deinit(&b);
    pb_record_deinit(&r);
    free(enc);
}

static void negative_int32(void)
{
    int32_t v[] = {-1, INT32_MIN, INT32_MAX, 0, 127, 128, -128};
    int32_t lab[] = {-3};
    pb_entry_in fe = {"values", {PB_I32, v, 7, NULL, 0, NULL, 0, NULL}};
    pb_entry_in le = {"values", {PB_I32, lab, 1, NULL, 0, NULL, 0, NULL}};
    pb_record_in in = {&fe, 1, &le, 1, NULL, NULL, NULL};
    uint8_t *enc;
    size_t n;
    CHECK(encode_check(&in, &enc, &n));
    /* -1 is ten bytes FF .. FF 01 (64-bit sign extension), as the SDK writes it */
    static const uint8_t m1[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    int found = 0;
    for (size_t i = 0; i + 10 <= n; i++)
        found |= memcmp(enc + i, m1, 10) == 0;
    CHECK(found);
    pb_record r;
    pb_record_init(&r);
    CHECK_OK(pb_decode(enc, n, &r, &err));
    const pb_entry *e = pb_find(&r, 0, "values");
    CHECK(e && e->t.dtype == PB_I32 && e->t.n_values == 7);
    int32_t g[7];
    pb_values_raw(&r, &e->t, g);
    CHECK(memcmp(g, v, sizeof g) == 0);
    ll_batch b;
    ll_batch_init(&b);
    CHECK_OK(pb_row_to_batch(&r, &b, &err));
    CHECK(b.val[0] == -1.0f && b.val[1] == -2147483648.0f && b.label[0] == -3.0f);
    ll_batch_deinit(&b);
    /* a 5-byte varint (no sign extension) also means -1: the low 32 bits count */
    B m = {0}, t = {0}, val = {0}, ent = {0};
    tag(&t, 1, 2);
    vi(&t, 5);
    raw(&t, "\xFF\xFF\xFF\xFF\x0F", 5);
    ld(&val, 7, &t);
    lds(&ent, 1, "values");
    ld(&ent, 2, &val);
    ld(&m, 1, &ent);
    CHECK(decode(&m, &r));
    e = pb_find(&r, 0, "values");
    CHECK(e && e->t.n_values == 1);
    pb_values_raw(&r, &e->t, g);
    CHECK(g[0] == -1);
    free(m.p);
    pb_record_deinit(&r);
    free(enc);
}

/* pb_encode matches protobuf-c byte for byte on assorted records. */
static void encode_matches_protobuf_c(void)
{
    float v3[] = {1.5f, -2.0f, 0.25f};
    double d2[] = {1e300, -1e-300};
    int32_t i2[] = {4, -4};
    uint64_t k3[] = {0, 3, 9}, sh1[] = {10}, sh2[] = {3, 4}, kbig[] = {1ull << 40, 300, 127};
    pb_seg items[] = {{(const uint8_t *)"abc", 3, 1}, {(const uint8_t *)"", 0, 1}};
    float lab = 1;
    float many[300];
    for (int i = 0; i < 300; i++)
        many[i] = (float)i / 3;
    pb_entry_in fx[][3] = {
        {{"values", {PB_F32, v3, 3, NULL, 0, NULL, 0, NULL}}},
        {{"values", {PB_F32, v3, 3, k3, 3, sh1, 1, NULL}}},
        {{"values", {PB_F32, NULL, 0, NULL, 0, sh1, 1, NULL}}},   /* all-zero sparse row */
        {{"values", {PB_F32, NULL, 0, NULL, 0, NULL, 0, NULL}}},  /* present, empty */
        {{"values", {PB_NONE, NULL, 0, NULL, 0, NULL, 0, NULL}}}, /* Value without member */
        {{"values", {PB_F64, d2, 2, NULL, 0, sh2, 2, NULL}}},
        {{"values", {PB_I32, i2, 2, kbig, 2, sh2, 2, NULL}}},
        {{"values", {PB_BYTES, items, 2, NULL, 0, NULL, 0, "text/plain"}}},
        {{"values", {PB_BYTES, items, 1, NULL, 0, NULL, 0, NULL}}},
        {{"values", {PB_F32, many, 300, NULL, 0, NULL, 0, NULL}},
         {"extra", {PB_F64, d2, 1, NULL, 0, NULL, 0, NULL}},
         {"", {PB_I32, i2, 2, NULL, 0, NULL, 0, NULL}}},
    };
    size_t nfx[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 3};
    pb_entry_in le = {"values", {PB_F32, &lab, 1, NULL, 0, NULL, 0, NULL}};
    for (size_t c = 0; c < sizeof nfx / sizeof *nfx; c++) {
        for (int variant = 0; variant < 3; variant++) {
            pb_record_in in = {fx[c], nfx[c], &le, variant == 1 ? 0 : 1, NULL, NULL, NULL};
            if (variant == 2) {
                in.uid = "id-7";
                in.metadata = "{\"k\": 1}";
                in.configuration = "";
            }
            CHECKF(encode_check(&in, NULL, NULL), "case %zu variant %d", c, variant);
        }
    }
    /* the spec's worked example (section 7.1) */
    float f71[] = {39.0f, -30.75f, -19.875f};
    int32_t l71 = 0;
    pb_entry_in fe71 = {"values", {PB_F32, f71, 3, NULL, 0, NULL, 0, NULL}};
    pb_entry_in le71 = {"values", {PB_I32, &l71, 1, NULL, 0, NULL, 0, NULL}};
    pb_record_in in71 = {&fe71, 1, &le71, 1, NULL, NULL, NULL};
    static const uint8_t want71[] = {
        0x0A, 0x1A, 0x0A, 0x06, 'v',  'a',  'l',  'u',  'e',  's',  0x12, 0x10, 0x12, 0x0E, 0x0A,
        0x0C, 0x00, 0x00, 0x1C, 0x42, 0x00, 0x00, 0xF6, 0xC1, 0x00, 0x00, 0x9F, 0xC1, 0x12, 0x0F,
        0x0A, 0x06, 'v',  'a',  'l',  'u',  'e',  's',  0x12, 0x05, 0x3A, 0x03, 0x0A, 0x01, 0x00};
    uint8_t out[64];
    CHECK(pb_encoded_size(&in71) == sizeof want71);
    CHECK(pb_encode(&in71, out) == sizeof want71 && memcmp(out, want71, sizeof want71) == 0);
}

/* Builds features["values"] = float32 tensor {values, keys [2, 0], shape [5]} with unknown
 * fields at every level when `noise`, optionally with the MapEntry's value before its key. */
static void build_noisy(B *m, int noise, int value_first)
{
    float v[] = {1.0f, -2.5f};
    B t = {0}, val = {0}, ent = {0}, lent = {0}, lval = {0}, lt = {0}, bytes = {0};
    if (noise)
        unknowns(&t, 4);
    tag(&t, 1, 2);
    vi(&t, 8);
    f32s(&t, v, 2);
    if (noise)
        unknowns(&t, 100);
    tag(&t, 2, 2);
    vi(&t, 2);
    raw(&t, "\x02\x00", 2);
    tag(&t, 3, 2);
    vi(&t, 1);
    raw(&t, "\x05", 1);
    if (noise)
        unknowns(&t, 1000);
    if (noise)
        unknowns(&val, 10); /* 10..13: none is a Value member */
    ld(&val, 2, &t);
    if (noise)
        unknowns(&val, 20);
    if (noise)
        unknowns(&ent, 3);
    if (value_first) {
        ld(&ent, 2, &val);
        lds(&ent, 1, "values");
    } else {
        lds(&ent, 1, "values");
        ld(&ent, 2, &val);
    }
    if (noise)
        unknowns(&ent, 300000);
    /* label: Bytes with noise */
    if (noise)
        unknowns(&bytes, 3);
    lds(&bytes, 1, "raw");
    lds(&bytes, 2, "application/x-thing");
    if (noise)
        unknowns(&bytes, 7);
    ld(&lval, 9, &bytes);
    (void)lt;
    lds(&lent, 1, "blob");
    ld(&lent, 2, &lval);
    if (noise)
        unknowns(m, 6);
    ld(m, 1, &ent);
    if (noise)
        unknowns(m, 10);
    ld(m, 2, &lent);
    lds(m, 3, "u1");
    if (noise)
        unknowns(m, 536870900); /* field numbers near 2^29 */
}

static int same_content(const pb_record *a, const pb_record *b)
{
    if (a->n_feat != b->n_feat || a->n_lab != b->n_lab)
        return 0;
    for (int which = 0; which < 2; which++) {
        size_t n = which ? a->n_lab : a->n_feat;
        const pb_entry *ea = which ? a->lab : a->feat;
        for (size_t i = 0; i < n; i++) {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)ea[i].name_len, (const char *)ea[i].name);
            const pb_entry *eb = pb_find(b, which, name);
            if (!eb)
                return 0;
            const pb_tensor *x = &ea[i].t, *y = &eb->t;
            if (x->dtype != y->dtype || x->n_values != y->n_values || x->n_keys != y->n_keys ||
                x->n_shape != y->n_shape || x->present != y->present)
                return 0;
            if (x->dtype == PB_BYTES) {
                for (size_t k = 0; k < x->n_values; k++) {
                    const pb_seg *p = pb_bytes_item(a, x, 1, k), *q = pb_bytes_item(b, y, 1, k);
                    if (p->len != q->len || memcmp(p->p, q->p, p->len))
                        return 0;
                }
                const pb_seg *p = pb_bytes_item(a, x, 2, 0), *q = pb_bytes_item(b, y, 2, 0);
                if (!p != !q || (p && (p->len != q->len || memcmp(p->p, q->p, p->len))))
                    return 0;
                continue;
            }
            uint64_t va[64], vb[64];
            if (x->n_values > 64 || x->n_keys > 64 || x->n_shape > 64)
                return 0;
            pb_values_raw(a, x, va);
            pb_values_raw(b, y, vb);
            if (memcmp(va, vb, x->n_values * (x->dtype == PB_F64 ? 8 : 4)))
                return 0;
            pb_u64s(a, x, 2, va);
            pb_u64s(b, y, 2, vb);
            if (memcmp(va, vb, 8 * x->n_keys))
                return 0;
            pb_u64s(a, x, 3, va);
            pb_u64s(b, y, 3, vb);
            if (memcmp(va, vb, 8 * x->n_shape))
                return 0;
        }
    }
    const pb_str *sa[3] = {&a->uid, &a->metadata, &a->configuration};
    const pb_str *sb[3] = {&b->uid, &b->metadata, &b->configuration};
    for (int i = 0; i < 3; i++)
        if (sa[i]->set != sb[i]->set || sa[i]->len != sb[i]->len ||
            (sa[i]->len && memcmp(sa[i]->p, sb[i]->p, sa[i]->len)))
            return 0;
    return 1;
}

static void unknown_fields_everywhere(void)
{
    B clean = {0}, noisy = {0}, swapped = {0};
    build_noisy(&clean, 0, 0);
    build_noisy(&noisy, 1, 0);
    build_noisy(&swapped, 1, 1);
    pb_record a, b, c;
    pb_record_init(&a);
    pb_record_init(&b);
    pb_record_init(&c);
    CHECK(decode(&clean, &a));
    CHECK(decode(&noisy, &b));
    CHECK(decode(&swapped, &c));
    CHECK(noisy.n > clean.n + 100);
    CHECK(same_content(&a, &b) && same_content(&a, &c));
    const pb_entry *e = pb_find(&b, 0, "values");
    CHECK(e && e->t.dtype == PB_F32 && e->t.n_values == 2 && e->t.n_keys == 2 && e->t.n_shape == 1);
    uint64_t k[2];
    pb_u64s(&b, &e->t, 2, k);
    CHECK(k[0] == 2 && k[1] == 0);
    e = pb_find(&b, 1, "blob");
    CHECK(e && e->t.dtype == PB_BYTES && e->t.n_values == 1);
    const pb_seg *ct = pb_bytes_item(&b, &e->t, 2, 0);
    CHECK(ct && ct->len == 19 && memcmp(ct->p, "application/x-thing", 19) == 0);
    CHECK(b.uid.set && b.uid.len == 2 && !b.metadata.set);
    /* the oracle agrees that the noisy message holds the same record */
    Aialgs__Data__Record *m = aialgs__data__record__unpack(NULL, noisy.n, noisy.p);
    CHECK(m && m->n_features == 1 && m->features[0]->value->float32_tensor->n_values == 2 &&
          m->n_label == 1 && strcmp(m->uid, "u1") == 0);
    aialgs__data__record__free_unpacked(m, NULL);
    pb_record_deinit(&a);
    pb_record_deinit(&b);
    pb_record_deinit(&c);
    free(clean.p);
    free(noisy.p);
    free(swapped.p);
}

/* Helpers for one-entry records. */
static void entry_f32(B *m, uint32_t map, const char *key, const float *v, size_t n)
{
    B t = {0}, val = {0}, ent = {0};
    if (n) {
        tag(&t, 1, 2);
        vi(&t, 4 * n);
        f32s(&t, v, n);
    }
    ld(&val, 2, &t);
    lds(&ent, 1, key);
    ld(&ent, 2, &val);
    ld(m, map, &ent);
}

static void extra_entries_strings_labels(void)
{
    float a[] = {1, 2, 3}, w[] = {0.5f}, l2[] = {1, -1};
    B m = {0};
    entry_f32(&m, 1, "values", a, 3);
    entry_f32(&m, 1, "extra1", w, 1);
    entry_f32(&m, 1, "extra2", a, 2);
    entry_f32(&m, 2, "values", l2, 2); /* a 2-element label */
    entry_f32(&m, 2, "weight", w, 1);
    lds(&m, 3, "first-uid");
    lds(&m, 4, "meta");
    lds(&m, 5, "{\"top_k\": 3}");
    lds(&m, 3, "second-uid"); /* optional scalar: last one wins */
    pb_record r;
    pb_record_init(&r);
    CHECK(decode(&m, &r));
    CHECK(r.n_feat == 3 && r.n_lab == 2);
    CHECK(pb_find(&r, 0, "extra1") && pb_find(&r, 0, "extra2")->t.n_values == 2);
    CHECK(pb_find(&r, 1, "weight") && !pb_find(&r, 0, "weight"));
    CHECK(r.uid.set && r.uid.len == 10 && memcmp(r.uid.p, "second-uid", 10) == 0);
    CHECK(r.metadata.set && r.metadata.len == 4);
    CHECK(r.configuration.set && r.configuration.len == 12);
    ll_batch b;
    ll_batch_init(&b);
    CHECK_OK(pb_row_to_batch(&r, &b, &err));
    CHECK(b.off[1] == 3 && b.dim[0] == 3 && !b.sparse[0]);
    CHECK(b.loff[1] == 2 && b.label[0] == 1 && b.label[1] == -1);
    ll_batch_deinit(&b);
    pb_record_deinit(&r);
    free(m.p);
}

static void bytes_values(void)
{
    B m = {0}, bt = {0}, val = {0}, ent = {0};
    lds(&bt, 1, "first");
    lds(&bt, 2, "text/a");
    lds(&bt, 1, "");
    tag(&bt, 1, 2); /* an item holding a NUL byte */
    vi(&bt, 2);
    raw(&bt, "\x00\x01", 2);
    lds(&bt, 2, "text/b"); /* last content_type wins */
    ld(&val, 9, &bt);
    lds(&ent, 1, "values");
    ld(&ent, 2, &val);
    ld(&m, 1, &ent);
    pb_record r;
    pb_record_init(&r);
    CHECK(decode(&m, &r));
    const pb_entry *e = pb_find(&r, 0, "values");
    CHECK(e && e->t.dtype == PB_BYTES && e->t.present && e->t.n_values == 3);
    const pb_seg *s0 = pb_bytes_item(&r, &e->t, 1, 0), *s1 = pb_bytes_item(&r, &e->t, 1, 1),
                 *s2 = pb_bytes_item(&r, &e->t, 1, 2), *ct = pb_bytes_item(&r, &e->t, 2, 0);
    CHECK(s0 && s0->len == 5 && memcmp(s0->p, "first", 5) == 0);
    CHECK(s1 && s1->len == 0);
    CHECK(s2 && s2->len == 2 && s2->p[0] == 0 && s2->p[1] == 1);
    CHECK(!pb_bytes_item(&r, &e->t, 1, 3));
    CHECK(ct && ct->len == 6 && memcmp(ct->p, "text/b", 6) == 0);
    /* training cannot use Bytes features: the parser refuses them with a message */
    ll_batch b;
    ll_batch_init(&b);
    CHECK(pb_row_to_batch(&r, &b, &err) == LL_E_PARSE && strstr(err.msg, "Bytes"));
    CHECK(b.n_rows == 0);
    ll_batch_deinit(&b);
    pb_record_deinit(&r);
    free(m.p);
}

static void duplicate_keys_and_oneof(void)
{
    float a[] = {1, 2}, c[] = {9};
    pb_record r;
    pb_record_init(&r);
    /* duplicate map keys: the later entry replaces the earlier one */
    B m = {0};
    entry_f32(&m, 1, "values", a, 2);
    entry_f32(&m, 1, "other", c, 1);
    entry_f32(&m, 1, "values", c, 1);
    CHECK(decode(&m, &r));
    CHECK(r.n_feat == 2);
    const pb_entry *e = pb_find(&r, 0, "values");
    CHECK(e && e->t.n_values == 1);
    float g[4];
    pb_values_f32(&r, &e->t, g);
    CHECK(g[0] == 9);
    free(m.p);
    m = (B){0};
    /* oneof: f32 -> int32 -> f64; the last member seen wins */
    B t = {0}, val = {0}, ent = {0};
    tag(&t, 1, 2);
    vi(&t, 8);
    f32s(&t, a, 2);
    ld(&val, 2, &t);
    tag(&t, 1, 0);
    vi(&t, 5);
    ld(&val, 7, &t);
    tag(&t, 1, 1);
    double d = 2.5;
    raw(&t, &d, 8);
    ld(&val, 3, &t);
    lds(&ent, 1, "values");
    ld(&ent, 2, &val);
    ld(&m, 1, &ent);
    CHECK(decode(&m, &r));
    e = pb_find(&r, 0, "values");
    CHECK(e && e->t.dtype == PB_F64 && e->t.n_values == 1);
    double gd;
    pb_values_f64(&r, &e->t, &gd);
    CHECK(gd == 2.5);
    free(m.p);
    m = (B){0};
    /* f32 -> int32 -> f32: the first f32 is gone */
    tag(&t, 1, 2);
    vi(&t, 8);
    f32s(&t, a, 2);
    ld(&val, 2, &t);
    tag(&t, 1, 0);
    vi(&t, 5);
    ld(&val, 7, &t);
    tag(&t, 1, 5);
    f32s(&t, c, 1);
    ld(&val, 2, &t);
    lds(&ent, 1, "values");
    ld(&ent, 2, &val);
    ld(&m, 1, &ent);
    CHECK(decode(&m, &r));
    e = pb_find(&r, 0, "values");
    CHECK(e && e->t.dtype == PB_F32 && e->t.n_values == 1);
    pb_values_f32(&r, &e->t, g);
    CHECK(g[0] == 9);
    free(m.p);
    m = (B){0};
    /* the same member twice in one Value merges (repeated fields appended) */
    tag(&t, 1, 2);
    vi(&t, 8);
    f32s(&t, a, 2);
    ld(&val, 2, &t);
    tag(&t, 1, 5);
    f32s(&t, c, 1);
    tag(&t, 2, 2);
    vi(&t, 3);
    raw(&t, "\x00\x01\x02", 3);
    tag(&t, 3, 0);
    vi(&t, 7);
    ld(&val, 2, &t);
    lds(&ent, 1, "values");
    ld(&ent, 2, &val);
    ld(&m, 1, &ent);
    CHECK(decode(&m, &r));
    e = pb_find(&r, 0, "values");
    CHECK(e && e->t.dtype == PB_F32 && e->t.n_values == 3 && e->t.n_keys == 3 && e->t.n_shape == 1);
    pb_values_f32(&r, &e->t, g);
    CHECK(g[0] == 1 && g[1] == 2 && g[2] == 9);
    free(m.p);
    m = (B){0};
    /* the MapEntry's value field twice: the Values merge (f32 [1,2] + f32 [9]); an empty
     * Value after them changes nothing */
    tag(&t, 1, 2);
    vi(&t, 8);
    f32s(&t, a, 2);
    ld(&val, 2, &t);
    lds(&ent, 1, "values");
    ld(&ent, 2, &val);
    tag(&t, 1, 5);
    f32s(&t, c, 1);
    ld(&val, 2, &t);
    ld(&ent, 2, &val);
    ld(&ent, 2, &val); /* empty Value */
    ld(&m, 1, &ent);
    CHECK(decode(&m, &r));
    e = pb_find(&r, 0, "values");
    CHECK(e && e->t.dtype == PB_F32 && e->t.n_values == 3);
    pb_values_f32(&r, &e->t, g);
    CHECK(g[0] == 1 && g[1] == 2 && g[2] == 9);
    free(m.p);
    pb_record_deinit(&r);
}

static void packed_unpacked_presence(void)
{
    float a[] = {1, 2, 3, 4};
    pb_record r;
    pb_record_init(&r);
    /* unpacked floats, packed + unpacked keys and shape, in order */
    B m = {0}, t = {0}, val = {0}, ent = {0};
    tag(&t, 1, 5);
    f32s(&t, a, 1);
    tag(&t, 2, 0);
    vi(&t, 300);
    tag(&t, 1, 2);
    vi(&t, 8);
    f32s(&t, a + 1, 2);
    tag(&t, 2, 2);
    vi(&t, 2);
    raw(&t, "\x07\x01", 2);
    tag(&t, 1, 5);
    f32s(&t, a + 3, 1);
    tag(&t, 3, 0);
    vi(&t, 1000);
    ld(&val, 2, &t);
    lds(&ent, 1, "values");
    ld(&ent, 2, &val);
    ld(&m, 1, &ent);
    CHECK(decode(&m, &r));
    const pb_entry *e = pb_find(&r, 0, "values");
    CHECK(e && e->t.n_values == 4 && e->t.n_keys == 3 && e->t.n_shape == 1);
    float g[4];
    uint64_t k[3], s;
    pb_values_f32(&r, &e->t, g);
    pb_u64s(&r, &e->t, 2, k);
    pb_u64s(&r, &e->t, 3, &s);
    CHECK(memcmp(g, a, sizeof g) == 0 && k[0] == 300 && k[1] == 7 && k[2] == 1 && s == 1000);
    /* oracle agrees */
    Aialgs__Data__Record *pm = aialgs__data__record__unpack(NULL, m.n, m.p);
    CHECK(pm && pm->features[0]->value->float32_tensor->n_keys == 3 &&
          pm->features[0]->value->float32_tensor->keys[0] == 300);
    aialgs__data__record__free_unpacked(pm, NULL);
    free(m.p);
    m = (B){0};
    /* unpacked doubles (wire type 1) and int32 (wire type 0) */
    double d = -0.5;
    tag(&t, 1, 1);
    raw(&t, &d, 8);
    tag(&t, 1, 1);
    raw(&t, &d, 8);
    ld(&val, 3, &t);
    lds(&ent, 1, "values");
    ld(&ent, 2, &val);
    ld(&m, 1, &ent);
    tag(&t, 1, 0);
    vi(&t, (uint64_t)(int64_t)-7);
    tag(&t, 1, 0);
    vi(&t, 7);
    ld(&val, 7, &t);
    lds(&ent, 1, "values");
    ld(&ent, 2, &val);
    ld(&m, 2, &ent);
    CHECK(decode(&m, &r));
    e = pb_find(&r, 0, "values");
    CHECK(e && e->t.dtype == PB_F64 && e->t.n_values == 2);
    e = pb_find(&r, 1, "values");
    int32_t iv[2];
    CHECK(e && e->t.dtype == PB_I32 && e->t.n_values == 2);
    pb_values_raw(&r, &e->t, iv);
    CHECK(iv[0] == -7 && iv[1] == 7);
    free(m.p);
    m = (B){0};
    /* zero-length packed fields: present tensor, no elements */
    tag(&t, 1, 2);
    vi(&t, 0);
    tag(&t, 2, 2);
    vi(&t, 0);
    tag(&t, 3, 2);
    vi(&t, 0);
    ld(&val, 2, &t);
    lds(&ent, 1, "values");
    ld(&ent, 2, &val);
    ld(&m, 1, &ent);
    CHECK(decode(&m, &r));
    e = pb_find(&r, 0, "values");
    CHECK(e && e->t.dtype == PB_F32 && e->t.present && e->t.n_values == 0 && e->t.n_keys == 0 &&
          e->t.n_shape == 0);
    ll_batch b;
    ll_batch_init(&b);
    CHECK_OK(pb_row_to_batch(&r, &b, &err));
    CHECK(b.n_rows == 1 && b.off[1] == 0 && b.dim[0] == 0 && !b.sparse[0]);
    ll_batch_deinit(&b);
    free(m.p);
    m = (B){0};
    /* present-but-empty tensor vs Value without member vs no entry */
    B e1 = {0}, e2 = {0}, v1 = {0}, v2 = {0}, tt = {0};
    ld(&v1, 2, &tt); /* Value { float32_tensor {} } : 12 00 */
    lds(&e1, 1, "a");
    ld(&e1, 2, &v1);
    ld(&m, 1, &e1);
    lds(&e2, 1, "b");
    ld(&e2, 2, &v2); /* Value {} */
    ld(&m, 1, &e2);
    B e3 = {0};
    lds(&e3, 1, "c"); /* no value at all */
    ld(&m, 1, &e3);
    CHECK(decode(&m, &r));
    CHECK(r.n_feat == 3);
    const pb_entry *ea = pb_find(&r, 0, "a"), *eb = pb_find(&r, 0, "b"), *ec = pb_find(&r, 0, "c");
    CHECK(ea && ea->t.dtype == PB_F32 && ea->t.present && ea->t.n_values == 0);
    CHECK(eb && eb->t.dtype == PB_NONE && !eb->t.present);
    CHECK(ec && ec->t.dtype == PB_NONE && !ec->t.present);
    CHECK(!pb_find(&r, 0, "values") && !pb_find(&r, 0, "d"));
    /* a row needs features["values"] */
    ll_batch_init(&b);
    CHECK(pb_row_to_batch(&r, &b, &err) == LL_E_PARSE && strstr(err.msg, "values"));
    ll_batch_deinit(&b);
    free(m.p);
    m = (B){0};
    /* a MapEntry without key means key "" */
    B e4 = {0}, v4 = {0}, t4 = {0};
    tag(&t4, 1, 5);
    f32s(&t4, a, 1);
    ld(&v4, 2, &t4);
    ld(&e4, 2, &v4);
    ld(&m, 1, &e4);
    CHECK(decode(&m, &r));
    CHECK(r.n_feat == 1 && pb_find(&r, 0, "") && pb_find(&r, 0, "")->t.n_values == 1);
    free(m.p);
    /* the empty message is an empty Record */
    m = (B){0};
    CHECK(decode(&m, &r) && r.n_feat == 0 && r.n_lab == 0 && !r.uid.set);
    pb_record_deinit(&r);
}

/* A one-row record with features["values"] = tensor (dtype, values, keys, shape). */
static int row_of(pb_dtype dt, const void *v, size_t nv, const uint64_t *k, size_t nk,
                  const uint64_t *s, size_t ns, ll_batch *b, ll_code *rc)
{
    pb_entry_in fe = {"values", {dt, v, nv, k, nk, s, ns, NULL}};
    pb_record_in in = {&fe, 1, NULL, 0, NULL, NULL, NULL};
    uint8_t buf[512];
    size_t n = pb_encode(&in, buf);
    pb_record r;
    pb_record_init(&r);
    int ok = pb_decode(buf, n, &r, &err) == LL_OK;
    ll_batch_clear(b);
    *rc = ok ? pb_row_to_batch(&r, b, &err) : LL_E_STATE;
    pb_record_deinit(&r);
    return ok;
}

static void row_to_batch_rules(void)
{
    ll_batch b;
    ll_batch_init(&b);
    ll_code rc;
    float v[] = {0.0f, 1.5f, 0.0f, 2.0f, 3.0f, 4.0f};
    uint64_t unsorted[] = {7, 2, 5}, sh10[] = {10}, sh34[] = {3, 4}, sh23[] = {2, 3};
    /* unsorted keys and explicit zeros are kept as they are */
    CHECK(row_of(PB_F32, v, 3, unsorted, 3, sh10, 1, &b, &rc) && rc == LL_OK);
    CHECK(b.n_rows == 1 && b.sparse[0] && b.dim[0] == 10 && b.off[1] == 3);
    CHECK(b.idx[0] == 7 && b.idx[1] == 2 && b.idx[2] == 5);
    CHECK(b.val[0] == 0 && b.val[1] == 1.5f && b.val[2] == 0);
    /* sparse without shape */
    CHECK(row_of(PB_F32, v, 3, unsorted, 3, NULL, 0, &b, &rc) && rc == LL_E_PARSE);
    CHECK(strstr(err.msg, "shape") && b.n_rows == 0);
    /* key >= product of the shape */
    uint64_t k12[] = {1, 12};
    CHECK(row_of(PB_F32, v, 2, k12, 2, sh34, 2, &b, &rc) && rc == LL_E_PARSE);
    CHECK(strstr(err.msg, "12"));
    uint64_t k11[] = {1, 11};
    CHECK(row_of(PB_F32, v, 2, k11, 2, sh34, 2, &b, &rc) && rc == LL_OK && b.dim[0] == 12);
    /* keys and values of different counts */
    CHECK(row_of(PB_F32, v, 2, unsorted, 3, sh10, 1, &b, &rc) && rc == LL_E_PARSE);
    /* dense with a shape: the product must match */
    CHECK(row_of(PB_F32, v, 6, NULL, 0, sh23, 2, &b, &rc) && rc == LL_OK);
    CHECK(!b.sparse[0] && b.dim[0] == 6 && b.off[1] == 6);
    CHECK(row_of(PB_F32, v, 5, NULL, 0, sh23, 2, &b, &rc) && rc == LL_E_PARSE);
    /* all-zero sparse row: shape only */
    CHECK(row_of(PB_F32, NULL, 0, NULL, 0, sh10, 1, &b, &rc) && rc == LL_OK);
    CHECK(b.n_rows == 1 && b.sparse[0] && b.dim[0] == 10 && b.off[1] == 0);
    /* float64 and int32 features are converted to float */
    double d[] = {0.1, 1e300};
    CHECK(row_of(PB_F64, d, 2, NULL, 0, NULL, 0, &b, &rc) && rc == LL_OK);
    CHECK(b.val[0] == (float)0.1 && isinf(b.val[1]));
    int32_t iv[] = {-5, 16777217};
    CHECK(row_of(PB_I32, iv, 2, NULL, 0, NULL, 0, &b, &rc) && rc == LL_OK);
    CHECK(b.val[0] == -5.0f && b.val[1] == 16777216.0f);
    /* keys beyond 2^32 columns */
    uint64_t kb[] = {1ull << 33}, shb[] = {1ull << 34};
    CHECK(row_of(PB_F32, v, 1, kb, 1, shb, 1, &b, &rc) && rc == LL_E_PARSE);
    /* a shape whose product overflows */
    uint64_t sho[] = {1ull << 40, 1ull << 40};
    uint64_t k0[] = {0};
    CHECK(row_of(PB_F32, v, 1, k0, 1, sho, 2, &b, &rc) && rc == LL_E_PARSE);
    ll_batch_deinit(&b);
}

/* Malformed messages: LL_E_PARSE naming the payload byte. */
static void malformed(void)
{
    struct {
        const char *hex;
        int ok;
        uint64_t off;
    } t[] = {
        {"0a", 0, 0},
        {"0a05", 0, 0},
        {"08", 0, 0},
        {"0d00000000", 0, 0},
        {"1a01411d", 0, 3},
        {"0b", 0, 0},
        {"0c", 0, 0},
        {"0e", 0, 0},
        {"0f", 0, 0},
        {"00", 0, 0},
        {"8000", 0, 0},
        {"ffffffffffffffffff01", 0, 0},   /* tag beyond 32 bits */
        {"ffffffffffffffffffff01", 0, 0}, /* 11-byte tag varint */
        {"4801", 1, 0},
        {"f8ffffff0f01", 1, 0}, /* field 2^29-1 */
        /* features{ value{ f32{ packed values of 5 bytes } } }: 0a 09 12 07 12 05 0a 03 ... */
        {"0a0912071205"
         "0a03000000",
         0, 6},
        /* packed keys ending inside a varint */
        {"0a0712051203"
         "120180",
         0, 6},
        /* packed keys with an 11-byte varint */
        {"0a1112 0f 120d 120b ffffffffffffffffffff01", 0, 6},
        /* float32 values with wire type 0 */
        {"0a06120412020801", 0, 6},
        /* float32 values unpacked, truncated */
        {"0a0812061204"
         "0d000000",
         0, 6},
        /* Value member with wire type 0 */
        {"0a0412021001", 0, 4},
        /* map key with wire type 0 */
        {"0a020801", 0, 2},
    };
    pb_record r;
    pb_record_init(&r);
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        char hex[128];
        size_t k = 0;
        for (const char *s = t[i].hex; *s; s++)
            if (*s != ' ')
                hex[k++] = *s;
        hex[k] = 0;
        size_t n;
        uint8_t *p = tsup_unhex(hex, &n);
        CHECKF(p, "case %zu: bad hex", i);
        ll_code rc = pb_decode(p, n, &r, &err);
        Aialgs__Data__Record *m = aialgs__data__record__unpack(NULL, n, p);
        int oracle = m != NULL;
        if (m)
            aialgs__data__record__free_unpacked(m, NULL);
        free(p);
        if (t[i].ok) {
            CHECKF(rc == LL_OK, "case %zu (%s): rejected: %s", i, t[i].hex, err.msg);
        } else {
            CHECKF(rc == LL_E_PARSE, "case %zu (%s): accepted", i, t[i].hex);
            CHECKF(err.has & LL_ERR_OFFSET, "case %zu: no offset", i);
            CHECKF(err.offset >= t[i].off && err.offset <= n, "case %zu: offset %llu", i,
                   (unsigned long long)err.offset);
            CHECKF(strstr(err.msg, "protobuf"), "case %zu: message %s", i, err.msg);
        }
        /* protobuf-c agrees except on the non-minimal field 0 (fuzz_record.c D9) */
        if (strcmp(t[i].hex, "8000") != 0)
            CHECKF(oracle == t[i].ok, "case %zu (%s): protobuf-c %s", i, t[i].hex,
                   oracle ? "accepts" : "rejects");
    }
    pb_record_deinit(&r);
}

/* Decoding reuses the record's arrays and forgets the previous record. */
static void record_reuse(void)
{
    float a[] = {1, 2, 3};
    B m1 = {0}, m2 = {0};
    entry_f32(&m1, 1, "values", a, 3);
    entry_f32(&m1, 1, "x", a, 1);
    entry_f32(&m1, 2, "values", a, 1);
    lds(&m1, 3, "id");
    entry_f32(&m2, 1, "values", a + 1, 2);
    pb_record r;
    pb_record_init(&r);
    CHECK(decode(&m1, &r) && r.n_feat == 2 && r.n_lab == 1 && r.uid.set);
    CHECK(decode(&m2, &r) && r.n_feat == 1 && r.n_lab == 0 && !r.uid.set);
    const pb_entry *e = pb_find(&r, 0, "values");
    float g[2];
    pb_values_f32(&r, &e->t, g);
    CHECK(e->t.n_values == 2 && g[0] == 2 && g[1] == 3);
    /* many entries and segments grow the arrays */
    B big = {0};
    for (int i = 0; i < 200; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        entry_f32(&big, 1 + (i & 1), key, a, 1 + i % 3);
    }
    CHECK(decode(&big, &r) && r.n_feat == 100 && r.n_lab == 100);
    CHECK(pb_find(&r, 1, "k199") && pb_find(&r, 1, "k199")->t.n_values == 2);
    pb_record_deinit(&r);
    free(m1.p);
    free(m2.p);
    free(big.p);
}

/* The byte-wise count and checks pb_varints_fast must agree with. */
static size_t varints_ref(const uint8_t *b, size_t n, int *bad)
{
    size_t k = 0;
    int run = 0, over = 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i] & 0x80) {
            if (++run >= 10)
                over = 1;
        } else {
            run = 0;
            k++;
        }
    }
    *bad = over || run;
    return k;
}

/* pb_varints_fast (16 bytes at a time) against the byte-wise walk: every length up to 100, runs
 * of continuation bytes of 8 to 11 at every offset (so across the 16-byte chunks), and random
 * bytes. */
static void varint_count_fast(void)
{
    uint8_t buf[200];
    uint64_t x = 99;
    int cases = 0, bads = 0;
    for (size_t n = 0; n <= 100; n++)
        for (size_t at = 0; at < 40 && at <= n; at++)
            for (int runlen = 8; runlen <= 11; runlen++) {
                for (size_t i = 0; i < n; i++) {
                    x = x * 6364136223846793005ull + 1442695040888963407ull;
                    buf[i] = (uint8_t)(x >> 56) & 0x7F; /* short varints */
                    if ((x >> 20) % 5 == 0)
                        buf[i] |= 0x80; /* two-byte ones, or a truncated end */
                }
                for (int r = 0; r < runlen && at + (size_t)r < n; r++)
                    buf[at + (size_t)r] = 0x80 | (uint8_t)r;
                int b1, b2;
                size_t k1 = pb_varints_fast(buf, n, &b1), k2 = varints_ref(buf, n, &b2);
                CHECKF(k1 == k2 && b1 == b2, "n=%zu run %d at %zu: %zu/%d vs %zu/%d", n, runlen, at,
                       k1, b1, k2, b2);
                cases++;
                bads += b2;
                if (k1 != k2 || b1 != b2)
                    return;
            }
    CHECKF(bads > 100 && bads < cases - 100, "%d of %d cases bad: not both kinds", bads, cases);
}

int main(void)
{
    TT_BEGIN("test_pb");
    RUN(varint_count_fast);
    RUN(special_float_bits);
    RUN(negative_int32);
    RUN(encode_matches_protobuf_c);
    RUN(unknown_fields_everywhere);
    RUN(extra_entries_strings_labels);
    RUN(bytes_values);
    RUN(duplicate_keys_and_oneof);
    RUN(packed_unpacked_presence);
    RUN(row_to_batch_rules);
    RUN(malformed);
    RUN(record_reuse);
    TT_END();
}
