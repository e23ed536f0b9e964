/* SPDX-License-Identifier: Apache-2.0 */
/* inspect.c - ll_inspect: reads a data file of any format and reports counts, dimensions,
 * labels and feature statistics, the first records as text (for RecordIO the whole Record:
 * every map entry, dtype, keys, shape, uid, metadata), or just validates it. */
#include "err.h"
#include "mem.h"
#include "parse.h"
#include "pb.h"
#include "sink.h"
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_HIST 32
#define MAX_DIMS 8
#define SHOW_VALUES 16

void ll_inspect_opts_init(ll_inspect_opts *o)
{
    memset(o, 0, sizeof *o);
    ll_parse_opts_init(&o->in);
    o->head = 5;
    o->n_feature_stats = 10;
}

typedef struct {
    ll_writer *w;
    ll_code rc;
    ll_err *err;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
    if (o->rc != LL_OK)
        return;
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    o->rc = ll_writer_write(o->w, buf, (size_t)n, o->err);
}

static void put_json_str(out *o, const uint8_t *s, size_t n)
{
    put(o, "\"");
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '"' || c == '\\')
            put(o, "\\%c", c);
        else if (c < 0x20 || c >= 0x7F)
            put(o, "\\u%04x", c);
        else
            put(o, "%c", c);
    }
    put(o, "\"");
}

static void put_f(out *o, double v)
{
    char b[32];
    if (isnan(v) || isinf(v)) {
        put(o, "%s", isnan(v) ? "NaN" : v < 0 ? "-Infinity" : "Infinity");
        return;
    }
    if (v == (float)v) {
        sink_json_f32(b, (float)v);
        size_t n = sink_json_f32(b, (float)v);
        b[n] = 0;
    } else {
        snprintf(b, sizeof b, "%.17g", v);
    }
    put(o, "%s", b);
}

/* One decoded Record as a JSON object with every entry (inspect --head on RecordIO input). */
static void put_tensor(out *o, const pb_record *r, const pb_tensor *t)
{
    put(o, "{\"dtype\": \"%s\"", pb_dtype_name(t->dtype));
    if (t->dtype == PB_BYTES) {
        put(o, ", \"items\": %zu", t->n_values);
        const pb_seg *ct = pb_bytes_item(r, t, 2, 0);
        if (ct) {
            put(o, ", \"content_type\": ");
            put_json_str(o, ct->p, ct->len);
        }
        put(o, "}");
        return;
    }
    size_t n = t->n_values, show = n < SHOW_VALUES ? n : SHOW_VALUES;
    double *v = n ? mem_alloc(n * sizeof *v) : NULL;
    if (n && !v) {
        o->rc = err_set(o->err, LL_E_NOMEM, "out of memory");
        return;
    }
    if (n)
        pb_values_f64(r, t, v);
    put(o, ", \"values\": [");
    for (size_t i = 0; i < show; i++) {
        if (i)
            put(o, ", ");
        put_f(o, v[i]);
    }
    if (show < n)
        put(o, ", \"... %zu more\"", n - show);
    put(o, "]");
    mem_free(v);
    for (int f = 2; f <= 3; f++) {
        size_t c = f == 2 ? t->n_keys : t->n_shape;
        if (!c)
            continue;
        uint64_t *k = mem_alloc(c * sizeof *k);
        if (!k) {
            o->rc = err_set(o->err, LL_E_NOMEM, "out of memory");
            return;
        }
        pb_u64s(r, t, f, k);
        size_t sh = f == 2 && c > SHOW_VALUES ? SHOW_VALUES : c;
        put(o, ", \"%s\": [", f == 2 ? "keys" : "shape");
        for (size_t i = 0; i < sh; i++)
            put(o, "%s%" PRIu64, i ? ", " : "", k[i]);
        if (sh < c)
            put(o, ", \"... %zu more\"", c - sh);
        put(o, "]");
        mem_free(k);
    }
    put(o, "}");
}

static void put_record(out *o, const pb_record *r)
{
    for (int which = 0; which < 2; which++) {
        put(o, "%s\"%s\": {", which ? ", " : "", which ? "label" : "features");
        const pb_entry *a = which ? r->lab : r->feat;
        size_t n = which ? r->n_lab : r->n_feat;
        for (size_t i = 0; i < n; i++) {
            if (i)
                put(o, ", ");
            put_json_str(o, a[i].name, a[i].name_len);
            put(o, ": ");
            put_tensor(o, r, &a[i].t);
        }
        put(o, "}");
    }
    const pb_str *s[3] = {&r->uid, &r->metadata, &r->configuration};
    const char *names[3] = {"uid", "metadata", "configuration"};
    for (int i = 0; i < 3; i++)
        if (s[i]->set) {
            put(o, ", \"%s\": ", names[i]);
            put_json_str(o, s[i]->p, s[i]->len);
        }
}

