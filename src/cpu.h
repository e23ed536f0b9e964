/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cpu.h - which vector width the hand-written kernels use (gemm.c, loss.c). Their AVX-512
 * variants do the same float operations in the same order as the portable ones, without fused
 * multiply-adds, so the choice changes speed, never a result; tests switch it to compare.
 */
#ifndef LL_CPU_H
#define LL_CPU_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LL_X86 1
#endif

/* The mask of the first n of 16 lanes (all 16 for n >= 16): a __mmask16 for the AVX-512 loops'
 * last, partial step. */
static inline uint16_t cpu_lanes16(size_t n)
{
    return n >= 16 ? (uint16_t)0xFFFF : (uint16_t)((1u << n) - 1);
}

/* The attributes of an AVX-512 variant: its target and, for gcc, no contraction of a multiply
 * and an add into one rounding. Under clang the files that hold such variants turn contraction
 * off with #pragma STDC FP_CONTRACT OFF. */
#if defined(__clang__)
#define LL_AVX512 __attribute__((target("avx512f")))
#elif defined(__GNUC__)
#define LL_AVX512                                                                                  \
    __attribute__((target("avx512f"), optimize("fp-contract=off", "tree-vectorize",                \
                                               "no-trapping-math", "no-math-errno")))
#endif

/* 1: the AVX-512 variants run (the CPU has AVX-512F and cpu_set_avx512 did not turn them off). */
int cpu_avx512(void);
/* Turns the AVX-512 variants on (where the CPU has them) or off; returns the previous setting. */
int cpu_set_avx512(int on);

#endif
