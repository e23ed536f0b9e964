/* SPDX-License-Identifier: Apache-2.0 */
/* pb.c - decode and encode aialgs.data.Record (layout and merge rules in pb.h). The decoder
 * validates every length against its enclosing message and allocates only when the record's
 * reusable arrays must grow. */
#include "pb.h"
#include "batch.h"
#include "err.h"
#include "mem.h"
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PB_LE 1
#else
#define PB_LE 0
#endif

const char *pb_dtype_name(pb_dtype t)
{
    switch (t) {
    case PB_F32:
        return "float32";
    case PB_F64:
        return "float64";
    case PB_I32:
        return "int32";
    case PB_BYTES:
        return "bytes";
    case PB_NONE:
        break;
    }
    return "none";
}

void pb_record_init(pb_record *r)
{
    memset(r, 0, sizeof *r);
}

void pb_record_deinit(pb_record *r)
{
    mem_free(r->feat);
    mem_free(r->lab);
    mem_free(r->segs);
    memset(r, 0, sizeof *r);
}

/* ---- decoding ---- */

typedef struct {
    const uint8_t *base; /* start of the payload, for offsets in messages */
    pb_record *r;
    ll_err *err;
} dec;

static ll_code bad(dec *d, const uint8_t *at, const char *what)
{
    err_set(d->err, LL_E_PARSE, "protobuf: %s (payload byte %zu)", what, (size_t)(at - d->base));
    if (d->err) {
        d->err->offset = (uint64_t)(at - d->base);
        d->err->has |= LL_ERR_OFFSET;
    }
    return LL_E_PARSE;
}

/* Reads a varint of at most 10 bytes; 0 on failure. */
static inline int varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) {
        *v = *p;
        *pp = p + 1;
        return 1;
    }
    uint64_t x = 0;
    for (int s = 0; s < 70 && p < end; s += 7) {
        uint8_t c = *p++;
        x |= (uint64_t)(c & 0x7F) << s;
        if (!(c & 0x80)) {
            *v = x;
            *pp = p;
            return 1;
        }
    }
    return 0;
}

static ll_code tag(dec *d, const uint8_t **pp, const uint8_t *end, uint32_t *field, int *wt)
{
    const uint8_t *at = *pp;
    uint64_t t;
    if (!varint(pp, end, &t))
        return bad(d, at, "truncated or over-long varint in a field tag");
    if (t >> 32)
        return bad(d, at, "field tag does not fit in 32 bits");
    *field = (uint32_t)(t >> 3);
    *wt = (int)(t & 7);
    if (*field == 0)
        return bad(d, at, "field number 0");
    return LL_OK;
}

/* Length-delimited body: sets [*b, *e). */
static ll_code ldelim(dec *d, const uint8_t **pp, const uint8_t *end, const uint8_t **b,
                      const uint8_t **e)
{
    const uint8_t *at = *pp;
    uint64_t n;
    if (!varint(pp, end, &n))
        return bad(d, at, "truncated length");
    if (n > (uint64_t)(end - *pp))
        return bad(d, at, "length runs past the end of the enclosing message");
    *b = *pp;
    *e = *pp + n;
    *pp = *e;
    return LL_OK;
}

static ll_code skip(dec *d, const uint8_t **pp, const uint8_t *end, int wt)
{
    const uint8_t *at = *pp, *b, *e;
    uint64_t v;
    switch (wt) {
    case 0:
        if (!varint(pp, end, &v))
            return bad(d, at, "truncated varint in an unknown field");
        return LL_OK;
    case 1:
        if (end - *pp < 8)
            return bad(d, at, "truncated 8-byte field");
        *pp += 8;
        return LL_OK;
    case 2:
        return ldelim(d, pp, end, &b, &e);
    case 5:
        if (end - *pp < 4)
            return bad(d, at, "truncated 4-byte field");
        *pp += 4;
        return LL_OK;
    default:
        return bad(d, at,
                   wt == 3 || wt == 4 ? "groups (wire types 3 and 4) are not supported"
                                      : "invalid wire type");
    }
}

