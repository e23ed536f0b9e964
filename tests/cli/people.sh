# SPDX-License-Identifier: Apache-2.0
# What a newcomer sees: the people's log of `train` (golden, numbers normalised), SageMaker's
# lines kept behind --log-format sagemaker / --log-file, the progress line on a terminal only
# (run under a pseudo-terminal with script(1)), and the messages for the usual first mistakes.
. tests/cli/lib.sh
NAME=cli_people
B=$TD/datasets/breast_cancer
TRAIN="--train $B/train.csv --validation $B/validation.csv --test $B/test.csv -H predictor_type=binary_classifier -H epochs=4"
# normalise: every number becomes N, runs of spaces one, the temp folder MODEL
norm() { sed -E "s#$T/?#MODEL/#g; s/-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?[kMG]?/N/g" "$1" | tr -s ' ' | uniq; }
# pty CMD: runs CMD with stdin/stdout/stderr on a pseudo-terminal, output to $T/pty.out
pty() { script -qfec "$1" /dev/null >$T/pty.out 2>&1 </dev/null; }

# ---- the people's log
$LL train $TRAIN --log-format people --model-dir $T --metrics-json $T/m.json --report $T/r.html \
    --log-file $T/sm.log >$T/p.out 2>$T/p.err
norm $T/p.out >$T/p.norm
check "people's log matches the golden run" diff -u tests/cli/golden/train_people.txt $T/p.norm
check "people's log has no metric lines" sh -c "! grep -q '#metrics\|#quality_metric' $T/p.out"
check "one line an epoch" sh -c "[ \$(grep -c '^epoch ' $T/p.out) -eq \$(/usr/bin/python3 -c \"import json; print(json.load(open('$T/m.json'))['epochs_completed'])\") ]"
check "people's log names the selected model of the metrics file" \
    sh -c "grep -q \"Selected model \$(/usr/bin/python3 -c \"import json; print(json.load(open('$T/m.json'))['selected_model']['index'])\") of 32\" $T/p.out"
check "--log-file keeps SageMaker's lines" sh -c "grep -q '#quality_metric: host=algo-1, epoch=0, train binary_classification_cross_entropy_objective <loss>=' $T/sm.log && grep -q '#test_score (algo-1)' $T/sm.log && grep -q '#metrics {\"Metrics\"' $T/sm.log"
check "no warning with --model-dir" sh -c "! grep -q warning $T/p.err"
$LL train $TRAIN --log-format people >$T/n.out 2>$T/n.err
check "without --model-dir: a warning on stderr" grep -q "warning: no --model-dir" $T/n.err
check "without --model-dir: the log says so" grep -q "model not written (no --model-dir)" $T/n.out
$LL train $TRAIN --log-format sagemaker --model-dir $T/sm >$T/s.out 2>/dev/null
check "--log-format sagemaker: SageMaker's lines on stdout" grep -q '#quality_metric: host=algo-1, test roc_auc_score <score>=' $T/s.out
check "--log-format sagemaker: no people's lines" sh -c "! grep -q '^epoch \|^Selected model' $T/s.out"
$LL train $TRAIN --model-dir $T/pipe >$T/d.out 2>/dev/null
check "stdout not a terminal: SageMaker's lines by default" grep -q '#early_stopping_criteria_metric: host=algo-1, epoch=0' $T/d.out

# ---- on a terminal
if command -v script >/dev/null 2>&1; then
    pty "$LL train $TRAIN --model-dir $T/tty"
    check "terminal: the people's log by default" grep -q '^epoch   1/4' $T/pty.out
    check "terminal: no metric lines" sh -c "! grep -q '#metrics' $T/pty.out"
    check "terminal: a progress line redrawn in place" grep -q "$(printf '\r')$(printf '\033')\[Ktrain: " $T/pty.out
    pty "$LL train $TRAIN --model-dir $T/tty --no-progress"
    check "terminal: --no-progress draws none" sh -c "! grep -q 'train: ' $T/pty.out"
    pty "$LL convert $B/train.csv $T/c.pbr"
    check "terminal: convert shows bytes, percent and rows" grep -q "convert: .* of .* (.*%), .* rows" $T/pty.out
    pty "$LL predict --model $T/model.tar.gz --label-column 0 $B/test.csv $T/pred.jsonl"
    check "terminal: predict shows its progress" grep -q "predict: .* rows" $T/pty.out
    # local-job: the container child draws the training progress on the terminal it inherits
    printf '{"TrainingJobName": "jp", "AlgorithmSpecification": {"TrainingInputMode": "File"}, "HyperParameters": {"predictor_type": "binary_classifier", "epochs": "3"}, "InputDataConfig": [{"ChannelName": "train", "InputMode": "File", "ContentType": "text/csv", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "%s"}}}], "OutputDataConfig": {"S3OutputPath": "%s"}, "ResourceConfig": {"InstanceCount": 1}}\n' "$B/train.csv" "$T/jout" >$T/job.json
    pty "$LL local-job --job $T/job.json"
    check "terminal: local-job shows the training progress" grep -q "$(printf '\033')\[Ktrain: .*%" $T/pty.out
    check "terminal: local-job keeps SageMaker's lines" grep -q '#quality_metric: host=algo-1, epoch=0' $T/pty.out
    pty "$LL convert --no-progress $B/train.csv $T/c2.pbr"
    check "terminal: convert --no-progress draws none" sh -c "! grep -q 'convert: .* rows' $T/pty.out"