/* A batch row as a JSON object (text formats). */
static void put_row(out *o, const ll_batch *b, size_t i)
{
    size_t nl = b->loff[i + 1] - b->loff[i];
    if (nl) {
        put(o, "\"label\": [");
        for (size_t k = 0; k < nl; k++) {
            if (k)
                put(o, ", ");
            put_f(o, b->label[b->loff[i] + k]);
        }
        put(o, "], ");
    }
    size_t n = b->off[i + 1] - b->off[i], show = n < SHOW_VALUES ? n : SHOW_VALUES;
    put(o, "\"features\": {\"%s\": true, \"dim\": %" PRIu64 ", \"values\": [",
        b->sparse[i] ? "sparse" : "dense", b->dim[i]);
    for (size_t k = 0; k < show; k++) {
        if (k)
            put(o, ", ");
        put_f(o, b->val[b->off[i] + k]);
    }
    if (show < n)
        put(o, ", \"... %zu more\"", n - show);
    put(o, "]");
    if (b->sparse[i]) {
        put(o, ", \"keys\": [");
        for (size_t k = 0; k < show; k++)
            put(o, "%s%u", k ? ", " : "", b->idx[b->off[i] + k]);
        if (show < n)
            put(o, ", \"... %zu more\"", n - show);
        put(o, "]");
    }
    put(o, "}");
}

typedef struct {
    uint64_t rows, dense_rows, sparse_rows, labeled, multi_label, nnz;
    uint64_t dims[MAX_DIMS], dim_rows[MAX_DIMS];
    int n_dims, dims_overflow;
    double lmin, lmax, lsum;
    float hist_v[MAX_HIST];
    uint64_t hist_n[MAX_HIST];
    int n_hist, hist_overflow;
    int nf;
    double *fmin, *fmax, *fsum;
    uint64_t *fcnt;
} stats;

