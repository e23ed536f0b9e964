/* SPDX-License-Identifier: Apache-2.0 */
/* support_pb.c - test helpers for the RecordIO/protobuf tests (see support_pb.h). SHA-256 is
 * written from FIPS 180-4. */
#include "support_pb.h"
#include "rd.h"
#include "wr.h"
#include <stdlib.h>
#include <string.h>

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static inline uint32_t ror(uint32_t x, int n)
{
    return x >> n | x << (32 - n);
}

static void sha_block(uint32_t h[8], const uint8_t *b)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
               (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t S1 = ror(e, 6) ^ ror(e, 11) ^ ror(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = hh + S1 + ch + K256[i] + w[i];
        uint32_t S0 = ror(a, 2) ^ ror(a, 13) ^ ror(a, 22);
        uint32_t mj = (a & bb) ^ (a & c) ^ (bb & c);
        uint32_t t2 = S0 + mj;
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = bb;
        bb = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += bb;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

void tsup_sha256(const void *data, size_t len, uint8_t out[32])
{
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const uint8_t *p = data;
    size_t n = len;
    while (n >= 64) {
        sha_block(h, p);
        p += 64;
        n -= 64;
    }
    uint8_t tail[128];
    memset(tail, 0, sizeof tail);
    if (n)
        memcpy(tail, p, n);
    tail[n] = 0x80;
    size_t tl = n + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        tail[tl - 1 - i] = (uint8_t)(bits >> (8 * i));
    sha_block(h, tail);
    if (tl == 128)
        sha_block(h, tail + 64);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

void tsup_sha256_hex(const void *data, size_t len, char out[65])
{
    uint8_t d[32];
    tsup_sha256(data, len, d);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = "0123456789abcdef"[d[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
    }
    out[64] = 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

uint8_t *tsup_unhex(const char *s, size_t *len)
{
    size_t n = strlen(s);
    if (n % 2)
        return NULL;
    uint8_t *p = malloc(n / 2 + 1);
    for (size_t i = 0; i < n / 2; i++) {
        int a = hexval(s[2 * i]), b = hexval(s[2 * i + 1]);
        if (a < 0 || b < 0) {
            free(p);
            return NULL;
        }
        p[i] = (uint8_t)(a << 4 | b);
    }
    *len = n / 2;
    return p;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

uint8_t *tsup_unbase64(const char *s, size_t *len)
{
    size_t n = strlen(s);
    uint8_t *p = malloc(n * 3 / 4 + 3);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=')
            break;
        int v = b64val((unsigned char)s[i]);
        if (v < 0) {
            free(p);
            return NULL;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            p[o++] = (uint8_t)(acc >> bits);
        }
    }
    *len = o;
    return p;
}

/* ---- memory writer ---- */

typedef struct {
    wr_backend be;
    tsup_buf *out;
} mem_be;

static ll_code mem_be_write(wr_backend *self, const void *p, size_t len, ll_err *err)
{
    tsup_buf *o = ((mem_be *)self)->out;
    if (o->n + len > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < o->n + len)
            cap *= 2;
        o->p = realloc(o->p, cap);
        o->cap = cap;
    }
    if (len)
        memcpy(o->p + o->n, p, len);
    o->n += len;
    return LL_OK;
}

static ll_code mem_be_commit(wr_backend *self, ll_err *err)
{
    free(self);
    return LL_OK;
}

static void mem_be_abort(wr_backend *self)
{
    free(self);
}

ll_code tsup_mem_writer(tsup_buf *out, ll_writer **w, ll_err *err)
{
    mem_be *m = calloc(1, sizeof *m);
    m->be.write = mem_be_write;
    m->be.commit = mem_be_commit;
    m->be.abort = mem_be_abort;
    m->out = out;
    return wr_new(&m->be, "memory", w, err);
}

/* ---- piecewise reader ---- */

typedef struct {
    ll_reader r;
    const uint8_t *data;
    size_t len, pos, piece;
    uint64_t rng;
} piece_rd;

static ll_code piece_read(ll_reader *self, void *buf, size_t cap, size_t *n, int *eof, ll_err *err)
{
    piece_rd *m = (piece_rd *)self;
    *n = 0;
    *eof = 0;
    if (m->pos == m->len) {
        *eof = 1;
        return LL_OK;
    }
    size_t k = m->piece;
    if (!k) {
        m->rng ^= m->rng << 13;
        m->rng ^= m->rng >> 7;
        m->rng ^= m->rng << 17;
        k = 1 + (size_t)(m->rng % 64);
    }
    if (k > cap)
        k = cap;
    if (k > m->len - m->pos)
        k = m->len - m->pos;
    memcpy(buf, m->data + m->pos, k);
    m->pos += k;
    *n = k;
    return LL_OK;
}

static void piece_close(ll_reader *self)
{
    free(self);
}

ll_reader *tsup_piece_reader(const void *data, size_t len, size_t piece, uint64_t seed)
{
    piece_rd *m = calloc(1, sizeof *m);
    rd_init(&m->r, "pieces");
    m->r.read = piece_read;
    m->r.close = piece_close;
    m->data = data;
    m->len = len;
    m->piece = piece;
    m->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
    return &m->r;
}
