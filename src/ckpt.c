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
#include <stdarg.h>
#include <stdio.h>
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
    mem_free(st->part.h_batches);
    mem_free(st->part.h_rows);
    mem_free(st->part.h_tw);
    mem_free(st->part.h_tl);
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
    uint64_t t0 = s->t; /* lazy sparse state: the oldest step a feature is current at */
    for (uint64_t j = 0; j < s->D; j++)
        if (s->last[j] < t0)
            t0 = s->last[j];
    if (s->lazy_steps && s->t > 0)
        flags |= CKPT_LAZY;
    if ((flags & CKPT_PARTIAL) && st->part.nh > 1)
        flags |= CKPT_HOSTS;
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
    if (flags & CKPT_LAZY)
        P += 16 + 8 * K * (s->t - t0 + 1) + 8 * D;
    if (flags & CKPT_PARTIAL) {
        P += 8 * K + 8 + 8 + 4 * (K * st->part.n + 2 * st->part.n);
        if (flags & CKPT_HOSTS)
            P += 16 + (uint64_t)st->part.nh * (24 + 8 * K);
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
    if (flags & CKPT_LAZY) {
        put_u64(room(o, 8), t0);
        put_u64(room(o, 8), s->t - t0 + 1);
        w_f64s(o, s->lrsum + t0 * K, K * (s->t - t0 + 1));
        for (uint64_t j = 0; j < D; j++)
            put_u64(room(o, 8), s->last[j]);
    }
    if (flags & CKPT_PARTIAL) {
        const ckpt_partial *pt = &st->part;
        w_f64s(o, pt->tl, K);
        w_f64s(o, &pt->tw, 1);
        put_u64(room(o, 8), pt->n);
        if (flags & CKPT_HOSTS) {
            put_u64(room(o, 8), pt->batches);
            put_u64(room(o, 8), pt->nh);
            for (uint32_t hh = 0; hh < pt->nh; hh++) {
                put_u64(room(o, 8), pt->h_batches[hh]);
                put_u64(room(o, 8), pt->h_rows[hh]);
                w_f64s(o, &pt->h_tw[hh], 1);
                w_f64s(o, pt->h_tl + (size_t)hh * K, K);
            }
        }
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

/* ---- reading: decode (the file's own consistency), validate (against this run), apply ---- */

/* A decoded checkpoint: the header's fields and where each array starts in the file's bytes.
 * Borrows the bytes it was decoded from. */
typedef struct ckpt_file {
    const uint8_t *p;
    uint64_t len, P;
    uint64_t fingerprint, D, steps, rows_trained, seed, batches, pn;
    uint32_t C, K, next_epoch, flags, stale, epochs_done;
    double global_best, train_secs, ymu, ysd;
    uint64_t M; /* K * C */
    /* byte offsets of the arrays (0: absent) */
    uint64_t o_lr, o_best, o_bestc, o_mu, o_sc, o_W, o_B, o_s1W, o_s2W, o_s1B, o_s2B, o_bestW,
        o_bestB, o_tl, o_tw, o_n, o_psc, o_lab, o_wt;
    uint64_t nh, o_hosts; /* flag 32: hosts and where their records start */
    uint64_t lazy_t0, lazy_n, o_lazy, o_lrsum, o_last; /* flag 16 */
} ckpt_file;

/* Header fields by offset, for messages that name what they refuse. */
static const char *field_name(uint64_t off)
{
    switch (off) {
    case 8:
        return "version";
    case 16:
        return "fingerprint";
    case 24:
        return "D (features)";
    case 32:
        return "C (outputs per model)";
    case 36:
        return "K (models)";
    case 40:
        return "next epoch";
    case 44:
        return "flags";
    case 48:
        return "epochs without improvement";
    case 52:
        return "epochs done";
    case 56:
        return "optimizer steps";
    case 64:
        return "best early-stopping value";
    case 72:
        return "rows trained";
    case 80:
        return "seconds trained";
    case 88:
        return "scaler label mean";
    case 96:
        return "scaler label scale";
    case 104:
        return "seed";
    case 112:
        return "payload size";
    case 120:
        return "mini-batches of the next epoch";
    }
    return "header";
}

__attribute__((format(printf, 4, 5))) static ll_code bad(ll_err *err, const char *path,
                                                         uint64_t off, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    err_set(err, LL_E_PARSE, "damaged checkpoint: %s", what);
    return err_at(err, path, off);
}

/* A header field whose value cannot be right: names the field, the value and the rule. */
static ll_code bad_field(ll_err *err, const char *path, uint64_t off, uint64_t v, const char *rule)
{
    return bad(err, path, off, "field '%s' = %llu %s", field_name(off), (unsigned long long)v,
               rule);
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

static float get_f32(const uint8_t *p)
{
    uint32_t u = get_u32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
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

/* The index of the first f32 of n at p that is not finite (or negative, with nonneg), or n. */
static uint64_t first_bad_f32(const uint8_t *p, uint64_t n, int nonneg)
{
    for (uint64_t i = 0; i < n; i++) {
        float f = get_f32(p + 4 * i);
        if (!isfinite(f) || (nonneg && f < 0))
            return i;
    }
    return n;
}

/* Takes `bytes` more bytes of the payload at *at, unless they do not fit in the P bytes that
 * end at `end`: the offset of the array, or 0 when it overruns. */
static uint64_t take(uint64_t *at, uint64_t end, uint64_t count, uint64_t width)
{
    if (count > (end - *at) / width)
        return 0;
    uint64_t o = *at;
    *at += count * width;
    return o;
}

/* Reads the whole file at path into *bytes (mem_free); checks nothing. */
static ll_code read_all(const char *path, uint8_t **bytes, uint64_t *len_out, ll_err *err)
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
    if (got != len) {
        mem_free(p);
        return err_sys(err, path, "cannot read the checkpoint");
    }
    *bytes = p;
    *len_out = len;
    return LL_OK;
}

/* Decodes the len bytes at p into f: magic, version, checksum, flags and every size checked
 * against the file itself (overflow-safe), so every offset in f lies inside the file.
 * LL_E_PARSE names the byte offset and field. Knows nothing of the run. */
static ll_code decode(const char *path, const uint8_t *p, uint64_t len, ckpt_file *f, ll_err *err)
{
    memset(f, 0, sizeof *f);
    f->p = p;
    f->len = len;
    if (len < CKPT_HDR + 4 || len > CKPT_MAX_BYTES)
        return bad(err, path, len, "the file is too short to hold a header and a checksum");
    if (memcmp(p, CKPT_MAGIC, 8))
        return bad(err, path, 0, "the magic is not LLCKPT01");
    if (get_u32(p + 8) != CKPT_VERSION)
        return bad_field(err, path, 8, get_u32(p + 8), "is an unknown version");
    if (get_u32(p + 12) != CKPT_HDR)
        return bad(err, path, 12, "header size is not 128");
    f->P = get_u64(p + 112);
    if (f->P != len - CKPT_HDR - 4)
        return bad(err, path, 112, "the payload size does not match the file size");
    uint32_t crc = (uint32_t)crc32(0, NULL, 0);
    /* crc32 takes uInt lengths: feed large files in pieces */
    for (uint64_t off = 0; off < len - 4;) {
        uint64_t k = len - 4 - off;
        if (k > ((uint64_t)1 << 30))
            k = (uint64_t)1 << 30;
        crc = (uint32_t)crc32(crc, p + off, (uInt)k);
        off += k;
    }
    if (crc != get_u32(p + len - 4))
        return bad(err, path, len - 4, "checksum mismatch (the file was damaged or cut)");
    f->fingerprint = get_u64(p + 16);
    f->D = get_u64(p + 24);
    f->C = get_u32(p + 32);
    f->K = get_u32(p + 36);
    f->next_epoch = get_u32(p + 40);
    f->flags = get_u32(p + 44);
    f->stale = get_u32(p + 48);
    f->epochs_done = get_u32(p + 52);
    f->steps = get_u64(p + 56);
    f->global_best = get_f64(p + 64);
    f->rows_trained = get_u64(p + 72);
    f->train_secs = get_f64(p + 80);
    f->ymu = get_f64(p + 88);
    f->ysd = get_f64(p + 96);
    f->seed = get_u64(p + 104);
    f->batches = get_u64(p + 120);
    if (f->flags & ~(uint32_t)(CKPT_DONE | CKPT_HAS_BEST | CKPT_SHIFT | CKPT_PARTIAL | CKPT_LAZY |
                               CKPT_HOSTS) ||
        ((f->flags & CKPT_DONE) && (f->flags & CKPT_PARTIAL)) ||
        ((f->flags & CKPT_HOSTS) && !(f->flags & CKPT_PARTIAL)))
        return bad(err, path, 44, "unknown flags");
    if (f->D == 0 || f->D > f->P)
        return bad_field(err, path, 24, f->D, "does not fit the payload");
    if (f->K == 0 || f->K > f->P)
        return bad_field(err, path, 36, f->K, "does not fit the payload");
    if (f->C == 0 || f->C > f->P)
        return bad_field(err, path, 32, f->C, "does not fit the payload");
    f->M = (uint64_t)f->K * f->C;
    if (f->M > f->P || f->D > f->P / f->M)
        return bad(err, path, 24, "the sizes D x K x C do not fit the payload");
    uint64_t at = CKPT_HDR, end = CKPT_HDR + f->P, D = f->D, M = f->M, DM = D * M;
    int ok = (f->o_lr = take(&at, end, f->K, 8)) && (f->o_best = take(&at, end, f->K, 8)) &&
             (f->o_bestc = take(&at, end, f->K, 8));
    if (ok && (f->flags & CKPT_SHIFT))
        ok = (f->o_mu = take(&at, end, D, 4)) != 0;
    ok = ok && (f->o_sc = take(&at, end, D, 4)) && (f->o_W = take(&at, end, DM, 4)) &&
         (f->o_B = take(&at, end, M, 4)) && (f->o_s1W = take(&at, end, DM, 4)) &&
         (f->o_s2W = take(&at, end, DM, 4)) && (f->o_s1B = take(&at, end, M, 4)) &&
         (f->o_s2B = take(&at, end, M, 4));
    if (ok && (f->flags & CKPT_HAS_BEST))
        ok = (f->o_bestW = take(&at, end, DM, 4)) && (f->o_bestB = take(&at, end, M, 4));
    if (!ok)
        return bad(err, path, 112, "the payload size does not match the sizes in the header");
    if (f->flags & CKPT_LAZY) {
        if (!(f->o_lazy = take(&at, end, 2, 8)))
            return bad(err, path, 112, "the payload is too short for the lazy sparse state");
        f->lazy_t0 = get_u64(p + f->o_lazy);
        f->lazy_n = get_u64(p + f->o_lazy + 8);
        if (f->lazy_n == 0 || f->lazy_n > (end - at) / 8 / f->K ||
            !(f->o_lrsum = take(&at, end, f->lazy_n * f->K, 8)) ||
            !(f->o_last = take(&at, end, D, 8)))
            return bad(err, path, f->o_lazy + 8,
                       "the lazy state's %llu learning-rate sums do not fit the payload",
                       (unsigned long long)f->lazy_n);
    }
    if (f->flags & CKPT_PARTIAL) {
        /* tl[K], tw, n, then 4 * (K + 2) * n bytes */
        if (!(f->o_tl = take(&at, end, f->K, 8)) || !(f->o_tw = take(&at, end, 1, 8)) ||
            !(f->o_n = take(&at, end, 1, 8)))
            return bad(err, path, 112, "the payload is too short for a partial epoch");
        f->pn = get_u64(p + f->o_n);
        if (f->flags & CKPT_HOSTS) {
            uint64_t oh = take(&at, end, 2, 8);
            if (!oh)
                return bad(err, path, 112, "the payload is too short for the hosts' positions");
            if (get_u64(p + oh) != f->batches)
                return bad(err, path, oh, "the hosts' steps differ from the mini-batches at 120");
            f->nh = get_u64(p + oh + 8);
            uint64_t rec = 24 + 8 * (uint64_t)f->K;
            if (f->nh < 2 || f->nh > 65536 || f->nh > (end - at) / rec)
                return bad_field(err, path, oh + 8, f->nh, "hosts do not fit the payload");
            f->o_hosts = take(&at, end, f->nh * (3 + (uint64_t)f->K), 8);
        }
        uint64_t per = 4 * ((uint64_t)f->K + 2);
        if (f->pn > (end - at) / per || end - at != per * f->pn)
            return bad(err, path, f->o_n, "the sampled-row count does not match the payload size");
        f->o_psc = take(&at, end, f->K * f->pn, 4);
        f->o_lab = take(&at, end, f->pn, 4);
        f->o_wt = take(&at, end, f->pn, 4);
    } else {
        if (at != end)
            return bad(err, path, 112, "the payload size does not match the sizes in the header");
        if (f->batches != 0)
            return bad_field(err, path, 120, f->batches, "without a partial epoch (flag 8)");
    }
    return LL_OK;
}

/* The most optimizer steps a checkpoint may claim: the lazy updates keep K sums per step, so
 * more than this could not have been trained in memory (and its size would overflow). */
#define CKPT_MAX_STEPS ((uint64_t)1 << 34)

/* Checks the decoded f against this run (st's fingerprint, seed and epochs; s's sizes; the
 * scaler sc this run computed) and every value against its range: LL_E_STATE for another
 * run's checkpoint, LL_E_PARSE (naming file, byte offset and field) for a value no run
 * writes. Changes nothing. */
static ll_code validate(const char *path, const ckpt_file *f, const ckpt_state *st, const sgd *s,
                        const scaler *sc, ll_err *err)
{
    const uint8_t *p = f->p;
    if (f->fingerprint != st->fingerprint)
        return mismatch(err, path, "the hyperparameters, seed or channels differ");
    if (f->seed != st->seed)
        return mismatch(err, path, "the seed differs");
    if (f->D != s->D || f->C != s->C || f->K != s->K)
        return mismatch(err, path, "feature_dim, classes or num_models differ");
    /* the scaler must be the one this run computed from its own data */
    int shift = (f->flags & CKPT_SHIFT) != 0;
    if (shift != (sc->shift && sc->mu) || f->ymu != sc->ymu || f->ysd != sc->ysd)
        return mismatch(err, path, "the data's scaling differs (other training data?)");
    if (shift && !same_f32s(p + f->o_mu, sc->mu, f->D))
        return mismatch(err, path, "the feature means differ (other training data?)");
    if (!same_f32s(p + f->o_sc, sc->sc, f->D))
        return mismatch(err, path, "the feature scales differ (other training data?)");
    /* the counters */
    if (f->next_epoch != f->epochs_done ||
        (f->next_epoch == 0 && !(f->flags & (CKPT_DONE | CKPT_PARTIAL))))
        return bad(err, path, 40, "the epoch counters disagree");
    if (st->epochs && f->epochs_done > st->epochs)
        return bad_field(err, path, 52, f->epochs_done, "exceeds the configured epochs");
    if (st->epochs && (f->flags & CKPT_PARTIAL) && f->next_epoch >= st->epochs)
        return bad_field(err, path, 40, f->next_epoch,
                         "stopped inside an epoch past the configured epochs");
    if (f->stale > f->epochs_done)
        return bad_field(err, path, 48, f->stale, "exceeds the epochs done");
    if (f->steps > f->rows_trained)
        return bad_field(err, path, 56, f->steps, "exceeds the rows trained (a step takes a row)");
    if (f->steps > CKPT_MAX_STEPS / f->K)
        return bad_field(err, path, 56, f->steps, "is more steps than any run can hold");
    if (f->batches > f->steps)
        return bad_field(err, path, 120, f->batches, "exceeds the optimizer steps");
    if (f->pn > f->rows_trained)
        return bad_field(err, path, f->o_n, f->pn, "sampled rows exceed the rows trained");
    if (isnan(f->global_best))
        return bad(err, path, 64, "field '%s' is NaN", field_name(64));
    if (!isfinite(f->train_secs) || f->train_secs < 0)
        return bad(err, path, 80, "field '%s' is not a finite time", field_name(80));
    /* the arrays: learning rates positive, every other number finite */
    for (uint32_t k = 0; k < f->K; k++) {
        double lr = get_f64(p + f->o_lr + 8 * k);
        if (!(lr > 0) || !isfinite(lr))
            return bad(err, path, f->o_lr + 8 * k, "a learning rate is not positive");
        if (isnan(get_f64(p + f->o_best + 8 * k)))
            return bad(err, path, f->o_best + 8 * k, "a best loss is NaN");
        if (isnan(get_f64(p + f->o_bestc + 8 * k)))
            return bad(err, path, f->o_bestc + 8 * k, "a best criterion is NaN");
    }
    uint64_t DM = f->D * f->M;
    struct {
        uint64_t off, n;
        const char *name;
    } arr[] = {
        {f->o_W, DM, "weights"},
        {f->o_B, f->M, "biases"},
        {f->o_s1W, DM, "weight moments"},
        {f->o_s2W, DM, "weight moments"},
        {f->o_s1B, f->M, "bias moments"},
        {f->o_s2B, f->M, "bias moments"},
        {f->o_bestW, DM, "best weights"},
        {f->o_bestB, f->M, "best biases"},
        {f->o_psc, f->K * f->pn, "sampled scores"},
        {f->o_lab, f->pn, "sampled labels"},
        {f->o_wt, f->pn, "sampled weights"},
    };
    for (size_t a = 0; a < sizeof arr / sizeof arr[0]; a++) {
        if (!arr[a].off)
            continue;
        uint64_t i = first_bad_f32(p + arr[a].off, arr[a].n, a == 10);
        if (i < arr[a].n)
            return bad(err, path, arr[a].off + 4 * i, "%s[%llu] is not a finite number%s",
                       arr[a].name, (unsigned long long)i, a == 10 ? " >= 0" : "");
    }
    if (f->o_tl) {
        for (uint32_t k = 0; k < f->K; k++)
            if (!isfinite(get_f64(p + f->o_tl + 8 * k)))
                return bad(err, path, f->o_tl + 8 * k, "an epoch loss sum is not finite");
        double tw = get_f64(p + f->o_tw);
        if (!isfinite(tw) || tw < 0)
            return bad(err, path, f->o_tw, "the epoch weight sum is not a finite number >= 0");
    }
    for (uint64_t hh = 0; hh < f->nh; hh++) {
        uint64_t o = f->o_hosts + hh * (24 + 8 * (uint64_t)f->K);
        if (get_u64(p + o) > f->batches)
            return bad_field(err, path, o, get_u64(p + o), "host mini-batches exceed the steps");
        if (get_u64(p + o + 8) > f->rows_trained)
            return bad_field(err, path, o + 8, get_u64(p + o + 8), "host rows exceed rows trained");
        for (uint64_t k = 0; k < 1 + (uint64_t)f->K; k++) {
            double v = get_f64(p + o + 16 + 8 * k);
            if (!isfinite(v) || (k == 0 && v < 0))
                return bad(err, path, o + 16 + 8 * k, "a host's epoch sum is not finite");
        }
    }
    if (f->flags & CKPT_LAZY) {
        if (f->lazy_t0 > f->steps || f->lazy_n != f->steps - f->lazy_t0 + 1)
            return bad(err, path, f->o_lazy,
                       "the lazy state covers steps %llu + %llu, not up to the %llu steps",
                       (unsigned long long)f->lazy_t0, (unsigned long long)f->lazy_n,
                       (unsigned long long)f->steps);
        uint64_t n = f->lazy_n * f->K;
        for (uint64_t i = 0; i < n; i++) {
            double v = get_f64(p + f->o_lrsum + 8 * i);
            if (!isfinite(v) || v < 0)
                return bad(err, path, f->o_lrsum + 8 * i,
                           "a learning-rate sum is not a finite number >= 0");
        }
        for (uint64_t j = 0; j < f->D; j++) {
            uint64_t l = get_u64(p + f->o_last + 8 * j);
            if (l < f->lazy_t0 || l > f->steps)
                return bad(err, path, f->o_last + 8 * j,
                           "feature %llu is current at step %llu, outside %llu..%llu",
                           (unsigned long long)j, (unsigned long long)l,
                           (unsigned long long)f->lazy_t0, (unsigned long long)f->steps);
        }
    }
    return LL_OK;
}

/* Applies the validated f to st and s. Allocates first: on LL_E_NOMEM nothing is changed. */
static ll_code apply(const ckpt_file *f, ckpt_state *st, sgd *s, ll_err *err)
{
    const uint8_t *p = f->p;
    uint64_t K = f->K, pn = f->pn, M = f->M;
    size_t DM = (size_t)(f->D * M);
    ckpt_partial part;
    memset(&part, 0, sizeof part);
    float *bw = NULL, *bb = NULL;
    int ok = 1;
    if (f->flags & CKPT_PARTIAL) {
        part.batches = f->batches;
        part.n = pn;
        part.stride = (size_t)pn;
        part.tl = mem_alloc(((size_t)K + 1) * sizeof(double));
        part.sc = mem_alloc(((size_t)(K * pn) + 1) * sizeof(float));
        part.lab = mem_alloc(((size_t)pn + 1) * sizeof(float));
        part.wt = mem_alloc(((size_t)pn + 1) * sizeof(float));
        ok = part.tl && part.sc && part.lab && part.wt;
        if (ok && f->nh) {
            part.nh = (uint32_t)f->nh;
            part.h_batches = mem_alloc((size_t)f->nh * sizeof(uint64_t));
            part.h_rows = mem_alloc((size_t)f->nh * sizeof(uint64_t));
            part.h_tw = mem_alloc((size_t)f->nh * sizeof(double));
            part.h_tl = mem_alloc((size_t)(f->nh * K) * sizeof(double));
            ok = part.h_batches && part.h_rows && part.h_tw && part.h_tl;
        }
    }
    if (ok && (f->flags & CKPT_HAS_BEST) && !s->bestW) {
        bw = mem_alloc(DM * sizeof(float));
        bb = mem_alloc((size_t)M * sizeof(float));
        ok = bw && bb;
    }
    ll_code rc = ok ? sgd_restore_step(s, f->steps, err)
                    : err_set(err, LL_E_NOMEM, "out of memory restoring a checkpoint");
    if (rc != LL_OK) {
        mem_free(bw);
        mem_free(bb);
        mem_free(part.tl);
        mem_free(part.sc);
        mem_free(part.lab);
        mem_free(part.wt);
        mem_free(part.h_batches);
        mem_free(part.h_rows);
        mem_free(part.h_tw);
        mem_free(part.h_tl);
        return rc;
    }
    if (bw) {
        s->bestW = bw;
        s->bestB = bb;
    }
    for (uint32_t k = 0; k < K; k++) {
        s->lr[k] = get_f64(p + f->o_lr + 8 * k);
        st->best[k] = get_f64(p + f->o_best + 8 * k);
        st->bestc[k] = get_f64(p + f->o_bestc + 8 * k);
    }
    r_f32s(p + f->o_W, s->W, DM);
    r_f32s(p + f->o_B, s->B, (size_t)M);
    r_f32s(p + f->o_s1W, s->s1W, DM);
    r_f32s(p + f->o_s2W, s->s2W, DM);
    r_f32s(p + f->o_s1B, s->s1B, (size_t)M);
    r_f32s(p + f->o_s2B, s->s2B, (size_t)M);
    if (f->flags & CKPT_HAS_BEST) {
        r_f32s(p + f->o_bestW, s->bestW, DM);
        r_f32s(p + f->o_bestB, s->bestB, (size_t)M);
    }
    if (f->flags & CKPT_LAZY) {
        /* the sums and steps the features are current at, as the stopped run had them
         * (sgd_restore_step sized the sums for steps 0..T+1) */
        uint64_t n = f->lazy_n * K;
        s->lazy_steps = 1;
        for (uint64_t i = 0; i < n; i++)
            s->lrsum[f->lazy_t0 * K + i] = get_f64(p + f->o_lrsum + 8 * i);
        s->synced = UINT64_MAX;
        for (uint64_t j = 0; j < f->D; j++) {
            s->last[j] = get_u64(p + f->o_last + 8 * j);
            s->synced = s->last[j] < s->synced ? s->last[j] : s->synced;
        }
        if (!f->D)
            s->synced = 0;
    }
    if (f->flags & CKPT_PARTIAL) {
        for (uint32_t k = 0; k < K; k++)
            part.tl[k] = get_f64(p + f->o_tl + 8 * k);
        part.tw = get_f64(p + f->o_tw);
        r_f32s(p + f->o_psc, part.sc, (size_t)(K * pn));
        r_f32s(p + f->o_lab, part.lab, (size_t)pn);
        r_f32s(p + f->o_wt, part.wt, (size_t)pn);
        for (uint64_t hh = 0; hh < f->nh; hh++) {
            uint64_t o = f->o_hosts + hh * (24 + 8 * K);
            part.h_batches[hh] = get_u64(p + o);
            part.h_rows[hh] = get_u64(p + o + 8);
            part.h_tw[hh] = get_f64(p + o + 16);
            for (uint64_t k = 0; k < K; k++)
                part.h_tl[hh * K + k] = get_f64(p + o + 24 + 8 * k);
        }
        ckpt_state_deinit(st);
        st->part = part;
        st->owns_part = 1;
    }
    st->next_epoch = f->next_epoch;
    st->flags = f->flags;
    st->stale = f->stale;
    st->epochs_done = f->epochs_done;
    st->global_best = f->global_best;
    st->rows_trained = f->rows_trained;
    st->train_secs = f->train_secs;
    return LL_OK;
}

ll_code ckpt_load_bytes(const char *path, const uint8_t *bytes, uint64_t len, ckpt_state *st,
                        sgd *s, const scaler *sc, ll_err *err)
{
    ckpt_file f;
    ll_code rc = decode(path, bytes, len, &f, err);
    if (rc == LL_OK)
        rc = validate(path, &f, st, s, sc, err);
    if (rc == LL_OK)
        rc = apply(&f, st, s, err);
    return rc;
}

ll_code ckpt_load(const char *path, ckpt_state *st, sgd *s, const scaler *sc, ll_err *err)
{
    uint8_t *p = NULL;
    uint64_t len = 0;
    ll_code rc = read_all(path, &p, &len, err);
    if (rc == LL_OK)
        rc = ckpt_load_bytes(path, p, len, st, s, sc, err);
    mem_free(p);
    return rc;
}
