/* SPDX-License-Identifier: Apache-2.0 */
/* test_sources.c - streaming sources without S3: folders, globs, manifests, sharding and
 * shuffling, RecordIO wrapping, prefetch, HTTP with resume through the fault proxy (against a
 * libmicrohttpd server here), pipe mode, gzip inflation (CompressionType), and credential
 * handling. */
#include "linlearn.h"
#include "mem.h"
#include "proxy.h"
#include "rd_net.h"
#include "rio.h"
#include "tt.h"
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char tmpdir[256];

static void put_file(const char *rel, const void *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "wb");
    fwrite(p, 1, n, f);
    fclose(f);
}

/* Reads a whole source into a malloc'd buffer. */
static ll_code slurp(const char *src, const ll_source_opts *o, unsigned char **out, size_t *len,
                     ll_err *err)
{
    ll_reader *r;
    ll_code rc = ll_reader_open_ex(src, o, &r, err);
    if (rc != LL_OK)
        return rc;
    size_t cap = 1 << 16, n = 0;
    unsigned char *p = malloc(cap);
    for (;;) {
        if (cap - n < 4096)
            p = realloc(p, cap *= 2);
        size_t k;
        int eof;
        rc = ll_reader_read(r, p + n, 1000, &k, &eof, err);
        if (rc != LL_OK || eof)
            break;
        n += k;
    }
    ll_reader_free(r);
    *out = p;
    *len = n;
    return rc;
}

static void test_folder_sorted_recursive(void)
{
    ll_err err;
    char path[512];
    snprintf(path, sizeof path, "%s/sub", tmpdir);
    mkdir(path, 0755);
    put_file("b.txt", "BB", 2);
    put_file("a.txt", "A", 1);
    put_file("sub/c.txt", "CCC", 3);
    put_file(".hidden", "X", 1);
    put_file("empty.txt", "", 0);
    unsigned char *p;
    size_t n;
    CHECK_OK(slurp(tmpdir, NULL, &p, &n, &err));
    CHECKF(n == 6 && !memcmp(p, "ABBCCC", 6), "got %zu bytes", n);
    free(p);
    snprintf(path, sizeof path, "%s/*.txt", tmpdir);
    CHECK_OK(slurp(path, NULL, &p, &n, &err));
    CHECKF(n == 3 && !memcmp(p, "ABB", 3), "glob got %zu bytes", n);
    free(p);
    snprintf(path, sizeof path, "%s/nothing*.bin", tmpdir);
    ll_reader *r;
    CHECK(ll_reader_open(path, &r, &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "no file matches") != NULL);
}

static void test_manifest_local(void)
{
    ll_err err;
    char m[1024], path[512];
    snprintf(m, sizeof m, "[{\"prefix\": \"%s/\"}, \"sub/c.txt\", \"a.txt\"]", tmpdir);
    put_file("list.manifest", m, strlen(m));
    snprintf(path, sizeof path, "%s/list.manifest", tmpdir);
    unsigned char *p;
    size_t n;
    CHECK_OK(slurp(path, NULL, &p, &n, &err));
    CHECKF(n == 4 && !memcmp(p, "CCCA", 4), "got %zu bytes", n); /* manifest order kept */
    free(p);
    put_file("bad.manifest", "[1,2]", 5);
    snprintf(path, sizeof path, "manifest:%s/bad.manifest", tmpdir);
    ll_reader *r;
    CHECK(ll_reader_open(path, &r, &err) == LL_E_PARSE);
    CHECK(strstr(err.msg, "prefix") != NULL);
}

