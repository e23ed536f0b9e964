/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_serve.c - the HTTP endpoint in process: a model saved and loaded as model.tar.gz, served
 * on a free port, every request format against every response format for each predictor type,
 * decoded and compared with scores computed by hand from the weights; then the bad-request list
 * (400/404/405/406/413/415) and a check that the server still answers afterwards; request lines
 * no HTTP parser can route (a bare GET, garbage, binary bytes, sent whole or a byte at a time)
 * answered 400 by the gate (gate.c), whose line check is also tested on every prefix.
 * `test_serve --write-model DIR binary|multiclass|regressor` writes the same models for the
 * shell tests.
 */
#include "gate.h"
#include "model.h"
#include "pb.h"
#include "rio.h"
#include "serve.h"
#include "tt.h"
#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define D 3
static const float W_BIN[D] = {0.5f, -1.0f, 0.25f}, B_BIN[1] = {0.1f};
static const float W_MC[D * 3] = {0.2f, -0.1f, 0.0f, 0.0f, 0.3f, -0.2f, -0.4f, 0.1f, 0.5f};
static const float B_MC[3] = {0.0f, 0.1f, -0.1f};
static const float W_REG[D] = {1.0f, 2.0f, 3.0f}, B_REG[1] = {0.5f};
/* the rows every request carries (the third one sparse where the format allows) */
static const float X[3][D] = {{1, 2, 3}, {-1, 0.5f, 4}, {0, 0, 2}};

static ll_code make_model(ll_predictor p, ll_model **out, ll_err *err)
{
    model_score sc = p == LL_BINARY_CLASSIFIER       ? MODEL_SCORE_SIGMOID
                     : p == LL_MULTICLASS_CLASSIFIER ? MODEL_SCORE_SOFTMAX
                                                     : MODEL_SCORE_IDENTITY;
    uint32_t c = p == LL_MULTICLASS_CLASSIFIER ? 3 : 1;
    const char *loss = p == LL_BINARY_CLASSIFIER       ? "logistic"
                       : p == LL_MULTICLASS_CLASSIFIER ? "softmax_loss"
                                                       : "squared_loss";
    ll_code rc = model_new(p, sc, D, c, loss, out, err);
    if (rc != LL_OK)
        return rc;
    const float *w = p == LL_BINARY_CLASSIFIER       ? W_BIN
                     : p == LL_MULTICLASS_CLASSIFIER ? W_MC
                                                     : W_REG;
    const float *b = p == LL_BINARY_CLASSIFIER       ? B_BIN
                     : p == LL_MULTICLASS_CLASSIFIER ? B_MC
                                                     : B_REG;
    memcpy((*out)->w, w, D * c * sizeof(float));
    memcpy((*out)->b, b, c * sizeof(float));
    (*out)->threshold = 0.5f;
    return LL_OK;
}

/* Scores by hand, in double, from the weights above. */
static void hand(ll_predictor p, const float *x, double *s, int *label)
{
    if (p == LL_MULTICLASS_CLASSIFIER) {
        double z[3], mx = -1e300, sum = 0;
        for (int c = 0; c < 3; c++) {
            z[c] = B_MC[c];
            for (int j = 0; j < D; j++)
                z[c] += (double)x[j] * W_MC[j * 3 + c];
            if (z[c] > mx) {
                mx = z[c];
                *label = c;
            }
        }
        for (int c = 0; c < 3; c++)
            sum += exp(z[c] - mx);
        for (int c = 0; c < 3; c++)
            s[c] = exp(z[c] - mx) / sum;
        return;
    }
    const float *w = p == LL_BINARY_CLASSIFIER ? W_BIN : W_REG;
    double z = p == LL_BINARY_CLASSIFIER ? B_BIN[0] : B_REG[0];
    for (int j = 0; j < D; j++)
        z += (double)x[j] * w[j];
    if (p == LL_BINARY_CLASSIFIER) {
        s[0] = 1 / (1 + exp(-z));
        *label = s[0] > 0.5;
    } else {
        s[0] = z;
        *label = -1;
    }
}

/* ---- request bodies ---- */

static const char *CSV_BODY = "1,2,3\n-1,0.5,4\n0,0,2\n";
static const char *JSON_BODY =
    "{\"instances\": [{\"features\": [1, 2, 3]}, {\"data\": {\"features\": {\"values\": "
    "[-1, 0.5, 4]}}}, {\"data\": {\"features\": {\"keys\": [2], \"shape\": [3], \"values\": "
    "[2]}}}]}";
static const char *JSONL_BODY = "{\"features\": [1, 2, 3]}\n{\"features\": [-1, 0.5, 4]}\n"
                                "{\"data\": {\"features\": {\"keys\": [2], \"shape\": [3], "
                                "\"values\": [2.0]}}}\n";

