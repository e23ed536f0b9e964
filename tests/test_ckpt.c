/* SPDX-License-Identifier: Apache-2.0 */
/* test_ckpt.c - checkpoints and resume: a run stopped at many points (as SIGTERM does) and
 * resumed from its checkpoint ends with the same model, bit for bit, as an uninterrupted run;
 * a damaged or foreign checkpoint is refused. */
#include "ckpt.h"
#include "tt.h"
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static char g_dir[64];

typedef struct stopper {
    volatile int stop;
    const char *when; /* stop once a log line contains this */
    int lines_with_resume;
    int mid_epoch_saves; /* "Stopped in epoch E after N mini-batches" with N > 0 */
    int saves;           /* "Stopped in epoch" lines, N = 0 too */
    char ignored[700];   /* the "Ignoring the checkpoint" line, if any */
} stopper;

/* checkpoints inside epochs (ll_train_opts.checkpoint_steps), and copying the checkpoint file
 * aside when a line matching g_copy_when is logged (as a SIGKILL right after it would leave) */
static uint64_t g_ck_steps;
static const char *g_copy_when;
static char g_copy_cmd[600];
static char g_loaded[700];

static void on_log(void *ud, const char *line)
{
    stopper *s = ud;
    if (g_copy_when && strstr(line, g_copy_when)) {
        g_copy_when = NULL;
        if (system(g_copy_cmd) != 0)
            fprintf(stderr, "  could not copy the checkpoint\n");
    }
    if (strstr(line, "Loaded checkpoint"))
        snprintf(g_loaded, sizeof g_loaded, "%s", line);
    if (s->when && strstr(line, s->when))
        s->stop = 1;
    if (strstr(line, "Loaded checkpoint"))
        s->lines_with_resume++;
    if (strstr(line, "Stopped in epoch") && !strstr(line, "after 0 mini-batches"))
        s->mid_epoch_saves++;
    if (strstr(line, "Stopped in epoch"))
        s->saves++;
    if (strstr(line, "Ignoring the checkpoint"))
        snprintf(s->ignored, sizeof s->ignored, "%s", line);
}

static void rmrf(const char *p)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", p);
}

typedef struct setup {
    const char *set; /* "diabetes" or "breast_cancer" */
    const char *hp[20];
    int validation;
    const char *file; /* instead of set: a file in g_dir (the sparse runs) */
} setup;

/* Trains into g_dir/<out>; returns the ll_train result. */
static ll_code train(const setup *su, const char *out, const char *ckdir, stopper *st, ll_err *err)
{
    char tr[512], va[512], md[256];
    snprintf(tr, sizeof tr, "%s/datasets/%s/train.csv", tt_testdata(), su->set);
    if (su->file)
        snprintf(tr, sizeof tr, "%s/%s", g_dir, su->file);
    snprintf(va, sizeof va, "%s/datasets/%s/validation.csv", tt_testdata(), su->set);
    snprintf(md, sizeof md, "%s/%s", g_dir, out);
    mkdir(md, 0755);
    ll_hparams *hp = NULL;
    ll_code rc = ll_hparams_new(&hp, err);
    for (int i = 0; rc == LL_OK && su->hp[i]; i += 2)
        rc = ll_hparams_set(hp, su->hp[i], su->hp[i + 1], err);
    if (rc == LL_OK) {
        ll_train_opts o;
        ll_train_opts_init(&o);
        o.train = tr;
        o.validation = su->validation ? va : NULL;
        o.model_dir = md;
        o.threads = 1;
        o.seed = 7;
        o.checkpoint_dir = ckdir;
        o.checkpoint_steps = g_ck_steps;
        o.stop = st ? &st->stop : NULL;
        o.log = on_log;
        o.ud = st;
        stopper dummy = {0, NULL, 0, 0, 0, ""};
        if (!st)
            o.ud = &dummy;
        rc = ll_train(hp, &o, err);
    }
    ll_hparams_free(hp);
    return rc;
}

