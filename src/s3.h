/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3.h - S3 over libcurl: settings and credentials read the way AWS tools read them, request
 * signing (libcurl's CURLOPT_AWS_SIGV4 plus the x-amz-content-sha256 header), URL building
 * (path-style for custom endpoints), blocking requests with retries, ListObjectsV2 and the
 * S3 error document. The streaming GET lives in rd_http.c; uploads in wr_s3.c.
 * The secret key is handed to libcurl only; no message or log line ever contains it.
 */
#ifndef LL_S3_H
#define LL_S3_H
#include "linlearn.h"
#include <curl/curl.h>

typedef struct s3_cfg {
    char *access_key;    /* NULL: anonymous requests */
    char *secret_key;    /* never printed */
    char *session_token; /* sent as x-amz-security-token */
    char *region;        /* default us-east-1 */
    char *endpoint;      /* "http://127.0.0.1:7480" (path-style), NULL: AWS virtual hosts */
    int max_retries;
    unsigned retry_base_ms, retry_max_ms, stall_timeout_s;
} s3_cfg;

/* Fills c from o (may be NULL: library defaults), the environment and the profile files
 * (AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, AWS_CONFIG_FILE or
 * ~/.aws/config). Free with s3_cfg_deinit. */
ll_code s3_cfg_load(s3_cfg *c, const ll_source_opts *o, ll_err *err);
void s3_cfg_deinit(s3_cfg *c);

/* The built-in settings (ll_source_opts_init), made once; never changed. */
const ll_source_opts *s3_defaults(void);

/* Splits "s3://bucket/key" into new strings (key may be ""). */
ll_code s3_split(const char *url, char **bucket, char **key, ll_err *err);

/* Percent-encodes s with RFC 3986 unreserved characters kept (and '/' when keep_slash) into
 * a new string. */
char *s3_encode(const char *s, int keep_slash);

/* The request URL for bucket/key with an already sorted and encoded query (NULL: none). */
char *s3_url(const s3_cfg *c, const char *bucket, const char *key, const char *query);

/* Signs requests of h (sets the SigV4 options, credentials and the fixed headers). *hdrs
 * receives the header list to free after the request (extra headers may be appended first). */
ll_code s3_sign(CURL *h, const s3_cfg *c, struct curl_slist **hdrs, ll_err *err);

/* Back-off before retry number `attempt` (1-based), capped; sleeps. */
void s3_backoff(const s3_cfg *c, int attempt);

/* Whether an HTTP status (with its S3 error code, may be "") is worth retrying. */
int s3_retryable(long status, const char *code);

/* Parses an S3 <Error> document: code and message (empty when absent). */
void s3_error_parse(const char *xml, size_t len, char *code, size_t code_cap, char *msg,
                    size_t msg_cap);

/* Sets err for a failed request on s3://bucket/key, naming the status and S3 error code. */
ll_code s3_error_set(ll_err *err, long status, const char *body, size_t body_len,
                     const char *bucket, const char *key);

/* A blocking request. body (may be NULL) is sent for PUT/POST. The response body is kept up
 * to 1 MiB in *resp (new, NUL-terminated; may be NULL), the ETag header in etag (may be NULL).
 * Retries connection failures, 5xx and SlowDown; other statuses >= 300 are errors. */
typedef struct s3_resp {
    long status;
    char *body;
    size_t len;
    char etag[128];
    uint64_t content_length;
} s3_resp;
ll_code s3_request(const s3_cfg *c, const char *method, const char *bucket, const char *key,
                   const char *query, const void *body, size_t body_len, s3_resp *resp,
                   ll_err *err);
void s3_resp_deinit(s3_resp *r);

/* One listed object. */
typedef struct s3_obj {
    char *key;
    uint64_t size;
} s3_obj;

/* A ListObjectsV2 page: appends its objects to *objs (growing it), sets *truncated and the
 * next continuation token (new string or NULL). */
ll_code s3_list_parse(const char *xml, size_t len, s3_obj **objs, size_t *n, size_t *cap,
                      int *truncated, char **next_token, ll_err *err);

/* Every object under prefix, in key order, all pages. *objs is new (free with
 * s3_objs_free). */
ll_code s3_list(const s3_cfg *c, const char *bucket, const char *prefix, s3_obj **objs, size_t *n,
                ll_err *err);
void s3_objs_free(s3_obj *objs, size_t n);

/* HEAD: the object's size. */
ll_code s3_head(const s3_cfg *c, const char *bucket, const char *key, uint64_t *size, ll_err *err);
#endif
