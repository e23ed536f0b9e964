/* SPDX-License-Identifier: Apache-2.0 */
/* s3.c - S3 settings, credentials, signing, URLs, blocking requests with retries, listing and
 * error documents (expat). Also the built-in source settings (ll_source_opts_init). See
 * s3.h; the streaming GET is in rd_http.c. */
#include "s3.h"
#include "err.h"
#include "mem.h"
#include <ctype.h>
#include <expat.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- settings ---- */

/* The built-in settings: constant, so nothing here is process-wide mutable state. */
static const ll_source_opts g_builtin = {
    .prefetch_bytes = (size_t)64 << 20,
    .max_retries = 10,
    .retry_base_ms = 200,
    .retry_max_ms = 10000,
    .stall_timeout_s = 60,
};

void ll_source_opts_init(ll_source_opts *o)
{
    *o = g_builtin;
}

const ll_source_opts *s3_defaults(void)
{
    return &g_builtin;
}

/* ---- profile files ---- */

/* Looks up `name` in section `section` of an INI file; new string or NULL. */
static char *ini_get(const char *path, const char *section, const char *name)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char line[1024];
    int in = 0;
    char *val = NULL;
    while (!val && fgets(line, sizeof line, f)) {
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        size_t n = strlen(p);
        while (n && isspace((unsigned char)p[n - 1]))
            p[--n] = 0;
        if (*p == '[') {
            char *e = strchr(p, ']');
            if (e) {
                *e = 0;
                char *s = p + 1;
                while (isspace((unsigned char)*s))
                    s++;
                in = strcmp(s, section) == 0;
            }
            continue;
        }
        if (!in || line[0] == ' ' || line[0] == '\t' || *p == '#' || *p == ';')
            continue; /* nested (indented) settings belong to a sub-section */
        char *eq = strchr(p, '=');
        if (!eq)
            continue;
        char *k = p, *ke = eq;
        while (ke > k && isspace((unsigned char)ke[-1]))
            ke--;
        *ke = 0;
        char *v = eq + 1;
        while (isspace((unsigned char)*v))
            v++;
        if (strcmp(k, name) == 0)
            val = mem_strdup(v);
    }
    fclose(f);
    return val;
}

static char *file_path(const char *env, const char *home_rel)
{
    const char *e = getenv(env);
    if (e && *e)
        return mem_strdup(e);
    const char *h = getenv("HOME");
    if (!h)
        return NULL;
    size_t n = strlen(h) + strlen(home_rel) + 2;
    char *p = mem_alloc(n);
    if (p)
        snprintf(p, n, "%s/%s", h, home_rel);
    return p;
}

static char *env_dup(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? mem_strdup(v) : NULL;
}