/* Whether two trained models are identical (weights, biases, threshold, bit for bit). */
static int same_model(const char *a, const char *b)
{
    char pa[256], pb[256];
    snprintf(pa, sizeof pa, "%s/%s/model.tar.gz", g_dir, a);
    snprintf(pb, sizeof pb, "%s/%s/model.tar.gz", g_dir, b);
    ll_model *ma = NULL, *mb = NULL;
    ll_err err;
    int same = 0;
    if (ll_model_load(pa, &ma, &err) == LL_OK && ll_model_load(pb, &mb, &err) == LL_OK) {
        uint64_t D = ll_model_feature_dim(ma);
        uint32_t C = ll_model_n_outputs(ma);
        same = D == ll_model_feature_dim(mb) && C == ll_model_n_outputs(mb) &&
               !memcmp(ll_model_weights(ma), ll_model_weights(mb), D * C * sizeof(float)) &&
               !memcmp(ll_model_bias(ma), ll_model_bias(mb), C * sizeof(float)) &&
               ll_model_threshold(ma) == ll_model_threshold(mb);
    }
    ll_model_free(ma);
    ll_model_free(mb);
    return same;
}

static const setup REG = {"diabetes",
                          {"predictor_type", "regressor", "epochs", "6", "mini_batch_size", "32",
                           "early_stopping_patience", "10", NULL},
                          1,
                          NULL};
static const setup BIN = {"breast_cancer",
                          {"predictor_type", "binary_classifier", "epochs", "8", "num_models", "4",
                           "early_stopping_patience", "1", "early_stopping_tolerance", "0.1", NULL},
                          0,
                          NULL};

/* Stops a checkpointed run when a line matching `when` is logged, then resumes (possibly
 * stopping again at `when2`), and compares the result with the reference. */
static int stop_and_resume(const setup *su, const char *ref, const char *when, const char *when2,
                           int *resumed)
{
    char ck[128];
    snprintf(ck, sizeof ck, "%s/ck", g_dir);
    rmrf(ck);
    mkdir(ck, 0755);
    ll_err err;
    stopper st = {0, when, 0, 0, 0, ""};
    ll_code rc = train(su, "run", ck, &st, &err);
    if (rc != LL_E_STATE || !st.stop) {
        fprintf(stderr, "  run was not stopped at '%s' (rc %d)\n", when, (int)rc);
        return 0;
    }
    *resumed = 0;
    if (when2) {
        stopper s2 = {0, when2, 0, 0, 0, ""};
        rc = train(su, "run", ck, &s2, &err);
        *resumed += s2.lines_with_resume;
        if (rc != LL_E_STATE) {
            fprintf(stderr, "  second run was not stopped at '%s'\n", when2);
            return 0;
        }
    }
    stopper s3 = {0, NULL, 0, 0, 0, ""};
    rc = train(su, "run", ck, &s3, &err);
    *resumed += s3.lines_with_resume;
    if (rc != LL_OK) {
        char b[512];
        fprintf(stderr, "  resume failed: %s\n", ll_err_format(&err, b, sizeof b));
        return 0;
    }
    return same_model("run", ref);
}

static void resume_regressor_everywhere(void)
{
    ll_err err;
    CHECK_OK(train(&REG, "ref", NULL, NULL, &err));
    /* every epoch boundary, after the train pass and after the validation pass */
    static const char *points[] = {
        "epoch=0, train mse_objective", "epoch=0, validation mse_objective",
        "epoch=2, train mse_objective", "epoch=3, validation mse_objective",
        "epoch=5, train mse_objective", "#train_score", /* during final metrics */
    };
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        int resumed = 0;
        CHECKF(stop_and_resume(&REG, "ref", points[i], NULL, &resumed),
               "stopped at '%s': the resumed model differs", points[i]);
        CHECKF(resumed == 1, "stopped at '%s': resumed %d times", points[i], resumed);
    }
    int resumed = 0;
    CHECK(stop_and_resume(&REG, "ref", "epoch=1, validation", "epoch=4, train", &resumed));
    CHECK(resumed == 2);
}

