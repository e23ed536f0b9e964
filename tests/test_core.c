/* SPDX-License-Identifier: Apache-2.0 */
/* test_core.c - errors, the read window, writers (temporary name and rename), batches, format
 * detection, sharded conversion and the inspect report. */
#include "err.h"
#include "linlearn.h"
#include "media.h"
#include "mem.h"
#include "rd.h"
#include "response.h"
#include "serve.h"
#include "sm_config.h"
#include "support_pb.h"
#include "support_rows.h"
#include "tt.h"
#include <dirent.h>
#include <jansson.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static void path_in_tmp(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void err_format_names_everything(void)
{
    ll_err err;
    memset(&err, 0, sizeof err);
    err.code = LL_E_PARSE;
    snprintf(err.src, sizeof err.src, "train.csv");
    err.has = LL_ERR_LINE | LL_ERR_COLUMN | LL_ERR_OFFSET;
    err.line = 1042;
    err.column = 17;
    err.offset = 88311;
    snprintf(err.msg, sizeof err.msg, "expected 17 fields, got 16");
    char buf[256];
    ll_err_format(&err, buf, sizeof buf);
    CHECKF(strcmp(buf, "train.csv:1042:17 (byte 88311): expected 17 fields, got 16") == 0, "%s",
           buf);
    err.has = LL_ERR_OFFSET | LL_ERR_RECORD;
    err.offset = 64;
    err.record = 3;
    snprintf(err.msg, sizeof err.msg, "bad_magic");
    ll_err_format(&err, buf, sizeof buf);
    CHECKF(strcmp(buf, "train.csv (byte 64, record 3): bad_magic") == 0, "%s", buf);
    CHECK(strcmp(ll_strerror(LL_E_NOMEM), "out of memory") == 0);
}

static void rd_buf_fills_across_tiny_reads(void)
{
    uint8_t data[5000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    ll_reader *t = tsup_piece_reader(data, sizeof data, 3, 0);
    rd_buf b;
    ll_err err;
    CHECK_OK(rd_buf_init(&b, t, 64, 8192, &err));
    size_t pos = 0;
    while (pos < sizeof data) {
        size_t want = 1 + pos % 700;
        CHECK_OK(rd_buf_fill(&b, want, &err));
        size_t avail = rd_buf_avail(&b);
        CHECK(avail >= want || b.eof);
        CHECK(rd_buf_pos(&b) == pos);
        size_t take = want < avail ? want : avail;
        CHECK(memcmp(b.p + b.beg, data + pos, take) == 0);
        b.beg += take;
        pos += take;
    }
    CHECK_OK(rd_buf_fill(&b, 1, &err));
    CHECK(b.eof && rd_buf_avail(&b) == 0);
    CHECK(rd_buf_fill(&b, 9000, &err) == LL_E_TOOBIG);
    rd_buf_deinit(&b);
    ll_reader_free(t);
}

static void writer_renames_only_on_commit(void)
{
    char path[512];
    path_in_tmp(path, sizeof path, "out.bin");
    ll_err err;
    ll_writer *w;
    CHECK_OK(ll_writer_open(path, &w, &err));
    char big[100000];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 10; i++)
        CHECK_OK(ll_writer_write(w, big, sizeof big, &err));
    struct stat st;
    CHECK(stat(path, &st) != 0); /* nothing under the final name yet */
    CHECK(ll_writer_offset(w) == 10 * sizeof big);
    CHECK_OK(ll_writer_commit(w, &err));
    CHECK(stat(path, &st) == 0 && st.st_size == 10 * (off_t)sizeof big);
    /* abort leaves the old file and no temporary behind */
    CHECK_OK(ll_writer_open(path, &w, &err));
    CHECK_OK(ll_writer_write(w, "abc", 3, &err));
    ll_writer_abort(w);
    CHECK(stat(path, &st) == 0 && st.st_size == 10 * (off_t)sizeof big);
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    int stray = 0;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp."))
            stray++;
    closedir(d);
    CHECK(stray == 0);
    unlink(path);
    /* a folder as destination is refused */
    CHECK(ll_writer_open(tmpdir, &w, &err) == LL_E_ARG);
}

