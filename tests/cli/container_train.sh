# `linlearn train --sagemaker` in a temporary /opt/ml-style root: File and Pipe channels, CSV,
# RecordIO and Gzip content, with and without validation/test channels, SageMaker's metric
# lines, and output/failure on every failure path.
. tests/cli/lib.sh
NAME=cli_container_train
DS=$TD/datasets/diabetes
HP='{"predictor_type": "regressor", "epochs": "3", "mini_batch_size": "40", "num_models": "4"}'
# root NAME HP IDC: a fresh root with the three config files
root() {
    r=$T/$1; rm -rf "$r"; mkdir -p "$r/input/config" "$r/input/data"
    printf '%s\n' "$2" > "$r/input/config/hyperparameters.json"
    printf '%s\n' "$3" > "$r/input/config/inputdataconfig.json"
    printf '{"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"}\n' > "$r/input/config/resourceconfig.json"
}
# files R CHANNEL FILE...: File-mode data
files() { r=$1; c=$2; shift 2; mkdir -p "$r/input/data/$c"; cp "$@" "$r/input/data/$c/"; }
weights() { $LL export --format csv "$1/model/model.tar.gz"; }
sm() { $LL train --sagemaker --threads 1 --pipe-timeout-ms 5000 --sm-root "$@"; }
F='"TrainingInputMode": "File"'
P='"TrainingInputMode": "Pipe"'
CSV='"ContentType": "text/csv"'
PBR='"ContentType": "application/x-recordio-protobuf"'

# reference: plain `linlearn train` on the same files
check "reference model" $LL train --threads 1 --train $DS/train.csv --validation $DS/validation.csv \
    --test $DS/test.csv -H predictor_type=regressor -H epochs=3 -H mini_batch_size=40 -H num_models=4 --model-dir $T/ref
$LL export --format csv $T/ref/model.tar.gz > $T/ref.csv

# File mode, CSV, three channels
root f "$HP" "{\"train\": {$F, $CSV}, \"validation\": {$F, $CSV}, \"test\": {$F, \"ContentType\": \"text/csv;label_size=1\"}}"
files $T/f train $DS/train.csv; files $T/f validation $DS/validation.csv; files $T/f test $DS/test.csv
check "File CSV: exit 0" sh -c "$LL train --sagemaker --threads 1 --sm-root $T/f > $T/f.log"
check "File CSV: model.tar.gz written, no failure file" sh -c "test -s $T/f/model/model.tar.gz && test ! -e $T/f/output/failure"
check "File CSV: same model as linlearn train" sh -c "$LL export --format csv $T/f/model/model.tar.gz | cmp - $T/ref.csv"
# the lines SageMaker's metric definitions scrape (spec 4.2), as regular expressions
check "metric: train objective per epoch" grep -Eq '#quality_metric: host=algo-1, epoch=2, train mse_objective <loss>=[0-9.e+-]+$' $T/f.log
check "metric: validation objective per epoch" grep -Eq '#quality_metric: host=[^ ]+, epoch=[^ ]+, validation [^ ]+_objective <loss>=[0-9.e+-]+$' $T/f.log
check "metric: progress" grep -Eq '#progress_metric: host=[^ ]+, completed 100(\.0)? %' $T/f.log
check "metric: throughput" grep -Eq '#throughput_metric: host=[^ ]+, train throughput=[0-9.]+ records/second' $T/f.log
check "metric: test mse" grep -Eq '#quality_metric: host=[^ ]+, test mse <loss>=[0-9.e+-]+$' $T/f.log
check "metric: validation rmse" grep -Eq '#quality_metric: host=[^ ]+, validation rmse <loss>=' $T/f.log
check "log prefix [MM/DD/YYYY HH:MM:SS INFO pid]" grep -Eq '^\[[0-9]{2}/[0-9]{2}/[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} INFO [0-9]+\] #quality_metric' $T/f.log

same() { weights $1 | cmp - $2; }          # same ROOT REF.csv: the root's model has REF's weights
runs() { sm "$@" > "$1.log" 2>&1; }         # runs ROOT: the container exits 0, log in ROOT.log
logs() { grep -q "$2" "$1.log"; }

