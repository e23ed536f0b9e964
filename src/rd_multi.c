/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rd_multi.c - sources made of several objects: folders, globs, S3 prefixes and objects,
 * SageMaker manifests, URLs. Expands a source into an ordered object list (sorted by name, then
 * shuffled per epoch and sharded by object as SageMaker's ShuffleConfig and ShardedByS3Key do)
 * and reads it as one stream, optionally wrapping each object as one RecordIO record. The next
 * remote object's request starts while the current one is read.
 */
#include "err.h"
#include "mem.h"
#include "rd_net.h"
#include "rio.h"
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int is_remote(const char *s)
{
    return !strncmp(s, "s3://", 5) || !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

int rd_multi_wants(const char *src, const ll_source_opts *o)
{
    if (!strcmp(src, "-"))
        return 0;
    if (is_remote(src) || !strncmp(src, "manifest:", 9) || ends_with(src, ".manifest"))
        return 1;
    struct stat st;
    if (stat(src, &st) == 0)
        return S_ISDIR(st.st_mode) ||
               (S_ISREG(st.st_mode) && o && (o->record_wrap || o->shard_count > 1));
    return strpbrk(src, "*?[") != NULL;
}

/* ---- list building ---- */

static ll_code add_obj(rd_list *l, size_t *cap, const char *name, const char *rel, uint64_t size,
                       ll_err *err)
{
    if (l->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        rd_obj *o = mem_realloc_array(l->objs, nc, sizeof *o);
        if (!o)
            return err_set(err, LL_E_NOMEM, "out of memory listing %s", l->name);
        l->objs = o;
        *cap = nc;
    }
    rd_obj *o = &l->objs[l->n];
    o->name = mem_strdup(name);
    o->rel = mem_strdup(rel);
    o->size = size;
    if (!o->name || !o->rel) {
        mem_free(o->name);
        mem_free(o->rel);
        return err_set(err, LL_E_NOMEM, "out of memory listing %s", l->name);
    }
    l->n++;
    return LL_OK;
}

static int cmp_obj(const void *a, const void *b)
{
    return strcmp(((const rd_obj *)a)->rel, ((const rd_obj *)b)->rel);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const rd_obj *)a)->name, ((const rd_obj *)b)->name);
}