static void reader_errors_name_the_source(void)
{
    ll_err err;
    ll_reader *r;
    CHECK(ll_reader_open("/nonexistent/x.csv", &r, &err) == LL_E_IO);
    CHECK(strcmp(err.src, "/nonexistent/x.csv") == 0);
    CHECK(strstr(err.msg, "No such file") != NULL);
    CHECK(ll_reader_open(tmpdir, &r, &err) == LL_E_ARG);
}

static void batch_rows_dense_and_sparse(void)
{
    ll_batch b;
    ll_batch_init(&b);
    ll_err err;
    float v[3] = {1, 2, 3}, y = 1;
    uint32_t ix[2] = {4, 9};
    CHECK_OK(ll_batch_add_row(&b, v, NULL, 3, 3, &y, 1, &err));
    CHECK_OK(ll_batch_add_row(&b, v, NULL, 3, 3, NULL, 0, &err));
    CHECK(b.dense && b.width == 3 && b.n_rows == 2);
    CHECK(b.loff[2] == 1 && b.label[0] == 1);
    CHECK_OK(ll_batch_add_row(&b, v, ix, 2, 10, &y, 1, &err));
    CHECK(!b.dense && b.n_sparse == 1 && b.width == 10);
    CHECK(b.idx[b.off[2] + 1] == 9 && b.weight[2] == 1.0f);
    CHECK(ll_batch_add_row(&b, v, ix, 2, 5, &y, 1, &err) == LL_E_ARG);
    CHECK(ll_batch_add_row(&b, v, NULL, 3, 4, &y, 1, &err) == LL_E_ARG);
    ll_batch_clear(&b);
    CHECK(b.n_rows == 0 && b.dense);
    ll_batch_deinit(&b);
}

static void formats_from_names_and_paths(void)
{
    CHECK(ll_format_from_path("a/b/train.csv") == LL_FMT_CSV);
    CHECK(ll_format_from_path("x.PBR") == LL_FMT_RECORDIO);
    CHECK(ll_format_from_path("x.recordio") == LL_FMT_RECORDIO);
    CHECK(ll_format_from_path("x.libsvm") == LL_FMT_LIBSVM);
    CHECK(ll_format_from_path("x.jsonl") == LL_FMT_JSONL);
    CHECK(ll_format_from_path("noext") == LL_FMT_AUTO);
    CHECK(ll_format_from_name("text/csv;label_size=1") == LL_FMT_CSV);
    CHECK(ll_format_from_name("application/x-recordio-protobuf") == LL_FMT_RECORDIO);
    CHECK(ll_format_from_name("application/jsonlines") == LL_FMT_JSONL);
    CHECK(ll_format_from_name("parquet") == LL_FMT_AUTO);
}

/* One media-type table: every consumer accepts the same names (application/jsonl was accepted
 * by serve but not by parse). */
