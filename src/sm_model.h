/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sm_model.h - SageMaker Linear Learner's model artifact (docs/MODEL.md): model.tar.gz holds one
 * member model_algo-1, a zip of stored members manifest.json, additional-params.json,
 * mx-mod-symbol.json and mx-mod-0000.params. The last is an MXNet NDArray list:
 *
 *   offset  size    field (all little-endian)
 *   0       8       u64 list magic 0x112
 *   8       8       u64 reserved, 0
 *   16      8       u64 N, the number of arrays
 *   then N arrays, each:
 *   +0      4       u32 NDArray magic 0xF993FAC9 (v2; 0xF993FACA, v3, is read the same)
 *   +4      4       i32 storage type, 0 = dense (the only one accepted)
 *   +8      4       u32 ndim (2 is the only one accepted)
 *   +12     8*ndim  i64 dims
 *   +..     8       i32 device type (1 = cpu), i32 device id
 *   +..     4       i32 dtype, 0 = float32 (the only one accepted)
 *   +..     4*prod  float32 values, row-major
 *   then    8       u64 N again, and N names, each u64 length + bytes ("arg:fc0_weight",
 *                   "arg:fc0_bias", in either order)
 *
 * fc0_weight is D x C (feature-major, as ll_model's weights), fc0_bias 1 x C; scoring is
 * z = x.W + b on raw features, then the output node of mx-mod-symbol.json.
 */
#ifndef LL_SM_MODEL_H
#define LL_SM_MODEL_H
#include "arch.h"
#include "linlearn.h"

/* Whether an archive's members are SageMaker's model_algo-1 zip (it has mx-mod-0000.params). */
int sm_model_is(const arch_list *zip);
/* Builds a model from the members of model_algo-1; src names the zip in errors (member names
 * are appended). Returns LL_E_PARSE with the member and byte offset on anything unexpected. */
ll_code sm_model_parse(const char *src, const arch_list *zip, ll_model **out, ll_err *err);
/* The bytes of model_algo-1 for m (mem_free *out); mtime dates the zip members. */
ll_code sm_model_zip(const ll_model *m, int64_t mtime, unsigned char **out, size_t *len,
                     ll_err *err);
/* Writes SageMaker's model.tar.gz for m to w (not committed): model_algo-1, then the extra
 * members (linlearn's own files, or none). */
ll_code sm_model_write(const ll_model *m, ll_writer *w, const arch_member *extra, size_t n_extra,
                       ll_err *err);
/* Python 3's repr of a double (shortest text that reads back the same), as json.dumps writes
 * it; out needs 32 bytes. Returns the length. */
int sm_py_repr(double v, char *out);
#endif