# FastFile reads like File
root ff "$HP" "{\"train\": {\"TrainingInputMode\": \"FastFile\", $CSV}, \"validation\": {$F}, \"test\": {$F}}"
files $T/ff train $DS/train.csv; files $T/ff validation $DS/validation.csv; files $T/ff test $DS/test.csv
check "FastFile: exit 0" runs $T/ff
check "FastFile: same model as File" same $T/ff $T/ref.csv

# File mode without validation/test channels; the data split over two files; host name from resourceconfig
root f1 "$HP" "{\"train\": {$F}}"
head -200 $DS/train.csv > $T/a.csv; tail -n +201 $DS/train.csv > $T/b.csv
files $T/f1 train $T/a.csv $T/b.csv
printf '{"current_host": "algo-7", "hosts": ["algo-7"]}\n' > $T/f1/input/config/resourceconfig.json
check "File, train only, two files: exit 0" runs $T/f1
check "train only: no validation lines" sh -c "! grep -q 'validation mse' $T/f1.log"
check "train only: test not provided" logs $T/f1 'Test data is not provided'
check "host name from resourceconfig.json" logs $T/f1 'host=algo-7, epoch=0, train'
$LL train --threads 1 --train $DS/train.csv -H predictor_type=regressor -H epochs=3 -H mini_batch_size=40 -H num_models=4 --model-dir $T/ref1 >/dev/null
$LL export --format csv $T/ref1/model.tar.gz > $T/ref1.csv
check "train only: same model as linlearn train" same $T/f1 $T/ref1.csv

# RecordIO content (File), from the same rows: the same model
$LL convert --to recordio $DS/train.csv $T/train.pbr
$LL convert --to recordio $DS/validation.csv $T/validation.pbr
$LL convert --to recordio $DS/test.csv $T/test.pbr
root fr "$HP" "{\"train\": {$F, $PBR}, \"validation\": {$F, $PBR}, \"test\": {$F}}"
files $T/fr train $T/train.pbr; files $T/fr validation $T/validation.pbr; files $T/fr test $T/test.pbr
check "File RecordIO: exit 0" runs $T/fr
check "File RecordIO: same model as CSV" same $T/fr $T/ref.csv

# Pipe mode: FIFOs train_N / validation_N / test_N fed by `linlearn pipe`
pipe_run() { # R: feeds R's channels given as NAME=SRC, runs the container, stops the feeder
    r=$1; shift
    for a in "$@"; do set -- "$@" --channel "$a"; shift; done
    $LL pipe --dir $r/input/data --epochs 1000 "$@" 2>/dev/null & fp=$!
    sm $r > $r.log 2>&1; st=$?
    kill $fp 2>/dev/null; wait $fp 2>/dev/null
    return $st
}
root p "$HP" "{\"train\": {$P, $CSV}, \"validation\": {$P, $CSV}, \"test\": {$P, $CSV}}"
check "Pipe CSV: exit 0" pipe_run $T/p train=$DS/train.csv validation=$DS/validation.csv test=$DS/test.csv
check "Pipe CSV: same model as File" same $T/p $T/ref.csv
check "Pipe CSV: test metrics" grep -q 'test mse <loss>=' $T/p.log
root pr "$HP" "{\"train\": {$P, $PBR}, \"validation\": {$P}}"
check "Pipe RecordIO (validation sniffed): exit 0" pipe_run $T/pr train=$T/train.pbr validation=$T/validation.pbr
$LL train --threads 1 --train $DS/train.csv --validation $DS/validation.csv -H predictor_type=regressor -H epochs=3 -H mini_batch_size=40 -H num_models=4 --model-dir $T/ref2 >/dev/null
$LL export --format csv $T/ref2/model.tar.gz > $T/ref2.csv
check "Pipe RecordIO: the model of train+validation" same $T/pr $T/ref2.csv
# mixed: train Pipe, validation File
root m "$HP" "{\"train\": {$P, $CSV}, \"validation\": {$F, $CSV}}"
files $T/m validation $DS/validation.csv
check "mixed Pipe/File: exit 0" pipe_run $T/m train=$DS/train.csv
check "mixed Pipe/File: same model" same $T/m $T/ref2.csv

