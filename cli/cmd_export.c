/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_export.c - `linlearn export`: prints a model's weights and bias as JSON or CSV. */
#include "tool.h"
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char *HELP =
    "usage: linlearn export [--format json|csv] MODEL\n"
    "\n"
    "Prints the weights of MODEL (model.tar.gz, or a folder holding it or its unpacked files).\n"
    "The weights take raw, unscaled features (the training scaling is folded in).\n"
    "  json: {\"predictor_type\", \"feature_dim\", \"n_outputs\", \"threshold\", \"loss\",\n"
    "         \"bias\": [C], \"weights\": [[C values] per feature]}\n"
    "  csv:  a header \"feature,output_0,...\", one line per feature, then a \"bias\" line\n";

static void pf(float v)
{
    char b[16];
    ll_f32_to_str(v, b);
    fputs(b, stdout);
}

int cmd_export(int argc, char **argv)
{
    const char *cmd = "export", *fmt = "json";
    static const struct option lo[] = {
        {"format", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", lo, NULL)) != -1) {
        if (c == 'f')
            fmt = optarg;
        else if (c == 'h') {
            fputs(HELP, stdout);
            return 0;
        } else
            return tool_usage_error(cmd, "unknown option");
    }
    if (strcmp(fmt, "json") && strcmp(fmt, "csv"))
        return tool_usage_error(cmd, "--format is json or csv, not '%s'", fmt);
    if (optind + 1 != argc)
        return tool_usage_error(cmd, "expected one MODEL argument");
    ll_err err;
    ll_model *m = NULL;
    if (ll_model_load(argv[optind], &m, &err) != LL_OK)
        return tool_fail(cmd, &err);
    uint64_t D = ll_model_feature_dim(m);
    uint32_t C = ll_model_n_outputs(m);
    const float *w = ll_model_weights(m), *b = ll_model_bias(m);
    if (!strcmp(fmt, "csv")) {
        printf("feature");
        for (uint32_t k = 0; k < C; k++)
            printf(",output_%u", k);
        printf("\n");
        for (uint64_t j = 0; j < D; j++) {
            printf("%llu", (unsigned long long)j);
            for (uint32_t k = 0; k < C; k++) {
                putchar(',');
                pf(w[j * C + k]);
            }
            putchar('\n');
        }
        printf("bias");
        for (uint32_t k = 0; k < C; k++) {
            putchar(',');
            pf(b[k]);
        }
        putchar('\n');
    } else {
        printf("{\"predictor_type\": \"%s\", \"feature_dim\": %llu, \"n_outputs\": %u, "
               "\"loss\": \"%s\", \"threshold\": ",
               ll_predictor_name(ll_model_predictor(m)), (unsigned long long)D, C,
               ll_model_loss(m));
        pf(ll_model_threshold(m));
        printf(",\n \"bias\": [");
        for (uint32_t k = 0; k < C; k++) {
            if (k)
                printf(", ");
            pf(b[k]);
        }
        printf("],\n \"weights\": [");
        for (uint64_t j = 0; j < D; j++) {
            printf(j ? ",\n  [" : "\n  [");
            for (uint32_t k = 0; k < C; k++) {
                if (k)
                    printf(", ");
                pf(w[j * C + k]);
            }
            printf("]");
        }
        printf("]}\n");
    }
    ll_model_free(m);
    return 0; /* main.c flushes and closes stdout, reporting a failure */
}
