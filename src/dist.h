/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dist.h - the trainer's view of several hosts (docs/DISTRIBUTED.md): this host's rank and the
 * number of hosts, sums over every host, gathers and broadcasts. Under mpirun these are MPI
 * collectives guarded by a watchdog (a collective that waits longer than the timeout ends the
 * job); otherwise (one host, or a build with MPI=0) the host is 0 of 1 and every call is a
 * no-op that succeeds. dist.c is the only file that sees MPI.
 */
#ifndef LL_DIST_H
#define LL_DIST_H
#include "linlearn.h"

/* Non-zero when this build can join an MPI job (LL_MPI). */
int dist_built(void);
int dist_rank(void);
int dist_size(void);
/* Ranks on this machine (OMPI_COMM_WORLD_LOCAL_SIZE; 1 without a launcher). */
int dist_local_size(void);
/* Non-zero when there is more than one host. */
int dist_on(void);

/* Names what the next collectives do (a static string) and the step, for the watchdog's
 * message; seconds a collective may wait before the job is ended (0: keep). */
void dist_where(const char *what, uint64_t step);
void dist_set_timeout(unsigned timeout_s);

/* In-place sums over every host; every host receives the same result. */
ll_code dist_sum_float(float *buf, size_t n, ll_err *err);
ll_code dist_sum_double(double *buf, size_t n, ll_err *err);
ll_code dist_sum_u64(uint64_t *buf, size_t n, ll_err *err);
/* In-place maximum / minimum over every host. */
ll_code dist_max_u64(uint64_t *buf, size_t n, ll_err *err);
ll_code dist_min_u64(uint64_t *buf, size_t n, ll_err *err);

/* Every host's len bytes, concatenated in rank order into *all (new: mem_free), with each
 * host's length in lens[dist_size()] (caller's array; may be NULL). */
ll_code dist_gather(const void *mine, size_t len, void **all, size_t *lens, ll_err *err);

/* Rank root's len bytes into every host's buf. */
ll_code dist_bcast(void *buf, size_t len, int root, ll_err *err);

/* Seconds spent in collectives since the start (for bench/distributed). */
double dist_comm_seconds(void);
#endif
