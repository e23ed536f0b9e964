/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sm_config.c - parsing SageMaker's inputdataconfig.json and resourceconfig.json (sm_config.h) with
 * jansson, and content-type strings into parse options. Every message names the file, the
 * channel and the key.
 */
#include "sm_config.h"
#include "channel.h"
#include "err.h"
#include "mem.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SMCFG_MAX_FILE ((size_t)1 << 20)

/* Reads a whole small file into a new NUL-terminated buffer. */
static ll_code slurp(const char *path, char **out, size_t *len, ll_err *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(err, path, "cannot open");
    char *buf = mem_alloc(SMCFG_MAX_FILE + 1);
    if (!buf) {
        close(fd);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    size_t n = 0;
    for (;;) {
        ssize_t k = read(fd, buf + n, SMCFG_MAX_FILE + 1 - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            ll_code rc = err_sys(err, path, "cannot read");
            close(fd);
            mem_free(buf);
            return rc;
        }
        if (k == 0)
            break;
        n += (size_t)k;
        if (n > SMCFG_MAX_FILE) {
            close(fd);
            mem_free(buf);
            err_set(err, LL_E_TOOBIG, "larger than %zu bytes", SMCFG_MAX_FILE);
            return err_src(err, path);
        }
    }
    close(fd);
    buf[n] = 0;
    *out = buf;
    *len = n;
    return LL_OK;
}

static ll_code json_parse(const char *text, size_t len, const char *name, json_t **out, ll_err *err)
{
    json_error_t je;
    *out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!*out) {
        err_set(err, LL_E_ARG, "not valid JSON: %s", je.text);
        err->line = (uint64_t)(je.line > 0 ? je.line : 0);
        err->column = (uint64_t)(je.column > 0 ? je.column : 0);
        err->offset = (uint64_t)je.position;
        err_src(err, name);
        err->has |= LL_ERR_OFFSET | (je.line > 0 ? LL_ERR_LINE | LL_ERR_COLUMN : 0);
        return LL_E_ARG;
    }
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        err_set(err, LL_E_ARG, "expected a JSON object at the top level");
        return err_src(err, name);
    }
    return LL_OK;
}

/* An optional string member; NULL when absent; LL_E_ARG when not a string. */
static ll_code opt_str(json_t *o, const char *key, const char *ch, const char *name,
                       const char **out, ll_err *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return LL_OK;
    if (!json_is_string(v)) {
        err_set(err, LL_E_ARG, "channel '%s': %s must be a string", ch, key);
        return err_src(err, name);
    }
    *out = json_string_value(v);
    return LL_OK;
}

static ll_code bad_value(ll_err *err, const char *name, const char *ch, const char *key,
                         const char *val, const char *allowed)
{
    err_set(err, LL_E_ARG, "channel '%s': %s is '%.64s'; expected %s", ch, key, val, allowed);
    return err_src(err, name);
}

