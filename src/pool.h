/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pool.h - a fixed team of threads that run one function over n parts and wait for all of
 * them: the caller runs part 0, n - 1 workers the others. For kernels whose parts write
 * disjoint memory (sgd.c splits the models), so the result does not depend on n.
 */
#ifndef LL_POOL_H
#define LL_POOL_H
#include "linlearn.h"

typedef struct pool pool;
typedef void (*pool_fn)(void *ud, unsigned part, unsigned nparts);

/* A team of n parts (n - 1 threads; n >= 2). NULL (err set) when a thread cannot start. */
pool *pool_new(unsigned n, ll_err *err);
/* fn(ud, i, n) for every i in 0..n-1, part 0 on the calling thread; returns when all are done.
 * What the caller wrote before is visible to every part, what the parts wrote is visible
 * after. Not re-entrant. */
void pool_run(pool *p, pool_fn fn, void *ud);
unsigned pool_parts(const pool *p);
/* Stops and joins the threads; NULL is a no-op. */
void pool_free(pool *p);
#endif