ll_code s3_cfg_load(s3_cfg *c, const ll_source_opts *o, ll_err *err)
{
    memset(c, 0, sizeof *c);
    if (!o)
        o = s3_defaults();
    c->max_retries = o->max_retries;
    c->retry_base_ms = o->retry_base_ms ? o->retry_base_ms : 1;
    c->retry_max_ms = o->retry_max_ms ? o->retry_max_ms : 1;
    c->stall_timeout_s = o->stall_timeout_s ? o->stall_timeout_s : 60;
    const char *profile = getenv("AWS_PROFILE");
    if (!profile || !*profile)
        profile = "default";
    char *cred_file = file_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
    char *conf_file = file_path("AWS_CONFIG_FILE", ".aws/config");
    char conf_sec[160];
    if (strcmp(profile, "default") == 0)
        snprintf(conf_sec, sizeof conf_sec, "default");
    else
        snprintf(conf_sec, sizeof conf_sec, "profile %s", profile);

    c->access_key = env_dup("AWS_ACCESS_KEY_ID");
    c->secret_key = env_dup("AWS_SECRET_ACCESS_KEY");
    if (c->access_key && c->secret_key) {
        c->session_token = env_dup("AWS_SESSION_TOKEN");
    } else {
        mem_free(c->access_key);
        mem_free(c->secret_key);
        c->access_key = c->secret_key = NULL;
        if (cred_file) {
            c->access_key = ini_get(cred_file, profile, "aws_access_key_id");
            c->secret_key = ini_get(cred_file, profile, "aws_secret_access_key");
            c->session_token = ini_get(cred_file, profile, "aws_session_token");
        }
        if ((!c->access_key || !c->secret_key) && conf_file) {
            /* the config file may hold keys too */
            mem_free(c->access_key);
            mem_free(c->secret_key);
            mem_free(c->session_token);
            c->access_key = ini_get(conf_file, conf_sec, "aws_access_key_id");
            c->secret_key = ini_get(conf_file, conf_sec, "aws_secret_access_key");
            c->session_token = ini_get(conf_file, conf_sec, "aws_session_token");
        }
        if (!c->access_key || !c->secret_key) {
            mem_free(c->access_key);
            mem_free(c->secret_key);
            mem_free(c->session_token);
            c->access_key = c->secret_key = c->session_token = NULL;
        }
    }
    c->region = env_dup("AWS_REGION");
    if (!c->region)
        c->region = env_dup("AWS_DEFAULT_REGION");
    if (!c->region && conf_file)
        c->region = ini_get(conf_file, conf_sec, "region");
    if (!c->region)
        c->region = mem_strdup("us-east-1");
    if (o->endpoint_url && *o->endpoint_url)
        c->endpoint = mem_strdup(o->endpoint_url);
    if (!c->endpoint)
        c->endpoint = env_dup("AWS_ENDPOINT_URL_S3");
    if (!c->endpoint)
        c->endpoint = env_dup("AWS_ENDPOINT_URL");
    if (!c->endpoint && conf_file)
        c->endpoint = ini_get(conf_file, conf_sec, "endpoint_url");
    mem_free(cred_file);
    mem_free(conf_file);
    if (!c->region) {
        s3_cfg_deinit(c);
        return err_set(err, LL_E_NOMEM, "out of memory reading S3 settings");
    }
    if (c->endpoint) {
        size_t n = strlen(c->endpoint);
        while (n && c->endpoint[n - 1] == '/')
            c->endpoint[--n] = 0;
        if (strncmp(c->endpoint, "http://", 7) && strncmp(c->endpoint, "https://", 8)) {
            ll_code rc = err_set(err, LL_E_ARG,
                                 "the S3 endpoint '%.100s' must start with http:// or https://",
                                 c->endpoint);
            s3_cfg_deinit(c);
            return rc;
        }
    }
    return LL_OK;
}

void s3_cfg_deinit(s3_cfg *c)
{
    if (c->secret_key)
        memset(c->secret_key, 0, strlen(c->secret_key));
    mem_free(c->access_key);
    mem_free(c->secret_key);
    mem_free(c->session_token);
    mem_free(c->region);
    mem_free(c->endpoint);
    memset(c, 0, sizeof *c);
}

/* ---- names and URLs ---- */

ll_code s3_split(const char *url, char **bucket, char **key, ll_err *err)
{
    *bucket = *key = NULL;
    if (strncmp(url, "s3://", 5) != 0)
        return err_set(err, LL_E_ARG, "'%.100s' is not an s3:// URL", url);
    const char *b = url + 5, *slash = strchr(b, '/');
    size_t bn = slash ? (size_t)(slash - b) : strlen(b);
    if (bn < 3 || bn > 63)
        return err_set(err, LL_E_ARG, "'%.100s': a bucket name has 3 to 63 characters", url);
    for (size_t i = 0; i < bn; i++)
        if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) || b[i] == '-' ||
              b[i] == '.' || b[i] == '_'))
            return err_set(err, LL_E_ARG, "'%.100s': bad character in the bucket name", url);
    *bucket = mem_alloc(bn + 1);
    *key = mem_strdup(slash ? slash + 1 : "");
    if (!*bucket || !*key) {
        mem_free(*bucket);
        mem_free(*key);
        *bucket = *key = NULL;
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    memcpy(*bucket, b, bn);
    (*bucket)[bn] = 0;
    return LL_OK;
}

char *s3_encode(const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *o = mem_alloc(3 * n + 1), *p = o;
    if (!o)
        return NULL;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~' ||
            (keep_slash && ch == '/')) {
            *p++ = (char)ch;
        } else {
            *p++ = '%';
            *p++ = hex[ch >> 4];
            *p++ = hex[ch & 15];
        }
    }
    *p = 0;
    return o;
}