else
    skip "progress under a pseudo-terminal" "no script(1) (bsdutils)"
fi
mkdir -p $T/pd
$LL pipe --progress --dir $T/pd --channel train=$B/train.csv 2>$T/pipe.err &
pp=$!
wait_for_fifo() { i=0; while [ ! -p "$1" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done; }
wait_for_fifo $T/pd/train_0
cat $T/pd/train_0 >$T/fed.csv
wait $pp
check "pipe feeds the FIFO" cmp $T/fed.csv $B/train.csv
check "pipe --progress: bytes fed and percent" grep -q "pipe: .* of .* (.*%)" $T/pipe.err
$LL convert $B/train.csv $T/c3.pbr 2>$T/c.err
check "not a terminal: no progress line" sh -c "! grep -q \"\$(printf '\r')\" $T/c.err"
$LL convert --progress $B/train.csv $T/c4.pbr 2>$T/c.err
check "--progress forces it" grep -q "convert: " $T/c.err

# ---- messages for the usual first mistakes (each once, with a suggestion)
check_fails "a mistyped command: did you mean" 2 "unknown command 'convrt'; did you mean 'convert'?" $LL convrt a b
check_fails "a mistyped option: did you mean" 2 "unknown option '--form'; did you mean '--from'?" $LL convert --form csv a b
check "the unknown option is reported once" sh -c "[ \$(grep -c 'unknown\|unrecognized' $T/.err) -eq 1 ]"
check_fails "a mistyped hyperparameter: did you mean" 2 "unknown hyperparameter 'epoch'; did you mean 'epochs'?" $LL train --train $B/train.csv -H epoch=3 -H predictor_type=binary_classifier
check_fails "an option missing its value" 2 "option '--train' needs a value" $LL train --train
check_fails "multiclass without num_classes says it is required" 2 "num_classes is required" $LL train --train $B/train.csv -H predictor_type=multiclass_classifier
check_fails "a missing --hyperparameters file is an I/O error naming it" 3 "$T/none.json" $LL train --train $B/train.csv --hyperparameters $T/none.json
check_fails "predict with the label column left in: hint" 1 "label-column 0" $LL predict --model $T/model.tar.gz $B/test.csv $T/x.json
$LL train --help >$T/h.out
check "train --help lists hyperparameters" grep -q "predictor_type (required)" $T/h.out
check "train --help names the container mode" grep -q -- "--sagemaker" $T/h.out
$LL train --list-hyperparameters >$T/l.out
check "--list-hyperparameters lists every name with its default" sh -c "grep -q '^epochs  *15 ' $T/l.out && grep -q '^predictor_type  *(required)' $T/l.out && ! grep -q '^_' $T/l.out"
# ---- the README's "Try it by hand" block runs as written (outputs redirected to the temp folder)
awk '/^### Try it by hand/ {f = 1} f && /^```sh/ {c = 1; next} c && /^```/ {exit} c' README.md |
    sed "s#build/quickstart#$T/qs#g; s#^export PATH=.*#export PATH=$(dirname "$LL"):\$PATH#" >$T/try.sh
check "the README's Try-it block is there" grep -q "linlearn train" $T/try.sh
check "the README's Try-it block runs as written" sh -e $T/try.sh
check "... and writes the report" test -s $T/qs/report.html
check "every command has a man page" sh -c "for c in \$($LL --help | awk '/^  [a-z]/ {print \$1}'); do test -s docs/man/ll-\$c.1.md || { echo \"no docs/man/ll-\$c.1.md\"; exit 1; }; done"
finish