static ll_code walk(rd_list *l, size_t *cap, const char *dir, const char *rel, int depth,
                    ll_err *err)
{
    if (depth > 64)
        return err_set(err, LL_E_ARG, "%s: folders nested too deep", dir);
    DIR *d = opendir(dir);
    if (!d)
        return err_sys(err, dir, "cannot list the folder");
    struct dirent *e;
    ll_code rc = LL_OK;
    while (rc == LL_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue; /* hidden files and our own temporaries */
        size_t pn = strlen(dir) + strlen(e->d_name) + 2, rn = strlen(rel) + strlen(e->d_name) + 2;
        char *p = mem_alloc(pn), *r = mem_alloc(rn);
        if (!p || !r) {
            mem_free(p);
            mem_free(r);
            rc = err_set(err, LL_E_NOMEM, "out of memory");
            break;
        }
        snprintf(p, pn, "%s%s%s", dir, ends_with(dir, "/") ? "" : "/", e->d_name);
        snprintf(r, rn, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        struct stat st;
        if (stat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                rc = walk(l, cap, p, r, depth + 1, err);
            else if (S_ISREG(st.st_mode))
                rc = add_obj(l, cap, p, r, (uint64_t)st.st_size, err);
        }
        mem_free(p);
        mem_free(r);
    }
    closedir(d);
    return rc;
}

static ll_code build(const char *src, const ll_source_opts *o, rd_list *l, int depth, ll_err *err);

/* A manifest: [{"prefix": "s3://bucket/prefix/"}, "relative/key", ...]. */
static ll_code build_manifest(const char *msrc, const ll_source_opts *o, rd_list *l, int depth,
                              ll_err *err)
{
    if (depth > 0)
        return err_set(err, LL_E_ARG, "%s: a manifest cannot name another manifest", msrc);
    rd_list ml;
    ll_source_opts plain;
    ll_source_opts_init(&plain);
    plain.endpoint_url = o->endpoint_url;
    ll_code rc = build(msrc, &plain, &ml, depth + 1, err);
    if (rc != LL_OK)
        return rc;
    if (ml.n != 1) {
        rd_list_deinit(&ml);
        return err_set(err, LL_E_ARG, "%s: a manifest must be one file", msrc);
    }
    ll_reader *r = NULL;
    rc = rd_list_open(&ml, 0, &r, err);
    size_t len = 0, cap = 0;
    char *text = NULL;
    while (rc == LL_OK) {
        if (cap - len < 65536) {
            if (cap > ((size_t)64 << 20)) {
                rc = err_set(err, LL_E_TOOBIG, "%s: a manifest over 64 MiB", msrc);
                break;
            }
            char *t = mem_realloc(text, cap = cap * 2 + 65536);
            if (!t) {
                rc = err_set(err, LL_E_NOMEM, "out of memory");
                break;
            }
            text = t;
        }
        size_t n;
        int eof;
        rc = ll_reader_read(r, text + len, cap - len - 1, &n, &eof, err);
        len += n;
        if (eof)
            break;
    }
    ll_reader_free(r);
    rd_list_deinit(&ml);
    if (rc != LL_OK) {
        mem_free(text);
        return rc;
    }
    json_error_t je;
    json_t *j = json_loadb(text ? text : "", len, 0, &je);
    mem_free(text);
    if (!j)
        return err_set(err, LL_E_PARSE, "%s: line %d: %s", msrc, je.line, je.text);
    json_t *pre = json_is_array(j) && json_array_size(j) ? json_array_get(j, 0) : NULL;
    const char *prefix = pre ? json_string_value(json_object_get(pre, "prefix")) : NULL;
    if (!prefix) {
        json_decref(j);
        return err_set(err, LL_E_PARSE,
                       "%s: expected a JSON list starting with {\"prefix\": \"s3://...\"}", msrc);
    }
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "%s", msrc);
    size_t ocap = 0;
    if (!strncmp(prefix, "s3://", 5)) {
        char *b, *k;
        rc = s3_split(prefix, &b, &k, err);
        if (rc == LL_OK) {
            l->kind = RD_S3;
            l->bucket = b;
            rc = s3_cfg_load(&l->cfg, o, err);
            l->has_cfg = rc == LL_OK;
        }
        for (size_t i = 1; rc == LL_OK && i < json_array_size(j); i++) {
            const char *rel = json_string_value(json_array_get(j, i));
            if (!rel) {
                rc = err_set(err, LL_E_PARSE, "%s: entry %zu is not a string", msrc, i);
                break;
            }
            size_t kn = strlen(k) + strlen(rel) + 1;
            char *key = mem_alloc(kn);
            if (!key) {
                rc = err_set(err, LL_E_NOMEM, "out of memory");
                break;
            }
            snprintf(key, kn, "%s%s", k, rel);
            rc = add_obj(l, &ocap, key, rel, UINT64_MAX, err);
            mem_free(key);
        }
        mem_free(k);
    } else {
        l->kind = is_remote(prefix) ? RD_HTTP : RD_FILE;
        for (size_t i = 1; rc == LL_OK && i < json_array_size(j); i++) {
            const char *rel = json_string_value(json_array_get(j, i));
            if (!rel) {
                rc = err_set(err, LL_E_PARSE, "%s: entry %zu is not a string", msrc, i);
                break;
            }
            size_t pn = strlen(prefix) + strlen(rel) + 1;
            char *p = mem_alloc(pn);
            if (!p) {
                rc = err_set(err, LL_E_NOMEM, "out of memory");
                break;
            }
            snprintf(p, pn, "%s%s", prefix, rel);
            struct stat st;
            uint64_t size =
                l->kind == RD_FILE && stat(p, &st) == 0 ? (uint64_t)st.st_size : UINT64_MAX;
            rc = add_obj(l, &ocap, p, rel, size, err);
            mem_free(p);
        }
    }
    json_decref(j);
    if (rc != LL_OK)
        rd_list_deinit(l);
    return rc;
}