/* A resume after more than 1024 optimizer steps (the first size of the learning-rate sums the
 * lazy updates keep): the restored step counter must come with room for its sums. */
static const setup LONG = {"diabetes",
                           {"predictor_type", "regressor", "epochs", "40", "mini_batch_size", "8",
                            "early_stopping_patience", "50", NULL},
                           1,
                           NULL};

/* checkpoint_steps: saving inside epochs changes nothing; the checkpoint a kill right after
 * "Saved checkpoint inside epoch 2 after 3 mini-batch steps" leaves resumes inside that epoch
 * to the uninterrupted model, bit for bit */
static void resume_inside_epoch_checkpoint(void)
{
    ll_err err;
    CHECK_OK(train(&REG, "ref_in", NULL, NULL, &err));
    char ck[128], ck2[128];
    snprintf(ck, sizeof ck, "%s/ck_in", g_dir);
    snprintf(ck2, sizeof ck2, "%s/ck_in2", g_dir);
    rmrf(ck);
    rmrf(ck2);
    mkdir(ck, 0755);
    mkdir(ck2, 0755);
    snprintf(g_copy_cmd, sizeof g_copy_cmd, "cp '%s/linlearn-state.ckpt' '%s/'", ck, ck2);
    g_copy_when = "Saved checkpoint inside epoch 2 after 3 mini-batch steps";
    g_ck_steps = 3;
    CHECK_OK(train(&REG, "run_in", ck, NULL, &err));
    CHECK(g_copy_when == NULL); /* the line came */
    CHECK(same_model("run_in", "ref_in"));
    g_ck_steps = 0;
    g_loaded[0] = 0;
    CHECK_OK(train(&REG, "run_in2", ck2, NULL, &err));
    CHECKF(strstr(g_loaded, "continuing inside epoch 2 after 3 mini-batch steps"), "loaded: %s",
           g_loaded);
    CHECK(same_model("run_in2", "ref_in"));
    g_copy_when = NULL;
}

static void resume_after_many_steps(void)
{
    ll_err err;
    CHECK_OK(train(&LONG, "ref_long", NULL, NULL, &err));
    int resumed = 0;
    CHECK(stop_and_resume(&LONG, "ref_long", "epoch=35, train mse_objective", NULL, &resumed));
    CHECK(resumed == 1);
}

static void resume_binary_early_stop(void)
{
    ll_err err;
    CHECK_OK(train(&BIN, "bref", NULL, NULL, &err));
    static const char *points[] = {"epoch=1, train", "epoch=3, train", "Early stop",
                                   "Saving model for epoch: 2", "completed 100 % epochs"};
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        int resumed = 0;
        CHECKF(stop_and_resume(&BIN, "bref", points[i], NULL, &resumed),
               "stopped at '%s': the resumed model differs", points[i]);
    }
}

typedef struct timer {
    stopper *st;
    long us;
} timer;

static void *stop_later(void *arg)
{
    timer *t = arg;
    struct timespec ts = {t->us / 1000000, (t->us % 1000000) * 1000};
    nanosleep(&ts, NULL);
    __atomic_store_n(&t->st->stop, 1, __ATOMIC_RELEASE);
    return NULL;
}

static const setup SLOW = {"diabetes",
                           {"predictor_type", "regressor", "epochs", "12", "mini_batch_size", "4",
                            "early_stopping_patience", "20", "num_models", "8", NULL},
                           1,
                           NULL};

static const setup SLOWBIN = {"breast_cancer",
                              {"predictor_type", "binary_classifier", "epochs", "8",
                               "mini_batch_size", "4", "num_models", "4", "early_stopping_patience",
                               "1", NULL},
                              0,
                              NULL};

