/* SPDX-License-Identifier: Apache-2.0 */
/* cpu.c - the one run-time choice of vector width (cpu.h). */
#include "cpu.h"

static int has_avx512(void)
{
#ifdef LL_X86
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

static int state = -1; /* -1: not decided yet */

int cpu_avx512(void)
{
    int u = __atomic_load_n(&state, __ATOMIC_RELAXED);
    if (u < 0) {
        u = has_avx512();
        __atomic_store_n(&state, u, __ATOMIC_RELAXED);
    }
    return u;
}

int cpu_set_avx512(int on)
{
    int was = cpu_avx512();
    __atomic_store_n(&state, on && has_avx512(), __ATOMIC_RELAXED);
    return was;
}