static ll_code add_seg(dec *d, const uint8_t *p, size_t len, uint8_t field)
{
    pb_record *r = d->r;
    if (len > UINT32_MAX)
        return bad(d, p, "segment too long");
    if (r->n_segs == r->cap_segs) {
        size_t n = r->cap_segs ? r->cap_segs * 2 : 16;
        pb_seg *s = mem_realloc_array(r->segs, n, sizeof *s);
        if (!s)
            return err_set(d->err, LL_E_NOMEM, "out of memory decoding a record");
        r->segs = s;
        r->cap_segs = n;
    }
    r->segs[r->n_segs++] = (pb_seg){p, (uint32_t)len, field};
    return LL_OK;
}

size_t pb_varints_fast(const uint8_t *b, size_t len, int *bad)
{
    size_t k = 0, i = 0;
    unsigned run = 0; /* continuation bytes before the chunk */
    int over = 0;
#ifdef __SSE2__
    for (; i + 16 <= len; i += 16) {
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(b + i)));
        k += (size_t)__builtin_popcount(~m & 0xFFFFu);
        if (m == 0xFFFFu) {
            run += 16;
            over |= run >= 10;
            continue;
        }
        over |= run + (unsigned)__builtin_ctz(~m) >= 10; /* the run the chunk starts with */
        unsigned x = m;                                  /* a run of 10 set bits inside the chunk */
        for (int s = 0; s < 9; s++)
            x &= x >> 1;
        over |= x != 0;
        run = (unsigned)__builtin_clz(~m << 16); /* the run the chunk ends with */
    }
#endif
    for (; i < len; i++) {
        if (b[i] & 0x80) {
            over |= ++run >= 10;
        } else {
            run = 0;
            k++;
        }
    }
    *bad = over || run;
    return k;
}

/* Counts the varints of a packed field, checking that each is complete and at most 10 bytes
 * (16 bytes at a time; the byte-wise walk below names the first bad byte). */
static ll_code count_varints(dec *d, const uint8_t *b, const uint8_t *e, size_t *n)
{
    int broken;
    size_t fast = pb_varints_fast(b, (size_t)(e - b), &broken);
    if (!broken) {
        *n = fast;
        return LL_OK;
    }
    size_t k = 0;
    int run = 0;
    for (const uint8_t *q = b; q < e; q++) {
        if (*q & 0x80) {
            if (++run >= 10)
                return bad(d, q, "over-long varint in a packed field");
        } else {
            run = 0;
            k++;
        }
    }
    if (run)
        return bad(d, e, "packed field ends inside a varint");
    *n = k;
    return LL_OK;
}

static ll_code parse_tensor(dec *d, const uint8_t *p, const uint8_t *end, pb_tensor *t)
{
    ll_code rc;
    while (p < end) {
        uint32_t f;
        int wt;
        const uint8_t *at = p, *b, *e;
        if ((rc = tag(d, &p, end, &f, &wt)) != LL_OK)
            return rc;
        if (f == 1 && t->dtype == PB_BYTES) {
            if (wt != 2)
                return bad(d, at, "Bytes.value must be length-delimited");
            if ((rc = ldelim(d, &p, end, &b, &e)) != LL_OK ||
                (rc = add_seg(d, b, (size_t)(e - b), 1)))
                return rc;
            t->n_values++;
        } else if (f == 2 && t->dtype == PB_BYTES) {
            if (wt != 2)
                return bad(d, at, "Bytes.content_type must be length-delimited");
            if ((rc = ldelim(d, &p, end, &b, &e)) != LL_OK ||
                (rc = add_seg(d, b, (size_t)(e - b), 2)))
                return rc;
        } else if (f == 1 && t->dtype != PB_BYTES) {
            size_t width = t->dtype == PB_F32 ? 4 : t->dtype == PB_F64 ? 8 : 0;
            int single_wt = t->dtype == PB_F32 ? 5 : t->dtype == PB_F64 ? 1 : 0;
            if (wt == 2) {
                if ((rc = ldelim(d, &p, end, &b, &e)) != LL_OK)
                    return rc;
                size_t n;
                if (width) {
                    if ((size_t)(e - b) % width)
                        return bad(d, at,
                                   width == 4
                                       ? "packed float values: length is not a multiple of 4"
                                       : "packed double values: length is not a multiple of 8");
                    n = (size_t)(e - b) / width;
                } else if ((rc = count_varints(d, b, e, &n)) != LL_OK) {
                    return rc;
                }
                if (e > b && (rc = add_seg(d, b, (size_t)(e - b), 1)) != LL_OK)
                    return rc;
                t->n_values += n;
            } else if (wt == single_wt) {
                b = p;
                if (width) {
                    if ((size_t)(end - p) < width)
                        return bad(d, at, "truncated fixed-width value");
                    p += width;
                } else {
                    uint64_t v;
                    if (!varint(&p, end, &v))
                        return bad(d, at, "truncated varint value");
                }
                if ((rc = add_seg(d, b, (size_t)(p - b), 1)) != LL_OK)
                    return rc;
                t->n_values++;
            } else {
                return bad(d, at, "tensor values have the wrong wire type");
            }
        } else if ((f == 2 || f == 3) && t->dtype != PB_BYTES) {
            size_t *cnt = f == 2 ? &t->n_keys : &t->n_shape;
            if (wt == 2) {
                size_t n;
                if ((rc = ldelim(d, &p, end, &b, &e)) != LL_OK ||
                    (rc = count_varints(d, b, e, &n)) != LL_OK)
                    return rc;
                if (e > b && (rc = add_seg(d, b, (size_t)(e - b), (uint8_t)f)) != LL_OK)
                    return rc;
                *cnt += n;
            } else if (wt == 0) {
                uint64_t v;
                b = p;
                if (!varint(&p, end, &v))
                    return bad(d, at, "truncated varint in keys or shape");
                if ((rc = add_seg(d, b, (size_t)(p - b), (uint8_t)f)) != LL_OK)
                    return rc;
                (*cnt)++;
            } else {
                return bad(d, at,
                           f == 2 ? "tensor keys have the wrong wire type"
                                  : "tensor shape has the wrong wire type");
            }
        } else if ((rc = skip(d, &p, end, wt)) != LL_OK) {
            return rc;
        }
        t->seg_end = (uint32_t)d->r->n_segs;
    }
    return LL_OK;
}

