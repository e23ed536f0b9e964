/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gz.h - a reader that inflates gzip data from another reader (SageMaker CompressionType Gzip).
 * Concatenated gzip members (one per S3 object) inflate as one stream. Error offsets count
 * compressed bytes of the inner reader.
 */
#ifndef LL_GZ_H
#define LL_GZ_H
#include "linlearn.h"

/* Wraps inner (takes ownership, also on failure). The result has no rewind. */
ll_code gz_wrap(ll_reader *inner, ll_reader **out, ll_err *err);
#endif