/* Three Records, the last sparse, framed as the SageMaker SDK writes them. */
static size_t rio_body(uint8_t *out)
{
    size_t n = 0;
    uint8_t rec[256];
    for (int i = 0; i < 3; i++) {
        pb_entry_in f;
        memset(&f, 0, sizeof f);
        f.name = "values";
        f.t.dtype = PB_F32;
        static const uint64_t key[1] = {2}, shape[1] = {3};
        static const float two[1] = {2};
        if (i < 2) {
            f.t.values = X[i];
            f.t.n_values = D;
        } else {
            f.t.values = two;
            f.t.n_values = 1;
            f.t.keys = key;
            f.t.n_keys = 1;
            f.t.shape = shape;
            f.t.n_shape = 1;
        }
        pb_record_in r;
        memset(&r, 0, sizeof r);
        r.feat = &f;
        r.n_feat = 1;
        size_t len = pb_encode(&r, rec);
        n += rio_frame(out + n, rec, len);
    }
    return n;
}

/* ---- HTTP client ---- */

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    response_buf *b = ud;
    if (response_buf_put(b, p, sz * n, NULL) != LL_OK)
        return 0;
    return sz * n;
}

typedef struct chunked {
    size_t left;
} chunked;

static size_t on_read(char *p, size_t sz, size_t n, void *ud)
{
    chunked *c = ud;
    size_t k = sz * n < c->left ? sz * n : c->left;
    memset(p, '1', k);
    c->left -= k;
    return k;
}

/* Sends a request; returns the status (0 on transport failure). out holds the body,
 * NUL-terminated. chunk_bytes > 0 sends that many bytes chunked instead of body. */
static long http(uint16_t port, const char *method, const char *path, const char *ctype,
                 const char *accept, const void *body, size_t len, size_t chunk_bytes,
                 response_buf *out)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char line[256];
    if (ctype) {
        snprintf(line, sizeof line, "Content-Type: %s", ctype);
        h = curl_slist_append(h, line);
    } else if (!strcmp(method, "POST")) {
        h = curl_slist_append(h, "Content-Type:");
    }
    if (accept) {
        snprintf(line, sizeof line, "Accept: %s", accept);
        h = curl_slist_append(h, line);
    }
    h = curl_slist_append(h, "Expect:");
    chunked ck = {chunk_bytes};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (!strcmp(method, "POST")) {
        if (chunk_bytes) {
            h = curl_slist_append(h, "Transfer-Encoding: chunked");
            curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, &ck);
        } else {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        }
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    out->len = 0;
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    response_buf_put(out, "", 1, NULL);
    out->len--;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

/* ---- response decoding: scores[row][c] and labels[row] ---- */

typedef struct decoded {
    int n_rows;
    double s[8][3];
    int label[8];
    int n_scores[8];
} decoded;

static int from_json_obj(json_t *o, decoded *d)
{
    int i = d->n_rows++;
    if (i >= 8 || !json_is_object(o))
        return 0;
    json_t *s = json_object_get(o, "score"), *l = json_object_get(o, "predicted_label");
    d->label[i] = l ? (int)json_integer_value(l) : -1;
    if (l && !json_is_integer(l))
        return 0;
    if (json_is_array(s)) {
        d->n_scores[i] = (int)json_array_size(s);
        for (int c = 0; c < d->n_scores[i] && c < 3; c++)
            d->s[i][c] = json_number_value(json_array_get(s, (size_t)c));
    } else if (json_is_number(s)) {
        d->n_scores[i] = 1;
        d->s[i][0] = json_number_value(s);
    } else {
        return 0;
    }
    /* keys in the documented order: score first */
    return json_object_size(o) == (size_t)(l ? 2 : 1);
}

static int decode(response_format f, const response_buf *b, ll_predictor p, decoded *d)
{
    memset(d, 0, sizeof *d);
    const char *s = (const char *)b->p;
    if (f == RESP_JSON) {
        json_t *root = json_loadb(s, b->len, 0, NULL);
        json_t *a = json_object_get(root, "predictions");
        int ok = json_is_array(a) && json_object_size(root) == 1;
        for (size_t i = 0; ok && i < json_array_size(a); i++)
            ok = from_json_obj(json_array_get(a, i), d);
        json_decref(root);
        return ok;
    }
    if (f == RESP_JSONL) {
        const char *q = s;
        while (*q) {
            const char *nl = strchr(q, '\n');
            if (!nl)
                return 0;
            json_t *o = json_loadb(q, (size_t)(nl - q), 0, NULL);
            int ok = from_json_obj(o, d);
            json_decref(o);
            if (!ok)
                return 0;
            q = nl + 1;
        }
        return 1;
    }
    if (f == RESP_CSV) {
        const char *q = s;
        while (*q) {
            int i = d->n_rows++;
            char *end;
            if (i >= 8)
                return 0;
            d->label[i] = -1;
            if (p != LL_REGRESSOR) {
                d->label[i] = (int)strtol(q, &end, 10);
                if (*end != ',')
                    return 0;
                q = end + 1;
            }
            for (;;) {
                d->s[i][d->n_scores[i]++] = strtod(q, &end);
                q = end + 1;
                if (*end == '\n')
                    break;
                if (*end != ',' || d->n_scores[i] == 3)
                    return 0;
            }
        }
        return 1;
    }
    size_t pos = 0;
    pb_record r;
    pb_record_init(&r);
    int ok = 1;
    while (ok && pos + 8 <= b->len) {
        uint32_t len;
        memcpy(&len, b->p + pos + 4, 4);
        ll_err err;
        int i = d->n_rows++;
        ok = i < 8 && pb_decode(b->p + pos + 8, len, &r, &err) == LL_OK && r.n_feat == 0;
        const pb_entry *sc = ok ? pb_find(&r, 1, "score") : NULL;
        const pb_entry *pl = ok ? pb_find(&r, 1, "predicted_label") : NULL;
        ok = ok && sc && sc->t.dtype == PB_F32 && sc->t.n_values <= 3;
        ok = ok && (p == LL_REGRESSOR ? !pl : pl && pl->t.n_values == 1);
        if (ok) {
            float v[3], l = -1;
            pb_values_f32(&r, &sc->t, v);
            if (pl)
                pb_values_f32(&r, &pl->t, &l);
            d->n_scores[i] = (int)sc->t.n_values;
            for (int c = 0; c < d->n_scores[i]; c++)
                d->s[i][c] = v[c];
            d->label[i] = (int)l;
        }
        pos += rio_frame_size(len);
    }
    pb_record_deinit(&r);
    return ok && pos == b->len;
}

