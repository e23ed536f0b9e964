/* SPDX-License-Identifier: Apache-2.0 */
/* gate.h - the accept-and-peek step in front of the HTTP library (used by serve.c): a thread
 * owns the listening socket, looks at the start of each new connection's first request line
 * without consuming it, answers a line no HTTP parser could route (no method, a method not
 * followed by a space, binary bytes) with 400 itself, and passes every other connection on. */
#ifndef LL_GATE_H
#define LL_GATE_H
#include "linlearn.h"
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* What the start of a request line allows (gate_line). */
typedef enum {
    GATE_MORE = 0, /* too few bytes to tell yet */
    GATE_PASS,     /* a method token and a space: the HTTP library parses the rest */
    GATE_BAD       /* malformed: answer 400 */
} gate_verdict;

/* Bytes at most gate_line needs to see: with this many it never answers GATE_MORE. */
#define GATE_PEEK_MAX 128
/* Empty lines (CRLF or LF) allowed before the request line (RFC 9112 2.2), in bytes. */
#define GATE_MAX_LEADING 32
/* Longest method token accepted. */
#define GATE_MAX_METHOD 32

/* Checks the first n bytes of a connection (RFC 9112 3: method = token, then SP). On GATE_BAD,
 * why (cap bytes, may be NULL) says what was found, with unprintable bytes shown as \xNN.
 * Monotonic: once a prefix gets GATE_PASS or GATE_BAD, every longer input gets the same. */
gate_verdict gate_line(const uint8_t *p, size_t n, char *why, size_t cap);

/* Formats the whole 400 answer the gate sends (status line, headers with Connection: close,
 * a JSON body {"error": "bad request", "message": why}) into out; returns its length
 * (cut at cap). */
size_t gate_answer(const char *why, char *out, size_t cap);

/* Called on the gate's thread for each connection that passed, with the accepted socket
 * (ownership moves to the callee: it must close it), the peer's address, and when the
 * connection was accepted (CLOCK_MONOTONIC, ms) so the callee can keep the header deadline. */
typedef void (*gate_pass_fn)(void *cls, int fd, const struct sockaddr *addr, socklen_t alen,
                             double accepted_ms);

typedef struct gate gate;

/* Binds and listens on addr (SO_REUSEADDR; IPv6 sockets v6-only) and starts the thread.
 * Connections that have not shown a routable start within head_ms of their accept are
 * closed; at most max_pending wait at once (the oldest is closed to make room). LL_E_IO with
 * errno on bind/listen failure; LL_E_NOMEM. */
ll_code gate_start(const struct sockaddr *addr, socklen_t alen, unsigned head_ms,
                   size_t max_pending, gate_pass_fn pass, void *cls, gate **out, ll_err *err);
/* The bound port (useful with port 0). */
uint16_t gate_port(const gate *g);
/* Connections answered 400 so far. */
uint64_t gate_refused(const gate *g);
/* Stops accepting, closes the listening socket and every connection still waiting, joins the
 * thread and frees g. NULL is a no-op. */
void gate_stop(gate *g);

/* CLOCK_MONOTONIC in milliseconds. */
double gate_now_ms(void);
#endif
