/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_record.c - differential fuzz target for the Record decoder: the same bytes go to
 * pb_decode and to protobuf-c's generated aialgs__data__record__unpack (the oracle, built from
 * tests/record.proto). Both must accept or both must reject, and on acceptance they must agree
 * on every map entry (after protobuf map semantics), dtype, value bit pattern, key, shape,
 * Bytes item and string. Accepted input is also re-encoded with pb_encode, decoded again and
 * compared, and pb_row_to_batch must not crash.
 *
 * Accepted divergences between protobuf-c 1.4 and the spec (each is normalised below):
 *  D1 Map entries: protobuf-c keeps every MapEntry as a list element, duplicates included;
 *     protobuf (and the spec, 4.2) says a later entry with the same key replaces the earlier.
 *     We compare against the last protobuf-c entry for each key.
 *  D2 Strings (map keys, uid, metadata, configuration, content_type) are NUL-terminated C
 *     strings in protobuf-c, so bytes after an embedded NUL are invisible to it. Strings are
 *     compared up to the first NUL; maps whose keys hold a NUL are compared by count only.
 *  D3 A missing MapEntry key is NULL in protobuf-c and "" for us (spec 4.2: missing key
 *     means ""); a missing MapEntry value is NULL there and "Value without member" here.
 *  D4 Field tags: protobuf-c refuses a tag varint longer than 5 bytes (even a non-minimal
 *     encoding of a small number) and field numbers above 2^29-1; pb_decode accepts any tag
 *     varint of up to 10 bytes whose value fits in 32 bits. Where protobuf-c rejects and the
 *     input holds such a tag, we do not compare verdicts (see tag_quirk()).
 *  D5 Varints of 11 or more bytes: the spec (4.2) caps varints at 10 bytes and pb_decode
 *     rejects longer ones; where protobuf-c accepts them we do not compare verdicts.
 *  D7 A oneof member that occurs twice in one Value message must be merged (protobuf rule,
 *     spec 4.2: "a sub-message field repeated for the same member is merged"); protobuf-c 1.4
 *     frees the earlier occurrence instead (parse_oneof_member), keeping only the last one.
 *     When the input has this shape (see walk(): *merge) only the verdicts are compared.
 *  D8 A MapEntry whose value (field 2) occurs more than once must merge the Values (and, when
 *     both set the same member, merge the tensors: repeated fields appended). protobuf-c 1.4
 *     gets this wrong twice: it fails the whole unpack when a later occurrence has no oneof
 *     member set (merge_messages cannot look up oneof case 0), and when both set the same
 *     member it keeps the later tensor instead of merging. pb_decode merges as protobuf
 *     does. For such inputs (walk(): *quirk and *merge) neither verdict nor content is
 *     compared; tests/test_pb.c checks the merge by hand.
 *  D10 Lengths of length-delimited fields: protobuf-c 1.4 refuses a length varint of more than
 *     5 bytes (a non-minimal encoding like 80 80 80 80 80 80 00 for 0); the spec (4.2) allows
 *     varints of up to 10 bytes and pb_decode accepts them. Not compared on verdict.
 *  D9 Field number 0 is invalid in protobuf and pb_decode rejects it however it is encoded;
 *     protobuf-c 1.4 only recognises the one-byte form (00, 02, ...) and accepts a
 *     non-minimal encoding such as 80 00 as an unknown field. Inputs holding such a tag are
 *     not compared on verdict (walk(): *quirk).
 *  D6 protobuf-c validates UTF-8 in `string` fields only for proto3; proto2 strings are not
 *     checked by either side, so no divergence is expected here (checked, not normalised).
 */
#include "pb.h"
#include "record.pb-c.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t *g_in;
static size_t g_in_len;

/* Reports a disagreement; with FUZZ_DUMP=path the input is written there first. */
static void dump_input(void)
{
    const char *path = getenv("FUZZ_DUMP");
    FILE *f = path ? fopen(path, "wb") : NULL;
    if (f) {
        fwrite(g_in, 1, g_in_len, f);
        fclose(f);
    }
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "fuzz_record: " __VA_ARGS__);                                              \
        fputc('\n', stderr);                                                                       \
        dump_input();                                                                              \
        abort();                                                                                   \
    } while (0)