static int matches_hand(ll_predictor p, const decoded *d)
{
    if (d->n_rows != 3)
        return 0;
    for (int i = 0; i < 3; i++) {
        double s[3];
        int label = -1;
        hand(p, X[i], s, &label);
        int c = p == LL_MULTICLASS_CLASSIFIER ? 3 : 1;
        if (d->n_scores[i] != c || d->label[i] != label)
            return 0;
        for (int k = 0; k < c; k++)
            if (fabs(d->s[i][k] - s[k]) > 1e-5 * (1 + fabs(s[k]))) {
                fprintf(stderr, "  row %d score %d: %.9g vs hand %.9g\n", i, k, d->s[i][k], s[k]);
                return 0;
            }
    }
    return 1;
}

static char tmpdir[64];

static void every_format_pair(void)
{
    static const char *in_types[] = {"text/csv", "application/json", "application/jsonlines",
                                     "application/x-recordio-protobuf"};
    static const char *acc_types[] = {"application/json", "application/jsonlines",
                                      "application/x-recordio-protobuf", "text/csv"};
    uint8_t rio[1024];
    size_t rio_len = rio_body(rio);
    ll_predictor preds[] = {LL_BINARY_CLASSIFIER, LL_MULTICLASS_CLASSIFIER, LL_REGRESSOR};
    ll_err err;
    response_buf out = {0};
    for (int pi = 0; pi < 3; pi++) {
        ll_model *m = NULL, *loaded = NULL;
        CHECK_OK(make_model(preds[pi], &m, &err));
        char dir[128];
        snprintf(dir, sizeof dir, "%s/m%d", tmpdir, pi);
        CHECK_OK(model_save(m, dir, &err));
        ll_model_free(m);
        CHECK_OK(ll_model_load(dir, &loaded, &err));
        ll_serve_opts o;
        ll_serve_opts_init(&o);
        o.port = 0;
        o.threads = 2;
        ll_server *s = NULL;
        CHECK_OK(ll_server_start(loaded, &o, &s, &err));
        uint16_t port = ll_server_port(s);
        for (int a = 0; a < 4; a++)
            for (int k = 0; k < 4; k++) {
                const void *body = k == 0   ? CSV_BODY
                                   : k == 1 ? JSON_BODY
                                   : k == 2 ? JSONL_BODY
                                            : (const void *)rio;
                size_t len = k == 3 ? rio_len : strlen(body);
                long st = http(port, "POST", "/invocations", in_types[k], acc_types[a], body, len,
                               0, &out);
                decoded d;
                response_format f = (response_format)a;
                int ok = st == 200 && decode(f, &out, preds[pi], &d) && matches_hand(preds[pi], &d);
                if (!ok) {
                    ll_server_stop(s, 0);
                    ll_model_free(loaded);
                    response_buf_deinit(&out);
                }
                CHECKF(ok, "%s: %s -> %s: status %ld body %.300s", ll_predictor_name(preds[pi]),
                       in_types[k], acc_types[a], st, (const char *)out.p);
            }
        /* no Accept: SageMaker's default, JSON */
        long st = http(port, "POST", "/invocations", "text/csv", NULL, CSV_BODY, strlen(CSV_BODY),
                       0, &out);
        int ok = st == 200 && !strncmp((const char *)out.p, "{\"predictions\": [", 17);
        ll_server_stop(s, 1000);
        ll_model_free(loaded);
        CHECK(ok);
    }
    response_buf_deinit(&out);
}

/* status and a fragment the JSON error body must contain */
static int expect(long st, long want, const response_buf *b, const char *frag)
{
    if (st != want || (frag && !strstr((const char *)b->p, frag))) {
        fprintf(stderr, "  status %ld (want %ld), body %.300s (want '%s')\n", st, want,
                (const char *)b->p, frag ? frag : "");
        return 0;
    }
    return 1;
}

