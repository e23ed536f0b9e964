/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_report.c - `linlearn report METRICS.json OUT.html`: the training report page from the
 * metrics JSON of `train --metrics-json` (docs/REPORT.md). */
#include "tool.h"
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char *HELP =
    "usage: linlearn report METRICS.json OUT.html\n"
    "\n"
    "Writes the training report: one self-contained HTML page (inline SVG and CSS, nothing\n"
    "fetched, no scripts) drawn from the metrics JSON that `linlearn train --metrics-json`\n"
    "wrote: learning curves of every parallel model, the model-selection table, ROC and\n"
    "precision-recall curves with the tuned threshold (binary), confusion matrices\n"
    "(classifiers), predicted vs actual and residuals (regressors), the run's facts.\n"
    "`train --report OUT.html` writes the same page at the end of a run. How to read each\n"
    "picture: docs/REPORT.md.\n"
    "\n"
    "Example:\n"
    "  linlearn train --train train.csv -H predictor_type=binary_classifier \\\n"
    "      --metrics-json metrics.json\n"
    "  linlearn report metrics.json report.html\n";

static const struct option LONGOPTS[] = {
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

int cmd_report(int argc, char **argv)
{
    const char *cmd = "report";
    int c;
    optind = 1;
    while ((c = tool_getopt(argc, argv, "+h", LONGOPTS)) != -1) {
        switch (c) {
        case 'h':
            fputs(HELP, stdout);
            return 0;
        default:
            return tool_bad_option(cmd, argv, LONGOPTS);
        }
    }
    if (argc - optind != 2)
        return tool_usage_error(cmd, "needs METRICS.json and OUT.html (got %d argument%s)",
                                argc - optind, argc - optind == 1 ? "" : "s");
    ll_err err;
    if (ll_report_write(argv[optind], argv[optind + 1], &err) != LL_OK)
        return tool_fail(cmd, &err);
    fprintf(stderr, "report written to %s\n", argv[optind + 1]);
    return 0;
}
