/* SPDX-License-Identifier: Apache-2.0 */
/* serve.h - what the HTTP endpoint (serve.c, public API ll_server_*) shares with tests and the
 * fuzz target: request body dispatch independent of the HTTP library. */
#ifndef LL_SERVE_H
#define LL_SERVE_H
#include "linlearn.h"
#include "pb.h"
#include "response.h"
#include "score.h"
#include "text.h"

typedef enum {
    SERVE_IN_NONE = 0,
    SERVE_IN_CSV,
    SERVE_IN_JSON,
    SERVE_IN_JSONL,
    SERVE_IN_RIO
} serve_in;

/* The request format named by a Content-Type value (parameters ignored); SERVE_IN_NONE when it
 * is missing or not supported. */
serve_in serve_content_type(const char *ct);

/* Per-worker scratch, reused from request to request (and trimmed when a big request left it
 * large). */
typedef struct serve_work {
    ll_batch b;
    score_buf sb;
    response_buf out;
    text_state ts; /* CSV parser state; its scratch is kept between requests */
    pb_record rec; /* RecordIO: the decoded Record, its arrays kept between requests */
} serve_work;

void serve_work_init(serve_work *w);
void serve_work_deinit(serve_work *w);
/* Frees the scratch when it grew past keep_bytes, so memory does not follow the largest
 * request ever seen. */
void serve_work_trim(serve_work *w, size_t keep_bytes);

/* How often the server made new buffers and reused old ones, for the tests. */
typedef struct serve_reuse {
    uint64_t work_new;    /* worker scratch objects created */
    uint64_t work_reused; /* requests scored with scratch from the pool */
    uint64_t conn_new;    /* connection states created (one per TCP connection) */
    uint64_t body_allocs; /* request body buffers allocated or grown */
    uint64_t bad_lines;   /* connections the gate answered 400 (gate.c) */
} serve_reuse;
void serve_reuse_stats(const ll_server *s, serve_reuse *out);

/* Parses body (format in) in mini-batches of batch_rows, scores each with m (m may be NULL:
 * then rows are only parsed, for the fuzz target) and encodes the predictions as fmt into
 * w->out (cleared first). Errors: LL_E_PARSE / LL_E_TOOBIG for malformed bodies (with their
 * location), a wrong width is LL_E_PARSE too, with
 * w->sb.bad_row/expected/received set. */
ll_code serve_body(const ll_model *m, serve_in in, response_format fmt, const uint8_t *body,
                   size_t len, size_t batch_rows, serve_work *w, ll_err *err);

/* The framing headers of one request head, gathered by serve_head_add: how many
 * Content-Length and Transfer-Encoding headers, and whether the lengths differ. */
typedef struct serve_head {
    int n_cl, cl_differ, n_te;
    uint64_t cl_hash; /* of the first Content-Length value, whole */
    char te[64];      /* the first Transfer-Encoding value (cut to fit) */
} serve_head;

/* Adds one header (name case-insensitive; value NULL is empty) to h (zeroed first). */
void serve_head_add(serve_head *h, const char *name, const char *value);

/* The answer a head's framing needs before any body is read (RFC 9112 6.1-6.3): 0 when fine;
 * 400 for Content-Length values that differ or Content-Length with Transfer-Encoding (a
 * request-smuggling hazard behind a proxy); 501 for a Transfer-Encoding other than one
 * "chunked". msg (cap bytes) receives the reason. */
unsigned serve_head_verdict(const serve_head *h, char *msg, size_t cap);
#endif
