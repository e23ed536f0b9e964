/* SPDX-License-Identifier: Apache-2.0 */
/* err.h - setting ll_err where a failure is detected. */
#ifndef LL_ERR_H
#define LL_ERR_H
#include "linlearn.h"

/* Sets code and message (printf-style), clears the location; returns code. err may be NULL. */
ll_code err_set(ll_err *err, ll_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, copying errno into sys_errno and appending strerror. */
ll_code err_sys(ll_err *err, const char *src, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Location setters; each returns err->code (LL_OK when err is NULL). */
ll_code err_src(ll_err *err, const char *src);
ll_code err_at(ll_err *err, const char *src, uint64_t offset);
ll_code err_line(ll_err *err, const char *src, uint64_t offset, uint64_t line, uint64_t column);
ll_code err_rec(ll_err *err, const char *src, uint64_t offset, uint64_t record);
#endif
