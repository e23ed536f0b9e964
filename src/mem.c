/* SPDX-License-Identifier: Apache-2.0 */
/* mem.c - allocator wrappers with a fail-the-Nth-call hook for out-of-memory tests. */
#include "mem.h"
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* The library's only mutable globals: a test hook, inert unless a test sets it, and whether
 * huge pages are asked for (read from the environment once, atomically). */
static _Thread_local unsigned long fail_at, n_calls;
static int huge_state; /* 0: not probed yet, 1: ask for huge pages, 2: do not */

static int should_fail(void)
{
    n_calls++;
    if (fail_at && n_calls >= fail_at) {
        fail_at = 0;
        return 1;
    }
    return 0;
}

unsigned long mem_fail_after(unsigned long n)
{
    unsigned long c = n_calls;
    n_calls = 0;
    fail_at = n;
    return c;
}

void *mem_alloc(size_t n)
{
    return should_fail() ? NULL : malloc(n ? n : 1);
}

/* The whole 2 MiB blocks inside the n bytes at p: [*a, *e); 0 when there are none. */
static int huge_blocks(const void *p, size_t n, uintptr_t *a, uintptr_t *e)
{
    const uintptr_t H = (uintptr_t)2 << 20;
    *a = ((uintptr_t)p + H - 1) & ~(H - 1);
    *e = ((uintptr_t)p + n) & ~(H - 1);
    return p && *e > *a;
}

int mem_huge_pages(void)
{
#ifdef MADV_HUGEPAGE
    int st = __atomic_load_n(&huge_state, __ATOMIC_ACQUIRE);
    if (!st) {
        const char *e = getenv("LINLEARN_HUGE_PAGES");
        st = e && e[0] == '0' && !e[1] ? 2 : 1;
        __atomic_store_n(&huge_state, st, __ATOMIC_RELEASE); /* two first calls agree */
    }
    return st == 1;
#else
    return 0;
#endif
}

void mem_advise_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    uintptr_t a, e;
    if (huge_blocks(p, n, &a, &e) && mem_huge_pages())
        madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

void *mem_alloc_aligned(size_t n)
{
    size_t r = (n + 63) & ~(size_t)63;
    return should_fail() || r < n ? NULL : aligned_alloc(64, r ? r : 64);
}

void *mem_alloc_big(size_t n)
{
    void *p = mem_alloc(n);
    if (n >= ((size_t)4 << 20))
        mem_advise_huge(p, n);
    return p;
}

void *mem_calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *mem_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n ? n : 1);
}

void *mem_realloc_array(void *p, size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size)
        return NULL;
    return mem_realloc(p, n * size);
}

char *mem_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = mem_alloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void mem_free(void *p)
{
    free(p);
}

struct mem_prefault {
    uintptr_t a, e; /* whole 2 MiB blocks */
    int may_write, stop;
    pthread_t th;
};

static void *prefault_run(void *arg)
{
    mem_prefault *h = arg;
    const uintptr_t H = (uintptr_t)2 << 20;
    int populate = 1;
    for (uintptr_t a = h->a; a < h->e && !__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE); a += H) {
#ifdef MADV_POPULATE_WRITE
        if (populate && madvise((void *)a, H, MADV_POPULATE_WRITE) == 0)
            continue;
#endif
        populate = 0; /* an older kernel: touch the pages, or leave them to the writes */
        if (!h->may_write)
            break;
        for (uintptr_t q = a; q < a + H; q += 4096)
            *(volatile uint8_t *)q = 0;
    }
    return NULL;
}

mem_prefault *mem_prefault_start(void *p, size_t n, int may_write)
{
    uintptr_t a, e;
    if (!huge_blocks(p, n, &a, &e) || e - a < ((uintptr_t)4 << 20))
        return NULL;
#ifndef MADV_POPULATE_WRITE
    if (!may_write)
        return NULL;
#endif
    mem_prefault *h = mem_alloc(sizeof *h);
    if (!h)
        return NULL;
    h->a = a;
    h->e = e;
    h->may_write = may_write;
    h->stop = 0;
    if (pthread_create(&h->th, NULL, prefault_run, h) != 0) {
        mem_free(h);
        return NULL;
    }
    return h;
}

void mem_prefault_end(mem_prefault *h)
{
    if (!h)
        return;
    __atomic_store_n(&h->stop, 1, __ATOMIC_RELEASE);
    pthread_join(h->th, NULL);
    mem_free(h);
}
