/* SPDX-License-Identifier: Apache-2.0 */
/* signals.c - SIGTERM and SIGINT as a stop request for the long-running commands (train, the
 * container, local-job): the library polls the flag and stops cleanly. */
#include "tool.h"
#include <signal.h>
#include <string.h>

static volatile int g_stop; /* the signal that asked to stop, 0 until then */

/* An atomic store: the library's threads read the flag with atomic loads (a lock-free int
 * store is async-signal-safe). */
static void on_term(int sig)
{
    __atomic_store_n(&g_stop, sig, __ATOMIC_RELEASE);
}

volatile int *tool_stop_on_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    return &g_stop;
}

int tool_stop_signal(void)
{
    return __atomic_load_n(&g_stop, __ATOMIC_ACQUIRE);
}
