# Passes kept in memory (docs/TRAINING.md, "Passes kept in memory"): a run that replays its
# kept passes ends with the model bytes, selected model and metrics of a run that reads every
# pass (--cache-mb 0), for dense and sparse data, CSV, LIBSVM and RecordIO, validation
# channels, several epochs, Pipe mode and a budget too small to keep anything; kept_passes in
# the metrics JSON says what was kept and replayed.
. tests/cli/lib.sh
NAME=cli_pass_cache
PY=/usr/bin/python3
DS=$TD/datasets
BC=$DS/breast_cancer
SP=$DS/sparse_synthetic
$LL convert $BC/train.csv $T/bc.pbr >/dev/null 2>&1
$LL convert --index-base 0 $SP/train.libsvm $T/sp.pbr --feature-dim 10000 >/dev/null 2>&1
check "the RecordIO copies were written" test -s $T/bc.pbr -a -s $T/sp.pbr

# the results of a run that a replay must not change: metrics and selected model
results() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps([d["metrics"], d["selected_model"]], sort_keys=True))' "$1"; }
# kept NAME JSON: "rows batches replays" of the channel's kept pass, or "none"
kept() { $PY -c 'import json,sys; k=json.load(open(sys.argv[2]))["kept_passes"].get(sys.argv[1]); print("%d %d %d" % (k["rows"], k["batches"], k["replays"]) if k else "none")' "$1" "$2"; }
# same NAME ARGS...: the run with the default cache and with --cache-mb 0 agree
same() {
    n=$1; shift
    $LL train --threads 2 --model-dir $T/$n.on --metrics-json $T/$n.on.json "$@" >$T/$n.on.log 2>&1
    a=$?
    $LL train --threads 2 --cache-mb 0 --model-dir $T/$n.off --metrics-json $T/$n.off.json "$@" >$T/$n.off.log 2>&1
    b=$?
    check "$n: both runs end well ($a, $b; $(tail -2 $T/$n.on.log))" test "$a$b" = 00
    check "$n: the same model bytes" cmp $T/$n.on/model.tar.gz $T/$n.off/model.tar.gz
    results $T/$n.on.json >$T/$n.on.res 2>&1
    results $T/$n.off.json >$T/$n.off.res 2>&1
    check "$n: the same metrics and selected model" cmp $T/$n.on.res $T/$n.off.res
    check "$n: nothing kept with --cache-mb 0" test "$(kept train $T/$n.off.json)" = none
}

BIN="-H predictor_type=binary_classifier -H mini_batch_size=32"
same dense_csv --train $BC/train.csv --validation $BC/validation.csv $BIN -H feature_dim=30 -H epochs=3 -H num_models=4
k=$(kept train $T/dense_csv.on.json)
check "dense_csv: the train pass kept (341 rows, 11 batches) and replayed by epochs 2-3 and the final metrics ($k)" test "$k" = "341 11 3"
k=$(kept validation $T/dense_csv.on.json)
check "dense_csv: the validation pass kept and replayed by epochs 2-3 and the selection ($k)" sh -c "echo '$k' | grep -q ' 3\$'"

same sparse_pbr --train $T/sp.pbr --validation $SP/validation.libsvm --index-base 0 $BIN -H feature_dim=10000 -H epochs=2 -H num_models=2 -H mini_batch_size=500 -H optimizer=adam
k=$(kept train $T/sparse_pbr.on.json)
check "sparse_pbr: the train pass kept (12000 rows, 24 batches), replayed by epoch 2 and the final metrics ($k)" test "$k" = "12000 24 2"

# one epoch, no validation: a dense pass read once more is kept for few models only
same dense_one --train $T/bc.pbr $BIN -H feature_dim=30 -H epochs=1 -H num_models=2
check "dense, 2 models, one epoch: kept and replayed by the selection" test "$(kept train $T/dense_one.on.json)" = "341 11 1"
same dense_many --train $T/bc.pbr $BIN -H feature_dim=30 -H epochs=1 -H num_models=32
check "dense, 32 models, one epoch: not kept (reading again costs less than the copy)" test "$(kept train $T/dense_many.on.json)" = none
same sparse_many --train $T/sp.pbr $BIN -H feature_dim=10000 -H epochs=1 -H num_models=32 -H mini_batch_size=1000
check "sparse, 32 models, one epoch: kept" test "$(kept train $T/sparse_many.on.json)" = "12000 12 1"

# other predictors and the exact final metrics
same multiclass --train $DS/digits/train.csv --validation $DS/digits/validation.csv -H predictor_type=multiclass_classifier -H num_classes=10 -H feature_dim=64 -H epochs=2 -H num_models=3 -H mini_batch_size=100
same regressor --train $DS/diabetes/train.csv --validation $DS/diabetes/validation.csv --test $DS/diabetes/test.csv -H predictor_type=regressor -H feature_dim=10 -H epochs=3 -H mini_batch_size=20
same exact --train $T/sp.pbr $BIN -H feature_dim=10000 -H epochs=1 -H num_models=2 -H mini_batch_size=1000 --exact-final-metrics
check "exact final metrics: kept and replayed by the selection and the final metrics" test "$(kept train $T/exact.on.json)" = "12000 12 2"

# a budget too small for the pass: read every time, same results
same small --train $SP/train.libsvm $BIN -H feature_dim=10000 -H epochs=2 -H num_models=2 -H mini_batch_size=1000 --index-base 0 --cache-mb 1
check "--cache-mb 1: the 12,000 sparse rows do not fit, nothing kept" test "$(kept train $T/small.on.json)" = none
LINLEARN_CACHE_MB=0 $LL train --threads 2 --train $SP/train.libsvm --index-base 0 $BIN -H feature_dim=10000 -H epochs=2 --metrics-json $T/env0.json >/dev/null 2>&1
check "LINLEARN_CACHE_MB=0 keeps nothing" test "$(kept train $T/env0.json)" = none
check_fails "--cache-mb needs a number" 2 "bad --cache-mb" $LL train --cache-mb lots --train $BC/train.csv

# Pipe mode: the last epoch's FIFO is kept for the passes after training
pipe_run() { # NAME CACHE-ARGS...
    n=$1; shift
    rm -rf $T/pp; mkdir -p $T/pp
    $LL pipe --dir $T/pp --channel train=$BC/train.csv 2>/dev/null & fp=$!
    timeout 60 $LL train --threads 2 --input-mode pipe --train $T/pp/train --content-type text/csv $BIN -H feature_dim=30 -H epochs=2 -H num_models=2 --model-dir $T/$n --metrics-json $T/$n.json "$@" >$T/$n.log 2>&1
    st=$?
    kill $fp 2>/dev/null; wait $fp 2>/dev/null
    return $st
}
check "pipe, kept" pipe_run pipe_on
check "pipe, read" pipe_run pipe_off --cache-mb 0
check "pipe: the same model bytes" cmp $T/pipe_on/model.tar.gz $T/pipe_off/model.tar.gz
results $T/pipe_on.json >$T/pipe_on.res 2>&1
results $T/pipe_off.json >$T/pipe_off.res 2>&1
check "pipe: the same metrics and selected model" cmp $T/pipe_on.res $T/pipe_off.res
check "pipe: the last epoch's pass kept and replayed once ($(kept train $T/pipe_on.json))" test "$(kept train $T/pipe_on.json)" = "341 11 1"
check "pipe: one FIFO fewer opened" sh -c "[ \$(grep -c 'train_[0-9]' $T/pipe_on.log) -le \$(grep -c 'train_[0-9]' $T/pipe_off.log) ]"
finish