static ll_code build_s3(const char *src, const ll_source_opts *o, rd_list *l, ll_err *err)
{
    char *b, *k;
    ll_code rc = s3_split(src, &b, &k, err);
    if (rc != LL_OK)
        return rc;
    l->kind = RD_S3;
    l->bucket = b;
    rc = s3_cfg_load(&l->cfg, o, err);
    if (rc != LL_OK) {
        mem_free(k);
        return rc;
    }
    l->has_cfg = 1;
    size_t ocap = 0;
    if (*k && !ends_with(k, "/")) {
        uint64_t size;
        ll_err e2;
        rc = s3_head(&l->cfg, b, k, &size, &e2);
        if (rc == LL_OK) {
            const char *slash = strrchr(k, '/');
            rc = add_obj(l, &ocap, k, slash ? slash + 1 : k, size, err);
            mem_free(k);
            return rc;
        }
        if (!strstr(e2.msg, "HTTP 404")) {
            if (err)
                *err = e2;
            mem_free(k);
            return rc;
        }
        /* no such object: maybe a prefix given without its final '/' */
        size_t kn = strlen(k);
        char *k2 = mem_realloc(k, kn + 2);
        if (!k2) {
            mem_free(k);
            return err_set(err, LL_E_NOMEM, "out of memory");
        }
        k = k2;
        k[kn] = '/';
        k[kn + 1] = 0;
        s3_obj *objs;
        size_t n;
        rc = s3_list(&l->cfg, b, k, &objs, &n, err);
        if (rc == LL_OK && n == 0) {
            if (err)
                *err = e2;
            rc = e2.code;
        }
        if (rc == LL_OK)
            s3_objs_free(objs, n);
        else {
            mem_free(k);
            return rc;
        }
    }
    s3_obj *objs;
    size_t n;
    rc = s3_list(&l->cfg, b, k, &objs, &n, err);
    for (size_t i = 0; rc == LL_OK && i < n; i++)
        rc = add_obj(l, &ocap, objs[i].key, objs[i].key + strlen(k), objs[i].size, err);
    if (rc == LL_OK && n == 0)
        rc = err_set(err, LL_E_ARG, "no objects under this prefix"), err_src(err, l->name);
    s3_objs_free(objs, n);
    mem_free(k);
    return rc;
}

