/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_http_head.c - fuzz target for the server's own checks of a request head (serve.h:
 * serve_head_add, serve_head_verdict), which run before libmicrohttpd hands over a body. The
 * input is a raw head: a request line, then "Name: value" lines. The verdict is compared with a
 * reference written from RFC 9112 6.1-6.3 here: differing Content-Length values or
 * Content-Length with Transfer-Encoding 400, a Transfer-Encoding other than one "chunked" 501.
 */
#include "serve.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HDR 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
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
