/* SPDX-License-Identifier: Apache-2.0 */
/* mem.h - every allocation of the library goes through here, so tests can fail the Nth one. */
#ifndef LL_MEM_H
#define LL_MEM_H
#include <stddef.h>

void *mem_alloc(size_t n);
void *mem_calloc(size_t n, size_t size);
/* mem_alloc for large buffers written soon after: asks for transparent huge pages (one page
 * fault per 2 MiB instead of per 4 KiB) where they pay; mem_advise_huge does it for a buffer
 * already made. */
void *mem_alloc_big(size_t n);
/* Whether huge pages are asked for: yes unless LINLEARN_HUGE_PAGES=0 (read once). On a VM
 * whose host takes freed memory back, a fresh huge page can be slower to fault than 512 small
 * ones (measured here: 0.35 GB/s against 2 GB/s, and 20 GB/s for huge pages another process
 * had just freed): docs/TRAINING.md, "Passes kept in memory". */
int mem_huge_pages(void);
/* n bytes on a 64-byte boundary (a cache line): buffers that threads write side by side. */
void *mem_alloc_aligned(size_t n);
void mem_advise_huge(void *p, size_t n);
void *mem_realloc(void *p, size_t n);
/* realloc for arrays: fails (returns NULL, p untouched) on overflow of n*size. */
void *mem_realloc_array(void *p, size_t n, size_t size);
char *mem_strdup(const char *s);
/* A helper thread that maps the pages of the n bytes at p (madvise MADV_POPULATE_WRITE, 2 MiB at
 * a time), so the first touches find them ready. The bytes are not written, so the caller may
 * fill them meanwhile. On a kernel without it (before Linux 5.14), may_write lets the helper
 * touch the pages by writing zeros instead: only for memory nobody uses until the helper has
 * ended. NULL when nothing was started (under 4 MiB, no thread, nothing to do).
 * mem_prefault_end stops and joins it (NULL: no-op); call it before p is used (may_write) or
 * freed. */
typedef struct mem_prefault mem_prefault;
mem_prefault *mem_prefault_start(void *p, size_t n, int may_write);
void mem_prefault_end(mem_prefault *h);
void mem_free(void *p);

/* Test hook: the Nth allocation from now fails (n >= 1); 0 disables. Returns how many
 * allocations were made since the last call. Process-wide; meant for single-threaded tests. */
unsigned long mem_fail_after(unsigned long n);
#endif
