/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pb.h - SageMaker's aialgs.data.Record protobuf message (proto2), decoded without copying and
 * encoded byte-for-byte as the SageMaker Python SDK does.
 *
 *   Record        1 features: map<string,Value>   2 label: map<string,Value>
 *                 3 uid  4 metadata  5 configuration (strings)
 *   MapEntry      1 key: string                    2 value: Value
 *   Value         oneof: 2 Float32Tensor  3 Float64Tensor  7 Int32Tensor  9 Bytes
 *   *Tensor       1 values (packed)  2 keys: uint64 (packed)  3 shape: uint64 (packed)
 *   Bytes         1 value: bytes (repeated)  2 content_type: string
 *
 * Decoding (pb_decode) records where each field's bytes lie in the payload: a tensor is a list
 * of segments (raw little-endian floats/doubles, or varints), because protobuf lets a repeated
 * field arrive in several packed or unpacked pieces. Merge rules follow protobuf: a repeated
 * map key replaces the earlier entry, a oneof takes the last member seen, a repeated message
 * field merges. Unknown fields of wire types 0, 1, 2 and 5 are skipped. The record keeps no
 * copy of the payload, so the payload must stay valid while the record is used.
 */
#ifndef LL_PB_H
#define LL_PB_H
#include "linlearn.h"

typedef enum { PB_NONE = 0, PB_F32 = 2, PB_F64 = 3, PB_I32 = 7, PB_BYTES = 9 } pb_dtype;

/* "float32", "float64", "int32", "bytes", "none". */
const char *pb_dtype_name(pb_dtype t);

typedef struct pb_seg {
    const uint8_t *p;
    uint32_t len;
    uint8_t field; /* tensor: 1 values, 2 keys, 3 shape; Bytes: 1 value, 2 content_type */
} pb_seg;

typedef struct pb_tensor {
    pb_dtype dtype;            /* PB_NONE: the Value has no member set */
    int present;               /* the member's message was present (possibly empty) */
    uint32_t seg_beg, seg_end; /* its segments in pb_record.segs */
    size_t n_values, n_keys, n_shape;
} pb_tensor;

typedef struct pb_entry {
    const uint8_t *name;
    uint32_t name_len;
    pb_tensor t;
} pb_entry;

typedef struct pb_str {
    const uint8_t *p;
    uint32_t len;
    int set;
} pb_str;

typedef struct pb_record {
    pb_entry *feat, *lab;
    size_t n_feat, n_lab, cap_feat, cap_lab;
    pb_seg *segs;
    size_t n_segs, cap_segs;
    pb_str uid, metadata, configuration;
} pb_record;

void pb_record_init(pb_record *r);
void pb_record_deinit(pb_record *r);

/* Decodes a Record. The record's arrays are reused from call to call. Errors are LL_E_PARSE
 * with the payload-relative offset in err->offset; callers add the stream location. */
ll_code pb_decode(const uint8_t *p, size_t len, pb_record *r, ll_err *err);

/* The entry named `name` ("values") in features (which = 0) or label (which = 1), or NULL. */
const pb_entry *pb_find(const pb_record *r, int which, const char *name);

/* Copies a tensor's values converted to float (a C cast for float64 and int32). dst holds
 * t->n_values floats. */
void pb_values_f32(const pb_record *r, const pb_tensor *t, float *dst);
/* Copies values as double (exact for all three numeric types). */
void pb_values_f64(const pb_record *r, const pb_tensor *t, double *dst);
/* Raw values: float32 bits, float64 bits or int32 (dst sized for the dtype). */
void pb_values_raw(const pb_record *r, const pb_tensor *t, void *dst);
/* Copies keys (field 2) or shape (field 3). */
void pb_u64s(const pb_record *r, const pb_tensor *t, int field, uint64_t *dst);
/* The i-th Bytes value (field 1) or the content_type (field 2, last one); NULL if absent. */
const pb_seg *pb_bytes_item(const pb_record *r, const pb_tensor *t, int field, size_t i);

/* Appends the row described by the record's features["values"] and label["values"] to b,
 * converting values to float32. Sparse rows need a shape; keys must be < the shape's product
 * and < 2^32. Errors are LL_E_PARSE with a message; the caller adds the location. */
ll_code pb_row_to_batch(const pb_record *r, ll_batch *b, ll_err *err);

/* ---- encoding ---- */

typedef struct pb_tensor_in {
    pb_dtype dtype;     /* PB_NONE writes a Value with no member */
    const void *values; /* float, double or int32_t; for PB_BYTES an array of pb_seg */
    size_t n_values;
    const uint64_t *keys;
    size_t n_keys;
    const uint64_t *shape;
    size_t n_shape;
    const char *content_type; /* PB_BYTES only; NULL: absent */
} pb_tensor_in;

typedef struct pb_entry_in {
    const char *name;
    pb_tensor_in t;
} pb_entry_in;

typedef struct pb_record_in {
    const pb_entry_in *feat;
    size_t n_feat;
    const pb_entry_in *lab;
    size_t n_lab;
    const char *uid, *metadata, *configuration; /* NULL: absent */
} pb_record_in;

/* Size of the encoded Record. */
size_t pb_encoded_size(const pb_record_in *r);
/* Encodes into out (pb_encoded_size bytes); returns the bytes written. Field order, packing
 * and the omission of empty repeated fields match the SageMaker Python SDK. */
size_t pb_encode(const pb_record_in *r, uint8_t *out);

/* Varint helpers shared with the other codecs. */
static inline size_t pb_varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}
static inline size_t pb_put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* The number of varints in the len bytes of a packed field; *bad is set when one is longer than
 * 10 bytes or the bytes end inside one (pb_decode then reports where). */
size_t pb_varints_fast(const uint8_t *b, size_t len, int *bad);

#endif
