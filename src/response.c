/* SPDX-License-Identifier: Apache-2.0 */
/* response.c - inference response encoders (JSON, JSON Lines, RecordIO-protobuf, CSV) and the
 * Accept header's choice among them; the layouts are in response.h. Knows nothing about HTTP or
 * files. */
#include "response.h"
#include "err.h"
#include "media.h"
#include "mem.h"
#include "pb.h"
#include "rio.h"
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

ll_code response_buf_reserve(response_buf *b, size_t extra, ll_err *err)
{
    if (b->len + extra <= b->cap)
        return LL_OK;
    size_t n = b->cap ? b->cap : 4096;
    while (n < b->len + extra)
        n *= 2;
    uint8_t *p = mem_realloc(b->p, n);
    if (!p)
        return err_set(err, LL_E_NOMEM, "cannot grow a response to %zu bytes", n);
    b->p = p;
    b->cap = n;
    return LL_OK;
}

ll_code response_buf_put(response_buf *b, const void *p, size_t len, ll_err *err)
{
    ll_code rc = response_buf_reserve(b, len, err);
    if (rc != LL_OK)
        return rc;
    if (len)
        memcpy(b->p + b->len, p, len);
    b->len += len;
    return LL_OK;
}

void response_buf_deinit(response_buf *b)
{
    if (!b)
        return;
    mem_free(b->p);
    memset(b, 0, sizeof *b);
}

/* One media range of an Accept list, parameters stripped; 1 if it names a format we write. */
static int accept_range(const char *s, size_t n, response_format *out)
{
    size_t k = media_trim(&s, n);
#define IS(lit) (k == sizeof(lit) - 1 && strncasecmp(s, lit, k) == 0)
    /* wildcards here; concrete types from the one table (media.c) */
    if (k == 0 || IS("*/*") || IS("application/*")) {
        *out = RESP_JSON;
        return 1;
    }
    if (IS("text/*")) {
        *out = RESP_CSV;
        return 1;
    }
#undef IS
    switch (media_lookup(s, k)) {
    case MEDIA_JSON:
        *out = RESP_JSON;
        return 1;
    case MEDIA_JSONL:
        *out = RESP_JSONL;
        return 1;
    case MEDIA_RECORDIO:
        *out = RESP_RECORDIO;
        return 1;
    case MEDIA_CSV:
        *out = RESP_CSV;
        return 1;
    default:
        return 0;
    }
}

int response_parse_accept(const char *accept, response_format *out)
{
    if (!accept) {
        *out = RESP_JSON;
        return 1;
    }
    const char *s = accept;
    int any = 0;
    for (;;) {
        size_t n = strcspn(s, ",");
        size_t k = 0;
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
            k++;
        if (k < n) {
            any = 1;
            if (accept_range(s, n, out))
                return 1;
        }
        if (!s[n])
            break;
        s += n + 1;
    }
    if (!any) {
        *out = RESP_JSON;
        return 1;
    }
    return 0;
}

const char *response_content_type(response_format f)
{
    switch (f) {
    case RESP_JSONL:
        return media_name(MEDIA_JSONL);
    case RESP_RECORDIO:
        return media_name(MEDIA_RECORDIO);
    case RESP_CSV:
        return media_name(MEDIA_CSV);
    case RESP_JSON:
        break;
    }
    return media_name(MEDIA_JSON);
}

static locale_t c_locale(void)
{
    static locale_t loc;
    if (!loc)
        loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    return loc;
}

/* The decimal digits (no dot) and exponent of v printed with `prec` significant digits. */
static int sig_digits(double v, int prec, char *dig, int *exp10)
{
    char t[48];
    snprintf(t, sizeof t, "%.*e", prec - 1, v);
    int nd = 0;
    const char *q = t;
    if (*q == '-')
        q++;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9')
            dig[nd++] = *q;
    *exp10 = *q == 'e' ? atoi(q + 1) : 0;
    return nd;
}