static ll_code build(const char *src, const ll_source_opts *o, rd_list *l, int depth, ll_err *err)
{
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "%s", src);
    ll_code rc = LL_OK;
    size_t ocap = 0;
    struct stat st;
    if (!strncmp(src, "manifest:", 9))
        return build_manifest(src + 9, o, l, depth, err);
    if (depth == 0 && ends_with(src, ".manifest"))
        return build_manifest(src, o, l, depth, err);
    if (!strncmp(src, "s3://", 5)) {
        rc = build_s3(src, o, l, err);
    } else if (!strncmp(src, "http://", 7) || !strncmp(src, "https://", 8)) {
        l->kind = RD_HTTP;
        /* the local name (pipe --input-mode file) is the path's last segment: never the query
         * (a presigned URL's credentials) nor a userinfo */
        char rel[256];
        const char *pe = src + strcspn(src, "?#"), *q = pe;
        while (q > src && q[-1] != '/')
            q--;
        snprintf(rel, sizeof rel, "%.*s", (int)(pe - q), q);
        rc = add_obj(l, &ocap, src, rel, UINT64_MAX, err);
    } else if (stat(src, &st) == 0) {
        l->kind = RD_FILE;
        if (S_ISDIR(st.st_mode)) {
            rc = walk(l, &ocap, src, "", 0, err);
            if (rc == LL_OK && l->n == 0)
                rc = err_set(err, LL_E_ARG, "the folder holds no files"), err_src(err, src);
            if (rc == LL_OK)
                qsort(l->objs, l->n, sizeof *l->objs, cmp_obj);
        } else {
            const char *q = strrchr(src, '/');
            rc = add_obj(l, &ocap, src, q ? q + 1 : src,
                         S_ISREG(st.st_mode) ? (uint64_t)st.st_size : UINT64_MAX, err);
        }
    } else if (strpbrk(src, "*?[")) {
        l->kind = RD_FILE;
        glob_t g;
        int gr = glob(src, GLOB_ERR, NULL, &g);
        if (gr == GLOB_NOMATCH)
            return err_set(err, LL_E_ARG, "no file matches this pattern"), err_src(err, src);
        if (gr != 0)
            return err_set(err, LL_E_IO, "cannot expand this pattern"), err_src(err, src);
        for (size_t i = 0; rc == LL_OK && i < g.gl_pathc; i++)
            if (stat(g.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode)) {
                const char *base = strrchr(g.gl_pathv[i], '/');
                rc = add_obj(l, &ocap, g.gl_pathv[i], base ? base + 1 : g.gl_pathv[i],
                             (uint64_t)st.st_size, err);
            }
        globfree(&g);
        if (rc == LL_OK && l->n == 0)
            rc = err_set(err, LL_E_ARG, "no file matches this pattern"), err_src(err, src);
        if (rc == LL_OK)
            qsort(l->objs, l->n, sizeof *l->objs, cmp_name);
    } else {
        rc = err_sys(err, src, "cannot open for reading");
    }
    if (rc != LL_OK)
        rd_list_deinit(l);
    return rc;
}

