/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gate.c - the accept-and-peek step in front of libmicrohttpd (gate.h). libmicrohttpd 0.9.75
 * closes a connection whose request line has no space (a bare "GET", "GARBAGE", binary bytes)
 * without a word, so this thread accepts first, peeks (MSG_PEEK: nothing is consumed) until
 * the line shows a method and a space, and only then hands the socket over. A line that
 * cannot be one is answered 400 here, the socket half-closed and drained for a moment so the
 * client reads the answer instead of a reset. Knows nothing of HTTP beyond the line's start.
 */
#include "gate.h"
#include "err.h"
#include "mem.h"
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long a refused connection is drained after its 400, and how much of it at most. */
#define LINGER_MS 1000.0
#define LINGER_BYTES ((size_t)256 << 10)
/* A connection whose bytes did not grow though poll said so is looked at again after this. */
#define RECHECK_MS 20.0

double gate_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* c as 'c' when printable, else \xNN. */
static void show_byte(uint8_t c, char *out, size_t cap)
{
    if (c > 0x20 && c < 0x7f && c != '\'' && c != '\\')
        snprintf(out, cap, "'%c'", c);
    else
        snprintf(out, cap, "\\x%02x", c);
}

gate_verdict gate_line(const uint8_t *p, size_t n, char *why, size_t cap)
{
    char tmp[2];
    if (!why) {
        why = tmp;
        cap = sizeof tmp;
    }
    size_t i = 0;
    while (i < n && i <= GATE_MAX_LEADING && (p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i > GATE_MAX_LEADING) {
        snprintf(why, cap, "more than %d bytes of empty lines before the request line",
                 GATE_MAX_LEADING);
        return GATE_BAD;
    }
    if (i == n)
        return GATE_MORE;
    size_t m0 = i;
    while (i < n && i - m0 <= GATE_MAX_METHOD && is_tchar(p[i]))
        i++;
    size_t len = i - m0;
    if (len > GATE_MAX_METHOD) {
        snprintf(why, cap, "the request line starts with a method longer than %d bytes",
                 GATE_MAX_METHOD);
        return GATE_BAD;
    }
    if (i == n)
        return GATE_MORE;
    char b[8];
    show_byte(p[i], b, sizeof b);
    if (len == 0) {
        snprintf(why, cap,
                 "the request does not start with a method: byte %zu is %s (expected a request "
                 "line such as 'GET /ping HTTP/1.1')",
                 i, b);
        return GATE_BAD;
    }
    if (p[i] == ' ')
        return GATE_PASS;
    if (p[i] == '\r' || p[i] == '\n')
        snprintf(why, cap,
                 "the request line '%.*s' has no request target and HTTP version (expected "
                 "'%.*s /path HTTP/1.1')",
                 (int)len, (const char *)p + m0, (int)len, (const char *)p + m0);
    else
        snprintf(why, cap, "the method '%.*s' is followed by %s at byte %zu, not a space", (int)len,
                 (const char *)p + m0, b, i);
    return GATE_BAD;
}

size_t gate_answer(const char *why, char *out, size_t cap)
{
    char body[512], *o = body, *end = body + sizeof body - 8;
    o += snprintf(o, (size_t)(end - o), "{\"error\": \"bad request\", \"message\": \"");
    for (const char *s = why; *s && o + 8 < end; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            o += snprintf(o, (size_t)(end - o), "\\u%04x", c);
        } else {
            *o++ = (char)c;
        }
    }
    o += snprintf(o, (size_t)(end - o) + 8, "\"}\n");
    int k = snprintf(out, cap,
                     "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     (size_t)(o - body), body);
    if (k < 0)
        return 0;
    return (size_t)k < cap ? (size_t)k : cap ? cap - 1 : 0;
}

enum { P_PEEK = 0, P_LINGER };

typedef struct pending {
    int fd;
    int state;
    double accepted_ms, deadline_ms, recheck_ms;
    size_t seen; /* bytes peeked so far (P_PEEK), drained (P_LINGER) */
    struct sockaddr_storage addr;
    socklen_t alen;
} pending;

struct gate {
    int lfd, wake[2];
    unsigned head_ms;
    size_t max_pending;
    gate_pass_fn pass;
    void *cls;
    pending *p;
    size_t n;
    struct pollfd *pfd;
    pthread_t th;
    int th_on;
    double accept_after_ms; /* out of descriptors: the listening socket rests until then */
    uint16_t port;
    uint64_t refused; /* atomic */
};

static void drop(gate *g, size_t i)
{
    close(g->p[i].fd);
    g->p[i] = g->p[--g->n];
}

/* Wakes poll only once more than `have` bytes are waiting (SO_RCVLOWAT), so a client that
 * trickles its line does not spin the thread. */
static void want_more(pending *q, size_t have)
{
    int lowat = (int)have + 1;
    setsockopt(q->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat);
}

/* Sends the 400 (the socket's buffer holds it whole), half-closes and starts draining. */
static void refuse(gate *g, pending *q, const char *why)
{
    char buf[1024];
    size_t len = gate_answer(why, buf, sizeof buf);
    ssize_t k = send(q->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)k;
    shutdown(q->fd, SHUT_WR);
    int one = 1;
    setsockopt(q->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
    q->state = P_LINGER;
    q->seen = 0;
    q->deadline_ms = gate_now_ms() + LINGER_MS;
    __atomic_fetch_add(&g->refused, 1, __ATOMIC_RELAXED);
}

/* Looks at pending i; returns 1 when it left the list (closed or passed on). */
static int look(gate *g, size_t i, double now)
{
    pending *q = &g->p[i];
    uint8_t buf[GATE_PEEK_MAX];
    if (q->state == P_LINGER) {
        uint8_t sink[16384];
        ssize_t k = recv(q->fd, sink, sizeof sink, MSG_DONTWAIT);
        if (k > 0)
            q->seen += (size_t)k;
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR) || q->seen > LINGER_BYTES) {
            drop(g, i);
            return 1;
        }
        return 0;
    }
    ssize_t k = recv(q->fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    if (k < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (k <= 0) { /* the client went away (or the socket failed) before a whole start */
        drop(g, i);
        return 1;
    }
    char why[256];
    gate_verdict v = gate_line(buf, (size_t)k, why, sizeof why);
    if (v == GATE_PASS) {
        int one = 1;
        setsockopt(q->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
        pending t = *q;
        g->p[i] = g->p[--g->n];
        g->pass(g->cls, t.fd, (const struct sockaddr *)&t.addr, t.alen, t.accepted_ms);
        return 1;
    }
    if (v == GATE_BAD) {
        refuse(g, q, why);
        return 0;
    }
    if ((size_t)k <= q->seen) /* poll said readable, yet nothing new: look again later */
        q->recheck_ms = now + RECHECK_MS;
    q->seen = (size_t)k;
    want_more(q, q->seen);
    return 0;
}

static void accept_some(gate *g, double now)
{
    for (int round = 0; round < 64; round++) {
        struct sockaddr_storage a;
        socklen_t al = sizeof a;
        int fd = accept4(g->lfd, (struct sockaddr *)&a, &al, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            /* out of descriptors: the connection waits in the backlog, and the listening
             * socket (still readable) is left alone for a moment rather than spun on */
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                g->accept_after_ms = now + 100;
            return; /* EAGAIN, or a transient error (ECONNABORTED): next round */
        }
        if (g->n == g->max_pending) {
            /* full: the connection waiting longest (likely a slow client) makes room */
            size_t old = 0;
            for (size_t j = 1; j < g->n; j++)
                if (g->p[j].accepted_ms < g->p[old].accepted_ms)
                    old = j;
            drop(g, old);
        }
        pending *q = &g->p[g->n++];
        memset(q, 0, sizeof *q);
        q->fd = fd;
        q->state = P_PEEK;
        q->accepted_ms = now;
        q->deadline_ms = now + g->head_ms;
        memcpy(&q->addr, &a, al <= sizeof a ? al : sizeof a);
        q->alen = al;
    }
}

static void *run(void *arg)
{
    gate *g = arg;
    for (;;) {
        double now = gate_now_ms();
        /* deadlines: late heads and finished lingers are closed */
        for (size_t i = 0; i < g->n;)
            if (now >= g->p[i].deadline_ms)
                drop(g, i);
            else
                i++;
        double next = -1;
        size_t np = 0;
        g->pfd[np++] = (struct pollfd){.fd = g->wake[0], .events = POLLIN};
        short lev = POLLIN;
        if (g->accept_after_ms > now) {
            lev = 0;
            next = g->accept_after_ms;
        }
        g->pfd[np++] = (struct pollfd){.fd = g->lfd, .events = lev};
        for (size_t i = 0; i < g->n; i++) {
            pending *q = &g->p[i];
            double due = q->deadline_ms;
            int ev = POLLIN;
            if (q->recheck_ms > now) {
                ev = 0; /* not polled until the recheck */
                due = q->recheck_ms;
            }
            if (next < 0 || due < next)
                next = due;
            g->pfd[np++] = (struct pollfd){.fd = q->fd, .events = (short)ev};
        }
        int timeout = next < 0 ? -1 : (int)(next - now) + 1;
        int r = poll(g->pfd, np, timeout);
        if (r < 0 && errno != EINTR) {
            struct timespec ts = {0, 10 * 1000 * 1000}; /* never spin on a failing poll */
            nanosleep(&ts, NULL);
            continue;
        }
        if (g->pfd[0].revents)
            return NULL;
        now = gate_now_ms();
        /* the pending connections first (the list's order changes as they leave), by fd */
        size_t n0 = g->n;
        for (size_t k = 2; k < 2 + n0; k++) {
            int fd = g->pfd[k].fd;
            int due = g->pfd[k].events == 0;
            if (!g->pfd[k].revents && !due)
                continue;
            for (size_t i = 0; i < g->n; i++)
                if (g->p[i].fd == fd) {
                    if (due && g->p[i].recheck_ms > now)
                        break;
                    g->p[i].recheck_ms = 0;
                    look(g, i, now);
                    break;
                }
        }
        if (g->pfd[1].revents)
            accept_some(g, now);
    }
}

ll_code gate_start(const struct sockaddr *addr, socklen_t alen, unsigned head_ms,
                   size_t max_pending, gate_pass_fn pass, void *cls, gate **out, ll_err *err)
{
    *out = NULL;
    gate *g = mem_calloc(1, sizeof *g);
    if (!g)
        return err_set(err, LL_E_NOMEM, "out of memory");
    g->lfd = g->wake[0] = g->wake[1] = -1;
    g->head_ms = head_ms;
    g->max_pending = max_pending ? max_pending : 1;
    g->pass = pass;
    g->cls = cls;
    g->p = mem_calloc(g->max_pending, sizeof *g->p);
    g->pfd = mem_calloc(g->max_pending + 2, sizeof *g->pfd);
    if (!g->p || !g->pfd) {
        gate_stop(g);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    if (pipe2(g->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        ll_code rc = err_sys(err, NULL, "cannot make the server's wake-up pipe");
        gate_stop(g);
        return rc;
    }
    g->lfd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (g->lfd < 0 || setsockopt(g->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (addr->sa_family == AF_INET6 &&
         setsockopt(g->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
        bind(g->lfd, addr, alen) != 0 || listen(g->lfd, 1024) != 0) {
        int e = errno;
        gate_stop(g);
        errno = e;
        return LL_E_IO; /* the caller names the address */
    }
    struct sockaddr_storage b;
    socklen_t bl = sizeof b;
    if (getsockname(g->lfd, (struct sockaddr *)&b, &bl) == 0)
        g->port = ntohs(b.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&b)->sin6_port
                                                : ((struct sockaddr_in *)&b)->sin_port);
    if (pthread_create(&g->th, NULL, run, g) != 0) {
        gate_stop(g);
        return err_set(err, LL_E_NOMEM, "cannot start the server's accept thread");
    }
    g->th_on = 1;
    *out = g;
    return LL_OK;
}

uint16_t gate_port(const gate *g)
{
    return g->port;
}

uint64_t gate_refused(const gate *g)
{
    return __atomic_load_n(&g->refused, __ATOMIC_RELAXED);
}

void gate_stop(gate *g)
{
    if (!g)
        return;
    if (g->th_on) {
        char c = 1;
        ssize_t k = write(g->wake[1], &c, 1);
        (void)k;
        pthread_join(g->th, NULL);
    }
    for (size_t i = 0; i < g->n; i++)
        close(g->p[i].fd);
    if (g->lfd >= 0)
        close(g->lfd);
    if (g->wake[0] >= 0)
        close(g->wake[0]);
    if (g->wake[1] >= 0)
        close(g->wake[1]);
    mem_free(g->p);
    mem_free(g->pfd);
    mem_free(g);
}
