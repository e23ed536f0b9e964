/* SPDX-License-Identifier: Apache-2.0 */
/* test_mem.c - the huge-page switch: LINLEARN_HUGE_PAGES=0 turns the advice off, anything else
 * (or nothing) keeps it; read once per process, so each case runs in a child of its own. */
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

int main(void)
{
    TT_BEGIN("test_mem");
    RUN(test_switch);
    TT_END();
}