static ll_code parse_value(dec *d, const uint8_t *p, const uint8_t *end, pb_tensor *t)
{
    ll_code rc;
    while (p < end) {
        uint32_t f;
        int wt;
        const uint8_t *at = p, *b, *e;
        if ((rc = tag(d, &p, end, &f, &wt)) != LL_OK)
            return rc;
        if (f == PB_F32 || f == PB_F64 || f == PB_I32 || f == PB_BYTES) {
            if (wt != 2)
                return bad(d, at, "Value member must be length-delimited");
            if ((rc = ldelim(d, &p, end, &b, &e)) != LL_OK)
                return rc;
            if (t->dtype != (pb_dtype)f) { /* oneof: a new member replaces the old one */
                memset(t, 0, sizeof *t);
                t->dtype = (pb_dtype)f;
                t->seg_beg = t->seg_end = (uint32_t)d->r->n_segs;
            }
            t->present = 1;
            if ((rc = parse_tensor(d, b, e, t)) != LL_OK)
                return rc;
        } else if ((rc = skip(d, &p, end, wt)) != LL_OK) {
            return rc;
        }
    }
    return LL_OK;
}

static ll_code parse_entry(dec *d, const uint8_t *p, const uint8_t *end, int which)
{
    ll_code rc;
    pb_entry ent;
    memset(&ent, 0, sizeof ent);
    ent.name = p;
    ent.t.seg_beg = ent.t.seg_end = (uint32_t)d->r->n_segs;
    while (p < end) {
        uint32_t f;
        int wt;
        const uint8_t *at = p, *b, *e;
        if ((rc = tag(d, &p, end, &f, &wt)) != LL_OK)
            return rc;
        if (f == 1) {
            if (wt != 2)
                return bad(d, at, "map key must be length-delimited");
            if ((rc = ldelim(d, &p, end, &b, &e)) != LL_OK)
                return rc;
            ent.name = b;
            ent.name_len = (uint32_t)(e - b);
        } else if (f == 2) {
            if (wt != 2)
                return bad(d, at, "map value must be length-delimited");
            if ((rc = ldelim(d, &p, end, &b, &e)) != LL_OK)
                return rc;
            if ((rc = parse_value(d, b, e, &ent.t)) != LL_OK)
                return rc;
        } else if ((rc = skip(d, &p, end, wt)) != LL_OK) {
            return rc;
        }
    }
    pb_record *r = d->r;
    pb_entry **arr = which ? &r->lab : &r->feat;
    size_t *n = which ? &r->n_lab : &r->n_feat;
    size_t *cap = which ? &r->cap_lab : &r->cap_feat;
    for (size_t i = 0; i < *n; i++) {
        pb_entry *o = &(*arr)[i];
        if (o->name_len == ent.name_len && memcmp(o->name, ent.name, ent.name_len) == 0) {
            *o = ent; /* a later entry with the same key replaces the earlier one */
            return LL_OK;
        }
    }
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        pb_entry *a = mem_realloc_array(*arr, nc, sizeof *a);
        if (!a)
            return err_set(d->err, LL_E_NOMEM, "out of memory decoding a record");
        *arr = a;
        *cap = nc;
    }
    (*arr)[(*n)++] = ent;
    return LL_OK;
}

