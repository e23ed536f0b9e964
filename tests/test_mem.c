/* SPDX-License-Identifier: Apache-2.0 */
/* test_mem.c - the huge-page switch: LINLEARN_HUGE_PAGES=0 turns the advice off, anything else
 * (or nothing) keeps it; read once per process, so each case runs in a child of its own. The
 * page-mapping helper (mem_prefault_*) keeps the bytes written meanwhile. */
#include "mem.h"
#include "tt.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* mem_huge_pages() in a child with LINLEARN_HUGE_PAGES set to v (NULL: unset); the child also
 * fills a big buffer, which must work either way. -1 when the child failed. */
static int in_child(const char *v)
{
    pid_t p = fork();
    if (p == 0) {
        if (v)
            setenv("LINLEARN_HUGE_PAGES", v, 1);
        else
            unsetenv("LINLEARN_HUGE_PAGES");
        int h = mem_huge_pages();
        size_t n = (size_t)8 << 20;
        uint8_t *b = mem_alloc_big(n);
        if (!b)
            _exit(3);
        memset(b, 7, n);
        int ok = b[n - 1] == 7 && mem_huge_pages() == h;
        mem_free(b);
        _exit(ok ? h : 4);
    }
    int st = 0;
    if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st) <= 1 ? WEXITSTATUS(st) : -1;
}

static void test_switch(void)
{
    CHECKF(in_child("0") == 0, "LINLEARN_HUGE_PAGES=0 still asks for huge pages");
    CHECKF(in_child(NULL) == 1, "huge pages are off by default");
    CHECKF(in_child("1") == 1, "LINLEARN_HUGE_PAGES=1 turned them off");
    CHECKF(in_child("00") == 1, "only '0' turns them off");
}

/* The page-mapping helper leaves the bytes alone while they are written, and is a no-op for
 * buffers under two huge pages. */
static void prefault_keeps_writes(void)
{
    CHECK(mem_prefault_start(NULL, (size_t)64 << 20, 0) == NULL);
    char small[4096];
    CHECK(mem_prefault_start(small, sizeof small, 1) == NULL);
    mem_prefault_end(NULL);
    size_t n = (size_t)24 << 20;
    uint32_t *b = mem_alloc_big(n);
    CHECK(b != NULL);
    if (!b)
        return;
    mem_prefault *h = mem_prefault_start(b, n, 0);
    for (size_t i = 0; i < n / 4; i++) /* written while the helper maps the pages */
        b[i] = (uint32_t)(i * 2654435761u);
    mem_prefault_end(h);
    size_t bad = 0;
    for (size_t i = 0; i < n / 4; i++)
        bad += b[i] != (uint32_t)(i * 2654435761u);
    CHECKF(bad == 0, "%zu words changed", bad);
    h = mem_prefault_start(b, n, 1); /* ended at once: it stops and joins */
    mem_prefault_end(h);
    mem_free(b);
}

int main(void)
{
    TT_BEGIN("test_mem");
    RUN(test_switch); /* first: the children must not inherit a decided switch */
    RUN(prefault_keeps_writes);
    TT_END();
}