/* Does the message contain a tag or varint encoding where protobuf-c and the spec legitimately
 * disagree (D4, D5)? Walks the message structure as protobuf-c would, recursing into the
 * known length-delimited sub-messages; returns 1 if a quirk is present anywhere, and also when
 * the bytes are too broken to walk (then the verdict comparison is still made by the caller
 * only if both sides' answers are determined by something else - see below). */
static int walk(const uint8_t *p, const uint8_t *end, int level, int *quirk, int *merge);

static int rd_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v, int *nbytes)
{
    const uint8_t *p = *pp;
    uint64_t x = 0;
    int i = 0;
    while (p < end) {
        uint8_t c = *p++;
        if (i < 10)
            x |= (uint64_t)(c & 0x7F) << (7 * i);
        i++;
        if (!(c & 0x80)) {
            *v = x;
            *pp = p;
            *nbytes = i;
            return 1;
        }
    }
    return 0;
}

/* level: 0 Record, 1 MapEntry, 2 Value, 3 tensor/Bytes */
static int walk(const uint8_t *p, const uint8_t *end, int level, int *quirk, int *merge)
{
    uint32_t member = 0; /* level 2: the oneof member seen last */
    int n_values = 0;    /* level 1: occurrences of the value field */
    while (p < end) {
        uint64_t t;
        int nb;
        if (!rd_varint(&p, end, &t, &nb))
            return 0;
        if (nb > 5 || (t >> 3) > 0x1FFFFFFFu) /* D4 */
            *quirk = 1;
        if ((t >> 3) == 0 && nb > 1) /* D9 */
            *quirk = 1;
        if (nb > 10)
            *quirk = 1;
        uint32_t f = (uint32_t)(t >> 3);
        int wt = (int)(t & 7);
        uint64_t v;
        switch (wt) {
        case 0:
            if (!rd_varint(&p, end, &v, &nb))
                return 0;
            if (nb > 10)
                *quirk = 1;
            break;
        case 1:
            if (end - p < 8)
                return 0;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return 0;
            p += 4;
            break;
        case 2: {
            if (!rd_varint(&p, end, &v, &nb))
                return 0;
            if (nb > 5) /* D10 (and D5 above 10) */
                *quirk = 1;
            if (v > (uint64_t)(end - p))
                return 0;
            const uint8_t *b = p;
            p += v;
            int sub = (level == 0 && (f == 1 || f == 2)) || (level == 1 && f == 2) ||
                      (level == 2 && (f == 2 || f == 3 || f == 7 || f == 9));
            if (level == 1 && f == 2 && n_values++ > 0)
                *quirk = *merge = 1;
            if (level == 2 && sub) {
                if (member == f)
                    *merge = 1;
                member = f;
            }
            if (sub)
                walk(b, p, level + 1, quirk, merge);
            else if (level == 3) {
                /* packed varints inside tensors: look for over-long ones */
                int run = 0;
                for (const uint8_t *q = b; q < p; q++) {
                    if (*q & 0x80) {
                        if (++run >= 10)
                            *quirk = 1;
                    } else {
                        run = 0;
                    }
                }
            }
            break;
        }
        default:
            return 0;
        }
    }
    return 1;
}

static size_t cstrlen(const uint8_t *p, size_t n)
{
    const void *z = memchr(p, 0, n);
    return z ? (size_t)((const uint8_t *)z - p) : n;
}

static void str_cmp(const char *what, const pb_str *s, const char *pc)
{
    if (!s->set) {
        if (pc)
            FAIL("%s: oracle has \"%s\", pb_decode has none", what, pc);
        return;
    }
    if (!pc)
        FAIL("%s: pb_decode has one, the oracle none", what);
    size_t n = cstrlen(s->p, s->len);
    if (strlen(pc) != n || memcmp(pc, s->p, n) != 0)
        FAIL("%s differs", what);
}

