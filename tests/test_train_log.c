/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_train_log.c - ll_train's log against SageMaker's: a binary run without validation has the
 * structure of the real 2024 log in tests/data/sagemaker/logs (the same line kinds in the same
 * order, the same criteria and metric names, every number as Python 3's repr), and every metric
 * regex of SageMaker's 2020 metric definitions scrapes a number from linlearn's logs.
 */
#include "float_text.h"
#include "linlearn.h"
#include "tt.h"
#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#define REAL_LOG "sagemaker/logs/attrition_binary_2024-08-20_teelenzi_py38.log"
#define METRIC_DEFS "sagemaker/logs/ll_metric_definitions_2020_us-east-2.json"

static char g_dir[] = "/tmp/lltrainlog.XXXXXX";

/* A growing list of strings. */
typedef struct lines {
    char **v;
    size_t n, cap;
} lines;

static void lines_add(lines *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = strdup(s);
}

static void lines_free(lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static void on_log(void *ud, const char *line)
{
    lines_add(ud, line);
}

/* Is s (up to a terminator in stop) a number printed as Python's repr prints it? */
static int is_repr(const char *s, size_t len)
{
    char buf[64], back[32];
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    double v = strtod(buf, &end);
    if (*end)
        return 0;
    float_text_repr(v, back);
    return !strcmp(back, buf);
}

/* Every number after a "=", ": " or "(" ... ", " in a metric line must be a repr. Returns 0
 * and names the bad one in why. */
static int numbers_are_repr(const char *line, char *why, size_t cap)
{
    static const char *marks[] = {
        "<loss>=", "<score>=", "value=", "throughput=", "', ", "\"sum\": ", "completed "};
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
        for (const char *p = strstr(line, marks[m]); p; p = strstr(p + 1, marks[m])) {
            const char *s = p + strlen(marks[m]);
            size_t n = strcspn(s, " ,)}");
            if (!strcmp(marks[m], "completed ") && !strncmp(s, "100 % epochs", 12))
                continue; /* SageMaker's literal after an early stop */
            if (!is_repr(s, n)) {
                snprintf(why, cap, "'%.*s' after '%s'", (int)n, s, marks[m]);
                return 0;
            }
        }
    }
    return 1;
}

/* The kind of a log line (prefix "[date LEVEL thread] " removed), or NULL for a line that is
 * not one of the training loop's or metric lines. */
static int kind_of(const char *line, char *out, size_t cap)
{
    char a[160], b[160], c[32];
    unsigned e;
    if (!strncmp(line, "#metrics {", 10)) {
        json_t *j = json_loads(line + 9, 0, NULL);
        if (!j)
            return snprintf(out, cap, "metrics (not JSON)"), 1;
        json_t *d = json_object_get(j, "Dimensions"), *m = json_object_get(j, "Metrics");
        const char *first = json_object_iter_key(json_object_iter(m));
        if (json_object_get(d, "model"))
            snprintf(out, cap, "#metrics model %s", first ? first : "?");
        else if (json_object_get(d, "Meta"))
            snprintf(out, cap, "#metrics meta %s", json_string_value(json_object_get(d, "Meta")));
        else { /* the summary: its timer names, sorted */
            const char *names[16];
            size_t n = 0;
            const char *k;
            json_t *v;
            json_object_foreach(m, k, v)
            {
                if (n < 16)
                    names[n++] = k;
            }
            for (size_t i = 1; i < n; i++)
                for (size_t q = i; q > 0 && strcmp(names[q - 1], names[q]) > 0; q--) {
                    const char *t = names[q];
                    names[q] = names[q - 1];
                    names[q - 1] = t;
                }
            size_t len = (size_t)snprintf(out, cap, "#metrics summary");
            for (size_t i = 0; i < n && len < cap; i++)
                len += (size_t)snprintf(out + len, cap - len, " %s", names[i]);
        }
        json_decref(j);
        return 1;
    }
    if (sscanf(line, "#quality_metric: host=%*[^,], epoch=%u, %159s %159s <%31[a-z]>=", &e, a, b,
               c) == 4)
        return snprintf(out, cap, "quality epoch %s %s <%s>", a, b, c), 1;
    if (sscanf(line, "#quality_metric: host=%*[^,], %159s %159s <%31[a-z]>=", a, b, c) == 3)
        return snprintf(out, cap, "quality final %s %s <%s>", a, b, c), 1;
    if (sscanf(line, "#early_stopping_criteria_metric: host=%*[^,], epoch=%u, criteria=%159[^,],",
               &e, a) == 2)
        return snprintf(out, cap, "criteria %s", a), 1;
    if (sscanf(line, "Epoch %u: Loss improved. Updating best model%c", &e, c) == 1)
        return snprintf(out, cap, "loss improved"), 1;
    if (sscanf(line, "Saving model for epoch: %u%c", &e, c) == 1)
        return snprintf(out, cap, "saving model"), 1;
    if (!strncmp(line, "Saved checkpoint to \"", 21))
        return snprintf(out, cap, "saved checkpoint"), 1;
    if (!strncmp(line, "#progress_metric: host=", 23))
        return snprintf(out, cap,
                        strstr(line, "completed 100 % epochs") ? "progress 100 %% epochs"
                                                               : "progress of epochs"),
               1;
    if (!strncmp(line, "#throughput_metric: host=", 25))
        return snprintf(out, cap, "throughput"), 1;
    if (!strcmp(line, "Early stop condition met. Stopping training."))
        return snprintf(out, cap, "early stop"), 1;
    if (sscanf(line, "#%31[a-z]_score (%*[^)]) : ('%159[^']', ", c, a) == 2)
        return snprintf(out, cap, "score %s %s", c, a), 1;
    if (!strncmp(line, "Best model found for hyperparameters: {", 39)) {
        /* the keys, in their order */
        size_t len = (size_t)snprintf(out, cap, "best model");
        for (const char *p = strchr(line, '{'); p && (p = strchr(p, '"'));) {
            const char *q = strchr(p + 1, '"');
            if (!q)
                break;
            if (q[1] == ':' && len < cap)
                len += (size_t)snprintf(out + len, cap - len, " %.*s", (int)(q - p - 1), p + 1);
            p = q + 1;
        }
        return 1;
    }
    if (!strcmp(line, "Test data is not provided."))
        return snprintf(out, cap, "no test"), 1;
    return 0;
}

/* The kinds of a log, consecutive repeats of a per-model #metrics line folded into one
 * ("... x32"). `strip` removes SageMaker's "[date LEVEL thread] " prefix where there is one. Lines
 * that are no kind go to other. Lines whose numbers are not repr go to bad. */
static void kinds_of(const lines *log, int strip, lines *kinds, lines *other, lines *bad)
{
    char k[1200], prev[1200] = "", why[200];
    unsigned rep = 0;
    for (size_t i = 0; i <= log->n; i++) {
        int have = 0;
        if (i < log->n) {
            const char *s = log->v[i];
            if (strip && s[0] == '[' && strstr(s, "] ")) /* the real #metrics lines have none */
                s = strstr(s, "] ") + 2;
            have = kind_of(s, k, sizeof k);
            if (!have && other)
                lines_add(other, s);
            if (have && bad && !numbers_are_repr(s, why, sizeof why)) {
                char b[1400];
                snprintf(b, sizeof b, "%s: %.300s", why, s);
                lines_add(bad, b);
            }
            if (!have)
                continue;
            if (!strncmp(k, "#metrics model ", 15) && !strcmp(k, prev)) {
                rep++;
                continue;
            }
        }
        if (prev[0]) {
            char b[1300];
            if (rep > 1)
                snprintf(b, sizeof b, "%s x%u", prev, rep);
            else
                snprintf(b, sizeof b, "%s", prev);
            lines_add(kinds, b);
        }
        if (i < log->n) {
            snprintf(prev, sizeof prev, "%s", k);
            rep = 1;
        }
    }
}

/* A log's kinds in three parts: before the first epoch, the epochs (each one string of its
 * kinds joined by " | "), and from the first final score on. */
typedef struct shape {
    lines pre, epochs, fin;
} shape;

static void shape_of(const lines *kinds, shape *sh)
{
    memset(sh, 0, sizeof *sh);
    size_t i = 0;
    for (; i < kinds->n && strncmp(kinds->v[i], "#metrics model", 14); i++)
        lines_add(&sh->pre, kinds->v[i]);
    char cur[8000] = "";
    for (; i < kinds->n && strncmp(kinds->v[i], "score ", 6); i++) {
        if (!strncmp(kinds->v[i], "#metrics model train_", 21) && cur[0]) {
            lines_add(&sh->epochs, cur);
            cur[0] = 0;
        }
        size_t len = strlen(cur);
        snprintf(cur + len, sizeof cur - len, "%s%s", len ? " | " : "", kinds->v[i]);
    }
    if (cur[0])
        lines_add(&sh->epochs, cur);
    for (; i < kinds->n; i++)
        lines_add(&sh->fin, kinds->v[i]);
}

static void shape_free(shape *sh)
{
    lines_free(&sh->pre);
    lines_free(&sh->epochs);
    lines_free(&sh->fin);
}

static int read_lines(const char *path, lines *l)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char buf[1 << 16];
    while (fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\r\n")] = 0;
        lines_add(l, buf);
    }
    fclose(f);
    return 1;
}

