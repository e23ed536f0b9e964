/* SPDX-License-Identifier: Apache-2.0 */
/* test_sm_model.c - SageMaker's model artifact: the two real ones load and score as their bytes
 * say, a read-back-and-written artifact keeps weights, threshold and graph and has the real
 * layout member by member, damaged params are refused naming the member and byte offset, and
 * linlearn's SageMaker-layout model.tar.gz loads both ways. Also RecordIO split auto mode. */
#include "arch.h"
#include "linlearn.h"
#include "mem.h"
#include "model.h"
#include "sm_model.h"
#include "tt.h"
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

static char tmpdir[256];
static char titanic[512], covid[512];

static float bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* titanic-binary-2018's params, read off its bytes with xxd (bias first, then the weight) */
static const uint32_t TW[5] = {0xbeaa6f72u, 0xbe415d5fu, 0xbd801364u, 0x3df9d52eu, 0x3e955f92u};
static const uint32_t TB = 0xbefb8442u;

static void t_real_binary_scores(void)
{
    ll_err err;
    ll_model *m = NULL;
    CHECK_OK(ll_model_load(titanic, &m, &err));
    CHECK(ll_model_predictor(m) == LL_BINARY_CLASSIFIER);
    CHECK(ll_model_feature_dim(m) == 5 && ll_model_n_outputs(m) == 1);
    CHECK(ll_model_threshold(m) == (float)0.4020986557006836);
    CHECK(!strcmp(ll_model_loss(m), "logistic"));
    for (int j = 0; j < 5; j++)
        CHECK(ll_model_weights(m)[j] == bits(TW[j]));
    CHECK(ll_model_bias(m)[0] == bits(TB));
    /* rows chosen so that one score lies on each side of the threshold */
    const float x[3][5] = {{1, 2, 3, 4, 5}, {-1, 0.5f, 0, 2, -3}, {0, 0, 0, 0, 0}};
    ll_batch b;
    ll_batch_init(&b);
    for (int i = 0; i < 3; i++)
        CHECK_OK(ll_batch_add_row(&b, x[i], NULL, 5, 5, NULL, 0, &err));
    float s[3], l[3];
    CHECK_OK(ll_model_predict(m, &b, s, l, &err));
    for (int i = 0; i < 3; i++) {
        double z = (double)bits(TB);
        for (int j = 0; j < 5; j++)
            z += (double)bits(TW[j]) * x[i][j];
        double p = 1.0 / (1.0 + exp(-z));
        CHECKF(fabs(s[i] - p) < 2e-7, "row %d: %.9g vs %.9g", i, s[i], p);
        CHECK(l[i] == (p > 0.4020986557006836 ? 1.0f : 0.0f));
    }
    CHECK(l[0] == 1.0f && l[1] == 0.0f); /* both labels occur */
    ll_batch_deinit(&b);
    ll_model_free(m);
}

static void t_real_regressor(void)
{
    ll_err err;
    ll_model *m = NULL;
    CHECK_OK(ll_model_load(covid, &m, &err));
    CHECK(ll_model_predictor(m) == LL_REGRESSOR && ll_model_feature_dim(m) == 513);
    CHECK(ll_model_bias(m)[0] == bits(0xc483ebffu)); /* -1055.37, from the bytes */
    /* the last weight's bytes: d1 ce 9d 3a */
    CHECK(ll_model_weights(m)[512] == bits(0x3a9dced1u));
    float *x = calloc(513, sizeof *x);
    CHECK(x);
    x[512] = 1000.0f;
    ll_batch b;
    ll_batch_init(&b);
    CHECK_OK(ll_batch_add_row(&b, x, NULL, 513, 513, NULL, 0, &err));
    float s;
    CHECK_OK(ll_model_predict(m, &b, &s, NULL, &err));
    double want = (double)bits(0xc483ebffu) + 1000.0 * (double)bits(0x3a9dced1u);
    CHECKF(fabs(s - want) < 1e-3, "%.9g vs %.9g", s, want);
    free(x);
    ll_batch_deinit(&b);
    ll_model_free(m);
}

