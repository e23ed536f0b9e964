# Sourced by tests/cli/s3.sh while its S3 server runs (uses its $dir, $BIN, ok and bad, and the
# bucket lltest that test_s3 creates): `linlearn local-job` with S3 inputs (one File, one Pipe
# channel), an S3 output path and an S3 checkpoint prefix. Objects move with linlearn itself
# (convert to upload, `pipe --input-mode file` to download), not with the aws CLI.
ct_ds=${LL_TESTDATA:-$PWD/tests/data}/datasets/diabetes
ct_s3=s3://lltest/container
ct_get() { # PREFIX DIR: downloads every object under PREFIX into DIR/x/
    rm -rf "$2"; mkdir -p "$2"; "$BIN" pipe --input-mode file --dir "$2" --channel x="$1" >/dev/null 2>&1
}
"$BIN" convert --to csv $ct_ds/train.csv $ct_s3/data/train/part-0.csv 2>/dev/null &&
    "$BIN" convert --to csv $ct_ds/validation.csv $ct_s3/data/validation/part-0.csv 2>/dev/null && ok || bad "container: upload the job's data"
cat > "$dir/ctjob.json" <<JSON
{"TrainingJobName": "s3job",
 "AlgorithmSpecification": {"TrainingInputMode": "File"},
 "HyperParameters": {"predictor_type": "regressor", "epochs": "3", "mini_batch_size": "40", "num_models": "4"},
 "InputDataConfig": [
  {"ChannelName": "train", "InputMode": "Pipe", "ContentType": "text/csv",
   "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "$ct_s3/data/train/"}}},
  {"ChannelName": "validation", "ContentType": "text/csv",
   "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "$ct_s3/data/validation/"}}}],
 "OutputDataConfig": {"S3OutputPath": "$ct_s3/out"},
 "CheckpointConfig": {"S3Uri": "$ct_s3/ckpt/s3job"},
 "StoppingCondition": {"MaxRuntimeInSeconds": 120}}
JSON
"$BIN" local-job --job "$dir/ctjob.json" > "$dir/ctjob.out" 2> "$dir/ctjob.err" && ok || { cat "$dir/ctjob.err"; bad "container: local-job with S3 input and output"; }
grep -q 'epoch=2, validation mse_objective' "$dir/ctjob.out" && ok || bad "container: the job's metric lines"
ct_get $ct_s3/out/s3job/output/ "$dir/ctout" && [ -s "$dir/ctout/x/model.tar.gz" ] && ok || bad "container: model.tar.gz in S3"
"$BIN" train --threads 1 --train $ct_ds/train.csv --validation $ct_ds/validation.csv -H predictor_type=regressor \
    -H epochs=3 -H mini_batch_size=40 -H num_models=4 --model-dir "$dir/ctref" >/dev/null 2>&1
"$BIN" export --format csv "$dir/ctout/x/model.tar.gz" > "$dir/ct1.csv" 2>/dev/null &&
    "$BIN" export --format csv "$dir/ctref/model.tar.gz" | cmp -s - "$dir/ct1.csv" && ok || bad "container: the S3 job's model equals linlearn train's"
# a failing job uploads output/failure next to where the model would be
sed -e 's/"epochs": "3"/"epochs": "zero"/' -e 's/s3job/s3bad/g' "$dir/ctjob.json" > "$dir/ctbad.json"
"$BIN" local-job --job "$dir/ctbad.json" >/dev/null 2>&1 && bad "container: a bad job exits 0" || ok
ct_get $ct_s3/out/s3bad/output/ "$dir/ctbad" && grep -q '^Customer Error: .*epochs' "$dir/ctbad/x/failure" && ok || bad "container: failure uploaded to S3"
ct_get $ct_s3/ckpt/s3job/ "$dir/ctck" && [ -s "$dir/ctck/x/linlearn-state.ckpt" ] && ok || bad "container: checkpoint synced to the S3 prefix"
"$BIN" local-job --job "$dir/ctjob.json" > "$dir/ctjob2.out" 2>/dev/null && grep -q 'Loaded checkpoint' "$dir/ctjob2.out" && ok || bad "container: a rerun resumes from the S3 checkpoint"
