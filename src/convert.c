/* SPDX-License-Identifier: Apache-2.0 */
/* convert.c - ll_convert: parser -> sink, with optional sharding of the output into parts
 * (part-00000.<ext>, ...) for object stores. Each part is committed when complete; on failure
 * the part being written is discarded and the finished ones are removed. */
#include "err.h"
#include "mem.h"
#include "sink.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void ll_convert_opts_init(ll_convert_opts *o)
{
    memset(o, 0, sizeof *o);
    ll_parse_opts_init(&o->in);
    ll_sink_opts_init(&o->out);
    o->out.format = LL_FMT_AUTO;
    o->batch_rows = 4096;
}

static const char *ext_of(ll_format f)
{
    switch (f) {
    case LL_FMT_CSV:
        return "csv";
    case LL_FMT_LIBSVM:
        return "libsvm";
    case LL_FMT_JSONL:
        return "jsonl";
    default:
        return "pbr";
    }
}

typedef struct {
    const char *dst;
    int sharded;
    const ll_source_opts *source;
    unsigned part;
    ll_writer *w;
    ll_sink *s;
    char **done; /* committed part paths, removed on failure */
    size_t n_done;
} out_state;

static ll_code open_part(out_state *st, const ll_sink_opts *so, ll_err *err)
{
    char path[4096];
    if (st->sharded) {
        size_t n = strlen(st->dst);
        snprintf(path, sizeof path, "%s%spart-%05u.%s", st->dst,
                 n && st->dst[n - 1] == '/' ? "" : "/", st->part, ext_of(so->format));
        if (strstr(st->dst, "://") == NULL && mkdir(st->dst, 0755) != 0 && errno != EEXIST)
            return err_sys(err, st->dst, "cannot create the output folder");
    } else {
        snprintf(path, sizeof path, "%s", st->dst);
    }
    ll_code rc = ll_writer_open_ex(path, st->source, &st->w, err);
    if (rc == LL_OK)
        rc = ll_sink_new(st->w, so, &st->s, err);
    return rc;
}

static ll_code close_part(out_state *st, ll_err *err)
{
    ll_sink_free(st->s);
    st->s = NULL;
    char *name = NULL;
    if (st->sharded && st->w) {
        char path[4096];
        size_t n = strlen(st->dst);
        /* the same name open_part built */
        snprintf(path, sizeof path, "%s%spart-%05u", st->dst, n && st->dst[n - 1] == '/' ? "" : "/",
                 st->part);
        name = mem_strdup(path);
    }
    ll_code rc = ll_writer_commit(st->w, err);
    st->w = NULL;
    if (name) {
        char **d = mem_realloc_array(st->done, st->n_done + 1, sizeof *d);
        if (d) {
            st->done = d;
            st->done[st->n_done++] = name;
        } else {
            mem_free(name);
        }
    }
    st->part++;
    return rc;
}

static void fail_cleanup(out_state *st, const ll_sink_opts *so)
{
    ll_sink_free(st->s);
    ll_writer_abort(st->w);
    for (size_t i = 0; i < st->n_done; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s.%s", st->done[i], ext_of(so->format));
        if (!strstr(path, "://"))
            unlink(path);
    }
}

ll_code ll_convert(const char *src, const char *dst, const ll_convert_opts *o, uint64_t *n_rows,
                   ll_err *err)
{
    ll_convert_opts opt = *o;
    if (n_rows)
        *n_rows = 0;
    if (opt.out.format == LL_FMT_AUTO)
        opt.out.format = ll_format_from_path(dst);
    if (opt.out.format == LL_FMT_AUTO) {
        if (opt.shard_records || opt.shard_bytes)
            opt.out.format = LL_FMT_RECORDIO;
        else
            return err_set(err, LL_E_ARG,
                           "cannot tell the output format from '%s'; give --to "
                           "csv|libsvm|recordio|jsonl",
                           dst);
    }
    if (!opt.batch_rows)
        opt.batch_rows = 4096;
    ll_reader *rd = NULL;
    ll_parser *p = NULL;
    ll_batch b;
    ll_batch_init(&b);
    out_state st;
    memset(&st, 0, sizeof st);
    st.dst = dst;
    st.sharded = opt.shard_records || opt.shard_bytes;
    st.source = opt.source;
    opt.in.allow_no_features = 1; /* a label-only Record is converted as it is */
    ll_code rc = ll_reader_open_ex(src, opt.source, &rd, err);
    if (rc == LL_OK)
        rc = ll_parser_new(rd, &opt.in, &p, err);
    if (rc == LL_OK)
        rc = open_part(&st, &opt.out, err);
    uint64_t total = 0, in_part = 0;
    int eof = 0;
    while (rc == LL_OK && !eof) {
        rc = ll_parser_next(p, &b, opt.batch_rows, &eof, err);
        if (rc != LL_OK)
            break;
        size_t i = 0;
        while (i < b.n_rows && rc == LL_OK) {
            size_t j = b.n_rows;
            if (opt.shard_records && j - i > opt.shard_records - in_part)
                j = i + (size_t)(opt.shard_records - in_part);
            if (opt.shard_bytes)
                j = i + 1;
            rc = sink_write_rows(st.s, &b, i, j, err);
            if (rc != LL_OK)
                break;
            in_part += j - i;
            total += j - i;
            i = j;
            if (opt.tick && i == b.n_rows)
                opt.tick(opt.tick_ud, ll_reader_offset(rd), total);
            int full = (opt.shard_records && in_part >= opt.shard_records) ||
                       (opt.shard_bytes && ll_writer_offset(st.w) >= opt.shard_bytes);
            if (full && (i < b.n_rows || !eof)) {
                rc = close_part(&st, err);
                if (rc == LL_OK)
                    rc = open_part(&st, &opt.out, err);
                in_part = 0;
            }
        }
    }
    if (rc == LL_OK) {
        rc = close_part(&st, err);
        if (rc != LL_OK)
            fail_cleanup(&st, &opt.out);
    } else {
        fail_cleanup(&st, &opt.out);
    }
    for (size_t i = 0; i < st.n_done; i++)
        mem_free(st.done[i]);
    mem_free(st.done);
    ll_batch_deinit(&b);
    ll_parser_free(p);
    ll_reader_free(rd);
    if (n_rows)
        *n_rows = total;
    return rc;
}