static void media_types_agree_everywhere(void)
{
    const char *jsonl[] = {"application/jsonlines", "application/x-jsonlines",
                           "application/json-lines", "application/jsonl",
                           " Application/JSONL ; x=1"};
    for (size_t i = 0; i < sizeof jsonl / sizeof jsonl[0]; i++) {
        CHECKF(ll_format_from_name(jsonl[i]) == LL_FMT_JSONL, "%s", jsonl[i]);
        CHECKF(serve_content_type(jsonl[i]) == SERVE_IN_JSONL, "%s", jsonl[i]);
        response_format f = RESP_JSON;
        CHECKF(response_parse_accept(jsonl[i], &f) && f == RESP_JSONL, "%s", jsonl[i]);
        CHECKF(media_lookup(jsonl[i], (size_t)-1) == MEDIA_JSONL, "%s", jsonl[i]);
    }
    const char *csv[] = {"text/csv", "text/x-csv", "application/csv", "text/csv; label_size=1"};
    for (size_t i = 0; i < sizeof csv / sizeof csv[0]; i++) {
        CHECKF(ll_format_from_name(csv[i]) == LL_FMT_CSV, "%s", csv[i]);
        CHECKF(serve_content_type(csv[i]) == SERVE_IN_CSV, "%s", csv[i]);
        response_format f = RESP_JSON;
        CHECKF(response_parse_accept(csv[i], &f) && f == RESP_CSV, "%s", csv[i]);
    }
    CHECK(strcmp(response_content_type(RESP_JSONL), media_name(MEDIA_JSONL)) == 0);
    CHECK(serve_content_type("application/json") == SERVE_IN_JSON);
    CHECK(ll_format_from_name("application/json") == LL_FMT_AUTO); /* a document, not a stream */
    CHECK(serve_content_type("text/plain") == SERVE_IN_NONE);
    /* the training container: JSON Lines is refused by name, as SageMaker's Linear Learner does */
    ll_parse_opts po;
    ll_parse_opts_init(&po);
    ll_err err;
    CHECK(sm_config_content_type("application/jsonl", &po, &err) == LL_E_ARG);
    CHECK_OK(sm_config_content_type("application/x-recordio-protobuf", &po, &err));
    CHECK(po.format == LL_FMT_RECORDIO);
}

/* RecordIO is recognised from its magic even behind a name without an extension, and parses
 * the same when the bytes arrive one to three at a time. */
static void recordio_sniffed_and_trickled(void)
{
    char src[512];
    snprintf(src, sizeof src, "%s/recordio/dense_f32_labeled_10000x6.pbr", tt_testdata());
    size_t n;
    uint8_t *data = tt_read_file(src, &n);
    CHECK(data != NULL);
    ll_reader *t = tsup_piece_reader(data, n, 0, 7);
    ll_parse_opts o;
    ll_parse_opts_init(&o);
    ll_parser *p;
    ll_err err;
    CHECK_OK(ll_parser_new(t, &o, &p, &err));
    CHECK(ll_parser_format(p) == LL_FMT_RECORDIO);
    ll_batch b;
    ll_batch_init(&b);
    int eof = 0;
    uint64_t rows = 0;
    while (!eof) {
        CHECK_OK(ll_parser_next(p, &b, 333, &eof, &err));
        for (size_t i = 0; i < b.n_rows; i++)
            CHECK(b.dim[i] == 6 && b.loff[i + 1] - b.loff[i] == 1);
        if (b.n_rows)
            CHECK(b.dense && b.width == 6);
        rows += b.n_rows;
    }
    CHECK(rows == 10000 && ll_parser_rows(p) == 10000);
    ll_batch_deinit(&b);
    ll_parser_free(p);
    ll_reader_free(t);
    free(data);
}

static size_t count_parts(const char *dir, const char *ext)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t k = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "part-", 5) == 0 && strstr(e->d_name, ext))
            k++;
    closedir(d);
    return k;
}

