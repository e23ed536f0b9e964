# End-to-end checks of `linlearn train` (log lines scraped with SageMaker's metric regexes, spec
# §4.2), --metrics-json, `linlearn export`, and hyperparameter errors before any data is read.
. tests/cli/lib.sh
NAME=cli_train
DS=$TD/datasets

# scrape REGEX FILE: some line matches the (Perl) regex and its first group is a number
scrape() {
    perl -e 'my $re = shift; my $ok = 0;
        while (<>) { if (/$re/ && defined $1 && $1 =~ /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/) { $ok = 1; last } }
        exit($ok ? 0 : 1)' "$1" "$2"
}
# json_is FILE PERL_EXPR: the expression over the decoded JSON ($j) is true
json_is() {
    perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or exit 2; my $j = decode_json(<$f>);
        exit((eval $ARGV[1]) ? 0 : 1)' "$1" "$2"
}

# ---- binary classifier, CSV, all three channels
B=$DS/breast_cancer
$LL train --train $B/train.csv --validation $B/validation.csv --test $B/test.csv \
    -H predictor_type=binary_classifier -H feature_dim=30 \
    --model-dir $T/bm --metrics-json $T/bm.json >$T/b.log 2>$T/b.err
check "binary run succeeds" test -s $T/bm/model.tar.gz
for re in \
    '#quality_metric: host=\S+, epoch=\S+, train \S+_objective <loss>=(\S+)' \
    '#quality_metric: host=\S+, epoch=\S+, validation \S+_objective <loss>=(\S+)' \
    '#quality_metric: host=\S+, epoch=\S+, train binary_classification_cross_entropy_objective <loss>=(\S+)' \
    '#quality_metric: host=\S+, train \S+_objective <loss>=(\S+)' \
    '#quality_metric: host=\S+, validation \S+_objective <loss>=(\S+)' \
    '#quality_metric: host=\S+, validation binary_f_\S+ <score>=(\S+)' \
    '#quality_metric: host=\S+, validation binary_f_1\.000 <score>=(\S+)' \
    '#quality_metric: host=\S+, validation binary_classification_accuracy <score>=(\S+)' \
    '#quality_metric: host=\S+, validation precision <score>=(\S+)' \
    '#quality_metric: host=\S+, validation recall <score>=(\S+)' \
    '#quality_metric: host=\S+, validation roc_auc_score <score>=(\S+)' \
    '#quality_metric: host=\S+, test binary_classification_accuracy <score>=(\S+)' \
    '#quality_metric: host=\S+, test roc_auc_score <score>=(\S+)' \
    '#quality_metric: host=\S+, test \S+_objective <loss>=(\S+)' \
    '#quality_metric: host=\S+, train binary_classification_accuracy <score>=(\S+)' \
    "#validation_score \(algo-1\) : \('binary_classification_accuracy', (\S+)\)" \
    "#test_score \(algo-1\) : \('roc_auc_score', (\S+)\)" \
    '#early_stopping_criteria_metric: host=\S+, epoch=\S+, criteria=sampled_accuracy, value=(\S+)' \
    '#throughput_metric: host=\S+, train throughput=(\S+) records/second' \
    '#progress_metric: host=\S+, completed (\S+) %' \
    '^\[\d\d/\d\d/\d{4} \d\d:\d\d:\d\d INFO \d+\] #quality_metric: host=algo-1, epoch=(\d+), train '; do
    check "binary log: $re" scrape "$re" $T/b.log
done
check "binary log: Epoch N: Loss improved" grep -q "Epoch 0: Loss improved. Updating best model" $T/b.log
check "binary log: Best model found" grep -q 'Best model found for hyperparameters: {"optimizer": "adam", "learning_rate": ' $T/b.log
check "binary log: no test-data line when a test channel is given" sh -c "! grep -q 'Test data is not provided' $T/b.log"
# #metrics lines: 32 models per epoch, well-formed JSON
check "binary #metrics: per-model per-epoch JSON" perl -MJSON::PP -ne '
    BEGIN { %m = () } if (/#metrics (\{.*\})$/) { my $j = decode_json($1); my $d = $j->{Dimensions};
      if (exists $d->{model} && exists $j->{Metrics}{train_binary_classification_cross_entropy_objective}) {
        die "bad dims" unless $d->{Host} eq "algo-1" && $d->{Algorithm} eq "Linear Learner" && $d->{Operation} eq "training";
        my $v = $j->{Metrics}{train_binary_classification_cross_entropy_objective}; die "count" unless $v->{count} == 1 && $v->{sum} == $v->{max};
        $m{"$d->{epoch}/$d->{model}"} = 1 } }
    END { exit(exists $m{"0/0"} && exists $m{"0/31"} && !exists $m{"0/32"} ? 0 : 1) }' $T/b.log
