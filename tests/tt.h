/* SPDX-License-Identifier: Apache-2.0 */
/* tt.h - the tiny test harness: named cases, CHECK macros that report file:line, and a closing
 * line "[name] N passed, N failed, N skipped" that scripts/run-tests adds up. */
#ifndef LL_TT_H
#define LL_TT_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tt_passed, tt_failed, tt_skipped, tt_cur_failed, tt_cur_skipped;
static const char *tt_name = "test";

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c);                \
            tt_cur_failed = 1;                                                                     \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECKF(c, ...)                                                                             \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #c);                \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            tt_cur_failed = 1;                                                                     \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* Checks an ll_code is LL_OK, printing the error otherwise (needs an ll_err named err). */
#define CHECK_OK(call)                                                                             \
    do {                                                                                           \
        ll_code rc_ = (call);                                                                      \
        if (rc_ != LL_OK) {                                                                        \
            char eb_[512];                                                                         \
            fprintf(stderr, "  %s:%d: %s -> %d: %s\n", __FILE__, __LINE__, #call, (int)rc_,        \
                    ll_err_format(&err, eb_, sizeof eb_));                                         \
            tt_cur_failed = 1;                                                                     \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        tt_cur_failed = 0;                                                                         \
        tt_cur_skipped = 0;                                                                        \
        fn();                                                                                      \
        if (tt_cur_skipped && !tt_cur_failed) {                                                    \
            tt_skipped++;                                                                          \
            fprintf(stderr, "SKIP %s: %s\n", tt_name, #fn);                                        \
        } else if (tt_cur_failed) {                                                                \
            tt_failed++;                                                                           \
            fprintf(stderr, "FAIL %s: %s\n", tt_name, #fn);                                        \
        } else {                                                                                   \
            tt_passed++;                                                                           \
            if (getenv("TT_VERBOSE"))                                                              \
                printf("ok   %s: %s\n", tt_name, #fn);                                             \
        }                                                                                          \
    } while (0)

#define TT_BEGIN(name) tt_name = (name)
#define TT_END()                                                                                   \
    do {                                                                                           \
        printf("[%s] %d passed, %d failed, %d skipped\n", tt_name, tt_passed, tt_failed,           \
               tt_skipped);                                                                        \
        return tt_failed ? 1 : 0;                                                                  \
    } while (0)

/* Where the test data lives: tests/data in the repository (LL_TESTDATA moves it). */
static inline const char *tt_testdata(void)
{
    const char *d = getenv("LL_TESTDATA");
    return d && *d ? d : "tests/data";
}

/* A folder of extra vectors beside the checkout (LL_EXTRA_TESTDATA, else ../shared/testdata
 * when it exists), or NULL: it may add cases, never be required. */
static inline const char *tt_extra_testdata(void)
{
    const char *d = getenv("LL_EXTRA_TESTDATA");
    if (d && *d)
        return d;
    FILE *f = fopen("../shared/testdata/recordio/README.md", "r");
    if (!f)
        return NULL;
    fclose(f);
    return "../shared/testdata";
}

/* Counts a case that could not run here (no server, no tool) as skipped, saying why. */
#define SKIP(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "  skipped: ");                                                            \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        tt_cur_skipped = 1;                                                                        \
        return;                                                                                    \
    } while (0)

/* Reads a whole file into a malloc'd buffer; NULL on failure. */
static inline unsigned char *tt_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *p = malloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            p = realloc(p, cap);
        }
        size_t k = fread(p + n, 1, cap - n, f);
        if (k == 0)
            break;
        n += k;
    }
    fclose(f);
    *len = n;
    return p;
}
#endif
