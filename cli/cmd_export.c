/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_export.c - `linlearn export`: prints a model's weights and bias as JSON or CSV, or writes
 * the model as SageMaker's model.tar.gz, linlearn's own, or ONNX (ll_model_export). */
#include "tool.h"
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char *HELP =
    "usage: linlearn export [--format json|csv] MODEL\n"
    "       linlearn export --format sagemaker|onnx|linlearn MODEL OUT\n"
    "\n"
    "MODEL is any model linlearn reads: its own model.tar.gz, SageMaker Linear Learner's\n"
    "model.tar.gz or bare model_algo-1, or a folder holding one of them (docs/MODEL.md).\n"
    "The weights take raw, unscaled features (the training scaling is folded in).\n"
    "  json:      prints {\"predictor_type\", \"feature_dim\", \"n_outputs\", \"threshold\",\n"
    "             \"loss\", \"bias\": [C], \"weights\": [[C values] per feature]}\n"
    "  csv:       prints a header \"feature,output_0,...\", one line per feature, then \"bias\"\n"
    "  sagemaker: writes OUT as SageMaker's model.tar.gz (model_algo-1: MXNet symbol and\n"
    "             params, additional-params.json with the threshold), for SageMaker's own\n"
    "             Linear Learner image\n"
    "  onnx:      writes OUT as an ONNX model (opset 13): input \"features\" [N, D] float32,\n"
    "             outputs \"score\" [N, C] and \"predicted_label\" [N]\n"
    "  linlearn:  writes OUT as linlearn's own model.tar.gz\n"
    "OUT is written under a temporary name and renamed when complete.\n";

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
    while ((c = tool_getopt(argc, argv, "f:h", lo)) != -1) {
        if (c == 'f')
            fmt = optarg;
        else if (c == 'h') {
            fputs(HELP, stdout);
            return 0;
        } else
            return tool_bad_option(cmd, argv, lo);
    }
    int file = !strcmp(fmt, "sagemaker") || !strcmp(fmt, "onnx") || !strcmp(fmt, "linlearn");
    if (strcmp(fmt, "json") && strcmp(fmt, "csv") && !file)
        return tool_usage_error(cmd, "--format is json, csv, sagemaker, onnx or linlearn, not '%s'",
                                fmt);
    if (file && optind + 2 != argc)
        return tool_usage_error(cmd, "--format %s expects MODEL and OUT", fmt);
    if (!file && optind + 1 != argc)
        return tool_usage_error(cmd, "expected one MODEL argument");
    ll_err err;
    ll_model *m = NULL;
    if (ll_model_load(argv[optind], &m, &err) != LL_OK)
        return tool_fail(cmd, &err);
    if (file) {
        ll_model_format mf = !strcmp(fmt, "sagemaker") ? LL_MODEL_SAGEMAKER
                             : !strcmp(fmt, "onnx")    ? LL_MODEL_ONNX
                                                       : LL_MODEL_LINLEARN;
        ll_code rc = ll_model_export(m, argv[optind + 1], mf, &err);
        ll_model_free(m);
        return rc == LL_OK ? 0 : tool_fail(cmd, &err);
    }
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