static void bad_requests(void)
{
    ll_err err;
    ll_model *m = NULL;
    CHECK_OK(make_model(LL_BINARY_CLASSIFIER, &m, &err));
    ll_serve_opts o;
    ll_serve_opts_init(&o);
    o.port = 0;
    o.threads = 2;
    o.max_payload = 65536;
    ll_server *s = NULL;
    CHECK_OK(ll_server_start(m, &o, &s, &err));
    uint16_t port = ll_server_port(s);
    response_buf b = {0};
    int ok = 1;
#define T(...) ok = ok && expect(__VA_ARGS__)
    T(http(port, "GET", "/ping", NULL, NULL, NULL, 0, 0, &b), 200, &b, NULL);
    ok = ok && b.len == 0;
    if (!ok)
        fprintf(stderr, "  /ping answered %zu bytes\n", b.len);
    T(http(port, "GET", "/execution-parameters", NULL, NULL, NULL, 0, 0, &b), 200, &b,
      "\"MaxPayloadInMB\": 1}");
    T(http(port, "POST", "/ping", "text/csv", NULL, "1", 1, 0, &b), 405, &b, "GET /ping");
    T(http(port, "GET", "/nowhere", NULL, NULL, NULL, 0, 0, &b), 404, &b, "\"error\"");
    T(http(port, "GET", "/invocations", NULL, NULL, NULL, 0, 0, &b), 405, &b, "POST");
    /* wrong width: expected and received counts, the row */
    T(http(port, "POST", "/invocations", "text/csv", NULL, "1,2\n1,2\n", 8, 0, &b), 400, &b,
      "\"row\": 1, \"expected\": 3, \"received\": 2");
    ok = ok && strstr((const char *)b.p, "does not match the feature dimension of the model: 3");
    T(http(port, "POST", "/invocations", "application/json", NULL,
           "{\"instances\": [{\"features\": [1, 2, 3]}, {\"features\": [1, 2, 3, 4]}]}", 68, 0, &b),
      400, &b, "\"row\": 2, \"expected\": 3, \"received\": 4");
    /* a later CSV line of another width is the CSV parser's error, with its line */
    T(http(port, "POST", "/invocations", "text/csv", NULL, "1,2,3\n1,2\n", 10, 0, &b), 400, &b,
      "\"line\": 2");
    /* malformed bodies name the place */
    T(http(port, "POST", "/invocations", "text/csv", NULL, "1,2,3\n4,x,6\n", 12, 0, &b), 400, &b,
      "\"line\": 2");
    T(http(port, "POST", "/invocations", "application/json", NULL, "{\"instances\": [1", 16, 0, &b),
      400, &b, "\"offset\": 15");
    T(http(port, "POST", "/invocations", "application/jsonlines", NULL,
           "{\"features\": [1,2,3]}\n{oops}\n", 29, 0, &b),
      400, &b, "\"line\": 2");
    T(http(port, "POST", "/invocations", "application/x-recordio-protobuf", NULL,
           "\x0a\x23\xd7\xce\x08\x00\x00\x00\xff\xff", 10, 0, &b),
      400, &b, "\"offset\": 0");
    T(http(port, "POST", "/invocations", "text/csv", NULL, "", 0, 0, &b), 400, &b, "empty");
    /* media types */
    T(http(port, "POST", "/invocations", "image/png", NULL, "1,2,3", 5, 0, &b), 415, &b,
      "image/png");
    T(http(port, "POST", "/invocations", NULL, NULL, "1,2,3", 5, 0, &b), 415, &b, "Content-Type");
    T(http(port, "POST", "/invocations", "text/csv", "text/html", "1,2,3", 5, 0, &b), 406, &b,
      "text/html");
    /* too large: from Content-Length, and while a chunked body arrives */
    char *big = malloc(100000);
    memset(big, '1', 100000);
    T(http(port, "POST", "/invocations", "text/csv", NULL, big, 100000, 0, &b), 413, &b,
      "exceeds the limit of 65536");
    free(big);
    T(http(port, "POST", "/invocations", "text/csv", NULL, NULL, 0, 200000, &b), 413, &b,
      "exceeds the limit of 65536");
    /* still serving, with the right answer */
    T(http(port, "POST", "/invocations", "text/csv", "application/jsonlines", CSV_BODY,
           strlen(CSV_BODY), 0, &b),
      200, &b, "\"predicted_label\": 1}\n");
    decoded d;
    ok = ok && decode(RESP_JSONL, &b, LL_BINARY_CLASSIFIER, &d) &&
         matches_hand(LL_BINARY_CLASSIFIER, &d);
    /* memory: many requests reuse the same scratch (no per-request growth to check here
       beyond the pool; the shell load test watches RSS) */
    for (int i = 0; ok && i < 200; i++)
        ok = http(port, "POST", "/invocations", "application/json", NULL, JSON_BODY,
                  strlen(JSON_BODY), 0, &b) == 200;
    /* the server counts a request done when libmicrohttpd reports it sent, which can come
       just after the client has the answer: wait (bounded) for the count to settle */
    uint64_t served = 0;
    unsigned in_flight = 9;
    for (int i = 0; i < 100; i++) {
        ll_server_stats(s, &served, &in_flight);
        if (served >= 200 && in_flight == 0)
            break;
        usleep(10000);
    }
    if (!(served >= 200 && in_flight == 0))
        fprintf(stderr, "  served %llu, in flight %u\n", (unsigned long long)served, in_flight);
    ok = ok && served >= 200 && in_flight == 0;
#undef T
    ll_server_stop(s, 1000);
    ll_model_free(m);
    response_buf_deinit(&b);
    CHECK(ok);
}