char *s3_url(const s3_cfg *c, const char *bucket, const char *key, const char *query)
{
    char *ek = s3_encode(key ? key : "", 1);
    if (!ek)
        return NULL;
    size_t n = strlen(ek) + strlen(bucket) + strlen(c->region) + (query ? strlen(query) : 0) +
               (c->endpoint ? strlen(c->endpoint) : 0) + 64;
    char *u = mem_alloc(n);
    if (u) {
        const char *q = query && *query ? "?" : "";
        const char *qs = query ? query : "";
        if (c->endpoint)
            snprintf(u, n, "%s/%s/%s%s%s", c->endpoint, bucket, ek, q, qs);
        else if (strchr(bucket, '.'))
            snprintf(u, n, "https://s3.%s.amazonaws.com/%s/%s%s%s", c->region, bucket, ek, q, qs);
        else
            snprintf(u, n, "https://%s.s3.%s.amazonaws.com/%s%s%s", bucket, c->region, ek, q, qs);
    }
    mem_free(ek);
    return u;
}

ll_code s3_sign(CURL *h, const s3_cfg *c, struct curl_slist **hdrs, ll_err *err)
{
    struct curl_slist *l = *hdrs, *t;
    t = curl_slist_append(l, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    if (!t)
        return err_set(err, LL_E_NOMEM, "out of memory");
    l = t;
    if (c->session_token) {
        size_t n = strlen(c->session_token) + 32;
        char *hv = mem_alloc(n);
        if (!hv)
            return err_set(err, LL_E_NOMEM, "out of memory");
        snprintf(hv, n, "x-amz-security-token: %s", c->session_token);
        t = curl_slist_append(l, hv);
        mem_free(hv);
        if (!t)
            return err_set(err, LL_E_NOMEM, "out of memory");
        l = t;
    }
    *hdrs = l;
    if (c->access_key) {
        char prov[96];
        snprintf(prov, sizeof prov, "aws:amz:%s:s3", c->region);
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, prov);
        curl_easy_setopt(h, CURLOPT_USERNAME, c->access_key);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->secret_key);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
    return LL_OK;
}

void s3_backoff(const s3_cfg *c, int attempt)
{
    uint64_t ms = c->retry_base_ms;
    for (int i = 1; i < attempt && ms < c->retry_max_ms; i++)
        ms *= 2;
    if (ms > c->retry_max_ms)
        ms = c->retry_max_ms;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int s3_retryable(long status, const char *code)
{
    if (status >= 500 || status == 429 || status == 408 || status == 0)
        return 1;
    return code && (!strcmp(code, "SlowDown") || !strcmp(code, "RequestTimeout") ||
                    !strcmp(code, "InternalError") || !strcmp(code, "ServiceUnavailable"));
}

/* ---- XML: error documents and listings ---- */

typedef struct {
    char path[256]; /* element path, "/"-joined */
    char *text;
    size_t tlen, tcap;
    int oom, toolong;
    /* error document */
    char *code, *msg;
    size_t code_cap, msg_cap;
    /* listing */
    s3_obj **objs;
    size_t *n, *cap;
    char *cur_key;
    uint64_t cur_size;
    int truncated;
    char *token;
} xml_st;

static void XMLCALL x_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    (void)atts;
    xml_st *s = ud;
    size_t n = strlen(s->path);
    if (n + strlen(name) + 2 < sizeof s->path)
        snprintf(s->path + n, sizeof s->path - n, "/%s", name);
    else
        s->toolong++;
    s->tlen = 0;
}

static void XMLCALL x_text(void *ud, const XML_Char *t, int len)
{
    xml_st *s = ud;
    if (s->tlen + (size_t)len + 1 > s->tcap) {
        size_t nc = (s->tlen + (size_t)len + 1) * 2;
        if (nc > (1u << 20)) {
            s->oom = 1;
            return;
        }
        char *p = mem_realloc(s->text, nc);
        if (!p) {
            s->oom = 1;
            return;
        }
        s->text = p;
        s->tcap = nc;
    }
    memcpy(s->text + s->tlen, t, (size_t)len);
    s->tlen += (size_t)len;
    s->text[s->tlen] = 0;
}

