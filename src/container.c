/* SPDX-License-Identifier: Apache-2.0 */
/*
 * container.c - the SageMaker training-container entry point (ll_sm_train): reads the three
 * config files under <root>/input/config, maps channels and their input modes onto
 * ll_train_opts, runs ll_train into <root>/model, and writes <root>/output/failure when
 * anything goes wrong. The metric log format itself belongs to train.c.
 */
#include "dist.h"
#include "err.h"
#include "mem.h"
#include "sm_config.h"
#include "wr.h"
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *CHANNELS[3] = {"train", "validation", "test"};

void ll_sm_opts_init(ll_sm_opts *o)
{
    memset(o, 0, sizeof *o);
    o->root = "/opt/ml";
    o->pipe_timeout_ms = 60000;
}

int ll_sm_is_customer_error(ll_code code)
{
    return code == LL_E_ARG || code == LL_E_PARSE || code == LL_E_TOOBIG;
}

size_t ll_sm_failure_text(const ll_err *err, char *buf, size_t cap)
{
    char where[1024];
    ll_err_format(err, where, sizeof where);
    int n = snprintf(
        buf, cap, "%s%s",
        ll_sm_is_customer_error(err->code) ? "Customer Error: " : "Algorithm Error: ", where);
    /* one paragraph: no line breaks */
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

ll_code ll_sm_write_failure(const char *root, const ll_err *e, ll_err *err)
{
    char dir[4096], path[4200], text[1400];
    snprintf(dir, sizeof dir, "%s/output", root ? root : "/opt/ml");
    ll_code rc = wr_mkdirs(dir, err);
    if (rc != LL_OK)
        return rc;
    snprintf(path, sizeof path, "%s/failure", dir);
    size_t n = ll_sm_failure_text(e, text, sizeof text - 1);
    text[n++] = '\n';
    return wr_write_file(path, text, n, err);
}

/* Puts "prefix: " in front of err->msg (truncating the end if needed). */
static void prefix_msg(ll_err *err, const char *prefix)
{
    char m[sizeof err->msg * 2];
    size_t pl = strlen(prefix), ml = strlen(err->msg);
    if (pl > sizeof m - 3)
        pl = sizeof m - 3;
    memcpy(m, prefix, pl);
    m[pl] = ':';
    m[pl + 1] = ' ';
    if (ml > sizeof m - pl - 3)
        ml = sizeof m - pl - 3;
    memcpy(m + pl + 2, err->msg, ml);
    m[pl + 2 + ml] = 0;
    size_t n = strlen(m);
    if (n >= sizeof err->msg)
        n = sizeof err->msg - 1;
    memcpy(err->msg, m, n);
    err->msg[n] = 0;
}

/* Which file of a File-mode folder holds byte `off` of the channel's stream (files in path
 * order, as the folder reader concatenates them); fills path and the offset inside it. */
typedef struct locate {
    uint64_t off, base;
    char path[4200];
    uint64_t file_off;
    int found;
} locate;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void locate_in(const char *dir, locate *L)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t c = cap ? cap * 2 : 16;
            char **q = mem_realloc_array(names, c, sizeof *q);
            if (!q)
                break;
            names = q;
            cap = c;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = mem_alloc(len);
        if (!names[n])
            break;
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (!L->found && stat(names[i], &st) == 0) {
            if (S_ISDIR(st.st_mode))
                locate_in(names[i], L);
            else if (S_ISREG(st.st_mode)) {
                if (L->off < L->base + (uint64_t)st.st_size) {
                    L->found = 1;
                    snprintf(L->path, sizeof L->path, "%s", names[i]);
                    L->file_off = L->off - L->base;
                }
                L->base += (uint64_t)st.st_size;
            }
        }
        mem_free(names[i]);
    }
    mem_free(names);
}

/* Rewrites an error located in a File-mode channel folder to name the file inside it, with
 * the byte offset (and line) within that file. */
static void point_at_file(ll_err *err, const char *dir)
{
    if (!(err->has & LL_ERR_OFFSET) || strcmp(err->src, dir))
        return;
    locate L;
    memset(&L, 0, sizeof L);
    L.off = err->offset;
    locate_in(dir, &L);
    if (!L.found)
        return;
    if (err->has & LL_ERR_LINE) {
        FILE *f = fopen(L.path, "rb");
        uint64_t line = 1, k = 0;
        int ch;
        while (f && k < L.file_off && (ch = fgetc(f)) != EOF) {
            line += ch == '\n';
            k++;
        }
        if (f)
            fclose(f);
        err->line = line;
    }
    err->offset = L.file_off;
    err->src[0] = 0;
    err_src(err, L.path);
}

