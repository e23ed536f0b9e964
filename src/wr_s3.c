/* SPDX-License-Identifier: Apache-2.0 */
/* wr_s3.c - writer backend for s3://bucket/key: one PUT for objects below the part size, a
 * multipart upload (8 MiB parts) above it. The object appears only when commit completes; abort
 * (or a failed commit) cancels the multipart upload, so nothing partial is left behind. */
#include "err.h"
#include "mem.h"
#include "s3.h"
#include "wr.h"
#include <stdio.h>
#include <string.h>

#define PART_SIZE ((size_t)8 << 20)

typedef struct {
    wr_backend be;
    s3_cfg cfg;
    char *bucket, *key;
    uint8_t *buf;
    size_t len;
    char *upload_id;
    char (*etags)[128];
    size_t n_parts, cap_parts;
} wr_s3;

static void s3w_free(wr_s3 *w)
{
    s3_cfg_deinit(&w->cfg);
    mem_free(w->bucket);
    mem_free(w->key);
    mem_free(w->buf);
    mem_free(w->upload_id);
    mem_free(w->etags);
    mem_free(w);
}

/* Text of the first <tag> element in xml (new string) or NULL. */
static char *xml_field(const char *xml, const char *tag)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = xml ? strstr(xml, open) : NULL;
    const char *b = a ? strstr(a, close) : NULL;
    if (!b)
        return NULL;
    a += strlen(open);
    char *v = mem_alloc((size_t)(b - a) + 1);
    if (v) {
        memcpy(v, a, (size_t)(b - a));
        v[b - a] = 0;
    }
    return v;
}

static ll_code upload_part(wr_s3 *w, ll_err *err)
{
    ll_code rc;
    s3_resp r;
    if (!w->upload_id) {
        rc = s3_request(&w->cfg, "POST", w->bucket, w->key, "uploads=", NULL, 0, &r, err);
        if (rc == LL_OK) {
            w->upload_id = xml_field(r.body, "UploadId");
            if (!w->upload_id)
                rc =
                    err_set(err, LL_E_REMOTE, "CreateMultipartUpload answered without an UploadId");
        }
        s3_resp_deinit(&r);
        if (rc != LL_OK)
            return rc;
    }
    if (w->n_parts == w->cap_parts) {
        size_t nc = w->cap_parts ? w->cap_parts * 2 : 16;
        char(*e)[128] = mem_realloc_array(w->etags, nc, sizeof *e);
        if (!e)
            return err_set(err, LL_E_NOMEM, "out of memory");
        w->etags = e;
        w->cap_parts = nc;
    }
    char *eid = s3_encode(w->upload_id, 0);
    if (!eid)
        return err_set(err, LL_E_NOMEM, "out of memory");
    char q[512];
    snprintf(q, sizeof q, "partNumber=%zu&uploadId=%.400s", w->n_parts + 1, eid);
    mem_free(eid);
    rc = s3_request(&w->cfg, "PUT", w->bucket, w->key, q, w->buf, w->len, &r, err);
    if (rc == LL_OK) {
        snprintf(w->etags[w->n_parts], sizeof w->etags[0], "%s", r.etag);
        w->n_parts++;
        w->len = 0;
    }
    s3_resp_deinit(&r);
    return rc;
}

static ll_code s3w_write(wr_backend *self, const void *p, size_t len, ll_err *err)
{
    wr_s3 *w = (wr_s3 *)self;
    const uint8_t *q = p;
    while (len) {
        size_t k = PART_SIZE - w->len;
        if (k > len)
            k = len;
        memcpy(w->buf + w->len, q, k);
        w->len += k;
        q += k;
        len -= k;
        if (w->len == PART_SIZE) {
            ll_code rc = upload_part(w, err);
            if (rc != LL_OK)
                return rc;
        }
    }
    return LL_OK;
}

static void abort_upload(wr_s3 *w)
{
    if (!w->upload_id)
        return;
    char *eid = s3_encode(w->upload_id, 0);
    if (eid) {
        char q[512];
        snprintf(q, sizeof q, "uploadId=%.400s", eid);
        s3_resp r;
        ll_err e;
        s3_request(&w->cfg, "DELETE", w->bucket, w->key, q, NULL, 0, &r, &e);
        s3_resp_deinit(&r);
        mem_free(eid);
    }
}

static ll_code s3w_commit(wr_backend *self, ll_err *err)
{
    wr_s3 *w = (wr_s3 *)self;
    ll_code rc = LL_OK;
    s3_resp r;
    if (!w->upload_id) {
        rc = s3_request(&w->cfg, "PUT", w->bucket, w->key, NULL, w->buf, w->len, &r, err);
        s3_resp_deinit(&r);
    } else {
        if (w->len > 0)
            rc = upload_part(w, err);
        size_t cap = 96 + w->n_parts * 200;
        char *xml = rc == LL_OK ? mem_alloc(cap) : NULL;
        if (rc == LL_OK && !xml)
            rc = err_set(err, LL_E_NOMEM, "out of memory");
        if (rc == LL_OK) {
            size_t n = (size_t)snprintf(xml, cap, "<CompleteMultipartUpload>");
            for (size_t i = 0; i < w->n_parts; i++)
                n += (size_t)snprintf(xml + n, cap - n,
                                      "<Part><PartNumber>%zu</PartNumber><ETag>%s</ETag></Part>",
                                      i + 1, w->etags[i]);
            n += (size_t)snprintf(xml + n, cap - n, "</CompleteMultipartUpload>");
            char *eid = s3_encode(w->upload_id, 0);
            char q[512];
            snprintf(q, sizeof q, "uploadId=%.400s", eid ? eid : "");
            mem_free(eid);
            rc = s3_request(&w->cfg, "POST", w->bucket, w->key, q, xml, n, &r, err);
            s3_resp_deinit(&r);
            mem_free(xml);
        }
        if (rc != LL_OK)
            abort_upload(w);
    }
    s3w_free(w);
    return rc;
}

static void s3w_abort(wr_backend *self)
{
    wr_s3 *w = (wr_s3 *)self;
    abort_upload(w);
    s3w_free(w);
}

ll_code wr_s3_backend(const char *dst, const ll_source_opts *o, wr_backend **out, ll_err *err)
{
    wr_s3 *w = mem_calloc(1, sizeof *w);
    if (!w)
        return err_set(err, LL_E_NOMEM, "out of memory");
    ll_code rc = s3_split(dst, &w->bucket, &w->key, err);
    if (rc == LL_OK && (!*w->key || w->key[strlen(w->key) - 1] == '/'))
        rc = err_set(err, LL_E_ARG, "'%.100s' names a prefix; give an object key", dst);
    if (rc == LL_OK)
        rc = s3_cfg_load(&w->cfg, o, err);
    if (rc == LL_OK && !(w->buf = mem_alloc(PART_SIZE)))
        rc = err_set(err, LL_E_NOMEM, "out of memory");
    if (rc != LL_OK) {
        s3w_free(w);
        return rc;
    }
    w->be.write = s3w_write;
    w->be.commit = s3w_commit;
    w->be.abort = s3w_abort;
    *out = &w->be;
    return LL_OK;
}
