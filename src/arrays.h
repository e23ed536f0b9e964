/* SPDX-License-Identifier: Apache-2.0 */
/* arrays.h - TEMPORARY home of the public declarations of arrays.c until they move into
 * include/linlearn.h (section "arrays in memory"). */
#ifndef LL_ARRAYS_H
#define LL_ARRAYS_H
#include "linlearn.h"
#include <stddef.h>

typedef enum { LL_ELEM_F32 = 1, LL_ELEM_F64 = 2, LL_ELEM_I32 = 3, LL_ELEM_I64 = 4 } ll_elem;

typedef struct ll_matrix {
    const void *data;
    ll_elem elem;
    size_t n_rows, n_cols;
    ptrdiff_t row_stride, col_stride;
} ll_matrix;

typedef struct ll_csr {
    size_t n_rows;
    uint64_t n_cols;
    const void *data;
    ll_elem elem;
    const void *indices;
    ll_elem index_elem;
    const void *indptr;
    ll_elem indptr_elem;
} ll_csr;

typedef struct ll_buf {
    uint8_t *data;
    size_t len, cap;
} ll_buf;

void ll_buf_free(ll_buf *b);
ll_code ll_encode_dense(const ll_matrix *x, const ll_matrix *labels, size_t r0, size_t r1,
                        ll_buf *out, ll_err *err);
ll_code ll_encode_csr(const ll_csr *x, const ll_matrix *labels, size_t r0, size_t r1, ll_buf *out,
                      ll_err *err);

typedef ll_code (*ll_read_fn)(void *ud, void *buf, size_t cap, size_t *n, int *eof, ll_err *err);
ll_reader *ll_reader_fn(ll_read_fn fn, void *ud, const char *name);

typedef struct ll_rio ll_rio;
ll_code ll_rio_open(ll_reader *rd, ll_split_mode split, size_t max_len, ll_rio **out, ll_err *err);
ll_code ll_rio_next(ll_rio *r, const uint8_t **payload, size_t *len, int *eof, ll_err *err);
uint64_t ll_rio_offset(const ll_rio *r);
void ll_rio_free(ll_rio *r);

typedef struct ll_record ll_record;
typedef struct ll_tensor_info {
    const char *name;
    size_t name_len;
    int dtype;
    int present;
    size_t n_values, n_keys, n_shape;
} ll_tensor_info;
ll_record *ll_record_new(void);
void ll_record_free(ll_record *r);
ll_code ll_record_decode(ll_record *r, const void *payload, size_t len, ll_err *err);
size_t ll_record_n_entries(const ll_record *r, int which);
void ll_record_entry(const ll_record *r, int which, size_t i, ll_tensor_info *ti);
void ll_record_values(const ll_record *r, int which, size_t i, void *dst);
void ll_record_keys(const ll_record *r, int which, size_t i, int shape, uint64_t *dst);
int ll_record_bytes(const ll_record *r, int which, size_t i, size_t k, const uint8_t **p,
                    size_t *len);
int ll_record_string(const ll_record *r, int field, const uint8_t **p, size_t *len);
#endif
