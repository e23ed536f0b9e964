/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_vectors.c - checks every RecordIO-protobuf test vector in shared/testdata/recordio
 * (every *.json there, so vectors added later are covered) against its JSON: framing
 * (offsets, lengths, chunks, errors) through rio_reader, content through pb_decode, rows
 * through the public parser, the other split convention, and byte-exact re-encoding with
 * pb_encode + rio_frame / rio_write_dmlc where the generator makes that meaningful.
 */
#include "pb.h"
#include "rd.h"
#include "rio.h"
#include "support_pb.h"
#include "tt.h"
#include <dirent.h>
#include <jansson.h>
#include <math.h>

static char g_dir[512];
static const char *g_name; /* current vector (json file name) */
static json_t *g_j;        /* its JSON */
static uint8_t *g_data;    /* its data file */
static size_t g_len;
static int g_notes;

#define VFAIL(...)                                                                                 \
    do {                                                                                           \
        fprintf(stderr, "  [%s] ", g_name);                                                        \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        tt_cur_failed = 1;                                                                         \
        return;                                                                                    \
    } while (0)
#define VCHECK(c, ...)                                                                             \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "  [%s] %s:%d: CHECK(%s) failed: ", g_name, __FILE__, __LINE__, #c);   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            tt_cur_failed = 1;                                                                     \
            return;                                                                                \
        }                                                                                          \
    } while (0)
/* Like VCHECK for helpers returning int (0 = failed). */
#define ICHECK(c, ...)                                                                             \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "  [%s] %s:%d: CHECK(%s) failed: ", g_name, __FILE__, __LINE__, #c);   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            return 0;                                                                              \
        }                                                                                          \
    } while (0)

static const char *jstr(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long jint(const json_t *o, const char *k, long long dflt)
{
    const json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static const char *rio_kinds[] = {"truncated_header", "bad_magic", "truncated_payload",
                                  "unexpected_cflag", "too_long"};

static int is_rio_kind(const char *k)
{
    for (size_t i = 0; i < sizeof rio_kinds / sizeof *rio_kinds; i++)
        if (k && strcmp(k, rio_kinds[i]) == 0)
            return 1;
    return 0;
}

static ll_split_mode vec_mode(void)
{
    const char *m = jstr(g_j, "split_reassembly");
    return m && strcmp(m, "concat") == 0 ? LL_SPLIT_CONCAT : LL_SPLIT_DMLC;
}

static int is_framing_only(void)
{
    json_t *rows = json_object_get(g_j, "rows");
    size_t n = json_array_size(rows);
    for (size_t i = 0; i < n; i++)
        if (json_object_get(json_array_get(rows, i), "payload_hex"))
            return 1;
    const char *f = jstr(g_j, "file");
    size_t l = f ? strlen(f) : 0;
    return l > 4 && strcmp(f + l - 4, ".rio") == 0;
}

/* ---- JSON numbers -> bits ---- */

/* Parses one JSON number or "NaN"/"Infinity"/"-Infinity"; *is_nan set for NaN. */
static int jnum(const json_t *v, double *out, int *is_nan)
{
    *is_nan = 0;
    if (json_is_integer(v)) {
        *out = (double)json_integer_value(v);
        return 1;
    }
    if (json_is_real(v)) {
        *out = json_real_value(v);
        return 1;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strncmp(s, "NaN", 3) == 0 || strcmp(s, "nan") == 0 || strncmp(s, "-NaN", 4) == 0) {
            *out = NAN;
            *is_nan = 1;
            return 1;
        }
        if (strcmp(s, "Infinity") == 0 || strcmp(s, "inf") == 0) {
            *out = INFINITY;
            return 1;
        }
        if (strcmp(s, "-Infinity") == 0 || strcmp(s, "-inf") == 0) {
            *out = -INFINITY;
            return 1;
        }
    }
    return 0;
}

/* A NaN string that carries its bit pattern, such as "NaN(0x7fc00001)" or "NaN:0x7ff8...":
 * returns 1 and the bits. */
static int nan_payload(const json_t *v, uint64_t *bits)
{
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    const char *x = s ? strstr(s, "0x") : NULL;
    if (!x || !strstr(s, "NaN"))
        return 0;
    char *end;
    *bits = strtoull(x + 2, &end, 16);
    return end != x + 2;
}

/* Optional explicit bit patterns: an array under a key containing "bits" or "hex" (integers
 * or hex strings). Returns the array or NULL. */
static const json_t *bits_array(const json_t *t, const char **keyname)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)t, k, v)
    {
        if (json_is_array(v) &&
            (strstr(k, "bits") || (strstr(k, "hex") && strcmp(k, "payload_hex")))) {
            *keyname = k;
            return v;
        }
    }
    return NULL;
}

static int jbits(const json_t *v, uint64_t *out)
{
    if (json_is_integer(v)) {
        *out = (uint64_t)json_integer_value(v);
        return 1;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        *out = strtoull(s, &end, 16);
        return end != s && *end == 0;
    }
    return 0;
}

/* ---- comparing a decoded tensor with its JSON ---- */

static int u64_array_eq(const pb_record *r, const pb_tensor *t, int field, size_t n,
                        const json_t *arr, const char *what)
{
    size_t jn = json_array_size(arr);
    ICHECK(n == jn, "%s: %zu decoded, %zu expected", what, n, jn);
    uint64_t *a = malloc((n + 1) * sizeof *a);
    pb_u64s(r, t, field, a);
    for (size_t i = 0; i < n; i++) {
        uint64_t e = (uint64_t)json_integer_value(json_array_get(arr, i));
        uint64_t g = a[i];
        if (g != e) {
            free(a);
            ICHECK(0, "%s[%zu] = %llu, expected %llu", what, i, (unsigned long long)g,
                   (unsigned long long)e);
        }
    }
    free(a);
    return 1;
}

