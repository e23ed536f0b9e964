/* SPDX-License-Identifier: Apache-2.0 */
/* err.c - error codes, messages and their formatting. Owns ll_err; callers set the location. */
#include "err.h"
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- redaction ---- */

/* Whether the query parameter name[0..n) carries a credential. */
static int secret_param(const char *name, size_t n)
{
    static const char *exact[] = {
        "x-amz-credential", "awsaccesskeyid",    "sig",       "key", "apikey",
        "api_key",          "x-goog-credential", "credential"};
    static const char *part[] = {"token", "secret", "password", "passwd", "signature"};
    char low[64];
    if (n >= sizeof low)
        return 1; /* an odd, long name: not worth the risk */
    for (size_t i = 0; i < n; i++)
        low[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    low[n] = 0;
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
        if (!strcmp(low, exact[i]))
            return 1;
    for (size_t i = 0; i < sizeof part / sizeof *part; i++)
        if (strstr(low, part[i]))
            return 1;
    return 0;
}

/* The end of the URL token at p: the first byte that cannot be part of one in a message. */
static size_t url_len(const char *p)
{
    size_t k = 0;
    while (p[k] && p[k] != ' ' && p[k] != '\t' && p[k] != '\n' && p[k] != '\r' && p[k] != '"' &&
           p[k] != '\'' && p[k] != '<' && p[k] != '>' && p[k] != '`')
        k++;
    return k;
}

char *ll_redact(const char *text, char *out, size_t cap)
{
    if (!cap)
        return out;
    size_t o = 0;
#define PUTN(s_, n_)                                                                               \
    do {                                                                                           \
        size_t m_ = (n_);                                                                          \
        if (m_ > cap - 1 - o)                                                                      \
            m_ = cap - 1 - o;                                                                      \
        memcpy(out + o, (s_), m_);                                                                 \
        o += m_;                                                                                   \
    } while (0)
    const char *p = text ? text : "";
    while (*p && o < cap - 1) {
        const char *sep = strstr(p, "://");
        if (!sep) {
            PUTN(p, strlen(p));
            break;
        }
        /* the scheme: letters, digits, '+', '-', '.' before "://" */
        const char *s = sep;
        while (s > p &&
               ((s[-1] >= 'a' && s[-1] <= 'z') || (s[-1] >= 'A' && s[-1] <= 'Z') ||
                (s[-1] >= '0' && s[-1] <= '9') || s[-1] == '+' || s[-1] == '-' || s[-1] == '.'))
            s--;
        PUTN(p, (size_t)(sep + 3 - p));
        const char *u = sep + 3, *end = u + url_len(u);
        /* authority: a userinfo before the last '@' goes */
        const char *ae = u;
        while (ae < end && *ae != '/' && *ae != '?' && *ae != '#')
            ae++;
        const char *at = NULL;
        for (const char *q = u; q < ae; q++)
            if (*q == '@')
                at = q;
        if (at && s < sep) {
            PUTN("***@", 4);
            u = at + 1;
        }
        const char *qm = memchr(u, '?', (size_t)(end - u));
        if (!qm) {
            PUTN(u, (size_t)(end - u));
            p = end;
            continue;
        }
        PUTN(u, (size_t)(qm + 1 - u));
        const char *q = qm + 1;
        while (q < end) {
            const char *amp = memchr(q, '&', (size_t)(end - q));
            const char *pe = amp ? amp : end;
            const char *eq = memchr(q, '=', (size_t)(pe - q));
            if (eq && secret_param(q, (size_t)(eq - q))) {
                PUTN(q, (size_t)(eq + 1 - q));
                PUTN("REDACTED", 8);
            } else {
                PUTN(q, (size_t)(pe - q));
            }
            if (amp)
                PUTN("&", 1);
            q = amp ? amp + 1 : end;
        }
        p = end;
    }
#undef PUTN
    out[o] = 0;
    return out;
}

const char *ll_strerror(ll_code code)
{
    switch (code) {
    case LL_OK:
        return "no error";
    case LL_E_NOMEM:
        return "out of memory";
    case LL_E_IO:
        return "input/output error";
    case LL_E_PARSE:
        return "malformed input";
    case LL_E_TOOBIG:
        return "size limit exceeded";
    case LL_E_ARG:
        return "invalid argument";
    case LL_E_REMOTE:
        return "remote service error";
    case LL_E_STATE:
        return "invalid state";
    }
    return "unknown error";
}

void ll_err_clear(ll_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

ll_code err_set(ll_err *err, ll_code code, const char *fmt, ...)
{
    if (!err)
        return code;
    memset(err, 0, sizeof *err);
    err->code = code;
    char raw[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    ll_redact(raw, err->msg, sizeof err->msg);
    return code;
}

ll_code err_sys(ll_err *err, const char *src, const char *fmt, ...)
{
    int e = errno;
    if (!err)
        return LL_E_IO;
    memset(err, 0, sizeof *err);
    err->code = e == ENOMEM ? LL_E_NOMEM : LL_E_IO;
    err->sys_errno = e;
    char raw[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof raw)
        snprintf(raw + n, sizeof raw - (size_t)n, ": %s", strerror(e));
    ll_redact(raw, err->msg, sizeof err->msg);
    if (src)
        ll_redact(src, err->src, sizeof err->src);
    return err->code;
}

ll_code err_src(ll_err *err, const char *src)
{
    if (!err)
        return LL_OK;
    if (src && !err->src[0])
        ll_redact(src, err->src, sizeof err->src);
    return err->code;
}

ll_code err_at(ll_err *err, const char *src, uint64_t offset)
{
    if (!err)
        return LL_OK;
    err_src(err, src);
    err->offset = offset;
    err->has |= LL_ERR_OFFSET;
    return err->code;
}

ll_code err_line(ll_err *err, const char *src, uint64_t offset, uint64_t line, uint64_t column)
{
    if (!err)
        return LL_OK;
    err_at(err, src, offset);
    err->line = line;
    err->has |= LL_ERR_LINE;
    if (column) {
        err->column = column;
        err->has |= LL_ERR_COLUMN;
    }
    return err->code;
}

ll_code err_rec(ll_err *err, const char *src, uint64_t offset, uint64_t record)
{
    if (!err)
        return LL_OK;
    err_at(err, src, offset);
    err->record = record;
    err->has |= LL_ERR_RECORD;
    return err->code;
}

char *ll_err_format(const ll_err *err, char *buf, size_t cap)
{
    if (!cap)
        return buf;
    buf[0] = 0;
    if (!err)
        return buf;
    size_t n = 0;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        if (n < cap) {                                                                             \
            int k_ = snprintf(buf + n, cap - n, __VA_ARGS__);                                      \
            if (k_ > 0)                                                                            \
                n += (size_t)k_;                                                                   \
        }                                                                                          \
    } while (0)
    if (err->src[0]) {
        PUT("%s", err->src);
        if (err->has & LL_ERR_LINE)
            PUT(":%" PRIu64, err->line);
        if (err->has & LL_ERR_COLUMN)
            PUT(":%" PRIu64, err->column);
        if (err->has & (LL_ERR_OFFSET | LL_ERR_RECORD)) {
            PUT(" (");
            if (err->has & LL_ERR_OFFSET)
                PUT("byte %" PRIu64, err->offset);
            if (err->has & LL_ERR_RECORD)
                PUT("%srecord %" PRIu64, (err->has & LL_ERR_OFFSET) ? ", " : "", err->record);
            PUT(")");
        }
        PUT(": ");
    }
    PUT("%s", err->msg[0] ? err->msg : ll_strerror(err->code));
#undef PUT
    return buf;
}