ll_code pb_decode(const uint8_t *p, size_t len, pb_record *r, ll_err *err)
{
    dec d = {p, r, err};
    const uint8_t *end = p + len;
    r->n_feat = r->n_lab = r->n_segs = 0;
    memset(&r->uid, 0, sizeof r->uid);
    memset(&r->metadata, 0, sizeof r->metadata);
    memset(&r->configuration, 0, sizeof r->configuration);
    ll_code rc;
    while (p < end) {
        uint32_t f;
        int wt;
        const uint8_t *at = p, *b, *e;
        if ((rc = tag(&d, &p, end, &f, &wt)) != LL_OK)
            return rc;
        if (f >= 1 && f <= 5) {
            if (wt != 2)
                return bad(&d, at,
                           f <= 2 ? "features/label entries must be length-delimited"
                                  : "uid/metadata/configuration must be length-delimited");
            if ((rc = ldelim(&d, &p, end, &b, &e)) != LL_OK)
                return rc;
            if (f <= 2) {
                if ((rc = parse_entry(&d, b, e, f - 1)) != LL_OK)
                    return rc;
            } else {
                pb_str *s = f == 3 ? &r->uid : f == 4 ? &r->metadata : &r->configuration;
                *s = (pb_str){b, (uint32_t)(e - b), 1};
            }
        } else if ((rc = skip(&d, &p, end, wt)) != LL_OK) {
            return rc;
        }
    }
    return LL_OK;
}

const pb_entry *pb_find(const pb_record *r, int which, const char *name)
{
    size_t len = strlen(name);
    const pb_entry *a = which ? r->lab : r->feat;
    size_t n = which ? r->n_lab : r->n_feat;
    for (size_t i = 0; i < n; i++)
        if (a[i].name_len == len && memcmp(a[i].name, name, len) == 0)
            return &a[i];
    return NULL;
}

/* ---- reading values out ---- */

static inline uint64_t get_varint_unchecked(const uint8_t **pp)
{
    const uint8_t *p = *pp;
    uint64_t x = 0;
    int s = 0;
    for (;;) {
        uint8_t c = *p++;
        x |= (uint64_t)(c & 0x7F) << s;
        if (!(c & 0x80))
            break;
        s += 7;
    }
    *pp = p;
    return x;
}

static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

void pb_values_raw(const pb_record *r, const pb_tensor *t, void *dst)
{
    uint8_t *o = dst;
    for (uint32_t s = t->seg_beg; s < t->seg_end; s++) {
        const pb_seg *g = &r->segs[s];
        if (g->field != 1)
            continue;
        if (t->dtype == PB_F32 || t->dtype == PB_F64) {
#if PB_LE
            memcpy(o, g->p, g->len);
            o += g->len;
#else
            size_t w = t->dtype == PB_F32 ? 4 : 8;
            for (uint32_t k = 0; k < g->len; k += w) {
                if (w == 4) {
                    uint32_t v = le32(g->p + k);
                    memcpy(o, &v, 4);
                } else {
                    uint64_t v = le64(g->p + k);
                    memcpy(o, &v, 8);
                }
                o += w;
            }
#endif
        } else if (t->dtype == PB_I32) {
            const uint8_t *q = g->p, *e = g->p + g->len;
            while (q < e) {
                int32_t v = (int32_t)(uint32_t)get_varint_unchecked(&q);
                memcpy(o, &v, 4);
                o += 4;
            }
        }
    }
}