/* A noisy binary problem like the real job's (6548 rows, 20 features, mini_batch_size 100):
 * the train loss levels off, so early stopping ends the run. Deterministic. */
static void write_noisy_binary(const char *path)
{
    FILE *f = fopen(path, "w");
    uint64_t x = 12345;
    double w[20];
    for (int j = 0; j < 20; j++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        w[j] = ((double)(x >> 11) / 9007199254740992.0 - 0.5) * 0.6;
    }
    for (int i = 0; i < 6548; i++) {
        double v[20], z = 0.1;
        for (int j = 0; j < 20; j++) {
            double s = 0;
            for (int q = 0; q < 3; q++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                s += (double)(x >> 11) / 9007199254740992.0 - 0.5;
            }
            v[j] = s * 2;
            z += w[j] * v[j];
        }
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(x >> 11) / 9007199254740992.0;
        fprintf(f, "%d", u < 1 / (1 + exp(-z)) ? 1 : 0);
        for (int j = 0; j < 20; j++)
            fprintf(f, ",%.4f", v[j]);
        fputc('\n', f);
    }
    fclose(f);
}

static ll_code train_log(const char *tr, const char *va, const char *te, const char *const *kv,
                         const char *ckdir, lines *log, ll_err *err)
{
    ll_hparams *hp = NULL;
    ll_code rc = ll_hparams_new(&hp, err);
    for (size_t i = 0; rc == LL_OK && kv[i]; i += 2)
        rc = ll_hparams_set(hp, kv[i], kv[i + 1], err);
    ll_train_opts o;
    ll_train_opts_init(&o);
    o.train = tr;
    o.validation = va;
    o.test = te;
    o.threads = 1;
    o.log = on_log;
    o.ud = log;
    o.checkpoint_dir = ckdir;
    if (rc == LL_OK)
        rc = ll_train(hp, &o, err);
    ll_hparams_free(hp);
    return rc;
}

