/* SPDX-License-Identifier: Apache-2.0 */
/* pool.c - pool: n - 1 worker threads woken per job by a generation counter under one mutex
 * (pool.h). A job is a few milliseconds of work (one sparse mini-batch), so a condition
 * variable's wake-up (tens of microseconds) is cheap beside it, and idle workers sleep. */
#include "pool.h"
#include "err.h"
#include "mem.h"
#include <pthread.h>
#include <string.h>

struct pool {
    unsigned n;
    pthread_t *th;
    unsigned started;
    pthread_mutex_t mu;
    pthread_cond_t cv_go, cv_done;
    uint64_t gen;     /* job number */
    unsigned pending; /* workers still running the current job */
    int stop;
    pool_fn fn;
    void *ud;
};

typedef struct {
    pool *p;
    unsigned part;
} worker_arg;

static void *worker(void *arg)
{
    worker_arg *a = arg;
    pool *p = a->p;
    unsigned part = a->part;
    mem_free(a);
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->gen == seen && !p->stop)
            pthread_cond_wait(&p->cv_go, &p->mu);
        if (p->stop)
            break;
        seen = p->gen;
        pool_fn fn = p->fn;
        void *ud = p->ud;
        pthread_mutex_unlock(&p->mu);
        fn(ud, part, p->n);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0)
            pthread_cond_signal(&p->cv_done);
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
    p->pending = p->n - 1;
    p->gen++;
    pthread_cond_broadcast(&p->cv_go);
    pthread_mutex_unlock(&p->mu);
    fn(ud, 0, p->n);
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