/* splitmix64 */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void rd_shuffle(size_t *idx, size_t n, uint64_t seed, uint64_t epoch)
{
    uint64_t s = seed ^ (epoch * 0xD1B54A32D192ED03ull + 0x2545F4914F6CDD1Dull);
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(mix(&s) % i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

ll_code rd_list_build(const char *src, const ll_source_opts *o, rd_list *l, ll_err *err)
{
    ll_source_opts def;
    if (!o) {
        def = *s3_defaults();
        o = &def;
    }
    ll_code rc = build(src, o, l, 0, err);
    if (rc != LL_OK)
        return rc;
    l->plain.max_retries = o->max_retries;
    l->plain.retry_base_ms = o->retry_base_ms;
    l->plain.retry_max_ms = o->retry_max_ms;
    l->plain.stall_timeout_s = o->stall_timeout_s;
    uint32_t nsh = o->shard_count > 1 ? o->shard_count : 1;
    if (nsh > 1 && o->shard_index >= nsh) {
        rd_list_deinit(l);
        return err_set(err, LL_E_ARG, "shard %u of %u: the index must be below the count",
                       o->shard_index, nsh);
    }
    if (!o->shuffle && nsh == 1)
        return LL_OK;
    size_t *idx = mem_realloc_array(NULL, l->n ? l->n : 1, sizeof *idx);
    rd_obj *sel = mem_realloc_array(NULL, l->n ? l->n : 1, sizeof *sel);
    if (!idx || !sel) {
        mem_free(idx);
        mem_free(sel);
        rd_list_deinit(l);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < l->n; i++)
        idx[i] = i;
    if (o->shuffle)
        rd_shuffle(idx, l->n, o->shuffle_seed, o->epoch);
    /* shard j of the (shuffled) order goes to host j mod n */
    size_t k = 0;
    for (size_t j = 0; j < l->n; j++) {
        rd_obj *ob = &l->objs[idx[j]];
        if (j % nsh == (nsh > 1 ? o->shard_index : 0)) {
            sel[k++] = *ob;
        } else {
            mem_free(ob->name);
            mem_free(ob->rel);
        }
    }
    mem_free(idx);
    mem_free(l->objs);
    l->objs = sel;
    l->n = k;
    return LL_OK;
}

void rd_list_deinit(rd_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        mem_free(l->objs[i].name);
        mem_free(l->objs[i].rel);
    }
    mem_free(l->objs);
    mem_free(l->bucket);
    if (l->has_cfg)
        s3_cfg_deinit(&l->cfg);
    memset(l, 0, sizeof *l);
}

ll_code rd_list_open(rd_list *l, size_t i, ll_reader **out, ll_err *err)
{
    rd_obj *o = &l->objs[i];
    if (l->kind == RD_FILE)
        return rd_file_open(o->name, out, err);
    if (l->kind == RD_HTTP)
        return rd_http_open(o->name, NULL, &l->plain, NULL, NULL, NULL, o->size, out, err);
    char *url = s3_url(&l->cfg, l->bucket, o->name, NULL);
    if (!url)
        return err_set(err, LL_E_NOMEM, "out of memory");
    char name[128];
    snprintf(name, sizeof name, "s3://%s/%s", l->bucket, o->name);
    ll_code rc = rd_http_open(url, &l->cfg, NULL, name, l->bucket, o->name, o->size, out, err);
    mem_free(url);
    return rc;
}

/* ---- the concatenating reader ---- */

typedef struct {
    ll_reader r;
    rd_list l;
    size_t i; /* index of cur */
    ll_reader *cur, *next;
    int next_due; /* the next object's request starts once cur has delivered bytes */
    int wrap;
    uint8_t pend[16];
    size_t pend_len, pend_pos;
    uint64_t size;       /* of cur (wrapping) */
    uint64_t obj_left;   /* bytes of cur not yet delivered */
    uint64_t frame_left; /* bytes of the current frame not yet delivered */
    uint32_t frame_len;
} rd_multi;

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Queues the header of the next frame of cur. Objects above RIO_MAX_LEN are split into plain
 * fragments (cflag 1, 2..., 3). */
static void next_header(rd_multi *m)
{
    uint32_t cflag = 0;
    uint64_t flen = m->obj_left;
    if (m->size > RIO_MAX_LEN) {
        uint64_t maxf = RIO_MAX_LEN & ~(uint64_t)3;
        int first = m->obj_left == m->size;
        if (flen > maxf)
            flen = maxf;
        cflag = first ? 1 : flen == m->obj_left ? 3 : 2;
    }
    put32(m->pend, RIO_MAGIC);
    put32(m->pend + 4, cflag << 29 | (uint32_t)flen);
    m->pend_len = 8;
    m->pend_pos = 0;
    m->frame_left = flen;
    m->frame_len = (uint32_t)flen;
}

static ll_code open_cur(rd_multi *m, ll_err *err)
{
    ll_code rc;
    if (m->next) {
        m->cur = m->next;
        m->next = NULL;
    } else {
        rc = rd_list_open(&m->l, m->i, &m->cur, err);
        if (rc != LL_OK)
            return rc;
    }
    /* the next object's request overlaps with reading this one; it starts once this one has
     * answered, so that it does not slow this one's first bytes */
    m->next_due = m->i + 1 < m->l.n && m->l.kind != RD_FILE;
    if (m->wrap) {
        rd_obj *o = &m->l.objs[m->i];
        if (o->size == UINT64_MAX && m->l.kind == RD_S3) {
            rc = s3_head(&m->l.cfg, m->l.bucket, o->name, &o->size, err);
            if (rc != LL_OK)
                return rc;
        }
        if (o->size == UINT64_MAX)
            return err_set(err, LL_E_ARG, "RecordIO wrapping needs the object's size"),
                   err_src(err, m->cur->name);
        m->size = m->obj_left = o->size;
        next_header(m);
    }
    return LL_OK;
}

static ll_code multi_read(ll_reader *self, void *buf, size_t cap, size_t *n, int *eof, ll_err *err)
{
    rd_multi *m = (rd_multi *)self;
    for (;;) {
        if (m->pend_pos < m->pend_len) {
            size_t k = m->pend_len - m->pend_pos;
            if (k > cap)
                k = cap;
            memcpy(buf, m->pend + m->pend_pos, k);
            m->pend_pos += k;
            *n = k;
            return LL_OK;
        }
        if (!m->cur) {
            if (m->i >= m->l.n) {
                *eof = 1;
                return LL_OK;
            }
            ll_code rc = open_cur(m, err);
            if (rc != LL_OK)
                return rc;
            continue;
        }
        if (m->wrap && m->frame_left == 0 && m->obj_left > 0) {
            next_header(m);
            continue;
        }
        size_t want = cap;
        uint8_t probe[1];
        void *dst = buf;
        if (m->wrap) {
            if (m->frame_left == 0) {
                want = 1; /* expect end of object */
                dst = probe;
            } else if (want > m->frame_left) {
                want = (size_t)m->frame_left;
            }
        }
        size_t k;
        int e;
        rd_http_poke(m->next);
        ll_code rc = ll_reader_read(m->cur, dst, want, &k, &e, err);
        if (rc != LL_OK)
            return rc;
        if (m->next_due && (k > 0 || e)) {
            ll_err e2;
            m->next_due = 0;
            if (rd_list_open(&m->l, m->i + 1, &m->next, &e2) != LL_OK)
                m->next = NULL; /* reported when it becomes current */
        }
        if (e) {
            if (m->wrap && m->obj_left)
                return err_set(err, LL_E_REMOTE, "the object ended %llu bytes before its size",
                               (unsigned long long)m->obj_left),
                       err_src(err, m->cur->name);
            ll_reader_free(m->cur);
            m->cur = NULL;
            m->i++;
            continue;
        }
        if (m->wrap) {
            if (dst == probe)
                return err_set(err, LL_E_REMOTE, "the object is longer than its listed size"),
                       err_src(err, m->cur->name);
            m->obj_left -= k;
            m->frame_left -= k;
            if (m->frame_left == 0) {
                size_t pad = (4 - m->frame_len % 4) % 4;
                memset(m->pend, 0, pad);
                m->pend_len = pad;
                m->pend_pos = 0;
            }
        }
        *n = k;
        return LL_OK;
    }
}

static void multi_stop(rd_multi *m)
{
    ll_reader_free(m->cur);
    ll_reader_free(m->next);
    m->cur = m->next = NULL;
    m->i = 0;
    m->pend_len = m->pend_pos = 0;
    m->obj_left = m->frame_left = 0;
}

static ll_code multi_rewind(ll_reader *self, ll_err *err)
{
    (void)err;
    multi_stop((rd_multi *)self);
    return LL_OK;
}

static void multi_close(ll_reader *self)
{
    rd_multi *m = (rd_multi *)self;
    multi_stop(m);
    rd_list_deinit(&m->l);
    mem_free(m);
}

ll_code rd_multi_open(const char *src, const ll_source_opts *o, ll_reader **out, ll_err *err)
{
    *out = NULL;
    rd_multi *m = mem_calloc(1, sizeof *m);
    if (!m)
        return err_set(err, LL_E_NOMEM, "out of memory");
    ll_code rc = rd_list_build(src, o, &m->l, err);
    if (rc != LL_OK) {
        mem_free(m);
        return rc;
    }
    char nm[128];
    rd_safe_name(src, nm, sizeof nm); /* never show a URL's query or user information */
    rd_init(&m->r, nm);
    m->r.read = multi_read;
    m->r.rewind = multi_rewind;
    m->r.close = multi_close;
    m->wrap = o && o->record_wrap;
    *out = &m->r;
    return LL_OK;
}