/* Stops su's run at random moments (as a SIGTERM would), resumes each time, until it
 * completes; the model must equal an uninterrupted run's. Returns -1 when it does not (or on
 * an error), else the number of saves made inside an epoch's train pass. */
static int random_stops(const setup *su, unsigned seed)
{
    ll_err err;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (train(su, "sref", NULL, NULL, &err) != LL_OK)
        return -1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long run_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    char ck[128];
    snprintf(ck, sizeof ck, "%s/ck4", g_dir);
    rmrf(ck);
    mkdir(ck, 0755);
    srand(seed);
    int stops = 0, mid = 0, resumes = 0, saves = 0;
    char ignored[700] = "";
    ll_code rc = LL_E_STATE;
    /* a stop before the first epoch (setup, the scaler pass) or after the last saves nothing:
     * while none has saved, the stops move later, so a slow start on a loaded machine does not
     * leave every stop outside the epochs */
    long lead = run_us / 20;
    for (int round = 0; round < 60 && rc != LL_OK; round++) {
        stopper st = {0, NULL, 0, 0, 0, ""};
        timer tm = {&st, lead + rand() % (run_us / 3 + 1)};
        pthread_t th;
        if (pthread_create(&th, NULL, stop_later, &tm) != 0)
            return -1;
        rc = train(su, "srun", ck, &st, &err);
        pthread_join(th, NULL);
        if (rc != LL_OK && rc != LL_E_STATE) {
            fprintf(stderr, "  round %d: rc %d: %s\n", round, (int)rc, err.msg);
            return -1;
        }
        stops += rc == LL_E_STATE;
        mid += st.mid_epoch_saves;
        resumes += st.lines_with_resume;
        saves += st.saves;
        if (st.ignored[0])
            snprintf(ignored, sizeof ignored, "%s", st.ignored);
        if (!saves)
            lead += run_us / 10 + 1;
    }
    if (rc != LL_OK) {
        stopper st = {0, NULL, 0, 0, 0, ""};
        if (train(su, "srun", ck, &st, &err) != LL_OK)
            return -1;
    }
    if (saves && !resumes) { /* a checkpoint was saved but never taken up */
        fprintf(stderr,
                "  %d stops but no resume (%d saved a checkpoint; an uninterrupted run took %ld "
                "us)%s%s\n",
                stops, saves, run_us, ignored[0] ? "; last refusal: " : "", ignored);
        return -1;
    }
    return same_model("srun", "sref") ? mid : -1;
}

static void resume_random_stops(void)
{
    /* timing decides where the stops fall: repeat until some fell inside a train pass */
    static const setup *sets[] = {&SLOW, &SLOWBIN}; /* SLOWBIN: the early-stopping sample is
                                                       filled during the train pass */
    for (int i = 0; i < 2; i++) {
        int mid = 0;
        for (unsigned a = 0; a < 8 && mid == 0; a++) {
            mid = random_stops(sets[i], 1000 * i + a);
            CHECKF(mid >= 0, "%s: the resumed model differs", sets[i]->set);
        }
        CHECKF(mid > 0, "%s: no stop fell inside an epoch", sets[i]->set);
    }
}

/* Sparse rows over 300 features, a few very common and many rare (their weights catch up
 * lazily over many steps), labels from a linear rule: LIBSVM into g_dir/name. */
static void write_sparse(const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    FILE *f = fopen(p, "w");
    uint64_t x = 42;
    for (int i = 0; i < 1500 && f; i++) {
        double z = 0;
        char line[1024];
        int n = 0, last = 0;
        for (int j = 1; j <= 300; j++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            double u = (double)(x >> 11) / 9007199254740992.0;
            if (u < (j <= 5 ? 0.5 : 0.02)) {
                double v = ((x >> 3) & 7) / 4.0 - 0.8;
                n += snprintf(line + n, sizeof line - n, " %d:%.3g", j, v);
                z += v * ((j % 5) - 2);
                last = j;
            }
        }
        (void)last;
        fprintf(f, "%d%s\n", z > 0, line);
    }
    if (f)
        fclose(f);
}