/* hyperparameters.json: string values (numbers and booleans are tolerated); keys starting with
 * "sagemaker_" are the platform's and are skipped. A missing file is an empty set. */
static ll_code load_hparams(const char *path, ll_hparams *hp, json_t **provided, ll_err *err)
{
    struct stat st;
    *provided = NULL;
    if (stat(path, &st) != 0 && errno == ENOENT) {
        *provided = json_object();
        return LL_OK;
    }
    json_error_t je;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        err_set(err, LL_E_ARG, "hyperparameters.json is not valid JSON: %s", je.text);
        err->line = (uint64_t)(je.line > 0 ? je.line : 0);
        err->column = (uint64_t)(je.column > 0 ? je.column : 0);
        err->offset = (uint64_t)je.position;
        err->has |= LL_ERR_OFFSET | (je.line > 0 ? LL_ERR_LINE | LL_ERR_COLUMN : 0);
        return err_src(err, path);
    }
    if (!json_is_object(j)) {
        json_decref(j);
        err_set(err, LL_E_ARG, "hyperparameters.json must be a JSON object of name: \"value\"");
        return err_src(err, path);
    }
    const char *k;
    json_t *v;
    ll_code rc = LL_OK;
    json_object_foreach(j, k, v)
    {
        if (!strncmp(k, "sagemaker_", 10))
            continue;
        char buf[64];
        const char *s = NULL;
        if (json_is_string(v))
            s = json_string_value(v);
        else if (json_is_integer(v)) {
            snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
            s = buf;
        } else if (json_is_real(v)) {
            snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
            s = buf;
        } else if (json_is_boolean(v))
            s = json_is_true(v) ? "true" : "false";
        if (!s) {
            rc = err_set(err, LL_E_ARG, "hyperparameter '%.80s': the value must be a string", k);
            err_src(err, path);
            break;
        }
        rc = ll_hparams_set(hp, k, s, err);
        if (rc != LL_OK) {
            if (!strstr(err->msg, k)) {
                char pre[96];
                snprintf(pre, sizeof pre, "hyperparameter '%.60s'", k);
                prefix_msg(err, pre);
            }
            if (err->code != LL_E_NOMEM)
                err->code = LL_E_ARG;
            err_src(err, path);
            rc = err->code;
            break;
        }
    }
    if (rc == LL_OK)
        *provided = j;
    else
        json_decref(j);
    return rc;
}

