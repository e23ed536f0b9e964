/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dist.c - the only file that includes mpi.h (built with LL_MPI=1; `make MPI=0` leaves the
 * one-host stubs). A process joins MPI only when a launcher started it (its environment has
 * OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_SIZE), so a plain run never calls MPI. MPI's state is
 * per process, so the rank, the size and the watchdog are too (the one place the library keeps
 * process-wide state). The watchdog thread ends the job when a collective waits longer than the
 * timeout: a host that died or hangs leaves the others waiting in one (docs/DISTRIBUTED.md).
 */
#include "dist.h"
#include "err.h"
#include "mem.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if LL_MPI
#include <mpi.h>
#endif

static struct {
    int rank, size, mpi;
    unsigned timeout_s;
    double comm_s;
    /* watchdog: when the current collective began (ns, 0: none) and what it is */
    uint64_t entered_ns;
    const char *what;
    uint64_t step;
    pthread_t th;
    int th_on, th_stop;
    /* heartbeats (MPI_THREAD_MULTIPLE only): the collectives entered so far, and per rank the
     * last collective it said it waits in and when that word came (ns) */
    uint64_t seq;
    int hb;
    uint64_t *hb_seq, *hb_ns;
} g = {0, 1, 0, 300, 0, 0, "start-up", 0, 0, 0, 0, 0, 0, NULL, NULL};
#if LL_MPI
static MPI_Comm g_hb_comm;
static MPI_Request *g_hb_req;
static uint64_t *g_hb_out;
#define HB_TAG 7301
#endif

#if LL_MPI
static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif

int dist_built(void)
{
#if LL_MPI
    return 1;
#else
    return 0;
#endif
}

int dist_rank(void)
{
    return g.rank;
}

int dist_size(void)
{
    return g.size;
}

int dist_local_size(void)
{
    const char *s = g.mpi ? getenv("OMPI_COMM_WORLD_LOCAL_SIZE") : NULL;
    return s && atoi(s) > 0 ? atoi(s) : 1;
}

int dist_on(void)
{
    return g.size > 1;
}

int ll_dist_rank(void)
{
    return g.rank;
}

int ll_dist_size(void)
{
    return g.size;
}

void dist_where(const char *what, uint64_t step)
{
    __atomic_store_n(&g.what, what, __ATOMIC_RELAXED);
    __atomic_store_n(&g.step, step, __ATOMIC_RELAXED);
}

void dist_set_timeout(unsigned timeout_s)
{
    if (timeout_s)
        __atomic_store_n(&g.timeout_s, timeout_s, __ATOMIC_RELAXED);
}

double dist_comm_seconds(void)
{
    return g.comm_s;
}

