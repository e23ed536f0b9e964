/* SPDX-License-Identifier: Apache-2.0 */
/*
 * train.c - the training driver (ll_train), top to bottom as SageMaker runs it: resolve the
 * hyperparameters, scaler pre-pass over the first rows, epochs of K-model SGD with validation
 * and early stopping, model selection and threshold calibration, final metrics on every
 * channel, then model.tar.gz and the metrics JSON. run_all (at the end) is the whole loop, one
 * named step a line. The library prints nothing: every log line goes through logf_ to the
 * caller's callback, naming the host of the options. The SGD kernels are sgd.c's, the metrics
 * metrics.c's, the checkpoint format ckpt.c's.
 */
#include "batch.h"
#include "channel.h"
#include "ckpt.h"
#include "dist.h"
#include "err.h"
#include "float_text.h"
#include "history.h"
#include "hp.h"
#include "mem.h"
#include "metrics.h"
#include "model.h"
#include "pcache.h"
#include "pool.h"
#include "report.h"
#include "scaler.h"
#include "sgd.h"
#include "shard.h"
#include "wr.h"
#include <cblas.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CALIB_MAX_SCORES ((size_t)1 << 24)
/* With the default mini_batch_size, a train channel the scaler pass read to its end is split
 * into at least this many mini-batches an epoch (docs/TRAINING.md, "small data"). */
#define MIN_STEPS_PER_EPOCH 10

void ll_train_opts_init(ll_train_opts *o)
{
    memset(o, 0, sizeof *o);
    ll_parse_opts_init(&o->parse);
    o->pipe_timeout_ms = 60000;
    o->dist_timeout_s = 300;
}

/* Rows whose scores decide the binary early-stopping criterion each epoch ("sampled_...") */
#define ES_SAMPLE_ROWS 10000

/* The first rows of a pass with every model's score (model-major, stride cap). */
typedef struct sampler {
    size_t cap, n;
    uint32_t K;
    int sigmoid;
    float *sc, *lab, *wt;
    uint64_t *key; /* across hosts: each row's place in the pass (run.key0) */
} sampler;

/* A timer of the final #metrics line: sum, count, min and max of its samples (ms). */
typedef struct timer {
    double sum, min, max;
    uint64_t n;
} timer;

static void timer_add(timer *t, double ms)
{
    t->min = t->n == 0 || ms < t->min ? ms : t->min;
    t->max = t->n == 0 || ms > t->max ? ms : t->max;
    t->sum += ms;
    t->n++;
}

/* The train channel's counters in SageMaker's data-iterator #metrics lines. */
typedef struct iter_stats {
    uint64_t records, batches;         /* in all passes */
    uint64_t max_records, max_batches; /* most in one pass */
    uint64_t resets;                   /* passes started */
    uint64_t pass_records, pass_batches;
} iter_stats;

/* Where the state is checkpointed after each epoch (checkpoint_dir set). */
typedef struct checkpoint {
    int on;
    char path[4200];
    ckpt_state st; /* best and bestc point into the early-stopping state */
} checkpoint;

typedef struct run {
    const ll_train_opts *o;
    const char *host; /* the host the log lines name (o->host, default "algo-1") */
    const char *obj;  /* the objective's name, "binary_classification_cross_entropy_objective" */
    char tname[128];  /* "train_<obj>", "validation_<obj>": per-epoch #metrics names */
    char vname[128];
    hp_values hv;
    chan ch[3]; /* train, validation, test */
    int has[3];
    ll_batch b;
    float *y;
    size_t cap_y;
    scaler sc;
    sgd s;
    double t0, t_first;
    uint64_t rows_trained;
    double train_secs;
    uint32_t epochs_done;
    json_t *metrics;         /* "train:..." -> value */
    timer t_update, t_check; /* per epoch, for the final timing #metrics line */
    double t_setup_ms;
    double t_init_ms, wall0;
    uint64_t batches;                /* mini-batches of this epoch's train pass stepped */
    const ckpt_partial *resume_part; /* resuming inside an epoch (ckpt.h), applied once */
    ll_model *init;                  /* warm start (o->initial_model), else NULL */
    int skipping;                    /* still passing over the batches trained before a stop */
    int in_epoch;                    /* inside an epoch, before its checkpoint */
    double te_epoch;                 /* when this epoch's train pass ended (wall clock) */
    double ts_iter;                  /* when the train channel's pass began (wall clock) */
    iter_stats it;
    checkpoint ck;
    hist hist; /* the record for people: curves, selection, ROC (history.h) */
    /* across hosts (dist.h, shard.h, docs/DISTRIBUTED.md); nh 1 on one host */
    int nh, rank;
    char host_rank[32];     /* "algo-(rank+1)" when the options name no host */
    int split[3];           /* per channel: this host keeps its record slice of every batch */
    uint64_t key0, kstr;    /* the last batch's row i is row key0 + i * kstr of the pass order */
    uint64_t epoch_rows;    /* this host's rows in the last epoch */
    uint64_t *rows_by_host; /* every host's (nh) */
    uint64_t resume_steps;  /* resuming inside an epoch across hosts: the steps taken together */
    double comm_train;      /* seconds of the train passes spent in collectives */
    /* checkpoints inside an epoch (o->checkpoint_steps): the epoch and its early-stopping state */
    const struct early_stop *es_now;
    uint32_t e_now;
    /* passes kept in memory (pcache.h): per channel its state, one of PC_*, and the batches */
    pcache pc[3];
    int pc_state[3];
    int pc_eof;             /* the pass being recorded reached its end */
    int pc_pend;            /* r->b is the recorded pass's latest batch, kept once it was used */
    int pc_once;            /* the pass being recorded is to be read once more only */
    uint32_t pc_replays[3]; /* passes replayed from memory, per channel */
    size_t cache_budget;    /* the whole budget (bytes) */
    size_t cache_left;      /* bytes of the budget not yet used */
    int play;               /* 1 + the channel whose pass is replayed now, else 0 */
    size_t play_at;         /* the next batch to replay */
    ll_batch play_b;        /* the trainer's own batch and labels, while r->b shows kept ones */
    float *play_y;
} run;

/* A channel's pass kept in memory: none yet; recording the open pass; a whole pass kept; not
 * kept (it did not fit, or caching is off) */
enum { PC_NONE = 0, PC_REC, PC_FULL, PC_OFF };
/* How a pass may use the cache: record it (it is read at least twice more); record it when it
 * is worth it for one more read (PASS_KEEP1: see keep_pending); replay a kept pass */
#define PASS_KEEP 1
#define PASS_REPLAY 2
#define PASS_KEEP1 4
/* A dense pass read once more is kept only for this many models or fewer: with more, reading
 * it again overlaps the scoring of the models and costs less than the copy (docs/TRAINING.md,
 * "Passes kept in memory") */
#define PC_ONCE_MAX_MODELS 8

static ll_code checkpoint_inside(run *r, uint64_t steps, ll_err *err);

