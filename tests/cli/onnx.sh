#!/bin/sh
# onnx.sh - `linlearn export --format onnx` for the three predictor types: Debian's python3-onnx
# checker accepts each model with full_check, and onnxruntime-node (tests/onnx, installed by
# scripts/install-deps) scores the test rows within 1e-5 of `linlearn predict`. Also the real
# SageMaker binary artifact exported to ONNX, and a hinge-loss binary model (raw scores).
. tests/cli/lib.sh
NAME=cli_onnx
PY=/usr/bin/python3
DS=$TD/datasets
ORT=$PWD/tests/onnx
if [ ! -d "$ORT/node_modules/onnxruntime-node" ] && command -v npm >/dev/null 2>&1; then
    (cd "$ORT" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >/dev/null 2>&1)
fi
have_ort=0
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    why="node or npm is not installed (scripts/install-deps installs them)"
elif [ ! -d "$ORT/node_modules/onnxruntime-node" ]; then
    check "npm ci in tests/onnx installs onnxruntime-node" false
    why="npm ci in tests/onnx failed"
else
    have_ort=1
fi
have_onnx=0
$PY -c 'import onnx, numpy' 2>/dev/null && have_onnx=1

# model TYPE DATASET HYPERPARAMETERS...: trains a small model on the dataset
model() {
    n=$1; d=$2; shift 2
    $LL train --train $DS/$d/train.csv -H epochs=3 "$@" --model-dir $T/$n >/dev/null 2>&1
}
model bin breast_cancer -H predictor_type=binary_classifier -H feature_dim=30
model hinge breast_cancer -H predictor_type=binary_classifier -H feature_dim=30 -H loss=hinge_loss
model mc digits -H predictor_type=multiclass_classifier -H num_classes=10 -H feature_dim=64
model reg diabetes -H predictor_type=regressor -H feature_dim=10
cp $TD/sagemaker/models/titanic-binary-2018/model.tar.gz $T/sm.tar.gz
printf '1,2,3,4,5\n-1,0.5,0,2,-3\n0,0,0,0,0\n0.5,-0.25,1,1,1\n' >$T/sm.csv
cut -d, -f2- $DS/breast_cancer/test.csv >$T/bin.csv
cp $T/bin.csv $T/hinge.csv
cut -d, -f2- $DS/digits/test.csv >$T/mc.csv
cut -d, -f2- $DS/diabetes/test.csv >$T/reg.csv

for n in bin hinge mc reg sm; do
    m=$T/$n
    [ $n = sm ] && m=$T/sm.tar.gz
    check "$n: export --format onnx" $LL export --format onnx $m $T/$n.onnx
    check "$n: predict" $LL predict --model $m --accept application/jsonlines $T/$n.csv $T/$n.jsonl
    if [ $have_onnx = 1 ]; then
        check "$n: onnx.checker full_check" $PY -c '
import onnx, sys
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
ops = [n.op_type for n in m.graph.node]
assert ops[:2] == ["MatMul", "Add"], ops
assert m.opset_import[0].version == 13
' $T/$n.onnx
    else
        skip "$n: onnx.checker full_check" "Debian's python3-onnx is not installed"
    fi
    if [ $have_ort = 1 ]; then
        if node $ORT/score.js $T/$n.onnx $T/$n.csv >$T/$n.ort 2>$T/$n.ort.err; then
            check "$n: onnxruntime scores within 1e-5 of linlearn" $PY -c '
import json, sys
ll = [json.loads(l) for l in open(sys.argv[1])]
ort = [l.strip().split(",") for l in open(sys.argv[2])]
assert len(ll) == len(ort) > 0, (len(ll), len(ort))
worst = 0.0
for a, b in zip(ll, ort):
    s = a["score"] if isinstance(a["score"], list) else [a["score"]]
    t = [float(v) for v in b[1:]]
    assert len(s) == len(t), (s, t)
    for x, y in zip(s, t):
        worst = max(worst, abs(x - y) / max(1.0, abs(x)))
    want = a.get("predicted_label", a["score"])  # a regressor predicts its score
    assert float(want) == float(b[0]) or sys.argv[3] == "reg", (a, b)
assert worst <= 1e-5, worst
print("worst relative difference", worst)
' $T/$n.jsonl $T/$n.ort $n
        else
            check "$n: onnxruntime runs the model" sh -c "cat $T/$n.ort.err; false"
        fi
    else
        skip "$n: onnxruntime scores" "$why"
    fi
done
# both labels occur in the binary test rows, so the threshold node is exercised
check "binary: both labels predicted" sh -c "grep -q '\"predicted_label\": 1' $T/bin.jsonl && grep -q '\"predicted_label\": 0' $T/bin.jsonl"
finish