/* The launcher's world size from the environment, 0 when no launcher started us. */
static int env_size(int *rank)
{
    static const char *sizes[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    static const char *ranks[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"};
    int n = 0;
    *rank = 0;
    for (int i = 0; i < 3 && !n; i++) {
        const char *s = getenv(sizes[i]), *r = getenv(ranks[i]);
        if (s && atoi(s) > 0) {
            n = atoi(s);
            *rank = r ? atoi(r) : 0;
        }
    }
    if (!n && getenv("PMIX_RANK")) /* PMIx without a size variable: MPI will tell */
        n = -1;
    return n;
}

#if LL_MPI
/* Heartbeats, on a communicator of their own so they never meet the training's messages.
 * Every host's watchdog thread reads the words the others sent; while this host has waited in
 * a collective for a while it tells every other host so, twice a second. When the wait passes
 * the timeout, the hosts that did not say they wait in this same collective recently are the
 * ones that stopped answering (hung, stopped, or still computing before it): they are named. */
static void hb_drain(void)
{
    for (;;) {
        int flag = 0;
        MPI_Status st;
        if (MPI_Iprobe(MPI_ANY_SOURCE, HB_TAG, g_hb_comm, &flag, &st) != MPI_SUCCESS || !flag)
            return;
        uint64_t v = 0;
        if (MPI_Recv(&v, 1, MPI_UINT64_T, st.MPI_SOURCE, HB_TAG, g_hb_comm, MPI_STATUS_IGNORE) !=
            MPI_SUCCESS)
            return;
        if (st.MPI_SOURCE >= 0 && st.MPI_SOURCE < g.size) {
            g.hb_seq[st.MPI_SOURCE] = v;
            g.hb_ns[st.MPI_SOURCE] = mono_ns();
        }
    }
}

static void hb_send(uint64_t seq)
{
    for (int d = 0; d < g.size; d++) {
        if (d == g.rank)
            continue;
        int done = 1;
        if (g_hb_req[d] != MPI_REQUEST_NULL)
            MPI_Test(&g_hb_req[d], &done, MPI_STATUS_IGNORE);
        if (!done) /* the last word is still on its way: do not pile them up */
            continue;
        g_hb_out[d] = seq;
        MPI_Isend(&g_hb_out[d], 1, MPI_UINT64_T, d, HB_TAG, g_hb_comm, &g_hb_req[d]);
    }
}

/* The hosts that did not say, within the last `fresh` ns, that they wait in collective seq. */
static void hb_missing(uint64_t seq, uint64_t now, uint64_t fresh, char *out, size_t cap)
{
    size_t n = 0;
    int k = 0;
    out[0] = 0;
    for (int d = 0; d < g.size && n + 40 < cap; d++) {
        if (d == g.rank || (g.hb_seq[d] == seq && now - g.hb_ns[d] <= fresh))
            continue;
        n += (size_t)snprintf(out + n, cap - n, "%salgo-%d (rank %d)", k++ ? ", " : "", d + 1, d);
    }
}

static void *watchdog(void *arg)
{
    (void)arg;
    uint64_t last_hb = 0, tick = mono_ns(), thawed = 0;
    while (!__atomic_load_n(&g.th_stop, __ATOMIC_ACQUIRE)) {
        usleep(100000);
        if (g.hb)
            hb_drain();
        uint64_t t0 = __atomic_load_n(&g.entered_ns, __ATOMIC_ACQUIRE);
        unsigned lim = __atomic_load_n(&g.timeout_s, __ATOMIC_RELAXED);
        uint64_t now = mono_ns(), limit_ns = (uint64_t)lim * 1000000000ull;
        /* a tick that came seconds late: this process itself was stopped (SIGSTOP, a frozen
         * VM), so the wait so far says nothing about the others; count it from now */
        if (now - tick > 2000000000ull)
            thawed = now;
        tick = now;
        if (!t0)
            continue;
        if (thawed > t0)
            t0 = thawed;
        uint64_t seq = __atomic_load_n(&g.seq, __ATOMIC_ACQUIRE);
        /* waiting longer than a quarter of the timeout (at most 1 s): say so, twice a second */
        uint64_t quiet = limit_ns / 4 < 1000000000ull ? limit_ns / 4 : 1000000000ull;
        if (g.hb && now - t0 >= quiet && now - last_hb >= 500000000ull) {
            hb_send(seq);
            last_hb = now;
        }
        if (now - t0 < limit_ns)
            continue;
        const char *what = __atomic_load_n(&g.what, __ATOMIC_RELAXED);
        unsigned long long step = (unsigned long long)__atomic_load_n(&g.step, __ATOMIC_RELAXED);
        char who[2048] = "";
        if (g.hb) {
            hb_drain();
            /* a word within the last 2 s (4 heartbeats), or the whole wait when it is shorter */
            uint64_t fresh = limit_ns < 2000000000ull ? limit_ns : 2000000000ull;
            hb_missing(seq, mono_ns(), fresh, who, sizeof who);
        }
        if (who[0])
            fprintf(stderr,
                    "linlearn: host algo-%d (rank %d of %d): waited %u s in %s (step %llu) for "
                    "host %s, which stopped answering (it has not said it is waiting there: hung, "
                    "stopped or still busy before it); ending the job on every host\n",
                    g.rank + 1, g.rank, g.size, lim, what, step, who);
        else
            fprintf(stderr,
                    "linlearn: host algo-%d (rank %d of %d): waited %u s for the other hosts in %s "
                    "(step %llu): a host died or hangs; ending the job on every host\n",
                    g.rank + 1, g.rank, g.size, lim, what, step);
        fflush(stderr);
        /* mpirun ends the other ranks when one exits without MPI_Finalize */
        _exit(5);
    }
    return NULL;
}

static void enter(void)
{
    __atomic_add_fetch(&g.seq, 1, __ATOMIC_ACQ_REL);
    __atomic_store_n(&g.entered_ns, mono_ns(), __ATOMIC_RELEASE);
}

static void leave(void)
{
    uint64_t t0 = __atomic_exchange_n(&g.entered_ns, 0, __ATOMIC_ACQ_REL);
    g.comm_s += (double)(mono_ns() - t0) * 1e-9;
}

static ll_code mpi_fail(ll_err *err, int rc, const char *what)
{
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, s, &len);
    return err_set(err, LL_E_REMOTE, "MPI %s failed on host algo-%d: %.*s", what, g.rank + 1, len,
                   s);
}

/* MPI counts are ints: large buffers go in slices. */
#define SLICE ((size_t)1 << 28)

static ll_code allreduce(void *buf, size_t n, MPI_Datatype t, size_t esz, MPI_Op op, ll_err *err)
{
    if (!g.mpi)
        return LL_OK;
    enter();
    int rc = MPI_SUCCESS;
    for (size_t i = 0; i < n && rc == MPI_SUCCESS; i += SLICE) {
        size_t c = n - i < SLICE ? n - i : SLICE;
        rc = MPI_Allreduce(MPI_IN_PLACE, (char *)buf + i * esz, (int)c, t, op, MPI_COMM_WORLD);
    }
    leave();
    return rc == MPI_SUCCESS ? LL_OK : mpi_fail(err, rc, "Allreduce");
}
#endif

ll_code dist_sum_float(float *buf, size_t n, ll_err *err)
{
#if LL_MPI
    return allreduce(buf, n, MPI_FLOAT, sizeof *buf, MPI_SUM, err);
#else
    return LL_OK;
#endif
}

ll_code dist_sum_double(double *buf, size_t n, ll_err *err)
{
#if LL_MPI
    return allreduce(buf, n, MPI_DOUBLE, sizeof *buf, MPI_SUM, err);
#else
    return LL_OK;
#endif
}

ll_code dist_sum_u64(uint64_t *buf, size_t n, ll_err *err)
{
#if LL_MPI
    return allreduce(buf, n, MPI_UINT64_T, sizeof *buf, MPI_SUM, err);
#else
    return LL_OK;
#endif
}

ll_code dist_max_u64(uint64_t *buf, size_t n, ll_err *err)
{
#if LL_MPI
    return allreduce(buf, n, MPI_UINT64_T, sizeof *buf, MPI_MAX, err);
#else
    return LL_OK;
#endif
}

ll_code dist_min_u64(uint64_t *buf, size_t n, ll_err *err)
{
#if LL_MPI
    return allreduce(buf, n, MPI_UINT64_T, sizeof *buf, MPI_MIN, err);
#else
    return LL_OK;
#endif
}

ll_code dist_gather(const void *mine, size_t len, void **all, size_t *lens, ll_err *err)
{
    *all = NULL;
#if LL_MPI
    if (g.mpi) {
        int n = g.size;
        uint64_t *l = mem_calloc((size_t)n, sizeof *l);
        int *cnt = mem_calloc((size_t)n, sizeof *cnt), *dsp = mem_calloc((size_t)n, sizeof *dsp);
        if (!l || !cnt || !dsp) {
            mem_free(l);
            mem_free(cnt);
            mem_free(dsp);
            return err_set(err, LL_E_NOMEM, "out of memory");
        }
        l[g.rank] = len;
        ll_code rc = dist_sum_u64(l, (size_t)n, err);
        size_t tot = 0;
        for (int i = 0; i < n; i++)
            tot += l[i];
        if (rc == LL_OK && tot > (size_t)1 << 31)
            rc = err_set(err, LL_E_TOOBIG, "%zu bytes to gather over the hosts (limit 2 GiB)", tot);
        char *buf = rc == LL_OK ? mem_alloc(tot ? tot : 1) : NULL;
        if (rc == LL_OK && !buf)
            rc = err_set(err, LL_E_NOMEM, "out of memory for %zu gathered bytes", tot);
        if (rc == LL_OK) {
            size_t o = 0;
            for (int i = 0; i < n; i++) {
                cnt[i] = (int)l[i];
                dsp[i] = (int)o;
                o += l[i];
                if (lens)
                    lens[i] = l[i];
            }
            enter();
            int m =
                MPI_Allgatherv(mine, (int)len, MPI_BYTE, buf, cnt, dsp, MPI_BYTE, MPI_COMM_WORLD);
            leave();
            if (m != MPI_SUCCESS)
                rc = mpi_fail(err, m, "Allgatherv");
        }
        mem_free(l);
        mem_free(cnt);
        mem_free(dsp);
        if (rc != LL_OK) {
            mem_free(buf);
            return rc;
        }
        *all = buf;
        return LL_OK;
    }
#endif
    char *buf = mem_alloc(len ? len : 1);
    if (!buf)
        return err_set(err, LL_E_NOMEM, "out of memory");
    if (len)
        memcpy(buf, mine, len);
    if (lens)
        lens[0] = len;
    *all = buf;
    return LL_OK;
}

ll_code dist_bcast(void *buf, size_t len, int root, ll_err *err)
{
#if LL_MPI
    if (!g.mpi)
        return LL_OK;
    enter();
    int rc = MPI_SUCCESS;
    for (size_t i = 0; i < len && rc == MPI_SUCCESS; i += SLICE) {
        size_t c = len - i < SLICE ? len - i : SLICE;
        rc = MPI_Bcast((char *)buf + i, (int)c, MPI_BYTE, root, MPI_COMM_WORLD);
    }
    leave();
    return rc == MPI_SUCCESS ? LL_OK : mpi_fail(err, rc, "Bcast");
#else
    return LL_OK;
#endif
}

ll_code ll_dist_init(ll_err *err)
{
    int rank = 0, n = env_size(&rank);
    if (n == 0 || g.mpi)
        return LL_OK;
#if LL_MPI
    int have = 0, prov = 0;
    MPI_Initialized(&have);
    /* THREAD_MULTIPLE lets the watchdog thread exchange heartbeats while the main thread waits
     * in a collective; with less the watchdog only times out (and cannot name the host) */
    if (!have && MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &prov) != MPI_SUCCESS)
        return err_set(err, LL_E_REMOTE, "MPI_Init failed (started by mpirun?)");
    if (have)
        MPI_Query_thread(&prov);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g.size);
    g.mpi = 1;
    const char *t = getenv("LL_DIST_TIMEOUT_S");
    if (t && atoi(t) > 0)
        g.timeout_s = (unsigned)atoi(t);
    if (g.size > 1 && prov >= MPI_THREAD_MULTIPLE &&
        MPI_Comm_dup(MPI_COMM_WORLD, &g_hb_comm) == MPI_SUCCESS) {
        g.hb_seq = mem_calloc((size_t)g.size, sizeof *g.hb_seq);
        g.hb_ns = mem_calloc((size_t)g.size, sizeof *g.hb_ns);
        g_hb_out = mem_calloc((size_t)g.size, sizeof *g_hb_out);
        g_hb_req = mem_calloc((size_t)g.size, sizeof *g_hb_req);
        g.hb = g.hb_seq && g.hb_ns && g_hb_out && g_hb_req;
        for (int d = 0; g.hb && d < g.size; d++)
            g_hb_req[d] = MPI_REQUEST_NULL;
    }
    if (g.size > 1 && pthread_create(&g.th, NULL, watchdog, NULL) == 0)
        g.th_on = 1;
    return LL_OK;