static void XMLCALL x_end(void *ud, const XML_Char *name)
{
    xml_st *s = ud;
    const char *txt = s->text && s->tlen ? s->text : "";
    if (s->toolong) {
        s->toolong--;
        return;
    }
    const char *p = s->path;
    if (s->code && !strcmp(p, "/Error/Code"))
        snprintf(s->code, s->code_cap, "%s", txt);
    else if (s->msg && !strcmp(p, "/Error/Message"))
        snprintf(s->msg, s->msg_cap, "%s", txt);
    else if (s->objs) {
        if (!strcmp(p, "/ListBucketResult/Contents/Key")) {
            mem_free(s->cur_key);
            s->cur_key = mem_strdup(txt);
            if (!s->cur_key)
                s->oom = 1;
        } else if (!strcmp(p, "/ListBucketResult/Contents/Size")) {
            s->cur_size = strtoull(txt, NULL, 10);
        } else if (!strcmp(p, "/ListBucketResult/Contents")) {
            if (s->cur_key) {
                if (*s->n == *s->cap) {
                    size_t nc = *s->cap ? *s->cap * 2 : 256;
                    s3_obj *o = mem_realloc_array(*s->objs, nc, sizeof *o);
                    if (!o) {
                        s->oom = 1;
                        goto pop;
                    }
                    *s->objs = o;
                    *s->cap = nc;
                }
                (*s->objs)[(*s->n)++] = (s3_obj){s->cur_key, s->cur_size};
                s->cur_key = NULL;
            }
            s->cur_size = 0;
        } else if (!strcmp(p, "/ListBucketResult/IsTruncated")) {
            s->truncated = !strcmp(txt, "true");
        } else if (!strcmp(p, "/ListBucketResult/NextContinuationToken")) {
            mem_free(s->token);
            s->token = mem_strdup(txt);
            if (!s->token)
                s->oom = 1;
        }
    }
pop:;
    char *slash = strrchr(s->path, '/');
    if (slash)
        *slash = 0;
    (void)name;
    s->tlen = 0;
}

static int xml_run(xml_st *s, const char *xml, size_t len)
{
    XML_Parser p = XML_ParserCreate(NULL);
    if (!p)
        return -1;
    XML_SetUserData(p, s);
    XML_SetElementHandler(p, x_start, x_end);
    XML_SetCharacterDataHandler(p, x_text);
    int ok = 1;
    while (len > 0 && ok) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        ok = XML_Parse(p, xml, chunk, 0) == XML_STATUS_OK;
        xml += chunk;
        len -= (size_t)chunk;
    }
    if (ok)
        ok = XML_Parse(p, "", 0, 1) == XML_STATUS_OK;
    XML_ParserFree(p);
    mem_free(s->text);
    s->text = NULL;
    return s->oom ? -1 : ok ? 0 : 1;
}

void s3_error_parse(const char *xml, size_t len, char *code, size_t code_cap, char *msg,
                    size_t msg_cap)
{
    xml_st s;
    memset(&s, 0, sizeof s);
    code[0] = msg[0] = 0;
    s.code = code;
    s.code_cap = code_cap;
    s.msg = msg;
    s.msg_cap = msg_cap;
    if (xml && len)
        xml_run(&s, xml, len);
}

ll_code s3_list_parse(const char *xml, size_t len, s3_obj **objs, size_t *n, size_t *cap,
                      int *truncated, char **next_token, ll_err *err)
{
    xml_st s;
    memset(&s, 0, sizeof s);
    s.objs = objs;
    s.n = n;
    s.cap = cap;
    *next_token = NULL;
    *truncated = 0;
    int r = xml_run(&s, xml, len);
    mem_free(s.cur_key);
    if (r != 0) {
        mem_free(s.token);
        return r < 0 ? err_set(err, LL_E_NOMEM, "out of memory reading an S3 listing")
                     : err_set(err, LL_E_PARSE, "an S3 listing is not well-formed XML");
    }
    if (s.truncated && (!s.token || !*s.token)) {
        mem_free(s.token);
        return err_set(err, LL_E_PARSE, "a truncated S3 listing without a continuation token");
    }
    *truncated = s.truncated;
    *next_token = s.token;
    return LL_OK;
}

void s3_objs_free(s3_obj *objs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mem_free(objs[i].key);
    mem_free(objs);
}

