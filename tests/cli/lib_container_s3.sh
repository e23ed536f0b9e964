# Sourced by tests/cli/s3.sh while its S3 server runs (uses its $dir, $BIN, ok and bad):
# `linlearn local-job` with S3 inputs (one File, one Pipe channel), an S3 output path and an S3
# checkpoint prefix.
ct_ds=${LL_TESTDATA:-../shared/testdata}/datasets/diabetes
ct_aws() { aws --endpoint-url "$S3_ENDPOINT" "$@" >/dev/null 2>&1; }
ct_aws s3 mb s3://llcontainer
ct_aws s3 cp $ct_ds/train.csv s3://llcontainer/data/train/part-0.csv &&
    ct_aws s3 cp $ct_ds/validation.csv s3://llcontainer/data/validation/part-0.csv && ok || bad "container: upload the job's data"
cat > "$dir/ctjob.json" <<JSON
{"TrainingJobName": "s3job",
 "AlgorithmSpecification": {"TrainingInputMode": "File"},
 "HyperParameters": {"predictor_type": "regressor", "epochs": "3", "mini_batch_size": "40", "num_models": "4"},
 "InputDataConfig": [
  {"ChannelName": "train", "InputMode": "Pipe", "ContentType": "text/csv",
   "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://llcontainer/data/train/"}}},
  {"ChannelName": "validation", "ContentType": "text/csv",
   "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://llcontainer/data/validation/"}}}],
 "OutputDataConfig": {"S3OutputPath": "s3://llcontainer/out"},
 "CheckpointConfig": {"S3Uri": "s3://llcontainer/ckpt/s3job"},
 "StoppingCondition": {"MaxRuntimeInSeconds": 120}}
JSON
"$BIN" local-job --job "$dir/ctjob.json" > "$dir/ctjob.out" 2> "$dir/ctjob.err" && ok || { cat "$dir/ctjob.err"; bad "container: local-job with S3 input and output"; }
grep -q 'epoch=2, validation mse_objective' "$dir/ctjob.out" && ok || bad "container: the job's metric lines"
ct_aws s3 cp s3://llcontainer/out/s3job/output/model.tar.gz "$dir/ctmodel.tar.gz" && ok || bad "container: model.tar.gz in S3"
"$BIN" train --threads 1 --train $ct_ds/train.csv --validation $ct_ds/validation.csv -H predictor_type=regressor \
    -H epochs=3 -H mini_batch_size=40 -H num_models=4 --model-dir "$dir/ctref" >/dev/null 2>&1
"$BIN" export --format csv "$dir/ctmodel.tar.gz" > "$dir/ct1.csv" 2>/dev/null &&
    "$BIN" export --format csv "$dir/ctref/model.tar.gz" | cmp -s - "$dir/ct1.csv" && ok || bad "container: the S3 job's model equals linlearn train's"
# a failing job uploads output/failure next to where the model would be
sed -e 's/"epochs": "3"/"epochs": "zero"/' -e 's/s3job/s3bad/g' "$dir/ctjob.json" > "$dir/ctbad.json"
"$BIN" local-job --job "$dir/ctbad.json" >/dev/null 2>&1 && bad "container: a bad job exits 0" || ok
ct_aws s3 cp s3://llcontainer/out/s3bad/output/failure "$dir/ctfailure" && grep -q '^Customer Error: .*epochs' "$dir/ctfailure" && ok || bad "container: failure uploaded to S3"
ct_aws s3 cp s3://llcontainer/ckpt/s3job/linlearn-state.ckpt "$dir/ct.ckpt" && [ -s "$dir/ct.ckpt" ] && ok || bad "container: checkpoint synced to the S3 prefix"
"$BIN" local-job --job "$dir/ctjob.json" > "$dir/ctjob2.out" 2>/dev/null && grep -q 'Loaded checkpoint' "$dir/ctjob2.out" && ok || bad "container: a rerun resumes from the S3 checkpoint"