static ll_code parse_channel(const char *name, const char *ch, json_t *o, sm_channel *c,
                             ll_err *err)
{
    memset(c, 0, sizeof *c);
    if (!channel_name_ok(ch)) {
        err_set(err, LL_E_ARG, "channel name '%.64s': use 1 to 64 of [A-Za-z0-9.-_]", ch);
        return err_src(err, name);
    }
    snprintf(c->name, sizeof c->name, "%s", ch);
    if (!json_is_object(o)) {
        err_set(err, LL_E_ARG, "channel '%s': expected a JSON object", ch);
        return err_src(err, name);
    }
    const char *s;
    ll_code rc = opt_str(o, "TrainingInputMode", ch, name, &s, err);
    if (rc != LL_OK)
        return rc;
    if (!s) {
        err_set(err, LL_E_ARG, "channel '%s': TrainingInputMode is missing", ch);
        return err_src(err, name);
    }
    if (!strcasecmp(s, "File"))
        c->mode = SM_FILE;
    else if (!strcasecmp(s, "Pipe"))
        c->mode = SM_PIPE;
    else if (!strcasecmp(s, "FastFile"))
        c->mode = SM_FASTFILE;
    else
        return bad_value(err, name, ch, "TrainingInputMode", s, "File, Pipe or FastFile");

    if ((rc = opt_str(o, "ContentType", ch, name, &s, err)) != LL_OK)
        return rc;
    if (s) {
        if (strlen(s) >= sizeof c->content_type)
            return bad_value(err, name, ch, "ContentType", s, "at most 127 characters");
        snprintf(c->content_type, sizeof c->content_type, "%s", s);
    }
    if ((rc = opt_str(o, "S3DistributionType", ch, name, &s, err)) != LL_OK)
        return rc;
    if (s) {
        if (!strcasecmp(s, "ShardedByS3Key"))
            c->sharded = 1;
        else if (strcasecmp(s, "FullyReplicated"))
            return bad_value(err, name, ch, "S3DistributionType", s,
                             "FullyReplicated or ShardedByS3Key");
    }
    if ((rc = opt_str(o, "RecordWrapperType", ch, name, &s, err)) != LL_OK)
        return rc;
    if (s) {
        if (!strcasecmp(s, "RecordIO"))
            c->record_wrap = 1;
        else if (strcasecmp(s, "None"))
            return bad_value(err, name, ch, "RecordWrapperType", s, "None or RecordIO");
    }
    if ((rc = opt_str(o, "CompressionType", ch, name, &s, err)) != LL_OK)
        return rc;
    if (s) {
        if (!strcasecmp(s, "Gzip"))
            c->gzip = 1;
        else if (strcasecmp(s, "None"))
            return bad_value(err, name, ch, "CompressionType", s, "None or Gzip");
    }
    json_t *sh = json_object_get(o, "ShuffleConfig");
    if (sh && !json_is_null(sh)) {
        json_t *seed = json_is_object(sh) ? json_object_get(sh, "Seed") : NULL;
        long long v = -1;
        if (json_is_integer(seed))
            v = json_integer_value(seed);
        else if (json_is_string(seed)) {
            char *end;
            errno = 0;
            v = strtoll(json_string_value(seed), &end, 10);
            if (*end || end == json_string_value(seed) || errno)
                v = -1;
        }
        if (!seed || v < 0) {
            err_set(err, LL_E_ARG, "channel '%s': ShuffleConfig needs a Seed (an integer >= 0)",
                    ch);
            return err_src(err, name);
        }
        c->shuffle = 1;
        c->shuffle_seed = (uint64_t)v;
    }
    return LL_OK;
}

ll_code sm_config_parse_input(const char *text, size_t len, const char *name, sm_input *out,
                              ll_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *j;
    ll_code rc = json_parse(text, len, name, &j, err);
    if (rc != LL_OK)
        return rc;
    size_t n = json_object_size(j);
    out->ch = mem_calloc(n ? n : 1, sizeof *out->ch);
    if (!out->ch) {
        json_decref(j);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        rc = parse_channel(name, key, v, &out->ch[out->n], err);
        if (rc != LL_OK)
            break;
        out->n++;
    }
    json_decref(j);
    if (rc != LL_OK)
        sm_config_input_deinit(out);
    return rc;
}

ll_code sm_config_load_input(const char *path, sm_input *out, ll_err *err)
{
    memset(out, 0, sizeof *out);
    char *t;
    size_t n;
    ll_code rc = slurp(path, &t, &n, err);
    if (rc != LL_OK)
        return rc;
    rc = sm_config_parse_input(t, n, path, out, err);
    mem_free(t);
    return rc;
}

void sm_config_input_deinit(sm_input *in)
{
    if (!in)
        return;
    mem_free(in->ch);
    memset(in, 0, sizeof *in);
}

const sm_channel *sm_config_channel(const sm_input *in, const char *name)
{
    for (size_t i = 0; i < in->n; i++)
        if (!strcmp(in->ch[i].name, name))
            return &in->ch[i];
    return NULL;
}

/* Host names in natural order: runs of digits compare as numbers, so algo-2 comes before
 * algo-10 and host i of the sorted list is algo-(i+1) (the rank that host gets under mpirun). */
int sm_config_host_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            const char *ea = a, *eb = b;
            while (*a == '0')
                a++;
            while (*b == '0')
                b++;
            while (*ea >= '0' && *ea <= '9')
                ea++;
            while (*eb >= '0' && *eb <= '9')
                eb++;
            size_t la = (size_t)(ea - a), lb = (size_t)(eb - b);
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c)
                return c;
            a = ea;
            b = eb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

static int cmp_host(const void *a, const void *b)
{
    int c = sm_config_host_cmp((const char *)a, (const char *)b);
    return c ? c : strcmp((const char *)a, (const char *)b);
}

int sm_config_host_name_ok(const char *h)
{
    size_t n = 0;
    for (; h[n]; n++)
        if (!((h[n] >= 'a' && h[n] <= 'z') || (h[n] >= 'A' && h[n] <= 'Z') ||
              (h[n] >= '0' && h[n] <= '9') || h[n] == '-' || h[n] == '.' || h[n] == '_'))
            return 0;
    return n > 0 && n < 128;
}

