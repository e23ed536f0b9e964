/* SPDX-License-Identifier: Apache-2.0 */
/* test_sm_config.c - SageMaker container config parsing (smcfg), job documents
 * (job_parse/job_layout) and failure paragraphs. */
#include "err.h"
#include "job.h"
#include "mem.h"
#include "sm_config.h"
#include "tt.h"
#include <sys/stat.h>
#include <unistd.h>

#define S(x) x, strlen(x)

static void input_config_full(void)
{
    ll_err err;
    sm_input in;
    const char *t = "{\"train\": {\"ContentType\": \"application/x-recordio-protobuf\","
                    " \"TrainingInputMode\": \"Pipe\", \"S3DistributionType\": \"ShardedByS3Key\","
                    " \"RecordWrapperType\": \"None\", \"CompressionType\": \"Gzip\","
                    " \"ShuffleConfig\": {\"Seed\": 42}, \"SomethingNew\": 1},"
                    " \"validation\": {\"TrainingInputMode\": \"file\"},"
                    " \"test\": {\"TrainingInputMode\": \"FastFile\", \"RecordWrapperType\": "
                    "\"RecordIO\"}}";
    CHECK_OK(sm_config_parse_input(S(t), "idc.json", &in, &err));
    CHECK(in.n == 3);
    const sm_channel *c = sm_config_channel(&in, "train");
    CHECK(c && c->mode == SM_PIPE && c->sharded && c->gzip && !c->record_wrap);
    CHECK(c->shuffle && c->shuffle_seed == 42);
    CHECK(!strcmp(c->content_type, "application/x-recordio-protobuf"));
    c = sm_config_channel(&in, "validation");
    CHECK(c && c->mode == SM_FILE && !c->content_type[0] && !c->sharded && !c->gzip);
    c = sm_config_channel(&in, "test");
    CHECK(c && c->mode == SM_FASTFILE && c->record_wrap);
    CHECK(!sm_config_channel(&in, "other"));
    sm_config_input_deinit(&in);
}

static void input_config_errors(void)
{
    ll_err err;
    sm_input in;
    CHECK(sm_config_parse_input(S("{\"train\": {}}"), "idc.json", &in, &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "train") && strstr(err.msg, "TrainingInputMode"));
    CHECK(!strcmp(err.src, "idc.json"));
    CHECK(sm_config_parse_input(S("{\"train\": {\"TrainingInputMode\": \"Stream\"}}"), "x", &in,
                                &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "Stream") && strstr(err.msg, "File, Pipe or FastFile"));
    CHECK(sm_config_parse_input(
              S("{\"train\": {\"TrainingInputMode\": \"File\", \"CompressionType\": \"Zip\"}}"),
              "x", &in, &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "CompressionType"));
    CHECK(sm_config_parse_input(S("{\"tr ain\": {\"TrainingInputMode\": \"File\"}}"), "x", &in,
                                &err) == LL_E_ARG);
    CHECK(sm_config_parse_input(
              S("{\"train\": {\"TrainingInputMode\": \"File\", \"ShuffleConfig\": {}}}"), "x", &in,
              &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "Seed"));
    /* broken JSON: the byte offset and line are reported */
    CHECK(sm_config_parse_input(S("{\"train\":\n {\"TrainingInputMode\" \"File\"}}"), "x", &in,
                                &err) == LL_E_ARG);
    CHECK((err.has & LL_ERR_LINE) && err.line == 2 && (err.has & LL_ERR_OFFSET));
    CHECK(sm_config_parse_input(S("[1]"), "x", &in, &err) == LL_E_ARG);
    CHECK(in.n == 0 && in.ch == NULL);
}

