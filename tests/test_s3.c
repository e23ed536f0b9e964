/* SPDX-License-Identifier: Apache-2.0 */
/* test_s3.c - S3: listing XML parsing always; with S3_ENDPOINT set (tests/cli/s3.sh starts
 * Ceph's radosgw on loopback) the real thing: pagination over 1,000 keys, empty prefixes,
 * zero-byte objects, odd keys, 403/404 messages, resume through the fault proxy, multipart
 * upload and read-back, and a 2-host ShardedByS3Key split. */
#include "linlearn.h"
#include "mem.h"
#include "proxy.h"
#include "rd_net.h"
#include "tt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_list_parse(void)
{
    ll_err err;
    const char *xml = "<?xml version=\"1.0\"?><ListBucketResult><IsTruncated>true</IsTruncated>"
                      "<Contents><Key>a &amp; b</Key><Size>12</Size></Contents>"
                      "<Contents><Key>c</Key><Size>0</Size></Contents>"
                      "<NextContinuationToken>tok/+=</NextContinuationToken></ListBucketResult>";
    s3_obj *o = NULL;
    size_t n = 0, cap = 0;
    int trunc;
    char *tok;
    CHECK_OK(s3_list_parse(xml, strlen(xml), &o, &n, &cap, &trunc, &tok, &err));
    int ok = n == 2 && !strcmp(o[0].key, "a & b") && o[0].size == 12 && !strcmp(o[1].key, "c") &&
             trunc && tok && !strcmp(tok, "tok/+=");
    mem_free(tok);
    s3_objs_free(o, n);
    CHECK(ok);
    o = NULL;
    n = cap = 0;
    const char *bad = "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
    CHECK(s3_list_parse(bad, strlen(bad), &o, &n, &cap, &trunc, &tok, &err) == LL_E_PARSE);
    CHECK(s3_list_parse("<a>", 3, &o, &n, &cap, &trunc, &tok, &err) == LL_E_PARSE);
    s3_objs_free(o, n);
    char code[32], msg[64];
    const char *e = "<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>";
    s3_error_parse(e, strlen(e), code, sizeof code, msg, sizeof msg);
    CHECK(!strcmp(code, "NoSuchKey") && !strcmp(msg, "gone"));
    s3_error_set(&err, 404, e, strlen(e), "bkt", "k/x");
    CHECK(!strcmp(err.src, "s3://bkt/k/x") && strstr(err.msg, "HTTP 404 NoSuchKey"));
}

/* ---- online ---- */

static ll_code put(const char *dst, const void *p, size_t n, ll_err *err)
{
    ll_writer *w;
    ll_code rc = ll_writer_open(dst, &w, err);
    if (rc != LL_OK)
        return rc;
    rc = ll_writer_write(w, p, n, err);
    if (rc != LL_OK) {
        ll_writer_abort(w);
        return rc;
    }
    return ll_writer_commit(w, err);
}

static ll_code get(const char *src, const ll_source_opts *o, unsigned char **out, size_t *len,
                   ll_err *err)
{
    ll_reader *r;
    *out = NULL;
    *len = 0;
    ll_code rc = ll_reader_open_ex(src, o, &r, err);
    if (rc != LL_OK)
        return rc;
    size_t cap = 1 << 16, n = 0;
    unsigned char *p = malloc(cap);
    for (;;) {
        if (cap - n < 65536)
            p = realloc(p, cap *= 2);
        size_t k;
        int eof;
        rc = ll_reader_read(r, p + n, 65536, &k, &eof, err);
        if (rc != LL_OK || eof)
            break;
        n += k;
    }
    ll_reader_free(r);
    *out = p;
    *len = n;
    return rc;
}

static void test_bucket_setup(void)
{
    ll_err err;
    s3_cfg c;
    CHECK_OK(s3_cfg_load(&c, NULL, &err));
    s3_resp r;
    ll_code rc = s3_request(&c, "PUT", "lltest", "", NULL, "", 0, &r, &err);
    s3_resp_deinit(&r);
    s3_cfg_deinit(&c);
    CHECK_OK(rc);
}

static void test_pagination_over_1000(void)
{
    ll_err err;
    char dst[128];
    for (int i = 0; i < 1005; i++) {
        snprintf(dst, sizeof dst, "s3://lltest/many/k%04d", i);
        char b[8];
        int n = snprintf(b, sizeof b, "%d,", i);
        CHECK_OK(put(dst, b, (size_t)n, &err));
    }
    s3_cfg c;
    CHECK_OK(s3_cfg_load(&c, NULL, &err));
    s3_obj *o;
    size_t n;
    ll_code rc = s3_list(&c, "lltest", "many/", &o, &n, &err);
    s3_cfg_deinit(&c);
    CHECK_OK(rc);
    int sorted = 1;
    for (size_t i = 1; i < n; i++)
        sorted &= strcmp(o[i - 1].key, o[i].key) < 0;
    s3_objs_free(o, n);
    CHECKF(n == 1005, "listed %zu", n);
    CHECK(sorted);
    /* the whole prefix read as one stream, in key order */
    unsigned char *p;
    size_t len;
    CHECK_OK(get("s3://lltest/many/", NULL, &p, &len, &err));
    char *want = malloc(8 * 1005), *q = want;
    for (int i = 0; i < 1005; i++)
        q += sprintf(q, "%d,", i);
    int same = len == (size_t)(q - want) && !memcmp(p, want, len);
    free(want);
    free(p);
    CHECK(same);
}

