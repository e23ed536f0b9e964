/* SPDX-License-Identifier: Apache-2.0 */
/* test_report.c - the people's side of training: "did you mean" (ll_closest), the history's
 * ROC points and confusion matrix against counts worked out by hand (history.c), and the
 * report page and summary drawn from a document (report.c). */
#include "history.h"
#include "linlearn.h"
#include "mem.h"
#include "report.h"
#include "tt.h"
#include <math.h>
#include <stdlib.h>

static void test_closest(void)
{
    const char *cmds[] = {"convert", "inspect", "train", "export", "predict", "serve", "pipe"};
    CHECK(!strcmp(ll_closest("convrt", cmds, 7), "convert"));
    CHECK(!strcmp(ll_closest("trian", cmds, 7), "train"));
    CHECK(!strcmp(ll_closest("PREDICT", cmds, 7), "predict"));
    CHECK(ll_closest("xyzzy", cmds, 7) == NULL);
    CHECK(ll_closest("", cmds, 7) == NULL);
    const char *hps[] = {"epochs", "early_stopping_patience", "num_models", NULL, "l1"};
    CHECK(!strcmp(ll_closest("epoch", hps, 5), "epochs"));
    CHECK(!strcmp(ll_closest("num_model", hps, 5), "num_models"));
    CHECK(ll_closest("wd", hps, 5) == NULL); /* two letters: only one edit allowed, none close */
}

/* A binary history of K = 2 models over rows whose scores are known. */
static void binary_hist(hist *h, hp_values *hv, sgd *s, sgd_cfg *cfg)
{
    memset(hv, 0, sizeof *hv);
    memset(s, 0, sizeof *s);
    hv->pred = LL_BINARY_CLASSIFIER;
    hv->loss = LOSS_HINGE; /* scores are the raw outputs */
    hv->epochs = 3;
    s->K = 2;
    cfg[0] = (sgd_cfg){0.1, 0.01, 0, 1};
    cfg[1] = (sgd_cfg){0.5, 0, 0.001, 1};
    s->cfg = cfg;
    ll_err err;
    hist_init(h, hv, s, "obj", "sampled_accuracy", 1, NULL, &err);
}

static void test_roc_and_confusion(void)
{
    hist h;
    hp_values hv;
    sgd s;
    sgd_cfg cfg[2];
    binary_hist(&h, &hv, &s, cfg);
    /* scores 0.9 0.8 0.7 0.6 0.4 0.3 0.2 0.1, labels 1 1 0 1 0 1 0 0 */
    float z[8] = {0.9f, 0.8f, 0.7f, 0.6f, 0.4f, 0.3f, 0.2f, 0.1f};
    float y[8] = {1, 1, 0, 1, 0, 1, 0, 0};
    hist_rows(&h, 1, z, y, NULL, 8, 0.5f);
    const char *src[3] = {"t.csv", "v.csv", NULL};
    json_t *j = hist_json(&h, src, 1.5, 100);
    json_t *v = json_object_get(json_object_get(j, "channels"), "validation");
    json_t *m = json_object_get(json_object_get(v, "confusion"), "matrix");
    /* above 0.5: 0.9 0.8 0.7 0.6 -> tp 3, fp 1; below: fn 1 (0.3), tn 3 */
    CHECK(json_real_value(json_array_get(json_array_get(m, 0), 0)) == 3);
    CHECK(json_real_value(json_array_get(json_array_get(m, 0), 1)) == 1);
    CHECK(json_real_value(json_array_get(json_array_get(m, 1), 0)) == 1);
    CHECK(json_real_value(json_array_get(json_array_get(m, 1), 1)) == 3);
    json_t *roc = json_object_get(v, "roc");
    json_t *at = json_object_get(roc, "at_threshold");
    CHECK(fabs(json_real_value(json_object_get(at, "tpr")) - 0.75) < 1e-12);
    CHECK(fabs(json_real_value(json_object_get(at, "fpr")) - 0.25) < 1e-12);
    CHECK(fabs(json_real_value(json_object_get(at, "precision")) - 0.75) < 1e-12);
    /* 8 distinct scores: 9 points from (0,0) to (1,1), thresholds descending */
    json_t *fpr = json_object_get(roc, "fpr"), *tpr = json_object_get(roc, "tpr");
    CHECK(json_array_size(fpr) == 9);
    CHECK(json_real_value(json_array_get(fpr, 0)) == 0 &&
          json_real_value(json_array_get(tpr, 0)) == 0);
    CHECK(json_real_value(json_array_get(fpr, 8)) == 1 &&
          json_real_value(json_array_get(tpr, 8)) == 1);
    /* after 0.9 0.8 0.7: tp 2 of 4, fp 1 of 4 */
    CHECK(json_real_value(json_array_get(tpr, 3)) == 0.5 &&
          json_real_value(json_array_get(fpr, 3)) == 0.25);
    json_decref(j);
    hist_deinit(&h);
}

