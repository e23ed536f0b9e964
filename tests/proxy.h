/* SPDX-License-Identifier: Apache-2.0 */
/* proxy.h - a fault-injecting TCP proxy for tests (support_proxy.c): forwards 127.0.0.1:port to
 * a target port, cutting every connection after cut_after response bytes and stalling one. */
#ifndef LL_TEST_PROXY_H
#define LL_TEST_PROXY_H
#include <stddef.h>

typedef struct proxy proxy;
/* cut_after: close each connection after this many bytes from the server (0: never).
 * stall_conn: the connection (1-based) that stops forwarding after stall_after bytes and stays
 * silent until closed (0: none). Returns NULL on failure. */
proxy *proxy_start(int target_port, size_t cut_after, int stall_conn, size_t stall_after);
int proxy_port(const proxy *p);
/* Connections accepted so far. */
int proxy_conns(const proxy *p);
void proxy_stop(proxy *p);
#endif