static void test_sharded_two_hosts(void)
{
    ll_err err;
    int seen[1005] = {0};
    for (uint32_t h = 0; h < 2; h++) {
        ll_source_opts o;
        ll_source_opts_init(&o);
        o.shard_index = h;
        o.shard_count = 2;
        o.shuffle = 1;
        o.shuffle_seed = 7;
        unsigned char *p;
        size_t len;
        CHECK_OK(get("s3://lltest/many/", &o, &p, &len, &err));
        char *s = malloc(len + 1);
        memcpy(s, p, len);
        s[len] = 0;
        free(p);
        for (char *t = strtok(s, ","); t; t = strtok(NULL, ","))
            seen[atoi(t)]++;
        free(s);
    }
    for (int i = 0; i < 1005; i++)
        CHECKF(seen[i] == 1, "object %d seen %d times", i, seen[i]);
}

static void test_empty_zero_odd_keys(void)
{
    ll_err err;
    ll_reader *r;
    CHECK(ll_reader_open("s3://lltest/nothing-here/", &r, &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "no objects"));
    CHECK_OK(put("s3://lltest/odd/a zero", "", 0, &err));
    CHECK_OK(put("s3://lltest/odd/b ü ß 日本/x+y=z&.pbr", "DATA", 4, &err));
    CHECK_OK(put("s3://lltest/odd/c", "", 0, &err));
    unsigned char *p;
    size_t len;
    CHECK_OK(get("s3://lltest/odd/", NULL, &p, &len, &err));
    CHECK(len == 4 && !memcmp(p, "DATA", 4));
    free(p);
    CHECK_OK(get("s3://lltest/odd/b ü ß 日本/x+y=z&.pbr", NULL, &p, &len, &err));
    CHECK(len == 4 && !memcmp(p, "DATA", 4));
    free(p);
    CHECK_OK(get("s3://lltest/odd/a zero", NULL, &p, &len, &err));
    CHECK(len == 0);
    free(p);
    /* a prefix named without its final slash */
    CHECK_OK(get("s3://lltest/odd", NULL, &p, &len, &err));
    CHECK(len == 4);
    free(p);
}

static void test_errors_named(void)
{
    ll_err err;
    char msg[1024];
    ll_reader *r;
    CHECK(ll_reader_open("s3://lltest/odd/missing-key", &r, &err) == LL_E_REMOTE);
    ll_err_format(&err, msg, sizeof msg);
    CHECKF(strstr(msg, "s3://lltest/odd/missing-key") && strstr(msg, "404"), "%s", msg);
    CHECK(ll_reader_open("s3://no-such-bucket-x/k/", &r, &err) == LL_E_REMOTE);
    ll_err_format(&err, msg, sizeof msg);
    CHECKF(strstr(msg, "no-such-bucket-x") && strstr(msg, "NoSuchBucket"), "%s", msg);
    const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
    char *saved = strdup(secret ? secret : "");
    setenv("AWS_SECRET_ACCESS_KEY", "Wrong-Secret-123", 1);
    ll_code rc = ll_reader_open("s3://lltest/odd/", &r, &err);
    setenv("AWS_SECRET_ACCESS_KEY", saved, 1);
    free(saved);
    ll_err_format(&err, msg, sizeof msg);
    CHECK(rc == LL_E_REMOTE);
    CHECKF(strstr(msg, "403") && strstr(msg, "SignatureDoesNotMatch") &&
               !strstr(msg, "Wrong-Secret-123"),
           "%s", msg);
}

static void test_multipart_and_resume(void)
{
    ll_err err;
    size_t n = (20u << 20) + 12345;
    unsigned char *d = malloc(n);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        d[i] = (unsigned char)x;
    }
    ll_code rc = put("s3://lltest/big/blob.bin", d, n, &err); /* 3 parts */
    if (rc != LL_OK)
        free(d);
    CHECK_OK(rc);
    unsigned char *p;
    size_t len;
    rc = get("s3://lltest/big/blob.bin", NULL, &p, &len, &err);
    int same = rc == LL_OK && len == n && !memcmp(p, d, n);
    free(p);
    CHECK_OK(rc);
    CHECK(same);
    /* through the proxy: every connection cut after 3 MB, connection 2 stalls */
    const char *ep = getenv("S3_ENDPOINT");
    int port = atoi(strrchr(ep, ':') + 1);
    proxy *px = proxy_start(port, 3u << 20, 2, 100000);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", proxy_port(px));
    ll_source_opts o;
    ll_source_opts_init(&o);
    o.endpoint_url = url;
    o.retry_base_ms = 10;
    o.retry_max_ms = 50;
    o.stall_timeout_s = 1;
    rc = get("s3://lltest/big/blob.bin", &o, &p, &len, &err);
    int conns = proxy_conns(px);
    proxy_stop(px);
    same = rc == LL_OK && len == n && !memcmp(p, d, n);
    free(p);
    free(d);
    CHECK_OK(rc);
    CHECK(same);
    CHECKF(conns >= 8, "%d connections", conns);
}

int main(void)
{
    TT_BEGIN("test_s3");
    RUN(test_list_parse);
    if (getenv("S3_ENDPOINT")) {
        setenv("AWS_ENDPOINT_URL", getenv("S3_ENDPOINT"), 1);
        RUN(test_bucket_setup);
        RUN(test_pagination_over_1000);
        RUN(test_sharded_two_hosts);
        RUN(test_empty_zero_odd_keys);
        RUN(test_errors_named);
        RUN(test_multipart_and_resume);
    }
    TT_END();
}