ll_code s3_error_set(ll_err *err, long status, const char *body, size_t body_len,
                     const char *bucket, const char *key)
{
    char code[64], msg[160];
    s3_error_parse(body, body_len, code, sizeof code, msg, sizeof msg);
    if (!code[0]) {
        /* HEAD answers carry no body */
        if (status == 404)
            snprintf(code, sizeof code, "%s", key && *key ? "NotFound" : "NoSuchBucket");
        else if (status == 403)
            snprintf(code, sizeof code, "AccessDenied");
    }
    ll_code rc = err_set(err, LL_E_REMOTE, "HTTP %ld%s%s%s%s%s", status, code[0] ? " " : "", code,
                         msg[0] ? " (" : "", msg, msg[0] ? ")" : "");
    if (err) {
        snprintf(err->src, sizeof err->src, "s3://%.60s/%.60s", bucket, key ? key : "");
        if (!strcmp(code, "SignatureDoesNotMatch") || !strcmp(code, "InvalidAccessKeyId"))
            snprintf(err->msg + strlen(err->msg), sizeof err->msg - strlen(err->msg),
                     "; check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the profile");
    }
    return rc;
}

/* ---- blocking requests ---- */

typedef struct {
    s3_resp *r;
    const uint8_t *body;
    size_t body_len, body_pos;
    int oom;
} req_io;

static size_t on_data(char *p, size_t sz, size_t nm, void *ud)
{
    req_io *io = ud;
    size_t n = sz * nm;
    s3_resp *r = io->r;
    if (r->len + n > (1u << 20))
        return n; /* keep the first MiB */
    char *q = mem_realloc(r->body, r->len + n + 1);
    if (!q) {
        io->oom = 1;
        return 0;
    }
    memcpy(q + r->len, p, n);
    r->body = q;
    r->len += n;
    r->body[r->len] = 0;
    return n;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
    req_io *io = ud;
    size_t n = sz * nm;
    if (n > 5 && strncasecmp(p, "etag:", 5) == 0) {
        const char *v = p + 5;
        while (*v == ' ')
            v++;
        size_t k = (size_t)(p + n - v);
        while (k && (v[k - 1] == '\r' || v[k - 1] == '\n' || v[k - 1] == ' '))
            k--;
        if (k >= sizeof io->r->etag)
            k = sizeof io->r->etag - 1;
        memcpy(io->r->etag, v, k);
        io->r->etag[k] = 0;
    }
    return n;
}

static size_t on_read(char *p, size_t sz, size_t nm, void *ud)
{
    req_io *io = ud;
    size_t n = sz * nm, left = io->body_len - io->body_pos;
    if (n > left)
        n = left;
    memcpy(p, io->body + io->body_pos, n);
    io->body_pos += n;
    return n;
}

void s3_resp_deinit(s3_resp *r)
{
    mem_free(r->body);
    memset(r, 0, sizeof *r);
}