static void test_shard_and_shuffle(void)
{
    ll_err err;
    char path[512], name[64];
    snprintf(path, sizeof path, "%s/many", tmpdir);
    mkdir(path, 0755);
    for (int i = 0; i < 23; i++) {
        snprintf(name, sizeof name, "many/f%02d", i);
        put_file(name, &"ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i], 1);
    }
    int seen[23] = {0};
    for (uint32_t h = 0; h < 2; h++) {
        ll_source_opts o;
        ll_source_opts_init(&o);
        o.shard_index = h;
        o.shard_count = 2;
        unsigned char *p;
        size_t n;
        CHECK_OK(slurp(path, &o, &p, &n, &err));
        CHECK(n == (h == 0 ? 12u : 11u));
        for (size_t i = 0; i < n; i++) {
            int k = p[i] - 'A';
            CHECK(k % 2 == (int)h); /* host h takes objects h, h+2, ... */
            seen[k]++;
        }
        free(p);
    }
    for (int i = 0; i < 23; i++)
        CHECK(seen[i] == 1);
    /* shuffled: deterministic per (seed, epoch), a permutation, different across epochs */
    ll_source_opts o;
    ll_source_opts_init(&o);
    o.shuffle = 1;
    o.shuffle_seed = 42;
    unsigned char *a, *b, *c;
    size_t na, nb, nc;
    CHECK_OK(slurp(path, &o, &a, &na, &err));
    CHECK_OK(slurp(path, &o, &b, &nb, &err));
    o.epoch = 1;
    CHECK_OK(slurp(path, &o, &c, &nc, &err));
    CHECK(na == 23 && nb == 23 && nc == 23);
    CHECK(!memcmp(a, b, 23));
    CHECK(memcmp(a, c, 23) != 0);
    CHECK(memcmp(a, "ABCDEFGHIJKLMNOPQRSTUVW", 23) != 0);
    int cnt[23] = {0};
    for (int i = 0; i < 23; i++)
        cnt[c[i] - 'A']++;
    for (int i = 0; i < 23; i++)
        CHECK(cnt[i] == 1);
    free(a);
    free(b);
    free(c);
    o.shard_index = 3;
    o.shard_count = 2;
    ll_reader *r;
    CHECK(ll_reader_open_ex(path, &o, &r, &err) == LL_E_ARG);
}

static void test_record_wrap(void)
{
    ll_err err;
    char path[512];
    snprintf(path, sizeof path, "%s/w", tmpdir);
    mkdir(path, 0755);
    put_file("w/1", "hello", 5);
    put_file("w/2", "", 0);
    put_file("w/3", "12345678", 8);
    ll_source_opts o;
    ll_source_opts_init(&o);
    o.record_wrap = 1;
    ll_reader *r;
    CHECK_OK(ll_reader_open_ex(path, &o, &r, &err));
    rio_reader rr;
    CHECK_OK(rio_reader_init(&rr, r, LL_SPLIT_DMLC, 0, &err));
    const char *want[] = {"hello", "", "12345678"};
    for (int i = 0; i < 3; i++) {
        const uint8_t *pl;
        size_t len;
        int eof;
        CHECK_OK(rio_next(&rr, &pl, &len, &eof, &err));
        CHECK(!eof && len == strlen(want[i]) && !memcmp(pl, want[i], len));
    }
    const uint8_t *pl;
    size_t len;
    int eof = 0;
    CHECK_OK(rio_next(&rr, &pl, &len, &eof, &err));
    CHECK(eof);
    CHECK(ll_reader_offset(r) == 16 + 8 + 16);
    rio_reader_deinit(&rr);
    ll_reader_free(r);
}

static void test_prefetch(void)
{
    ll_err err;
    size_t n = 3000000;
    unsigned char *data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 7 + i / 977);
    ll_reader *m = ll_reader_mem(data, n, "mem"), *p;
    CHECK_OK(prefetch_wrap(m, 64 * 1024, &p, &err)); /* far smaller than the data: bounded queue */
    unsigned char *got = malloc(n + 10);
    size_t k = 0;
    for (;;) {
        size_t g;
        int eof;
        CHECK_OK(ll_reader_read(p, got + k, 777, &g, &eof, &err));
        if (eof)
            break;
        k += g;
    }
    CHECK(k == n && !memcmp(got, data, n));
    ll_reader_free(p);
    /* closing early while the thread is ahead */
    m = ll_reader_mem(data, n, "mem");
    CHECK_OK(prefetch_wrap(m, 1 << 20, &p, &err));
    size_t g;
    int eof;
    CHECK_OK(ll_reader_read(p, got, 10, &g, &eof, &err));
    CHECK(g > 0 && !memcmp(got, data, g));
    ll_reader_free(p);
    free(got);
    free(data);
}

/* ---- HTTP against libmicrohttpd, through the fault proxy ---- */

static unsigned char *obj;
static size_t obj_len = 3u << 20;