void pb_values_f32(const pb_record *r, const pb_tensor *t, float *dst)
{
    if (t->dtype == PB_F32) {
        pb_values_raw(r, t, dst);
        return;
    }
    for (uint32_t s = t->seg_beg; s < t->seg_end; s++) {
        const pb_seg *g = &r->segs[s];
        if (g->field != 1)
            continue;
        if (t->dtype == PB_F64) {
            for (uint32_t k = 0; k < g->len; k += 8) {
                uint64_t bits = le64(g->p + k);
                double v;
                memcpy(&v, &bits, 8);
                *dst++ = (float)v;
            }
        } else if (t->dtype == PB_I32) {
            const uint8_t *q = g->p, *e = g->p + g->len;
            while (q < e)
                *dst++ = (float)(int32_t)(uint32_t)get_varint_unchecked(&q);
        }
    }
}

void pb_values_f64(const pb_record *r, const pb_tensor *t, double *dst)
{
    for (uint32_t s = t->seg_beg; s < t->seg_end; s++) {
        const pb_seg *g = &r->segs[s];
        if (g->field != 1)
            continue;
        if (t->dtype == PB_F32) {
            for (uint32_t k = 0; k < g->len; k += 4) {
                uint32_t bits = le32(g->p + k);
                float v;
                memcpy(&v, &bits, 4);
                *dst++ = v;
            }
        } else if (t->dtype == PB_F64) {
            for (uint32_t k = 0; k < g->len; k += 8) {
                uint64_t bits = le64(g->p + k);
                memcpy(dst++, &bits, 8);
            }
        } else if (t->dtype == PB_I32) {
            const uint8_t *q = g->p, *e = g->p + g->len;
            while (q < e)
                *dst++ = (double)(int32_t)(uint32_t)get_varint_unchecked(&q);
        }
    }
}

void pb_u64s(const pb_record *r, const pb_tensor *t, int field, uint64_t *dst)
{
    for (uint32_t s = t->seg_beg; s < t->seg_end; s++) {
        const pb_seg *g = &r->segs[s];
        if (g->field != field)
            continue;
        const uint8_t *q = g->p, *e = g->p + g->len;
        while (q < e)
            *dst++ = get_varint_unchecked(&q);
    }
}

const pb_seg *pb_bytes_item(const pb_record *r, const pb_tensor *t, int field, size_t i)
{
    const pb_seg *last = NULL;
    size_t k = 0;
    for (uint32_t s = t->seg_beg; s < t->seg_end; s++) {
        const pb_seg *g = &r->segs[s];
        if (g->field != field)
            continue;
        if (field == 1 && k++ == i)
            return g;
        last = g;
    }
    return field == 2 ? last : NULL;
}

/* ---- record -> batch row ---- */