check "binary #metrics: validation objective per model" grep -q '#metrics {"Metrics": {"validation_binary_classification_cross_entropy_objective": {"count": 1, .*"Dimensions": {"model": 31, ' $T/b.log
check "binary #metrics: final timing summary" scrape '#metrics \{"Metrics": \{"initialize.time": .*"totaltime": \{"count": 1, "max": (\S+),' $T/b.log
# --metrics-json
check "metrics json: resolved hyperparameters" json_is $T/bm.json '$j->{hyperparameters}{predictor_type} eq "binary_classifier" && $j->{hyperparameters}{num_models} eq "32" && $j->{hyperparameters}{optimizer} eq "adam"'
check "metrics json: small train channel gets 10 batches an epoch (341 rows -> 35)" json_is $T/bm.json '$j->{hyperparameters}{mini_batch_size} eq "35"'
check "metrics json: run summary" json_is $T/bm.json '$j->{epochs_completed} >= 1 && $j->{epochs_completed} <= 15 && $j->{rows_per_second} > 0 && $j->{time_to_first_batch_ms} >= 0'
check "metrics json: selected model" json_is $T/bm.json 'my $s = $j->{selected_model}; $s->{index} >= 0 && $s->{index} < 32 && $s->{threshold} > 0 && $s->{threshold} < 1 && $s->{learning_rate} > 0'
check "metrics json: channel metrics" json_is $T/bm.json 'my $m = $j->{metrics}; $m->{"test:binary_classification_accuracy"} > 0.9 && $m->{"validation:roc_auc_score"} > 0.9 && exists $m->{"train:objective_loss:final"} && exists $m->{"validation:objective_loss"} && exists $m->{"test:binary_f_1.000"}'
# export
$LL export --format json $T/bm/model.tar.gz >$T/w.json 2>&1
check "export json: 30 x 1 weights, 1 bias" json_is $T/w.json '$j->{feature_dim} == 30 && $j->{n_outputs} == 1 && @{$j->{bias}} == 1 && (grep { @$_ == 1 } @{$j->{weights}}) == 30 && @{$j->{weights}} == 30'
$LL export --format csv $T/bm/model.tar.gz >$T/w.csv 2>&1
check "export csv: header, 30 feature rows, bias row" sh -c "head -1 $T/w.csv | grep -qx 'feature,output_0' && test \$(grep -c '^[0-9]*,' $T/w.csv) -eq 30 && tail -1 $T/w.csv | grep -q '^bias,'"

# ---- explicit mini_batch_size is kept, hyperparameters.json file, no test channel
printf '{"predictor_type": "binary_classifier", "mini_batch_size": "1000", "epochs": "2", "num_models": "4"}\n' >$T/hp.json
$LL train --train $B/train.csv --hyperparameters $T/hp.json --metrics-json $T/b2.json >$T/b2.log 2>&1
check "explicit mini_batch_size is used as given" json_is $T/b2.json '$j->{hyperparameters}{mini_batch_size} eq "1000" && $j->{epochs_completed} == 2'
check "no test channel: SageMaker's line" grep -q "Test data is not provided." $T/b2.log
check "no validation: early stopping on the objective (SageMaker's criteria)" scrape '#early_stopping_criteria_metric: host=\S+, epoch=1, criteria=binary_classification_cross_entropy_objective, value=(\S+)' $T/b2.log
check "-H overrides the file" sh -c "$LL train --train $B/train.csv --hyperparameters $T/hp.json -H num_models=2 --metrics-json $T/b3.json >/dev/null 2>&1 && grep -q '\"num_models\": \"2\"' $T/b3.json"

# ---- multiclass
G=$DS/digits
$LL train --train $G/train.csv --validation $G/validation.csv --test $G/test.csv \
    -H predictor_type=multiclass_classifier -H num_classes=10 -H epochs=3 \
    --model-dir $T/gm >$T/g.log 2>&1
for re in \
    '#quality_metric: host=\S+, epoch=\S+, validation multiclass_cross_entropy_objective <loss>=(\S+)' \
    '#early_stopping_criteria_metric: host=\S+, epoch=\S+, criteria=multiclass_cross_entropy_objective, value=(\S+)' \
    '#quality_metric: host=\S+, test multiclass_top_k_accuracy_3 <score>=(\S+)' \
    '#quality_metric: host=\S+, test macro_f_1\.000 <score>=(\S+)' \
    '#quality_metric: host=\S+, validation multiclass_accuracy <score>=(\S+)' \
    '#quality_metric: host=\S+, validation dcg <score>=(\S+)' \
    '#quality_metric: host=\S+, validation multiclass_balanced_accuracy <score>=(\S+)' \
    '#quality_metric: host=\S+, validation multiclass_log_loss <score>=(\S+)' \
    '#quality_metric: host=\S+, validation macro_precision <score>=(\S+)' \
    '#quality_metric: host=\S+, validation macro_recall <score>=(\S+)' \
    "#test_score \(algo-1\) : \('multiclass_accuracy', (\S+)\)"; do
    check "multiclass log: $re" scrape "$re" $T/g.log
