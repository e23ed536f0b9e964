/* SPDX-License-Identifier: Apache-2.0 */
/* mem.h - every allocation of the library goes through here, so tests can fail the Nth one. */
#ifndef LL_MEM_H
#define LL_MEM_H
#include <stddef.h>

void *mem_alloc(size_t n);
void *mem_calloc(size_t n, size_t size);
void *mem_realloc(void *p, size_t n);
/* realloc for arrays: fails (returns NULL, p untouched) on overflow of n*size. */
void *mem_realloc_array(void *p, size_t n, size_t size);
char *mem_strdup(const char *s);
void mem_free(void *p);

/* Test hook: the Nth allocation from now fails (n >= 1); 0 disables. Returns how many
 * allocations were made since the last call. Process-wide; meant for single-threaded tests. */
unsigned long mem_fail_after(unsigned long n);
#endif