/* gate_line on whole lines and on every prefix of them: a prefix is GATE_MORE or already has
 * the whole line's verdict (the gate may decide on any read). */
static void gate_line_verdicts(void)
{
    static const struct {
        const char *line;
        size_t len;
        gate_verdict want;
        const char *why;
    } C[] = {
        {"GET /ping HTTP/1.1\r\n\r\n", 22, GATE_PASS, NULL},
        {"POST /invocations HTTP/1.1\r\n", 28, GATE_PASS, NULL},
        {"\r\n\r\nGET / HTTP/1.1\r\n", 20, GATE_PASS, NULL},
        {"get / HTTP/1.1\r\n", 16, GATE_PASS, NULL}, /* a token: 405 is libmicrohttpd's */
        {"GET /ping\r\n", 11, GATE_PASS, NULL},      /* HTTP/0.9: libmicrohttpd answers 400 */
        {"GET\r\n", 5, GATE_BAD, "'GET' has no request target and HTTP version"},
        {"GET\n", 4, GATE_BAD, "'GET' has no request target"},
        {"GARBAGE\r\n\r\n", 11, GATE_BAD, "'GARBAGE' has no request target"},
        {"\x01\x02\xff\xfe\r\n", 6, GATE_BAD, "byte 0 is \\x01"},
        {" GET / HTTP/1.1\r\n", 17, GATE_BAD, "byte 0 is \\x20"},
        {"\r\n\x16\x03\x01", 5, GATE_BAD, "byte 2 is \\x16"},
        {"G\0T / HTTP/1.1\r\n", 16, GATE_BAD, "'G' is followed by \\x00 at byte 1"},
        {"GET\t/ HTTP/1.1\r\n", 16, GATE_BAD, "followed by \\x09"},
        {"HELLO\x01 WORLD\r\n", 14, GATE_BAD, "'HELLO' is followed by \\x01"},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA / HTTP/1.1", 51, GATE_BAD, "longer than 32"},
        {"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1", 48,
         GATE_BAD, "empty lines"},
    };
    int ok = 1;
    for (size_t c = 0; c < sizeof C / sizeof C[0]; c++) {
        const uint8_t *p = (const uint8_t *)C[c].line;
        char why[256] = "";
        gate_verdict v = gate_line(p, C[c].len, why, sizeof why);
        if (v != C[c].want || (C[c].why && !strstr(why, C[c].why))) {
            fprintf(stderr, "  case %zu: verdict %d (want %d), '%s' (want '%s')\n", c, v, C[c].want,
                    why, C[c].why ? C[c].why : "");
            ok = 0;
        }
        for (size_t k = 0; k < C[c].len; k++) {
            gate_verdict pv = gate_line(p, k, NULL, 0);
            if (pv != GATE_MORE && pv != v) {
                fprintf(stderr, "  case %zu: prefix %zu gives %d, the line %d\n", c, k, pv, v);
                ok = 0;
            }
        }
    }
    /* the answer is a whole HTTP response with a JSON body that escapes what it shows */
    char out[1024];
    size_t n = gate_answer("a \"quoted\" \\ \x01 byte", out, sizeof out);
    ok = ok && n == strlen(out) && !strncmp(out, "HTTP/1.1 400 Bad Request\r\n", 26) &&
         strstr(out, "Connection: close\r\n") &&
         strstr(out, "\"message\": \"a \\\"quoted\\\" \\\\ \\u0001 byte\"}\n");
    const char *cl = strstr(out, "Content-Length: ");
    const char *body = strstr(out, "\r\n\r\n");
    ok = ok && cl && body && (size_t)atoi(cl + 16) == strlen(body + 4);
    if (!ok)
        fprintf(stderr, "  answer: %s\n", out);
    CHECK(ok);
}

/* Sends the pieces of a request on one connection (pause_ms between them) and returns all it
 * reads until the server closes (or 5 s pass), NUL-terminated in out. */
static size_t raw_talk(uint16_t port, const char *const *pieces, const size_t *lens, int n_pieces,
                       int pause_ms, char *out, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    size_t got = 0;
    out[0] = 0;
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    for (int i = 0; i < n_pieces; i++) {
        if (i && pause_ms)
            usleep((useconds_t)pause_ms * 1000);
        if (send(fd, pieces[i], lens[i], MSG_NOSIGNAL) < 0)
            break;
    }
    for (int spins = 0; spins < 50 && got + 1 < cap; spins++) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        ssize_t k = recv(fd, out + got, cap - 1 - got, 0);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    out[got] = 0;
    close(fd);
    return got;
}