static int tensor_eq(const pb_record *r, const pb_tensor *t, const json_t *jt, const char *where)
{
    const char *dt = jstr(jt, "dtype");
    if (!dt)
        dt = "none"; /* a Value without member */
    ICHECK(strcmp(dt, pb_dtype_name(t->dtype)) == 0, "%s: dtype %s, expected %s", where,
           pb_dtype_name(t->dtype), dt);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)jt, k, v)
    {
        static const char *known[] = {"dtype", "values",       "keys",
                                      "shape", "value_base64", "content_type"};
        int ok = 0;
        for (size_t i = 0; i < sizeof known / sizeof *known; i++)
            ok |= strcmp(k, known[i]) == 0;
        const char *bk = NULL;
        if (!ok && !(bits_array(jt, &bk) && strcmp(bk, k) == 0)) {
            fprintf(stderr, "  [%s] note: %s: tensor key \"%s\" is not checked\n", g_name, where,
                    k);
            g_notes++;
        }
    }
    if (t->dtype == PB_BYTES) {
        const json_t *b64 = json_object_get(jt, "value_base64");
        size_t n_items = json_is_array(b64) ? json_array_size(b64) : b64 ? 1 : 0;
        ICHECK(t->n_values == n_items, "%s: %zu Bytes items, expected %zu", where, t->n_values,
               n_items);
        for (size_t i = 0; i < n_items; i++) {
            const json_t *s = json_is_array(b64) ? json_array_get(b64, i) : b64;
            size_t bl;
            uint8_t *bytes = tsup_unbase64(json_string_value(s), &bl);
            ICHECK(bytes, "%s: bad base64", where);
            const pb_seg *g = pb_bytes_item(r, t, 1, i);
            int same = g && g->len == bl && (bl == 0 || memcmp(g->p, bytes, bl) == 0);
            free(bytes);
            ICHECK(same, "%s: Bytes item %zu differs", where, i);
        }
        const char *ct = jstr(jt, "content_type");
        const pb_seg *g = pb_bytes_item(r, t, 2, 0);
        if (ct)
            ICHECK(g && g->len == strlen(ct) && memcmp(g->p, ct, g->len) == 0,
                   "%s: content_type differs from \"%s\"", where, ct);
        else
            ICHECK(!g, "%s: unexpected content_type", where);
        return 1;
    }
    const json_t *vals = json_object_get(jt, "values");
    size_t nv = json_array_size(vals);
    if (t->dtype == PB_NONE)
        ICHECK(nv == 0 && t->n_values == 0, "%s: a Value with no member has values", where);
    ICHECK(t->n_values == nv, "%s: %zu values decoded, %zu expected", where, t->n_values, nv);
    const char *bk = NULL;
    const json_t *bits = bits_array(jt, &bk);
    if (bits)
        ICHECK(json_array_size(bits) == nv, "%s: %s has %zu entries, values %zu", where, bk,
               json_array_size(bits), nv);
    if (nv && t->dtype != PB_NONE) {
        uint8_t *raw = malloc(nv * 8);
        pb_values_raw(r, t, raw);
        for (size_t i = 0; i < nv; i++) {
            double d;
            int is_nan;
            int parsed = jnum(json_array_get(vals, i), &d, &is_nan);
            if (!parsed) {
                free(raw);
                ICHECK(0, "%s: values[%zu] is not a number", where, i);
            }
            uint64_t got, want;
            int nan_got;
            if (t->dtype == PB_F32) {
                uint32_t g32, w32;
                float f = (float)d;
                memcpy(&g32, raw + 4 * i, 4);
                memcpy(&w32, &f, 4);
                got = g32;
                want = w32;
                nan_got = (g32 & 0x7F800000u) == 0x7F800000u && (g32 & 0x7FFFFFu);
            } else if (t->dtype == PB_F64) {
                memcpy(&got, raw + 8 * i, 8);
                memcpy(&want, &d, 8);
                double gd;
                memcpy(&gd, &got, 8);
                nan_got = isnan(gd);
            } else {
                int32_t gi;
                memcpy(&gi, raw + 4 * i, 4);
                got = (uint64_t)(int64_t)gi;
                want = (uint64_t)(int64_t)d;
                nan_got = 0;
                if ((double)(int64_t)d != d) {
                    free(raw);
                    ICHECK(0, "%s: int32 values[%zu] = %g is not an integer", where, i, d);
                }
            }
            uint64_t nb;
            if (nan_payload(json_array_get(vals, i), &nb)) {
                want = nb;
            } else if (bits) {
                uint64_t b;
                if (!jbits(json_array_get(bits, i), &b)) {
                    free(raw);
                    ICHECK(0, "%s: %s[%zu] unreadable", where, bk, i);
                }
                want = b;
            } else if (is_nan) {
                if (!nan_got) {
                    free(raw);
                    ICHECK(0, "%s: values[%zu] bits %llx, expected a NaN", where, i,
                           (unsigned long long)got);
                }
                continue;
            }
            if (got != want) {
                free(raw);
                ICHECK(0, "%s: values[%zu] bits %llx, expected %llx", where, i,
                       (unsigned long long)got, (unsigned long long)want);
            }
        }
        free(raw);
    }
    const json_t *keys = json_object_get(jt, "keys");
    if (keys) {
        if (!u64_array_eq(r, t, 2, t->n_keys, keys, "keys"))
            return 0;
    } else {
        ICHECK(t->n_keys == 0, "%s: %zu keys decoded, none expected", where, t->n_keys);
    }
    const json_t *shape = json_object_get(jt, "shape");
    if (shape) {
        if (!u64_array_eq(r, t, 3, t->n_shape, shape, "shape"))
            return 0;
    } else {
        ICHECK(t->n_shape == 0, "%s: %zu shape entries decoded, none expected", where, t->n_shape);
    }
    return 1;
}