/* Writes sign, digits and exponent in Python's repr layout: fixed for -4 <= exp < 16,
 * otherwise d.ddde+XX; a fixed number always has a fractional part. */
static size_t py_layout(char *o, int neg, const char *dig, int nd, int e)
{
    size_t n = 0;
    if (neg)
        o[n++] = '-';
    if (e >= -4 && e < 16) {
        if (e < 0) {
            o[n++] = '0';
            o[n++] = '.';
            for (int z = 0; z < -e - 1; z++)
                o[n++] = '0';
            memcpy(o + n, dig, (size_t)nd);
            n += (size_t)nd;
        } else {
            for (int k = 0; k <= e; k++)
                o[n++] = k < nd ? dig[k] : '0';
            o[n++] = '.';
            if (nd > e + 1) {
                memcpy(o + n, dig + e + 1, (size_t)(nd - e - 1));
                n += (size_t)(nd - e - 1);
            } else {
                o[n++] = '0';
            }
        }
    } else {
        o[n++] = dig[0];
        if (nd > 1) {
            o[n++] = '.';
            memcpy(o + n, dig + 1, (size_t)(nd - 1));
            n += (size_t)(nd - 1);
        }
        n += (size_t)sprintf(o + n, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    o[n] = 0;
    return n;
}

size_t response_json_num_ref(char *o, float f)
{
    if (isnan(f)) {
        memcpy(o, "NaN", 4);
        return 3;
    }
    if (isinf(f)) {
        if (f < 0) {
            memcpy(o, "-Infinity", 10);
            return 9;
        }
        memcpy(o, "Infinity", 9);
        return 8;
    }
    double v = f;
    if (v == 0) {
        return (size_t)sprintf(o, "%s", signbit(v) ? "-0.0" : "0.0");
    }
    /* The shortest of 15, 16, 17 significant digits that reads back as v: any decimal of up to
     * 15 digits survives a round trip, so the 15-digit form minus its trailing zeros is the
     * shortest when it reads back at all. The 15- and 16-digit forms are rounded from one
     * 17-digit printing, unless that printing ends in an exact half (double rounding), where
     * they are printed afresh. */
    char d17[40], dig[40];
    int e17 = 0, e = 0;
    int n17 = sig_digits(v, 17, d17, &e17);
    for (int prec = 15; prec <= 17; prec++) {
        int nd;
        if (prec == 17 || n17 != 17) {
            memcpy(dig, d17, 40);
            nd = n17;
            e = e17;
        } else {
            int half = d17[prec] == '5';
            for (int k = prec + 1; half && k < 17; k++)
                half = d17[k] == '0';
            if (half) {
                nd = sig_digits(v, prec, dig, &e);
            } else {
                memcpy(dig, d17, (size_t)prec);
                nd = prec;
                e = e17;
                if (d17[prec] >= '5') {
                    int k = prec - 1;
                    while (k >= 0 && dig[k] == '9')
                        dig[k--] = '0';
                    if (k >= 0) {
                        dig[k]++;
                    } else {
                        dig[0] = '1';
                        e++;
                    }
                }
            }
        }
        while (nd > 1 && dig[nd - 1] == '0')
            nd--;
        size_t n = py_layout(o, v < 0, dig, nd, e);
        if (prec == 17 || strtod_l(o, NULL, c_locale()) == v)
            return n;
    }
    return 0;
}

/* The fast path of response_json_num for |f| = m * 2^-s, 2^23 <= m < 2^24, 0 <= s <= 40 (every
 * normal float from 2^-17 ~ 7.6e-6 up to 2^24; probabilities and most scores): exact decimal
 * arithmetic in 128 bits, no printf or strtod. f is exactly N / 10^s with N = m * 5^s < 2^118.
 * A P-digit rounding D of it reads back as the double f iff |D - f| is at most half the
 * double's spacing around f (a tie goes to f: its 53-bit mantissa m * 2^29 is even), which is
 * 2^-(s+30) above f and, when m = 2^23 (a power of two), 2^-(s+31) below; in units of 10^-s
 * that is 5^s / 2^30 (or / 2^31). Returns 0 when f is out of that range. */
static size_t json_num_fast(char *o, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, 4);
    int bexp = (int)((bits >> 23) & 0xFF);
    if (bexp == 0 || bexp == 0xFF || bexp > 150 || bexp < 110)
        return 0;
    int s = 150 - bexp;
    uint32_t m = (bits & 0x7FFFFFu) | 0x800000u;
    typedef unsigned __int128 u128;
    u128 p5 = 1;
    for (int i = 0; i < s; i++)
        p5 *= 5;
    u128 N = (u128)m * p5;
    /* the digits of N: L of them */
    const uint64_t e18 = 1000000000000000000ull;
    uint64_t hi = (uint64_t)(N / e18), lo = (uint64_t)(N % e18);
    char dg[48];
    int L = 0;
    char t[24];
    int k = 0;
    if (hi) {
        for (uint64_t x = hi; x; x /= 10)
            t[k++] = (char)('0' + x % 10);
        while (k)
            dg[L++] = t[--k];
        for (int j = 17; j >= 0; j--, lo /= 10)
            dg[L + j] = (char)('0' + lo % 10);
        L += 18;
    } else {
        for (uint64_t x = lo; x; x /= 10)
            t[k++] = (char)('0' + x % 10);
        while (k)
            dg[L++] = t[--k];
    }
    int e10 = L - 1 - s; /* decimal exponent of the leading digit */
    for (int P = 15; P <= 17; P++) {
        char dig[24];
        int nd, e = e10;
        if (L <= P) { /* exact */
            memcpy(dig, dg, (size_t)L);
            nd = L;
        } else {
            int drop = L - P;
            u128 pw = 1;
            for (int j = 0; j < drop; j++)
                pw *= 10;
            u128 q = N / pw, r = N % pw, diff;
            int up = 2 * r > pw || (2 * r == pw && (q & 1));
            if (up) {
                q++;
                diff = pw - r;
            } else {
                diff = r;
            }
            int shift = !up && m == 0x800000u ? 31 : 30;
            if (P < 17 && (diff << shift) > p5)
                continue;
            uint64_t qq = (uint64_t)q;
            nd = 0;
            for (uint64_t x = qq; x; x /= 10)
                t[nd++] = (char)('0' + x % 10);
            for (int j = 0; j < nd; j++)
                dig[j] = t[nd - 1 - j];
            if (nd > P) /* rounded up to 10^P */
                e++;
        }
        while (nd > 1 && dig[nd - 1] == '0')
            nd--;
        return py_layout(o, (int)(bits >> 31), dig, nd, e);
    }
    return 0;
}

size_t response_json_num(char *o, float f)
{
    size_t n = json_num_fast(o, f);
    return n ? n : response_json_num_ref(o, f);
}

ll_code response_json_str(response_buf *b, const char *s, ll_err *err)
{
    size_t n = strlen(s);
    ll_code rc = response_buf_reserve(b, n * 6 + 2, err);
    if (rc != LL_OK)
        return rc;
    char *o = (char *)b->p + b->len, *o0 = o;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20) {
            o += sprintf(o, "\\u%04x", c);
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    b->len += (size_t)(o - o0);
    return LL_OK;
}

void response_init(response_enc *e, response_format f, ll_predictor pred, uint32_t n_out)
{
    memset(e, 0, sizeof *e);
    e->fmt = f;
    e->pred = pred;
    e->n_out = n_out ? n_out : 1;
}

ll_code response_begin(response_enc *e, response_buf *out, ll_err *err)
{
    if (e->fmt == RESP_JSON)
        return response_buf_put(out, "{\"predictions\": [", 17, err);
    return LL_OK;
}

ll_code response_end(response_enc *e, response_buf *out, ll_err *err)
{
    if (e->fmt == RESP_JSON)
        return response_buf_put(out, "]}", 2, err);
    return LL_OK;
}

/* A whole number of magnitude below 1e9 in decimal (no sprintf: two calls per row). */
static size_t put_int(char *o, long v)
{
    char t[24];
    size_t n = 0, k = 0;
    unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
    do
        t[n++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        o[k++] = '-';
    while (n)
        o[k++] = t[--n];
    return k;
}

static size_t put_label(char *o, float v)
{
    if (isfinite(v) && v == floorf(v) && fabsf(v) < 1e9f)
        return put_int(o, (long)v);
    return response_json_num(o, v);
}

/* {"score": ..., "predicted_label": ...} for one row. */
static size_t json_row(const response_enc *e, char *o, const float *sc, float label)
{
    char *o0 = o;
    memcpy(o, "{\"score\": ", 10);
    o += 10;
    if (e->pred == LL_MULTICLASS_CLASSIFIER) {
        *o++ = '[';
        for (uint32_t k = 0; k < e->n_out; k++) {
            if (k) {
                *o++ = ',';
                *o++ = ' ';
            }
            o += response_json_num(o, sc[k]);
        }
        *o++ = ']';
    } else {
        o += response_json_num(o, sc[0]);
    }
    if (e->pred != LL_REGRESSOR) {
        memcpy(o, ", \"predicted_label\": ", 21);
        o += 21;
        o += put_label(o, label);
    }
    *o++ = '}';
    return (size_t)(o - o0);
}

static ll_code rows_text(response_enc *e, const float *scores, const float *labels, size_t n,
                         response_buf *out, ll_err *err)
{
    /* per row: scores of up to 24 bytes each plus separators, a label and the keys */
    size_t per_row = (size_t)e->n_out * 28 + 64;
    for (size_t i = 0; i < n; i++) {
        ll_code rc = response_buf_reserve(out, per_row, err);
        if (rc != LL_OK)
            return rc;
        char *o = (char *)out->p + out->len, *o0 = o;
        const float *sc = scores + i * e->n_out;
        float lab = labels && e->pred != LL_REGRESSOR ? labels[i] : 0.0f;
        if (e->fmt == RESP_JSON) {
            if (e->n_rows + i) {
                *o++ = ',';
                *o++ = ' ';
            }
            o += json_row(e, o, sc, lab);
        } else if (e->fmt == RESP_JSONL) {
            o += json_row(e, o, sc, lab);
            *o++ = '\n';
        } else {
            if (e->pred != LL_REGRESSOR) {
                o += put_int(o, (long)lab);
                *o++ = ',';
            }
            for (uint32_t k = 0; k < e->n_out; k++) {
                if (k)
                    *o++ = ',';
                o += ll_f32_to_str(sc[k], o);
            }
            *o++ = '\n';
        }
        out->len += (size_t)(o - o0);
    }
    e->n_rows += n;
    return LL_OK;
}

/* The label map of one row: predicted_label (not for regressors), then score. */
static size_t row_entries(const response_enc *e, const float *score, const float *label,
                          pb_entry_in lab[2])
{
    memset(lab, 0, 2 * sizeof *lab);
    size_t n = 0;
    if (e->pred != LL_REGRESSOR) {
        lab[n].name = "predicted_label";
        lab[n].t.dtype = PB_F32;
        lab[n].t.values = label;
        lab[n].t.n_values = 1;
        n++;
    }
    lab[n].name = "score";
    lab[n].t.dtype = PB_F32;
    lab[n].t.values = score;
    lab[n].t.n_values = e->n_out;
    return n + 1;
}

/* Offset of the only occurrence of the 4 bytes of `bits` repeated k times in p[0..n), or -1. */
static long find_once(const uint8_t *p, size_t n, uint32_t bits, size_t k)
{
    long at = -1;
    for (size_t i = 0; i + 4 * k <= n; i++) {
        size_t j = 0;
        for (; j < k; j++) {
            uint32_t w;
            memcpy(&w, p + i + 4 * j, 4);
            if (w != bits)
                break;
        }
        if (j == k) {
            if (at >= 0)
                return -1;
            at = (long)i;
            i += 4 * k - 1;
        }
    }
    return at;
}

/* Builds the row template: a frame encoded with marker NaNs for the label and the scores, whose
 * offsets are then found by search. Falls back to per-row encoding if anything is off. */
static void build_tmpl(response_enc *e)
{
    const uint32_t lab_bits = 0x7FA1B2C3u, sc_bits = 0x7FC3D4E5u;
    float sc[RESP_TMPL_MAX / 4], lab;
    e->tmpl_state = -1;
    if (e->n_out > RESP_TMPL_MAX / 8)
        return;
    for (uint32_t k = 0; k < e->n_out; k++)
        memcpy(&sc[k], &sc_bits, 4);
    memcpy(&lab, &lab_bits, 4);
    pb_entry_in ent[2];
    pb_record_in r;
    memset(&r, 0, sizeof r);
    r.lab = ent;
    r.n_lab = row_entries(e, sc, &lab, ent);
    size_t len = pb_encoded_size(&r);
    if (rio_frame_size(len) > RESP_TMPL_MAX)
        return;
    uint8_t payload[RESP_TMPL_MAX];
    pb_encode(&r, payload);
    size_t n = rio_frame(e->tmpl, payload, len);
    long so = find_once(e->tmpl, n, sc_bits, e->n_out);
    long lo = e->pred != LL_REGRESSOR ? find_once(e->tmpl, n, lab_bits, 1) : 0;
    if (so < 0 || lo < 0)
        return;
    e->tmpl_len = (uint32_t)n;
    e->tmpl_score = (uint32_t)so;
    e->tmpl_label = (uint32_t)lo;
    e->tmpl_state = 1;
}

static ll_code rows_recordio(response_enc *e, const float *scores, const float *labels, size_t n,
                             response_buf *out, ll_err *err)
{
    if (e->tmpl_state == 0)
        build_tmpl(e);
    if (e->tmpl_state > 0) {
        ll_code rc = response_buf_reserve(out, n * e->tmpl_len, err);
        if (rc != LL_OK)
            return rc;
        uint8_t *o = out->p + out->len;
        size_t sc_bytes = (size_t)e->n_out * 4;
        for (size_t i = 0; i < n; i++, o += e->tmpl_len) {
            memcpy(o, e->tmpl, e->tmpl_len);
            memcpy(o + e->tmpl_score, scores + i * e->n_out, sc_bytes);
            if (e->pred != LL_REGRESSOR)
                memcpy(o + e->tmpl_label, labels + i, 4);
        }
        out->len += n * e->tmpl_len;
        e->n_rows += n;
        return LL_OK;
    }
    pb_entry_in lab[2];
    for (size_t i = 0; i < n; i++) {
        pb_record_in r;
        memset(&r, 0, sizeof r);
        r.lab = lab;
        r.n_lab = row_entries(e, scores + i * e->n_out, labels ? labels + i : NULL, lab);
        size_t len = pb_encoded_size(&r);
        ll_code rc = response_buf_reserve(out, rio_frame_size(len) + len, err);
        if (rc != LL_OK)
            return rc;
        /* encode after the frame's room, then frame it in place */
        uint8_t *tmp = out->p + out->len + rio_frame_size(len);
        pb_encode(&r, tmp);
        out->len += rio_frame(out->p + out->len, tmp, len);
    }
    e->n_rows += n;
    return LL_OK;
}

ll_code response_rows(response_enc *e, const float *scores, const float *labels, size_t n,
                      response_buf *out, ll_err *err)
{
    if (e->fmt == RESP_RECORDIO)
        return rows_recordio(e, scores, labels, n, out, err);
    return rows_text(e, scores, labels, n, out, err);
}