/* the members of a real artifact's model_algo-1 */
static int inner_of(const char *path, arch_list *z)
{
    ll_err err;
    arch_list t;
    if (arch_read_file(path, 1 << 24, &t, &err) != LL_OK)
        return -1;
    const arch_member *in = arch_find(&t, "model_algo-1");
    int rc = in && t.n == 1 ? (int)arch_read_mem(in->data, in->len, "x", 1 << 24, z, &err) : -1;
    arch_list_free(&t);
    return rc == LL_OK ? 0 : -1;
}

/* the graph of a symbol JSON without node names and version: ops, inputs, shapes, heads */
static char *graph_of(const arch_member *sym)
{
    json_t *j = json_loadb((const char *)sym->data, sym->len, 0, NULL);
    if (!j)
        return NULL;
    json_t *nodes = json_object_get(j, "nodes");
    size_t i;
    json_t *n;
    json_array_foreach(nodes, i, n)
    {
        if (strcmp(json_string_value(json_object_get(n, "op")), "null"))
            json_object_del(n, "name");
    }
    json_object_del(json_object_get(j, "attrs"), "mxnet_version");
    char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(j);
    return s;
}

static void t_write_back(void)
{
    const char *src[2] = {titanic, covid};
    for (int k = 0; k < 2; k++) {
        ll_err err;
        ll_model *m = NULL, *m2 = NULL;
        CHECK_OK(ll_model_load(src[k], &m, &err));
        char out[400];
        snprintf(out, sizeof out, "%s/back%d.tar.gz", tmpdir, k);
        CHECK_OK(ll_model_export(m, out, LL_MODEL_SAGEMAKER, &err));
        CHECK_OK(ll_model_load(out, &m2, &err));
        CHECK(ll_model_feature_dim(m2) == ll_model_feature_dim(m));
        CHECK(ll_model_threshold(m2) == ll_model_threshold(m));
        CHECK(ll_model_predictor(m2) == ll_model_predictor(m));
        CHECK(!memcmp(ll_model_weights(m2), ll_model_weights(m), 4 * ll_model_feature_dim(m)));
        CHECK(ll_model_bias(m2)[0] == ll_model_bias(m)[0]);
        /* the layout, member by member */
        FILE *f = fopen(out, "rb");
        unsigned char h[10];
        CHECK(f && fread(h, 1, 10, f) == 10);
        fclose(f);
        static const unsigned char gz[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
        CHECK(!memcmp(h, gz, 10));
        arch_list a, b;
        CHECK(inner_of(src[k], &a) == 0);
        CHECK(inner_of(out, &b) == 0);
        CHECK(a.zip && b.zip && a.n == 4 && b.n == 4);
        for (size_t i = 0; i < 4; i++) {
            const arch_member *x = &a.m[i], *y = arch_find(&b, x->name);
            CHECKF(y, "%s missing", x->name);
            if (!strcmp(x->name, "mx-mod-symbol.json")) {
                char *gx = graph_of(x), *gy = graph_of(y);
                CHECK(gx && gy && !strcmp(gx, gy));
                free(gx);
                free(gy);
            } else if (!strcmp(x->name, "mx-mod-0000.params")) {
                CHECK(x->len == y->len); /* same arrays, names and sizes (order may differ) */
            } else {
                json_t *jx = json_loadb((const char *)x->data, x->len, 0, NULL);
                json_t *jy = json_loadb((const char *)y->data, y->len, 0, NULL);
                CHECKF(json_equal(jx, jy), "%s differs: %.*s", x->name, (int)y->len, y->data);
                json_decref(jx);
                json_decref(jy);
            }
        }
        arch_list_free(&a);
        arch_list_free(&b);
        ll_model_free(m);
        ll_model_free(m2);
    }
}

/* sm_model_parse of titanic's members with params bytes changed */
static ll_code parse_mutated(size_t at, uint32_t v, size_t cut, ll_err *err)
{
    arch_list z;
    if (inner_of(titanic, &z))
        return LL_E_STATE;
    arch_member *p = (arch_member *)arch_find(&z, "mx-mod-0000.params");
    if (at + 4 <= p->len)
        memcpy(p->data + at, &v, 4);
    if (cut)
        p->len = cut;
    ll_model *m = NULL;
    ll_code rc = sm_model_parse("model.tar.gz/model_algo-1", &z, &m, err);
    ll_model_free(m);
    arch_list_free(&z);
    return rc;
}

static void t_bad_params(void)
{
    ll_err err;
    /* titanic's params: bias array at 24 (stype 28, ndim 32, dtype 60), weight at 68 (dtype 104) */
    struct {
        size_t at;
        uint32_t v;
        size_t cut;
        uint64_t off;
        const char *what;
    } cases[] = {
        {104, 1, 0, 104, "not float32"}, {28, 1, 0, 28, "not dense"},
        {76, 3, 0, 76, "2-D"},           {24, 0x12345678u, 0, 24, "NDArray magic"},
        {0, 0x113u, 0, 0, "list magic"}, {999, 0, 100, 100, "file ends"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ll_code rc = parse_mutated(cases[i].at, cases[i].v, cases[i].cut, &err);
        CHECKF(rc == LL_E_PARSE, "case %zu: %d", i, rc);
        CHECKF(strstr(err.msg, "mx-mod-0000.params") && strstr(err.msg, cases[i].what),
               "case %zu: %s", i, err.msg);
        CHECKF((err.has & LL_ERR_OFFSET) && err.offset == cases[i].off, "case %zu: offset %llu", i,
               (unsigned long long)err.offset);
        CHECK(strstr(err.src, "model_algo-1/mx-mod-0000.params"));
    }
    CHECK(parse_mutated(999, 0, 0, &err) == LL_OK);
}

static ll_model *multiclass_model(void)
{
    ll_model *m = NULL;
    ll_err err;
    if (model_new(LL_MULTICLASS_CLASSIFIER, MODEL_SCORE_SOFTMAX, 4, 3, "softmax_loss", &m, &err))
        return NULL;
    for (int i = 0; i < 12; i++)
        m->w[i] = (float)(i % 5) * 0.25f - 0.5f;
    m->b[0] = 0.1f;
    m->b[1] = -0.2f;
    m->b[2] = 0.3f;
    return m;
}

static void t_multiclass_and_own_layout(void)
{
    ll_err err;
    ll_model *m = multiclass_model(), *r = NULL;
    CHECK(m);
    /* linlearn's model.tar.gz in SageMaker's layout: both ways of reading give the model */
    char dir[300], p[400], inner[400];
    snprintf(dir, sizeof dir, "%s/mc", tmpdir);
    CHECK_OK(model_save_as(m, dir, 1, &err));
    snprintf(p, sizeof p, "%s/model.tar.gz", dir);
    arch_list t;
    CHECK_OK(arch_read_file(p, 1 << 24, &t, &err));
    CHECK(t.n == 3 && !strcmp(t.m[0].name, "model_algo-1"));
    const arch_member *in = arch_find(&t, "model_algo-1");
    snprintf(inner, sizeof inner, "%s/model_algo-1", tmpdir);
    FILE *f = fopen(inner, "wb");
    CHECK(f && fwrite(in->data, 1, in->len, f) == in->len);
    fclose(f);
    arch_list_free(&t);
    const char *paths[3] = {p, inner, dir};
    for (int k = 0; k < 3; k++) {
        CHECK_OK(ll_model_load(paths[k], &r, &err));
        CHECK(ll_model_predictor(r) == LL_MULTICLASS_CLASSIFIER && ll_model_n_outputs(r) == 3);
        CHECK(!memcmp(ll_model_weights(r), m->w, 12 * 4) && !memcmp(ll_model_bias(r), m->b, 12));
        ll_model_free(r);
        r = NULL;
    }
    /* the bare zip's symbol ends in a softmax */
    arch_list z;
    f = fopen(inner, "rb");
    unsigned char buf[8192];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    CHECK_OK(arch_read_mem(buf, n, "z", 1 << 20, &z, &err));
    const arch_member *sym = arch_find(&z, "mx-mod-symbol.json");
    CHECK(sym && memmem(sym->data, sym->len, "\"SoftmaxOutput\"", 15) &&
          memmem(sym->data, sym->len, "(4, 3)", 6));
    arch_list_free(&z);
    ll_model_free(m);
}

static void t_py_repr(void)
{
    char b[32];
    struct {
        double v;
        const char *s;
    } c[] = {{0.5, "0.5"},
             {1.0, "1.0"},
             {(double)0.4020986557006836f, "0.4020986557006836"},
             {1e-05, "1e-05"},
             {0.0001, "0.0001"},
             {123456.0, "123456.0"},
             {1e16, "1e+16"},
             {-2.5e-7, "-2.5e-07"},
             {0.030056, "0.030056"}};
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        sm_py_repr(c[i].v, b);
        CHECKF(!strcmp(b, c[i].s), "%s vs %s", b, c[i].s);
    }
}

static void t_not_a_model(void)
{
    ll_err err;
    ll_model *m = NULL;
    char p[400];
    snprintf(p, sizeof p, "%s/junk.tar.gz", tmpdir);
    FILE *f = fopen(p, "wb");
    CHECK(f);
    fputs("this is not an archive\n", f);
    fclose(f);
    CHECK(ll_model_load(p, &m, &err) == LL_E_PARSE);
    CHECK(strstr(err.msg, "not a model archive"));
}

/* RecordIO: ML-IO's split records read by default; a corrupt stream still fails */
static ll_code read_pr(const void *p, size_t n, ll_split_mode mode, int allow, uint64_t *rows,
                       ll_batch *b, ll_err *err)
{
    ll_reader *rd = ll_reader_mem(p, n, "mem.pr");
    ll_parse_opts o;
    ll_parse_opts_init(&o);
    if (mode != (ll_split_mode)-1)
        o.split = mode;
    o.allow_no_features = allow;
    o.format = LL_FMT_RECORDIO;
    ll_parser *ps = NULL;
    ll_code rc = ll_parser_new(rd, &o, &ps, err);
    int eof = 0;
    *rows = 0;
    while (rc == LL_OK && !eof) {
        rc = ll_parser_next(ps, b, 100, &eof, err);
        *rows += b->n_rows;
    }
    ll_parser_free(ps);
    ll_reader_free(rd);
    return rc;
}

static size_t slurp(const char *name, unsigned char *buf, size_t cap)
{
    char p[512];
    snprintf(p, sizeof p, "%s/sagemaker/recordio-mlio/%s", tt_testdata(), name);
    FILE *f = fopen(p, "rb");
    size_t n = f ? fread(buf, 1, cap, f) : 0;
    if (f)
        fclose(f);
    return n;
}

static void t_split_auto(void)
{
    ll_err err;
    unsigned char s[1024], c[1024];
    size_t ns = slurp("split_records.pr", s, sizeof s),
           nc = slurp("complete_records.pr", c, sizeof c);
    CHECK(ns == 440 && nc == 280);
    ll_parse_opts o;
    ll_parse_opts_init(&o);
    CHECK(o.split == LL_SPLIT_AUTO);
    ll_batch a, b;
    ll_batch_init(&a);
    ll_batch_init(&b);
    uint64_t ra, rb;
    CHECK_OK(read_pr(s, ns, (ll_split_mode)-1, 0, &ra, &a, &err));
    CHECK_OK(read_pr(c, nc, (ll_split_mode)-1, 0, &rb, &b, &err));
    CHECK(ra == 5 && rb == 5);
    CHECK(!memcmp(a.val, b.val, 15 * 4) && !memcmp(a.label, b.label, 5 * 4));
    CHECK(a.label[4] == 5.0f && a.val[6] == 0.0f && a.val[7] == 1.0f);
    /* dmlc-core's convention alone refuses it, at record 0 */
    CHECK(read_pr(s, ns, LL_SPLIT_DMLC, 0, &ra, &a, &err) == LL_E_PARSE);
    CHECK(err.record == 0 && (err.has & LL_ERR_RECORD));
    /* a genuinely corrupt stream: record 2's third fragment damaged; both readings fail */
    unsigned char bad[1024];
    memcpy(bad, s, ns);
    /* record 2 starts at 176; its first fragment's payload at 184 ("0a 1a 0a 06 ..."): the map
     * entry length 0x1a becomes 0x7f */
    CHECK(bad[185] == 0x1a);
    bad[185] = 0x7f;
    CHECK(read_pr(bad, ns, (ll_split_mode)-1, 0, &ra, &a, &err) == LL_E_PARSE);
    CHECKF(err.record == 2 && err.offset == 176 && strstr(err.msg, "plain fragments"),
           "record %llu offset %llu: %s", (unsigned long long)err.record,
           (unsigned long long)err.offset, err.msg);
    ll_batch_deinit(&a);
    ll_batch_deinit(&b);
}

/* a Record with a label and no features: read when allowed, else refused with its offset */
static void t_label_only(void)
{
    ll_err err;
    /* record 0: features [1, 2] label [1]; record 1: label [0] only */
    static const unsigned char r0[] = {
        0x0a, 0x16, 0x0a, 0x06, 'v',  'a',  'l',  'u',  'e',  's',  0x12, 0x0c, 0x12, 0x0a, 0x0a,
        0x08, 0,    0,    0x80, 0x3f, 0,    0,    0,    0x40, 0x12, 0x12, 0x0a, 0x06, 'v',  'a',
        'l',  'u',  'e',  's',  0x12, 0x08, 0x12, 0x06, 0x0a, 0x04, 0,    0,    0x80, 0x3f};
    static const unsigned char r1[] = {0x12, 0x12, 0x0a, 0x06, 'v',  'a',  'l', 'u', 'e', 's',
                                       0x12, 0x08, 0x12, 0x06, 0x0a, 0x04, 0,   0,   0,   0};
    unsigned char buf[256];
    size_t n = 0;
    const unsigned char *recs[2] = {r0, r1};
    size_t lens[2] = {sizeof r0, sizeof r1};
    for (int i = 0; i < 2; i++) {
        uint32_t hdr[2] = {0xCED7230Au, (uint32_t)lens[i]};
        memcpy(buf + n, hdr, 8);
        memcpy(buf + n + 8, recs[i], lens[i]);
        n += 8 + lens[i];
        while (n % 4)
            buf[n++] = 0;
    }
    ll_batch b;
    ll_batch_init(&b);
    uint64_t rows;
    CHECK_OK(read_pr(buf, n, (ll_split_mode)-1, 1, &rows, &b, &err));
    CHECK(rows == 2 && b.dim[1] == 0 && b.off[2] == b.off[1] && b.label[1] == 0.0f);
    CHECK(read_pr(buf, n, (ll_split_mode)-1, 0, &rows, &b, &err) == LL_E_PARSE);
    CHECKF(err.record == 1 && err.offset == 8 + 44 && strstr(err.msg, "only a label"),
           "record %llu offset %llu: %s", (unsigned long long)err.record,
           (unsigned long long)err.offset, err.msg);
    ll_batch_deinit(&b);
}

/* out of memory at every allocation of loading, writing and exporting: LL_E_NOMEM, no leak */
static void t_out_of_memory(void)
{
    char out[400];
    snprintf(out, sizeof out, "%s/oom.tar.gz", tmpdir);
    int done = 0;
    for (unsigned long k = 1; k < 400 && !done; k++) {
        ll_err err;
        ll_model *m = NULL;
        mem_fail_after(k);
        ll_code rc = ll_model_load(titanic, &m, &err);
        if (rc == LL_OK) {
            unsigned char *z = NULL;
            size_t zl = 0;
            rc = sm_model_zip(m, 0, &z, &zl, &err);
            mem_free(z);
            if (rc == LL_OK)
                rc = ll_model_export(m, out, LL_MODEL_ONNX, &err);
        }
        unsigned long used = mem_fail_after(0);
        ll_model_free(m);
        CHECKF(rc == LL_OK || rc == LL_E_NOMEM, "failing allocation %lu: code %d (%s)", k, (int)rc,
               err.msg);
        done = rc == LL_OK && used < k;
    }
    CHECK(done);
}

int main(void)
{
    TT_BEGIN("sm_model");
    snprintf(titanic, sizeof titanic, "%s/sagemaker/models/titanic-binary-2018/model.tar.gz",
             tt_testdata());
    snprintf(covid, sizeof covid, "%s/sagemaker/models/covid-regressor-2020/model.tar.gz",
             tt_testdata());
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ll_test_sm_model_XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    RUN(t_real_binary_scores);
    RUN(t_real_regressor);
    RUN(t_write_back);
    RUN(t_bad_params);
    RUN(t_multiclass_and_own_layout);
    RUN(t_py_repr);
    RUN(t_not_a_model);
    RUN(t_split_auto);
    RUN(t_label_only);
    RUN(t_out_of_memory);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    TT_END();
}
