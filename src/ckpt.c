/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ckpt.c - checkpoint files (layout in ckpt.h): little-endian encoding whatever the host, a
 * CRC-32 over the whole file, all-or-nothing loading.
 */
#include "ckpt.h"
#include "err.h"
#include "mem.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CKPT_MAGIC "LLCKPT01"
#define CKPT_VERSION 1u
#define CKPT_HDR 128u
#define CKPT_MAX_BYTES ((uint64_t)1 << 40)

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_f64(uint8_t *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put_u64(p, v);
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static double get_f64(const uint8_t *p)
{
    uint64_t v = get_u64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

uint64_t ckpt_fingerprint(const ll_hparams *hp, uint64_t seed, const int has[3])
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */
#define MIX(p, n)                                                                                  \
    do {                                                                                           \
        const unsigned char *q_ = (const unsigned char *)(p);                                      \
        for (size_t i_ = 0; i_ < (n); i_++) {                                                      \
            h ^= q_[i_];                                                                           \
            h *= 1099511628211ull;                                                                 \
        }                                                                                          \
    } while (0)
    for (size_t i = 0; i < hp_count(); i++) {
        const char *name = hp_name(i);
        const char *v = ll_hparams_get(hp, name);
        MIX(name, strlen(name) + 1);
        if (v)
            MIX(v, strlen(v) + 1);
    }
    uint8_t b[8];
    put_u64(b, seed);
    MIX(b, 8);
    for (int c = 0; c < 3; c++) {
        uint8_t x = has[c] ? 1 : 0;
        MIX(&x, 1);
    }
#undef MIX
    return h;
}

/* ---- writing ---- */

typedef struct out {
    ll_writer *w;
    uLong crc;
    uint8_t buf[1 << 14];
    size_t n;
    ll_code rc;
    ll_err *err;
} out;

static void flush(out *o)
{
    if (o->rc == LL_OK && o->n) {
        o->crc = crc32(o->crc, o->buf, (uInt)o->n);
        o->rc = ll_writer_write(o->w, o->buf, o->n, o->err);
    }
    o->n = 0;
}

static uint8_t *room(out *o, size_t k)
{
    if (o->n + k > sizeof o->buf)
        flush(o);
    uint8_t *p = o->buf + o->n;
    o->n += k;
    return p;
}

static void w_f64s(out *o, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_f64(room(o, 8), v ? v[i] : 0.0);
}

static void w_f32s(out *o, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        put_u32(room(o, 4), u);
    }
}

void ckpt_state_deinit(ckpt_state *st)
{
    if (!st || !st->owns_part)
        return;
    mem_free(st->part.tl);
    mem_free(st->part.sc);
    mem_free(st->part.lab);
    mem_free(st->part.wt);
    memset(&st->part, 0, sizeof st->part);
    st->owns_part = 0;
}

/* Size of the arrays before the partial-epoch section. */
static uint64_t payload_size(uint64_t D, uint64_t K, uint64_t M, uint32_t flags)
{
    uint64_t p = 3 * 8 * K;
    p += 4 * D * ((flags & CKPT_SHIFT) ? 2 : 1);
    p += 4 * (3 * D * M + 3 * M);
    if (flags & CKPT_HAS_BEST)
        p += 4 * (D * M + M);
    return p;
}

