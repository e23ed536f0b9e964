/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arch.h - the one face of libarchive (and of the gzip layer of model archives) to the rest of
 * the library: reading every member of a tar, tar.gz or zip archive from a file or from memory,
 * writing a gzip'd ustar archive, and writing a zip of stored members.
 *
 * The zip writer is ours because libarchive's (3.6) always adds a data descriptor and UT/ux
 * extra fields; SageMaker's model_algo-1 has neither. Its layout (all little-endian):
 *
 *   per member, local header       offset  size  field
 *                                  0       4     signature 50 4B 03 04
 *                                  4       2     version needed, 20
 *                                  6       2     flags, 0
 *                                  8       2     method, 0 (stored)
 *                                  10      4     DOS time, DOS date
 *                                  14      4     CRC-32 of the data
 *                                  18      8     compressed size, uncompressed size (equal)
 *                                  26      4     name length, extra length (0)
 *                                  30      n     name, then the data
 *   central directory entry        signature 50 4B 01 02, version made by 0x0314 (Unix, 2.0),
 *                                  the local fields, comment/disk/internal attributes 0,
 *                                  external attributes 0100644 << 16, local header offset
 *   end of central directory       signature 50 4B 05 06, counts, size and offset of the
 *                                  directory, no comment
 */
#ifndef LL_ARCH_H
#define LL_ARCH_H
#include "linlearn.h"
#include <stdint.h>

typedef struct arch_member {
    char *name; /* path inside the archive, without a leading "./" */
    unsigned char *data;
    size_t len;
} arch_member;

typedef struct arch_list {
    arch_member *m;
    size_t n;
    int zip; /* the archive was a zip (else a tar, possibly compressed) */
} arch_list;

/* Reads every regular member of the archive at path (tar with any compression, or zip),
 * detected from its bytes. The members together may hold at most cap bytes (LL_E_TOOBIG).
 * A file that is not an archive is LL_E_PARSE ("not a model archive ..."). Free with
 * arch_list_free. */
ll_code arch_read_file(const char *path, uint64_t cap, arch_list *out, ll_err *err);
/* The same over memory (borrowed for the call); src names it in errors. */
ll_code arch_read_mem(const void *p, size_t len, const char *src, uint64_t cap, arch_list *out,
                      ll_err *err);
void arch_list_free(arch_list *l);
/* The member named name, or NULL. */
const arch_member *arch_find(const arch_list *l, const char *name);

/* Writes a gzip'd ustar archive of the n members to w: mode 0644, uid/gid 0, no user or group
 * names, the given mtime; the gzip header has mtime 0, no file name and OS byte 0xff, as the
 * model.tar.gz files SageMaker writes. Does not commit w. */
ll_code arch_write_targz(ll_writer *w, const arch_member *m, size_t n, int64_t mtime, ll_err *err);
/* Builds a zip of n stored members (layout above) in memory: *out to mem_free. */
ll_code arch_zip_stored(const arch_member *m, size_t n, int64_t mtime, unsigned char **out,
                        size_t *len, ll_err *err);
#endif