static int map_eq(const pb_record *r, int which, const json_t *jm, size_t row)
{
    size_t n = which ? r->n_lab : r->n_feat;
    size_t jn = json_object_size(jm);
    ICHECK(n == jn, "row %zu: %s has %zu entries, expected %zu", row, which ? "label" : "features",
           n, jn);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)jm, k, v)
    {
        const pb_entry *e = pb_find(r, which, k);
        char where[200];
        snprintf(where, sizeof where, "row %zu %s[\"%s\"]", row, which ? "label" : "features", k);
        ICHECK(e, "%s: missing", where);
        if (!tensor_eq(r, &e->t, v, where))
            return 0;
    }
    return 1;
}

static int str_eq(const pb_str *s, const json_t *row, const char *key, size_t i)
{
    const char *e = jstr(row, key);
    if (!e) {
        ICHECK(!s->set, "row %zu: %s present but not expected", i, key);
        return 1;
    }
    ICHECK(s->set && s->len == strlen(e) && memcmp(s->p, e, s->len) == 0,
           "row %zu: %s differs from \"%s\"", i, key, e);
    return 1;
}

static int record_eq(const pb_record *r, const json_t *row, size_t i)
{
    const json_t *f = json_object_get(row, "features"), *l = json_object_get(row, "label");
    json_t *empty = json_object();
    int ok = map_eq(r, 0, f ? f : empty, i) && map_eq(r, 1, l ? l : empty, i) &&
             str_eq(&r->uid, row, "uid", i) && str_eq(&r->metadata, row, "metadata", i) &&
             str_eq(&r->configuration, row, "configuration", i);
    json_decref(empty);
    return ok;
}

/* ---- 1. rio_reader + pb_decode ---- */

