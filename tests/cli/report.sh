# SPDX-License-Identifier: Apache-2.0
# The training report as a person sees it: `train --report` and `linlearn report` write a
# self-contained page whose pictures draw the run's numbers (report_check.py maps SVG points
# back to values), headless Chromium renders it to a PNG that is not blank and shows the curves;
# the metrics JSON records the history the page needs.
. tests/cli/lib.sh
NAME=cli_report
DS=$TD/datasets
PY=/usr/bin/python3
RC="$PY tests/cli/report_check.py"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

# ---- binary classifier, three channels: train --report and linlearn report
B=$DS/breast_cancer
$LL train --train $B/train.csv --validation $B/validation.csv --test $B/test.csv \
    -H predictor_type=binary_classifier -H feature_dim=30 -H epochs=6 --log-format sagemaker \
    --metrics-json $T/b.json --report $T/b.html >$T/b.log 2>$T/b.err
check "binary: train --report writes the page" test -s $T/b.html
check "binary: the metrics JSON has the history" \
    $PY -c "import json,sys; h=json.load(open('$T/b.json'))['history']; sys.exit(not (len(h['models'])==32 and h['epochs'] and 'roc' in h['channels']['validation'] and len(h['channels']['test']['roc']['fpr'])<=200))"
check "binary: the pictures draw the run's numbers" $RC html $T/b.json $T/b.html $T/b.log
check "binary: linlearn report writes the same page" $LL report $T/b.json $T/b2.html
check "binary: same sections from linlearn report" sh -c "grep -c '<svg' $T/b.html >$T/n1; grep -c '<svg' $T/b2.html >$T/n2; cmp $T/n1 $T/n2"
check "binary: sections present" sh -c "for s in curves models roc confusion facts metrics; do grep -q \"<section id=\\\"\$s\\\"\" $T/b2.html || exit 1; done"

# ---- rendered by a browser, as a person opens it
if [ -x "$CHROMIUM" ]; then
    ck() { timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --user-data-dir=$T/chrome "$@" 2>/dev/null; }
    # half scale: the same layout, a quarter of the pixels to decode
    ck --force-device-scale-factor=0.5 --window-size=1200,4600 --screenshot=$T/b.png \
        file://$T/b.html >/dev/null
    check "chromium renders the page to a PNG" test -s $T/b.png
    check "the rendered page is not blank and shows the curves" $RC png $T/b.png
    ck --window-size=390,7000 --screenshot=$T/phone.png file://$T/b.html >/dev/null
    check "a phone-width rendering is not blank" $RC png $T/phone.png
else
    skip "chromium renders the page" "no $CHROMIUM (scripts/install-deps installs it)"
fi

# ---- multiclass: confusion matrix; regressor: predicted vs actual from the test channel
D=$DS/digits
$LL train --train $D/train.csv --validation $D/validation.csv --test $D/test.csv \
    -H predictor_type=multiclass_classifier -H num_classes=10 -H epochs=3 -H num_models=4 \
    --metrics-json $T/m.json --report $T/m.html >/dev/null 2>&1
check "multiclass: the page and its confusion matrices" $RC html $T/m.json $T/m.html
R=$DS/diabetes
$LL train --train $R/train.csv --validation $R/validation.csv --test $R/test.csv \
    -H predictor_type=regressor -H epochs=4 \
    --metrics-json $T/r.json --report $T/r.html >/dev/null 2>&1
check "regressor: the page and its test-channel scatter" $RC html $T/r.json $T/r.html
check "regressor: residuals drawn" grep -q 'class="residuals"' $T/r.html
if [ -x "$CHROMIUM" ]; then
    ck --force-device-scale-factor=0.5 --window-size=1200,3400 --screenshot=$T/r.png \
        file://$T/r.html >/dev/null
    check "regressor: rendered page shows its pictures" $RC png $T/r.png
fi

# ---- a train channel only: curves without validation, threshold tuned on train
$LL train --train $B/train.csv -H predictor_type=binary_classifier -H epochs=2 -H num_models=3 \
    --metrics-json $T/t.json --report $T/t.html >/dev/null 2>&1
check "train channel only: the page draws its numbers" $RC html $T/t.json $T/t.html

# ---- bad input
printf 'not json' >$T/bad.json
check_fails "report of a non-JSON file is bad data naming it" 1 "bad.json" $LL report $T/bad.json $T/x.html
check_fails "report of a missing file is an I/O error naming it" 3 "nope.json" $LL report $T/nope.json $T/x.html
echo '{"a": 1}' >$T/other.json
check_fails "report of another JSON document says what it expected" 1 "hyperparameters" $LL report $T/other.json $T/x.html
check "no partial page left behind" test ! -e $T/x.html
check_fails "report needs two arguments" 2 "METRICS.json" $LL report $T/b.json
finish