static void add_batch(stats *s, const ll_batch *b)
{
    for (size_t i = 0; i < b->n_rows; i++) {
        s->rows++;
        if (b->sparse[i])
            s->sparse_rows++;
        else
            s->dense_rows++;
        s->nnz += b->off[i + 1] - b->off[i];
        int d;
        for (d = 0; d < s->n_dims; d++)
            if (s->dims[d] == b->dim[i])
                break;
        if (d == s->n_dims) {
            if (s->n_dims < MAX_DIMS) {
                s->dims[s->n_dims] = b->dim[i];
                s->dim_rows[s->n_dims++] = 0;
            } else {
                s->dims_overflow = 1;
                d = -1;
            }
        }
        if (d >= 0)
            s->dim_rows[d]++;
        size_t nl = b->loff[i + 1] - b->loff[i];
        if (nl) {
            float y = b->label[b->loff[i]];
            if (s->labeled == 0 || y < s->lmin)
                s->lmin = y;
            if (s->labeled == 0 || y > s->lmax)
                s->lmax = y;
            s->lsum += y;
            s->labeled++;
            if (nl > 1)
                s->multi_label++;
            if (!s->hist_overflow) {
                int h;
                for (h = 0; h < s->n_hist; h++)
                    if (s->hist_v[h] == y)
                        break;
                if (h == s->n_hist) {
                    if (s->n_hist < MAX_HIST) {
                        s->hist_v[s->n_hist] = y;
                        s->hist_n[s->n_hist++] = 0;
                    } else {
                        s->hist_overflow = 1;
                    }
                }
                if (h < MAX_HIST && !s->hist_overflow)
                    s->hist_n[h]++;
            }
        }
        for (size_t k = b->off[i]; k < b->off[i + 1]; k++) {
            uint64_t c = b->sparse[i] ? b->idx[k] : k - b->off[i];
            if (c >= (uint64_t)s->nf)
                continue;
            double v = b->val[k];
            if (s->fcnt[c] == 0 || v < s->fmin[c])
                s->fmin[c] = v;
            if (s->fcnt[c] == 0 || v > s->fmax[c])
                s->fmax[c] = v;
            s->fsum[c] += v;
            s->fcnt[c]++;
        }
    }
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void report(out *o, const ll_inspect_opts *io, const char *src, ll_format fmt,
                   uint64_t bytes, stats *s, const ll_err *fail)
{
    char eb[600];
    /* histogram sorted by value */
    for (int i = 0; i < s->n_hist; i++)
        for (int j = i + 1; j < s->n_hist; j++)
            if (cmp_float(&s->hist_v[j], &s->hist_v[i]) < 0) {
                float tv = s->hist_v[i];
                s->hist_v[i] = s->hist_v[j];
                s->hist_v[j] = tv;
                uint64_t tn = s->hist_n[i];
                s->hist_n[i] = s->hist_n[j];
                s->hist_n[j] = tn;
            }
    if (io->json) {
        put(o,
            ", \"format\": \"%s\", \"bytes\": %" PRIu64 ", \"records\": %" PRIu64
            ", \"dense_rows\": %" PRIu64 ", \"sparse_rows\": %" PRIu64 ", \"nonzeros\": %" PRIu64
            ", \"dims\": [",
            ll_format_name(fmt), bytes, s->rows, s->dense_rows, s->sparse_rows, s->nnz);
        for (int d = 0; d < s->n_dims; d++)
            put(o, "%s{\"dim\": %" PRIu64 ", \"rows\": %" PRIu64 "}", d ? ", " : "", s->dims[d],
                s->dim_rows[d]);
        put(o, "], \"labels\": {\"rows\": %" PRIu64 ", \"multi_value_rows\": %" PRIu64, s->labeled,
            s->multi_label);
        if (s->labeled) {
            put(o, ", \"min\": ");
            put_f(o, s->lmin);
            put(o, ", \"mean\": ");
            put_f(o, s->lsum / (double)s->labeled);
            put(o, ", \"max\": ");
            put_f(o, s->lmax);
            if (!s->hist_overflow) {
                put(o, ", \"histogram\": [");
                for (int h = 0; h < s->n_hist; h++) {
                    put(o, "%s{\"value\": ", h ? ", " : "");
                    put_f(o, s->hist_v[h]);
                    put(o, ", \"rows\": %" PRIu64 "}", s->hist_n[h]);
                }
                put(o, "]");
            }
        }
        put(o, "}, \"features\": [");
        for (int c = 0; c < s->nf; c++) {
            if (!s->fcnt[c])
                continue;
            put(o, "%s{\"index\": %d, \"count\": %" PRIu64 ", \"min\": ", c ? ", " : "", c,
                s->fcnt[c]);
            put_f(o, s->fmin[c]);
            put(o, ", \"mean\": ");
            put_f(o, s->fsum[c] / (double)s->fcnt[c]);
            put(o, ", \"max\": ");
            put_f(o, s->fmax[c]);
            put(o, "}");
        }
        put(o, "]");
        if (fail) {
            put(o, ", \"error\": ");
            ll_err_format(fail, eb, sizeof eb);
            put_json_str(o, (const uint8_t *)eb, strlen(eb));
            put(o, ", \"error_offset\": %" PRIu64, fail->offset);
        } else {
            put(o, ", \"error\": null");
        }
        put(o, ", \"valid\": %s}\n", fail ? "false" : "true");
        return;
    }
    if (io->validate && !fail) {
        put(o, "%s: valid %s, %" PRIu64 " records, %" PRIu64 " bytes\n", src, ll_format_name(fmt),
            s->rows, bytes);
        return;
    }
    put(o,
        "source:      %s\nformat:      %s\nbytes:       %" PRIu64 "\nrecords:     %" PRIu64
        " (%" PRIu64 " dense, %" PRIu64 " sparse)\nnon-zeros:   %" PRIu64 "\n",
        src, ll_format_name(fmt), bytes, s->rows, s->dense_rows, s->sparse_rows, s->nnz);
    put(o, "dimensions: ");
    for (int d = 0; d < s->n_dims; d++)
        put(o, " %" PRIu64 " (%" PRIu64 " rows)", s->dims[d], s->dim_rows[d]);
    put(o, "%s\n", s->dims_overflow ? " and more" : s->n_dims ? "" : " none");
    if (s->labeled) {
        put(o, "labels:      %" PRIu64 " rows labelled", s->labeled);
        if (s->multi_label)
            put(o, " (%" PRIu64 " with several values)", s->multi_label);
        put(o, "; min %g, mean %g, max %g\n", s->lmin, s->lsum / (double)s->labeled, s->lmax);
        if (!s->hist_overflow) {
            put(o, "histogram:  ");
            for (int h = 0; h < s->n_hist; h++)
                put(o, " %g: %" PRIu64, (double)s->hist_v[h], s->hist_n[h]);
            put(o, "\n");
        }
    } else {
        put(o, "labels:      none\n");
    }
    int shown = 0;
    for (int c = 0; c < s->nf; c++) {
        if (!s->fcnt[c])
            continue;
        if (!shown++)
            put(o, "features:    index      count          min         mean          max\n");
        put(o, "             %5d %10" PRIu64 " %12.6g %12.6g %12.6g\n", c, s->fcnt[c], s->fmin[c],
            s->fsum[c] / (double)s->fcnt[c], s->fmax[c]);
    }
    if (fail)
        put(o, "error:       %s\n", ll_err_format(fail, eb, sizeof eb));
}

ll_code ll_inspect(const char *src, const ll_inspect_opts *io, ll_writer *w, ll_err *err)
{
    out o = {w, LL_OK, err};
    char src_shown[2048]; /* the source as printed: credentials in a URL redacted */
    ll_redact(src, src_shown, sizeof src_shown);
    ll_reader *rd = NULL;
    ll_parser *p = NULL;
    ll_batch b;
    ll_batch_init(&b);
    stats s;
    memset(&s, 0, sizeof s);
    s.nf = io->n_feature_stats > 0 ? io->n_feature_stats : 0;
    s.fmin = mem_calloc((size_t)s.nf + 1, sizeof *s.fmin);
    s.fmax = mem_calloc((size_t)s.nf + 1, sizeof *s.fmax);
    s.fsum = mem_calloc((size_t)s.nf + 1, sizeof *s.fsum);
    s.fcnt = mem_calloc((size_t)s.nf + 1, sizeof *s.fcnt);
    ll_code rc = (!s.fmin || !s.fmax || !s.fsum || !s.fcnt)
                     ? err_set(err, LL_E_NOMEM, "out of memory")
                     : ll_reader_open_ex(src, io->source, &rd, err);
    ll_parse_opts in = io->in;
    in.allow_no_features = 1; /* shown without features */
    if (rc == LL_OK)
        rc = ll_parser_new(rd, &in, &p, err);
    ll_err fail;
    int failed = 0;
    if (rc == LL_OK) {
        if (io->json) {
            put(&o, "{\"source\": ");
            put_json_str(&o, (const uint8_t *)src_shown, strlen(src_shown));
            if (!io->validate)
                put(&o, ", \"head\": [");
        }
        int eof = 0;
        uint64_t shown = 0;
        while (!eof) {
            int heading = !io->validate && shown < io->head;
            ll_code prc = ll_parser_next(p, &b, heading ? 1 : 8192, &eof, &fail);
            if (prc != LL_OK) {
                failed = 1;
                break;
            }
            add_batch(&s, &b);
            if (heading && b.n_rows) {
                uint64_t off = 0;
                size_t len = 0;
                const pb_record *r = parse_last_record(p, &off, &len);
                if (io->json) {
                    put(&o, "%s{\"index\": %" PRIu64, shown ? ", " : "", shown);
                    if (r)
                        put(&o, ", \"offset\": %" PRIu64 ", \"payload_length\": %zu, ", off, len);
                    else
                        put(&o, ", ");
                } else {
                    if (!shown)
                        put(&o, "first records:\n");
                    put(&o, "  #%" PRIu64 " ", shown);
                    if (r)
                        put(&o, "(byte %" PRIu64 ", %zu bytes) ", off, len);
                    put(&o, "{");
                }
                if (r)
                    put_record(&o, r);
                else
                    put_row(&o, &b, 0);
                put(&o, "}%s", io->json ? "" : "\n");
                shown++;
            }
        }
        if (io->json && !io->validate)
            put(&o, "]");
        report(&o, io, src_shown, ll_parser_format(p), parse_bytes(p), &s, failed ? &fail : NULL);
        rc = o.rc;
        if (rc == LL_OK && failed) {
            if (err)
                *err = fail;
            rc = fail.code;
        }
    }
    mem_free(s.fmin);
    mem_free(s.fmax);
    mem_free(s.fsum);
    mem_free(s.fcnt);
    ll_batch_deinit(&b);
    ll_parser_free(p);
    ll_reader_free(rd);
    return rc;
}