static const char *CH_NAME[3] = {"train", "validation", "test"};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void logf_(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(run *r, const char *fmt, ...)
{
    if (!r->o->log)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    r->o->log(r->o->ud, line);
}

/* v as SageMaker's Python 3 container prints numbers (repr: "0.6381615207378681", "20.0").
 * buf needs 32 bytes. */
static const char *num(char *buf, double v)
{
    float_text_repr(v, buf);
    return buf;
}

/* A bad label in row i of b (number `row` of the pass): named by its file:line when a text
 * parser recorded it, else by the row's number. */
static ll_code bad_label(const run *r, int ch, size_t i, unsigned long long row, ll_err *err,
                         const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static ll_code bad_label(const run *r, int ch, size_t i, unsigned long long row, ll_err *err,
                         const char *fmt, ...)
{
    const ll_batch *b = &r->b;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (b->src_line && b->src_line[i]) {
        err_set(err, LL_E_PARSE, "%s", what);
        return err_line(err, r->ch[ch].src, b->src_off[i], b->src_line[i], 0);
    }
    err_set(err, LL_E_PARSE, "row %llu: %s", row, what);
    return err_src(err, r->ch[ch].src);
}

/* Maps and checks the labels of b into r->y. */
static ll_code labels(run *r, int ch, ll_err *err)
{
    const ll_batch *b = &r->b;
    if (b->n_rows > r->cap_y) {
        float *q = mem_realloc_array(r->y, b->n_rows, sizeof(float));
        if (!q)
            return err_set(err, LL_E_NOMEM, "out of memory for labels");
        r->y = q;
        r->cap_y = b->n_rows;
    }
    uint64_t row0 = r->ch[ch].rows - b->n_rows;
    for (size_t i = 0; i < b->n_rows; i++) {
        unsigned long long row = (unsigned long long)(row0 + i + 1);
        if (b->loff[i + 1] == b->loff[i])
            return bad_label(r, ch, i, row, err, "no label (training data needs one)");
        float v = b->label[b->loff[i]];
        switch (r->hv.pred) {
        case LL_BINARY_CLASSIFIER:
            if (v == -1.0f)
                v = 0.0f;
            if (v != 0.0f && v != 1.0f)
                return bad_label(r, ch, i, row, err,
                                 "label %g is not 0 or 1 (binary_classifier; -1 reads as 0)",
                                 (double)v);
            break;
        case LL_MULTICLASS_CLASSIFIER:
            if (!(v >= 0 && v < (float)r->hv.num_classes && v == floorf(v)))
                return bad_label(r, ch, i, row, err,
                                 "label %g is not a class 0..%u (num_classes=%u)", (double)v,
                                 r->hv.num_classes - 1, r->hv.num_classes);
            break;
        case LL_REGRESSOR:
            if (!isfinite(v))
                return bad_label(r, ch, i, row, err, "label is not a finite number");
            break;
        }
        r->y[i] = v;
    }
    return LL_OK;
}

/* The recorded pass's latest batch, used by now, is copied to the cache. */
static void keep_pending(run *r, int ch)
{
    if (!r->pc_pend)
        return;
    r->pc_pend = 0;
    if (r->pc_state[ch] != PC_REC)
        return;
    if (r->pc_once && r->pc[ch].n == 0 && !r->b.n_sparse && r->s.K > PC_ONCE_MAX_MODELS) {
        r->pc_state[ch] = PC_NONE; /* dense, many models, one more read: not worth a copy */
        return;
    }
    if (!pcache_add(&r->pc[ch], &r->b, r->y, &r->cache_left))
        r->pc_state[ch] = PC_OFF; /* too big for the budget: read every pass */
}

/* The next batch of channel ch with labels; *eof at the end. Errors get the source's name. */
static ll_code next(run *r, int ch, int *eof, ll_err *err)
{
    if (r->o->stop && __atomic_load_n(r->o->stop, __ATOMIC_ACQUIRE))
        return err_set(err, LL_E_STATE, "training stopped by a signal");
    size_t mbs = r->hv.mini_batch_size;
    if (r->nh > 1 && !r->split[ch]) /* each host's batch is its part of the global one */
        mbs = (mbs + (size_t)r->nh - 1) / (size_t)r->nh;
    ll_code rc = LL_OK;
    if (r->play == ch + 1) { /* a kept pass: its batches as they were read */
        pcache *pc = &r->pc[ch];
        if (r->play_at < pc->n) {
            const pcache_batch *kb = &pc->v[r->play_at++];
            r->b = kb->b;
            r->y = (float *)kb->y;
            r->ch[ch].rows += kb->b.n_rows;
        } else
            r->b.n_rows = 0;
        *eof = r->play_at >= pc->n;
    } else {
        keep_pending(r, ch);
        rc = channel_next(&r->ch[ch], &r->b, mbs, eof, err);
        if (rc == LL_OK)
            rc = labels(r, ch, err);
        if (rc == LL_OK && r->pc_state[ch] == PC_REC) {
            r->pc_pend = r->b.n_rows > 0;
            r->pc_eof = *eof;
        }
    }
    if (rc == LL_OK && ch == 0 && r->b.n_rows) {
        iter_stats *it = &r->it;
        it->records += r->b.n_rows;
        it->batches++;
        it->pass_records += r->b.n_rows;
        it->pass_batches++;
        if (it->pass_records > it->max_records)
            it->max_records = it->pass_records;
        if (it->pass_batches > it->max_batches)
            it->max_batches = it->pass_batches;
    }
    size_t n = r->b.n_rows;
    r->key0 = r->ch[ch].rows - n;
    r->kstr = 1;
    if (rc == LL_OK && r->nh > 1 && r->split[ch]) {
        size_t lo, hi;
        shard_range(n, r->rank, r->nh, &lo, &hi);
        shard_slice(&r->b, r->y, lo, hi);
        r->key0 += lo;
    } else if (r->nh > 1) { /* whole objects: rows interleave by their place on each host */
        r->key0 = r->key0 * (uint64_t)r->nh + (uint64_t)r->rank;
        r->kstr = (uint64_t)r->nh;
    }
    return rc;
}

/* Opens a pass over channel ch (for the train channel, a reset of its iterator). how: PASS_*
 * flags; a kept pass is replayed from memory, and a pass that may be kept is recorded while it
 * is read (one channel at a time). */
static ll_code open_pass(run *r, int ch, int how, ll_err *err)
{
    if (ch == 0) {
        r->it.resets++;
        r->it.pass_records = r->it.pass_batches = 0;
        r->ts_iter = wall_s();
    }
    if ((how & PASS_REPLAY) && r->pc_state[ch] == PC_FULL && !r->play) {
        r->play = ch + 1;
        r->play_at = 0;
        r->pc_replays[ch]++;
        r->play_b = r->b;
        r->play_y = r->y;
        r->ch[ch].rows = 0;
        return LL_OK;
    }
    if (r->pc_state[ch] == PC_REC) { /* an earlier recording did not end */
        pcache_clear(&r->pc[ch], &r->cache_left);
        r->pc_state[ch] = PC_NONE;
        r->pc_pend = 0;
    }
    if ((how & (PASS_KEEP | PASS_KEEP1)) && r->pc_state[ch] == PC_NONE && r->cache_left > 0 &&
        r->nh == 1) {
        int busy = 0;
        for (int c = 0; c < 3; c++)
            busy |= r->pc_state[c] == PC_REC;
        if (!busy) {
            r->pc_state[ch] = PC_REC;
            r->pc_eof = 0;
            r->pc_pend = 0;
            r->pc_once = !(how & PASS_KEEP);
        }
    }
    return channel_open_pass(&r->ch[ch], err);
}

/* Ends the pass over channel ch: a replay gives the trainer its own batch back; a recording
 * that reached the end of the pass becomes the kept pass, else it is dropped. */
static void close_pass(run *r, int ch)
{
    if (r->play == ch + 1) {
        r->play = 0;
        r->b = r->play_b;
        r->y = r->play_y;
        return;
    }
    if (r->pc_state[ch] == PC_REC) {
        if (r->pc_eof)
            keep_pending(r, ch);
        r->pc_pend = 0;
        if (r->pc_eof && r->pc_state[ch] == PC_REC) {
            r->pc_state[ch] = PC_FULL;
            pcache_seal(&r->pc[ch]);
        } else if (r->pc_state[ch] == PC_REC) {
            pcache_clear(&r->pc[ch], &r->cache_left);
            r->pc_state[ch] = PC_NONE;
        }
    }
    channel_close_pass(&r->ch[ch]);
}

static ll_code with_src(run *r, int ch, ll_code rc, ll_err *err)
{
    if (rc != LL_OK && err && !err->src[0])
        err_src(err, r->ch[ch].src);
    return rc;
}

/* ---- samples for the binary early-stopping criterion ---- */

static ll_code sampler_init(sampler *sp, const hp_values *hv, uint32_t K, ll_err *err)
{
    memset(sp, 0, sizeof *sp);
    sp->cap = ES_SAMPLE_ROWS;
    if (sp->cap > hv->num_calibration_samples)
        sp->cap = (size_t)hv->num_calibration_samples;
    sp->K = K;
    sp->sigmoid = hv->loss == LOSS_LOGISTIC;
    sp->sc = mem_alloc(sp->cap * K * sizeof(float));
    sp->lab = mem_alloc(sp->cap * sizeof(float));
    sp->wt = mem_alloc(sp->cap * sizeof(float));
    sp->key = mem_alloc(sp->cap * sizeof(uint64_t));
    if (!sp->sc || !sp->lab || !sp->wt || !sp->key)
        return err_set(err, LL_E_NOMEM, "out of memory for %zu sampled scores", sp->cap * K);
    return LL_OK;
}

static void sampler_deinit(sampler *sp)
{
    mem_free(sp->sc);
    mem_free(sp->lab);
    mem_free(sp->wt);
    mem_free(sp->key);
    memset(sp, 0, sizeof *sp);
}

/* Takes the batch's rows (scores in r->s.Z, one output per model) while there is room. */
static void sampler_add(run *r, sampler *sp)
{
    const ll_batch *b = &r->b;
    size_t M = r->s.M;
    for (size_t i = 0; i < b->n_rows && sp->n < sp->cap; i++, sp->n++) {
        const float *z = r->s.Z + i * M;
        if (sp->sigmoid) {
            loss_sigmoid_n(z, sp->K, r->s.lrow);
            z = r->s.lrow;
        }
        for (uint32_t k = 0; k < sp->K; k++)
            sp->sc[(size_t)k * sp->cap + sp->n] = z[k];
        sp->lab[sp->n] = r->y[i];
        sp->wt[sp->n] = b->weight ? b->weight[i] : 1.0f;
        sp->key[sp->n] = r->key0 + i * r->kstr;
    }
}

/* Across hosts: the first `limit` rows of the pass over every host's sampled rows (scores
 * model-major with stride *cap, labels, weights, keys), as one process would have sampled them;
 * grows the arrays (and *cap) when more rows come back than fit. */
static ll_code merge_samples(const run *r, uint32_t K, float **sc, float **lab, float **wt,
                             uint64_t **key, size_t *n, size_t *cap, size_t limit, ll_err *err)
{
    if (r->nh < 2)
        return LL_OK;
    size_t P = K + 2, room = *n > limit ? *n : limit;
    float *rows = mem_alloc((room ? room : 1) * P * sizeof(float));
    uint64_t *k = mem_alloc((room ? room : 1) * sizeof *k);
    if (!rows || !k) {
        mem_free(rows);
        mem_free(k);
        return err_set(err, LL_E_NOMEM, "out of memory for %zu sampled rows", room);
    }
    for (size_t i = 0; i < *n; i++) {
        for (uint32_t j = 0; j < K; j++)
            rows[i * P + j] = (*sc)[(size_t)j * *cap + i];
        rows[i * P + K] = (*lab)[i];
        rows[i * P + K + 1] = (*wt)[i];
        k[i] = (*key)[i];
    }
    ll_code rc = shard_merge_rows(k, rows, P, n, limit, err);
    if (rc == LL_OK && *n > *cap) {
        float *a = mem_realloc_array(*sc, *n * K, sizeof(float));
        if (a)
            *sc = a;
        float *b = mem_realloc_array(*lab, *n, sizeof(float));
        if (b)
            *lab = b;
        float *c = mem_realloc_array(*wt, *n, sizeof(float));
        if (c)
            *wt = c;
        uint64_t *d = mem_realloc_array(*key, *n, sizeof(uint64_t));
        if (d)
            *key = d;
        if (!a || !b || !c || !d)
            rc = err_set(err, LL_E_NOMEM, "out of memory for %zu sampled rows", *n);
        else
            *cap = *n;
    }
    for (size_t i = 0; rc == LL_OK && i < *n; i++) {
        for (uint32_t j = 0; j < K; j++)
            (*sc)[(size_t)j * *cap + i] = rows[i * P + j];
        (*lab)[i] = rows[i * P + K];
        (*wt)[i] = rows[i * P + K + 1];
        (*key)[i] = k[i];
    }
    mem_free(rows);
    mem_free(k);
    return rc;
}

static ll_code sampler_merge(const run *r, sampler *sp, ll_err *err)
{
    size_t cap = sp->cap;
    return merge_samples(r, sp->K, &sp->sc, &sp->lab, &sp->wt, &sp->key, &sp->n, &cap, sp->cap,
                         err);
}

/* Each model's calibrated criterion value over the sample (higher is better). */
static ll_code sampler_values(run *r, const sampler *sp, double *v, ll_err *err)
{
    for (uint32_t k = 0; k < sp->K; k++) {
        calib c;
        ll_code rc = metrics_calibrate(sp->sc + (size_t)k * sp->cap, sp->lab, sp->wt, sp->n, &r->hv,
                                       &c, err);
        if (rc != LL_OK)
            return rc;
        v[k] = c.value;
    }
    return LL_OK;
}

static const char *criterion_name(const hp_values *hv)
{
    if (hv->pred != LL_BINARY_CLASSIFIER)
        return metrics_objective_name(hv);
    switch (hv->criteria) {
    case CRIT_ACCURACY:
        return "sampled_accuracy";
    case CRIT_F_BETA:
        return "sampled_f_beta";
    case CRIT_PRECISION_AT_RECALL:
        return "sampled_precision_at_target_recall";
    case CRIT_RECALL_AT_PRECISION:
        return "sampled_recall_at_target_precision";
    default:
        return metrics_objective_name(hv);
    }
}

/* One `#metrics {json}` line: a single-valued metric of model k (k < 0: none) in epoch e. */
static void metrics_line(run *r, const char *name, double v, int k, int e, double t0, double t1)
{
    char nb[32], dims[96];
    const char *nv = isfinite(v) ? num(nb, v) : "null";
    if (k >= 0)
        snprintf(dims, sizeof dims, "\"model\": %d, ", k);
    else
        dims[0] = 0;
    char ep[32] = "";
    if (e >= 0)
        snprintf(ep, sizeof ep, ", \"epoch\": %d", e);
    logf_(r,
          "#metrics {\"Metrics\": {\"%s\": {\"count\": 1, \"max\": %s, \"sum\": %s, \"min\": "
          "%s}}, \"Dimensions\": {%s\"Host\": \"%s\", \"Operation\": \"training\", "
          "\"Algorithm\": \"Linear Learner\"%s}, \"StartTime\": %.3f, \"EndTime\": %.3f}",
          name, nv, nv, nv, dims, r->host, ep, t0, t1);
}

/* ---- passes ---- */

static ll_code scaler_pass(run *r, ll_err *err)
{
    uint32_t ncls = r->hv.pred == LL_BINARY_CLASSIFIER       ? 2
                    : r->hv.pred == LL_MULTICLASS_CLASSIFIER ? r->hv.num_classes
                                                             : 0;
    ll_code rc = scaler_init(&r->sc, ncls, err);
    if (rc == LL_OK)
        rc = open_pass(r, 0, 0, err);
    int eof = 0;
    uint64_t want = r->hv.num_point_for_scaler;
    uint64_t rows = 0;
    /* across hosts, the first `want` rows of the record order, or each host's share of them */
    int split = r->nh > 1 && r->split[0];
    if (r->nh > 1 && !split)
        want = (want + (uint64_t)r->nh - 1) / (uint64_t)r->nh;
    while (rc == LL_OK && !eof && (split ? (double)r->ch[0].rows : r->sc.n) < (double)want) {
        rc = next(r, 0, &eof, err);
        if (rc == LL_OK && r->t_first == 0 && r->b.n_rows)
            r->t_first = now_s();
        if (rc == LL_OK) {
            rows += r->b.n_rows;
            uint64_t lim = split ? (r->key0 < want ? want - r->key0 : 0) : want - (uint64_t)r->sc.n;
            rc = scaler_add(&r->sc, &r->b, r->y, (size_t)lim, err);
        }
    }
    close_pass(r, 0);
    if (rc == LL_OK && r->nh > 1) {
        uint64_t v[2] = {rows, eof ? 1u : 0u};
        dist_where("the scaler statistics", 0);
        rc = dist_sum_u64(v, 2, err);
        rows = v[0];
        eof = v[1] == (uint64_t)r->nh;
        if (rc == LL_OK)
            rc = shard_sum_scaler(&r->sc, err);
    }
    /* The whole channel fits in the scaler sample: its size is known. With the default
     * mini_batch_size, an epoch of fewer than MIN_STEPS_PER_EPOCH batches gets smaller ones. */
    if (rc == LL_OK && eof && r->hv.mbs_default && rows > 0 &&
        rows < MIN_STEPS_PER_EPOCH * r->hv.mini_batch_size)
        r->hv.mini_batch_size = (rows + MIN_STEPS_PER_EPOCH - 1) / MIN_STEPS_PER_EPOCH;
    if (rc == LL_OK && r->sc.n == 0)
        rc = err_set(err, LL_E_PARSE, "the train channel has no rows");
    return with_src(r, 0, rc, err);
}

/* Checks that every host holds the same weights (the sums every host received were the same);
 * if not, every host takes rank 0's, so they cannot drift apart. */
static ll_code dist_same_model(run *r, ll_err *err)
{
    sgd *s = &r->s;
    sgd_sync(s);
    size_t DM = (size_t)s->D * s->M;
    uint64_t h = 1469598103934665603ull;
    const unsigned char *p = (const unsigned char *)s->W;
    for (size_t i = 0; i < DM * sizeof(float); i++)
        h = (h ^ p[i]) * 1099511628211ull;
    p = (const unsigned char *)s->B;
    for (size_t i = 0; i < s->M * sizeof(float); i++)
        h = (h ^ p[i]) * 1099511628211ull;
    uint64_t hi = h, lo = h;
    dist_where("the end-of-epoch model check", s->t);
    ll_code rc = dist_max_u64(&hi, 1, err);
    if (rc == LL_OK)
        rc = dist_min_u64(&lo, 1, err);
    if (rc != LL_OK || hi == lo)
        return rc;
    logf_(r, "The hosts' models differ after step %llu: every host takes algo-1's.",
          (unsigned long long)s->t);
    float *parts[6] = {s->W, s->s1W, s->s2W, s->B, s->s1B, s->s2B};
    size_t lens[6] = {DM, DM, DM, s->M, s->M, s->M};
    for (int i = 0; i < 6 && rc == LL_OK; i++)
        rc = dist_bcast(parts[i], lens[i] * sizeof(float), 0, err);
    return rc;
}

/* One epoch across hosts. Each step every host takes its next batch (none once its data has
 * ended) and sgd_step sums the gradients, row counts and end-of-data flags over the hosts:
 * the epoch ends at the step where every host's data has ended. With average_steps H > 1 each
 * host steps on its own batches and the models are averaged every H batches instead. */
static ll_code dist_epoch(run *r, ll_err *err)
{
    ll_code rc = LL_OK;
    unsigned H = r->o->average_steps > 1 ? r->o->average_steps : 1;
    int eof = 0;
    uint64_t it = 0;
    ll_batch empty;
    ll_batch_init(&empty);
    rc = batch_reserve_rows(&empty, 1, err);
    ll_batch_clear(&empty);
    r->epoch_rows = 0;
    r->s.allreduce = H > 1 ? NULL : dist_sum_float;
    /* resuming inside the epoch (train_epoch set it up): this host passes over its own
     * mini-batches the checkpoint covers, and the hosts continue at the step they reached */
    uint64_t skip = r->batches;
    r->batches = 0;
    if (r->resume_steps) {
        it = r->resume_steps;
        r->resume_steps = 0;
    }
    while (rc == LL_OK && !eof && r->batches < skip) {
        rc = next(r, 0, &eof, err);
        if (rc == LL_OK && r->b.n_rows) {
            r->batches++;
            r->epoch_rows += r->b.n_rows;
        }
    }
    r->skipping = 0;
    while (rc == LL_OK) {
        const ll_batch *b = &empty;
        if (!eof) {
            rc = next(r, 0, &eof, err);
            if (rc != LL_OK)
                break;
            b = &r->b;
        }
        if (b->n_rows && r->t_first == 0)
            r->t_first = now_s();
        it++;
        if (H == 1) {
            r->s.dist_flag = eof ? 1.0f : 0.0f;
            dist_where("a training step", r->s.t + 1);
            rc = sgd_step(&r->s, b, r->y, r->ch[0].rows - b->n_rows, err);
        } else if (b->n_rows) {
            rc = sgd_step(&r->s, b, r->y, r->ch[0].rows - b->n_rows, err);
        }
        if (b->n_rows) {
            r->batches++;
            r->rows_trained += b->n_rows;
            r->epoch_rows += b->n_rows;
        }
        if (rc == LL_OK && H > 1 && it % H == 0) {
            r->s.allreduce = dist_sum_float;
            r->s.dist_flag = eof ? 1.0f : 0.0f;
            dist_where("model averaging", it);
            rc = sgd_average(&r->s, (uint32_t)r->nh, err);
            r->s.allreduce = NULL;
        } else if (H > 1) {
            continue;
        }
        if (rc == LL_OK && r->s.dist_flag >= (float)r->nh)
            break;
        if (rc == LL_OK && H == 1 && r->o->checkpoint_steps && it % r->o->checkpoint_steps == 0)
            rc = checkpoint_inside(r, it, err);
    }
    ll_batch_deinit(&empty);
    /* the epoch's training-loss sums and the sampled rows of every host */
    double *v = rc == LL_OK ? mem_alloc((r->s.K + 1) * sizeof *v) : NULL;
    if (rc == LL_OK && !v)
        rc = err_set(err, LL_E_NOMEM, "out of memory");
    if (rc == LL_OK) {
        memcpy(v, r->s.tl, r->s.K * sizeof *v);
        v[r->s.K] = r->s.tw;
        dist_where("the epoch's loss sums", r->s.t);
        rc = dist_sum_double(v, r->s.K + 1, err);
        memcpy(r->s.tl, v, r->s.K * sizeof *v);
        r->s.tw = v[r->s.K];
    }
    mem_free(v);
    if (rc == LL_OK)
        rc = dist_same_model(r, err);
    r->s.allreduce = dist_sum_float;
    return rc;
}

static ll_code train_epoch(run *r, ll_err *err)
{
    /* In File mode every epoch reads the same bytes, so a kept pass is the epoch's data; in
     * Pipe mode each epoch reads its own FIFO (the feeder may shuffle), and only the last
     * epoch's pass is kept, for the passes after training (one more read). */
    int last = r->e_now + 1 >= r->hv.epochs;
    int how = !r->ch[0].pipe ? PASS_REPLAY | (last ? PASS_KEEP1 : PASS_KEEP)
              : last         ? PASS_KEEP1
                             : 0;
    ll_code rc = open_pass(r, 0, how, err);
    int eof = 0;
    sgd_epoch_begin(&r->s);
    r->batches = 0;
    r->epoch_rows = 0;
    uint64_t skip = 0;
    const ckpt_partial *pt = r->resume_part;
    if (pt) { /* continue a stopped epoch: its sums so far, then pass over its trained batches */
        r->resume_part = NULL;
        skip = pt->batches;
        memcpy(r->s.tl, pt->tl, r->s.K * sizeof *r->s.tl);
        r->s.tw = pt->tw;
        if (r->nh > 1 && pt->nh == (uint32_t)r->nh) { /* this host's own share of the epoch */
            skip = pt->h_batches[r->rank];
            memcpy(r->s.tl, pt->h_tl + (size_t)r->rank * r->s.K, r->s.K * sizeof *r->s.tl);
            r->s.tw = pt->h_tw[r->rank];
            r->resume_steps = pt->batches;
        }
    }
    r->skipping = skip > 0;
    double t = now_s();
    if (r->nh > 1) {
        r->batches = skip;
        double c0 = dist_comm_seconds();
        rc = rc == LL_OK ? dist_epoch(r, err) : rc;
        r->comm_train += dist_comm_seconds() - c0;
        r->train_secs += now_s() - t;
        close_pass(r, 0);
        return with_src(r, 0, rc, err);
    }
    while (rc == LL_OK && !eof) {
        rc = next(r, 0, &eof, err);
        if (rc == LL_OK && r->b.n_rows && r->batches < skip) {
            r->skipping = ++r->batches < skip;
            continue;
        }
        if (rc == LL_OK && r->b.n_rows) {
            r->batches++;
            if (r->t_first == 0)
                r->t_first = now_s();
            rc = sgd_step(&r->s, &r->b, r->y, r->ch[0].rows - r->b.n_rows, err);
            r->rows_trained += r->b.n_rows;
            r->epoch_rows += r->b.n_rows;
            hist_batch(&r->hist, r->epochs_done, (double)r->ch[0].rows);
            if (rc == LL_OK && r->o->checkpoint_steps && r->batches % r->o->checkpoint_steps == 0)
                rc = checkpoint_inside(r, r->batches, err);
        }
    }
    r->train_secs += now_s() - t;
    close_pass(r, 0);
    return with_src(r, 0, rc, err);
}

/* Sums K losses and their weight sum over the hosts. */
static ll_code dist_losses(run *r, double *loss, double *w, ll_err *err)
{
    uint32_t K = r->s.K;
    double *v = mem_alloc((K + 1) * sizeof *v);
    if (!v)
        return err_set(err, LL_E_NOMEM, "out of memory");
    memcpy(v, loss, K * sizeof *v);
    v[K] = *w;
    dist_where("the validation losses", r->s.t);
    ll_code rc = dist_sum_double(v, K + 1, err);
    memcpy(loss, v, K * sizeof *v);
    *w = v[K];
    mem_free(v);
    return rc;
}

/* Per-model losses on channel ch (raw units). */
static ll_code eval_pass(run *r, int ch, double *loss, sampler *sp, ll_err *err)
{
    memset(loss, 0, r->s.K * sizeof *loss);
    if (sp)
        sp->n = 0;
    double w = 0;
    /* read again after every epoch and by the selection pass */
    int last = r->e_now + 1 >= r->hv.epochs;
    ll_code rc = open_pass(r, ch, PASS_REPLAY | (last ? PASS_KEEP1 : PASS_KEEP), err);
    int eof = 0;
    while (rc == LL_OK && !eof) {
        rc = next(r, ch, &eof, err);
        if (rc == LL_OK && r->b.n_rows)
            rc = sgd_eval(&r->s, &r->b, r->y, r->ch[ch].rows - r->b.n_rows, loss, &w, err);
        if (rc == LL_OK && sp && r->b.n_rows)
            sampler_add(r, sp);
    }
    close_pass(r, ch);
    if (rc == LL_OK && r->nh > 1) /* each host scored its part: the sums of all of them */
        rc = dist_losses(r, loss, &w, err);
    if (rc == LL_OK && sp)
        rc = sampler_merge(r, sp, err);
    for (uint32_t k = 0; k < r->s.K; k++)
        loss[k] = w > 0 ? loss[k] / w : 0;
    return with_src(r, ch, rc, err);
}

/* ---- selection ---- */

typedef struct selection {
    uint32_t k;
    float thr;
    double value;
} selection;

/* The selection pass's outputs of every model on every row of its channel (raw units, model k's
 * at z + k * cap), kept so that the final metrics of that channel need no second pass
 * (docs/TRAINING.md, "Finishing passes"). all: no row was left out. */
typedef struct kept {
    float *z, *lab, *wt;
    size_t n, cap;
    int all;
    mem_prefault *pf; /* z's pages mapped ahead of the pass's writes (mem.h) */
} kept;

static void kept_free(kept *kp)
{
    mem_prefault_end(kp->pf);
    mem_free(kp->z);
    mem_free(kp->lab);
    mem_free(kp->wt);
    memset(kp, 0, sizeof *kp);
}

/* Every model's calibration over the first n kept rows, the models split over the threads
 * (each is independent of the others, so the result does not depend on the thread count). */
typedef struct cal_job {
    const run *r;
    const kept *kp;
    size_t n;
    const double *loss; /* per model: skipped where not finite */
    int sigmoid;
    calib *c;
    ll_code *rc;
    ll_err *err;
    float **tmp; /* per part: n sigmoid scores */
} cal_job;

static void cal_part(void *ud, unsigned part, unsigned np)
{
    cal_job *j = ud;
    uint32_t K = j->r->s.K;
    for (uint32_t k = part; k < K; k += np) {
        if (!isfinite(j->loss[k]))
            continue;
        const float *s = j->kp->z + (size_t)k * j->kp->cap;
        if (j->sigmoid) {
            loss_sigmoid_n(s, j->n, j->tmp[part]);
            s = j->tmp[part];
        }
        j->rc[k] =
            metrics_calibrate(s, j->kp->lab, j->kp->wt, j->n, &j->r->hv, &j->c[k], &j->err[k]);
    }
}

static ll_code calibrate_all(run *r, const kept *kp, size_t n, const double *loss, int sigmoid,
                             calib *c, ll_err *err)
{
    uint32_t K = r->s.K;
    unsigned np = r->s.pool ? pool_parts(r->s.pool) : 1;
    if (np > K)
        np = K;
    cal_job j = {r, kp, n, loss, sigmoid, c, NULL, NULL, NULL};
    j.rc = mem_calloc(K, sizeof *j.rc);
    j.err = mem_calloc(K, sizeof *j.err);
    j.tmp = mem_calloc(np, sizeof *j.tmp);
    ll_code rc = j.rc && j.err && j.tmp ? LL_OK : err_set(err, LL_E_NOMEM, "out of memory");
    for (unsigned p = 0; rc == LL_OK && sigmoid && p < np; p++)
        if (!(j.tmp[p] = mem_alloc((n ? n : 1) * sizeof(float))))
            rc = err_set(err, LL_E_NOMEM, "out of memory for calibration scores");
    if (rc == LL_OK) {
        if (np > 1)
            pool_run(r->s.pool, cal_part, &j);
        else
            cal_part(&j, 0, 1);
        for (uint32_t k = 0; k < K && rc == LL_OK; k++)
            if (j.rc[k] != LL_OK) {
                *err = j.err[k];
                rc = j.rc[k];
            }
    }
    for (unsigned p = 0; j.tmp && p < np; p++)
        mem_free(j.tmp[p]);
    mem_free(j.tmp);
    mem_free(j.rc);
    mem_free(j.err);
    return rc;
}

static void sigmoid_in_place(float *z, size_t n)
{
    float t[1024];
    for (size_t i = 0; i < n; i += 1024) {
        size_t m = n - i < 1024 ? n - i : 1024;
        loss_sigmoid_n(z + i, m, t);
        memcpy(z + i, t, m * sizeof *t);
    }
}

/* Grows the kept rows to c (model-major with stride c). Small pages: the scores are written once
 * in order and read a few times, so huge pages save no TLB misses worth having, and on a VM
 * whose host takes freed memory back a cold huge page faults at a fifth of the small pages'
 * speed (32 models x 500,000 rows: 64 MB). */
static ll_code kept_grow(kept *kp, uint32_t K, size_t c, ll_err *err)
{
    float *a = mem_alloc(c * K * sizeof(float));
    float *bb = mem_realloc_array(kp->lab, c, sizeof(float));
    if (bb)
        kp->lab = bb;
    float *d = mem_realloc_array(kp->wt, c, sizeof(float));
    if (d)
        kp->wt = d;
    if (!a || !bb || !d) {
        mem_free(a);
        return err_set(err, LL_E_NOMEM, "out of memory for calibration scores");
    }
    for (uint32_t k = 0; k < K && kp->z; k++)
        memcpy(a + (size_t)k * c, kp->z + (size_t)k * kp->cap, kp->n * sizeof(float));
    mem_prefault_end(kp->pf);
    kp->pf = NULL;
    mem_free(kp->z);
    kp->z = a;
    kp->cap = c;
    return LL_OK;
}

/* The selection pass over channel ch: each model's loss and, for binary classifiers with a
 * criterion other than the loss, its calibrated threshold and criterion value; the best model.
 * fold: keep every model's outputs on every row (up to CALIB_MAX_SCORES in all) in *kp for the
 * final metrics (kp->all says whether every row fit). */
static ll_code select_model(run *r, int ch, selection *sel, int fold, kept *kp, ll_err *err)
{
    uint32_t K = r->s.K;
    memset(kp, 0, sizeof *kp);
    double *loss = mem_calloc(K, sizeof *loss);
    uint64_t *key = NULL;
    int binary = r->hv.pred == LL_BINARY_CLASSIFIER;
    int do_cal = binary && r->hv.criteria != CRIT_LOSS;
    fold = fold && r->nh == 1 && r->s.C == 1;
    size_t ncal = CALIB_MAX_SCORES / K;
    if (do_cal && ncal > r->hv.num_calibration_samples)
        ncal = (size_t)r->hv.num_calibration_samples;
    /* rows kept: the calibration sample, or (fold) every row that fits */
    size_t nkeep = fold ? CALIB_MAX_SCORES / K : do_cal ? ncal : 0;
    if (!loss)
        return err_set(err, LL_E_NOMEM, "out of memory");
    /* room for as many rows as the channel's last pass had (growing a K-strided buffer moves
     * every score at each doubling) */
    uint64_t hint = r->ch[ch].rows;
    ll_code rc = LL_OK;
    if (nkeep && hint > 0)
        rc = kept_grow(kp, K, hint < nkeep ? (size_t)hint : nkeep, err);
    if (rc == LL_OK && kp->z) /* the pass writes each model's scores in its own stream */
        kp->pf = mem_prefault_start(kp->z, kp->cap * K * sizeof(float), 0);
    if (rc == LL_OK && do_cal && r->nh > 1) /* the hosts' samples merge by row key */
        if (!(key = mem_alloc_big((kp->cap ? kp->cap : 1) * sizeof(uint64_t))))
            rc = err_set(err, LL_E_NOMEM, "out of memory for calibration scores");
    if (rc != LL_OK) {
        mem_free(loss);
        kept_free(kp);
        return rc;
    }
    double w = 0;
    size_t n = 0;
    int left_out = 0;
    /* the selection channel's final metrics come from this pass's scores unless asked for
     * from a pass of their own */
    rc = open_pass(r, ch, PASS_REPLAY | (r->o->exact_final_metrics ? PASS_KEEP1 : 0), err);
    int eof = 0;
    while (rc == LL_OK && !eof) {
        rc = next(r, ch, &eof, err);
        if (rc != LL_OK || !r->b.n_rows)
            continue;
        rc = sgd_eval(&r->s, &r->b, r->y, r->ch[ch].rows - r->b.n_rows, loss, &w, err);
        if (rc != LL_OK || !nkeep)
            continue;
        size_t m = r->b.n_rows;
        if (m > nkeep - n) {
            m = nkeep - n;
            left_out = 1;
        }
        if (n + m > kp->cap) {
            size_t c = kp->cap * 2 > n + m ? kp->cap * 2 : n + m + 4096;
            if (c > nkeep)
                c = nkeep;
            rc = kept_grow(kp, K, c, err);
            if (rc == LL_OK && key) {
                uint64_t *ky = mem_realloc_array(key, c, sizeof *key);
                if (!ky)
                    rc = err_set(err, LL_E_NOMEM, "out of memory for calibration scores");
                key = ky ? ky : key;
            }
            if (rc != LL_OK)
                break;
        }
        size_t M = r->s.M, cap = kp->cap;
        const float *Z = r->s.Z;
        for (size_t i = 0; i < m; i++) {
            const float *z = Z + i * M;
            for (uint32_t k = 0; k < K; k++)
                kp->z[(size_t)k * cap + n + i] = z[k];
            kp->lab[n + i] = r->y[i];
            kp->wt[n + i] = r->b.weight ? r->b.weight[i] : 1.0f;
            if (key)
                key[n + i] = r->key0 + i * r->kstr;
        }
        n += m;
        kp->n = n;
    }
    close_pass(r, ch);
    mem_prefault_end(kp->pf);
    kp->pf = NULL;
    rc = with_src(r, ch, rc, err);
    kp->all = rc == LL_OK && fold && !left_out;
    if (rc == LL_OK && r->nh > 1) {
        rc = dist_losses(r, loss, &w, err);
        if (rc == LL_OK && do_cal) {
            /* across hosts the sample holds sigmoid scores, as sampler_add keeps them */
            if (r->hv.loss == LOSS_LOGISTIC)
                for (uint32_t k = 0; k < K; k++)
                    sigmoid_in_place(kp->z + (size_t)k * kp->cap, n);
            rc = merge_samples(r, K, &kp->z, &kp->lab, &kp->wt, &key, &n, &kp->cap, ncal, err);
            kp->n = n;
        }
    }
    sel->k = 0;
    sel->thr = 0.5f;
    sel->value = 0;
    for (uint32_t k = 0; k < K; k++)
        loss[k] = w > 0 ? loss[k] / w : 0;
    calib *c = do_cal ? mem_calloc(K, sizeof *c) : NULL;
    if (rc == LL_OK && do_cal && !c)
        rc = err_set(err, LL_E_NOMEM, "out of memory");
    if (rc == LL_OK && do_cal) {
        size_t nc = kp->n < ncal ? kp->n : ncal;
        /* across hosts the merged sample holds sigmoid scores already */
        rc = calibrate_all(r, kp, nc, loss, r->hv.loss == LOSS_LOGISTIC && r->nh == 1, c, err);
    }
    double best = INFINITY, bestl = INFINITY;
    for (uint32_t k = 0; rc == LL_OK && k < K; k++) {
        double l = loss[k];
        if (!isfinite(l))
            continue;
        if (do_cal) {
            hist_select(&r->hist, k, l, c[k].value);
            if (-c[k].value < best || (-c[k].value == best && l < bestl)) {
                best = -c[k].value;
                bestl = l;
                sel->k = k;
                sel->thr = c[k].threshold;
                sel->value = c[k].value;
            }
        } else {
            hist_select(&r->hist, k, l, l);
            if (l < bestl) {
                bestl = l;
                sel->k = k;
                sel->value = l;
            }
        }
    }
    mem_free(c);
    mem_free(loss);
    mem_free(key);
    if (rc != LL_OK || !kp->all)
        kept_free(kp);
    return rc;
}

/* ---- final metrics ---- */

#define MAX_FINAL_METRICS 24

/* One channel's final metrics: SageMaker prints every `#<ch>_score` line first, then every
 * `#quality_metric` line, in the order metrics.c reports them. */
typedef struct emit_ctx {
    run *r;
    const char *ch;
    size_t n;
    char quality[MAX_FINAL_METRICS][192];
} emit_ctx;

static void emit(void *ud, const char *name, const char *log_name, double v, int is_loss)
{
    emit_ctx *e = ud;
    char key[160], nb[32];
    snprintf(key, sizeof key, "%s:%s", e->ch, name);
    json_object_set_new(e->r->metrics, key, json_real(v));
    if (log_name) {
        snprintf(key, sizeof key, "%s:%s", e->ch, log_name);
        json_object_set_new(e->r->metrics, key, json_real(v));
    }
    const char *ln = log_name ? log_name : name;
    if (!strcmp(name, "objective_loss")) {
        /* SageMaker's `:final` objective lines: "<ch> <x>_objective <loss>=v" */
        ln = metrics_objective_name(&e->r->hv);
        snprintf(key, sizeof key, "%s:objective_loss:final", e->ch);
        json_object_set_new(e->r->metrics, key, json_real(v));
    }
    num(nb, v);
    logf_(e->r, "#%s_score (%s) : ('%s', %s)", e->ch, e->r->host, ln, nb);
    if (e->n < MAX_FINAL_METRICS)
        snprintf(e->quality[e->n++], sizeof e->quality[0],
                 "#quality_metric: host=%s, %s %s <%s>=%s", e->r->host, e->ch, ln,
                 is_loss ? "loss" : "score", nb);
}

/* Channel ch's final metrics of model m: from a pass over the channel, or (kp) from the
 * selection pass's outputs of model k on every row of it. */
static ll_code final_metrics(run *r, int ch, const ll_model *m, const kept *kp, uint32_t k,
                             ll_err *err)
{
    metrics mt;
    ll_code rc =
        metrics_init(&mt, &r->hv, &r->s.lp_raw, m->score == MODEL_SCORE_SIGMOID, m->threshold, err);
    if (rc != LL_OK)
        return rc;
    float *z = NULL;
    size_t capz = 0;
    uint64_t hint = kp ? kp->n : r->ch[ch].rows;
    mt.pool = r->s.pool;
    if (r->hv.pred == LL_BINARY_CLASSIFIER && hint)
        rc = metrics_reserve(&mt, hint, err);
    if (rc == LL_OK && kp && r->o->stop && __atomic_load_n(r->o->stop, __ATOMIC_ACQUIRE))
        rc = err_set(err, LL_E_STATE, "training stopped by a signal"); /* as a pass would */
    if (rc == LL_OK && kp) {
        const float *zk = kp->z + (size_t)k * kp->cap;
        hist_rows(&r->hist, ch, zk, kp->lab, kp->wt, kp->n, m->threshold);
        rc = metrics_add(&mt, zk, kp->lab, kp->wt, kp->n, err);
    }
    if (rc == LL_OK && !kp)
        rc = open_pass(r, ch, PASS_REPLAY, err);
    int eof = kp != NULL;
    while (rc == LL_OK && !eof) {
        rc = next(r, ch, &eof, err);
        if (rc != LL_OK || !r->b.n_rows)
            continue;
        size_t need = r->b.n_rows * m->n_out;
        if (need > capz) {
            float *q = mem_realloc_array(z, need, sizeof(float));
            if (!q) {
                rc = err_set(err, LL_E_NOMEM, "out of memory");
                break;
            }
            z = q;
            capz = need;
        }
        rc = model_raw(m, &r->b, z, err);
        if (rc == LL_OK)
            hist_rows(&r->hist, ch, z, r->y, r->b.weight, r->b.n_rows, m->threshold);
        if (rc == LL_OK)
            rc = metrics_add(&mt, z, r->y, r->b.weight, r->b.n_rows, err);
    }
    if (!kp) {
        close_pass(r, ch);
        rc = with_src(r, ch, rc, err);
    }
    if (rc == LL_OK && r->nh > 1) {
        dist_where("the final metrics", r->s.t);
        rc = shard_sum_metrics(&mt, err);
    }
    if (rc == LL_OK) {
        emit_ctx *e = mem_calloc(1, sizeof *e);
        if (!e)
            rc = err_set(err, LL_E_NOMEM, "out of memory");
        if (e) {
            e->r = r;
            e->ch = CH_NAME[ch];
            metrics_report(&mt, emit, e);
            for (size_t i = 0; i < e->n; i++)
                logf_(r, "%s", e->quality[i]);
        }
        mem_free(e);
    }
    mem_free(z);
    metrics_deinit(&mt);
    return rc;
}

/* ---- outputs ---- */

static json_t *resolved_hp(const ll_hparams *hp, const run *r)
{
    const hp_values *v = &r->hv;
    json_t *j = json_object();
    for (size_t i = 0; i < hp_count(); i++) {
        const char *name = hp_name(i);
        if (name[0] == '_')
            continue;
        const char *val = ll_hparams_get(hp, name);
        if (val)
            json_object_set_new(j, name, json_string(val));
    }
    char buf[64];
#define SETF(name, x)                                                                              \
    do {                                                                                           \
        snprintf(buf, sizeof buf, "%.9g", (double)(x));                                            \
        json_object_set_new(j, name, json_string(buf));                                            \
    } while (0)
    SETF("feature_dim", r->s.D);
    SETF("mini_batch_size", v->mini_batch_size);
    SETF("num_classes", v->num_classes);
    SETF("num_models", v->num_models);
    SETF("learning_rate", v->learning_rate);
    SETF("wd", v->wd);
    SETF("l1", v->l1);
    SETF("beta_1", v->beta_1);
    SETF("beta_2", v->beta_2);
    SETF("momentum", v->momentum);
    SETF("bias_lr_mult", v->bias_lr_mult);
    SETF("bias_wd_mult", v->bias_wd_mult);
    SETF("lr_scheduler_step", v->lr_scheduler_step);
    SETF("lr_scheduler_factor", v->lr_scheduler_factor);
    SETF("lr_scheduler_minimum_lr", v->lr_scheduler_minimum_lr);
    SETF("num_calibration_samples", v->num_calibration_samples);
#undef SETF
    json_object_set_new(j, "loss", json_string(loss_name(v->loss)));
    json_object_set_new(j, "optimizer",
                        json_string(v->optimizer == OPT_SGD       ? "sgd"
                                    : v->optimizer == OPT_RMSPROP ? "rmsprop"
                                                                  : "adam"));
    int norm = v->normalize_data != 0;
    json_object_set_new(j, "normalize_data", json_string(norm ? "true" : "false"));
    json_object_set_new(j, "unbias_data", json_string(r->sc.shift ? "true" : "false"));
    int reg = v->pred == LL_REGRESSOR;
    json_object_set_new(j, "normalize_label",
                        json_string(reg && r->sc.ysd != 1.0 ? "true" : "false"));
    json_object_set_new(j, "unbias_label", json_string(reg && r->sc.ymu != 0.0 ? "true" : "false"));
    if (v->pred == LL_BINARY_CLASSIFIER && v->posw_mode != POSW_VALUE) {
        snprintf(buf, sizeof buf, "%.9g", r->s.cfg[0].posw);
        json_object_set_new(j, "positive_example_weight_mult", json_string(buf));
    }
    return j;
}

static ll_code write_json_file(const char *path, json_t *j, ll_err *err)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (!s)
        return err_set(err, LL_E_NOMEM, "cannot format JSON");
    size_t n = strlen(s);
    char *t = realloc(s, n + 2); /* json_dumps allocates with malloc */
    if (!t) {
        free(s);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    t[n] = '\n';
    t[n + 1] = 0;
    ll_code rc = wr_write_file(path, t, n + 1, err);
    free(t);
    return rc;
}

/* ---- set-up ---- */

/* How channel c is split over the hosts (ll_train_opts.shard; docs/DISTRIBUTED.md): the train
 * channel by whole objects when it has at least one per host (or as told), else by records;
 * validation and test by records. */
static ll_code dist_channel(run *r, int c, int pipe, ll_err *err)
{
    int mode = c == 0                              ? r->o->shard
               : ((r->o->shard_own_mask >> c) & 1) ? LL_SHARD_NONE
                                                   : LL_SHARD_RECORDS;
    if (mode == LL_SHARD_NONE)
        return LL_OK;
    uint64_t n = 1;
    if (!pipe && mode != LL_SHARD_RECORDS) {
        ll_code rc = channel_count_objects(r->ch[c].src, &n, err);
        if (rc != LL_OK)
            return with_src(r, c, rc, err);
    }
    if (mode == LL_SHARD_FILES && n < (uint64_t)r->nh) {
        err_set(err, LL_E_ARG, "%llu object(s) cannot be sharded over %d hosts (--shard files)",
                (unsigned long long)n, r->nh);
        return err_src(err, r->ch[c].src);
    }
    if (!pipe && mode != LL_SHARD_RECORDS && n >= (uint64_t)r->nh) {
        r->ch[c].shard_index = (uint32_t)r->rank;
        r->ch[c].shard_count = (uint32_t)r->nh;
        logf_(r, "%s channel: %llu objects sharded by key over %d hosts (this host: %s)",
              CH_NAME[c], (unsigned long long)n, r->nh, r->host);
    } else {
        r->split[c] = 1;
        if (c == 0)
            logf_(r,
                  "train channel: split by record over %d hosts (each keeps its slice of every "
                  "mini-batch)",
                  r->nh);
    }
    return LL_OK;
}

/* Across hosts: algo-1's checkpoint (if any) for every host; the other hosts get a copy under
 * buf (*path then points there; the caller removes it). */
static ll_code dist_ckpt_fetch(run *r, const char *ckpath, char *buf, size_t cap, const char **path,
                               ll_err *err)
{
    uint64_t len = UINT64_MAX;
    char *bytes = NULL;
    *path = ckpath;
    if (r->rank == 0) {
        FILE *f = fopen(ckpath, "rb");
        if (f && fseek(f, 0, SEEK_END) == 0) {
            long l = ftell(f);
            bytes = l >= 0 ? mem_alloc((size_t)l + 1) : NULL;
            if (bytes && fseek(f, 0, SEEK_SET) == 0 && fread(bytes, 1, (size_t)l, f) == (size_t)l)
                len = (uint64_t)l;
        }
        if (f)
            fclose(f);
    }
    dist_where("sharing the checkpoint", 0);
    ll_code rc = dist_bcast(&len, sizeof len, 0, err);
    if (rc == LL_OK && len != UINT64_MAX && r->rank != 0) {
        bytes = mem_alloc(len + 1);
        if (!bytes)
            rc = err_set(err, LL_E_NOMEM, "out of memory for the checkpoint");
    }
    if (rc == LL_OK && len != UINT64_MAX)
        rc = dist_bcast(bytes, (size_t)len, 0, err);
    if (rc == LL_OK && len != UINT64_MAX && r->rank != 0) {
        const char *tmp = getenv("TMPDIR");
        snprintf(buf, cap, "%s/linlearn-ckpt-%d-%ld", tmp && *tmp ? tmp : "/tmp", r->rank,
                 (long)getpid());
        FILE *f = fopen(buf, "wb");
        if (!f || fwrite(bytes, 1, (size_t)len, f) != (size_t)len)
            rc = err_sys(err, buf, "cannot write the checkpoint copy");
        if (f && fclose(f) != 0 && rc == LL_OK)
            rc = err_sys(err, buf, "cannot write the checkpoint copy");
        *path = buf;
    }
    mem_free(bytes);
    return rc;
}

/* Every host's rows of the last epoch, for the metrics JSON (train_rows_by_host). */
static ll_code dist_rows_by_host(run *r, ll_err *err)
{
    void *all = NULL;
    dist_where("counting each host's rows", 0);
    ll_code rc = dist_gather(&r->epoch_rows, sizeof r->epoch_rows, &all, NULL, err);
    if (rc == LL_OK)
        memcpy(r->rows_by_host, all, (size_t)r->nh * sizeof(uint64_t));
    mem_free(all);
    return rc;
}

/* Opens the channels the options name (train is required). */
static ll_code setup_channels(run *r, ll_err *err)
{
    const ll_train_opts *o = r->o;
    const char *srcs[3] = {o->train, o->validation, o->test};
    ll_parse_opts po = o->parse;
    if (po.feature_dim == 0)
        po.feature_dim = r->hv.feature_dim; /* the shape of LIBSVM rows */
    for (int c = 0; c < 3; c++) {
        if (!srcs[c])
            continue;
        ll_parse_opts pc = po;
        if (o->formats[c] != LL_FMT_AUTO)
            pc.format = o->formats[c];
        int pipe = o->pipe || ((o->pipe_mask >> c) & 1);
        ll_code rc =
            channel_init(&r->ch[c], CH_NAME[c], srcs[c], &pc, pipe, o->pipe_timeout_ms, err);
        if (rc != LL_OK)
            return rc;
        r->ch[c].gzip = (o->gzip_mask >> c) & 1;
        r->ch[c].halt = o->stop;
        r->has[c] = 1;
        if (r->nh > 1 && (rc = dist_channel(r, c, pipe, err)) != LL_OK)
            return rc;
    }
    return LL_OK;
}

/* Warm start: loads the initial model and checks it fits the hyperparameters before any data
 * is read; with feature_dim=auto the model's becomes the run's. */
static ll_code load_initial(run *r, ll_err *err)
{
    const char *path = r->o->initial_model;
    hp_values *hv = &r->hv;
    if (!path)
        return LL_OK;
    ll_code rc = ll_model_load(path, &r->init, err);
    if (rc != LL_OK)
        return rc;
    const ll_model *m = r->init;
    uint32_t C = hv->pred == LL_MULTICLASS_CLASSIFIER ? hv->num_classes : 1;
    if (m->pred != hv->pred)
        rc = err_set(err, LL_E_ARG, "the initial model is a %s, but predictor_type is %s",
                     ll_predictor_name(m->pred), ll_predictor_name(hv->pred));
    else if (hv->feature_dim && hv->feature_dim != m->feature_dim)
        rc = err_set(err, LL_E_ARG, "the initial model has %llu features, but feature_dim is %llu",
                     (unsigned long long)m->feature_dim, (unsigned long long)hv->feature_dim);
    else if (m->n_out != C)
        rc = err_set(err, LL_E_ARG, "the initial model has %u classes, but num_classes is %u",
                     m->n_out, C);
    if (rc != LL_OK)
        return err_src(err, path);
    hv->feature_dim = m->feature_dim;
    return LL_OK;
}

/* After the scaler pass: the feature dimension, the scaler, and the K models (from the initial
 * model's weights, mapped into this run's scaled space, when warm-starting). */
static ll_code init_models(run *r, ll_err *err)
{
    hp_values *hv = &r->hv;
    uint64_t D = hv->feature_dim ? hv->feature_dim : r->sc.D;
    if (r->sc.D > D && r->init)
        return err_set(err, LL_E_PARSE,
                       "the train channel has rows with %llu features but the initial model %s "
                       "has %llu",
                       (unsigned long long)r->sc.D, r->o->initial_model, (unsigned long long)D);
    if (r->sc.D > D)
        return err_set(err, LL_E_PARSE,
                       "the train channel has rows with %llu features but feature_dim is %llu",
                       (unsigned long long)r->sc.D, (unsigned long long)D);
    ll_code rc = scaler_finish(&r->sc, hv, D, err);
    if (rc == LL_OK)
        rc = sgd_init(&r->s, hv, D, &r->sc, r->o->seed, err);
    if (rc == LL_OK && r->nh > 1)
        r->s.allreduce = dist_sum_float;
    if (rc == LL_OK) { /* the sparse kernels run on every core (same weights for any count) */
        long nproc = sysconf(_SC_NPROCESSORS_ONLN);
        int nth = r->o->threads > 0 ? r->o->threads : (int)(nproc > 0 ? nproc : 1);
        if (r->o->threads <= 0 && dist_local_size() > 1) /* ranks on this machine share it */
            nth = nth / dist_local_size() > 1 ? nth / dist_local_size() : 1;
        rc = sgd_threads(&r->s, (unsigned)nth, err);
    }
    for (uint32_t k = 0; rc == LL_OK && r->init && k < r->s.K; k++)
        sgd_unfold(&r->s, k, r->init->w, r->init->b);
    if (rc == LL_OK && r->init)
        logf_(r, "Starting every model from the initial model %s.", r->o->initial_model);
    if (rc == LL_OK)
        r->t_init_ms = (now_s() - r->t0) * 1000;
    return rc;
}

/* ---- early stopping ---- */

/* What the epoch loop carries from epoch to epoch to decide when to stop and which epoch of
 * each model to keep. */
typedef struct early_stop {
    int by_crit;           /* binary with validation: the sampled criterion (higher is better) */
    const char *crit_name; /* as the log names it */
    sampler sp;            /* validation rows whose scores give the criterion (by_crit) */
    double *loss;          /* this epoch, per model: validation loss, else the train loss */
    double *crit;          /* this epoch, per model: the criterion (by_crit) */
    double *best, *bestc;  /* per model: loss and criterion of its best epoch (validation) */
    double global_best;    /* the best epoch value over all models so far */
    double value;          /* this epoch's value: the best model's */
    uint32_t stale;        /* epochs in a row that did not improve on global_best */
    int stop;              /* more than early_stopping_patience epochs in a row did not */
} early_stop;

/* Binary classifiers stop early on their selection criterion (sampled on the validation rows)
 * with a validation channel; without one, and for the other predictors, on the objective. */
static ll_code es_init(early_stop *es, run *r, ll_err *err)
{
    const hp_values *hv = &r->hv;
    uint32_t K = r->s.K;
    memset(es, 0, sizeof *es);
    es->by_crit = hv->pred == LL_BINARY_CLASSIFIER && hv->criteria != CRIT_LOSS && r->has[1];
    es->crit_name = es->by_crit ? criterion_name(hv) : metrics_objective_name(hv);
    es->global_best = es->by_crit ? -INFINITY : INFINITY;
    es->loss = mem_calloc(K, sizeof *es->loss);
    es->crit = mem_calloc(K, sizeof *es->crit);
    es->best = mem_calloc(K, sizeof *es->best);
    es->bestc = mem_calloc(K, sizeof *es->bestc);
    if (!es->loss || !es->crit || !es->best || !es->bestc)
        return err_set(err, LL_E_NOMEM, "out of memory");
    for (uint32_t k = 0; k < K; k++) {
        es->best[k] = INFINITY;
        es->bestc[k] = -INFINITY;
    }
    return es->by_crit ? sampler_init(&es->sp, hv, K, err) : LL_OK;
}

static void es_deinit(early_stop *es)
{
    mem_free(es->loss);
    mem_free(es->crit);
    mem_free(es->best);
    mem_free(es->bestc);
    sampler_deinit(&es->sp);
    memset(es, 0, sizeof *es);
}

/* ---- the epoch ---- */

/* One train pass over the train channel; logs each model's train loss and, as SageMaker does,
 * model 0's as the epoch's `#quality_metric`. */
static ll_code train(run *r, early_stop *es, uint32_t e, ll_err *err)
{
    uint32_t K = r->s.K;
    double ts = wall_s();
    ll_code rc = train_epoch(r, err);
    if (rc != LL_OK)
        return rc;
    double te = wall_s();
    timer_add(&r->t_update, (te - ts) * 1000);
    r->te_epoch = te;
    r->epochs_done = e + 1;
    double tmin = INFINITY;
    for (uint32_t k = 0; k < K; k++) {
        double l = r->s.tw > 0 ? r->s.tl[k] / r->s.tw : 0;
        metrics_line(r, r->tname, l, (int)k, (int)e, ts, te);
        if (l < tmin)
            tmin = l;
        if (!r->has[1])
            es->loss[k] = l;
    }
    char nb[32];
    double l0 = r->s.tw > 0 ? r->s.tl[0] / r->s.tw : 0;
    logf_(r, "#quality_metric: host=%s, epoch=%u, train %s <loss>=%s", r->host, e, r->obj,
          num(nb, l0));
    es->value = tmin;
    return LL_OK;
}

/* With a validation channel: each model's validation loss (and the criterion's sample). */
static ll_code validate(run *r, early_stop *es, uint32_t e, ll_err *err)
{
    if (!r->has[1])
        return LL_OK;
    ll_code rc = eval_pass(r, 1, es->loss, es->by_crit ? &es->sp : NULL, err);
    if (rc != LL_OK)
        return rc;
    double vmin = INFINITY, tv = wall_s();
    for (uint32_t k = 0; k < r->s.K; k++) {
        metrics_line(r, r->vname, es->loss[k], (int)k, (int)e, r->te_epoch, tv);
        if (es->loss[k] < vmin)
            vmin = es->loss[k];
    }
    char nb[32];
    logf_(r, "#quality_metric: host=%s, epoch=%u, validation %s <loss>=%s", r->host, e, r->obj,
          num(nb, es->loss[0]));
    es->value = vmin;
    return LL_OK;
}

/* Keeps each model's best epoch (validation only: best criterion, then loss), then decides
 * whether the epoch improved on the best so far; more than early_stopping_patience epochs in a
 * row without improvement stop training (the real traces stop after patience + 1). */
static ll_code early_stopping(run *r, early_stop *es, uint32_t e, ll_err *err)
{
    const hp_values *hv = &r->hv;
    uint32_t K = r->s.K;
    ll_code rc = LL_OK;
    if (es->by_crit) {
        rc = sampler_values(r, &es->sp, es->crit, err);
        if (rc != LL_OK)
            return rc;
        es->value = -INFINITY;
        for (uint32_t k = 0; k < K; k++)
            if (es->crit[k] > es->value)
                es->value = es->crit[k];
    }
    for (uint32_t k = 0; r->has[1] && k < K && rc == LL_OK; k++) {
        double l = es->loss[k], c = es->crit[k];
        int better = es->by_crit ? c > es->bestc[k] || (c == es->bestc[k] && l < es->best[k])
                                 : l < es->best[k];
        if (better && isfinite(l)) {
            es->best[k] = l;
            es->bestc[k] = c;
            rc = sgd_snapshot(&r->s, k, err);
        }
    }
    if (rc != LL_OK)
        return rc;
    double v = es->value, g = es->global_best;
    char nb[32];
    logf_(r, "#early_stopping_criteria_metric: host=%s, epoch=%u, criteria=%s, value=%s", r->host,
          e, es->crit_name, num(nb, v));
    int improved;
    if (es->by_crit) {
        improved = !isfinite(g) || (v - g) >= hv->early_stopping_tolerance * fabs(g);
        if (v > g)
            es->global_best = v;
    } else {
        improved = !isfinite(g) || (g - v) >= hv->early_stopping_tolerance * fabs(g);
        if (v < g)
            es->global_best = v;
    }
    if (improved) {
        es->stale = 0;
        logf_(r, "Epoch %u: Loss improved. Updating best model", e);
    } else {
        es->stale++;
    }
    es->stop = es->stale > hv->early_stopping_patience;
    logf_(r, "Saving model for epoch: %u", e);
    timer_add(&r->t_check, (wall_s() - r->te_epoch) * 1000);
    return LL_OK;
}

/* One of SageMaker's data-iterator `#metrics` lines over the train channel's counters
 * (meta "init_train_data_iter" before the epochs, "training_data_iter" after each; e < 0:
 * no epoch). */
static void iter_line(run *r, const char *meta, int e)
{
    const iter_stats *it = &r->it;
    static const char *names[7] = {"Total Records Seen",
                                   "Total Batches Seen",
                                   "Max Records Seen Between Resets",
                                   "Max Batches Seen Between Resets",
                                   "Reset Count",
                                   "Number of Records Since Last Reset",
                                   "Number of Batches Since Last Reset"};
    double v[7] = {(double)it->records,     (double)it->batches, (double)it->max_records,
                   (double)it->max_batches, (double)it->resets,  (double)it->pass_records,
                   (double)it->pass_batches};
    char body[900], nb[32], ep[32] = "";
    size_t len = 0;
    for (int i = 0; i < 7 && len < sizeof body; i++)
        len +=
            (size_t)snprintf(body + len, sizeof body - len,
                             "%s\"%s\": {\"count\": 1, \"max\": %.0f, \"sum\": %s, \"min\": %.0f}",
                             i ? ", " : "", names[i], v[i], num(nb, v[i]), v[i]);
    if (e >= 0)
        snprintf(ep, sizeof ep, "\"epoch\": %d, ", e);
    logf_(r,
          "#metrics {\"Metrics\": {%s}, \"Dimensions\": {\"Host\": \"%s\", \"Operation\": "
          "\"training\", \"Algorithm\": \"Linear Learner\", %s\"Meta\": \"%s\"}, \"StartTime\": "
          "%.3f, \"EndTime\": %.3f}",
          body, r->host, ep, meta, r->ts_iter, wall_s());
}

/* The end-of-epoch progress lines and callbacks, the epoch into the history; after an early
 * stop SageMaker's progress line says "completed 100 % epochs". */
static void report_epoch(run *r, const early_stop *es, uint32_t e)
{
    const hp_values *hv = &r->hv;
    int early = es->stop;
    char nb[32];
    hist_epoch(&r->hist, e, r->s.tl, r->s.tw, r->has[1] ? es->loss : NULL,
               es->by_crit ? es->crit : NULL, es->value, (double)r->ch[0].rows,
               r->train_secs > 0 ? r->rows_trained / r->train_secs : 0.0);
    if (early)
        logf_(r, "#progress_metric: host=%s, completed 100 %% epochs", r->host);
    else
        logf_(r, "#progress_metric: host=%s, completed %s %% of epochs", r->host,
              num(nb, 100.0 * (e + 1) / hv->epochs));
    iter_line(r, "training_data_iter", (int)e);
    logf_(r, "#throughput_metric: host=%s, train throughput=%s records/second", r->host,
          num(nb, r->train_secs > 0 ? r->rows_trained / r->train_secs : 0.0));
    if (r->o->progress)
        r->o->progress(r->o->ud, early ? 1.0 : (double)(e + 1) / hv->epochs);
}

/* Each model takes the weights of its best epoch (validation only). */
static void restore_best(run *r, const early_stop *es)
{
    for (uint32_t k = 0; r->has[1] && k < r->s.K; k++)
        if (isfinite(es->best[k]))
            sgd_restore(&r->s, k);
}

/* ---- checkpoints (ckpt.h) ---- */

/* Loads the checkpoint directory's state into the models when it matches this run; returns the
 * epoch to start with (0 when there is none or it does not apply, which is logged). *done: the
 * checkpointed run had finished its epochs. */
static uint32_t resume(run *r, const ll_hparams *hp, early_stop *es, int *done, ll_code *rc,
                       ll_err *err)
{
    checkpoint *ck = &r->ck;
    *done = 0;
    if (!r->o->checkpoint_dir)
        return 0;
    ck->on = 1;
    snprintf(ck->path, sizeof ck->path, "%s/%s", r->o->checkpoint_dir, CKPT_FILE);
    ck->st.fingerprint = ckpt_fingerprint(hp, r->o->seed, r->has);
    ck->st.seed = r->o->seed;
    ck->st.epochs = r->hv.epochs;
    ck->st.best = es->best;
    ck->st.bestc = es->bestc;
    ll_err e;
    char b[700], local[4300];
    const char *from = ck->path;
    /* across hosts every host resumes from algo-1's checkpoint (a copy in a temporary file) */
    if (r->nh > 1 && dist_ckpt_fetch(r, ck->path, local, sizeof local, &from, &e) != LL_OK) {
        logf_(r, "Ignoring the checkpoint: %s", ll_err_format(&e, b, sizeof b));
        return 0;
    }
    struct stat st;
    if (stat(from, &st) != 0) {
        logf_(r, "No checkpoint at %s: starting from the first epoch.", ck->path);
        return 0;
    }
    ll_code lrc = ckpt_load(from, &ck->st, &r->s, &r->sc, &e);
    if (from != ck->path)
        unlink(from);
    if (lrc != LL_OK) {
        logf_(r, "Ignoring the checkpoint: %s", ll_err_format(&e, b, sizeof b));
        return 0;
    }
    es->global_best = ck->st.global_best;
    es->stale = ck->st.stale;
    *done = (ck->st.flags & CKPT_DONE) != 0;
    r->epochs_done = ck->st.epochs_done;
    r->rows_trained = ck->st.rows_trained;
    r->train_secs = ck->st.train_secs;
    if (ck->st.flags & CKPT_PARTIAL) {
        uint32_t wrote = ck->st.part.nh > 1 ? ck->st.part.nh : 1;
        if (wrote != (uint32_t)r->nh) { /* the hosts' positions are of another job's shares */
            *rc = err_set(err, LL_E_STATE,
                          "the checkpoint was saved inside epoch %u by %u host(s); resume it "
                          "with %u (this job has %d), or remove it to start over",
                          ck->st.next_epoch, wrote, wrote, r->nh);
            err_src(err, ck->path);
            return 0;
        }
        r->resume_part = &ck->st.part;
    }
    if (r->resume_part)
        logf_(r,
              "Loaded checkpoint %s: %u epoch(s) done, continuing inside epoch %u after %llu "
              "mini-batch steps.",
              ck->path, ck->st.epochs_done, ck->st.next_epoch,
              (unsigned long long)ck->st.part.batches);
    else
        logf_(r, "Loaded checkpoint %s: %u epoch(s) done, continuing%s.", ck->path,
              ck->st.epochs_done, *done ? " with model selection" : "");
    return ck->st.next_epoch;
}

/* Saves the state after epoch e. */
static ll_code checkpoint_epoch(run *r, const early_stop *es, uint32_t e, ll_err *err)
{
    checkpoint *ck = &r->ck;
    if (!ck->on || r->rank != 0) /* across hosts algo-1 writes it */
        return LL_OK;
    int fin = es->stop || e + 1 >= r->hv.epochs;
    ck->st.next_epoch = e + 1;
    ck->st.epochs_done = r->epochs_done;
    ck->st.flags = fin ? CKPT_DONE : 0;
    ck->st.stale = es->stale;
    ck->st.global_best = es->global_best;
    ck->st.rows_trained = r->rows_trained;
    ck->st.train_secs = r->train_secs;
    ll_code rc = ckpt_save(ck->path, &ck->st, &r->s, &r->sc, err);
    if (rc == LL_OK)
        logf_(r, "Saved checkpoint to \"%s\"", ck->path);
    return rc;
}

/* The checkpoint state of a stop inside epoch e after `batches` steps, `rows` trained so far. */
static ckpt_state partial_state(const run *r, const early_stop *es, uint32_t e, uint64_t rows,
                                uint64_t batches)
{
    ckpt_state ps = r->ck.st;
    ps.flags = CKPT_PARTIAL;
    ps.next_epoch = ps.epochs_done = e;
    ps.stale = es->stale;
    ps.global_best = es->global_best;
    ps.rows_trained = rows;
    ps.train_secs = r->train_secs;
    ps.part.batches = batches;
    ps.part.tl = r->s.tl;
    ps.part.tw = r->s.tw;
    ps.part.n = 0; /* the criterion's sample comes from validation, never the train pass */
    ps.part.stride = es->sp.cap;
    ps.part.sc = es->sp.sc;
    ps.part.lab = es->sp.lab;
    ps.part.wt = es->sp.wt;
    return ps;
}

/* Stopped by a signal (rc LL_E_STATE) inside epoch e: saves how far it got, unless it was still
 * passing over batches a checkpoint already covers. Logs the outcome. */
static void checkpoint_stopped(run *r, const early_stop *es, ll_code rc, uint32_t e)
{
    const ll_train_opts *o = r->o;
    if (rc != LL_E_STATE || !o->stop || !__atomic_load_n(o->stop, __ATOMIC_ACQUIRE) || !r->ck.on ||
        !r->in_epoch || r->skipping || r->nh > 1)
        return;
    ckpt_state ps = partial_state(r, es, e, r->rows_trained, r->batches);
    ll_err e2;
    char b[700];
    /* the lazy sparse state goes into the checkpoint as it is (ckpt.h, flag 16): catching up
     * here would give the resumed run other roundings than an uninterrupted one */
    if (ckpt_save(r->ck.path, &ps, &r->s, &r->sc, &e2) == LL_OK)
        logf_(r, "Stopped in epoch %u after %llu mini-batches: checkpoint saved to %s", e,
              (unsigned long long)r->batches, r->ck.path);
    else
        logf_(r, "Stopped, but the checkpoint could not be saved: %s",
              ll_err_format(&e2, b, sizeof b));
}

/* o->checkpoint_steps: saves the state after `steps` mini-batch steps of the epoch in progress,
 * as a stop would (flag 8). Across hosts every host calls it at the same step: the hosts'
 * own positions and loss sums are gathered and algo-1 writes them too (flag 32), so each host
 * of a restarted job resumes its own share where it was. */
static ll_code checkpoint_inside(run *r, uint64_t steps, ll_err *err)
{
    if (!r->ck.on || !r->es_now)
        return LL_OK;
    const early_stop *es = r->es_now;
    uint32_t K = r->s.K, nh = (uint32_t)r->nh;
    size_t rec = 3 + (size_t)K; /* batches, rows, tw, tl[K] as 8-byte words */
    double *all = NULL;
    uint64_t rows = r->rows_trained;
    ll_code rc = LL_OK;
    if (nh > 1) {
        double *mine = mem_alloc(rec * sizeof *mine);
        if (!mine)
            return err_set(err, LL_E_NOMEM, "out of memory");
        mine[0] = (double)r->batches;
        mine[1] = (double)r->epoch_rows;
        mine[2] = r->s.tw;
        memcpy(mine + 3, r->s.tl, K * sizeof *mine);
        dist_where("a checkpoint inside the epoch", r->s.t);
        void *g = NULL;
        rc = dist_gather(mine, rec * sizeof *mine, &g, NULL, err);
        mem_free(mine);
        all = g;
        if (rc == LL_OK)
            rc = dist_sum_u64(&rows, 1, err);
    }
    ckpt_state ps = r->ck.st;
    uint64_t *hb = NULL, *hr = NULL;
    double *htw = NULL, *htl = NULL, *tl = NULL;
    if (rc == LL_OK && r->rank == 0) {
        ps = partial_state(r, es, r->e_now, rows, steps);
        ps.part.nh = 0;
        if (nh > 1) {
            hb = mem_alloc(nh * sizeof *hb);
            hr = mem_alloc(nh * sizeof *hr);
            htw = mem_alloc(nh * sizeof *htw);
            htl = mem_alloc((size_t)nh * K * sizeof *htl);
            tl = mem_calloc(K, sizeof *tl);
            if (!hb || !hr || !htw || !htl || !tl)
                rc = err_set(err, LL_E_NOMEM, "out of memory");
            for (uint32_t h = 0; rc == LL_OK && h < nh; h++) {
                const double *a = all + (size_t)h * rec;
                hb[h] = (uint64_t)a[0];
                hr[h] = (uint64_t)a[1];
                htw[h] = a[2];
                memcpy(htl + (size_t)h * K, a + 3, K * sizeof *htl);
                ps.part.tw = h ? ps.part.tw + a[2] : a[2];
                for (uint32_t k = 0; k < K; k++)
                    tl[k] += a[3 + k];
            }
            ps.part.tl = tl;
            ps.part.nh = nh;
            ps.part.h_batches = hb;
            ps.part.h_rows = hr;
            ps.part.h_tw = htw;
            ps.part.h_tl = htl;
        }
        /* the lazy sparse state goes in as it is (ckpt.h, flag 16), as for a stop */
        if (rc == LL_OK)
            rc = ckpt_save(r->ck.path, &ps, &r->s, &r->sc, err);
        if (rc == LL_OK) {
            logf_(r, "Saved checkpoint inside epoch %u after %llu mini-batch steps to \"%s\"",
                  r->e_now, (unsigned long long)steps, r->ck.path);
            /* fault injection for the kill-and-resume tests (tests/cli/mpi.sh), which cannot
             * time a kill from outside between two checkpoints of a fast epoch:
             * LINLEARN_FAULT_KILL_AT=E:S ends the host that saved with SIGKILL right after the
             * checkpoint inside epoch E after S steps */
            const char *f = getenv("LINLEARN_FAULT_KILL_AT");
            unsigned fe = 0;
            unsigned long long fs = 0;
            if (f && sscanf(f, "%u:%llu", &fe, &fs) == 2 && fe == r->e_now && fs == steps) {
                fflush(NULL);
                raise(SIGKILL);
            }
        }
    }
    mem_free(all);
    mem_free(hb);
    mem_free(hr);
    mem_free(htw);
    mem_free(htl);
    mem_free(tl);
    return rc;
}

/* ---- after the epochs ---- */

static const char *optimizer_name(const hp_values *hv)
{
    return hv->optimizer == OPT_SGD ? "sgd" : hv->optimizer == OPT_RMSPROP ? "rmsprop" : "adam";
}

/* The selected model (sel), folded back to raw feature units, with its threshold. */
static ll_code build_model(run *r, const selection *sel, ll_model **out, ll_err *err)
{
    const hp_values *hv = &r->hv;
    model_score score = hv->pred == LL_REGRESSOR               ? MODEL_SCORE_IDENTITY
                        : hv->pred == LL_MULTICLASS_CLASSIFIER ? MODEL_SCORE_SOFTMAX
                        : hv->loss == LOSS_LOGISTIC            ? MODEL_SCORE_SIGMOID
                                                               : MODEL_SCORE_RAW;
    ll_model *m = NULL;
    ll_code rc = model_new(hv->pred, score, r->s.D, r->s.C, loss_name(hv->loss), &m, err);
    if (rc != LL_OK)
        return rc;
    sgd_fold(&r->s, sel->k, m->w, m->b);
    m->threshold = sel->thr;
    *out = m;
    return LL_OK;
}

/* The selected model's settings, keys in the order of SageMaker's 2024 containers. */
static void log_best(run *r, const selection *sel)
{
    const hp_values *hv = &r->hv;
    const sgd_cfg *cf = &r->s.cfg[sel->k];
    char lr[32], wd[32], l1[32], f[32], mlr[32];
    logf_(r,
          "Best model found for hyperparameters: {\"optimizer\": \"%s\", \"learning_rate\": %s, "
          "\"wd\": %s, \"l1\": %s, \"lr_scheduler_step\": %llu, \"lr_scheduler_factor\": %s, "
          "\"lr_scheduler_minimum_lr\": %s}",
          optimizer_name(hv), num(lr, cf->lr), num(wd, cf->wd), num(l1, cf->l1),
          (unsigned long long)hv->lr_scheduler_step, num(f, hv->lr_scheduler_factor),
          num(mlr, hv->lr_scheduler_minimum_lr));
}

/* The final model's metrics on train and validation, then (after the selected model's line, as
 * SageMaker orders them) on test; into r->metrics and the log. */
static ll_code report_final(run *r, const ll_model *m, const selection *sel, int kch,
                            const kept *kp, ll_err *err)
{
    ll_code rc = LL_OK;
    r->metrics = json_object();
    for (int c = 0; c < 2 && rc == LL_OK; c++)
        if (r->has[c])
            rc = final_metrics(r, c, m, c == kch && kp->all ? kp : NULL, sel->k, err);
    if (rc == LL_OK)
        log_best(r, sel);
    if (rc == LL_OK && r->has[2])
        rc = final_metrics(r, 2, m, NULL, 0, err);
    else if (rc == LL_OK)
        logf_(r, "Test data is not provided.");
    return rc;
}

/* model_dir/model.tar.gz (with the resolved hyperparameters and the metrics), the metrics
 * JSON file, the HTML report and the summary, where the options ask for them. */
static ll_code save(run *r, const ll_hparams *hp, ll_model *m, const selection *sel, ll_err *err)
{
    const ll_train_opts *o = r->o;
    const hp_values *hv = &r->hv;
    const sgd_cfg *cf = &r->s.cfg[sel->k];
    ll_code rc = LL_OK;
    json_t *hpj = resolved_hp(hp, r);
    /* across hosts every host holds the same model: algo-1 writes it */
    if (r->nh > 1)
        rc = dist_rows_by_host(r, err);
    else
        r->rows_by_host[0] = r->epoch_rows;
    if (rc == LL_OK && o->model_dir && r->rank == 0) {
        char *hs = json_dumps(hpj, JSON_PRESERVE_ORDER);
        char *ms = json_dumps(r->metrics, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
        rc = hs && ms ? model_set_info(m, hs, ms, err) : err_set(err, LL_E_NOMEM, "out of memory");
        free(hs);
        free(ms);
        if (rc == LL_OK)
            rc = model_save_as(m, o->model_dir, o->sagemaker_model, err);
    }
    if (rc == LL_OK && r->rank == 0 && (o->metrics_json || o->report || o->summary)) {
        json_t *j = json_object();
        json_object_set(j, "hyperparameters", hpj);
        json_object_set_new(j, "epochs_completed", json_integer(r->epochs_done));
        json_object_set_new(j, "rows_per_second",
                            json_real(r->train_secs > 0 ? r->rows_trained / r->train_secs : 0));
        json_object_set_new(j, "time_to_first_batch_ms",
                            json_real(r->t_first > 0 ? (r->t_first - r->t0) * 1000 : 0));
        json_t *sj = json_object();
        json_object_set_new(sj, "index", json_integer(sel->k));
        json_object_set_new(sj, "learning_rate", json_real(cf->lr));
        json_object_set_new(sj, "wd", json_real(cf->wd));
        json_object_set_new(sj, "l1", json_real(cf->l1));
        if (hv->pred == LL_BINARY_CLASSIFIER) {
            json_object_set_new(sj, "threshold", json_real(sel->thr));
            json_object_set_new(sj, "positive_example_weight_mult", json_real(cf->posw));
        }
        json_object_set_new(j, "selected_model", sj);
        json_object_set(j, "metrics", r->metrics);
        json_t *hj = json_array(), *rj = json_object();
        for (int h = 0; h < r->nh; h++) {
            char name[32];
            snprintf(name, sizeof name, "algo-%d", h + 1);
            if (r->nh == 1)
                snprintf(name, sizeof name, "%s", r->host);
            json_array_append_new(hj, json_string(name));
            json_object_set_new(rj, name, json_integer((json_int_t)r->rows_by_host[h]));
        }
        json_object_set_new(j, "hosts", hj);
        json_object_set_new(j, "train_rows_by_host", rj);
        json_t *kj = json_object(); /* passes kept in memory: what was kept and replayed */
        json_object_set_new(kj, "budget_mb", json_real((double)r->cache_budget / 1048576.0));
        for (int c = 0; c < 3; c++)
            if (r->pc_state[c] == PC_FULL) {
                json_t *cj = json_object();
                json_object_set_new(cj, "rows", json_integer((json_int_t)r->pc[c].rows));
                json_object_set_new(cj, "batches", json_integer((json_int_t)r->pc[c].n));
                json_object_set_new(cj, "mb", json_real((double)r->pc[c].bytes / 1048576.0));
                json_object_set_new(cj, "replays", json_integer(r->pc_replays[c]));
                json_object_set_new(kj, CH_NAME[c], cj);
            }
        json_object_set_new(j, "kept_passes", kj);
        if (r->nh > 1) { /* algo-1's view of the collectives (bench/distributed.sh) */
            json_t *dj = json_object();
            json_object_set_new(dj, "steps", json_integer((json_int_t)r->s.t));
            json_object_set_new(dj, "train_seconds", json_real(r->train_secs));
            json_object_set_new(dj, "comm_seconds", json_real(r->comm_train));
            json_object_set_new(
                dj, "average_steps",
                json_integer((json_int_t)(r->o->average_steps > 1 ? r->o->average_steps : 1)));
            json_object_set_new(j, "distributed", dj);
        }
        const char *srcs[3] = {o->train, o->validation, o->test};
        json_object_set_new(j, "history",
                            hist_json(&r->hist, srcs, now_s() - r->t0,
                                      r->train_secs > 0 ? r->rows_trained / r->train_secs : 0));
        if (o->metrics_json)
            rc = write_json_file(o->metrics_json, j, err);
        if (rc == LL_OK)
            rc = report_outputs(j, o->report, o->summary, o->ud, err);
        json_decref(j);
    }
    json_decref(hpj);
    return rc;
}

/* The run's timers as one `#metrics` line (ms; "epochs" is the configured number, as in
 * SageMaker's); t_fin0: when the final passes began. */
static void report_timers(run *r, double t_fin0)
{
    double tend = now_s();
    double fin = (tend - t_fin0) * 1000, tot = (tend - r->t0) * 1000;
    double ep = (double)r->hv.epochs;
    struct {
        const char *name;
        timer t;
    } tv[7] = {
        {"initialize.time", {r->t_init_ms, r->t_init_ms, r->t_init_ms, 1}},
        {"epochs", {ep, ep, ep, 1}},
        {"check_early_stopping.time", r->t_check},
        {"update.time", r->t_update},
        {"finalize.time", {fin, fin, fin, 1}},
        {"setuptime", {r->t_setup_ms, r->t_setup_ms, r->t_setup_ms, 1}},
        {"totaltime", {tot, tot, tot, 1}},
    };
    char body[1400], a[32], b[32], c[32];
    size_t len = 0;
    for (int i = 0; i < 7 && len < sizeof body; i++)
        len +=
            (size_t)snprintf(body + len, sizeof body - len,
                             "%s\"%s\": {\"count\": %llu, \"max\": %s, \"sum\": %s, \"min\": %s}",
                             i ? ", " : "", tv[i].name, (unsigned long long)tv[i].t.n,
                             num(a, tv[i].t.max), num(b, tv[i].t.sum), num(c, tv[i].t.min));
    logf_(r,
          "#metrics {\"Metrics\": {%s}, \"Dimensions\": {\"Host\": \"%s\", "
          "\"Operation\": \"training\", \"Algorithm\": \"Linear Learner\"}, \"StartTime\": "
          "%.3f, \"EndTime\": %.3f}",
          body, r->host, r->wall0, wall_s());
}

/* ---- the driver ---- */

static ll_code run_all(run *r, const ll_hparams *hp, ll_err *err)
{
    early_stop es;
    memset(&es, 0, sizeof es);
    ll_code rc = load_initial(r, err);
    if (rc == LL_OK)
        rc = setup_channels(r, err);
    if (rc == LL_OK)
        rc = scaler_pass(r, err);
    if (rc == LL_OK)
        rc = init_models(r, err);
    if (rc == LL_OK)
        rc = es_init(&es, r, err);
    if (rc == LL_OK)
        rc = hist_init(&r->hist, &r->hv, &r->s, r->obj, es.crit_name, es.by_crit, r->o, err);
    int done = 0;
    uint32_t e = rc == LL_OK ? resume(r, hp, &es, &done, &rc, err) : 0;
    if (rc == LL_OK && !done)
        iter_line(r, "init_train_data_iter", -1);
    for (; rc == LL_OK && !done && e < r->hv.epochs; e++) {
        r->in_epoch = 1;
        r->es_now = &es;
        r->e_now = e;
        rc = train(r, &es, e, err);
        if (rc == LL_OK)
            rc = validate(r, &es, e, err);
        if (rc == LL_OK)
            rc = early_stopping(r, &es, e, err);
        if (rc == LL_OK)
            rc = checkpoint_epoch(r, &es, e, err);
        if (rc != LL_OK)
            break;
        r->in_epoch = 0;
        if (es.stop)
            logf_(r, "Early stop condition met. Stopping training.");
        report_epoch(r, &es, e);
        if (es.stop)
            break;
    }
    checkpoint_stopped(r, &es, rc, e);
    ckpt_state_deinit(&r->ck.st);
    if (rc == LL_OK)
        restore_best(r, &es);
    es_deinit(&es);
    if (rc != LL_OK)
        return rc;

    selection sel = {0, 0.5f, 0};
    ll_model *m = NULL;
    kept kp;
    int kch = r->has[1] ? 1 : 0;
    rc = select_model(r, kch, &sel, !r->o->exact_final_metrics, &kp, err);
    if (rc == LL_OK)
        rc = build_model(r, &sel, &m, err);
    if (rc == LL_OK)
        rc = report_final(r, m, &sel, kch, &kp, err);
    kept_free(&kp);
    double t_fin0 = now_s();
    if (rc == LL_OK)
        rc = save(r, hp, m, &sel, err);
    ll_model_free(m);
    if (rc == LL_OK)
        report_timers(r, t_fin0);
    return rc;
}

/* The bytes passes may keep in memory (ll_train_opts.cache_mb). */
static size_t cache_budget(const ll_train_opts *o)
{
    int64_t mb = o->cache_mb;
    const char *env = getenv("LINLEARN_CACHE_MB");
    if (mb == 0 && env && *env) {
        char *end;
        long long v = strtoll(env, &end, 10);
        mb = *end || v < 0 ? 0 : v == 0 ? -1 : v;
    }
    if (mb < 0)
        return 0;
    if (mb == 0)
        return pcache_default_budget();
    return (uint64_t)mb > (SIZE_MAX >> 20) ? SIZE_MAX : (size_t)mb << 20;
}

ll_code ll_train(const ll_hparams *hp, const ll_train_opts *o, ll_err *err)
{
    if (!o->train)
        return err_set(err, LL_E_ARG, "a train channel is required");
    run r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.host = o->host && o->host[0] ? o->host : "algo-1";
    r.t0 = now_s();
    r.wall0 = wall_s();
    ll_code rc = hp_resolve(hp, &r.hv, err);
    if (rc != LL_OK)
        return rc;
    r.nh = dist_size();
    r.rank = dist_rank();
    if (r.nh > 1 && !(o->host && o->host[0])) {
        snprintf(r.host_rank, sizeof r.host_rank, "algo-%d", r.rank + 1);
        r.host = r.host_rank;
    }
    r.rows_by_host = mem_calloc((size_t)r.nh, sizeof *r.rows_by_host);
    if (!r.rows_by_host)
        return err_set(err, LL_E_NOMEM, "out of memory");
    dist_set_timeout((unsigned)o->dist_timeout_s);
    r.obj = metrics_objective_name(&r.hv);
    snprintf(r.tname, sizeof r.tname, "train_%s", r.obj);
    snprintf(r.vname, sizeof r.vname, "validation_%s", r.obj);
    ll_batch_init(&r.b);
    r.cache_left = r.cache_budget = cache_budget(o);
    r.t_setup_ms = (now_s() - r.t0) * 1000;
    rc = run_all(&r, hp, err);
    if (r.play) { /* a pass ended by an error while it replayed */
        r.b = r.play_b;
        r.y = r.play_y;
    }
    for (int c = 0; c < 3; c++)
        pcache_clear(&r.pc[c], NULL);
    mem_free(r.rows_by_host);
    for (int c = 0; c < 3; c++)
        if (r.has[c])
            channel_deinit(&r.ch[c]);
    ll_batch_deinit(&r.b);
    mem_free(r.y);
    sgd_deinit(&r.s);
    scaler_deinit(&r.sc);
    ll_model_free(r.init);
    hist_deinit(&r.hist);
    json_decref(r.metrics);
    return rc;
}
