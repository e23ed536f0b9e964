/* SPDX-License-Identifier: Apache-2.0 */
/*
 * job.c - `linlearn local-job` (ll_job_run): a CreateTrainingJob-shaped document run on one
 * machine. Lays out an /opt/ml-style root, copies File channels (ll_source_download) or feeds
 * Pipe channels (ll_pipe_run, one thread per channel), starts the container entry point as a
 * child, enforces MaxRuntimeInSeconds (SIGTERM, then SIGKILL after a grace period), syncs
 * checkpoints and uploads model.tar.gz and output/failure to the output path.
 */
#include "job.h"
#include "channel.h"
#include "dist.h"
#include "err.h"
#include "mem.h"
#include "rd_net.h"
#include "wr.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

void ll_job_opts_init(ll_job_opts *o)
{
    memset(o, 0, sizeof *o);
    o->grace_s = 120;
}

/* snprintf for paths; returns 0 when the result was cut short. */
static int pathf(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int pathf(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < cap;
}

/* ---- the document ---- */

static ll_code bad(ll_err *err, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ll_code bad(ll_err *err, const char *name, const char *fmt, ...)
{
    char m[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    err_set(err, LL_E_ARG, "%s", m);
    return err_src(err, name);
}

static const char *get_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static ll_code parse_mode(const char *s, const char *where, const char *name, int *pipe,
                          int *fastfile, ll_err *err)
{
    *pipe = *fastfile = 0;
    if (!strcasecmp(s, "Pipe"))
        *pipe = 1;
    else if (!strcasecmp(s, "FastFile"))
        *fastfile = 1;
    else if (strcasecmp(s, "File"))
        return bad(err, name, "%s is '%.40s'; expected File, Pipe or FastFile", where, s);
    return LL_OK;
}

ll_code job_parse(const char *text, size_t len, const char *name, job_spec *j, ll_err *err)
{
    memset(j, 0, sizeof *j);
    json_error_t je;
    j->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!j->doc) {
        err_set(err, LL_E_ARG, "not valid JSON: %s", je.text);
        err->line = (uint64_t)(je.line > 0 ? je.line : 0);
        err->offset = (uint64_t)je.position;
        err->has |= LL_ERR_OFFSET | (je.line > 0 ? LL_ERR_LINE : 0);
        return err_src(err, name);
    }
    ll_code rc = LL_OK;
    json_t *d = j->doc;
    if (!json_is_object(d)) {
        rc = bad(err, name, "expected a JSON object (a CreateTrainingJob request)");
        goto out;
    }
    j->name = get_str(d, "TrainingJobName");
    if (!j->name)
        j->name = "local-job";
    if (!channel_name_ok(j->name)) {
        rc = bad(err, name, "TrainingJobName '%.64s': use 1 to 63 of [A-Za-z0-9-]", j->name);
        goto out;
    }
    json_t *alg = json_object_get(d, "AlgorithmSpecification");
    const char *mode = alg ? get_str(alg, "TrainingInputMode") : NULL;
    int jpipe = 0, jff = 0;
    if (mode && (rc = parse_mode(mode, "AlgorithmSpecification.TrainingInputMode", name, &jpipe,
                                 &jff, err)) != LL_OK)
        goto out;
    j->hyperparameters = json_object_get(d, "HyperParameters");
    if (j->hyperparameters && !json_is_object(j->hyperparameters)) {
        rc = bad(err, name, "HyperParameters must be an object of name: \"value\"");
        goto out;
    }
    json_t *idc = json_object_get(d, "InputDataConfig");
    if (!json_is_array(idc) || json_array_size(idc) == 0) {
        rc = bad(err, name, "InputDataConfig must be a non-empty array of channels");
        goto out;
    }
    j->n_ch = json_array_size(idc);
    j->ch = mem_calloc(j->n_ch, sizeof *j->ch);
    if (!j->ch) {
        rc = err_set(err, LL_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < j->n_ch; i++) {
        json_t *c = json_array_get(idc, i);
        job_channel *jc = &j->ch[i];
        const char *cn = json_is_object(c) ? get_str(c, "ChannelName") : NULL;
        if (!cn || !channel_name_ok(cn)) {
            rc = bad(err, name, "InputDataConfig[%zu].ChannelName is missing or not [A-Za-z0-9.-_]",
                     i);
            goto out;
        }
        for (size_t k = 0; k < i; k++)
            if (!strcmp(j->ch[k].name, cn)) {
                rc = bad(err, name, "channel '%s' is given twice", cn);
                goto out;
            }
        snprintf(jc->name, sizeof jc->name, "%s", cn);
        json_t *ds = json_object_get(c, "DataSource");
        json_t *s3 = ds ? json_object_get(ds, "S3DataSource") : NULL;
        json_t *fs = ds ? json_object_get(ds, "FileSystemDataSource") : NULL;
        if (s3) {
            jc->uri = get_str(s3, "S3Uri");
            const char *dt = get_str(s3, "S3DataType");
            if (dt && !strcmp(dt, "ManifestFile"))
                jc->manifest = 1;
            else if (dt && strcmp(dt, "S3Prefix")) {
                rc = bad(err, name,
                         "channel '%s': S3DataType '%.40s' is not supported "
                         "(S3Prefix or ManifestFile)",
                         cn, dt);
                goto out;
            }
            const char *dist = get_str(s3, "S3DataDistributionType");
            if (dist && !strcmp(dist, "ShardedByS3Key"))
                jc->sharded = 1;
            else if (dist && strcmp(dist, "FullyReplicated")) {
                rc = bad(err, name, "channel '%s': S3DataDistributionType '%.40s'", cn, dist);
                goto out;
            }
        } else if (fs) {
            jc->uri = get_str(fs, "DirectoryPath");
        }
        if (!jc->uri || !*jc->uri) {
            rc = bad(err, name, "channel '%s': DataSource.S3DataSource.S3Uri is missing", cn);
            goto out;
        }
        if (!strncmp(jc->uri, "file://", 7))
            jc->uri += 7;
        const char *im = get_str(c, "InputMode");
        jc->pipe = jpipe;
        jc->fastfile = jff;
        if (im && (rc = parse_mode(im, "InputMode", name, &jc->pipe, &jc->fastfile, err)) != LL_OK)
            goto out;
        jc->content_type = get_str(c, "ContentType");
        const char *ct = get_str(c, "CompressionType");
        if (ct && !strcasecmp(ct, "Gzip"))
            jc->gzip = 1;
        else if (ct && strcasecmp(ct, "None")) {
            rc = bad(err, name, "channel '%s': CompressionType '%.40s' (None or Gzip)", cn, ct);
            goto out;
        }
        const char *rw = get_str(c, "RecordWrapperType");
        if (rw && !strcasecmp(rw, "RecordIO"))
            jc->record_wrap = 1;
        else if (rw && strcasecmp(rw, "None")) {
            rc = bad(err, name, "channel '%s': RecordWrapperType '%.40s' (None or RecordIO)", cn,
                     rw);
            goto out;
        }
        json_t *sh = json_object_get(c, "ShuffleConfig");
        if (sh) {
            json_t *seed = json_object_get(sh, "Seed");
            if (!json_is_integer(seed) || json_integer_value(seed) < 0) {
                rc = bad(err, name, "channel '%s': ShuffleConfig.Seed must be an integer >= 0", cn);
                goto out;
            }
            jc->shuffle = 1;
            jc->seed = (uint64_t)json_integer_value(seed);
        }
    }
    json_t *odc = json_object_get(d, "OutputDataConfig");
    j->output = odc ? get_str(odc, "S3OutputPath") : NULL;
    if (!j->output || !*j->output) {
        rc = bad(err, name, "OutputDataConfig.S3OutputPath is missing");
        goto out;
    }
    if (!strncmp(j->output, "file://", 7))
        j->output += 7;
    json_t *ck = json_object_get(d, "CheckpointConfig");
    if (ck) {
        j->ckpt_uri = get_str(ck, "S3Uri");
        if (!j->ckpt_uri || !*j->ckpt_uri) {
            rc = bad(err, name, "CheckpointConfig.S3Uri is missing");
            goto out;
        }
        if (!strncmp(j->ckpt_uri, "file://", 7))
            j->ckpt_uri += 7;
    }
    j->instance_count = 1;
    json_t *res = json_object_get(d, "ResourceConfig");
    json_t *ic = res ? json_object_get(res, "InstanceCount") : NULL;
    if (ic) {
        if (!json_is_integer(ic) || json_integer_value(ic) < 1 || json_integer_value(ic) > 100) {
            rc = bad(err, name, "ResourceConfig.InstanceCount must be an integer 1..100");
            goto out;
        }
        j->instance_count = (uint32_t)json_integer_value(ic);
    }
    j->max_runtime_s = 86400;
    json_t *sc = json_object_get(d, "StoppingCondition");
    json_t *mr = sc ? json_object_get(sc, "MaxRuntimeInSeconds") : NULL;
    if (mr) {
        if (!json_is_integer(mr) || json_integer_value(mr) < 1) {
            rc = bad(err, name, "StoppingCondition.MaxRuntimeInSeconds must be an integer >= 1");
            goto out;
        }
        j->max_runtime_s = (uint64_t)json_integer_value(mr);
    }
    j->environment = json_object_get(d, "Environment");
    if (j->environment && !json_is_object(j->environment)) {
        rc = bad(err, name, "Environment must be an object of name: \"value\"");
        goto out;
    }
out:
    if (rc != LL_OK)
        job_spec_deinit(j);
    return rc;
}

void job_spec_deinit(job_spec *j)
{
    if (!j)
        return;
    json_decref(j->doc);
    mem_free(j->ch);
    memset(j, 0, sizeof *j);
}

/* ---- the root ---- */

static ll_code write_json(const char *path, json_t *v, ll_err *err)
{
    char *s = json_dumps(v, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    if (!s)
        return err_set(err, LL_E_NOMEM, "cannot format JSON");
    ll_code rc = wr_write_file(path, s, strlen(s), err);
    free(s);
    return rc;
}

ll_code job_layout(const job_spec *j, const char *root, ll_err *err)
{
    return job_layout_host(j, root, 0, err);
}

ll_code job_layout_host(const job_spec *j, const char *root, uint32_t host, ll_err *err)
{
    static const char *dirs[] = {"input/config", "input/data", "model", "output/data",
                                 "checkpoints"};
    char p[4200];
    ll_code rc = LL_OK;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0] && rc == LL_OK; i++) {
        if (!j->ckpt_uri && !strcmp(dirs[i], "checkpoints"))
            continue;
        pathf(p, sizeof p, "%s/%s", root, dirs[i]);
        rc = wr_mkdirs(p, err);
    }
    if (rc != LL_OK)
        return rc;
    /* hyperparameters.json: every value a string, as SageMaker passes them */
    json_t *hp = json_object();
    const char *k;
    json_t *v;
    if (j->hyperparameters)
        json_object_foreach(j->hyperparameters, k, v)
        {
            char buf[64];
            if (json_is_string(v))
                json_object_set(hp, k, v);
            else if (json_is_integer(v)) {
                pathf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
                json_object_set_new(hp, k, json_string(buf));
            } else if (json_is_real(v)) {
                pathf(buf, sizeof buf, "%.17g", json_real_value(v));
                json_object_set_new(hp, k, json_string(buf));
            } else if (json_is_boolean(v))
                json_object_set_new(hp, k, json_string(json_is_true(v) ? "true" : "false"));
            else {
                json_decref(hp);
                return err_set(err, LL_E_ARG, "HyperParameters.%.80s must be a string", k);
            }
        }
    pathf(p, sizeof p, "%s/input/config/hyperparameters.json", root);
    rc = write_json(p, hp, err);
    json_decref(hp);
    if (rc != LL_OK)
        return rc;
    json_t *idc = json_object();
    for (size_t i = 0; i < j->n_ch; i++) {
        const job_channel *c = &j->ch[i];
        json_t *o = json_object();
        json_object_set_new(o, "TrainingInputMode",
                            json_string(c->pipe       ? "Pipe"
                                        : c->fastfile ? "FastFile"
                                                      : "File"));
        if (c->content_type)
            json_object_set_new(o, "ContentType", json_string(c->content_type));
        json_object_set_new(o, "S3DistributionType",
                            json_string(c->sharded ? "ShardedByS3Key" : "FullyReplicated"));
        json_object_set_new(o, "RecordWrapperType",
                            json_string(c->record_wrap ? "RecordIO" : "None"));
        if (c->gzip)
            json_object_set_new(o, "CompressionType", json_string("Gzip"));
        if (c->shuffle) {
            json_t *s = json_object();
            json_object_set_new(s, "Seed", json_integer((json_int_t)c->seed));
            json_object_set_new(o, "ShuffleConfig", s);
        }
        json_object_set_new(idc, c->name, o);
    }
    pathf(p, sizeof p, "%s/input/config/inputdataconfig.json", root);
    rc = write_json(p, idc, err);
    json_decref(idc);
    if (rc != LL_OK)
        return rc;
    json_t *res = json_object(), *hosts = json_array();
    char cur[32];
    snprintf(cur, sizeof cur, "algo-%u", host + 1);
    json_object_set_new(res, "current_host", json_string(cur));
    for (uint32_t i = 0; i < j->instance_count; i++) {
        char h[32];
        snprintf(h, sizeof h, "algo-%u", i + 1);
        json_array_append_new(hosts, json_string(h));
    }
    json_object_set_new(res, "hosts", hosts);
    json_object_set_new(res, "network_interface_name", json_string("eth0"));
    pathf(p, sizeof p, "%s/input/config/resourceconfig.json", root);
    rc = write_json(p, res, err);
    json_decref(res);
    return rc;
}

/* ---- running ---- */

static void jlog(const ll_job_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jlog(const ll_job_opts *o, const char *fmt, ...)
{
    if (!o->log)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    o->log(o->ud, line);
}

static void source_opts(const ll_job_opts *o, const job_spec *j, const job_channel *c,
                        ll_source_opts *so)
{
    ll_source_opts_init(so);
    so->endpoint_url = o->endpoint;
    if (c->sharded && j->instance_count > 1) {
        so->shard_index = 0;
        so->shard_count = j->instance_count;
    }
    so->shuffle = c->shuffle;
    so->shuffle_seed = c->seed;
    so->record_wrap = c->record_wrap;
}

/* The source string for a channel's URI ("manifest:" in front of a ManifestFile). */
static void channel_src(const job_channel *c, char *buf, size_t cap)
{
    pathf(buf, cap, "%s%s", c->manifest ? "manifest:" : "", c->uri);
}

typedef struct feed {
    char dir[4200];
    char src[4200];
    ll_pipe_channel ch;
    ll_source_opts so;
    volatile int *stop;
    pthread_t th;
    int started;
    ll_code rc;
    ll_err err;
} feed;

static void *feed_main(void *arg)
{
    feed *f = arg;
    f->rc = ll_pipe_run(f->dir, &f->ch, 1, UINT64_MAX, &f->so, f->stop, &f->err);
    return NULL;
}

/* Copies a local file or remote object to dst (a path, created with its folders, or s3://). */
static ll_code copy_to(const ll_source_opts *so, const char *src, const char *dst, ll_err *err)
{
    if (strncmp(dst, "s3://", 5)) {
        char d[4200];
        pathf(d, sizeof d, "%s", dst);
        char *slash = strrchr(d, '/');
        if (slash && slash != d) {
            *slash = 0;
            ll_code rc = wr_mkdirs(d, err);
            if (rc != LL_OK)
                return rc;
        }
    }
    ll_reader *r = NULL;
    ll_writer *w = NULL;
    ll_code rc = ll_reader_open_ex(src, so, &r, err);
    if (rc == LL_OK)
        rc = ll_writer_open_ex(dst, so, &w, err);
    size_t cap = (size_t)1 << 20;
    uint8_t *buf = rc == LL_OK ? mem_alloc(cap) : NULL;
    if (rc == LL_OK && !buf)
        rc = err_set(err, LL_E_NOMEM, "out of memory");
    while (rc == LL_OK) {
        size_t n;
        int eof;
        rc = ll_reader_read(r, buf, cap, &n, &eof, err);
        if (rc != LL_OK || eof)
            break;
        rc = ll_writer_write(w, buf, n, err);
    }
    if (rc == LL_OK)
        rc = ll_writer_commit(w, err);
    else
        ll_writer_abort(w);
    ll_reader_free(r);
    mem_free(buf);
    return rc;
}

static void join_path(char *out, size_t cap, const char *a, const char *b)
{
    size_t n = strlen(a);
    pathf(out, cap, "%s%s%s", a, n && a[n - 1] == '/' ? "" : "/", b);
}

/* Uploads every regular file of dir (one level) to prefix/<name>. */
static ll_code upload_dir(const ll_source_opts *so, const char *dir, const char *prefix,
                          ll_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? LL_OK : err_sys(err, dir, "cannot list");
    ll_code rc = LL_OK;
    struct dirent *e;
    while (rc == LL_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char src[4200], dst[4200];
        join_path(src, sizeof src, dir, e->d_name);
        struct stat st;
        if (stat(src, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        join_path(dst, sizeof dst, prefix, e->d_name);
        rc = copy_to(so, src, dst, err);
    }
    closedir(d);
    return rc;
}

static ll_code remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return LL_OK;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                char p[4200];
                join_path(p, sizeof p, path, e->d_name);
                remove_tree(p);
            }
            closedir(d);
        }
        rmdir(path);
    } else
        unlink(path);
    return LL_OK;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The child's environment: the parent's, with the job's variables (TRAINING_JOB_NAME,
 * TRAINING_JOB_ARN, the document's Environment) added or replacing those of the same name.
 * Built before fork: between fork and exec a threaded parent's child may only call
 * async-signal-safe functions (no malloc, no setenv). */
typedef struct job_env {
    char **v; /* NULL-terminated, for execve */
    size_t n, cap;
} job_env;

static void env_free(job_env *e)
{
    for (size_t i = 0; i < e->n; i++)
        mem_free(e->v[i]);
    mem_free(e->v);
    memset(e, 0, sizeof *e);
}

/* Adds NAME=VALUE, replacing an entry of the same name; 0 when out of memory. */
static int env_put(job_env *e, const char *name, const char *value)
{
    size_t nl = strlen(name);
    char *kv = mem_alloc(nl + strlen(value) + 2);
    if (!kv)
        return 0;
    sprintf(kv, "%s=%s", name, value);
    for (size_t i = 0; i < e->n; i++)
        if (strncmp(e->v[i], name, nl) == 0 && e->v[i][nl] == '=') {
            mem_free(e->v[i]);
            e->v[i] = kv;
            return 1;
        }
    if (e->n + 2 > e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        char **v = mem_realloc(e->v, cap * sizeof *v);
        if (!v) {
            mem_free(kv);
            return 0;
        }
        e->v = v;
        e->cap = cap;
    }
    e->v[e->n++] = kv;
    e->v[e->n] = NULL;
    return 1;
}

static ll_code env_build(const job_spec *j, job_env *e, ll_err *err)
{
    memset(e, 0, sizeof *e);
    int ok = 1;
    for (char **p = environ; ok && p && *p; p++) {
        const char *eq = strchr(*p, '=');
        if (!eq)
            continue;
        char name[256];
        if ((size_t)(eq - *p) >= sizeof name)
            continue;
        memcpy(name, *p, (size_t)(eq - *p));
        name[eq - *p] = 0;
        ok = env_put(e, name, eq + 1);
    }
    char arn[256];
    snprintf(arn, sizeof arn, "arn:aws:sagemaker:local:000000000000:training-job/%s", j->name);
    ok = ok && env_put(e, "TRAINING_JOB_NAME", j->name) && env_put(e, "TRAINING_JOB_ARN", arn);
    if (ok && j->environment) {
        const char *k;
        json_t *v;
        json_object_foreach(j->environment, k, v)
        {
            if (ok && json_is_string(v))
                ok = env_put(e, k, json_string_value(v));
        }
    }
    if (!ok || !e->v) {
        env_free(e);
        return err_set(err, LL_E_NOMEM, "out of memory building the job's environment");
    }
    return LL_OK;
}

size_t job_mpirun_argv(const char *mpirun, const char *exe, char *const *roots, uint32_t n,
                       char **argv, size_t cap)
{
    /* every rank on this machine: more ranks than cores is allowed (--oversubscribe), and no
     * binding, since each rank runs its own threads */
    static const char *head[] = {"--oversubscribe", "--bind-to", "none"};
    size_t k = 0;
    if (cap < 1 + 3 + (size_t)n * 8 + 1)
        return 0;
    argv[k++] = (char *)mpirun;
    for (size_t i = 0; i < 3; i++)
        argv[k++] = (char *)head[i];
    for (uint32_t h = 0; h < n; h++) {
        if (h)
            argv[k++] = (char *)":";
        argv[k++] = (char *)"-np";
        argv[k++] = (char *)"1";
        argv[k++] = (char *)exe;
        argv[k++] = (char *)"train";
        argv[k++] = (char *)"--sagemaker";
        argv[k++] = (char *)"--sm-root";
        argv[k++] = roots[h];
    }
    argv[k] = NULL;
    return k;
}

/* The full path of prog (as given when it has a '/', else found on PATH) into out; 0 when
 * there is no such executable. */
static int find_exe(const char *prog, char *out, size_t cap)
{
    if (strchr(prog, '/'))
        return pathf(out, cap, "%s", prog) && access(out, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n && pathf(out, cap, "%.*s/%s", (int)n, path, prog) && access(out, X_OK) == 0)
            return 1;
        path += n + (path[n] == ':');
    }
    return 0;
}

/* Starts the container: exe train --sagemaker --sm-root root, with the job's environment; with
 * several hosts, mpirun starting one such rank per host root. Everything the child needs is
 * prepared here; after fork it only resets the signal mask, makes its own process group (so
 * that SIGKILL at the limit reaches mpirun's ranks too) and calls execve. */
static ll_code spawn(const ll_job_opts *o, const job_spec *j, char *const *roots,
                     const char *mpirun, pid_t *pid, ll_err *err)
{
    const char *exe = o->exe; /* checked by ll_job_run */
    job_env env;
    ll_code rc = env_build(j, &env, err);
    if (rc != LL_OK)
        return rc;
    uint32_t n = j->instance_count;
    /* mpirun refuses to start ranks as root unless told that is meant */
    if (n > 1 && geteuid() == 0 &&
        !(env_put(&env, "OMPI_ALLOW_RUN_AS_ROOT", "1") &&
          env_put(&env, "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"))) {
        env_free(&env);
        return err_set(err, LL_E_NOMEM, "out of memory building the job's environment");
    }
    size_t cap = 1 + 3 + (size_t)n * 8 + 1;
    char **argv = mem_calloc(cap < 8 ? 8 : cap, sizeof *argv);
    if (!argv) {
        env_free(&env);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    const char *prog = exe;
    if (n > 1) {
        job_mpirun_argv(mpirun, exe, roots, n, argv, cap);
        prog = mpirun;
    } else {
        char *one[] = {(char *)"linlearn",  (char *)"train", (char *)"--sagemaker",
                       (char *)"--sm-root", roots[0],        NULL};
        memcpy(argv, one, sizeof one);
    }
    sigset_t none;
    sigemptyset(&none);
    pid_t p = fork();
    if (p == 0) {
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (n > 1)
            setpgid(0, 0);
        execve(prog, argv, env.v);
        _exit(127);
    }
    int e = errno;
    env_free(&env);
    mem_free(argv);
    if (p < 0) {
        errno = e;
        return err_sys(err, prog, "cannot fork");
    }
    if (n > 1)
        setpgid(p, p); /* also here: whichever runs first */
    *pid = p;
    return LL_OK;
}

static ll_code write_text(const char *path, const char *text, ll_err *err)
{
    return wr_write_file(path, text, strlen(text), err);
}

/* Checkpoints from a previous run of the job into root/checkpoints. */
static ll_code fetch_checkpoints(const ll_job_opts *o, const job_spec *j, const char *root,
                                 ll_err *err)
{
    char p[4200];
    pathf(p, sizeof p, "%s/checkpoints", root);
    ll_source_opts so;
    ll_source_opts_init(&so);
    so.endpoint_url = o->endpoint;
    ll_err e2;
    uint64_t nf = 0;
    struct stat st;
    int absent = strncmp(j->ckpt_uri, "s3://", 5) && stat(j->ckpt_uri, &st) != 0;
    char pre[4200]; /* always a prefix: s3://b/ckpt -> s3://b/ckpt/ */
    size_t ul = strlen(j->ckpt_uri);
    pathf(pre, sizeof pre, "%s%s", j->ckpt_uri, ul && j->ckpt_uri[ul - 1] == '/' ? "" : "/");
    if (!absent && ll_source_download(pre, &so, p, &nf, NULL, &e2) != LL_OK &&
        !(e2.code == LL_E_ARG && (strstr(e2.msg, "no objects") || strstr(e2.msg, "no files")))) {
        *err = e2;
        return e2.code;
    }
    jlog(o, "checkpoints: %llu file(s) from %s into %s", (unsigned long long)nf, j->ckpt_uri, p);
    return LL_OK;
}

/* A ShardedByS3Key channel over several instances: every host must get at least one object
 * (SageMaker would start a host with an empty channel; linlearn refuses that job instead). */
static ll_code check_shards(const ll_job_opts *o, const job_spec *j, const job_channel *c,
                            const char *src, ll_err *err)
{
    if (!c->sharded || j->instance_count < 2)
        return LL_OK;
    uint64_t n = 1;
    ll_source_opts so;
    source_opts(o, j, c, &so);
    so.shard_count = 0; /* all of them */
    if (rd_multi_wants(src, &so)) {
        rd_list l;
        memset(&l, 0, sizeof l);
        ll_code rc = rd_list_build(src, &so, &l, err);
        n = l.n;
        rd_list_deinit(&l);
        if (rc != LL_OK)
            return rc;
    }
    if (n < j->instance_count) {
        err_set(err, LL_E_ARG,
                "channel '%s': %llu object(s) ShardedByS3Key over %u instances: algo-%llu would "
                "get no data (use FullyReplicated, more objects or fewer instances)",
                c->name, (unsigned long long)n, j->instance_count, (unsigned long long)n + 1);
        return err_src(err, src);
    }
    jlog(o, "channel %s: %llu objects ShardedByS3Key over %u instances", c->name,
         (unsigned long long)n, j->instance_count);
    return LL_OK;
}

static ll_code run_job(const ll_job_opts *o, const job_spec *j, const char *root, int *status,
                       ll_err *err)
{
    char p[4200], q[4200], mpirun[4200] = "";
    const uint32_t N = j->instance_count;
    ll_code rc = LL_OK;
    if (N > 1) {
        if (!dist_built())
            return err_set(err, LL_E_ARG,
                           "ResourceConfig.InstanceCount is %u, but this linlearn was built "
                           "without MPI (make MPI=0): rebuild with Open MPI (openmpi-bin, "
                           "libopenmpi-dev) to run a job on several instances",
                           N);
        const char *mp = o->mpirun && *o->mpirun ? o->mpirun : "mpirun";
        if (!find_exe(mp, mpirun, sizeof mpirun))
            return err_set(err, LL_E_ARG,
                           "ResourceConfig.InstanceCount is %u, which runs the job as %u MPI "
                           "ranks, but '%s' was not found%s: install Open MPI (openmpi-bin) or "
                           "give --mpirun",
                           N, N, mp, strchr(mp, '/') ? "" : " on PATH");
    }
    /* one root per host: the root itself for one instance, root/algo-<h> for several */
    char **roots = mem_calloc(N, sizeof *roots);
    feed *fd = mem_calloc((size_t)N * j->n_ch, sizeof *fd);
    volatile int stop_feed = 0;
    if (!roots || !fd) {
        mem_free(roots);
        mem_free(fd);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    for (uint32_t h = 0; h < N && rc == LL_OK; h++) {
        roots[h] = mem_alloc(4200);
        if (!roots[h])
            rc = err_set(err, LL_E_NOMEM, "out of memory");
        else if (N == 1)
            pathf(roots[h], 4200, "%s", root);
        else
            pathf(roots[h], 4200, "%s/algo-%u", root, h + 1);
        if (rc == LL_OK)
            rc = job_layout_host(j, roots[h], h, err);
        if (rc == LL_OK && j->ckpt_uri)
            rc = fetch_checkpoints(o, j, roots[h], err);
    }
    for (size_t i = 0; i < j->n_ch && rc == LL_OK; i++) {
        char src[4200];
        channel_src(&j->ch[i], src, sizeof src);
        rc = check_shards(o, j, &j->ch[i], src, err);
    }
    /* File channels are copied first (as SageMaker does before the container starts), then
     * the Pipe feeders start; a ShardedByS3Key channel gives host h objects h, h+N, ... */
    for (size_t n = 0; n < 2 * j->n_ch && rc == LL_OK; n++) {
        const job_channel *c = &j->ch[n % j->n_ch];
        size_t i = n % j->n_ch;
        if ((n < j->n_ch) == (c->pipe != 0))
            continue;
        char src[4200];
        channel_src(c, src, sizeof src);
        for (uint32_t h = 0; h < N && rc == LL_OK; h++) {
            ll_source_opts so;
            source_opts(o, j, c, &so);
            if (c->sharded && N > 1)
                so.shard_index = h;
            char who[48] = "";
            if (N > 1)
                snprintf(who, sizeof who, " (algo-%u)", h + 1);
            if (c->pipe) {
                feed *f = &fd[(size_t)h * j->n_ch + i];
                pathf(f->dir, sizeof f->dir, "%s/input/data", roots[h]);
                pathf(f->src, sizeof f->src, "%s", src);
                f->ch.name = c->name;
                f->ch.src = f->src;
                f->so = so;
                f->stop = &stop_feed;
                if (pthread_create(&f->th, NULL, feed_main, f) != 0)
                    rc = err_set(err, LL_E_NOMEM, "cannot start the Pipe-mode feeder");
                else
                    f->started = 1;
                jlog(o, "channel %s%s: Pipe mode from %s", c->name, who, src);
            } else {
                pathf(p, sizeof p, "%s/input/data/%s", roots[h], c->name);
                uint64_t nf = 0, nb = 0;
                rc = wr_mkdirs(p, err);
                if (rc == LL_OK)
                    rc = ll_source_download(src, &so, p, &nf, &nb, err);
                if (rc == LL_OK)
                    jlog(o, "channel %s%s: File mode, %llu file(s), %llu bytes from %s", c->name,
                         who, (unsigned long long)nf, (unsigned long long)nb, src);
            }
        }
    }
    pid_t pid = -1;
    int killed_by_limit = 0;
    if (rc == LL_OK) {
        if (N > 1)
            jlog(o, "starting %u instances as MPI ranks: %s -np 1 ... --sm-root %s : ...", N,
                 mpirun, roots[0]);
        rc = spawn(o, j, roots, mpirun, &pid, err);
    }
    if (rc == LL_OK) {
        double t0 = now_s(), term_at = 0;
        int ws = 0;
        for (;;) {
            pid_t w = waitpid(pid, &ws, WNOHANG);
            if (w == pid)
                break;
            if (w < 0 && errno != EINTR) {
                rc = err_sys(err, "container", "waitpid failed");
                break;
            }
            double t = now_s();
            if (!term_at && (t - t0 >= (double)j->max_runtime_s ||
                             (o->stop && __atomic_load_n(o->stop, __ATOMIC_ACQUIRE)))) {
                killed_by_limit = !(o->stop && __atomic_load_n(o->stop, __ATOMIC_ACQUIRE));
                jlog(o, "%s: sending SIGTERM to the container%s",
                     killed_by_limit ? "MaxRuntimeInSeconds reached" : "stop requested",
                     N > 1 ? "s (through mpirun)" : "");
                kill(pid, SIGTERM);
                term_at = t;
            } else if (term_at && t - term_at >= (double)o->grace_s) {
                jlog(o, "the container did not stop within %u s: SIGKILL", o->grace_s);
                kill(N > 1 ? -pid : pid, SIGKILL);
                term_at = t + 1e18;
            }
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (rc == LL_OK)
            *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : 1;
        if (N > 1) /* ranks mpirun left behind (it was killed): they must not outlive the job */
            kill(-pid, SIGKILL);
        jlog(o, "container%s exited with status %d", N > 1 ? "s (mpirun)" : "", *status);
    }
    __atomic_store_n(&stop_feed, 1, __ATOMIC_RELEASE);
    for (size_t i = 0; i < (size_t)N * j->n_ch; i++)
        if (fd[i].started)
            pthread_join(fd[i].th, NULL);
    ll_source_opts so_out; /* uploads: the job's endpoint, the default retries */
    ll_source_opts_init(&so_out);
    so_out.endpoint_url = o->endpoint;
    char outp[4200];
    join_path(q, sizeof q, j->output, j->name);
    join_path(outp, sizeof outp, q, "output");
    if (rc != LL_OK) {
        /* the job could not start (input download, feeder): its failure reason goes where
         * the container's would (best effort; the error is returned either way) */
        ll_err e2;
        pathf(p, sizeof p, "%s/output/failure", roots[0] ? roots[0] : root);
        join_path(q, sizeof q, outp, "failure");
        if (ll_sm_write_failure(roots[0] ? roots[0] : root, err, &e2) == LL_OK &&
            copy_to(&so_out, p, q, &e2) == LL_OK)
            jlog(o, "uploaded %s", q);
        goto out;
    }
    /* outputs: the failure reason of the first host that wrote one (several hosts: a host that
     * failed ends the job, and the others are stopped without writing one), algo-1's model and
     * checkpoints (algo-1 writes them) */
    struct stat st;
    uint32_t hf = 0;
    for (uint32_t h = 0; h < N; h++) {
        pathf(p, sizeof p, "%s/output/failure", roots[h]);
        if (stat(p, &st) == 0) {
            hf = h;
            break;
        }
    }
    pathf(p, sizeof p, "%s/output/failure", roots[hf]);
    if (killed_by_limit && stat(p, &st) != 0) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "MaxRuntimeExceeded: Training job runtime exceeded MaxRuntimeInSeconds (%llu s) "
                 "and the job was stopped.\n",
                 (unsigned long long)j->max_runtime_s);
        if ((rc = write_text(p, msg, err)) != LL_OK)
            goto out;
    }
    if (*status == 0 && killed_by_limit)
        *status = 128 + SIGTERM;
    if (stat(p, &st) == 0) {
        join_path(q, sizeof q, outp, "failure");
        if ((rc = copy_to(&so_out, p, q, err)) != LL_OK)
            goto out;
        jlog(o, "uploaded %s%s", q, N > 1 ? (hf ? " (from algo-2 or later)" : " (algo-1's)") : "");
    }
    pathf(p, sizeof p, "%s/model/model.tar.gz", roots[0]);
    if (stat(p, &st) == 0) {
        join_path(q, sizeof q, outp, "model.tar.gz");
        if ((rc = copy_to(&so_out, p, q, err)) != LL_OK)
            goto out;
        jlog(o, "uploaded %s", q);
    }
    if (j->ckpt_uri) {
        pathf(p, sizeof p, "%s/checkpoints", roots[0]);
        if ((rc = upload_dir(&so_out, p, j->ckpt_uri, err)) != LL_OK)
            goto out;
        jlog(o, "checkpoints synced to %s", j->ckpt_uri);
    }
out:
    for (uint32_t h = 0; h < N; h++)
        mem_free(roots[h]);
    mem_free(roots);
    mem_free(fd);
    return rc;
}

ll_code ll_job_run(const ll_job_opts *o, int *status, ll_err *err)
{
    *status = 1;
    if (!o->exe || !*o->exe)
        return err_set(err, LL_E_ARG,
                       "ll_job_opts.exe is not set: give the program to run as the container "
                       "(linlearn local-job passes its own path)");
    if (!o->job)
        return err_set(err, LL_E_ARG, "ll_job_opts.job is not set: give the job document");
    int fdj = open(o->job, O_RDONLY | O_CLOEXEC);
    if (fdj < 0)
        return err_sys(err, o->job, "cannot open the job document");
    size_t cap = (size_t)1 << 20, n = 0;
    char *text = mem_alloc(cap + 1);
    if (!text) {
        close(fdj);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    for (;;) {
        ssize_t k = read(fdj, text + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        n += (size_t)k;
        if (n == cap)
            break;
    }
    close(fdj);
    text[n] = 0;
    job_spec j;
    ll_code rc = job_parse(text, n, o->job, &j, err);
    mem_free(text);
    if (rc != LL_OK)
        return rc;
    char root[4200];
    int temp = !o->root;
    if (temp) {
        const char *tmp = getenv("TMPDIR");
        pathf(root, sizeof root, "%s/linlearn-job.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(root)) {
            job_spec_deinit(&j);
            return err_sys(err, root, "cannot create a temporary root");
        }
    } else {
        pathf(root, sizeof root, "%s", o->root);
        rc = wr_mkdirs(root, err);
    }
    if (rc == LL_OK) {
        jlog(o, "job %s: root %s", j.name, root);
        rc = run_job(o, &j, root, status, err);
    }
    if (temp && !o->keep_root)
        remove_tree(root);
    job_spec_deinit(&j);
    return rc;
}