static void convert_shards_by_records_and_bytes(void)
{
    char src[512], dir[512], part[600];
    snprintf(src, sizeof src, "%s/recordio/dense_f32_labeled_10000x6.pbr", tt_testdata());
    path_in_tmp(dir, sizeof dir, "shards");
    ll_convert_opts o;
    ll_convert_opts_init(&o);
    o.shard_records = 3000;
    ll_err err;
    uint64_t n;
    CHECK_OK(ll_convert(src, dir, &o, &n, &err));
    CHECK(n == 10000);
    CHECK(count_parts(dir, ".pbr") == 4);
    /* 3000 records of 68 bytes each; the last part holds 1000 */
    struct stat st;
    snprintf(part, sizeof part, "%s/part-00000.pbr", dir);
    CHECK(stat(part, &st) == 0 && st.st_size == 3000 * 68);
    snprintf(part, sizeof part, "%s/part-00003.pbr", dir);
    CHECK(stat(part, &st) == 0 && st.st_size == 1000 * 68);
    for (int i = 0; i < 4; i++) {
        snprintf(part, sizeof part, "%s/part-%05d.pbr", dir, i);
        unlink(part);
    }
    ll_convert_opts_init(&o);
    o.shard_bytes = 68 * 2500;
    CHECK_OK(ll_convert(src, dir, &o, &n, &err));
    CHECK(count_parts(dir, ".pbr") == 4);
    snprintf(part, sizeof part, "%s/part-00001.pbr", dir);
    CHECK(stat(part, &st) == 0 && st.st_size == 68 * 2500);
    for (int i = 0; i < 4; i++) {
        snprintf(part, sizeof part, "%s/part-%05d.pbr", dir, i);
        unlink(part);
    }
    rmdir(dir);
}

static void convert_failure_leaves_nothing(void)
{
    /* a file that is truncated in its last record: the output must not appear */
    char src[512], bad[512], out[512];
    snprintf(src, sizeof src, "%s/recordio/dense_f32_labeled_7x5.pbr", tt_testdata());
    size_t n;
    uint8_t *data = tt_read_file(src, &n);
    CHECK(data != NULL);
    path_in_tmp(bad, sizeof bad, "trunc.pbr");
    FILE *f = fopen(bad, "wb");
    fwrite(data, 1, n - 5, f);
    fclose(f);
    free(data);
    path_in_tmp(out, sizeof out, "out.jsonl");
    ll_convert_opts o;
    ll_convert_opts_init(&o);
    ll_err err;
    uint64_t rows;
    CHECK(ll_convert(bad, out, &o, &rows, &err) == LL_E_PARSE);
    CHECK(strstr(err.msg, "truncated_payload") != NULL);
    CHECK(err.has & LL_ERR_RECORD);
    CHECK(err.record == 6 && err.offset == 6 * 64);
    struct stat st;
    CHECK(stat(out, &st) != 0);
    unlink(bad);
}

static void inspect_json_report(void)
{
    char src[512], out[512];
    snprintf(src, sizeof src, "%s/recordio/sparse_csr_f32_labeled_6x10.pbr", tt_testdata());
    path_in_tmp(out, sizeof out, "inspect.json");
    ll_inspect_opts o;
    ll_inspect_opts_init(&o);
    o.json = 1;
    o.head = 2;
    ll_err err;
    ll_writer *w;
    CHECK_OK(ll_writer_open(out, &w, &err));
    CHECK_OK(ll_inspect(src, &o, w, &err));
    CHECK_OK(ll_writer_commit(w, &err));
    json_error_t je;
    json_t *j = json_load_file(out, 0, &je);
    CHECKF(j != NULL, "%s", je.text);
    CHECK(json_integer_value(json_object_get(j, "records")) == 6);
    CHECK(json_integer_value(json_object_get(j, "sparse_rows")) == 6);
    CHECK(json_integer_value(json_object_get(j, "nonzeros")) == 3 + 1 + 0 + 10 + 1 + 2);
    CHECK(json_array_size(json_object_get(j, "head")) == 2);
    json_t *hist = json_object_get(json_object_get(j, "labels"), "histogram");
    CHECK(json_array_size(hist) == 2);
    CHECK(json_integer_value(json_object_get(json_array_get(hist, 0), "rows")) == 3);
    CHECK(json_is_true(json_object_get(j, "valid")));
    json_decref(j);
    unlink(out);
}

static void parser_survives_allocation_failures(void)
{
    char src[512];
    snprintf(src, sizeof src, "%s/recordio/sparse_csr_f32_labeled_6x10.pbr", tt_testdata());
    size_t n;
    uint8_t *data = tt_read_file(src, &n);
    CHECK(data != NULL);
    /* fails the Nth allocation until a run the hook does not reach; the hook must fire */
    int ok = tsup_parse_oom(data, n, NULL, "mem", 6);
    free(data);
    CHECK(ok);
}

