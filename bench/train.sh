#!/bin/sh
# bench/train.sh - training speed and accuracy of `linlearn train` beside scikit-learn's
# SGDClassifier and LIBLINEAR (when installed: scripts/install-deps --bench), on the data of
# ../shared/bench/gen_data.c: 1,000,000 x 100 dense binary rows and 1,000,000 sparse rows of
# 100,000 hashed buckets. gen_data is run (default seed) for BENCH_ROWS + BENCH_TEST rows; the
# first BENCH_ROWS rows train, the last BENCH_TEST rows (same generating model) test.
# For each input (CSV / LIBSVM, and RecordIO-protobuf) and num_models 1 and 32, one
# `linlearn train` with epochs=1 and a test channel: whole-process seconds, the epoch's seconds
# and rows/s (the training pass alone, from --metrics-json), and test accuracy.
# Usage: sh bench/train.sh   (BENCH_ROWS, BENCH_TEST, BENCH_THREADS, BENCH_SKIP_REF=1)
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
LL=$BUILD/linlearn
ROWS=${BENCH_ROWS:-1000000}
TEST=${BENCH_TEST:-100000}
ALL=$((ROWS + TEST))
GEN=${GEN_DATA:-../shared/bench/gen_data.c}
SRC=bench/data/$ALL
D=bench/data/train-$ROWS
OUT=bench/out
THREADS=${BENCH_THREADS:-0}
mkdir -p "$SRC" "$D" "$OUT"
[ -x "$LL" ] || { echo "bench/train.sh: build first (make)" >&2; exit 2; }

if [ ! -s "$SRC/truth.txt" ] || [ ! -s "$SRC/sparse.libsvm" ]; then
    cc -O2 -o bench/data/gen_data "$GEN" -lm
    echo "generating $ALL rows into $SRC ..."
    (cd "$SRC" && ../gen_data . "$ALL")
    rm -f "$SRC/dense.vw" "$SRC/sparse.vw"
fi
split_file() { # IN TRAIN TEST
    [ -s "$2" ] && [ -s "$3" ] && return 0
    head -n "$ROWS" "$1" >"$2"
    tail -n "$TEST" "$1" >"$3"
}
split_file "$SRC/dense.csv" "$D/dense.csv" "$D/dense_test.csv"
split_file "$SRC/sparse.libsvm" "$D/sparse.libsvm" "$D/sparse_test.libsvm"
[ -s "$D/dense.pbr" ] || "$LL" convert "$D/dense.csv" "$D/dense.pbr" >/dev/null
[ -s "$D/sparse.pbr" ] || "$LL" convert --feature-dim 100000 "$D/sparse.libsvm" "$D/sparse.pbr" >/dev/null

now() { date +%s.%N; }
num() { # FILE KEY: a number from the metrics JSON
    perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or exit 1; my $j = decode_json(<$f>);
        my $v = $j; for (split /\//, $ARGV[1]) { $v = $v->{$_} } print defined $v ? $v : "nan"' "$1" "$2"
}
printf '%-34s %8s %9s %12s %9s\n' "run (epochs=1, test channel)" "whole s" "epoch s" "rows/s" "test acc"
ours() { # NAME TRAIN TEST K DIM [args]
    name=$1 tr=$2 te=$3 k=$4 dim=$5
    shift 5
    t0=$(now)
    "$LL" train --train "$tr" --test "$te" --threads "$THREADS" "$@" \
        -H predictor_type=binary_classifier -H feature_dim="$dim" -H epochs=1 -H num_models="$k" \
        --metrics-json "$OUT/train_m.json" >"$OUT/train.log" 2>&1
    t1=$(now)
    rps=$(num "$OUT/train_m.json" rows_per_second)
    acc=$(num "$OUT/train_m.json" 'metrics/test:binary_classification_accuracy')
    awk -v n="$name" -v a="$t0" -v b="$t1" -v r="$rps" -v c="$acc" -v rows="$ROWS" \
        'BEGIN { printf "%-34s %8.2f %9.2f %12.0f %9.4f\n", n, b - a, rows / r, r, c }'
}
for k in 1 32; do
    ours "linlearn dense CSV, $k models" "$D/dense.csv" "$D/dense_test.csv" $k 100
    ours "linlearn dense RecordIO, $k models" "$D/dense.pbr" "$D/dense_test.csv" $k 100
done
for k in 1 32; do
    ours "linlearn sparse LIBSVM, $k models" "$D/sparse.libsvm" "$D/sparse_test.libsvm" $k 100000
    ours "linlearn sparse RecordIO, $k models" "$D/sparse.pbr" "$D/sparse_test.libsvm" $k 100000
done
[ -n "$BENCH_SKIP_REF" ] && exit 0

PY=${BENCH_PYTHON:-/usr/bin/python3}
if "$PY" -c "import sklearn" 2>/dev/null; then
    for set in dense sparse; do
        if [ $set = dense ]; then tr=$D/dense.csv te=$D/dense_test.csv; else tr=$D/sparse.libsvm te=$D/sparse_test.libsvm; fi
        "$PY" - "$set" "$tr" "$te" <<'EOF'
import sys, time
import numpy as np
from sklearn.linear_model import SGDClassifier
from sklearn.datasets import load_svmlight_file
kind, tr, te = sys.argv[1:4]
def load(p):
    if kind == "dense":
        a = np.loadtxt(p, delimiter=",", dtype=np.float32)
        return a[:, 1:], a[:, 0]
    X, y = load_svmlight_file(p, n_features=100000, dtype=np.float32)
    return X, (y > 0).astype(np.float64)
t = time.time(); X, y = load(tr); tl = time.time() - t
Xt, yt = load(te)
clf = SGDClassifier(loss="log_loss", max_iter=1, tol=None, random_state=0)
import warnings; warnings.simplefilter("ignore")
t = time.time(); clf.fit(X, y); tf = time.time() - t
acc = (clf.predict(Xt) == yt).mean()
name = "sklearn SGDClassifier %s (fit)" % kind
print("%-34s %8.2f %9.2f %12.0f %9.4f   (loading took %.1f s)" % (name, tf, tf, len(y) / tf, acc, tl))
EOF
    done
else
    echo "scikit-learn not installed (scripts/install-deps --bench): skipped"
fi
if command -v liblinear-train >/dev/null 2>&1; then
    [ -s "$D/dense.libsvm" ] || { head -n "$ROWS" "$SRC/dense.libsvm" >"$D/dense.libsvm"; tail -n "$TEST" "$SRC/dense.libsvm" >"$D/dense_test.libsvm"; }
    for set in dense sparse; do
        t0=$(now)
        liblinear-train -q -s 2 "$D/$set.libsvm" "$OUT/liblinear.model" >/dev/null
        t1=$(now)
        acc=$(liblinear-predict "$D/${set}_test.libsvm" "$OUT/liblinear.model" "$OUT/liblinear.out" | sed -n 's/Accuracy = \([0-9.]*\)%.*/\1/p')
        awk -v n="LIBLINEAR -s 2 $set (whole run)" -v a="$t0" -v b="$t1" -v c="$acc" -v rows="$ROWS" \
            'BEGIN { printf "%-34s %8.2f %9s %12.0f %9.4f\n", n, b - a, "-", rows / (b - a), c / 100 }'
    done
else
    echo "LIBLINEAR not installed (scripts/install-deps --bench): skipped"
fi