# Gzip: Pipe (two concatenated members, one per object) and File
head -150 $DS/train.csv | gzip -c > $T/part1.csv.gz; tail -n +151 $DS/train.csv | gzip -c > $T/part2.csv.gz
mkdir -p $T/gzdir; cp $T/part1.csv.gz $T/part2.csv.gz $T/gzdir/
root pg "$HP" "{\"train\": {$P, $CSV, \"CompressionType\": \"Gzip\"}}"
check "Pipe Gzip: exit 0" pipe_run $T/pg train=$T/gzdir
check "Pipe Gzip: same model as plain CSV" same $T/pg $T/ref1.csv
# a FIFO that carries the gzip bytes as they are (written by hand, one FIFO per pass)
root pgr "$HP" "{\"train\": {$P, $CSV, \"CompressionType\": \"Gzip\"}}"
cat $T/part1.csv.gz $T/part2.csv.gz > $T/both.csv.gz
( n=0; while [ $n -lt 40 ] && [ ! -e $T/pgr.stop ]; do mkfifo $T/pgr/input/data/train_$n; cat $T/both.csv.gz > $T/pgr/input/data/train_$n; rm -f $T/pgr/input/data/train_$n; n=$((n + 1)); done ) 2>/dev/null & wp=$!
check "Pipe Gzip, raw gzip in the FIFO: exit 0" runs $T/pgr
touch $T/pgr.stop; kill $wp 2>/dev/null; wait $wp 2>/dev/null
check "Pipe Gzip, raw gzip in the FIFO: same model" same $T/pgr $T/ref1.csv
root fg "$HP" "{\"train\": {$F, $CSV, \"CompressionType\": \"Gzip\"}}"
files $T/fg train $T/part1.csv.gz $T/part2.csv.gz
check "File Gzip: exit 0" runs $T/fg
check "File Gzip: same model as plain CSV" same $T/fg $T/ref1.csv