static enum MHD_Result on_req(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_len, void **state)
{
    (void)cls;
    (void)method;
    (void)version;
    (void)upload;
    (void)upload_len;
    (void)state;
    struct MHD_Response *r;
    enum MHD_Result ret;
    if (strcmp(url, "/obj") != 0) {
        const char *body = "<Error><Code>NoSuchKey</Code></Error>";
        r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
        ret = MHD_queue_response(c, 404, r);
        MHD_destroy_response(r);
        return ret;
    }
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    unsigned long long from = 0;
    if (range)
        sscanf(range, "bytes=%llu-", &from);
    if (from > obj_len)
        from = obj_len;
    r = MHD_create_response_from_buffer(obj_len - from, obj + from, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "ETag", "\"v1\"");
    if (range) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %llu-%zu/%zu", from, obj_len - 1, obj_len);
        MHD_add_response_header(r, "Content-Range", cr);
    }
    ret = MHD_queue_response(c, range ? 206 : 200, r);
    MHD_destroy_response(r);
    return ret;
}

static void read_all(ll_reader *r, unsigned char **out, size_t *n, ll_code *rc, ll_err *err)
{
    size_t cap = obj_len + 65536;
    *out = malloc(cap);
    *n = 0;
    for (;;) {
        size_t k;
        int eof;
        *rc = ll_reader_read(r, *out + *n, 65536 < cap - *n ? 65536 : cap - *n, &k, &eof, err);
        if (*rc != LL_OK || eof || *n == cap)
            break;
        *n += k;
    }
}

static void test_http_resume(void)
{
    ll_err err;
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
                         NULL, on_req, NULL, MHD_OPTION_END);
    CHECK(d);
    int port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    ll_source_opts o;
    ll_source_opts_init(&o);
    o.retry_base_ms = 5;
    o.retry_max_ms = 20;
    o.stall_timeout_s = 1;
    /* every connection is cut after 700 kB; connection 2 stalls after 100 kB */
    proxy *px = proxy_start(port, 700000, 2, 100000);
    CHECK(px);
    char url[128];
    snprintf(url, sizeof url, "http://user:pw@127.0.0.1:%d/obj?X-Amz-Signature=s", proxy_port(px));
    ll_reader *r;
    ll_code rc = ll_reader_open_ex(url, &o, &r, &err);
    if (rc != LL_OK) {
        proxy_stop(px);
        MHD_stop_daemon(d);
        CHECK_OK(rc);
    }
    CHECK(strstr(ll_reader_name(r), "pw") == NULL &&
          strstr(ll_reader_name(r), "Signature") == NULL);
    unsigned char *got;
    size_t n;
    read_all(r, &got, &n, &rc, &err);
    ll_reader_free(r);
    int conns = proxy_conns(px);
    proxy_stop(px);
    CHECK_OK(rc);
    CHECKF(n == obj_len && !memcmp(got, obj, n), "got %zu of %zu bytes", n, obj_len);
    CHECKF(conns >= 6, "only %d connections", conns); /* 3 MB in 700 kB pieces + the stall */
    free(got);
    /* a cut on every connection before any byte arrives: the retry limit ends it */
    o.max_retries = 2;
    px = proxy_start(port, 1, 0, 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/obj", proxy_port(px));
    CHECK_OK(ll_reader_open_ex(url, &o, &r, &err));
    read_all(r, &got, &n, &rc, &err);
    ll_reader_free(r);
    free(got);
    proxy_stop(px);
    CHECK(rc == LL_E_REMOTE && strstr(err.msg, "after 2 retries"));
    /* 404 is not retried and is named */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/missing", port);
    CHECK_OK(ll_reader_open_ex(url, &o, &r, &err));
    read_all(r, &got, &n, &rc, &err);
    ll_reader_free(r);
    free(got);
    MHD_stop_daemon(d);
    CHECK(rc == LL_E_REMOTE && strstr(err.msg, "HTTP 404"));
    CHECK(strstr(err.src, "/missing") != NULL);
}

/* ---- pipe mode ---- */

typedef struct {
    const char *dir;
    ll_pipe_channel ch;
    const ll_source_opts *o;
    uint64_t epochs;
    volatile int stop;
    ll_code rc;
} pipe_job;

static void *pipe_thread(void *arg)
{
    pipe_job *j = arg;
    ll_err e;
    j->rc = ll_pipe_run(j->dir, &j->ch, 1, j->epochs, j->o, &j->stop, &e);
    return NULL;
}