#define SPARSE_HP(opt)                                                                             \
    {                                                                                              \
        "predictor_type", "binary_classifier", "feature_dim", "300", "epochs", "5",                \
            "mini_batch_size", "6", "num_models", "4", "optimizer", opt, "wd", "0.01", "l1",       \
            "0.001", "early_stopping_patience", "10", NULL                                         \
    }
static const setup SP_ADAM = {"sparse adam", SPARSE_HP("adam"), 0, "sparse.libsvm"};
static const setup SP_SGD = {"sparse sgd", SPARSE_HP("sgd"), 0, "sparse.libsvm"};
static const setup SP_RMS = {"sparse rmsprop", SPARSE_HP("rmsprop"), 0, "sparse.libsvm"};

/* Sparse data, every optimizer, wd and l1 (lazy catch-up of rare features): stopped at random
 * moments again and again (several stops a run) and at fixed points, the resumed model equals
 * the uninterrupted one bit for bit; the checkpoint carries the lazy state (flag 16). */
static void resume_sparse_every_optimizer(void)
{
    write_sparse("sparse.libsvm");
    static const setup *sets[] = {&SP_ADAM, &SP_SGD, &SP_RMS};
    for (int i = 0; i < 3; i++) {
        int mid = 0;
        for (unsigned a = 0; a < 6 && mid < 2; a++) {
            int m = random_stops(sets[i], 500 + 100 * i + a);
            CHECKF(m >= 0, "%s: the resumed model differs", sets[i]->set);
            if (m < 0)
                break;
            mid += m;
        }
        CHECKF(mid >= 2, "%s: only %d stops fell inside an epoch", sets[i]->set, mid);
        ll_err err;
        CHECK_OK(train(sets[i], "spref", NULL, NULL, &err));
        static const char *points[] = {"epoch=0, train", "epoch=2, train", "epoch=4, train"};
        for (size_t k = 0; k < 3; k++) {
            int resumed = 0;
            CHECKF(stop_and_resume(sets[i], "spref", points[k], k == 0 ? "epoch=3, train" : NULL,
                                   &resumed),
                   "%s stopped at '%s': the resumed model differs", sets[i]->set, points[k]);
        }
    }
    /* the checkpoint of a sparse run holds the lazy state */
    char ck[128], path[256];
    snprintf(ck, sizeof ck, "%s/ck6", g_dir);
    rmrf(ck);
    mkdir(ck, 0755);
    ll_err err;
    stopper st = {0, "epoch=1, train", 0, 0, 0, ""};
    CHECK(train(&SP_ADAM, "sp6", ck, &st, &err) == LL_E_STATE);
    snprintf(path, sizeof path, "%s/%s", ck, CKPT_FILE);
    size_t len;
    unsigned char *b = tt_read_file(path, &len);
    CHECK(b && len > 128 && (b[44] & CKPT_LAZY));
    free(b);
}

static void foreign_checkpoint_ignored(void)
{
    char ck[128];
    snprintf(ck, sizeof ck, "%s/ck2", g_dir);
    rmrf(ck);
    mkdir(ck, 0755);
    ll_err err;
    stopper st = {0, "epoch=2, train", 0, 0, 0, ""};
    CHECK(train(&REG, "x", ck, &st, &err) == LL_E_STATE);
    /* other hyperparameters: the checkpoint does not apply, training starts over */
    setup other = REG;
    other.hp[7] = "9"; /* early_stopping_patience */
    stopper s2 = {0, NULL, 0, 0, 0, ""};
    CHECK_OK(train(&other, "y", ck, &s2, &err));
    CHECK(s2.lines_with_resume == 0);
    CHECK_OK(train(&other, "yref", NULL, NULL, &err));
    CHECK(same_model("y", "yref"));
}

