/* SPDX-License-Identifier: Apache-2.0 */
/* err.c - error codes, messages and their formatting. Owns ll_err; callers set the location. */
#include "err.h"
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
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
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof err->msg)
        snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(e));
    if (src)
        snprintf(err->src, sizeof err->src, "%s", src);
    return err->code;
}

ll_code err_src(ll_err *err, const char *src)
{
    if (!err)
        return LL_OK;
    if (src && !err->src[0])
        snprintf(err->src, sizeof err->src, "%s", src);
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