#else
    if (n > 1)
        return err_set(err, LL_E_ARG,
                       "started as rank %d of %d, but this linlearn was built without MPI "
                       "(make MPI=0): rebuild with Open MPI to train on several hosts",
                       rank, n);
    return LL_OK;
#endif
}

void ll_dist_abort(int code)
{
#if LL_MPI
    if (g.mpi && g.size > 1) {
        fflush(stdout);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, code ? code : 1);
    }
#endif
    (void)code;
}

void ll_dist_finalize(void)
{
#if LL_MPI
    if (g.mpi) {
        int fin = 0;
        MPI_Finalized(&fin);
        if (!fin) {
            if (g.size > 1) { /* a host that failed ends the job before this barrier */
                dist_where("the final barrier", 0);
                enter();
                MPI_Barrier(MPI_COMM_WORLD);
                leave();
            }
            if (g.th_on) { /* the watchdog uses MPI: it stops before MPI does */
                __atomic_store_n(&g.th_stop, 1, __ATOMIC_RELEASE);
                pthread_join(g.th, NULL);
                g.th_on = 0;
            }
            if (g.hb) {
                /* every host has passed the barrier, so no more words are sent: take the
                 * ones still in flight, then let go of the communicator */
                for (int d = 0; d < g.size; d++)
                    if (g_hb_req[d] != MPI_REQUEST_NULL)
                        MPI_Wait(&g_hb_req[d], MPI_STATUS_IGNORE);
                MPI_Barrier(g_hb_comm);
                hb_drain();
                MPI_Comm_free(&g_hb_comm);
                g.hb = 0;
            }
            mem_free(g.hb_seq);
            mem_free(g.hb_ns);
            mem_free(g_hb_out);
            mem_free(g_hb_req);
            MPI_Finalize();
        }
        g.mpi = 0;
    }
#endif
}
