/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_http_head.c - fuzz target for the server's own checks of a request head (serve.h:
 * serve_head_add, serve_head_verdict), which run before libmicrohttpd hands over a body. The
 * input is a raw head: a request line, then "Name: value" lines. The verdict is compared with a
 * reference written from RFC 9112 6.1-6.3 here: differing Content-Length values or
 * Content-Length with Transfer-Encoding 400, a Transfer-Encoding other than one "chunked" 501.
 * The same bytes go through the gate's check of a connection's first bytes (gate.h: gate_line,
 * gate_answer), compared with a reference written here from RFC 9112 2.2 and 3 (empty lines,
 * then a method token and a space), on the input and on every prefix of it: a prefix is
 * undecided or has the whole input's verdict, and enough bytes always decide.
 */
#include "gate.h"
#include "serve.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HDR 64

/* RFC 9110 5.6.2 tchar, spelt out differently from gate.c */
static int ref_tchar(uint8_t c)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (c >= 0x80 || c <= 0x20)
        return 0;
    for (const char *e = extra; *e; e++)
        if ((uint8_t)*e == c)
            return 1;
    return (c | 0x20) >= 'a' ? (c | 0x20) <= 'z' : c >= '0' && c <= '9';
}

static gate_verdict ref_line(const uint8_t *d, size_t n)
{
    size_t lead = 0;
    while (lead < n && (d[lead] == '\r' || d[lead] == '\n'))
        lead++;
    if (lead > GATE_MAX_LEADING)
        return GATE_BAD;
    size_t end = lead;
    while (end < n && ref_tchar(d[end]))
        end++;
    if (end - lead > GATE_MAX_METHOD)
        return GATE_BAD;
    if (end == n)
        return GATE_MORE;
    return end > lead && d[end] == ' ' ? GATE_PASS : GATE_BAD;
}

static void check_gate(const uint8_t *data, size_t size)
{
    char why[256];
    why[0] = 0;
    gate_verdict v = gate_line(data, size, why, sizeof why);
    gate_verdict want = ref_line(data, size);
    if (v != want || (v == GATE_BAD && !why[0]) || (v == GATE_MORE && size >= GATE_PEEK_MAX)) {
        fprintf(stderr, "fuzz_http_head: gate verdict %d, want %d (%s)\n", v, want, why);
        abort();
    }
    for (size_t k = 0; k < size && k <= GATE_PEEK_MAX; k++) {
        gate_verdict pv = gate_line(data, k, NULL, 0);
        if (pv != GATE_MORE && pv != v) {
            fprintf(stderr, "fuzz_http_head: prefix %zu gives %d, the input %d\n", k, pv, v);
            abort();
        }
    }
    if (v == GATE_BAD) {
        char out[1024];
        size_t n = gate_answer(why, out, sizeof out);
        const char *body = strstr(out, "\r\n\r\n");
        const char *cl = strstr(out, "Content-Length: ");
        if (n != strlen(out) || !body || !cl || (size_t)atol(cl + 16) != strlen(body + 4)) {
            fprintf(stderr, "fuzz_http_head: a malformed 400: %s\n", out);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    check_gate(data, size);
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = 0;
    char *names[MAX_HDR], *values[MAX_HDR];
    size_t n = 0;
    char *line = buf, *end = buf + strlen(buf); /* a NUL ends the head, as a C parser sees it */
    int first = 1;
    while (line < end && n < MAX_HDR) {
        char *eol = strchr(line, '\n');
        char *next = eol ? eol + 1 : end;
        if (eol) {
            *eol = 0;
            if (eol > line && eol[-1] == '\r')
                eol[-1] = 0;
        }
        if (first) { /* the request line */
            first = 0;
        } else if (!*line) {
            break; /* the end of the head */
        } else {
            char *colon = strchr(line, ':');
            if (colon && colon > line) {
                *colon = 0;
                char *v = colon + 1;
                while (*v == ' ' || *v == '\t')
                    v++;
                size_t vl = strlen(v);
                while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                    v[--vl] = 0;
                names[n] = line;
                values[n] = v;
                n++;
            }
        }
        line = next;
    }
    serve_head h;
    memset(&h, 0, sizeof h);
    for (size_t i = 0; i < n; i++)
        serve_head_add(&h, names[i], values[i]);
    char msg[200];
    msg[0] = 0;
    unsigned got = serve_head_verdict(&h, msg, sizeof msg);

    /* the reference */
    const char *cl = NULL, *te = NULL;
    int n_cl = 0, n_te = 0, differ = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcasecmp(names[i], "Content-Length")) {
            if (n_cl++ == 0)
                cl = values[i];
            else if (strcmp(cl, values[i]) != 0)
                differ = 1;
        } else if (!strcasecmp(names[i], "Transfer-Encoding")) {
            if (n_te++ == 0)
                te = values[i];
        }
    }
    unsigned want = 0;
    if (differ)
        want = 400;
    else if (n_te && (n_te > 1 || strcasecmp(te, "chunked") != 0))
        want = 501;
    else if (n_te && n_cl)
        want = 400;
    if (got != want || (got && !msg[0])) {
        fprintf(stderr, "fuzz_http_head: verdict %u, want %u (%s)\n", got, want, msg);
        abort();
    }
    free(buf);
    return 0;
}