# ---- failure paths: non-zero exit, output/failure with the reason ----
# fails WHAT ROOT PATTERN...: the run fails, output/failure is one paragraph matching every pattern
fails() {
    what=$1; r=$2; shift 2
    sm $r >$T/.o 2>&1; st=$?
    ok=1
    [ $st -ne 0 ] || ok=0
    [ -s $r/output/failure ] || ok=0
    [ "$(wc -l < $r/output/failure 2>/dev/null)" = 1 ] || ok=0
    for p in "$@"; do grep -q -- "$p" $r/output/failure 2>/dev/null || ok=0; done
    if [ $ok = 1 ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL $NAME: $what (exit $st)"; cat $r/output/failure 2>/dev/null | sed 's/^/    /'; sed 's/^/    /' $T/.o | tail -5
    fi
}
root e1 '{"predictor_type": "regressor", "mini_batch_size": "abc"}' "{\"train\": {$F}}"; files $T/e1 train $DS/train.csv
fails "bad hyperparameter value" $T/e1 "^Customer Error: " "mini_batch_size" "abc" "hyperparameters.json"
root e2 '{"predictor_type": "regressor", "mini_batch_siz": "10"}' "{\"train\": {$F}}"; files $T/e2 train $DS/train.csv
fails "unknown hyperparameter" $T/e2 "^Customer Error: " "mini_batch_siz"
root e3 '{"epochs": "2"}' "{\"train\": {$F}}"; files $T/e3 train $DS/train.csv
fails "missing predictor_type" $T/e3 "^Customer Error: " "predictor_type"
root e4 "$HP" "{\"validation\": {$F}}"; files $T/e4 validation $DS/validation.csv
fails "train channel not configured" $T/e4 "^Customer Error: " "'train'" "inputdataconfig.json"
root e5 "$HP" "{\"train\": {$F}, \"validation\": {$F}}"; files $T/e5 train $DS/train.csv
fails "File channel without its folder" $T/e5 "^Customer Error: " "validation" "input/data/validation"
root e6 "$HP" "{\"train\": {$F, $CSV}}"
{ head -5 $DS/train.csv; echo "1.5,2,abc,4,5,6,7,8,9,10,11"; tail -n +6 $DS/train.csv; } > $T/bad.csv
files $T/e6 train $T/bad.csv
fails "corrupt CSV row: file, line and byte named" $T/e6 "^Customer Error: " "train/bad.csv:6:3 (byte 486)" "abc"
# the second of two files: the offset and line are those inside that file
root e6b "$HP" "{\"train\": {$F, $CSV}}"
{ head -3 $DS/train.csv; echo "1,2,x"; } > $T/z.csv; files $T/e6b train $DS/train.csv $T/z.csv
fails "corrupt row in the second file: its own line" $T/e6b "^Customer Error: " "train/z.csv:4:3"
root e7 "$HP" "{\"train\": {$F, $PBR}}"
head -c 1000 $T/train.pbr > $T/trunc.pbr; files $T/e7 train $T/trunc.pbr
fails "truncated RecordIO: byte offset named" $T/e7 "^Customer Error: " "train/trunc.pbr (byte 924, record 11)" "truncated"
root e8 "$HP" '{"train": {"TrainingInputMode": "File",'; files $T/e8 train $DS/train.csv
fails "inputdataconfig.json not JSON" $T/e8 "^Customer Error: " "inputdataconfig.json" "byte"
root e9 "$HP" "{\"train\": {$F, \"ContentType\": \"image/png\"}}"; files $T/e9 train $DS/train.csv
fails "unsupported content type" $T/e9 "^Customer Error: " "image/png" "train"
root e10 "$HP" "{\"train\": {$F, $CSV, \"CompressionType\": \"Gzip\"}}"; files $T/e10 train $DS/train.csv
fails "Gzip channel with plain data" $T/e10 "^Customer Error: " "1F 8B" "byte 0"
root e11 "$HP" "{\"train\": {$F}}"; files $T/e11 train $DS/train.csv
printf '{"current_host": "algo-1", "hosts": ["algo-1", "algo-2"]}\n' > $T/e11/input/config/resourceconfig.json
fails "two hosts" $T/e11 "^Customer Error: " "2 hosts" "InstanceCount"
root e12 "$HP" "{\"train\": {$P}}"
check "Pipe FIFO that never appears: failure within the timeout" sh -c "$LL train --sagemaker --threads 1 --pipe-timeout-ms 300 --sm-root $T/e12 >/dev/null 2>&1; test \$? -ne 0 && grep -q 'train_0' $T/e12/output/failure && grep -q 'Algorithm Error' $T/e12/output/failure"
root w "$HP" "{\"train\": {$P}}"
$LL train --sagemaker --threads 1 --sm-root $T/w > $T/w.log 2>&1 & wpid=$!
sleep 0.3; kill -TERM $wpid; wait $wpid; st=$?
check "SIGTERM while waiting for a FIFO: stops at once (143)" test $st = 143
check "SIGTERM while waiting for a FIFO: no failure file" test ! -e $T/w/output/failure
root e13 "$HP" "{\"train\": {$F}, \"extra\": {$F}}"; files $T/e13 train $DS/train.csv
fails "unknown channel" $T/e13 "^Customer Error: " "extra"
root e14 '{"predictor_type": "binary_classifier", "epochs": "2"}' "{\"train\": {$F, $CSV}}"; files $T/e14 train $DS/train.csv
fails "labels wrong for the predictor type" $T/e14 "^Customer Error: " "not 0 or 1"
root e15 "$HP" "{\"train\": {$F, $CSV}}"; mkdir -p $T/e15/input/data/train
fails "empty train folder" $T/e15 "^Customer Error: "
check_fails "usage error: stray argument" 2 "unexpected argument" $LL train --sagemaker --sm-root $T/f oops
finish