static void resource_config(void)
{
    ll_err err;
    sm_resource r;
    CHECK_OK(sm_config_parse_resource(
        S("{\"current_host\": \"algo-2\", \"hosts\": [\"algo-3\", \"algo-2\", \"algo-1\"]}"), "rc",
        &r, &err));
    CHECK(r.n_hosts == 3 && r.host_index == 1 && !strcmp(r.hosts[0], "algo-1"));
    CHECK(!strcmp(r.nic, "eth0"));
    sm_config_resource_deinit(&r);
    CHECK(sm_config_parse_resource(S("{\"current_host\": \"algo-9\", \"hosts\": [\"algo-1\"]}"),
                                   "rc", &r, &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "algo-9") && !strcmp(err.src, "rc"));
    CHECK(sm_config_parse_resource(S("{\"hosts\": [\"algo-1\"]}"), "rc", &r, &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "current_host"));
    /* natural order: host i is rank i, algo-(i+1), also past 9 hosts */
    CHECK_OK(sm_config_parse_resource(S("{\"current_host\": \"algo-10\", \"hosts\": [\"algo-10\", "
                                        "\"algo-2\", \"algo-1\", \"algo-9\", \"algo-11\"]}"),
                                      "rc", &r, &err));
    CHECK(r.n_hosts == 5 && !strcmp(r.hosts[0], "algo-1") && !strcmp(r.hosts[1], "algo-2") &&
          !strcmp(r.hosts[2], "algo-9") && !strcmp(r.hosts[3], "algo-10") &&
          !strcmp(r.hosts[4], "algo-11") && r.host_index == 3);
    sm_config_resource_deinit(&r);
    CHECK(sm_config_host_cmp("algo-2", "algo-10") < 0 &&
          sm_config_host_cmp("algo-10", "algo-9") > 0);
    CHECK(sm_config_host_cmp("a-02", "a-2") == 0 && sm_config_host_cmp("b", "a-1") > 0);
    CHECK(sm_config_host_cmp("algo-1", "algo-1a") < 0);
    CHECK(sm_config_parse_resource(S("{\"current_host\": \"algo-1\", \"hosts\": [\"algo-1\", "
                                     "\"algo-1\"]}"),
                                   "rc", &r, &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "listed twice"));
    CHECK(sm_config_host_name_ok("algo-1") && sm_config_host_name_ok("ip-10-0-0-1.ec2_x"));
    CHECK(!sm_config_host_name_ok("a b") && !sm_config_host_name_ok("a;rm") &&
          !sm_config_host_name_ok("") && !sm_config_host_name_ok("x'"));
}

static void content_types(void)
{
    ll_err err;
    ll_parse_opts po;
    ll_parse_opts_init(&po);
    CHECK_OK(sm_config_content_type("text/csv;label_size=1", &po, &err));
    CHECK(po.format == LL_FMT_CSV && po.label_column == 0);
    CHECK_OK(sm_config_content_type("text/csv; label_size=0", &po, &err));
    CHECK(po.label_column == -1);
    ll_parse_opts_init(&po);
    CHECK_OK(sm_config_content_type("application/x-recordio-protobuf", &po, &err));
    CHECK(po.format == LL_FMT_RECORDIO);
    CHECK_OK(sm_config_content_type("", &po, &err));
    CHECK(po.format == LL_FMT_RECORDIO); /* unchanged */
    CHECK(sm_config_content_type("image/png", &po, &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "image/png"));
    CHECK(sm_config_content_type("text/csv;label_size=2", &po, &err) == LL_E_ARG);
}

static void failure_text(void)
{
    ll_err e;
    ll_err_clear(&e);
    err_set(&e, LL_E_PARSE, "expected 9 fields,\ngot 8");
    err_line(&e, "/opt/ml/input/data/train", 1234, 7, 9);
    char buf[1400];
    size_t n = ll_sm_failure_text(&e, buf, sizeof buf);
    CHECK(n == strlen(buf));
    CHECK(!strncmp(buf, "Customer Error: ", 16));
    CHECK(strstr(buf, "/opt/ml/input/data/train") && strstr(buf, "1234") && !strchr(buf, '\n'));
    err_set(&e, LL_E_NOMEM, "out of memory");
    ll_sm_failure_text(&e, buf, sizeof buf);
    CHECK(!strncmp(buf, "Algorithm Error: ", 17));
    CHECK(ll_sm_is_customer_error(LL_E_ARG) && !ll_sm_is_customer_error(LL_E_IO));
}