static void u64_cmp(const pb_record *r, const pb_tensor *t, int field, size_t n, const uint64_t *pc,
                    size_t pn, const char *what)
{
    if (n != pn)
        FAIL("%s: %zu vs oracle %zu", what, n, pn);
    if (!n)
        return;
    uint64_t *a = malloc(n * sizeof *a);
    pb_u64s(r, t, field, a);
    for (size_t i = 0; i < n; i++)
        if (a[i] != pc[i])
            FAIL("%s[%zu]: %llu vs oracle %llu", what, i, (unsigned long long)a[i],
                 (unsigned long long)pc[i]);
    free(a);
}

static void value_cmp(const pb_record *r, const pb_tensor *t, const Aialgs__Data__Value *v)
{
    int pc_case = v ? (int)v->value_case : 0;
    if ((int)t->dtype != pc_case)
        FAIL("dtype %d vs oracle %d", (int)t->dtype, pc_case);
    if (!pc_case)
        return;
    if (!t->present)
        FAIL("member set but not marked present");
    if (t->dtype == PB_BYTES) {
        const Aialgs__Data__Bytes *b = v->bytes;
        if (t->n_values != b->n_value)
            FAIL("Bytes items %zu vs oracle %zu", t->n_values, b->n_value);
        for (size_t i = 0; i < b->n_value; i++) {
            const pb_seg *g = pb_bytes_item(r, t, 1, i);
            if (!g || g->len != b->value[i].len ||
                (g->len && memcmp(g->p, b->value[i].data, g->len)))
                FAIL("Bytes item %zu differs", i);
        }
        const pb_seg *ct = pb_bytes_item(r, t, 2, 0);
        pb_str s = {ct ? ct->p : NULL, ct ? ct->len : 0, ct != NULL};
        str_cmp("content_type", &s, b->content_type);
        return;
    }
    size_t pn, w;
    const void *pv;
    const uint64_t *pk, *ps;
    size_t nk, ns;
    if (t->dtype == PB_F32) {
        const Aialgs__Data__Float32Tensor *x = v->float32_tensor;
        pn = x->n_values, pv = x->values, pk = x->keys, nk = x->n_keys, ps = x->shape,
        ns = x->n_shape, w = 4;
    } else if (t->dtype == PB_F64) {
        const Aialgs__Data__Float64Tensor *x = v->float64_tensor;
        pn = x->n_values, pv = x->values, pk = x->keys, nk = x->n_keys, ps = x->shape,
        ns = x->n_shape, w = 8;
    } else {
        const Aialgs__Data__Int32Tensor *x = v->int32_tensor;
        pn = x->n_values, pv = x->values, pk = x->keys, nk = x->n_keys, ps = x->shape,
        ns = x->n_shape, w = 4;
    }
    if (t->n_values != pn)
        FAIL("values %zu vs oracle %zu", t->n_values, pn);
    if (pn) {
        uint8_t *raw = malloc(pn * w);
        pb_values_raw(r, t, raw);
        if (memcmp(raw, pv, pn * w) != 0)
            FAIL("value bits differ");
        /* the converting accessors agree with the raw bits */
        double *d = malloc(pn * sizeof *d);
        float *f = malloc(pn * sizeof *f);
        pb_values_f64(r, t, d);
        pb_values_f32(r, t, f);
        for (size_t i = 0; i < pn; i++) {
            double want;
            if (t->dtype == PB_F32)
                want = ((const float *)pv)[i];
            else if (t->dtype == PB_F64)
                want = ((const double *)pv)[i];
            else
                want = ((const int32_t *)pv)[i];
            if (!(isnan(want) && isnan(d[i])) && memcmp(&want, &d[i], 8) != 0)
                FAIL("pb_values_f64[%zu] differs", i);
            float wf = (float)want;
            if (!(isnan(wf) && isnan(f[i])) && memcmp(&wf, &f[i], 4) != 0)
                FAIL("pb_values_f32[%zu] differs", i);
        }
        free(d);
        free(f);
        free(raw);
    }
    u64_cmp(r, t, 2, t->n_keys, pk, nk, "keys");
    u64_cmp(r, t, 3, t->n_shape, ps, ns, "shape");
}

typedef struct {
    const char *key;
    const Aialgs__Data__Value *value;
} kv;

