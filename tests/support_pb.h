/* SPDX-License-Identifier: Apache-2.0 */
/* support_pb.h - test helpers for the RecordIO/protobuf tests: SHA-256, hex and base64
 * decoding, a writer into a growable memory buffer, and a reader that hands a memory buffer
 * out in small pieces (1 byte, or pseudo-random sizes) to exercise stream reassembly. */
#ifndef LL_SUPPORT_PB_H
#define LL_SUPPORT_PB_H
#include "linlearn.h"
#include <stddef.h>
#include <stdint.h>

void tsup_sha256(const void *data, size_t len, uint8_t out[32]);
/* Lower-case hex of the SHA-256 into out (65 bytes). */
void tsup_sha256_hex(const void *data, size_t len, char out[65]);

/* Decodes hex (even length) into a malloc'd buffer; NULL on bad input. */
uint8_t *tsup_unhex(const char *s, size_t *len);
/* Decodes standard base64 (with or without padding) into a malloc'd buffer; NULL on error. */
uint8_t *tsup_unbase64(const char *s, size_t *len);

typedef struct tsup_buf {
    uint8_t *p;
    size_t n, cap;
} tsup_buf;

/* A writer appending to out (which the caller frees with free(out->p)). */
ll_code tsup_mem_writer(tsup_buf *out, ll_writer **w, ll_err *err);

/* A reader over data that returns at most `piece` bytes per read; piece 0 means pseudo-random
 * sizes 1..64 from seed. Non-rewindable, like a pipe. */
ll_reader *tsup_piece_reader(const void *data, size_t len, size_t piece, uint64_t seed);
#endif
