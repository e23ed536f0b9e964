/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_train.c - placeholder: this command is not implemented yet. */
#include "tool.h"
#include <stdio.h>

int cmd_train(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "linlearn: '%s' is not implemented yet\n", argv[0]);
    return 5;
}