/* Request lines libmicrohttpd would close without a word get a 400 the client reads (whole or
 * trickled, with bytes after them), and the server keeps serving; a connection that never
 * sends its line is closed at the header deadline. */
static void bad_request_lines(void)
{
    ll_err err;
    ll_model *m = NULL;
    CHECK_OK(make_model(LL_BINARY_CLASSIFIER, &m, &err));
    ll_serve_opts o;
    ll_serve_opts_init(&o);
    o.port = 0;
    o.threads = 2;
    o.header_timeout_s = 1;
    ll_server *s = NULL;
    CHECK_OK(ll_server_start(m, &o, &s, &err));
    uint16_t port = ll_server_port(s);
    static const struct {
        const char *p;
        size_t len;
        const char *frag;
    } C[] = {
        {"GET\r\n", 5, "'GET' has no request target"},
        {"GARBAGE\r\n\r\n", 11, "'GARBAGE' has no request target"},
        {"\x01\x02\x03\xff\xfe\r\n\r\n", 9, "byte 0 is \\\\x01"},
        {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11, "byte 0 is \\\\x16"}, /* TLS */
        {" GET /ping HTTP/1.1\r\n\r\n", 23, "byte 0 is \\\\x20"},
    };
    char out[4096];
    response_buf b = {0};
    int ok = 1;
    uint64_t refused = 0;
    for (size_t c = 0; c < sizeof C / sizeof C[0]; c++) {
        const char *pc[1] = {C[c].p};
        size_t lc[1] = {C[c].len};
        raw_talk(port, pc, lc, 1, 0, out, sizeof out);
        if (strncmp(out, "HTTP/1.1 400 Bad Request\r\n", 26) || !strstr(out, C[c].frag) ||
            !strstr(out, "Connection: close\r\n")) {
            fprintf(stderr, "  case %zu: got '%.300s'\n", c, out);
            ok = 0;
        }
        refused++;
        /* still serving */
        ok = ok && http(port, "GET", "/ping", NULL, NULL, NULL, 0, 0, &b) == 200;
    }
    /* a bare GET a byte at a time, then garbage after it: the 400 still arrives */
    const char *tp[] = {"G", "E", "T", "\r\n", "more bytes the client sends anyway\r\n"};
    size_t tl[] = {1, 1, 1, 2, 36};
    raw_talk(port, tp, tl, 5, 60, out, sizeof out);
    refused++;
    if (strncmp(out, "HTTP/1.1 400 ", 13) || !strstr(out, "'GET' has no request target")) {
        fprintf(stderr, "  trickled bare GET: got '%.300s'\n", out);
        ok = 0;
    }
    /* a good line trickled through the gate is served */
    const char *gp[] = {"GE", "T /pi", "ng HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"};
    size_t gl[] = {2, 5, strlen(gp[2])};
    raw_talk(port, gp, gl, 3, 60, out, sizeof out);
    if (strncmp(out, "HTTP/1.1 200 OK\r\n", 17)) {
        fprintf(stderr, "  trickled /ping: got '%.300s'\n", out);
        ok = 0;
    }
    /* silence: closed at the 1 s header deadline, with nothing sent */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t n = raw_talk(port, NULL, NULL, 0, 0, out, sizeof out);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (n != 0 || took < 0.8 || took > 3) {
        fprintf(stderr, "  silent client: %zu bytes, closed after %.2f s\n", n, took);
        ok = 0;
    }
    serve_reuse ru;
    serve_reuse_stats(s, &ru);
    if (ru.bad_lines != refused) {
        fprintf(stderr, "  the gate refused %llu, want %llu\n", (unsigned long long)ru.bad_lines,
                (unsigned long long)refused);
        ok = 0;
    }
    ok = ok && http(port, "GET", "/ping", NULL, NULL, NULL, 0, 0, &b) == 200;
    ll_server_stop(s, 1000);
    ll_model_free(m);
    response_buf_deinit(&b);
    CHECK(ok);
}

static void predict_matches_serve(void)
{
    /* ll_predict over a file gives the bytes the server gives for the same body */
    ll_err err;
    ll_model *m = NULL;
    CHECK_OK(make_model(LL_MULTICLASS_CLASSIFIER, &m, &err));
    char in[128], outp[128];
    snprintf(in, sizeof in, "%s/rows.jsonl", tmpdir);
    snprintf(outp, sizeof outp, "%s/pred.pbr", tmpdir);
    FILE *f = fopen(in, "w");
    CHECK(f);
    fputs(JSONL_BODY, f);
    fclose(f);
    ll_predict_opts po;
    ll_predict_opts_init(&po);
    po.batch_rows = 2; /* more than one mini-batch */
    uint64_t n = 0;
    ll_code rc = ll_predict(m, in, outp, &po, &n, &err);
    serve_work w;
    serve_work_init(&w);
    ll_code rc2 = serve_body(m, SERVE_IN_JSONL, RESP_RECORDIO, (const uint8_t *)JSONL_BODY,
                             strlen(JSONL_BODY), 1000, &w, &err);
    size_t len = 0;
    unsigned char *got = tt_read_file(outp, &len);
    int same = got && rc2 == LL_OK && len == w.out.len && !memcmp(got, w.out.p, len);
    free(got);
    serve_work_deinit(&w);
    ll_model_free(m);
    CHECK(rc == LL_OK && n == 3);
    CHECK(same);
}