static const char *JOB =
    "{\"TrainingJobName\": \"j-1\", \"AlgorithmSpecification\": {\"TrainingInputMode\": \"Pipe\"},"
    " \"HyperParameters\": {\"predictor_type\": \"regressor\", \"epochs\": 3},"
    " \"InputDataConfig\": [{\"ChannelName\": \"train\", \"DataSource\": {\"S3DataSource\": "
    "{\"S3DataType\": \"S3Prefix\", \"S3Uri\": \"s3://b/train/\", \"S3DataDistributionType\": "
    "\"ShardedByS3Key\"}}, \"ContentType\": \"text/csv\", \"CompressionType\": \"Gzip\","
    " \"ShuffleConfig\": {\"Seed\": 7}},"
    " {\"ChannelName\": \"validation\", \"InputMode\": \"File\", \"DataSource\": "
    "{\"S3DataSource\": {\"S3DataType\": \"ManifestFile\", \"S3Uri\": "
    "\"file:///data/v.manifest\"}}}],"
    " \"OutputDataConfig\": {\"S3OutputPath\": \"s3://b/out\"},"
    " \"ResourceConfig\": {\"InstanceCount\": 2, \"InstanceType\": \"ml.m5.large\"},"
    " \"StoppingCondition\": {\"MaxRuntimeInSeconds\": 30},"
    " \"CheckpointConfig\": {\"S3Uri\": \"s3://b/ckpt/\"}, \"Environment\": {\"A\": \"1\"}}";

static void job_document(void)
{
    ll_err err;
    job_spec j;
    CHECK_OK(job_parse(S(JOB), "job.json", &j, &err));
    CHECK(!strcmp(j.name, "j-1") && j.n_ch == 2 && j.instance_count == 2);
    CHECK(j.max_runtime_s == 30 && !strcmp(j.output, "s3://b/out"));
    CHECK(!strcmp(j.ckpt_uri, "s3://b/ckpt/"));
    CHECK(j.ch[0].pipe && j.ch[0].sharded && j.ch[0].gzip && j.ch[0].shuffle && j.ch[0].seed == 7);
    CHECK(!strcmp(j.ch[0].content_type, "text/csv"));
    CHECK(!j.ch[1].pipe && j.ch[1].manifest && !strcmp(j.ch[1].uri, "/data/v.manifest"));
    /* the root: config files as the container reads them back */
    char root[] = "/tmp/ll_job_XXXXXX";
    CHECK(mkdtemp(root));
    CHECK_OK(job_layout(&j, root, &err));
    char p[400];
    snprintf(p, sizeof p, "%s/input/config/inputdataconfig.json", root);
    sm_input in;
    CHECK_OK(sm_config_load_input(p, &in, &err));
    const sm_channel *c = sm_config_channel(&in, "train");
    CHECK(c && c->mode == SM_PIPE && c->gzip && c->sharded && c->shuffle && c->shuffle_seed == 7);
    c = sm_config_channel(&in, "validation");
    CHECK(c && c->mode == SM_FILE && !c->content_type[0]);
    sm_config_input_deinit(&in);
    snprintf(p, sizeof p, "%s/input/config/resourceconfig.json", root);
    sm_resource r;
    CHECK_OK(sm_config_load_resource(p, &r, &err));
    CHECK(r.n_hosts == 2 && !strcmp(r.current_host, "algo-1"));
    sm_config_resource_deinit(&r);
    /* host 2 of the job: its own root names it */
    char root2[300];
    snprintf(root2, sizeof root2, "%s/algo-2", root);
    CHECK_OK(job_layout_host(&j, root2, 1, &err));
    snprintf(p, sizeof p, "%s/input/config/resourceconfig.json", root2);
    CHECK_OK(sm_config_load_resource(p, &r, &err));
    CHECK(r.n_hosts == 2 && !strcmp(r.current_host, "algo-2") && r.host_index == 1);
    sm_config_resource_deinit(&r);
    /* the mpirun command line: one rank per host root, in host order */
    char *roots[2] = {(char *)"/r/algo-1", (char *)"/r/algo-2"}, *argv[32];
    CHECK(job_mpirun_argv("/usr/bin/mpirun", "/bin/ll", roots, 2, argv, 4) == 0);
    size_t na = job_mpirun_argv("/usr/bin/mpirun", "/bin/ll", roots, 2, argv, 32);
    char line[512] = "";
    for (size_t i = 0; i < na; i++)
        snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s", i ? " " : "", argv[i]);
    CHECK(na == 19 && argv[na] == NULL);
    CHECK(!strcmp(line, "/usr/bin/mpirun --oversubscribe --bind-to none -np 1 /bin/ll train "
                        "--sagemaker --sm-root /r/algo-1 : -np 1 /bin/ll train --sagemaker "
                        "--sm-root /r/algo-2"));
    snprintf(p, sizeof p, "%s/input/config/hyperparameters.json", root);
    size_t len;
    unsigned char *hp = tt_read_file(p, &len);
    CHECK(hp && strstr((char *)hp, "\"epochs\": \"3\"")); /* numbers become strings */
    free(hp);
    snprintf(p, sizeof p, "%s/checkpoints", root);
    struct stat st;
    CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);
    job_spec_deinit(&j);
}