static int in(const lines *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return 1;
    return 0;
}

static void binary_log_has_the_real_structure(void)
{
    char real_path[512], data[600], ck[600];
    snprintf(real_path, sizeof real_path, "%s/%s", tt_testdata(), REAL_LOG);
    snprintf(data, sizeof data, "%s/noisy.csv", g_dir);
    snprintf(ck, sizeof ck, "%s/ck", g_dir);
    write_noisy_binary(data);
    CHECK(mkdir(ck, 0700) == 0);
    lines real = {0}, ours = {0};
    CHECKF(read_lines(real_path, &real), "cannot read %s", real_path);
    ll_err err;
    static const char *const kv[] = {"predictor_type", "binary_classifier", "mini_batch_size",
                                     "100", NULL};
    CHECK_OK(train_log(data, NULL, NULL, kv, ck, &ours, &err));

    lines rk = {0}, ok = {0}, other = {0}, rbad = {0}, obad = {0};
    kinds_of(&real, 1, &rk, NULL, &rbad);
    kinds_of(&ours, 0, &ok, &other, &obad);
    /* the checker itself: the real log's numbers are all repr */
    CHECKF(rbad.n == 0, "real log: %s", rbad.v[0]);
    CHECKF(obad.n == 0, "not Python's repr: %s", obad.v[0]);
    /* linlearn's own lines (none in a run without a checkpoint to load but this one) */
    for (size_t i = 0; i < other.n; i++)
        CHECKF(!strncmp(other.v[i], "No checkpoint at ", 17), "a line SageMaker has no kind of: %s",
               other.v[i]);
    shape rs, os;
    shape_of(&rk, &rs);
    shape_of(&ok, &os);
    if (getenv("TT_VERBOSE")) {
        for (size_t i = 0; i < os.epochs.n; i++)
            printf("  epoch %zu: %s\n", i, os.epochs.v[i]);
    }
    CHECKF(rs.epochs.n == 10 && rs.pre.n == 1, "the real log: %zu epochs", rs.epochs.n);
    CHECKF(os.pre.n == rs.pre.n && !strcmp(os.pre.v[0], rs.pre.v[0]), "before the epochs: %s",
           os.pre.n ? os.pre.v[0] : "(nothing)");
    /* every epoch is one of the real log's three shapes: improved, not improved, early stop;
     * only the last one stops, and all three occur */
    const char *stop_shape = rs.epochs.v[rs.epochs.n - 1];
    CHECKF(strstr(stop_shape, "early stop") != NULL, "real last epoch: %s", stop_shape);
    int seen_imp = 0, seen_not = 0;
    for (size_t i = 0; i < os.epochs.n; i++) {
        const char *ep = os.epochs.v[i];
        CHECKF(in(&rs.epochs, ep),
               "epoch %zu has no counterpart in the real log:\n    %s\n"
               "  real epoch 0:\n    %s",
               i, ep, rs.epochs.v[0]);
        int last = i + 1 == os.epochs.n;
        CHECKF(last == (strcmp(ep, stop_shape) == 0), "epoch %zu: early stop %s", i,
               last ? "missing at the end" : "before the end");
        seen_imp |= strstr(ep, "loss improved") != NULL;
        seen_not |= !last && !strstr(ep, "loss improved");
    }
    CHECKF(seen_imp && seen_not, "epochs improved %d, not improved %d (the run must show both)",
           seen_imp, seen_not);
    /* the final block: the same kinds in the same order, line for line, but for the one
     * documented difference (docs/TRAINING.md): SageMaker's `Saved checkpoint` after the
     * selected model's line (linlearn writes model.tar.gz after the test metrics) */
    for (size_t i = 0; i < rs.fin.n; i++)
        if (!strcmp(rs.fin.v[i], "saved checkpoint") && i > 0 &&
            !strncmp(rs.fin.v[i - 1], "best model", 10)) {
            free(rs.fin.v[i]);
            memmove(rs.fin.v + i, rs.fin.v + i + 1, (rs.fin.n - i - 1) * sizeof *rs.fin.v);
            rs.fin.n--;
        }
    for (size_t i = 0; i < rs.fin.n || i < os.fin.n; i++)
        CHECKF(i < rs.fin.n && i < os.fin.n && !strcmp(rs.fin.v[i], os.fin.v[i]),
               "final line %zu: real '%s', linlearn '%s'", i, i < rs.fin.n ? rs.fin.v[i] : "-",
               i < os.fin.n ? os.fin.v[i] : "-");
    shape_free(&rs);
    shape_free(&os);
    lines_free(&real);
    lines_free(&ours);
    lines_free(&rk);
    lines_free(&ok);
    lines_free(&other);
    lines_free(&rbad);
    lines_free(&obad);
}

