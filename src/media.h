/* SPDX-License-Identifier: Apache-2.0 */
/*
 * media.h - the one table of media types (Content-Type / Accept values, SageMaker ContentType)
 * and the formats they name. Parsing (ll_format_from_name), serving, responses, batch
 * transform and the container configuration all look types up here, so they accept the
 * same names:
 *
 *   text/csv, text/x-csv, application/csv                               CSV
 *   text/libsvm, text/x-libsvm                                          LIBSVM (training only)
 *   application/json                                                    JSON ({"instances": ...})
 *   application/jsonlines, application/x-jsonlines,
 *   application/json-lines, application/jsonl                           JSON Lines
 *   application/x-recordio-protobuf                                     RecordIO-protobuf
 */
#ifndef LL_MEDIA_H
#define LL_MEDIA_H
#include "linlearn.h"

typedef enum {
    MEDIA_NONE = 0,
    MEDIA_CSV,
    MEDIA_LIBSVM,
    MEDIA_JSON,
    MEDIA_JSONL,
    MEDIA_RECORDIO,
} media_type;

/* Trims s[0..n) to the type proper: blanks around it and parameters after ';' dropped; returns
 * the new length and moves *s past leading blanks. */
size_t media_trim(const char **s, size_t n);
/* Looks up s[0..n) (n = (size_t)-1: up to the NUL): blanks around it and parameters after ';'
 * are ignored, case is not significant. MEDIA_NONE when it is not in the table. */
media_type media_lookup(const char *s, size_t n);
/* The canonical name of t ("text/csv", ...); NULL for MEDIA_NONE. */
const char *media_name(media_type t);
/* The parse format of t; LL_FMT_AUTO for JSON (a whole document, not a stream format) and
 * MEDIA_NONE. */
ll_format media_format(media_type t);
#endif
