# `linlearn local-job`: CreateTrainingJob-shaped documents with local inputs and outputs (the S3
# variant runs inside tests/cli/s3.sh, see lib_container_s3.sh): File and Pipe channels, the
# uploaded model and failure file, the runtime limit (SIGTERM, then SIGKILL), the environment.
. tests/cli/lib.sh
NAME=cli_container_job
DS=$(cd $TD/datasets/diabetes && pwd)
HP='"HyperParameters": {"predictor_type": "regressor", "epochs": "3", "mini_batch_size": "40", "num_models": "4"}'
chan() { # NAME MODE URI [extra]
    printf '{"ChannelName": "%s", "InputMode": "%s", "ContentType": "text/csv", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "%s"}}%s}' "$1" "$2" "$3" "$4"
}
job() { # FILE NAME HP CHANNELS [extra top-level members]
    printf '{"TrainingJobName": "%s", "AlgorithmSpecification": {"TrainingInputMode": "File"}, %s, "InputDataConfig": [%s], "OutputDataConfig": {"S3OutputPath": "%s"}, "ResourceConfig": {"InstanceCount": 1}%s}\n' "$2" "$3" "$4" "$T/out" "$5" > "$1"
}
lj() { $LL local-job "$@" > $T/lj.out 2> $T/lj.err; }
$LL train --threads 1 --train $DS/train.csv --validation $DS/validation.csv -H predictor_type=regressor \
    -H epochs=3 -H mini_batch_size=40 -H num_models=4 --model-dir $T/ref >/dev/null
$LL export --format csv $T/ref/model.tar.gz > $T/ref.csv
same() { $LL export --format csv "$1" | cmp - "$2"; }

job $T/file.json jfile "$HP" "$(chan train File $DS/train.csv), $(chan validation File file://$DS/validation.csv)"
check "File job: exit 0" lj --job $T/file.json
check "File job: model uploaded to <out>/<job>/output/model.tar.gz" same $T/out/jfile/output/model.tar.gz $T/ref.csv
check "File job: metric lines on stdout" grep -q '#quality_metric: host=algo-1, epoch=2, validation mse_objective' $T/lj.out
check "File job: temporary root removed" sh -c "! grep -o '/[^ ]*linlearn-job[^ ]*' $T/lj.err | xargs -r ls -d 2>/dev/null | grep -q ."

mkdir -p $T/trdir; cp $DS/train.csv $T/trdir/part-0.csv
job $T/pipe.json jpipe "$HP" "$(chan train Pipe $T/trdir/) , $(chan validation Pipe $DS/validation.csv)"
check "Pipe job: exit 0" lj --job $T/pipe.json --root $T/proot
check "Pipe job: same model" same $T/out/jpipe/output/model.tar.gz $T/ref.csv
check "Pipe job: root kept with its config" test -s $T/proot/input/config/inputdataconfig.json
check "Pipe job: FIFOs removed afterwards" sh -c "! ls $T/proot/input/data | grep -q _"

job $T/bad.json jbad '"HyperParameters": {"predictor_type": "regressor", "l1": "-1"}' "$(chan train File $DS/train.csv)"
lj --job $T/bad.json; st=$?
check "failed job: the container's status (non-zero)" test $st -ne 0
check "failed job: failure uploaded" grep -q '^Customer Error: .*l1' $T/out/jbad/output/failure
check "failed job: no model" test ! -e $T/out/jbad/output/model.tar.gz

# the runtime limit: a container that ignores SIGTERM is killed after the grace period
cat > $T/stubborn.sh <<'SH'
#!/bin/sh
echo "$TRAINING_JOB_NAME $TRAINING_JOB_ARN $MY_VAR" > "$4/env.txt"
trap '' TERM
while :; do sleep 0.1; done
SH
chmod +x $T/stubborn.sh
job $T/slow.json jslow "$HP" "$(chan train File $DS/train.csv)" ', "StoppingCondition": {"MaxRuntimeInSeconds": 1}, "Environment": {"MY_VAR": "hello"}'
start=$(date +%s)
lj --job $T/slow.json --container $T/stubborn.sh --grace-s 1 --root $T/sroot; st=$?
took=$(( $(date +%s) - start ))
check "limit: SIGKILL after the grace period (status 137)" test $st -eq 137
check "limit: stopped in about 2 s" test $took -le 5
check "limit: MaxRuntimeExceeded failure uploaded" grep -q MaxRuntimeExceeded $T/out/jslow/output/failure
check "environment: job name, ARN and Environment" grep -q '^jslow arn:aws:sagemaker:.*training-job/jslow hello$' $T/sroot/env.txt

# the real container honours SIGTERM: it stops between batches with status 143
job $T/long.json jlong '"HyperParameters": {"predictor_type": "regressor", "epochs": "100000", "early_stopping_patience": "100000", "mini_batch_size": "10", "num_models": "2"}' "$(chan train Pipe $DS/train.csv)" ', "StoppingCondition": {"MaxRuntimeInSeconds": 1}'
start=$(date +%s)
lj --job $T/long.json --grace-s 20; st=$?
took=$(( $(date +%s) - start ))
check "limit: linlearn stops on SIGTERM (143)" test $st -eq 143
check "limit: well before the grace period" test $took -le 8
check "limit: the failure says MaxRuntimeExceeded" grep -q MaxRuntimeExceeded $T/out/jlong/output/failure

# CheckpointConfig: the checkpoint is synced to S3Uri; the same job run again picks it up
job $T/ck.json jck "$HP" "$(chan train File $DS/train.csv), $(chan validation File $DS/validation.csv)" ", \"CheckpointConfig\": {\"S3Uri\": \"$T/ckpt-store\", \"LocalPath\": \"/opt/ml/checkpoints\"}"
check "checkpointed job: exit 0" lj --job $T/ck.json
check "checkpointed job: checkpoint synced to S3Uri" test -s $T/ckpt-store/linlearn-state.ckpt
check "checkpointed job: same model" same $T/out/jck/output/model.tar.gz $T/ref.csv
rm -f $T/out/jck/output/model.tar.gz
check "the job again: resumes from the synced checkpoint" lj --job $T/ck.json
check "the job again: says so" grep -q 'Loaded checkpoint' $T/lj.out
check "the job again: same model" same $T/out/jck/output/model.tar.gz $T/ref.csv

check_fails "job document errors name the key" 2 "S3OutputPath" sh -c "echo '{\"InputDataConfig\": [{\"ChannelName\": \"train\", \"DataSource\": {\"S3DataSource\": {\"S3Uri\": \"x\"}}}]}' > $T/nojob.json; $LL local-job --job $T/nojob.json"
job $T/missing.json jmiss "$HP" "$(chan train File $T/nope-dir/)"
check_fails "missing input data: the path named" 3 "nope-dir" $LL local-job --job $T/missing.json
check "missing input data: the reason uploaded as the failure" grep -q 'nope-dir' $T/out/jmiss/output/failure
check_fails "no job document" 3 "cannot open the job document" $LL local-job --job $T/absent.json
finish
