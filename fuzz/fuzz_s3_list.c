/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_s3_list.c - fuzz target for S3's XML: ListObjectsV2 pages and error documents. */
#include "mem.h"
#include "s3.h"
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s3_obj *o = NULL;
    size_t n = 0, cap = 0;
    int trunc = 0;
    char *tok = NULL;
    ll_err err;
    if (s3_list_parse((const char *)data, size, &o, &n, &cap, &trunc, &tok, &err) == LL_OK) {
        for (size_t i = 0; i < n; i++)
            if (!o[i].key || (trunc && !tok))
                __builtin_trap();
    }
    mem_free(tok);
    s3_objs_free(o, n);
    char code[64], msg[128];
    s3_error_parse((const char *)data, size, code, sizeof code, msg, sizeof msg);
    if (strlen(code) >= sizeof code || strlen(msg) >= sizeof msg)
        __builtin_trap();
    return 0;
}