static void logmsg(const ll_sm_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logmsg(const ll_sm_opts *o, const char *fmt, ...)
{
    if (!o->log)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    o->log(o->ud, line);
}

static ll_code sm_train(const ll_sm_opts *o, ll_err *err)
{
    const char *root = o->root ? o->root : "/opt/ml";
    char p_hp[4200], p_in[4200], p_rc[4200], model_dir[4200];
    char src[3][4200];
    snprintf(p_hp, sizeof p_hp, "%s/input/config/hyperparameters.json", root);
    snprintf(p_in, sizeof p_in, "%s/input/config/inputdataconfig.json", root);
    snprintf(p_rc, sizeof p_rc, "%s/input/config/resourceconfig.json", root);
    snprintf(model_dir, sizeof model_dir, "%s/model", root);

    ll_hparams *hp = NULL;
    sm_input in;
    sm_resource res;
    memset(&in, 0, sizeof in);
    memset(&res, 0, sizeof res);
    json_t *provided = NULL;
    struct stat st;
    ll_code rc = ll_hparams_new(&hp, err);
    if (rc == LL_OK)
        rc = load_hparams(p_hp, hp, &provided, err);
    if (rc != LL_OK)
        goto out;
    if (o->log) {
        char *s = json_dumps(provided, JSON_COMPACT | JSON_PRESERVE_ORDER);
        logmsg(o, "Merging with provided configuration from %s: %s", p_hp, s ? s : "{}");
        free(s);
    }
    if ((rc = ll_hparams_validate(hp, err)) != LL_OK) {
        err_src(err, p_hp);
        goto out;
    }
    if ((rc = sm_config_load_input(p_in, &in, err)) != LL_OK)
        goto out;
    if (stat(p_rc, &st) == 0) {
        if ((rc = sm_config_load_resource(p_rc, &res, err)) != LL_OK)
            goto out;
    } else {
        snprintf(res.current_host, sizeof res.current_host, "algo-1");
        res.n_hosts = 1;
    }
    /* several hosts: this process must be the rank mpirun gave that host (docker/entrypoint
     * starts mpirun on algo-1 over the hosts; local-job starts one rank per host root) */
    if (res.n_hosts > 1 && (size_t)dist_size() != res.n_hosts) {
        rc = err_set(err, LL_E_ARG,
                     "resourceconfig.json lists %zu hosts, but this process is %s: start the "
                     "container through its entry point (docker/entrypoint train runs mpirun on "
                     "%s over the hosts) or run `linlearn local-job` with InstanceCount %zu",
                     res.n_hosts,
                     dist_size() > 1 ? "one rank of an MPI job of another size"
                                     : "not one of the ranks of an MPI job",
                     res.hosts[0], res.n_hosts);
        err_src(err, p_rc);
        goto out;
    }
    if (res.n_hosts == 1 && dist_size() > 1) {
        rc = err_set(err, LL_E_ARG,
                     "started as rank %d of %d, but resourceconfig.json lists one host "
                     "(set InstanceCount to %d)",
                     dist_rank(), dist_size(), dist_size());
        err_src(err, p_rc);
        goto out;
    }
    if (res.n_hosts > 1 && res.host_index != (uint32_t)dist_rank()) {
        rc = err_set(err, LL_E_ARG,
                     "this is rank %d of the MPI job, which is host %s in resourceconfig.json's "
                     "order, but current_host is %s: mpirun must list the hosts in that order",
                     dist_rank(), res.hosts[dist_rank()], res.current_host);
        err_src(err, p_rc);
        goto out;
    }
    for (size_t i = 0; i < in.n; i++) {
        const char *nm = in.ch[i].name;
        if (strcmp(nm, "train") && strcmp(nm, "validation") && strcmp(nm, "test")) {
            rc = err_set(err, LL_E_ARG,
                         "unknown channel '%s' (Linear Learner reads train, validation and test)",
                         nm);
            err_src(err, p_in);
            goto out;
        }
    }

    ll_train_opts to;
    ll_train_opts_init(&to);
    const sm_channel *ch[3];
    for (int c = 0; c < 3; c++) {
        ch[c] = sm_config_channel(&in, CHANNELS[c]);
        if (!ch[c]) {
            if (c == 0) {
                rc = err_set(err, LL_E_ARG, "the required channel 'train' is not configured");
                err_src(err, p_in);
                goto out;
            }
            continue;
        }
        if (ch[c]->record_wrap) {
            rc = err_set(err, LL_E_ARG,
                         "channel '%s': RecordWrapperType RecordIO is not supported; give the "
                         "data as RecordIO-protobuf or CSV with RecordWrapperType None",
                         CHANNELS[c]);
            err_src(err, p_in);
            goto out;
        }
        snprintf(src[c], sizeof src[c], "%s/input/data/%s", root, CHANNELS[c]);
        if (ch[c]->mode != SM_PIPE) {
            if (stat(src[c], &st) != 0 || !S_ISDIR(st.st_mode)) {
                rc =
                    err_set(err, LL_E_ARG, "channel '%s' (File mode): no data folder", CHANNELS[c]);
                err_src(err, src[c]);
                goto out;
            }
        }
        ll_parse_opts po;
        ll_parse_opts_init(&po);
        if ((rc = sm_config_content_type(ch[c]->content_type, &po, err)) != LL_OK) {
            char pre[96];
            snprintf(pre, sizeof pre, "channel '%s'", CHANNELS[c]);
            prefix_msg(err, pre);
            err_src(err, p_in);
            goto out;
        }
        to.formats[c] = po.format;
        if (c == 0 || !ch[0]->content_type[0]) {
            to.parse.label_column = po.label_column;
        }
        if (ch[c]->mode == SM_PIPE)
            to.pipe_mask |= 1u << c;
        if (ch[c]->gzip)
            to.gzip_mask |= 1u << c;
        /* across hosts a ShardedByS3Key channel already is this host's share; a
         * FullyReplicated one (every host has all of it) is split by record, so every record
         * is used once and the model is the one one instance trains */
        if (ch[c]->sharded)
            to.shard_own_mask |= 1u << c;
    }
    to.shard = ch[0]->sharded ? LL_SHARD_NONE : LL_SHARD_RECORDS;
    to.train = src[0];
    to.validation = ch[1] ? src[1] : NULL;
    to.test = ch[2] ? src[2] : NULL;
    to.pipe_timeout_ms = o->pipe_timeout_ms ? o->pipe_timeout_ms : 60000;
    to.seed = o->seed;
    to.threads = o->threads;
    to.model_dir = model_dir;
    to.sagemaker_model = 1;
    to.stop = o->stop;
    to.checkpoint_dir = o->checkpoint_dir;
    to.checkpoint_steps = o->checkpoint_steps;
    char ck[4200];
    if (!to.checkpoint_dir) {
        snprintf(ck, sizeof ck, "%s/checkpoints", root);
        if (stat(ck, &st) == 0 && S_ISDIR(st.st_mode))
            to.checkpoint_dir = ck;
    } else if (!*to.checkpoint_dir)
        to.checkpoint_dir = NULL;
    if (to.checkpoint_dir && (rc = wr_mkdirs(to.checkpoint_dir, err)) != LL_OK)
        goto out;
    if ((rc = wr_mkdirs(model_dir, err)) != LL_OK)
        goto out;
    for (int c = 0; c < 3; c++)
        if (ch[c])
            logmsg(o, "Channel %s: %s mode, %s%s%s", CHANNELS[c],
                   ch[c]->mode == SM_PIPE       ? "Pipe"
                   : ch[c]->mode == SM_FASTFILE ? "FastFile"
                                                : "File",
                   ch[c]->content_type[0] ? ch[c]->content_type : "content type from the data",
                   ch[c]->gzip ? ", Gzip" : "", ch[c]->sharded ? ", ShardedByS3Key" : "");
    if (to.checkpoint_dir)
        logmsg(o, "Checkpoints: %s", to.checkpoint_dir);
    else
        logmsg(o, "Checkpoint loading and saving are disabled.");
    to.log = o->log;
    to.progress = o->progress;
    to.ud = o->ud;
    to.host = res.current_host;
    rc = ll_train(hp, &to, err);
    for (int c = 0; rc != LL_OK && c < 3; c++)
        if (ch[c] && ch[c]->mode != SM_PIPE && !ch[c]->gzip)
            point_at_file(err, src[c]);
out:
    json_decref(provided);
    sm_config_input_deinit(&in);
    sm_config_resource_deinit(&res);
    ll_hparams_free(hp);
    return rc;
}

ll_code ll_sm_train(const ll_sm_opts *o, ll_err *err)
{
    ll_err local;
    if (!err)
        err = &local;
    ll_err_clear(err);
    ll_code rc = sm_train(o, err);
    if (rc != LL_OK &&
        !(rc == LL_E_STATE && o->stop && __atomic_load_n(o->stop, __ATOMIC_ACQUIRE))) {
        ll_err e2;
        ll_sm_write_failure(o->root, err, &e2);
    }
    return rc;
}

ll_code ll_sm_hosts(const char *root, char *buf, size_t cap, uint32_t *current, char *nic,
                    ll_err *err)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/input/config/resourceconfig.json", root ? root : "/opt/ml");
    sm_resource res;
    ll_code rc = sm_config_load_resource(p, &res, err);
    if (rc != LL_OK)
        return rc;
    size_t n = 0;
    if (cap)
        buf[0] = 0;
    for (size_t i = 0; i < res.n_hosts && rc == LL_OK; i++) {
        size_t l = strlen(res.hosts[i]);
        if (!sm_config_host_name_ok(res.hosts[i])) {
            rc = err_set(err, LL_E_ARG,
                         "host name '%.60s' is not 1-127 of [A-Za-z0-9.-_] (it goes on mpirun's "
                         "command line)",
                         res.hosts[i]);
            err_src(err, p);
        } else if (n + l + 2 > cap)
            rc = err_set(err, LL_E_TOOBIG, "%zu hosts do not fit in %zu bytes", res.n_hosts, cap);
        else {
            if (n)
                buf[n++] = ' ';
            memcpy(buf + n, res.hosts[i], l + 1);
            n += l;
        }
    }
    if (current)
        *current = res.host_index;
    if (nic && rc == LL_OK) {
        if (!sm_config_host_name_ok(res.nic)) {
            rc = err_set(err, LL_E_ARG, "network_interface_name '%.40s' is not [A-Za-z0-9.-_]",
                         res.nic);
            err_src(err, p);
        } else
            snprintf(nic, 64, "%s", res.nic);
    }
    sm_config_resource_deinit(&res);
    return rc;
}