static void job_document_errors(void)
{
    ll_err err;
    job_spec j;
    CHECK(job_parse(S("{\"InputDataConfig\": []}"), "j", &j, &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "InputDataConfig"));
    CHECK(job_parse(S("{\"InputDataConfig\": [{\"ChannelName\": \"train\", \"DataSource\": "
                      "{\"S3DataSource\": {\"S3Uri\": \"x\"}}}]}"),
                    "j", &j, &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "S3OutputPath"));
    CHECK(job_parse(S("{\"InputDataConfig\": [{\"ChannelName\": \"train\"}], "
                      "\"OutputDataConfig\": {\"S3OutputPath\": \"o\"}}"),
                    "j", &j, &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "S3Uri") && strstr(err.msg, "train"));
    CHECK(job_parse(S("{\"InputDataConfig\": [{\"ChannelName\": \"train\", \"InputMode\": \"X\","
                      " \"DataSource\": {\"S3DataSource\": {\"S3Uri\": \"x\"}}}], "
                      "\"OutputDataConfig\": {\"S3OutputPath\": \"o\"}}"),
                    "j", &j, &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "InputMode"));
    CHECK(job_parse(S("{\"InputDataConfig\": [{\"ChannelName\": \"train\", \"DataSource\": "
                      "{\"S3DataSource\": {\"S3Uri\": \"x\"}}}], \"OutputDataConfig\": "
                      "{\"S3OutputPath\": \"o\"}, \"StoppingCondition\": "
                      "{\"MaxRuntimeInSeconds\": 0}}"),
                    "j", &j, &err) == LL_E_ARG);
    CHECK(strstr(err.msg, "MaxRuntimeInSeconds"));
    CHECK(job_parse(S("{nope"), "j", &j, &err) == LL_E_ARG);
    CHECK(err.has & LL_ERR_OFFSET);
}

static void oom_paths(void)
{
    /* every allocation of the parsers failing in turn: an error, never a crash or a leak */
    const char *t = "{\"train\": {\"TrainingInputMode\": \"Pipe\"}, \"validation\": "
                    "{\"TrainingInputMode\": \"File\"}}";
    for (unsigned long k = 1; k < 50; k++) {
        ll_err err;
        sm_input in;
        mem_fail_after(k);
        ll_code rc = sm_config_parse_input(S(t), "x", &in, &err);
        mem_fail_after(0);
        if (rc == LL_OK) {
            CHECK(in.n == 2);
            sm_config_input_deinit(&in);
            break;
        }
        CHECK(rc == LL_E_NOMEM);
    }
}

int main(void)
{
    TT_BEGIN("test_sm_config");
    RUN(input_config_full);
    RUN(input_config_errors);
    RUN(resource_config);
    RUN(content_types);
    RUN(failure_text);
    RUN(job_document);
    RUN(job_document_errors);
    RUN(oom_paths);
    TT_END();
}
