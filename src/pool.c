/* SPDX-License-Identifier: Apache-2.0 */
/* pool.c - pool: n - 1 worker threads woken per job by a generation counter under one mutex
 * (pool.h). A sparse step runs three jobs back to back, each a fraction of a millisecond, and a
 * sleeping thread's wake-up costs tens of microseconds (more on a virtual machine): so a worker
 * that finished a job, and the caller waiting for the workers, first watch the counters for
 * POOL_SPIN_NS, then sleep on condition variables. Broadcasts go only to sleeping workers. */
#include "pool.h"
#include "err.h"
#include "mem.h"
#include <pthread.h>
#include <string.h>
#include <time.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define POOL_SPIN_NS 50000 /* how long a thread watches before it sleeps */

struct pool {
    unsigned n;
    pthread_t *th;
    unsigned started;
    pthread_mutex_t mu;
    pthread_cond_t cv_go, cv_done;
    uint64_t gen;      /* job number (written under mu, read atomically while spinning) */
    uint64_t pending;  /* workers still running the current job (the same) */
    unsigned sleeping; /* workers waiting on cv_go */
    int stop;
    pool_fn fn;
    void *ud;
};

typedef struct {
    pool *p;
    unsigned part;
} worker_arg;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static inline void relax(void)
{
#ifdef __SSE2__
    _mm_pause();
#endif
}

/* Watches *v for up to POOL_SPIN_NS until (*v == x) is until_eq; returns whether it got there. */
static int spin(const uint64_t *v, uint64_t x, int until_eq)
{
    uint64_t t0 = now_ns();
    for (unsigned i = 1;; i++) {
        if ((__atomic_load_n(v, __ATOMIC_ACQUIRE) == x) == until_eq)
            return 1;
        relax();
        if (i % 64 == 0 && now_ns() - t0 > POOL_SPIN_NS)
            return 0;
    }
}

static void *worker(void *arg)
{
    worker_arg *a = arg;
    pool *p = a->p;
    unsigned part = a->part;
    mem_free(a);
    uint64_t seen = 0;
    for (;;) {
        spin(&p->gen, seen, 0); /* until a new job; pool_free bumps gen too */
        pthread_mutex_lock(&p->mu);
        while (p->gen == seen && !p->stop) {
            p->sleeping++;
            pthread_cond_wait(&p->cv_go, &p->mu);
            p->sleeping--;
        }
        if (p->stop)
            break;
        seen = p->gen;
        pool_fn fn = p->fn;
        void *ud = p->ud;
        pthread_mutex_unlock(&p->mu);
        fn(ud, part, p->n);
        pthread_mutex_lock(&p->mu);
        if (__atomic_sub_fetch(&p->pending, 1, __ATOMIC_RELEASE) == 0)
            pthread_cond_signal(&p->cv_done);
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

pool *pool_new(unsigned n, ll_err *err)
{
    pool *p = mem_calloc(1, sizeof *p);
    if (!p || n < 2) {
        mem_free(p);
        err_set(err, n < 2 ? LL_E_ARG : LL_E_NOMEM, "a thread pool of %u parts", n);
        return NULL;
    }
    p->n = n;
    p->th = mem_calloc(n - 1, sizeof *p->th);
    if (!p->th) {
        mem_free(p);
        err_set(err, LL_E_NOMEM, "out of memory for %u threads", n);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_go, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    for (unsigned i = 1; i < n; i++) {
        worker_arg *a = mem_alloc(sizeof *a);
        if (a) {
            a->p = p;
            a->part = i;
        }
        if (!a || pthread_create(&p->th[i - 1], NULL, worker, a) != 0) {
            mem_free(a);
            pool_free(p);
            err_set(err, LL_E_NOMEM, "cannot start worker thread %u of %u", i, n - 1);
            return NULL;
        }
        p->started++;
    }
    return p;
}

unsigned pool_parts(const pool *p)
{
    return p ? p->n : 1;
}

void pool_run(pool *p, pool_fn fn, void *ud)
{
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ud = ud;
    __atomic_store_n(&p->pending, (uint64_t)p->n - 1, __ATOMIC_RELAXED);
    __atomic_store_n(&p->gen, p->gen + 1, __ATOMIC_RELEASE);
    if (p->sleeping)
        pthread_cond_broadcast(&p->cv_go);
    pthread_mutex_unlock(&p->mu);
    fn(ud, 0, p->n);
    if (spin(&p->pending, 0, 1))
        return; /* the workers' writes are visible: their decrements release them */
    pthread_mutex_lock(&p->mu);
    while (p->pending)
        pthread_cond_wait(&p->cv_done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void pool_free(pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    __atomic_store_n(&p->gen, p->gen + 1, __ATOMIC_RELEASE); /* ends the workers' watching */
    pthread_cond_broadcast(&p->cv_go);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->started; i++)
        pthread_join(p->th[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_go);
    pthread_cond_destroy(&p->cv_done);
    mem_free(p->th);
    mem_free(p);
}
