/* SPDX-License-Identifier: Apache-2.0 */
/* support_proxy.c - the fault-injecting TCP proxy of proxy.h, loopback only: one thread
 * accepts, one thread per connection copies bytes both ways with poll(). */
#include "proxy.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct proxy {
    int lfd, port, target;
    size_t cut_after, stall_after;
    int stall_conn;
    atomic_int conns, stop, live; /* live: connection threads still running */
    pthread_t th;
};

typedef struct {
    proxy *p;
    int c, s, idx;
} conn;

static void *conn_main(void *arg)
{
    conn *k = arg;
    proxy *p = k->p;
    size_t down = 0;
    char buf[16384];
    int stalled = 0;
    while (!atomic_load(&p->stop)) {
        struct pollfd f[2] = {{k->c, POLLIN, 0}, {k->s, stalled ? 0 : POLLIN, 0}};
        if (poll(f, 2, 100) <= 0)
            continue;
        if (f[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(k->c, buf, sizeof buf);
            if (n <= 0 || write(k->s, buf, (size_t)n) != n)
                break;
        }
        if (!stalled && (f[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            size_t cap = sizeof buf;
            if (p->cut_after && p->cut_after - down < cap)
                cap = p->cut_after - down;
            if (k->idx == p->stall_conn && p->stall_after - down < cap)
                cap = p->stall_after - down;
            ssize_t n = cap ? read(k->s, buf, cap) : 0;
            if (cap && n <= 0)
                break;
            if (n > 0 && write(k->c, buf, (size_t)n) != n)
                break;
            down += (size_t)(n > 0 ? n : 0);
            if (p->cut_after && down >= p->cut_after)
                break;
            if (k->idx == p->stall_conn && down >= p->stall_after)
                stalled = 1;
        }
    }
    close(k->c);
    close(k->s);
    free(k);
    atomic_fetch_sub(&p->live, 1); /* last touch of p: proxy_stop waits for this */
    return NULL;
}

static void *accept_main(void *arg)
{
    proxy *p = arg;
    while (!atomic_load(&p->stop)) {
        struct pollfd f = {p->lfd, POLLIN, 0};
        if (poll(&f, 1, 100) <= 0)
            continue;
        int c = accept(p->lfd, NULL, NULL);
        if (c < 0)
            continue;
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)p->target);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
            close(c);
            if (s >= 0)
                close(s);
            continue;
        }
        conn *k = malloc(sizeof *k);
        k->p = p;
        k->c = c;
        k->s = s;
        k->idx = atomic_fetch_add(&p->conns, 1) + 1;
        pthread_t t;
        atomic_fetch_add(&p->live, 1);
        pthread_create(&t, NULL, conn_main, k);
        pthread_detach(t);
    }
    return NULL;
}

proxy *proxy_start(int target_port, size_t cut_after, int stall_conn, size_t stall_after)
{
    proxy *p = calloc(1, sizeof *p);
    p->target = target_port;
    p->cut_after = cut_after;
    p->stall_conn = stall_conn;
    p->stall_after = stall_after;
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(p->lfd, 16) != 0 || getsockname(p->lfd, (struct sockaddr *)&a, &al) != 0) {
        if (p->lfd >= 0)
            close(p->lfd);
        free(p);
        return NULL;
    }
    p->port = ntohs(a.sin_port);
    pthread_create(&p->th, NULL, accept_main, p);
    return p;
}

int proxy_port(const proxy *p)
{
    return p->port;
}

int proxy_conns(const proxy *p)
{
    return atomic_load(&((proxy *)p)->conns);
}

void proxy_stop(proxy *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, 1);
    pthread_join(p->th, NULL);
    close(p->lfd);
    while (atomic_load(&p->live) > 0) /* they notice stop within one poll period */
        usleep(10000);
    free(p);
}