ll_code s3_request(const s3_cfg *c, const char *method, const char *bucket, const char *key,
                   const char *query, const void *body, size_t body_len, s3_resp *resp, ll_err *err)
{
    memset(resp, 0, sizeof *resp);
    char *url = s3_url(c, bucket, key, query);
    if (!url)
        return err_set(err, LL_E_NOMEM, "out of memory");
    ll_code rc = LL_OK;
    for (int attempt = 0;; attempt++) {
        s3_resp_deinit(resp);
        CURL *h = curl_easy_init();
        if (!h) {
            rc = err_set(err, LL_E_NOMEM, "cannot create a curl handle");
            break;
        }
        struct curl_slist *hdrs = NULL;
        req_io io = {resp, body, body_len, 0, 0};
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &io);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &io);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)c->stall_timeout_s);
        if (!strcmp(method, "HEAD")) {
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (!strcmp(method, "PUT")) {
            curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(h, CURLOPT_READDATA, &io);
            curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)body_len);
        } else if (!strcmp(method, "POST")) {
            curl_easy_setopt(h, CURLOPT_POST, 1L);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        } else if (strcmp(method, "GET")) {
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        }
        /* every header given to libcurl is signed, so none may be a removal ("Expect:") */
        if (!strcmp(method, "POST"))
            hdrs = curl_slist_append(hdrs, "Content-Type: application/xml");
        if ((!strcmp(method, "POST") && !hdrs) || s3_sign(h, c, &hdrs, err) != LL_OK) {
            curl_slist_free_all(hdrs);
            curl_easy_cleanup(h);
            rc = err_set(err, LL_E_NOMEM, "out of memory");
            break;
        }
        CURLcode cc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        curl_off_t cl = -1;
        curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        resp->content_length = cl >= 0 ? (uint64_t)cl : 0;
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(h);
        if (io.oom) {
            rc = err_set(err, LL_E_NOMEM, "out of memory reading an S3 answer");
            break;
        }
        char code[64] = "", msg[8];
        if (cc == CURLE_OK && resp->status < 300) {
            /* CompleteMultipartUpload may answer 200 with an error document */
            if (resp->body && strstr(resp->body, "<Error>")) {
                s3_error_parse(resp->body, resp->len, code, sizeof code, msg, sizeof msg);
                if (s3_retryable(500, code) && attempt < c->max_retries) {
                    s3_backoff(c, attempt + 1);
                    continue;
                }
                rc = s3_error_set(err, resp->status, resp->body, resp->len, bucket, key);
            }
            break;
        }
        if (cc == CURLE_OK)
            s3_error_parse(resp->body, resp->len, code, sizeof code, msg, sizeof msg);
        if ((cc != CURLE_OK || s3_retryable(resp->status, code)) && attempt < c->max_retries) {
            s3_backoff(c, attempt + 1);
            continue;
        }
        if (cc != CURLE_OK) {
            rc = err_set(err, LL_E_REMOTE, "%s failed after %d attempts: %s", method, attempt + 1,
                         curl_easy_strerror(cc));
            if (err)
                snprintf(err->src, sizeof err->src, "s3://%.60s/%.60s", bucket, key ? key : "");
        } else {
            rc = s3_error_set(err, resp->status, resp->body, resp->len, bucket, key);
        }
        break;
    }
    mem_free(url);
    return rc;
}

ll_code s3_list(const s3_cfg *c, const char *bucket, const char *prefix, s3_obj **objs, size_t *n,
                ll_err *err)
{
    *objs = NULL;
    *n = 0;
    size_t cap = 0;
    char *token = NULL;
    char *eprefix = s3_encode(prefix, 0);
    if (!eprefix)
        return err_set(err, LL_E_NOMEM, "out of memory");
    ll_code rc = LL_OK;
    for (;;) {
        char *etoken = token ? s3_encode(token, 0) : NULL;
        size_t qn = strlen(eprefix) + (etoken ? strlen(etoken) : 0) + 96;
        char *q = mem_alloc(qn);
        if (!q || (token && !etoken)) {
            mem_free(q);
            mem_free(etoken);
            rc = err_set(err, LL_E_NOMEM, "out of memory");
            break;
        }
        /* sorted by name, as SigV4 canonicalisation requires */
        snprintf(q, qn, "%s%s%slist-type=2&max-keys=1000&prefix=%s",
                 etoken ? "continuation-token=" : "", etoken ? etoken : "", etoken ? "&" : "",
                 eprefix);
        mem_free(etoken);
        s3_resp r;
        rc = s3_request(c, "GET", bucket, "", q, NULL, 0, &r, err);
        mem_free(q);
        if (rc != LL_OK) {
            if (err && err->src[0])
                snprintf(err->src, sizeof err->src, "s3://%.60s/%.60s", bucket, prefix);
            s3_resp_deinit(&r);
            break;
        }
        int trunc = 0;
        mem_free(token);
        token = NULL;
        rc = s3_list_parse(r.body ? r.body : "", r.len, objs, n, &cap, &trunc, &token, err);
        s3_resp_deinit(&r);
        if (rc != LL_OK) {
            err_src(err, "S3 listing");
            break;
        }
        if (!trunc)
            break;
    }
    mem_free(token);
    mem_free(eprefix);
    if (rc != LL_OK) {
        s3_objs_free(*objs, *n);
        *objs = NULL;
        *n = 0;
    }
    return rc;
}

ll_code s3_head(const s3_cfg *c, const char *bucket, const char *key, uint64_t *size, ll_err *err)
{
    s3_resp r;
    ll_code rc = s3_request(c, "HEAD", bucket, key, NULL, NULL, 0, &r, err);
    if (rc == LL_OK)
        *size = r.content_length;
    s3_resp_deinit(&r);
    return rc;
}