static void damaged_files(void)
{
    ll_err err;
    char ck[128], path[256];
    snprintf(ck, sizeof ck, "%s/ck3", g_dir);
    rmrf(ck);
    mkdir(ck, 0755);
    stopper st = {0, "epoch=2, train", 0, 0, 0, ""};
    CHECK(train(&REG, "z", ck, &st, &err) == LL_E_STATE);
    snprintf(path, sizeof path, "%s/%s", ck, CKPT_FILE);
    size_t len;
    unsigned char *good = tt_read_file(path, &len);
    CHECK(good && len > 200);
    CHECK(!memcmp(good, "LLCKPT01", 8));
    /* the header's sizes agree with the file size */
    uint64_t P = 0;
    for (int i = 0; i < 8; i++)
        P |= (uint64_t)good[112 + i] << (8 * i);
    CHECK(P == len - 132);
    /* a flipped byte anywhere: the checksum catches it */
    size_t where[] = {0, 20, 130, len / 2, len - 5, len - 1};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        unsigned char *b = malloc(len);
        memcpy(b, good, len);
        b[where[i]] ^= 0x40;
        FILE *f = fopen(path, "wb");
        CHECK(f && fwrite(b, 1, len, f) == len);
        fclose(f);
        free(b);
        stopper s = {0, NULL, 0, 0, 0, ""};
        CHECK_OK(train(&REG, "z2", ck, &s, &err)); /* starts over, logs why */
        CHECKF(s.lines_with_resume == 0, "byte %zu flipped yet resumed", where[i]);
    }
    /* ckpt_load reports what is wrong and where */
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(good, 1, len - 10, f) == len - 10);
    fclose(f);
    sgd s;
    memset(&s, 0, sizeof s);
    scaler sc;
    memset(&sc, 0, sizeof sc);
    double b1[8], b2[8];
    ckpt_state cs = {0};
    cs.best = b1;
    cs.bestc = b2;
    CHECK(ckpt_load(path, &cs, &s, &sc, &err) == LL_E_PARSE);
    CHECK(strstr(err.msg, "payload size") && (err.has & LL_ERR_OFFSET) && err.offset == 112);
    f = fopen(path, "wb");
    CHECK(f && fwrite("LLCKPT01", 1, 8, f) == 8);
    fclose(f);
    CHECK(ckpt_load(path, &cs, &s, &sc, &err) == LL_E_PARSE);
    CHECK(strstr(err.msg, "too short"));
    snprintf(path, sizeof path, "%s/none", ck);
    CHECK(ckpt_load(path, &cs, &s, &sc, &err) == LL_E_IO);
    free(good);
}

static uint64_t le_get(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void le_put(unsigned char *p, int n, uint64_t v)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Writes good with n bytes at off replaced by v (little-endian) and a recomputed, valid CRC. */
static void write_crafted(const char *path, const unsigned char *good, size_t len, size_t off,
                          int n, uint64_t v)
{
    unsigned char *b = malloc(len);
    memcpy(b, good, len);
    le_put(b + off, n, v);
    le_put(b + len - 4, 4, (uint32_t)crc32(crc32(0, NULL, 0), b, (uInt)(len - 4)));
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, len, f) != len)
        fprintf(stderr, "cannot write %s\n", path);
    if (f)
        fclose(f);
    free(b);
}

/* Checkpoints whose CRC is valid but whose fields no run writes (a step counter of 2^64-1, sizes
 * that overflow, counters past the configuration, a NaN weight): refused before anything is
 * used, naming the file and the field; training starts over and ends with the right model. */