static void test_epochs_and_nan(void)
{
    hist h;
    hp_values hv;
    sgd s;
    sgd_cfg cfg[2];
    binary_hist(&h, &hv, &s, cfg);
    double tl[2] = {1.0, 3.0}, va[2] = {0.5, NAN}, cr[2] = {0.9, 0.8};
    hist_epoch(&h, 0, tl, 2.0, va, cr, 0.9, 100, 1000);
    hist_select(&h, 0, 0.5, 0.9);
    json_t *j = hist_json(&h, NULL, 1, 1);
    json_t *e = json_array_get(json_object_get(j, "epochs"), 0);
    CHECK(json_real_value(json_array_get(json_object_get(e, "train"), 1)) == 1.5); /* 3 / 2 */
    CHECK(json_is_null(json_array_get(json_object_get(e, "validation"), 1)));
    json_t *mods = json_object_get(j, "models");
    CHECK(json_array_size(mods) == 2);
    CHECK(json_real_value(json_object_get(json_array_get(mods, 1), "learning_rate")) == 0.5);
    CHECK(json_is_null(json_object_get(json_array_get(mods, 1), "selection_value")));
    /* the page draws it: a NaN is a gap, not a crash; every section that applies is there */
    json_t *doc = json_object();
    json_object_set_new(doc, "history", j);
    json_object_set_new(doc, "hyperparameters",
                        json_pack("{s:s}", "predictor_type", "binary_classifier"));
    json_object_set_new(doc, "metrics", json_pack("{s:f}", "validation:objective_loss", 0.5));
    json_object_set_new(doc, "selected_model",
                        json_pack("{s:i,s:f}", "index", 0, "threshold", 0.5));
    char *html = report_html(doc);
    CHECK(html != NULL);
    CHECK(strstr(html, "<section id=\"curves\">") && strstr(html, "<section id=\"models\">"));
    CHECK(strstr(html, "class=\"model selected\" data-model=\"0\""));
    CHECK(!strstr(html, "<script") && !strstr(html, "nan") && !strstr(html, "inf\""));
    free(html);
    char *txt = json_dumps(doc, 0);
    char *sum = ll_report_summary(txt);
    CHECK(sum && strstr(sum, "Selected model 0") && strstr(sum, "objective_loss"));
    free(sum);
    free(txt);
    CHECK(ll_report_summary("[1, 2]") == NULL);
    json_decref(doc);
    hist_deinit(&h);
}

/* Every allocation of the history and the page failing in turn: NULL or LL_E_NOMEM, no crash
 * and no leak (ASan builds check the leaks). */
static void test_out_of_memory(void)
{
    int ok_seen = 0;
    for (unsigned long n = 1; n < 400 && !ok_seen; n++) {
        hp_values hv;
        memset(&hv, 0, sizeof hv);
        hv.pred = LL_BINARY_CLASSIFIER;
        hv.epochs = 2;
        sgd s;
        memset(&s, 0, sizeof s);
        sgd_cfg cfg[1] = {{0.1, 0, 0, 1}};
        s.K = 1;
        s.cfg = cfg;
        hist h;
        ll_err err;
        mem_fail_after(n);
        ll_code rc = hist_init(&h, &hv, &s, "obj", "crit", 0, NULL, &err);
        if (rc == LL_OK) {
            double tl[1] = {1};
            float z[2] = {0.2f, 0.8f}, y[2] = {0, 1};
            hist_epoch(&h, 0, tl, 1, NULL, NULL, 1, 2, 2);
            hist_rows(&h, 0, z, y, NULL, 2, 0.5f);
            json_t *doc = json_pack("{s:{},s:{},s:{s:i}}", "hyperparameters", "metrics",
                                    "selected_model", "index", 0);
            json_object_set_new(doc, "history", hist_json(&h, NULL, 1, 1));
            char *html = report_html(doc);
            ok_seen = html != NULL && mem_fail_after(0) < n; /* no call failed: the end */
            free(html);
            json_decref(doc);
            hist_deinit(&h);
        } else {
            CHECK(rc == LL_E_NOMEM);
        }
        mem_fail_after(0);
    }
    CHECK(ok_seen);
}

int main(void)
{
    TT_BEGIN("test_report");
    RUN(test_closest);
    RUN(test_roc_and_confusion);
    RUN(test_epochs_and_nan);
    RUN(test_out_of_memory);
    TT_END();
}