/* One keep-alive connection, requests of changing size and format (and an error between them):
 * each answer is byte for byte serve_body's for the same body, though the connection's body and
 * response buffers are reused (and the ones over 1 MiB dropped) from request to request. */
static void keep_alive_reuses_buffers(void)
{
    ll_err err;
    ll_model *m = NULL;
    CHECK_OK(make_model(LL_BINARY_CLASSIFIER, &m, &err));
    /* a CSV body over 1 MiB: 200,000 rows */
    size_t big_rows = 200000, big_len = 0;
    char *big = malloc(big_rows * 16);
    CHECK(big != NULL);
    for (size_t i = 0; i < big_rows; i++)
        big_len += (size_t)sprintf(big + big_len, "%zu,%zu,-%zu\n", i % 7, i % 13, i % 5);
    ll_serve_opts o;
    ll_serve_opts_init(&o);
    o.port = 0;
    o.threads = 1;
    o.max_payload = (size_t)8 << 20;
    ll_server *s = NULL;
    CHECK_OK(ll_server_start(m, &o, &s, &err));
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/invocations", ll_server_port(s));
    static const struct {
        int body; /* 0 CSV_BODY, 1 big, 2 JSONL_BODY, 3 a bad row */
        const char *ctype, *accept;
    } seq[] = {
        {0, "text/csv", "application/json"},
        {1, "text/csv", "text/csv"},
        {0, "text/csv", "application/json"},
        {3, "text/csv", "application/json"},
        {2, "application/jsonlines", "application/x-recordio-protobuf"},
        {1, "text/csv", "application/jsonlines"},
        {0, "text/csv", "text/csv"},
    };
    CURL *c = curl_easy_init();
    response_buf out = {0};
    serve_work w;
    serve_work_init(&w);
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        const char *body = seq[i].body == 0   ? CSV_BODY
                           : seq[i].body == 1 ? big
                           : seq[i].body == 2 ? JSONL_BODY
                                              : "1,2\n";
        size_t len = seq[i].body == 1 ? big_len : strlen(body);
        struct curl_slist *h = NULL;
        char line[128];
        snprintf(line, sizeof line, "Content-Type: %s", seq[i].ctype);
        h = curl_slist_append(h, line);
        snprintf(line, sizeof line, "Accept: %s", seq[i].accept);
        h = curl_slist_append(h, line);
        h = curl_slist_append(h, "Expect:");
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        out.len = 0;
        long st = 0, connects = -1;
        CURLcode cc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
        curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
        curl_slist_free_all(h);
        response_format f = RESP_JSON;
        response_parse_accept(seq[i].accept, &f);
        serve_in in = serve_content_type(seq[i].ctype);
        ll_code rc = serve_body(m, in, f, (const uint8_t *)body, len, o.batch_rows, &w, &err);
        CHECKF(cc == CURLE_OK && connects == (i == 0 ? 1 : 0), "request %zu: curl %d, %ld connects",
               i, (int)cc, connects);
        if (seq[i].body == 3) {
            CHECKF(rc == LL_E_PARSE && st == 400, "request %zu: %d, status %ld", i, (int)rc, st);
        } else {
            CHECKF(rc == LL_OK && st == 200 && out.len == w.out.len &&
                       !memcmp(out.p, w.out.p, out.len),
                   "request %zu: status %ld, %zu bytes, want %zu", i, st, out.len, w.out.len);
        }
        w.sb.bad_row = w.sb.expected = w.sb.received = 0;
    }
    /* one connection, one worker: one scratch object and one connection state served all
     * seven requests, and the body buffer was not reallocated for every request */
    serve_reuse ru;
    serve_reuse_stats(s, &ru);
    size_t n_req = sizeof seq / sizeof seq[0];
    CHECKF(ru.conn_new == 1, "%llu connection states", (unsigned long long)ru.conn_new);
    CHECKF(ru.work_new == 1 && ru.work_reused == n_req - 1, "scratch: %llu new, %llu reused",
           (unsigned long long)ru.work_new, (unsigned long long)ru.work_reused);
    CHECKF(ru.body_allocs >= 2 && ru.body_allocs < n_req, "%llu body allocations for %zu requests",
           (unsigned long long)ru.body_allocs, n_req);
    curl_easy_cleanup(c);
    serve_work_deinit(&w);
    response_buf_deinit(&out);
    ll_server_stop(s, 1000);
    ll_model_free(m);
    free(big);
}

/* A RecordIO body of whole frames is decoded in place; one needing the framing reader (a split
 * record) goes through it. Both give the same answer, and a bad Record inside whole frames gets
 * the framing reader's message, record index and offset. */
