#!/bin/sh
# mpi_job.sh - `linlearn local-job` with ResourceConfig.InstanceCount N > 1 under a real mpirun on
# loopback (docs/DISTRIBUTED.md, docs/CONTAINER.md): one /opt/ml-style root per host with its own
# resourceconfig.json, ShardedByS3Key channels split per host as SageMaker assigns objects,
# FullyReplicated channels copied to every host and split by record (the one-instance model),
# File and Pipe mode, one model uploaded (algo-1's), a failing host failing the job with its
# failure uploaded, and clear refusals (no mpirun, too few objects to shard). Skipped, saying why,
# without mpirun or with a linlearn built with MPI=0. Not run under the sanitizer stages.
NAME=mpi_job
. tests/cli/lib.sh
if ! command -v mpirun >/dev/null 2>&1; then
    skip "every local-job InstanceCount check" "mpirun is not installed: scripts/install-deps installs openmpi-bin"
    finish; exit $?
fi
if ! ldd "$LL" 2>/dev/null | grep -q libmpi; then
    skip "every local-job InstanceCount check" "$LL was built without MPI (make MPI=0)"
    finish; exit $?
fi
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# local-job sets these itself for its ranks; the direct mpirun check below needs them as root
MPIENV="env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
PY=/usr/bin/python3
BC=$TD/datasets/breast_cancer
HP='"HyperParameters": {"predictor_type": "binary_classifier", "epochs": "3", "num_models": "4", "binary_classifier_model_selection_criteria": "f_beta"}'
mkdir -p "$T/parts"
# four objects of the train channel (objects 0 and 2 go to algo-1, 1 and 3 to algo-2)
$PY - "$BC/train.csv" "$T/parts" <<'EOF'
import sys
rows = open(sys.argv[1]).read().splitlines(True)
for i in range(4):
    open("%s/part-%d.csv" % (sys.argv[2], i), "w").writelines(rows[i * 90:(i + 1) * 90])
EOF
chan() { # NAME MODE URI DISTRIBUTION
    printf '{"ChannelName": "%s", "InputMode": "%s", "ContentType": "text/csv", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "%s", "S3DataDistributionType": "%s"}}}' "$1" "$2" "$3" "$4"
}
job() { # FILE NAME N CHANNELS [extra]
    printf '{"TrainingJobName": "%s", %s, "InputDataConfig": [%s], "OutputDataConfig": {"S3OutputPath": "%s"}, "ResourceConfig": {"InstanceCount": %s}%s}\n' \
        "$2" "$HP" "$4" "$T/out" "$3" "$5" > "$1"
}
lj() { out=$1; shift; "$LL" local-job "$@" > "$T/$out.out" 2> "$T/$out.err"; }
# same A B: the two models agree within the float tolerance of docs/DISTRIBUTED.md (max |w - w_ref|
# <= 1e-4 x max |w_ref|, bias included) with thresholds within 1e-4
same() {
    "$LL" export --format json "$1" > "$T/a.json" && "$LL" export --format json "$2" > "$T/b.json" &&
    $PY - "$T/a.json" "$T/b.json" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
wa = [x for r in a["weights"] for x in r] + a["bias"]
wb = [x for r in b["weights"] for x in r] + b["bias"]
scale = max(abs(x) for x in wa) or 1.0
d = max(abs(x - y) for x, y in zip(wa, wb)) / scale
ta, tb = a.get("threshold", 0.5), b.get("threshold", 0.5)
print("relative difference %.3g, thresholds %r/%r" % (d, ta, tb))
sys.exit(0 if len(wa) == len(wb) and d <= 1e-4 and abs(ta - tb) <= 1e-4 else 1)
EOF
}
VAL=$(chan validation File "$BC/validation.csv" FullyReplicated)

# one instance: the reference
job "$T/one.json" jone 1 "$(chan train File "$T/parts/" FullyReplicated), $VAL"
check "1 instance: exit 0" lj one --job "$T/one.json"

# FullyReplicated over 2 instances: every host holds every object; training splits by record,
# so the model is the one-instance model
job "$T/full.json" jfull 2 "$(chan train File "$T/parts/" FullyReplicated), $VAL"
check "2 instances, FullyReplicated: exit 0" lj full --job "$T/full.json" --root "$T/rfull"
check "2 instances: one root per host" test -d "$T/rfull/algo-1/input/data/train" -a -d "$T/rfull/algo-2/input/data/train"
check "algo-2's resourceconfig.json names it among both hosts" $PY -c "
import json, sys
r = json.load(open('$T/rfull/algo-2/input/config/resourceconfig.json'))
print(r); sys.exit(0 if r['current_host'] == 'algo-2' and r['hosts'] == ['algo-1', 'algo-2'] else 1)"
check "algo-1's resourceconfig.json names it" grep -q '"current_host": "algo-1"' "$T/rfull/algo-1/input/config/resourceconfig.json"
check "FullyReplicated: every host has all 4 objects" sh -c "[ \$(ls '$T/rfull/algo-1/input/data/train' | wc -l) = 4 ] && [ \$(ls '$T/rfull/algo-2/input/data/train' | wc -l) = 4 ]"
check "FullyReplicated: split by record over the hosts" grep -q "split by record over 2 hosts" "$T/full.out"
check "every host's metric lines name it" sh -c "grep -q 'quality_metric: host=algo-2, epoch=0, train' '$T/full.out' && grep -q 'quality_metric: host=algo-1, epoch=0, train' '$T/full.out'"
check "FullyReplicated over 2 instances = 1 instance" same "$T/out/jone/output/model.tar.gz" "$T/out/jfull/output/model.tar.gz"
check "only algo-1 writes the model" sh -c "test -s '$T/rfull/algo-1/model/model.tar.gz' && test ! -e '$T/rfull/algo-2/model/model.tar.gz'"

