/* SPDX-License-Identifier: Apache-2.0 */
/* version.c - ll_version(): the version the library was built as (LL_VERSION, the one place). */
#include "linlearn.h"

const char *ll_version(void)
{
    return LL_VERSION;
}