static void map_cmp(const pb_record *r, int which, const kv *e, size_t n)
{
    size_t mine = which ? r->n_lab : r->n_feat;
    const pb_entry *arr = which ? r->lab : r->feat;
    int nul_keys = 0;
    for (size_t i = 0; i < mine; i++)
        if (memchr(arr[i].name, 0, arr[i].name_len))
            nul_keys = 1;
    /* D1: distinct keys, last one wins */
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) {
        const char *k = e[i].key ? e[i].key : "";
        int later = 0;
        for (size_t j = i + 1; j < n && !later; j++)
            later = strcmp(k, e[j].key ? e[j].key : "") == 0;
        if (later)
            continue;
        distinct++;
        if (nul_keys)
            continue; /* D2 */
        const pb_entry *pe = NULL;
        for (size_t j = 0; j < mine && !pe; j++)
            if (arr[j].name_len == strlen(k) && memcmp(arr[j].name, k, arr[j].name_len) == 0)
                pe = &arr[j];
        if (!pe)
            FAIL("%s key \"%s\" missing", which ? "label" : "features", k);
        value_cmp(r, &pe->t, e[i].value);
    }
    if (!nul_keys && distinct != mine)
        FAIL("%s: %zu entries vs oracle %zu", which ? "label" : "features", mine, distinct);
}

static void records_cmp(const pb_record *rec, const Aialgs__Data__Record *m)
{
    kv *e = malloc((m->n_features + m->n_label + 1) * sizeof *e);
    for (size_t i = 0; i < m->n_features; i++)
        e[i] = (kv){m->features[i]->key, m->features[i]->value};
    map_cmp(rec, 0, e, m->n_features);
    for (size_t i = 0; i < m->n_label; i++)
        e[i] = (kv){m->label[i]->key, m->label[i]->value};
    map_cmp(rec, 1, e, m->n_label);
    free(e);
    str_cmp("uid", &rec->uid, m->uid);
    str_cmp("metadata", &rec->metadata, m->metadata);
    str_cmp("configuration", &rec->configuration, m->configuration);
}

/* Set by reencode when a string held a NUL byte: pb_encode_in takes C strings, so such a
 * record cannot be re-encoded faithfully. */
static int g_lossy;

static void note_nul(const uint8_t *p, size_t n)
{
    if (n && memchr(p, 0, n))
        g_lossy = 1;
}

