/* SPDX-License-Identifier: Apache-2.0 */
/* source.c - the reader factory: a source name becomes a reader. Plain files, FIFOs and stdin
 * open directly (rd_file.c); folders, globs, http(s), S3 and manifests go through rd_multi.c,
 * remote ones behind a prefetch thread (prefetch.c); gzip is inflated by rd_gz.c. The backends
 * depend on rd.h only, and this file on them: no circle. */
#include "err.h"
#include "rd.h"
#include "rd_net.h"
#include "s3.h"
#include <string.h>
#include <sys/stat.h>

ll_code ll_reader_open(const char *src, ll_reader **out, ll_err *err)
{
    *out = NULL;
    if (!src || !*src)
        return err_set(err, LL_E_ARG, "empty source name");
    return ll_reader_open_ex(src, NULL, out, err);
}

/* Dispatch: stdin and plain files/FIFOs directly; folders, globs, URLs, S3 and manifests go
 * through rd_multi (rd_multi.c), remote ones behind a prefetch thread (prefetch.c). */
ll_code ll_reader_open_ex(const char *src, const ll_source_opts *o, ll_reader **out, ll_err *err)
{
    *out = NULL;
    if (!src || !*src)
        return err_set(err, LL_E_ARG, "empty source name");
    if (!o)
        o = s3_defaults();
    ll_reader *m;
    ll_code rc;
    if (strcmp(src, "-") == 0) {
        rc = rd_fd_open(0, 0, "stdin", &m, err);
    } else if (!rd_multi_wants(src, o)) {
        rc = rd_file_open(src, &m, err);
    } else {
        rc = rd_multi_open(src, o, &m, err);
        int remote = strstr(src, "://") != NULL || strncmp(src, "manifest:", 9) == 0 ||
                     (strlen(src) > 9 && strcmp(src + strlen(src) - 9, ".manifest") == 0);
        /* remote: the prefetch thread also inflates, off the parsing thread */
        if (rc == LL_OK && remote && o->prefetch_bytes > 0) {
            rc = rd_gz_wrap(m, o->compression, &m, err);
            if (rc == LL_OK)
                rc = prefetch_wrap(m, o->prefetch_bytes, out, err);
            return rc;
        }
    }
    if (rc != LL_OK)
        return rc;
    /* CompressionType: inflate gzip data (rd_gz.c), decided on the first bytes */
    return rd_gz_wrap(m, o->compression, out, err);
}

ll_code ll_source_size(const char *src, const ll_source_opts *o, uint64_t *total, ll_err *err)
{
    *total = UINT64_MAX;
    if (!src || !*src)
        return err_set(err, LL_E_ARG, "empty source name");
    if (!o)
        o = s3_defaults();
    if (strcmp(src, "-") == 0)
        return LL_OK;
    if (!rd_multi_wants(src, o)) {
        struct stat st;
        if (stat(src, &st) != 0)
            return err_sys(err, src, "cannot read");
        if (S_ISREG(st.st_mode))
            *total = (uint64_t)st.st_size;
        return LL_OK;
    }
    rd_list l;
    memset(&l, 0, sizeof l);
    ll_code rc = rd_list_build(src, o, &l, err);
    if (rc != LL_OK)
        return rc;
    uint64_t sum = 0;
    for (size_t i = 0; i < l.n && sum != UINT64_MAX; i++)
        sum = l.objs[i].size == UINT64_MAX ? UINT64_MAX : sum + l.objs[i].size;
    rd_list_deinit(&l);
    *total = sum;
    return LL_OK;
}
