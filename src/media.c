/* SPDX-License-Identifier: Apache-2.0 */
/* media.c - the media-type table of media.h. */
#include "media.h"
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    media_type t;
} TABLE[] = {
    /* the first entry of each type is its canonical name */
    {"text/csv", MEDIA_CSV},
    {"text/x-csv", MEDIA_CSV},
    {"application/csv", MEDIA_CSV},
    {"text/libsvm", MEDIA_LIBSVM},
    {"text/x-libsvm", MEDIA_LIBSVM},
    {"application/json", MEDIA_JSON},
    {"application/jsonlines", MEDIA_JSONL},
    {"application/x-jsonlines", MEDIA_JSONL},
    {"application/json-lines", MEDIA_JSONL},
    {"application/jsonl", MEDIA_JSONL},
    {"application/x-recordio-protobuf", MEDIA_RECORDIO},
};

size_t media_trim(const char **s, size_t n)
{
    const char *p = *s;
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    size_t k = 0;
    while (k < n && p[k] != ';')
        k++;
    while (k && (p[k - 1] == ' ' || p[k - 1] == '\t'))
        k--;
    *s = p;
    return k;
}

media_type media_lookup(const char *s, size_t n)
{
    if (!s)
        return MEDIA_NONE;
    size_t k = media_trim(&s, n == (size_t)-1 ? strlen(s) : n);
    for (size_t i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++)
        if (strlen(TABLE[i].name) == k && strncasecmp(s, TABLE[i].name, k) == 0)
            return TABLE[i].t;
    return MEDIA_NONE;
}

const char *media_name(media_type t)
{
    for (size_t i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++)
        if (TABLE[i].t == t)
            return TABLE[i].name;
    return NULL;
}

ll_format media_format(media_type t)
{
    switch (t) {
    case MEDIA_CSV:
        return LL_FMT_CSV;
    case MEDIA_LIBSVM:
        return LL_FMT_LIBSVM;
    case MEDIA_JSONL:
        return LL_FMT_JSONL;
    case MEDIA_RECORDIO:
        return LL_FMT_RECORDIO;
    case MEDIA_JSON:
    case MEDIA_NONE:
        break;
    }
    return LL_FMT_AUTO;
}