ll_code ckpt_save(const char *path, const ckpt_state *st, const sgd *s, const scaler *sc,
                  ll_err *err)
{
    uint32_t flags = st->flags & (CKPT_DONE | CKPT_PARTIAL);
    if (s->bestW && s->bestB)
        flags |= CKPT_HAS_BEST;
    if (sc->shift && sc->mu)
        flags |= CKPT_SHIFT;
    uint64_t D = s->D, M = s->M, K = s->K;
    out *o = mem_calloc(1, sizeof *o);
    if (!o)
        return err_set(err, LL_E_NOMEM, "out of memory");
    o->err = err;
    o->crc = crc32(0, NULL, 0);
    o->rc = ll_writer_open(path, &o->w, err);
    if (o->rc != LL_OK) {
        ll_code rc = o->rc;
        mem_free(o);
        return rc;
    }
    uint8_t *h = room(o, CKPT_HDR);
    memset(h, 0, CKPT_HDR);
    memcpy(h, CKPT_MAGIC, 8);
    put_u32(h + 8, CKPT_VERSION);
    put_u32(h + 12, CKPT_HDR);
    put_u64(h + 16, st->fingerprint);
    put_u64(h + 24, D);
    put_u32(h + 32, s->C);
    put_u32(h + 36, s->K);
    put_u32(h + 40, st->next_epoch);
    put_u32(h + 44, flags);
    put_u32(h + 48, st->stale);
    put_u32(h + 52, st->epochs_done);
    put_u64(h + 56, s->t);
    put_f64(h + 64, st->global_best);
    put_u64(h + 72, st->rows_trained);
    put_f64(h + 80, st->train_secs);
    put_f64(h + 88, sc->ymu);
    put_f64(h + 96, sc->ysd);
    put_u64(h + 104, st->seed);
    uint64_t P = payload_size(D, K, M, flags);
    if (flags & CKPT_PARTIAL) {
        P += 8 * K + 8 + 8 + 4 * (K * st->part.n + 2 * st->part.n);
        put_u64(h + 120, st->part.batches);
    }
    put_u64(h + 112, P);
    w_f64s(o, s->lr, K);
    w_f64s(o, st->best, K);
    w_f64s(o, st->bestc, K);
    if (flags & CKPT_SHIFT)
        w_f32s(o, sc->mu, D);
    w_f32s(o, sc->sc, D);
    w_f32s(o, s->W, D * M);
    w_f32s(o, s->B, M);
    w_f32s(o, s->s1W, D * M);
    w_f32s(o, s->s2W, D * M);
    w_f32s(o, s->s1B, M);
    w_f32s(o, s->s2B, M);
    if (flags & CKPT_HAS_BEST) {
        w_f32s(o, s->bestW, D * M);
        w_f32s(o, s->bestB, M);
    }
    if (flags & CKPT_PARTIAL) {
        const ckpt_partial *pt = &st->part;
        w_f64s(o, pt->tl, K);
        w_f64s(o, &pt->tw, 1);
        put_u64(room(o, 8), pt->n);
        for (uint64_t k = 0; k < K && pt->n; k++)
            w_f32s(o, pt->sc + k * pt->stride, pt->n);
        if (pt->n) {
            w_f32s(o, pt->lab, pt->n);
            w_f32s(o, pt->wt, pt->n);
        }
    }
    flush(o);
    uint8_t tail[4];
    put_u32(tail, (uint32_t)o->crc);
    if (o->rc == LL_OK)
        o->rc = ll_writer_write(o->w, tail, 4, err);
    ll_code rc = o->rc;
    if (rc == LL_OK)
        rc = ll_writer_commit(o->w, err);
    else
        ll_writer_abort(o->w);
    mem_free(o);
    return rc;
}

/* ---- reading ---- */

static ll_code bad(ll_err *err, const char *path, uint64_t off, const char *what)
{
    err_set(err, LL_E_PARSE, "damaged checkpoint: %s", what);
    return err_at(err, path, off);
}

static ll_code mismatch(ll_err *err, const char *path, const char *what)
{
    err_set(err, LL_E_STATE, "checkpoint of another run: %s", what);
    return err_src(err, path);
}

static void r_f32s(const uint8_t *p, float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u = get_u32(p + 4 * i);
        memcpy(&v[i], &u, 4);
    }
}

static int same_f32s(const uint8_t *p, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u = get_u32(p + 4 * i), w;
        memcpy(&w, &v[i], 4);
        if (u != w)
            return 0;
    }
    return 1;
}