/* POSIX ERE from a Python regex of the metric definitions (\S, \s, \d and escaped marks). */
static void to_ere(const char *py, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = py; *p && n + 16 < cap; p++) {
        if (p[0] == '\\' && p[1]) {
            const char *r = p[1] == 'S'   ? "[^[:space:]]"
                            : p[1] == 's' ? "[[:space:]]"
                            : p[1] == 'd' ? "[0-9]"
                                          : NULL;
            if (r) {
                n += (size_t)snprintf(out + n, cap - n, "%s", r);
            } else {
                out[n++] = '\\';
                out[n++] = p[1];
            }
            p++;
        } else
            out[n++] = *p;
    }
    out[n] = 0;
}

static void every_metric_regex_scrapes(void)
{
    const char *td = tt_testdata();
    char defs[512], p[3][3][600];
    snprintf(defs, sizeof defs, "%s/%s", td, METRIC_DEFS);
    static const char *sets[3] = {"breast_cancer", "digits", "diabetes"};
    for (int s = 0; s < 3; s++)
        for (int c = 0; c < 3; c++)
            snprintf(p[s][c], sizeof p[s][c], "%s/datasets/%s/%s.csv", td, sets[s],
                     c == 0   ? "train"
                     : c == 1 ? "validation"
                              : "test");
    static const char *const kv[3][9] = {
        {"predictor_type", "binary_classifier", "epochs", "3", NULL},
        {"predictor_type", "multiclass_classifier", "num_classes", "10", "epochs", "3", NULL},
        {"predictor_type", "regressor", "epochs", "3", NULL}};
    lines log = {0};
    ll_err err;
    for (int s = 0; s < 3; s++)
        CHECK_OK(train_log(p[s][0], p[s][1], p[s][2], kv[s], NULL, &log, &err));
    json_error_t je;
    json_t *j = json_load_file(defs, 0, &je);
    CHECKF(json_is_array(j) && json_array_size(j) == 37, "%s: %s", defs, je.text);
    size_t i;
    json_t *d;
    json_array_foreach(j, i, d)
    {
        const char *name = json_string_value(json_object_get(d, "Name"));
        const char *py = json_string_value(json_object_get(d, "Regex"));
        char ere[512];
        to_ere(py, ere, sizeof ere);
        regex_t re;
        CHECKF(regcomp(&re, ere, REG_EXTENDED) == 0, "%s: cannot compile %s", name, ere);
        int hits = 0, numeric = 1;
        for (size_t l = 0; l < log.n; l++) {
            regmatch_t m[2];
            if (regexec(&re, log.v[l], 2, m, 0) != 0)
                continue;
            hits++;
            char v[64];
            int len = (int)(m[1].rm_eo - m[1].rm_so);
            snprintf(v, sizeof v, "%.*s", len < 63 ? len : 63, log.v[l] + m[1].rm_so);
            char *end;
            double x = strtod(v, &end);
            numeric &= *end == 0 && isfinite(x);
        }
        regfree(&re);
        CHECKF(hits > 0, "%s (%s) scrapes nothing", name, py);
        CHECKF(numeric, "%s scrapes a non-number", name);
    }
    json_decref(j);
    lines_free(&log);
}

int main(void)
{
    TT_BEGIN("train_log");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(binary_log_has_the_real_structure);
    RUN(every_metric_regex_scrapes);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_dir);
    TT_END();
}