ll_code pb_row_to_batch(const pb_record *r, ll_batch *b, ll_err *err)
{
    const pb_entry *fe = pb_find(r, 0, "values");
    if (!fe)
        return err_set(err, LL_E_PARSE,
                       "the record has no features[\"values\"] tensor (%s); training and "
                       "scoring need features (convert and inspect read such records)",
                       pb_find(r, 1, "values") ? "only a label" : "nothing to read");
    const pb_tensor *t = &fe->t;
    if (t->dtype == PB_BYTES)
        return err_set(err, LL_E_PARSE,
                       "features[\"values\"] holds Bytes; only float32, float64 and int32 "
                       "tensors can be used as features");
    const pb_entry *le = pb_find(r, 1, "values");
    const pb_tensor *lt = le ? &le->t : NULL;
    if (lt && lt->dtype == PB_BYTES)
        return err_set(err, LL_E_PARSE, "label[\"values\"] holds Bytes; labels must be numeric");
    size_t n_lab = lt && lt->dtype != PB_NONE ? lt->n_values : 0;

    uint64_t dim = 1;
    if (t->n_shape) {
        uint64_t sh[8];
        uint64_t *shape = t->n_shape <= 8 ? sh : mem_alloc(t->n_shape * sizeof *shape);
        if (!shape)
            return err_set(err, LL_E_NOMEM, "out of memory");
        pb_u64s(r, t, 3, shape);
        for (size_t i = 0; i < t->n_shape; i++) {
            if (shape[i] && dim > UINT64_MAX / shape[i]) {
                if (shape != sh)
                    mem_free(shape);
                return err_set(err, LL_E_PARSE, "the tensor shape's product overflows 64 bits");
            }
            dim *= shape[i];
        }
        if (shape != sh)
            mem_free(shape);
    }
    int sparse = t->n_keys > 0 || (t->n_shape > 0 && t->n_values == 0);
    if (t->n_keys) {
        if (!t->n_shape)
            return err_set(err, LL_E_PARSE,
                           "a sparse tensor (with keys) must have a shape; none was given");
        if (t->n_keys != t->n_values)
            return err_set(err, LL_E_PARSE, "a sparse tensor has %zu keys but %zu values",
                           t->n_keys, t->n_values);
    } else if (t->n_shape && t->n_values && dim != t->n_values) {
        return err_set(err, LL_E_PARSE, "a dense tensor has %zu values but its shape holds %llu",
                       t->n_values, (unsigned long long)dim);
    }
    if (!t->n_shape)
        dim = t->n_values;
    size_t i = b->n_rows;
    ll_code rc = batch_reserve_rows(b, i + 1, err);
    if (rc == LL_OK)
        rc = batch_reserve_vals(b, b->off[i] + t->n_values, err);
    if (rc == LL_OK)
        rc = batch_reserve_labels(b, b->loff[i] + n_lab, err);
    if (rc != LL_OK)
        return rc;
    if (t->dtype != PB_NONE && t->n_values) /* b->val may still be NULL for 0 values */
        pb_values_f32(r, t, b->val + b->off[i]);
    if (t->n_keys) {
        uint32_t *ix = b->idx + b->off[i];
        for (uint32_t s = t->seg_beg; s < t->seg_end; s++) {
            const pb_seg *g = &r->segs[s];
            if (g->field != 2)
                continue;
            const uint8_t *q = g->p, *e = g->p + g->len;
            while (q < e) {
                uint64_t k = get_varint_unchecked(&q);
                if (k >= dim)
                    return err_set(err, LL_E_PARSE, "key %llu is outside the shape (%llu)",
                                   (unsigned long long)k, (unsigned long long)dim);
                if (k > UINT32_MAX)
                    return err_set(err, LL_E_PARSE,
                                   "key %llu is beyond the 2^32 columns linlearn supports",
                                   (unsigned long long)k);
                *ix++ = (uint32_t)k;
            }
        }
    }
    if (n_lab)
        pb_values_f32(r, lt, b->label + b->loff[i]);
    batch_commit_row(b, t->n_values, dim, sparse, n_lab);
    return LL_OK;
}

/* ---- encoding ---- */

static size_t tensor_size(const pb_tensor_in *t)
{
    size_t n = 0;
    if (t->dtype == PB_BYTES) {
        const pb_seg *items = t->values;
        for (size_t i = 0; i < t->n_values; i++)
            n += 1 + pb_varint_size(items[i].len) + items[i].len;
        if (t->content_type) {
            size_t l = strlen(t->content_type);
            n += 1 + pb_varint_size(l) + l;
        }
        return n;
    }
    if (t->n_values) {
        size_t vb = 0;
        if (t->dtype == PB_F32)
            vb = 4 * t->n_values;
        else if (t->dtype == PB_F64)
            vb = 8 * t->n_values;
        else {
            const int32_t *v = t->values;
            for (size_t i = 0; i < t->n_values; i++)
                vb += pb_varint_size((uint64_t)(int64_t)v[i]);
        }
        n += 1 + pb_varint_size(vb) + vb;
    }
    for (int f = 0; f < 2; f++) {
        const uint64_t *a = f ? t->shape : t->keys;
        size_t c = f ? t->n_shape : t->n_keys;
        if (!c)
            continue;
        size_t kb = 0;
        for (size_t i = 0; i < c; i++)
            kb += pb_varint_size(a[i]);
        n += 1 + pb_varint_size(kb) + kb;
    }
    return n;
}

static size_t value_size(const pb_tensor_in *t)
{
    if (t->dtype == PB_NONE)
        return 0;
    size_t ts = tensor_size(t);
    return 1 + pb_varint_size(ts) + ts;
}

static size_t entry_size(const pb_entry_in *e)
{
    size_t nl = strlen(e->name), vs = value_size(&e->t);
    return 1 + pb_varint_size(nl) + nl + 1 + pb_varint_size(vs) + vs;
}