# ShardedByS3Key over 2 instances: objects 0, 2 to algo-1 and 1, 3 to algo-2 (key order)
job "$T/shard.json" jshard 2 "$(chan train File "$T/parts/" ShardedByS3Key), $VAL"
check "2 instances, ShardedByS3Key: exit 0" lj shard --job "$T/shard.json" --root "$T/rshard"
check "ShardedByS3Key: algo-1 got objects 0 and 2" sh -c "[ \"\$(ls '$T/rshard/algo-1/input/data/train' | tr '\n' ' ')\" = 'part-0.csv part-2.csv ' ]"
check "ShardedByS3Key: algo-2 got objects 1 and 3" sh -c "[ \"\$(ls '$T/rshard/algo-2/input/data/train' | tr '\n' ' ')\" = 'part-1.csv part-3.csv ' ]"
check "ShardedByS3Key: the config says so" grep -q ShardedByS3Key "$T/rshard/algo-2/input/config/inputdataconfig.json"
check "ShardedByS3Key: each host trains on its own share" grep -q "Channel train: File mode, text/csv, ShardedByS3Key" "$T/shard.out"
check "ShardedByS3Key: a model uploaded" test -s "$T/out/jshard/output/model.tar.gz"
# the same model as `mpirun -np 2 linlearn train --shard none` over the same two shares
mkdir -p "$T/s1" "$T/s2" "$T/sref"
cp "$T/parts/part-0.csv" "$T/parts/part-2.csv" "$T/s1/"; cp "$T/parts/part-1.csv" "$T/parts/part-3.csv" "$T/s2/"
check "the shards trained directly under mpirun" sh -c "$MPIENV mpirun --oversubscribe --bind-to none -np 1 '$LL' train --log-format sagemaker --shard none --train '$T/s1' --validation '$BC/validation.csv' -H predictor_type=binary_classifier -H epochs=3 -H num_models=4 -H binary_classifier_model_selection_criteria=f_beta --model-dir '$T/sref' : -np 1 '$LL' train --log-format sagemaker --shard none --train '$T/s2' --validation '$BC/validation.csv' -H predictor_type=binary_classifier -H epochs=3 -H num_models=4 -H binary_classifier_model_selection_criteria=f_beta > '$T/sref.log' 2>&1"
check "ShardedByS3Key job = mpirun over the same shares" same "$T/sref/model.tar.gz" "$T/out/jshard/output/model.tar.gz"

# Pipe mode, sharded: each host's FIFO streams its own objects
job "$T/pipe.json" jpipe 2 "$(chan train Pipe "$T/parts/" ShardedByS3Key), $VAL"
check "2 instances, Pipe mode, ShardedByS3Key: exit 0" lj pipe --job "$T/pipe.json"
check "Pipe: one feeder per host" sh -c "grep -q 'channel train (algo-2): Pipe mode' '$T/pipe.err' && grep -q 'channel train (algo-1): Pipe mode' '$T/pipe.err'"
check "Pipe = File with the same shares" same "$T/out/jshard/output/model.tar.gz" "$T/out/jpipe/output/model.tar.gz"

# a host whose share has bad data fails the job on every host; its failure is uploaded
mkdir -p "$T/bad"; cp "$T/parts/"* "$T/bad/"
printf '1,2,abc\n' >> "$T/bad/part-3.csv"
job "$T/badj.json" jbad 2 "$(chan train File "$T/bad/" ShardedByS3Key)"
lj bad --job "$T/badj.json"; st=$?
check "a failing host fails the job (non-zero)" test "$st" -ne 0
check "the failure names the file of algo-2's share" grep -q "Customer Error: .*algo-2/input/data/train/part-3.csv" "$T/out/jbad/output/failure"
check "no model uploaded" test ! -e "$T/out/jbad/output/model.tar.gz"
check "the failing host names itself" grep -q "host algo-2" "$T/bad.err"

# refusals: too few objects to shard; no mpirun
job "$T/few.json" jfew 3 "$(chan train File "$BC/train.csv" ShardedByS3Key)"
check_fails "one object ShardedByS3Key over 3 instances is refused" 2 "1 object(s) ShardedByS3Key over 3 instances: algo-2 would get no data" \
    "$LL" local-job --job "$T/few.json"
check_fails "InstanceCount 2 without mpirun is refused" 2 "runs the job as 2 MPI ranks, but '/nonexistent/mpirun' was not found" \
    "$LL" local-job --job "$T/full.json" --mpirun /nonexistent/mpirun
check_fails "train --sagemaker for 2 hosts outside mpirun is refused" 2 "lists 2 hosts, but this process is not one of the ranks" \
    "$LL" train --sagemaker --sm-root "$T/rfull/algo-2"
finish