static void crafted_fields(void)
{
    ll_err err;
    char ck[128], path[256];
    snprintf(ck, sizeof ck, "%s/ck5", g_dir);
    rmrf(ck);
    mkdir(ck, 0755);
    CHECK_OK(train(&REG, "cref", NULL, NULL, &err));
    stopper st = {0, "epoch=2, train", 0, 0, 0, ""};
    CHECK(train(&REG, "c", ck, &st, &err) == LL_E_STATE);
    snprintf(path, sizeof path, "%s/%s", ck, CKPT_FILE);
    size_t len;
    unsigned char *good = tt_read_file(path, &len);
    CHECK(good && len > 200);
    if (!good)
        return;
    uint64_t D = le_get(good + 24, 8), K = le_get(good + 36, 4), fl = le_get(good + 44, 4);
    uint64_t rows = le_get(good + 72, 8), steps = le_get(good + 56, 8);
    size_t o_w = 128 + 24 * K + 4 * D * ((fl & CKPT_SHIFT) ? 2 : 1);
    struct {
        size_t off;
        int n;
        uint64_t v;
        const char *want; /* in the message */
    } cases[] = {
        {56, 8, UINT64_MAX, "optimizer steps"},
        {56, 8, rows + 1, "optimizer steps"},
        {72, 8, 0, "optimizer steps"},
        {24, 8, (uint64_t)1 << 62, "D (features)"},
        {24, 8, 0, "D (features)"},
        {36, 4, UINT32_MAX, "K (models)"},
        {32, 4, 0x40000000u, "C (outputs per model)"},
        {52, 4, 1000, "the epoch counters disagree"},
        {48, 4, 77, "epochs without improvement"},
        {120, 8, steps + 1, "mini-batches of the next epoch"},
        {112, 8, UINT64_MAX, "payload size"},
        {128, 8, 0xfff8000000000000ull, "learning rate"}, /* lr[0] = NaN */
        {o_w + 4, 4, 0x7fc00000u, "weights[1]"},          /* a NaN weight */
        {o_w, 4, 0x7f800000u, "weights[0]"},              /* +inf */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_crafted(path, good, len, cases[i].off, cases[i].n, cases[i].v);
        stopper s = {0, NULL, 0, 0, 0, ""};
        CHECKF(train(&REG, "c2", ck, &s, &err) == LL_OK, "case %zu: training failed", i);
        CHECKF(s.lines_with_resume == 0, "case %zu (byte %zu): resumed a crafted checkpoint", i,
               cases[i].off);
        CHECKF(strstr(s.ignored, cases[i].want) && strstr(s.ignored, CKPT_FILE),
               "case %zu: message lacks '%s' or the file: %s", i, cases[i].want, s.ignored);
        CHECKF(same_model("c2", "cref"), "case %zu: the model differs from a fresh run", i);
    }
    /* epochs done past the configured 6, counters consistent with each other */
    unsigned char *b = malloc(len);
    memcpy(b, good, len);
    le_put(b + 40, 4, 9);
    le_put(b + 52, 4, 9);
    write_crafted(path, b, len, 48, 4, 0);
    free(b);
    stopper s = {0, NULL, 0, 0, 0, ""};
    CHECK_OK(train(&REG, "c2", ck, &s, &err));
    CHECKF(strstr(s.ignored, "exceeds the configured epochs"), "%s", s.ignored);
    CHECK(steps > 0);
    free(good);
}

int main(void)
{
    TT_BEGIN("test_ckpt");
    snprintf(g_dir, sizeof g_dir, "/tmp/ll_ckpt_XXXXXX");
    if (!mkdtemp(g_dir))
        return 1;
    RUN(resume_regressor_everywhere);
    RUN(resume_after_many_steps);
    RUN(resume_inside_epoch_checkpoint);
    RUN(resume_binary_early_stop);
    RUN(resume_random_stops);
    RUN(resume_sparse_every_optimizer);
    RUN(foreign_checkpoint_ignored);
    RUN(damaged_files);
    RUN(crafted_fields);
    rmrf(g_dir);
    TT_END();
}