ll_code ckpt_load(const char *path, ckpt_state *st, sgd *s, const scaler *sc, ll_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(err, path, "cannot open the checkpoint");
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return err_sys(err, path, "cannot stat the checkpoint");
    }
    uint64_t len = (uint64_t)sb.st_size;
    if (len < CKPT_HDR + 4 || len > CKPT_MAX_BYTES) {
        close(fd);
        return bad(err, path, len, "the file is too short to hold a header and a checksum");
    }
    uint8_t *p = mem_alloc((size_t)len);
    if (!p) {
        close(fd);
        return err_set(err, LL_E_NOMEM, "out of memory for a %llu-byte checkpoint",
                       (unsigned long long)len);
    }
    uint64_t got = 0;
    while (got < len) {
        ssize_t k = read(fd, p + got, (size_t)(len - got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (uint64_t)k;
    }
    close(fd);
    ll_code rc = LL_OK;
    if (got != len) {
        rc = err_sys(err, path, "cannot read the checkpoint");
        goto out;
    }
    if (memcmp(p, CKPT_MAGIC, 8)) {
        rc = bad(err, path, 0, "the magic is not LLCKPT01");
        goto out;
    }
    if (get_u32(p + 8) != CKPT_VERSION) {
        rc = bad(err, path, 8, "unknown version");
        goto out;
    }
    if (get_u32(p + 12) != CKPT_HDR) {
        rc = bad(err, path, 12, "header size is not 128");
        goto out;
    }
    uint64_t P = get_u64(p + 112);
    if (P != len - CKPT_HDR - 4) {
        rc = bad(err, path, 112, "the payload size does not match the file size");
        goto out;
    }
    uint32_t crc = (uint32_t)crc32(crc32(0, NULL, 0), p, (uInt)0);
    /* crc32 takes uInt lengths: feed large files in pieces */
    for (uint64_t off = 0; off < len - 4;) {
        uint64_t k = len - 4 - off;
        if (k > ((uint64_t)1 << 30))
            k = (uint64_t)1 << 30;
        crc = (uint32_t)crc32(crc, p + off, (uInt)k);
        off += k;
    }
    if (crc != get_u32(p + len - 4)) {
        rc = bad(err, path, len - 4, "checksum mismatch (the file was damaged or cut)");
        goto out;
    }
    uint64_t D = get_u64(p + 24);
    uint32_t C = get_u32(p + 32), K = get_u32(p + 36), flags = get_u32(p + 44);
    if (flags & ~(uint32_t)(CKPT_DONE | CKPT_HAS_BEST | CKPT_SHIFT | CKPT_PARTIAL) ||
        ((flags & CKPT_DONE) && (flags & CKPT_PARTIAL))) {
        rc = bad(err, path, 44, "unknown flags");
        goto out;
    }
    if (get_u64(p + 16) != st->fingerprint) {
        rc = mismatch(err, path, "the hyperparameters, seed or channels differ");
        goto out;
    }
    if (get_u64(p + 104) != st->seed) {
        rc = mismatch(err, path, "the seed differs");
        goto out;
    }
    if (D != s->D || C != s->C || K != s->K) {
        rc = mismatch(err, path, "feature_dim, classes or num_models differ");
        goto out;
    }
    uint64_t M = (uint64_t)K * C;
    uint64_t base = payload_size(D, K, M, flags), pn = 0;
    if (flags & CKPT_PARTIAL) {
        /* tl[K], tw, n, then 4 * (K + 2) * n bytes */
        uint64_t fixed = base + 8 * (uint64_t)K + 16;
        if (P < fixed) {
            rc = bad(err, path, 112, "the payload is too short for a partial epoch");
            goto out;
        }
        pn = get_u64(p + CKPT_HDR + fixed - 8);
        if (pn > (P - fixed) / 4 || P - fixed != 4 * ((uint64_t)K + 2) * pn) {
            rc = bad(err, path, CKPT_HDR + fixed - 8,
                     "the sampled-row count does not match the "
                     "payload size");
            goto out;
        }
    } else if (P != base) {
        rc = bad(err, path, 112, "the payload size does not match the sizes in the header");
        goto out;
    }
    if (!(flags & CKPT_PARTIAL) && get_u64(p + 120) != 0) {
        rc = bad(err, path, 120, "a batch count without a partial epoch");
        goto out;
    }
    const uint8_t *q = p + CKPT_HDR;
    const uint8_t *lr = q, *best = q + 8 * (uint64_t)K, *bestc = q + 16 * (uint64_t)K;
    q += 24 * (uint64_t)K;
    /* the scaler must be the one this run computed from its own data */
    int shift = (flags & CKPT_SHIFT) != 0;
    if (shift != (sc->shift && sc->mu) || get_f64(p + 88) != sc->ymu ||
        get_f64(p + 96) != sc->ysd) {
        rc = mismatch(err, path, "the data's scaling differs (other training data?)");
        goto out;
    }
    if (shift) {
        if (!same_f32s(q, sc->mu, D)) {
            rc = mismatch(err, path, "the feature means differ (other training data?)");
            goto out;
        }
        q += 4 * D;
    }
    if (!same_f32s(q, sc->sc, D)) {
        rc = mismatch(err, path, "the feature scales differ (other training data?)");
        goto out;
    }
    q += 4 * D;
    uint32_t next = get_u32(p + 40), done = get_u32(p + 52);
    if (next != done || (next == 0 && !(flags & (CKPT_DONE | CKPT_PARTIAL)))) {
        rc = bad(err, path, 40, "the epoch counters disagree");
        goto out;
    }
    for (uint32_t k = 0; k < K; k++)
        if (!(get_f64(lr + 8 * k) > 0) || !isfinite(get_f64(lr + 8 * k))) {
            rc = bad(err, path, (uint64_t)(lr - p) + 8 * k, "a learning rate is not positive");
            goto out;
        }
    ckpt_partial part;
    memset(&part, 0, sizeof part);
    if (flags & CKPT_PARTIAL) {
        part.batches = get_u64(p + 120);
        part.n = pn;
        part.stride = (size_t)pn;
        part.tl = mem_alloc(((size_t)K + 1) * sizeof(double));
        part.sc = mem_alloc(((size_t)(K * pn) + 1) * sizeof(float));
        part.lab = mem_alloc(((size_t)pn + 1) * sizeof(float));
        part.wt = mem_alloc(((size_t)pn + 1) * sizeof(float));
        if (!part.tl || !part.sc || !part.lab || !part.wt) {
            mem_free(part.tl);
            mem_free(part.sc);
            mem_free(part.lab);
            mem_free(part.wt);
            rc = err_set(err, LL_E_NOMEM, "out of memory for a partial epoch");
            goto out;
        }
    }
    float *bw = NULL, *bb = NULL;
    if ((flags & CKPT_HAS_BEST) && !s->bestW) {
        bw = mem_alloc((size_t)(D * M) * sizeof(float));
        bb = mem_alloc((size_t)M * sizeof(float));
        if (!bw || !bb) {
            mem_free(bw);
            mem_free(bb);
            mem_free(part.tl);
            mem_free(part.sc);
            mem_free(part.lab);
            mem_free(part.wt);
            rc = err_set(err, LL_E_NOMEM, "out of memory for the best-model snapshot");
            goto out;
        }
        s->bestW = bw;
        s->bestB = bb;
    }
    /* everything checked: apply */
    for (uint32_t k = 0; k < K; k++) {
        s->lr[k] = get_f64(lr + 8 * k);
        st->best[k] = get_f64(best + 8 * k);
        st->bestc[k] = get_f64(bestc + 8 * k);
    }
    size_t DM = (size_t)(D * M);
    r_f32s(q, s->W, DM);
    q += 4 * DM;
    r_f32s(q, s->B, M);
    q += 4 * M;
    r_f32s(q, s->s1W, DM);
    q += 4 * DM;
    r_f32s(q, s->s2W, DM);
    q += 4 * DM;
    r_f32s(q, s->s1B, M);
    q += 4 * M;
    r_f32s(q, s->s2B, M);
    q += 4 * M;
    if (flags & CKPT_HAS_BEST) {
        r_f32s(q, s->bestW, DM);
        q += 4 * DM;
        r_f32s(q, s->bestB, M);
        q += 4 * M;
    }
    if (flags & CKPT_PARTIAL) {
        for (uint32_t k = 0; k < K; k++)
            part.tl[k] = get_f64(q + 8 * k);
        q += 8 * (uint64_t)K;
        part.tw = get_f64(q);
        q += 16;
        r_f32s(q, part.sc, (size_t)(K * pn));
        q += 4 * K * pn;
        r_f32s(q, part.lab, (size_t)pn);
        q += 4 * pn;
        r_f32s(q, part.wt, (size_t)pn);
        ckpt_state_deinit(st);
        st->part = part;
        st->owns_part = 1;
    }
    if ((rc = sgd_restore_step(s, get_u64(p + 56), err)) != LL_OK)
        goto out;
    st->next_epoch = next;
    st->flags = flags;
    st->stale = get_u32(p + 48);
    st->epochs_done = done;
    st->global_best = get_f64(p + 64);
    st->rows_trained = get_u64(p + 72);
    st->train_secs = get_f64(p + 80);
out:
    mem_free(p);
    return rc;
}