ll_code sm_config_parse_resource(const char *text, size_t len, const char *name, sm_resource *out,
                                 ll_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *j;
    ll_code rc = json_parse(text, len, name, &j, err);
    if (rc != LL_OK)
        return rc;
    json_t *cur = json_object_get(j, "current_host");
    json_t *hosts = json_object_get(j, "hosts");
    json_t *nic = json_object_get(j, "network_interface_name");
    if (!json_is_string(cur) || !json_string_length(cur) ||
        json_string_length(cur) >= sizeof out->current_host) {
        rc = err_set(err, LL_E_ARG, "current_host must be a non-empty string (under 128 bytes)");
        goto out;
    }
    snprintf(out->current_host, sizeof out->current_host, "%s", json_string_value(cur));
    snprintf(out->nic, sizeof out->nic, "%s",
             json_is_string(nic) ? json_string_value(nic) : "eth0");
    if (!json_is_array(hosts) || json_array_size(hosts) == 0) {
        rc = err_set(err, LL_E_ARG, "hosts must be a non-empty array of host names");
        goto out;
    }
    out->n_hosts = json_array_size(hosts);
    out->hosts = mem_calloc(out->n_hosts, sizeof *out->hosts);
    if (!out->hosts) {
        rc = err_set(err, LL_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < out->n_hosts; i++) {
        json_t *h = json_array_get(hosts, i);
        if (!json_is_string(h) || !json_string_length(h) ||
            json_string_length(h) >= sizeof out->hosts[0]) {
            rc = err_set(err, LL_E_ARG, "hosts[%zu] must be a non-empty string", i);
            goto out;
        }
        snprintf(out->hosts[i], sizeof out->hosts[i], "%s", json_string_value(h));
    }
    qsort(out->hosts, out->n_hosts, sizeof out->hosts[0], cmp_host);
    for (size_t k = 1; k < out->n_hosts; k++)
        if (!strcmp(out->hosts[k - 1], out->hosts[k])) {
            rc = err_set(err, LL_E_ARG, "host '%s' is listed twice in hosts", out->hosts[k]);
            goto out;
        }
    size_t i = 0;
    while (i < out->n_hosts && strcmp(out->hosts[i], out->current_host))
        i++;
    if (i == out->n_hosts) {
        rc = err_set(err, LL_E_ARG, "current_host '%s' is not in hosts", out->current_host);
        goto out;
    }
    out->host_index = (uint32_t)i;
out:
    json_decref(j);
    if (rc != LL_OK) {
        err_src(err, name);
        sm_config_resource_deinit(out);
    }
    return rc;
}

ll_code sm_config_load_resource(const char *path, sm_resource *out, ll_err *err)
{
    memset(out, 0, sizeof *out);
    char *t;
    size_t n;
    ll_code rc = slurp(path, &t, &n, err);
    if (rc != LL_OK)
        return rc;
    rc = sm_config_parse_resource(t, n, path, out, err);
    mem_free(t);
    return rc;
}

void sm_config_resource_deinit(sm_resource *r)
{
    if (!r)
        return;
    mem_free(r->hosts);
    memset(r, 0, sizeof *r);
}

ll_code sm_config_content_type(const char *ct, ll_parse_opts *po, ll_err *err)
{
    if (!ct || !*ct)
        return LL_OK;
    ll_format f = ll_format_from_name(ct);
    if (f == LL_FMT_AUTO || f == LL_FMT_JSONL)
        return err_set(err, LL_E_ARG,
                       "ContentType '%.64s' is not supported (use text/csv or "
                       "application/x-recordio-protobuf)",
                       ct);
    po->format = f;
    const char *p = strchr(ct, ';');
    while (p && *p) {
        p++;
        while (*p == ' ')
            p++;
        if (!strncasecmp(p, "label_size=", 11)) {
            char *end;
            long v = strtol(p + 11, &end, 10);
            if (end == p + 11 || (v != 0 && v != 1) || (*end && *end != ';' && *end != ' '))
                return err_set(err, LL_E_ARG,
                               "ContentType '%.64s': label_size must be 0 or 1 for Linear Learner",
                               ct);
            if (f == LL_FMT_CSV)
                po->label_column = v ? 0 : -1;
        }
        p = strchr(p, ';');
    }
    return LL_OK;
}