done
$LL export --format json $T/gm/model.tar.gz >$T/gw.json 2>&1
check "export json multiclass: 64 x 10 weights" json_is $T/gw.json 'my $n = 0; $n += @$_ for @{$j->{weights}}; $n == 640 && @{$j->{bias}} == 10'
$LL export --format csv $T/gm/model.tar.gz >$T/gw.csv 2>&1
check "export csv multiclass: 11 columns, 64 + 2 lines" sh -c "test \$(wc -l < $T/gw.csv) -eq 66 && awk -F, '{ if (NF != 11) exit 1 }' $T/gw.csv"

# ---- regressor
R=$DS/diabetes
$LL train --train $R/train.csv --validation $R/validation.csv --test $R/test.csv \
    -H predictor_type=regressor -H epochs=3 >$T/r.log 2>&1
for re in \
    '#quality_metric: host=\S+, epoch=\S+, train mse_objective <loss>=(\S+)' \
    '#early_stopping_criteria_metric: host=\S+, epoch=\S+, criteria=mse_objective, value=(\S+)' \
    '#quality_metric: host=\S+, test mse <loss>=(\S+)' \
    '#quality_metric: host=\S+, test absolute_loss <loss>=(\S+)' \
    '#quality_metric: host=\S+, validation rmse <loss>=(\S+)' \
    '#quality_metric: host=\S+, validation mse_objective <loss>=(\S+)' \
    "#test_score \(algo-1\) : \('mse', (\S+)\)"; do
    check "regressor log: $re" scrape "$re" $T/r.log
done

# ---- sparse LIBSVM
S=$DS/sparse_synthetic
head -2000 $S/train.libsvm >$T/s.libsvm
check "sparse libsvm trains" sh -c "$LL train --train $T/s.libsvm --index-base 0 -H predictor_type=binary_classifier -H feature_dim=10000 -H epochs=2 -H num_models=4 --metrics-json $T/s.json >$T/s.log 2>&1 && grep -q '\"feature_dim\": \"10000\"' $T/s.json"

# ---- the selection channel's final metrics: from the selection pass (default) or a pass of their own
$LL train --train $B/train.csv -H predictor_type=binary_classifier -H epochs=3 --metrics-json $T/fold.json >/dev/null 2>&1
$LL train --train $B/train.csv -H predictor_type=binary_classifier -H epochs=3 --exact-final-metrics --metrics-json $T/exact.json >/dev/null 2>&1
check "--exact-final-metrics: the same selected model and threshold, metrics within 1e-6" /usr/bin/python3 -c "
import json, sys
a, b = json.load(open('$T/fold.json')), json.load(open('$T/exact.json'))
assert a['selected_model'] == b['selected_model'], (a['selected_model'], b['selected_model'])
assert a['metrics'].keys() == b['metrics'].keys()
for k in a['metrics']:
    x, y = a['metrics'][k], b['metrics'][k]
    assert abs(x - y) <= 1e-6 * max(1.0, abs(y)), (k, x, y)
"

# ---- bad hyperparameters: exit 2 naming name, value and range, before the data is read
NOPE=$T/does-not-exist.csv
check_fails "unknown name" 2 "unknown hyperparameter 'mini_batch_siz'" $LL train --train $NOPE -H predictor_type=regressor -H mini_batch_siz=5
check_fails "out of range" 2 "beta_1: invalid value '1.5' (valid: auto or a number in .0, 1))" $LL train --train $NOPE -H predictor_type=regressor -H beta_1=1.5
check_fails "not a number" 2 "epochs: invalid value 'abc' (valid: an integer >= 1)" $LL train --train $NOPE -H predictor_type=regressor -H epochs=abc
check_fails "num_classes for multiclass" 2 "num_classes: invalid value '2' for a multiclass_classifier (valid: an integer in .3, 1000000.)" $LL train --train $NOPE -H predictor_type=multiclass_classifier -H num_classes=2
check_fails "bad enum" 2 "optimizer: invalid value 'adamw'" $LL train --train $NOPE -H predictor_type=regressor -H optimizer=adamw
check_fails "loss not allowed for the type" 2 "loss: invalid value 'hinge_loss' for a regressor" $LL train --train $NOPE -H predictor_type=regressor -H loss=hinge_loss
check_fails "predictor_type required" 2 "predictor_type is required" $LL train --train $NOPE
check_fails "missing data after good hyperparameters" 3 "does-not-exist.csv" $LL train --train $NOPE -H predictor_type=regressor

# ---- warm start: a mismatched initial model is refused before the data is read
check_fails "initial model of another predictor type" 2 "the initial model is a binary_classifier, but predictor_type is regressor" $LL train --train $NOPE --initial-model $T/bm/model.tar.gz -H predictor_type=regressor
check "initial model: continues the binary model" sh -c "$LL train --train $B/train.csv --initial-model $T/bm/model.tar.gz -H predictor_type=binary_classifier -H epochs=1 >$T/warm.log 2>&1 && grep -q 'Starting every model from the initial model' $T/warm.log"
finish