static size_t str_field_size(const char *s)
{
    if (!s)
        return 0;
    size_t l = strlen(s);
    return 1 + pb_varint_size(l) + l;
}

size_t pb_encoded_size(const pb_record_in *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_feat; i++) {
        size_t es = entry_size(&r->feat[i]);
        n += 1 + pb_varint_size(es) + es;
    }
    for (size_t i = 0; i < r->n_lab; i++) {
        size_t es = entry_size(&r->lab[i]);
        n += 1 + pb_varint_size(es) + es;
    }
    return n + str_field_size(r->uid) + str_field_size(r->metadata) +
           str_field_size(r->configuration);
}

static uint8_t *put_bytes(uint8_t *o, uint8_t tagbyte, const void *p, size_t len)
{
    *o++ = tagbyte;
    o += pb_put_varint(o, len);
    if (len)
        memcpy(o, p, len);
    return o + len;
}

static uint8_t *put_tensor(uint8_t *o, const pb_tensor_in *t)
{
    if (t->dtype == PB_BYTES) {
        const pb_seg *items = t->values;
        for (size_t i = 0; i < t->n_values; i++)
            o = put_bytes(o, 0x0A, items[i].p, items[i].len);
        if (t->content_type)
            o = put_bytes(o, 0x12, t->content_type, strlen(t->content_type));
        return o;
    }
    if (t->n_values) {
        if (t->dtype == PB_F32 || t->dtype == PB_F64) {
            size_t w = t->dtype == PB_F32 ? 4 : 8;
#if PB_LE
            o = put_bytes(o, 0x0A, t->values, w * t->n_values);
#else
            *o++ = 0x0A;
            o += pb_put_varint(o, w * t->n_values);
            for (size_t i = 0; i < t->n_values; i++) {
                uint64_t bits = 0;
                memcpy(&bits, (const uint8_t *)t->values + i * w, w);
                for (size_t k = 0; k < w; k++)
                    *o++ = (uint8_t)(bits >> (8 * k));
            }
#endif
        } else {
            const int32_t *v = t->values;
            size_t vb = 0;
            for (size_t i = 0; i < t->n_values; i++)
                vb += pb_varint_size((uint64_t)(int64_t)v[i]);
            *o++ = 0x0A;
            o += pb_put_varint(o, vb);
            for (size_t i = 0; i < t->n_values; i++)
                o += pb_put_varint(o, (uint64_t)(int64_t)v[i]);
        }
    }
    for (int f = 0; f < 2; f++) {
        const uint64_t *a = f ? t->shape : t->keys;
        size_t c = f ? t->n_shape : t->n_keys;
        if (!c)
            continue;
        size_t kb = 0;
        for (size_t i = 0; i < c; i++)
            kb += pb_varint_size(a[i]);
        *o++ = f ? 0x1A : 0x12;
        o += pb_put_varint(o, kb);
        for (size_t i = 0; i < c; i++)
            o += pb_put_varint(o, a[i]);
    }
    return o;
}

static uint8_t *put_entry(uint8_t *o, uint8_t tagbyte, const pb_entry_in *e)
{
    size_t es = entry_size(e), nl = strlen(e->name), vs = value_size(&e->t);
    *o++ = tagbyte;
    o += pb_put_varint(o, es);
    o = put_bytes(o, 0x0A, e->name, nl);
    *o++ = 0x12;
    o += pb_put_varint(o, vs);
    if (e->t.dtype != PB_NONE) {
        *o++ = (uint8_t)(e->t.dtype << 3 | 2);
        o += pb_put_varint(o, tensor_size(&e->t));
        o = put_tensor(o, &e->t);
    }
    return o;
}

size_t pb_encode(const pb_record_in *r, uint8_t *out)
{
    uint8_t *o = out;
    for (size_t i = 0; i < r->n_feat; i++)
        o = put_entry(o, 0x0A, &r->feat[i]);
    for (size_t i = 0; i < r->n_lab; i++)
        o = put_entry(o, 0x12, &r->lab[i]);
    if (r->uid)
        o = put_bytes(o, 0x1A, r->uid, strlen(r->uid));
    if (r->metadata)
        o = put_bytes(o, 0x22, r->metadata, strlen(r->metadata));
    if (r->configuration)
        o = put_bytes(o, 0x2A, r->configuration, strlen(r->configuration));
    return (size_t)(o - out);
}