/* Re-encodes a decoded record with pb_encode (values copied out, merged segments flattened). */
static uint8_t *reencode(const pb_record *r, size_t *len)
{
    g_lossy = 0;
    size_t n_all = r->n_feat + r->n_lab;
    pb_entry_in *ein = calloc(n_all + 1, sizeof *ein);
    void **owned = calloc(4 * n_all + 1, sizeof *owned);
    char **names = calloc(n_all + 1, sizeof *names);
    for (size_t i = 0; i < n_all; i++) {
        const pb_entry *e = i < r->n_feat ? &r->feat[i] : &r->lab[i - r->n_feat];
        const pb_tensor *t = &e->t;
        note_nul(e->name, e->name_len);
        names[i] = calloc(e->name_len + 1, 1);
        memcpy(names[i], e->name, e->name_len);
        pb_tensor_in *ti = &ein[i].t;
        ein[i].name = names[i];
        ti->dtype = t->dtype;
        if (t->dtype == PB_BYTES) {
            pb_seg *items = calloc(t->n_values + 1, sizeof *items);
            for (size_t k = 0; k < t->n_values; k++)
                items[k] = *pb_bytes_item(r, t, 1, k);
            ti->values = items;
            ti->n_values = t->n_values;
            owned[4 * i] = items;
            const pb_seg *ct = pb_bytes_item(r, t, 2, 0);
            if (ct) {
                note_nul(ct->p, ct->len);
                char *s = calloc(ct->len + 1, 1);
                memcpy(s, ct->p, ct->len);
                ti->content_type = s;
                owned[4 * i + 1] = s;
            }
            continue;
        }
        if (t->dtype == PB_NONE)
            continue;
        void *vals = calloc(t->n_values + 1, 8);
        pb_values_raw(r, t, vals);
        uint64_t *k = calloc(t->n_keys + 1, 8), *s = calloc(t->n_shape + 1, 8);
        pb_u64s(r, t, 2, k);
        pb_u64s(r, t, 3, s);
        *ti = (pb_tensor_in){t->dtype, vals, t->n_values, k, t->n_keys, s, t->n_shape, NULL};
        owned[4 * i] = vals;
        owned[4 * i + 1] = k;
        owned[4 * i + 2] = s;
    }
    char *strs[3] = {0};
    const pb_str *src[3] = {&r->uid, &r->metadata, &r->configuration};
    for (int i = 0; i < 3; i++) {
        if (!src[i]->set)
            continue;
        note_nul(src[i]->p, src[i]->len);
        strs[i] = calloc(src[i]->len + 1, 1);
        memcpy(strs[i], src[i]->p, src[i]->len);
    }
    pb_record_in in = {ein, r->n_feat, ein + r->n_feat, r->n_lab, strs[0], strs[1], strs[2]};
    size_t n = pb_encoded_size(&in);
    uint8_t *out = malloc(n + 1);
    *len = pb_encode(&in, out);
    if (*len != n)
        FAIL("pb_encode wrote %zu bytes, pb_encoded_size said %zu", *len, n);
    for (size_t i = 0; i < 4 * n_all; i++)
        free(owned[i]);
    for (size_t i = 0; i < n_all; i++)
        free(names[i]);
    for (int i = 0; i < 3; i++)
        free(strs[i]);
    free(owned);
    free(names);
    free(ein);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pb_record rec;
    pb_record_init(&rec);
    ll_err err;
    /* copy so that reads past the end are caught by ASan */
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    g_in = data;
    g_in_len = size;
    int mine = pb_decode(buf, size, &rec, &err) == LL_OK;
    Aialgs__Data__Record *m = aialgs__data__record__unpack(NULL, size, buf);
    int quirk = 0, merge = 0;
    walk(buf, buf + size, 0, &quirk, &merge);
    if (mine != (m != NULL) && !quirk)
        FAIL("verdicts differ: pb_decode %s, protobuf-c %s (size %zu)",
             mine ? "accepts" : "rejects", m ? "accepts" : "rejects", size);
    if (mine && m && !merge)
        records_cmp(&rec, m);
    if (m && !quirk) {
        /* protobuf-c's own canonical encoding of what it read decodes to the same content
         * (not for quirk inputs: after D9 protobuf-c re-emits a field-0 unknown field) */
        size_t pn = aialgs__data__record__get_packed_size(m);
        uint8_t *packed = malloc(pn ? pn : 1);
        aialgs__data__record__pack(m, packed);
        pb_record rec3;
        pb_record_init(&rec3);
        if (pb_decode(packed, pn, &rec3, &err) != LL_OK)
            FAIL("pb_decode rejects protobuf-c's encoding of an accepted record");
        records_cmp(&rec3, m);
        pb_record_deinit(&rec3);
        free(packed);
    }
    if (m)
        aialgs__data__record__free_unpacked(m, NULL);
    if (mine) {
        /* canonical re-encoding decodes to the same content, and the oracle accepts it */
        size_t n;
        uint8_t *enc = reencode(&rec, &n);
        int lossy = g_lossy;
        pb_record rec2;
        pb_record_init(&rec2);
        if (pb_decode(enc, n, &rec2, &err) != LL_OK)
            FAIL("re-encoded record does not decode");
        Aialgs__Data__Record *m2 = aialgs__data__record__unpack(NULL, n, enc);
        if (!m2)
            FAIL("protobuf-c rejects pb_encode output");
        records_cmp(&rec2, m2);
        if (!lossy) {
            records_cmp(&rec, m2);
            /* a second round is a fixed point */
            size_t n2;
            uint8_t *enc2 = reencode(&rec2, &n2);
            if (n2 != n || memcmp(enc, enc2, n) != 0)
                FAIL("pb_encode is not a fixed point");
            free(enc2);
        }
        aialgs__data__record__free_unpacked(m2, NULL);
        pb_record_deinit(&rec2);
        free(enc);
        ll_batch b;
        ll_batch_init(&b);
        pb_row_to_batch(&rec, &b, &err);
        ll_batch_deinit(&b);
    }
    pb_record_deinit(&rec);
    free(buf);
    return 0;
}