static void test_pipe_epochs(void)
{
    ll_err err;
    char dir[512], src[512], prefix[600];
    snprintf(dir, sizeof dir, "%s/fifo", tmpdir);
    mkdir(dir, 0755);
    snprintf(src, sizeof src, "%s/sub", tmpdir);
    pipe_job j = {dir, {"train_x.1", src}, NULL, 3, 0, LL_OK};
    pthread_t t;
    pthread_create(&t, NULL, pipe_thread, &j);
    snprintf(prefix, sizeof prefix, "%s/train_x.1", dir);
    for (int e = 0; e < 3; e++) {
        ll_reader *r;
        CHECK_OK(ll_pipe_open(prefix, (uint64_t)e, 5000, &r, &err));
        char buf[16];
        size_t n = 0, k;
        int eof = 0;
        while (!eof) {
            CHECK_OK(ll_reader_read(r, buf + n, sizeof buf - n, &k, &eof, &err));
            n += k;
        }
        ll_reader_free(r);
        CHECK(n == 3 && !memcmp(buf, "CCC", 3));
    }
    pthread_join(t, NULL);
    CHECK(j.rc == LL_OK);
    char p0[700];
    snprintf(p0, sizeof p0, "%s_2", prefix);
    CHECK(access(p0, F_OK) != 0); /* removed once consumed */
    ll_reader *r;
    CHECK(ll_pipe_open(prefix, 3, 100, &r, &err) == LL_E_IO); /* no 4th epoch */
    /* stop while nobody reads */
    pipe_job j2 = {dir, {"v", src}, NULL, 3, 0, LL_OK};
    pthread_create(&t, NULL, pipe_thread, &j2);
    usleep(100000);
    __atomic_store_n(&j2.stop, 1, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    CHECK(j2.rc == LL_OK);
    snprintf(p0, sizeof p0, "%s/v_0", dir);
    CHECK(access(p0, F_OK) != 0);
}

/* ---- CompressionType Gzip ---- */

/* One gzip member holding p[0..n). */
static unsigned char *gz_member(const unsigned char *p, size_t n, size_t *out_n)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&z, (uLong)n) + 64;
    unsigned char *out = malloc(cap);
    z.next_in = (unsigned char *)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int r = deflate(&z, Z_FINISH);
    *out_n = cap - z.avail_out;
    deflateEnd(&z);
    if (r != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

static void test_gzip(void)
{
    ll_err err;
    char path[512];
    snprintf(path, sizeof path, "%s/gz", tmpdir);
    mkdir(path, 0755);
    /* two objects, one gzip member each: the folder reads as one inflated stream */
    size_t na = 300000, nb = 77777, ga, gb;
    unsigned char *a = malloc(na), *b = malloc(nb);
    for (size_t i = 0; i < na; i++)
        a[i] = (unsigned char)("0123456789,\n"[(i * 7 + i / 13) % 12]);
    for (size_t i = 0; i < nb; i++)
        b[i] = (unsigned char)(i * 2654435761u >> 24);
    unsigned char *za = gz_member(a, na, &ga), *zb = gz_member(b, nb, &gb);
    CHECK(za && zb && za[0] == 0x1f && za[1] == 0x8b);
    put_file("gz/a.gz", za, ga);
    put_file("gz/b.gz", zb, gb);
    unsigned char *got;
    size_t n;
    snprintf(path, sizeof path, "%s/gz/a.gz", tmpdir);
    CHECK_OK(slurp(path, NULL, &got, &n, &err));
    CHECK(n == na && !memcmp(got, a, na));
    free(got);
    snprintf(path, sizeof path, "%s/gz/", tmpdir);
    CHECK_OK(slurp(path, NULL, &got, &n, &err));
    CHECK(n == na + nb && !memcmp(got, a, na) && !memcmp(got + na, b, nb));
    free(got);
    /* NONE: the raw bytes */
    ll_source_opts o;
    ll_source_opts_init(&o);
    o.compression = LL_COMPRESSION_NONE;
    CHECK_OK(slurp(path, &o, &got, &n, &err));
    CHECK(n == ga + gb && !memcmp(got, za, ga) && !memcmp(got + ga, zb, gb));
    free(got);
    /* GZIP on plain data: refused, naming the bytes found */
    put_file("plain.txt", "1,2,3\n", 6);
    snprintf(path, sizeof path, "%s/plain.txt", tmpdir);
    o.compression = LL_COMPRESSION_GZIP;
    CHECK(slurp(path, &o, &got, &n, &err) == LL_E_PARSE);
    free(got);
    CHECKF(strstr(err.msg, "1F 8B") && strstr(err.msg, "31 2C"), "%s", err.msg);
    /* AUTO on plain data: untouched */
    CHECK_OK(slurp(path, NULL, &got, &n, &err));
    CHECK(n == 6 && !memcmp(got, "1,2,3\n", 6));
    free(got);
    /* a truncated member, and bytes after a member that are not gzip */
    put_file("trunc.gz", za, ga / 2);
    snprintf(path, sizeof path, "%s/trunc.gz", tmpdir);
    CHECK(slurp(path, NULL, &got, &n, &err) == LL_E_PARSE);
    free(got);
    CHECKF(strstr(err.msg, "ends in the middle of member 1"), "%s", err.msg);
    unsigned char *junk = malloc(ga + 5);
    memcpy(junk, za, ga);
    memcpy(junk + ga, "hello", 5);
    put_file("junk.gz", junk, ga + 5);
    free(junk);
    snprintf(path, sizeof path, "%s/junk.gz", tmpdir);
    CHECK(slurp(path, NULL, &got, &n, &err) == LL_E_PARSE);
    free(got);
    CHECKF(strstr(err.msg, "after gzip member 1 are not gzip") && (err.has & LL_ERR_OFFSET) &&
               err.offset >= ga,
           "%s at %llu", err.msg, (unsigned long long)err.offset);
    /* a regular file still rewinds through the inflater */
    snprintf(path, sizeof path, "%s/gz/b.gz", tmpdir);
    ll_reader *r;
    CHECK_OK(ll_reader_open(path, &r, &err));
    unsigned char *buf = malloc(nb + 16);
    for (int pass = 0; pass < 2; pass++) {
        size_t k, m = 0;
        int eof = 0;
        while (!eof) {
            CHECK_OK(ll_reader_read(r, buf + m, nb + 16 - m, &k, &eof, &err));
            m += k;
        }
        CHECK(m == nb && !memcmp(buf, b, nb));
        CHECK_OK(rd_rewind(r, &err));
    }
    ll_reader_free(r);
    free(buf);
    /* RecordIO-protobuf through the parser: the same rows as the plain file */
    char src[512];
    snprintf(src, sizeof src, "%s/recordio/concat_two_objects.pbr", tt_testdata());
    unsigned char *pbr;
    size_t npbr, gpbr;
    CHECK_OK(slurp(src, NULL, &pbr, &npbr, &err));
    unsigned char *zp = gz_member(pbr, npbr, &gpbr);
    free(pbr);
    put_file("data.pbr.gz", zp, gpbr);
    free(zp);
    snprintf(path, sizeof path, "%s/data.pbr.gz", tmpdir);
    uint64_t rows[2] = {0, 0};
    const char *srcs[2] = {src, path};
    for (int i = 0; i < 2; i++) {
        ll_parser *p;
        ll_parse_opts po;
        ll_parse_opts_init(&po);
        CHECK_OK(ll_reader_open(srcs[i], &r, &err));
        CHECK_OK(ll_parser_new(r, &po, &p, &err));
        ll_batch bt;
        ll_batch_init(&bt);
        int eof = 0;
        while (!eof)
            CHECK_OK(ll_parser_next(p, &bt, 100, &eof, &err));
        CHECK(ll_parser_format(p) == LL_FMT_RECORDIO);
        rows[i] = ll_parser_rows(p);
        ll_batch_deinit(&bt);
        ll_parser_free(p);
        ll_reader_free(r);
    }
    CHECK(rows[0] == 8 && rows[1] == rows[0]);
    /* Pipe mode: a feeder passing the gzip bytes through; the FIFO reader inflates them */
    char dir[512], prefix[600];
    snprintf(dir, sizeof dir, "%s/gzfifo", tmpdir);
    mkdir(dir, 0755);
    snprintf(src, sizeof src, "%s/gz/", tmpdir);
    ll_source_opts_init(&o);
    o.compression = LL_COMPRESSION_NONE;
    pipe_job j = {dir, {"train", src}, &o, 1, 0, LL_OK};
    pthread_t t;
    pthread_create(&t, NULL, pipe_thread, &j);
    snprintf(prefix, sizeof prefix, "%s/train", dir);
    CHECK_OK(ll_pipe_open(prefix, 0, 5000, &r, &err));
    got = malloc(na + nb + 1);
    n = 0;
    for (int eof = 0; !eof;) {
        size_t k;
        CHECK_OK(ll_reader_read(r, got + n, na + nb + 1 - n, &k, &eof, &err));
        n += k;
    }
    ll_reader_free(r);
    pthread_join(t, NULL);
    CHECK(j.rc == LL_OK);
    CHECK(n == na + nb && !memcmp(got, a, na) && !memcmp(got + na, b, nb));
    free(got);
    free(a);
    free(b);
    free(za);
    free(zb);
}

static void *set_stop_later(void *arg)
{
    usleep(100000);
    __atomic_store_n((volatile int *)arg, 1, __ATOMIC_RELEASE);
    return NULL;
}

static volatile int stall_done;

/* Opens the FIFO for writing, writes "abc", holds it open until stall_done. */
static void *stall_writer(void *arg)
{
    int fd = open((const char *)arg, O_WRONLY);
    if (fd < 0)
        return NULL;
    if (write(fd, "abc", 3) != 3)
        fprintf(stderr, "stall_writer: short write\n");
    while (!__atomic_load_n(&stall_done, __ATOMIC_ACQUIRE))
        usleep(10000);
    close(fd);
    return NULL;
}

/* ll_pipe_open_ex gives up when told to stop: while the FIFO is missing, and while it exists
 * but no writer has come, and in a read that waits for a stalled writer. */
static void test_pipe_open_stop(void)
{
    ll_err err;
    char prefix[512], fifo[600];
    snprintf(prefix, sizeof prefix, "%s/stopme", tmpdir);
    ll_reader *r = NULL;
    for (int k = 0; k < 2; k++) {
        if (k == 1) {
            snprintf(fifo, sizeof fifo, "%s_0", prefix);
            CHECK(mkfifo(fifo, 0600) == 0);
        }
        volatile int stop = 0;
        pthread_t t;
        pthread_create(&t, NULL, set_stop_later, (void *)&stop);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        ll_code rc = ll_pipe_open_ex(prefix, 0, 20000, &stop, &r, &err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        pthread_join(t, NULL);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        CHECKF(rc == LL_E_STATE && r == NULL && strstr(err.msg, "stopped"), "%d %s", (int)rc,
               err.msg);
        CHECKF(ms >= 90 && ms < 2000, "%.0f ms", ms);
    }
    /* the timeout also covers a FIFO whose writer never comes */
    CHECK(ll_pipe_open_ex(prefix, 0, 150, NULL, &r, &err) == LL_E_IO);
    CHECKF(strstr(err.msg, "no data from the writer"), "%s", err.msg);
    /* a writer that sends 3 bytes and stalls: the read gives up once stop is set */
    pthread_t w;
    pthread_create(&w, NULL, stall_writer, fifo);
    volatile int stop = 0;
    CHECK_OK(ll_pipe_open_ex(prefix, 0, 5000, &stop, &r, &err));
    char buf[8];
    size_t n = 0, k;
    int eof = 0;
    while (n < 3) {
        CHECK_OK(ll_reader_read(r, buf + n, sizeof buf - n, &k, &eof, &err));
        CHECK(!eof);
        n += k;
    }
    CHECK(!memcmp(buf, "abc", 3));
    pthread_t t;
    pthread_create(&t, NULL, set_stop_later, (void *)&stop);
    ll_code rc = ll_reader_read(r, buf, sizeof buf, &k, &eof, &err);
    pthread_join(t, NULL);
    ll_reader_free(r);
    __atomic_store_n(&stall_done, 1, __ATOMIC_RELEASE);
    pthread_join(w, NULL);
    CHECKF(rc == LL_E_STATE && strstr(err.msg, "stopped"), "%d %s", (int)rc, err.msg);
    unlink(fifo);
}

/* ---- credentials ---- */

static void test_credentials_profile(void)
{
    ll_err err;
    char cred[512], conf[512];
    snprintf(cred, sizeof cred, "%s/credentials", tmpdir);
    snprintf(conf, sizeof conf, "%s/config", tmpdir);
    FILE *f = fopen(cred, "w");
    fputs("[default]\naws_access_key_id = DEFKEY\naws_secret_access_key = DEFSECRET\n"
          "[work]\naws_access_key_id=WORKKEY\naws_secret_access_key=W0rkSecret/x\n"
          "aws_session_token = TOK\n",
          f);
    fclose(f);
    f = fopen(conf, "w");
    fputs("[profile work]\nregion = eu-west-3\nendpoint_url = http://127.0.0.1:9/\ns3 =\n"
          "  region = nope\n",
          f);
    fclose(f);
    setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
    setenv("AWS_CONFIG_FILE", conf, 1);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_S3");
    setenv("AWS_PROFILE", "work", 1);
    s3_cfg c;
    CHECK_OK(s3_cfg_load(&c, NULL, &err));
    int ok = !strcmp(c.access_key, "WORKKEY") && !strcmp(c.secret_key, "W0rkSecret/x") &&
             c.session_token && !strcmp(c.session_token, "TOK") && !strcmp(c.region, "eu-west-3") &&
             c.endpoint && !strcmp(c.endpoint, "http://127.0.0.1:9");
    char *u = s3_url(&c, "bkt", "a b/é+x", NULL);
    int url_ok = u && !strcmp(u, "http://127.0.0.1:9/bkt/a%20b/%C3%A9%2Bx");
    mem_free(u);
    s3_cfg_deinit(&c);
    CHECK(ok);
    CHECK(url_ok);
    /* environment keys win over the profile; the region env over the config */
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
    setenv("AWS_REGION", "ap-south-1", 1);
    unsetenv("AWS_PROFILE");
    CHECK_OK(s3_cfg_load(&c, NULL, &err));
    ok = !strcmp(c.access_key, "ENVKEY") && !strcmp(c.region, "ap-south-1") && !c.endpoint;
    u = s3_url(&c, "bkt", "k", "list-type=2");
    url_ok = u && !strcmp(u, "https://bkt.s3.ap-south-1.amazonaws.com/k?list-type=2");
    mem_free(u);
    s3_cfg_deinit(&c);
    CHECK(ok);
    CHECK(url_ok);
    /* a failed request never shows the secret: a refused connection on port 9 */
    ll_source_opts o;
    ll_source_opts_init(&o);
    o.endpoint_url = "http://127.0.0.1:9";
    o.max_retries = 1;
    o.retry_base_ms = 1;
    ll_reader *r;
    ll_code rc = ll_reader_open_ex("s3://bkt/key", &o, &r, &err);
    char msg[1024];
    ll_err_format(&err, msg, sizeof msg);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_REGION");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unsetenv("AWS_CONFIG_FILE");
    CHECK(rc == LL_E_REMOTE);
    CHECKF(strstr(msg, "ENVSECRET") == NULL && strstr(msg, "s3://bkt/key"), "%s", msg);
}

static void test_names(void)
{
    ll_err err;
    char *b, *k;
    CHECK_OK(s3_split("s3://my-bucket/a/b c", &b, &k, &err));
    CHECK(!strcmp(b, "my-bucket") && !strcmp(k, "a/b c"));
    mem_free(b);
    mem_free(k);
    CHECK(s3_split("s3://AB/x", &b, &k, &err) == LL_E_ARG);
    char *e = s3_encode("a/b c~_.-%", 0);
    CHECK(e && !strcmp(e, "a%2Fb%20c~_.-%25"));
    mem_free(e);
    CHECK(s3_retryable(503, "SlowDown") && s3_retryable(500, "") && s3_retryable(200, "SlowDown"));
    CHECK(!s3_retryable(403, "AccessDenied") && !s3_retryable(404, "NoSuchKey"));
}

int main(void)
{
    TT_BEGIN("test_sources");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ll_sources_XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    obj = malloc(obj_len);
    for (size_t i = 0; i < obj_len; i++)
        obj[i] = (unsigned char)((i * 131) ^ (i >> 11));
    RUN(test_folder_sorted_recursive);
    RUN(test_manifest_local);
    RUN(test_shard_and_shuffle);
    RUN(test_record_wrap);
    RUN(test_prefetch);
    RUN(test_http_resume);
    RUN(test_pipe_epochs);
    RUN(test_gzip);
    RUN(test_pipe_open_stop);
    RUN(test_credentials_profile);
    RUN(test_names);
    free(obj);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    TT_END();
}