static void check_framing_and_content(void)
{
    ll_err err;
    json_t *rows = json_object_get(g_j, "rows");
    size_t n_rows = json_array_size(rows);
    long long want_n = jint(g_j, "num_records", -1);
    VCHECK(want_n == (long long)n_rows, "num_records %lld but %zu rows", want_n, n_rows);
    int framing_only = is_framing_only();
    ll_reader *rd = ll_reader_mem(g_data, g_len, g_name);
    rio_reader rr;
    CHECK_OK(rio_reader_init(&rr, rd, vec_mode(), 0, &err));
    pb_record rec;
    pb_record_init(&rec);
    const json_t *je = json_object_get(g_j, "error");
    const char *ekind = json_is_object(je) ? jstr(je, "kind") : NULL;
    size_t i = 0;
    int fail = 0;
    for (;; i++) {
        const uint8_t *pl;
        size_t len;
        int eof;
        ll_code rc = rio_next(&rr, &pl, &len, &eof, &err);
        if (i < n_rows) {
            const json_t *row = json_array_get(rows, i);
            if (rc != LL_OK) {
                char eb[512];
                fprintf(stderr, "  [%s] row %zu: rio_next failed: %s\n", g_name, i,
                        ll_err_format(&err, eb, sizeof eb));
                fail = 1;
                break;
            }
            if (eof) {
                fprintf(stderr, "  [%s] end of stream after %zu records, expected %zu\n", g_name, i,
                        n_rows);
                fail = 1;
                break;
            }
            long long off = jint(row, "offset", -1), pl_len = jint(row, "payload_length", -1);
            if ((long long)rr.rec_off != off || (long long)len != pl_len) {
                fprintf(stderr, "  [%s] row %zu: offset %llu length %zu, expected %lld %lld\n",
                        g_name, i, (unsigned long long)rr.rec_off, len, off, pl_len);
                fail = 1;
                break;
            }
            const json_t *chunks = json_object_get(row, "chunks");
            size_t nch = chunks ? json_array_size(chunks) : 1;
            if (rr.n_frames != nch) {
                fprintf(stderr, "  [%s] row %zu: %u frames, expected %zu\n", g_name, i, rr.n_frames,
                        nch);
                fail = 1;
                break;
            }
            for (size_t c = 0; chunks && c < nch; c++) {
                const json_t *ch = json_array_get(chunks, c);
                long long co = jint(ch, "offset", -1);
                if (co < 0 || (size_t)co + 8 > g_len) {
                    fprintf(stderr, "  [%s] row %zu chunk %zu: offset %lld out of file\n", g_name,
                            i, c, co);
                    fail = 1;
                    break;
                }
                const uint8_t *h = g_data + co;
                uint32_t lrec = (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 |
                                (uint32_t)h[7] << 24;
                if (memcmp(h, "\x0A\x23\xD7\xCE", 4) ||
                    (long long)(lrec >> 29) != jint(ch, "cflag", -1) ||
                    (long long)(lrec & RIO_MAX_LEN) != jint(ch, "length", -1)) {
                    fprintf(stderr, "  [%s] row %zu chunk %zu: header at %lld disagrees\n", g_name,
                            i, c, co);
                    fail = 1;
                    break;
                }
            }
            if (fail)
                break;
            const char *sha = jstr(row, "payload_sha256");
            if (sha) {
                char hex[65];
                tsup_sha256_hex(pl, len, hex);
                if (strcmp(hex, sha) != 0) {
                    fprintf(stderr, "  [%s] row %zu: payload sha256 %s, expected %s\n", g_name, i,
                            hex, sha);
                    fail = 1;
                    break;
                }
            }
            const char *ph = jstr(row, "payload_hex");
            if (ph) {
                size_t hl;
                uint8_t *hb = tsup_unhex(ph, &hl);
                int same = hb && hl == len && (len == 0 || memcmp(hb, pl, len) == 0);
                free(hb);
                if (!same) {
                    fprintf(stderr, "  [%s] row %zu: payload differs from payload_hex\n", g_name,
                            i);
                    fail = 1;
                    break;
                }
            }
            if (!framing_only) {
                if (pb_decode(pl, len, &rec, &err) != LL_OK) {
                    char eb[512];
                    fprintf(stderr, "  [%s] row %zu: pb_decode: %s\n", g_name, i,
                            ll_err_format(&err, eb, sizeof eb));
                    fail = 1;
                    break;
                }
                if (!record_eq(&rec, row, i)) {
                    fail = 1;
                    break;
                }
            }
            continue;
        }
        /* after the expected rows */
        if (!ekind) {
            if (rc != LL_OK || !eof) {
                fprintf(stderr, "  [%s] expected a clean end after %zu records (rc %d eof %d)\n",
                        g_name, i, (int)rc, eof);
                fail = 1;
            }
            break;
        }
        long long eoff = jint(je, "offset", -1),
                  before = jint(je, "complete_records_before_error", -1);
        if (before != (long long)n_rows) {
            fprintf(stderr, "  [%s] complete_records_before_error %lld but %zu rows\n", g_name,
                    before, n_rows);
            fail = 1;
            break;
        }
        if (is_rio_kind(ekind)) {
            if (rc == LL_OK) {
                fprintf(stderr, "  [%s] expected error %s at %lld, got %s\n", g_name, ekind, eoff,
                        eof ? "end of stream" : "a record");
                fail = 1;
            } else if (strcmp(rio_fault_name(rr.fault), ekind) != 0 ||
                       err.offset != (uint64_t)eoff || !(err.has & LL_ERR_OFFSET) ||
                       !(err.has & LL_ERR_RECORD) || err.record != (uint64_t)before) {
                char eb[512];
                fprintf(stderr, "  [%s] expected %s at offset %lld record %lld, got %s (%s)\n",
                        g_name, ekind, eoff, before, rio_fault_name(rr.fault),
                        ll_err_format(&err, eb, sizeof eb));
                fail = 1;
            }
        } else {
            /* A kind the framing layer does not produce: the record must frame fine and fail to
             * decode as a Record (a protobuf-level error). */
            if (rc != LL_OK || eof) {
                fprintf(stderr, "  [%s] error kind %s: expected a framed record at %lld\n", g_name,
                        ekind, eoff);
                fail = 1;
            } else if (pb_decode(pl, len, &rec, &err) == LL_OK) {
                fprintf(stderr, "  [%s] error kind %s: the record at %llu decodes fine\n", g_name,
                        ekind, (unsigned long long)rr.rec_off);
                fail = 1;
            } else if (rr.rec_off != (uint64_t)eoff &&
                       rr.rec_off + 8 + err.offset != (uint64_t)eoff) {
                fprintf(stderr,
                        "  [%s] error kind %s: at record offset %llu (payload byte %llu), "
                        "expected %lld\n",
                        g_name, ekind, (unsigned long long)rr.rec_off,
                        (unsigned long long)err.offset, eoff);
                fail = 1;
            } else {
                fprintf(stderr,
                        "  [%s] note: error kind \"%s\" checked as a protobuf decode error\n",
                        g_name, ekind);
                g_notes++;
            }
        }
        break;
    }
    pb_record_deinit(&rec);
    rio_reader_deinit(&rr);
    ll_reader_free(rd);
    VCHECK(!fail, "framing/content check failed");
}

/* ---- 2. the other reassembly convention ---- */

static void check_other_mode(void)
{
    ll_err err;
    json_t *rows = json_object_get(g_j, "rows");
    ll_split_mode other = vec_mode() == LL_SPLIT_DMLC ? LL_SPLIT_CONCAT : LL_SPLIT_DMLC;
    const char *key = other == LL_SPLIT_DMLC ? "if_reassembled_dmlc" : "if_reassembled_concat";
    ll_reader *rd = ll_reader_mem(g_data, g_len, g_name);
    rio_reader rr;
    CHECK_OK(rio_reader_init(&rr, rd, other, 0, &err));
    pb_record rec;
    pb_record_init(&rec);
    int fail = 0;
    for (size_t i = 0; i < json_array_size(rows) && !fail; i++) {
        const json_t *row = json_array_get(rows, i), *alt = json_object_get(row, key);
        const uint8_t *pl;
        size_t len;
        int eof;
        if (rio_next(&rr, &pl, &len, &eof, &err) != LL_OK || eof) {
            fprintf(stderr, "  [%s] other mode: row %zu not read\n", g_name, i);
            fail = 1;
            break;
        }
        if ((long long)rr.rec_off != jint(row, "offset", -1)) {
            fprintf(stderr, "  [%s] other mode: row %zu at %llu\n", g_name, i,
                    (unsigned long long)rr.rec_off);
            fail = 1;
        }
        if (!alt) {
            /* single-frame records read the same in both modes */
            if (!json_object_get(row, "chunks") &&
                (long long)len != jint(row, "payload_length", -1)) {
                fprintf(stderr, "  [%s] other mode: row %zu length %zu\n", g_name, i, len);
                fail = 1;
            }
            continue;
        }
        char hex[65];
        tsup_sha256_hex(pl, len, hex);
        const char *sha = jstr(alt, "payload_sha256");
        const json_t *parses = json_object_get(alt, "parses_as_record");
        int ok = pb_decode(pl, len, &rec, &err) == LL_OK;
        if ((long long)len != jint(alt, "payload_length", -1) || (sha && strcmp(sha, hex)) ||
            (parses && json_is_true(parses) != ok)) {
            fprintf(stderr, "  [%s] other mode: row %zu: length %zu sha %s parses %d\n", g_name, i,
                    len, hex, ok);
            fail = 1;
        }
    }
    pb_record_deinit(&rec);
    rio_reader_deinit(&rr);
    ll_reader_free(rd);
    VCHECK(!fail, "other reassembly mode check failed");
}

/* ---- 3. the public parser ---- */

typedef struct {
    float *val;
    uint32_t *idx;
    size_t n;
    uint64_t dim;
    int sparse;
    float *lab;
    size_t n_lab;
    int representable; /* 0: the parser must refuse this record */
} exp_row;

static void tofloats(const json_t *jt, float *out, size_t n)
{
    const json_t *vals = json_object_get(jt, "values");
    const char *dt = jstr(jt, "dtype");
    for (size_t i = 0; i < n; i++) {
        double d;
        int is_nan;
        jnum(json_array_get(vals, i), &d, &is_nan);
        if (dt && strcmp(dt, "int32") == 0)
            out[i] = (float)(int32_t)(int64_t)d;
        else
            out[i] = (float)d;
    }
}

static void expected_row(const json_t *row, exp_row *x)
{
    memset(x, 0, sizeof *x);
    const json_t *ft = json_object_get(json_object_get(row, "features"), "values");
    const json_t *lt = json_object_get(json_object_get(row, "label"), "values");
    const char *fd = ft ? jstr(ft, "dtype") : NULL;
    const char *ld = lt ? jstr(lt, "dtype") : NULL;
    if (!ft || (fd && strcmp(fd, "bytes") == 0) || (ld && strcmp(ld, "bytes") == 0))
        return;
    const json_t *vals = json_object_get(ft, "values"), *keys = json_object_get(ft, "keys"),
                 *shape = json_object_get(ft, "shape");
    x->n = json_array_size(vals);
    size_t nk = json_array_size(keys), ns = json_array_size(shape);
    uint64_t prod = 1;
    for (size_t i = 0; i < ns; i++)
        prod *= (uint64_t)json_integer_value(json_array_get(shape, i));
    if (nk) {
        if (!ns || nk != x->n)
            return;
        for (size_t i = 0; i < nk; i++) {
            uint64_t k = (uint64_t)json_integer_value(json_array_get(keys, i));
            if (k >= prod || k > UINT32_MAX)
                return;
        }
    } else if (ns && x->n && prod != x->n) {
        return;
    }
    x->sparse = nk > 0 || (ns > 0 && x->n == 0);
    x->dim = ns ? prod : x->n;
    x->val = calloc(x->n + 1, sizeof *x->val);
    tofloats(ft, x->val, x->n);
    if (nk) {
        x->idx = calloc(nk, sizeof *x->idx);
        for (size_t i = 0; i < nk; i++)
            x->idx[i] = (uint32_t)json_integer_value(json_array_get(keys, i));
    }
    if (lt && ld && strcmp(ld, "none") != 0) {
        x->n_lab = json_array_size(json_object_get(lt, "values"));
        x->lab = calloc(x->n_lab + 1, sizeof *x->lab);
        tofloats(lt, x->lab, x->n_lab);
    }
    x->representable = 1;
}

static int feq(float a, float b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

static int row_eq(const ll_batch *b, size_t r, const exp_row *x, size_t gi)
{
    size_t o = b->off[r], n = b->off[r + 1] - o;
    ICHECK(n == x->n, "parser row %zu: %zu values, expected %zu", gi, n, x->n);
    ICHECK(b->dim[r] == x->dim, "parser row %zu: dim %llu, expected %llu", gi,
           (unsigned long long)b->dim[r], (unsigned long long)x->dim);
    ICHECK(!!b->sparse[r] == x->sparse, "parser row %zu: sparse %d, expected %d", gi, b->sparse[r],
           x->sparse);
    for (size_t i = 0; i < n; i++) {
        ICHECK(feq(b->val[o + i], x->val[i]), "parser row %zu: value %zu = %g, expected %g", gi, i,
               b->val[o + i], x->val[i]);
        if (x->sparse)
            ICHECK(b->idx[o + i] == x->idx[i], "parser row %zu: index %zu = %u, expected %u", gi, i,
                   b->idx[o + i], x->idx[i]);
    }
    size_t lo = b->loff[r], ln = b->loff[r + 1] - lo;
    ICHECK(ln == x->n_lab, "parser row %zu: %zu labels, expected %zu", gi, ln, x->n_lab);
    for (size_t i = 0; i < ln; i++)
        ICHECK(feq(b->label[lo + i], x->lab[i]), "parser row %zu: label %zu = %g, expected %g", gi,
               i, b->label[lo + i], x->lab[i]);
    return 1;
}

static void check_parser(void)
{
    if (is_framing_only())
        return;
    ll_err err;
    json_t *rows = json_object_get(g_j, "rows");
    size_t n_rows = json_array_size(rows);
    const json_t *je = json_object_get(g_j, "error");
    const char *ekind = json_is_object(je) ? jstr(je, "kind") : NULL;
    /* first row the parser must refuse, if any */
    size_t stop = n_rows;
    exp_row *ex = calloc(n_rows + 1, sizeof *ex);
    for (size_t i = 0; i < n_rows; i++) {
        expected_row(json_array_get(rows, i), &ex[i]);
        if (!ex[i].representable && stop == n_rows)
            stop = i;
    }
    ll_parse_opts o;
    ll_parse_opts_init(&o);
    o.format = LL_FMT_RECORDIO;
    o.split = vec_mode();
    ll_reader *rd = ll_reader_mem(g_data, g_len, g_name);
    ll_parser *p = NULL;
    ll_batch b;
    ll_batch_init(&b);
    int fail = 0;
    ll_code rc = ll_parser_new(rd, &o, &p, &err);
    size_t got = 0;
    int eof = 0;
    size_t max_rows = (ekind || stop < n_rows) ? 1 : 7;
    while (rc == LL_OK && !eof && !fail) {
        rc = ll_parser_next(p, &b, max_rows, &eof, &err);
        if (rc != LL_OK)
            break;
        for (size_t r = 0; r < b.n_rows; r++, got++) {
            if (got >= stop) {
                fprintf(stderr, "  [%s] parser: delivered row %zu, expected at most %zu\n", g_name,
                        got, stop);
                fail = 1;
                break;
            }
            if (!row_eq(&b, r, &ex[got], got)) {
                fail = 1;
                break;
            }
        }
    }
    if (!fail) {
        if (stop < n_rows) {
            if (rc != LL_E_PARSE || got != stop || err.record != stop) {
                fprintf(
                    stderr,
                    "  [%s] parser: expected a refusal at record %zu, got rc %d after %zu rows\n",
                    g_name, stop, (int)rc, got);
                fail = 1;
            }
        } else if (ekind) {
            long long before = jint(je, "complete_records_before_error", -1),
                      eoff = jint(je, "offset", -1);
            if (rc == LL_OK || got != (size_t)before || err.record != (uint64_t)before ||
                (is_rio_kind(ekind) && err.offset != (uint64_t)eoff)) {
                char eb[512];
                fprintf(stderr,
                        "  [%s] parser: expected %s after %lld rows at %lld, got rc %d after %zu "
                        "rows: %s\n",
                        g_name, ekind, before, eoff, (int)rc, got,
                        rc ? ll_err_format(&err, eb, sizeof eb) : "");
                fail = 1;
            }
        } else if (rc != LL_OK || got != n_rows) {
            char eb[512];
            fprintf(stderr, "  [%s] parser: rc %d after %zu of %zu rows: %s\n", g_name, (int)rc,
                    got, n_rows, rc ? ll_err_format(&err, eb, sizeof eb) : "");
            fail = 1;
        }
    }
    for (size_t i = 0; i < n_rows; i++) {
        free(ex[i].val);
        free(ex[i].idx);
        free(ex[i].lab);
    }
    free(ex);
    ll_batch_deinit(&b);
    ll_parser_free(p);
    ll_reader_free(rd);
    VCHECK(!fail, "parser check failed");
}

/* ---- 4. re-encoding ---- */

typedef struct {
    pb_entry_in *e;
    size_t n;
    void **owned;
    size_t n_owned;
} enc_map;

static void *own(enc_map *m, void *p)
{
    m->owned = realloc(m->owned, (m->n_owned + 1) * sizeof *m->owned);
    m->owned[m->n_owned++] = p;
    return p;
}

static int build_map(const json_t *jm, enc_map *m)
{
    memset(m, 0, sizeof *m);
    size_t n = json_object_size(jm);
    m->e = calloc(n + 1, sizeof *m->e);
    const char *k;
    json_t *jt;
    json_object_foreach((json_t *)jm, k, jt)
    {
        pb_entry_in *e = &m->e[m->n++];
        e->name = k;
        const char *dt = jstr(jt, "dtype");
        pb_tensor_in *t = &e->t;
        t->dtype = !dt                          ? PB_NONE
                   : strcmp(dt, "float32") == 0 ? PB_F32
                   : strcmp(dt, "float64") == 0 ? PB_F64
                   : strcmp(dt, "int32") == 0   ? PB_I32
                   : strcmp(dt, "bytes") == 0   ? PB_BYTES
                                                : PB_NONE;
        if (t->dtype == PB_BYTES) {
            const json_t *b64 = json_object_get(jt, "value_base64");
            size_t ni = json_is_array(b64) ? json_array_size(b64) : b64 ? 1 : 0;
            pb_seg *items = own(m, calloc(ni + 1, sizeof *items));
            for (size_t i = 0; i < ni; i++) {
                size_t bl;
                const json_t *s = json_is_array(b64) ? json_array_get(b64, i) : b64;
                uint8_t *bytes = own(m, tsup_unbase64(json_string_value(s), &bl));
                items[i] = (pb_seg){bytes, (uint32_t)bl, 1};
            }
            t->values = items;
            t->n_values = ni;
            t->content_type = jstr(jt, "content_type");
            continue;
        }
        const json_t *vals = json_object_get(jt, "values");
        size_t nv = json_array_size(vals);
        const char *bk = NULL;
        const json_t *bits = bits_array(jt, &bk);
        if (t->dtype == PB_F32) {
            float *v = own(m, calloc(nv + 1, sizeof *v));
            for (size_t i = 0; i < nv; i++) {
                double d;
                int is_nan;
                uint64_t b;
                jnum(json_array_get(vals, i), &d, &is_nan);
                v[i] = (float)d;
                if (nan_payload(json_array_get(vals, i), &b) ||
                    (bits && jbits(json_array_get(bits, i), &b))) {
                    uint32_t b32 = (uint32_t)b;
                    memcpy(&v[i], &b32, 4);
                }
            }
            t->values = v;
        } else if (t->dtype == PB_F64) {
            double *v = own(m, calloc(nv + 1, sizeof *v));
            for (size_t i = 0; i < nv; i++) {
                int is_nan;
                uint64_t b;
                jnum(json_array_get(vals, i), &v[i], &is_nan);
                if (nan_payload(json_array_get(vals, i), &b) ||
                    (bits && jbits(json_array_get(bits, i), &b)))
                    memcpy(&v[i], &b, 8);
            }
            t->values = v;
        } else if (t->dtype == PB_I32) {
            int32_t *v = own(m, calloc(nv + 1, sizeof *v));
            for (size_t i = 0; i < nv; i++)
                v[i] = (int32_t)json_integer_value(json_array_get(vals, i));
            t->values = v;
        }
        t->n_values = t->dtype == PB_NONE ? 0 : nv;
        for (int f = 0; f < 2; f++) {
            const json_t *a = json_object_get(jt, f ? "shape" : "keys");
            size_t na = json_array_size(a);
            uint64_t *u = own(m, calloc(na + 1, sizeof *u));
            for (size_t i = 0; i < na; i++)
                u[i] = (uint64_t)json_integer_value(json_array_get(a, i));
            if (f) {
                t->shape = u;
                t->n_shape = na;
            } else {
                t->keys = u;
                t->n_keys = na;
            }
        }
    }
    return 1;
}

static void free_map(enc_map *m)
{
    for (size_t i = 0; i < m->n_owned; i++)
        free(m->owned[i]);
    free(m->owned);
    free(m->e);
}

/* Encodes row i of the JSON (pb_encode); returns a malloc'd payload. */
static uint8_t *encode_row(const json_t *row, size_t *len)
{
    enc_map f, l;
    json_t *empty = json_object();
    const json_t *jf = json_object_get(row, "features"), *jl = json_object_get(row, "label");
    build_map(jf ? jf : empty, &f);
    build_map(jl ? jl : empty, &l);
    pb_record_in in = {
        f.e, f.n, l.e, l.n, jstr(row, "uid"), jstr(row, "metadata"), jstr(row, "configuration")};
    size_t n = pb_encoded_size(&in);
    uint8_t *p = malloc(n + 1);
    *len = pb_encode(&in, p);
    if (*len != n) {
        fprintf(stderr, "  [%s] pb_encode wrote %zu bytes, pb_encoded_size said %zu\n", g_name,
                *len, n);
        free(p);
        p = NULL;
    }
    free_map(&f);
    free_map(&l);
    json_decref(empty);
    return p;
}

typedef enum { GEN_SDK, GEN_SDK_HAND, GEN_DMLC, GEN_OTHER } gen_kind;

static gen_kind generator(void)
{
    const char *g = jstr(g_j, "generator");
    if (!g)
        return GEN_OTHER;
    if (strstr(g, "dmlc"))
        return GEN_DMLC;
    if (strstr(g, "SDK") || strstr(g, "sagemaker-python-sdk"))
        return strstr(g, "hand") ? GEN_SDK_HAND : GEN_SDK;
    return GEN_OTHER;
}

/* Re-creates the file: payloads either re-encoded from the JSON (encode = 1) or taken from the
 * reader, framed as the generator framed them; compares with the file (up to the error offset
 * for broken files). */
static int reproduce(int encode, int strict)
{
    ll_err err;
    json_t *rows = json_object_get(g_j, "rows");
    size_t n_rows = json_array_size(rows);
    gen_kind g = generator();
    tsup_buf out = {0};
    ll_writer *w;
    if (tsup_mem_writer(&out, &w, &err) != LL_OK)
        return 0;
    ll_reader *rd = ll_reader_mem(g_data, g_len, g_name);
    rio_reader rr;
    rio_reader_init(&rr, rd, vec_mode(), 0, &err);
    int ok = 1;
    for (size_t i = 0; i < n_rows && ok; i++) {
        const uint8_t *pl;
        size_t len;
        int eof;
        uint8_t *mine = NULL;
        if (rio_next(&rr, &pl, &len, &eof, &err) != LL_OK || eof) {
            ok = 0;
            break;
        }
        if (encode) {
            mine = encode_row(json_array_get(rows, i), &len);
            if (!mine) {
                ok = 0;
                break;
            }
            pl = mine;
        }
        ll_code rc = g == GEN_DMLC ? rio_write_dmlc(w, pl, len, &err) : rio_write(w, pl, len, &err);
        if (rc == LL_OK && g != GEN_DMLC) {
            /* rio_frame must agree with rio_write */
            uint8_t *fb = malloc(rio_frame_size(len));
            size_t fl = rio_frame(fb, pl, len);
            ll_writer_commit(w, &err); /* flush into out */
            if (fl != rio_frame_size(len) || out.n < fl || memcmp(out.p + out.n - fl, fb, fl)) {
                fprintf(stderr, "  [%s] row %zu: rio_frame differs from rio_write\n", g_name, i);
                ok = 0;
            }
            free(fb);
            tsup_mem_writer(&out, &w, &err);
        }
        free(mine);
        if (rc != LL_OK)
            ok = 0;
    }
    ll_writer_commit(w, &err);
    rio_reader_deinit(&rr);
    ll_reader_free(rd);
    const json_t *je = json_object_get(g_j, "error");
    size_t want = json_is_object(je) ? (size_t)jint(je, "offset", 0) : g_len;
    if (want > g_len)
        want = g_len;
    if (ok && (out.n != want || (want && memcmp(out.p, g_data, want) != 0))) {
        size_t k = 0;
        while (k < out.n && k < want && out.p[k] == g_data[k])
            k++;
        fprintf(stderr, "  [%s] %s%s: %zu bytes, file %zu; first difference at byte %zu\n", g_name,
                strict ? "" : "note: ",
                encode ? "re-encoded records differ from the file" : "re-framed payloads differ",
                out.n, want, k);
        ok = 0;
    }
    free(out.p);
    return ok;
}

static void check_reencode(void)
{
    gen_kind g = generator();
    if (g == GEN_OTHER)
        return;
    /* framing: the payloads as read, framed the generator's way, give the file back */
    VCHECK(reproduce(0, 1), "re-framing failed (generator \"%s\")", jstr(g_j, "generator"));
    if (is_framing_only())
        return;
    /* content: records re-encoded from the JSON alone give the file back. Hand-built payloads
     * may hold non-canonical encodings on purpose (unknown fields, unpacked values), so for
     * them a difference is only reported; hand_multidim_shape is required to match below. */
    int strict = g != GEN_SDK_HAND || strcmp(g_name, "hand_multidim_shape.json") == 0;
    int ok = reproduce(1, strict);
    if (!ok && !strict)
        g_notes++;
    VCHECK(ok || !strict, "re-encoding failed (generator \"%s\")", jstr(g_j, "generator"));
}

/* ---- driver ---- */

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_check(const char *what, void (*fn)(void))
{
    tt_cur_failed = 0;
    fn();
    if (tt_cur_failed) {
        tt_failed++;
        fprintf(stderr, "FAIL %s: %s %s\n", tt_name, g_name, what);
        return 0;
    }
    tt_passed++;
    if (getenv("TT_VERBOSE"))
        printf("ok   %s: %s %s\n", tt_name, g_name, what);
    return 1;
}

static void file_loaded(void)
{
    const char *sha = jstr(g_j, "sha256");
    VCHECK(g_data, "data file %s not readable", jstr(g_j, "file"));
    VCHECK(jint(g_j, "file_size", -1) == (long long)g_len, "file_size %lld, file has %zu",
           jint(g_j, "file_size", -1), g_len);
    if (sha) {
        char hex[65];
        tsup_sha256_hex(g_data, g_len, hex);
        VCHECK(strcmp(hex, sha) == 0, "sha256 %s, expected %s", hex, sha);
    }
}

static void sha_selftest(void)
{
    char hex[65];
    tsup_sha256_hex("abc", 3, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    tsup_sha256_hex("", 0, hex);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    const char *s56 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    tsup_sha256_hex(s56, strlen(s56), hex);
    CHECK(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0);
}

static int g_count;

static void at_least_the_developer_set(void)
{
    CHECKF(g_count >= 15, "only %d vectors found in %s", g_count, g_dir);
}

/* Lists the *.json vectors of dir not already in names[0..*nn) (by file name), with their dir. */
static void list_vectors(const char *dir, char ***names, char ***dirs, size_t *nn)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t first = *nn;
    while (d && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l <= 5 || strcmp(e->d_name + l - 5, ".json") != 0)
            continue;
        int seen = 0;
        for (size_t i = 0; i < first; i++)
            seen |= strcmp((*names)[i], e->d_name) == 0;
        if (seen)
            continue;
        *names = realloc(*names, (*nn + 1) * sizeof **names);
        *dirs = realloc(*dirs, (*nn + 1) * sizeof **dirs);
        (*names)[*nn] = strdup(e->d_name);
        (*dirs)[*nn] = strdup(dir);
        (*nn)++;
    }
    if (d)
        closedir(d);
    /* one folder per call, so sorting the names keeps each beside its folder */
    qsort(*names + first, *nn - first, sizeof **names, cmpstr);
}

int main(void)
{
    TT_BEGIN("test_vectors");
    RUN(sha_selftest);
    char **names = NULL, **dirs = NULL;
    size_t nn = 0;
    /* The repository's own vectors, then any extra ones beside the checkout (hold-out sets). */
    snprintf(g_dir, sizeof g_dir, "%s/recordio", tt_testdata());
    list_vectors(g_dir, &names, &dirs, &nn);
    size_t n_own = nn;
    const char *extra = tt_extra_testdata();
    if (extra) {
        char xd[512];
        snprintf(xd, sizeof xd, "%s/recordio", extra);
        list_vectors(xd, &names, &dirs, &nn);
    }
    if (nn > n_own)
        printf("test_vectors: %zu extra vectors from %s\n", nn - n_own, extra);
    for (size_t i = 0; i < nn; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dirs[i], names[i]);
        g_name = names[i];
        json_error_t je;
        g_j = json_load_file(path, 0, &je);
        g_count++;
        if (!g_j) {
            fprintf(stderr, "  [%s] JSON error: %s (line %d)\n", g_name, je.text, je.line);
            tt_failed++;
            free(names[i]);
            free(dirs[i]);
            continue;
        }
        const char *file = jstr(g_j, "file");
        snprintf(path, sizeof path, "%s/%s", dirs[i], file ? file : "");
        g_data = file ? tt_read_file(path, &g_len) : NULL;
        if (run_check("data file", file_loaded)) {
            run_check("framing+content", check_framing_and_content);
            run_check("other split mode", check_other_mode);
            run_check("parser", check_parser);
            run_check("re-encode", check_reencode);
        }
        free(g_data);
        g_data = NULL;
        json_decref(g_j);
        free(names[i]);
        free(dirs[i]);
    }
    free(dirs);
    free(names);
    RUN(at_least_the_developer_set);
    if (g_notes)
        fprintf(stderr, "test_vectors: %d notes (see above)\n", g_notes);
    TT_END();
}