static void recordio_in_place_matches_reader(void)
{
    ll_err err, ref;
    ll_model *m = NULL;
    CHECK_OK(make_model(LL_BINARY_CLASSIFIER, &m, &err));
    uint8_t body[1024], split[1024];
    size_t len = rio_body(body);
    serve_work w;
    serve_work_init(&w);
    /* a Record holding the magic's bytes (a float with bits 0xCED7230A), then the three others */
    uint8_t two[1024], rec[64];
    float v[D] = {1.0f, 0.0f, 3.0f};
    uint32_t mbits = RIO_MAGIC;
    memcpy(&v[1], &mbits, 4);
    pb_entry_in f;
    memset(&f, 0, sizeof f);
    f.name = "values";
    f.t.dtype = PB_F32;
    f.t.values = v;
    f.t.n_values = D;
    pb_record_in r;
    memset(&r, 0, sizeof r);
    r.feat = &f;
    r.n_feat = 1;
    size_t l0 = pb_encode(&r, rec), n2 = rio_frame(two, rec, l0);
    memcpy(two + n2, body, len);
    n2 += len;
    CHECK_OK(serve_body(m, SERVE_IN_RIO, RESP_CSV, two, n2, 2, &w, &err));
    response_buf fast = {0};
    CHECK_OK(response_buf_put(&fast, w.out.p, w.out.len, &err));
    /* the same, the first Record split the dmlc-core way at the magic: cflag 1, then 3, the
     * magic left out (the framing reader's path) */
    size_t cut = 0;
    while (cut + 4 <= l0 && memcmp(rec + cut, &mbits, 4) != 0)
        cut++;
    CHECK(cut + 4 <= l0);
    size_t n = rio_frame(split, rec, cut);
    split[7] |= 1u << 5;
    size_t at2 = n;
    n += rio_frame(split + n, rec + cut + 4, l0 - cut - 4);
    split[at2 + 7] |= 3u << 5;
    memcpy(split + n, body, len);
    n += len;
    CHECK_OK(serve_body(m, SERVE_IN_RIO, RESP_CSV, split, n, 2, &w, &err));
    CHECK(w.out.len == fast.len && fast.len > 0 && !memcmp(w.out.p, fast.p, fast.len));
    /* a bad Record (an unknown wire type) as the second of three whole frames */
    uint8_t bad[1024], junk[8] = {0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    uint32_t b0 = (uint32_t)body[4] | (uint32_t)body[5] << 8;
    size_t f0 = rio_frame_size(b0), nb = 0;
    memcpy(bad, body, f0);
    nb = f0;
    nb += rio_frame(bad + nb, junk, sizeof junk);
    memcpy(bad + nb, body + f0, len - f0);
    nb += len - f0;
    ll_code rc = serve_body(m, SERVE_IN_RIO, RESP_CSV, bad, nb, 1000, &w, &err);
    ll_reader *rd = ll_reader_mem(bad, nb, "request");
    ll_parse_opts o;
    ll_parse_opts_init(&o);
    o.format = LL_FMT_RECORDIO;
    ll_parser *p = NULL;
    ll_batch b;
    ll_batch_init(&b);
    int eof = 0;
    ll_code rc2 = ll_parser_new(rd, &o, &p, &ref);
    if (rc2 == LL_OK)
        rc2 = ll_parser_next(p, &b, 1000, &eof, &ref);
    ll_parser_free(p);
    ll_reader_free(rd);
    ll_batch_deinit(&b);
    CHECK(rc == LL_E_PARSE && rc2 == LL_E_PARSE);
    CHECKF(!strcmp(err.msg, ref.msg) && err.record == ref.record && err.offset == ref.offset &&
               err.record == 1 && err.offset == f0,
           "%s (record %llu offset %llu) vs %s (record %llu offset %llu)", err.msg,
           (unsigned long long)err.record, (unsigned long long)err.offset, ref.msg,
           (unsigned long long)ref.record, (unsigned long long)ref.offset);
    response_buf_deinit(&fast);
    serve_work_deinit(&w);
    ll_model_free(m);
}

static int write_model(const char *dir, const char *kind)
{
    ll_err err;
    ll_model *m = NULL;
    ll_predictor p = !strcmp(kind, "binary")       ? LL_BINARY_CLASSIFIER
                     : !strcmp(kind, "multiclass") ? LL_MULTICLASS_CLASSIFIER
                                                   : LL_REGRESSOR;
    if (make_model(p, &m, &err) != LL_OK || model_save(m, dir, &err) != LL_OK) {
        fprintf(stderr, "write-model: %s\n", err.msg);
        return 1;
    }
    ll_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--write-model"))
        return write_model(argv[2], argv[3]);
    TT_BEGIN("serve");
    ll_blas_set_threads(1); /* as a server program does: the workers score in parallel */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ll_test_serve.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(every_format_pair);
    RUN(bad_requests);
    RUN(gate_line_verdicts);
    RUN(bad_request_lines);
    RUN(predict_matches_serve);
    RUN(keep_alive_reuses_buffers);
    RUN(recordio_in_place_matches_reader);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    curl_global_cleanup();
    TT_END();
}