/* The version has one source, and the job runner no longer starts /proc/self/exe by itself. */
static void version_and_explicit_job_program(void)
{
    CHECK(strcmp(ll_version(), LL_VERSION) == 0);
    ll_job_opts o;
    ll_job_opts_init(&o);
    CHECK(o.exe == NULL);
    o.job = "tests/data/no-such-job.json";
    ll_err err;
    int status = 0;
    CHECK(ll_job_run(&o, &status, &err) == LL_E_ARG);
    CHECKF(strstr(err.msg, "exe") != NULL, "%s", err.msg);
    CHECK(status != 0);
}

/* ll_redact: credentials in URLs go, everything else stays, in names and in free text. */
static void redact_urls(void)
{
    char out[512];
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"train.csv", "train.csv"},
        {"s3://bucket/key.csv", "s3://bucket/key.csv"},
        {"https://u:p@host/a.csv", "https://***@host/a.csv"},
        {"https://host/a.csv?X-Amz-Signature=abc&x=1",
         "https://host/a.csv?X-Amz-Signature=REDACTED&x=1"},
        {"http://h/k?x-amz-security-token=T&X-Amz-Credential=C%2Fd&X-Amz-Date=1",
         "http://h/k?x-amz-security-token=REDACTED&X-Amz-Credential=REDACTED&X-Amz-Date=1"},
        {"http://h/k?Signature=s&AWSAccessKeyId=a&Expires=9",
         "http://h/k?Signature=REDACTED&AWSAccessKeyId=REDACTED&Expires=9"},
        {"cannot read 'https://a:b@x/y?access_token=q' or http://c@d/e: failed",
         "cannot read 'https://***@x/y?access_token=REDACTED' or http://***@d/e: failed"},
        {"user@example.com is not a URL", "user@example.com is not a URL"},
        {"http://host/p@q", "http://host/p@q"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECKF(!strcmp(ll_redact(cases[i].in, out, sizeof out), cases[i].want), "%s -> %s",
               cases[i].in, out);
    /* cut short: terminated, and no part of a secret */
    char small[40];
    ll_redact("https://h/k?X-Amz-Signature=0123456789abcdef0123456789", small, sizeof small);
    CHECK(strlen(small) < sizeof small && !strstr(small, "0123"));
    ll_redact("https://host.example/some/long/path/k?X-Amz-Signature=0123456789abcdef", small,
              sizeof small);
    CHECK(strlen(small) == sizeof small - 1 && !strstr(small, "0123"));
    /* errors carry redacted locations and messages */
    ll_err e;
    err_set(&e, LL_E_IO, "listing %s", "https://u:pw@h/x?X-Amz-Signature=SIG");
    err_src(&e, "https://u:pw@h/x?X-Amz-Security-Token=TOK");
    CHECK(!strstr(e.msg, "pw") && !strstr(e.msg, "SIG") && !strstr(e.src, "TOK") &&
          strstr(e.src, "REDACTED"));
}

int main(void)
{
    TT_BEGIN("test_core");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ll_core_%d", (int)getpid());
    mkdir(tmpdir, 0755);
    RUN(err_format_names_everything);
    RUN(rd_buf_fills_across_tiny_reads);
    RUN(writer_renames_only_on_commit);
    RUN(reader_errors_name_the_source);
    RUN(batch_rows_dense_and_sparse);
    RUN(formats_from_names_and_paths);
    RUN(media_types_agree_everywhere);
    RUN(recordio_sniffed_and_trickled);
    RUN(convert_shards_by_records_and_bytes);
    RUN(convert_failure_leaves_nothing);
    RUN(inspect_json_report);
    RUN(parser_survives_allocation_failures);
    RUN(version_and_explicit_job_program);
    RUN(redact_urls);
    rmdir(tmpdir);
    TT_END();
}
