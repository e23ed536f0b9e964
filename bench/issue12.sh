#!/bin/sh
# bench/issue12.sh - the whole `linlearn train` process beside scikit-learn's SGDClassifier.fit
# (one model, one epoch, data already in memory: the baseline is measured in the same run), and
# CSV->RecordIO (`linlearn convert`) beside the SageMaker SDK's Python way (bench/sdk_writer.py)
# on a CSV printed with %.9g. Data: ../shared/bench/gen_data.c (BENCH_DATA_DIR overrides where
# it is looked for; the script says so and stops when it is absent).
#   train rows: RecordIO input, epochs=1, no validation channel, --threads BENCH_THREADS
#     whole-s   the whole process (wall clock)          epoch-s  the training pass alone
#     finish-s  after the epoch: selection, calibration, final metrics, writing the model
#     fit-s     sklearn SGDClassifier(log_loss, max_iter=1, tol=None).fit on the same rows
#     ratio     fit-s / whole-s (the issue's targets: >= 1 with one model; with 32, >= 1 dense
#               and >= 0.5 sparse)
#     ep-ratio  fit-s / epoch-s (the training pass alone beside the same fit)
#     fin/ep    finish-s / epoch-s (the issue's target: <= 0.5)
#   convert row: MB/s of CSV with --threads BENCH_THREADS and with --threads 1, and the ratios to
#     the Python writer (target >= 20)
# Usage: sh bench/issue12.sh   (BENCH_DENSE_ROWS=500000, BENCH_SPARSE_ROWS=300000,
#                               BENCH_THREADS=0: all cores (train and convert), BENCH_REPS=3: best of,
#                               BENCH_CONVERT=0: the train rows only, BENCH_CONVERT_ONLY=1: the convert row only,
#                               BENCH_IDLE=S: S seconds idle before each train run, so it starts as a
#                               first run does, not on memory the previous run just freed)
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
LL=$BUILD/linlearn
DR=${BENCH_DENSE_ROWS:-500000}
SR=${BENCH_SPARSE_ROWS:-300000}
TH=${BENCH_THREADS:-0}
REPS=${BENCH_REPS:-3}
IDLE=${BENCH_IDLE:-0}
PY=${BENCH_PYTHON:-/usr/bin/python3}
GEN=${GEN_DATA:-${BENCH_DATA_DIR:-../shared/bench}/gen_data.c}
[ -x "$LL" ] || { echo "bench/issue12.sh: build first (make)" >&2; exit 2; }
[ -s "$GEN" ] || { echo "bench/issue12.sh: $GEN is absent (set BENCH_DATA_DIR)" >&2; exit 2; }
N=$((DR > SR ? DR : SR))
D=bench/data/issue12-$N
OUT=bench/out/issue12
mkdir -p "$D" "$OUT"
if [ ! -s "$D/dense.csv" ] || [ ! -s "$D/sparse.libsvm" ]; then
    cc -O2 -o bench/data/gen_data "$GEN" -lm
    echo "generating $N rows into $D ..."
    (cd "$D" && ../gen_data . "$N" >/dev/null)
    rm -f "$D/dense.vw" "$D/sparse.vw" "$D/dense.libsvm"
fi
[ -s "$D/d.csv" ] || head -n "$DR" "$D/dense.csv" >"$D/d.csv"
[ -s "$D/s.libsvm" ] || head -n "$SR" "$D/sparse.libsvm" >"$D/s.libsvm"
[ -s "$D/d.pbr" ] || "$LL" convert "$D/d.csv" "$D/d.pbr" >/dev/null 2>&1
[ -s "$D/s.pbr" ] || "$LL" convert --feature-dim 100000 "$D/s.libsvm" "$D/s.pbr" >/dev/null 2>&1
now() { date +%s.%N; }

idle_note=""
[ "$IDLE" = 0 ] || idle_note=", $IDLE s idle before each train run"
echo "linlearn $(git rev-parse --short HEAD 2>/dev/null), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)$idle_note"
printf '%-30s %8s %8s %8s %8s %8s %8s %8s\n' run whole-s epoch-s finish-s fin/ep fit-s ratio ep-ratio
fit() { # KIND FILE: sklearn fit seconds (best of REPS)
    "$PY" - "$1" "$2" "$REPS" <<'PYEOF'
import sys, time, warnings
import numpy as np
from sklearn.linear_model import SGDClassifier
from sklearn.datasets import load_svmlight_file
kind, path, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
if kind == "dense":
    a = np.loadtxt(path, delimiter=",", dtype=np.float32)
    X, y = a[:, 1:], a[:, 0]
else:
    X, y = load_svmlight_file(path, n_features=100000, dtype=np.float32)
    y = (y > 0).astype(np.float64)
warnings.simplefilter("ignore")
best = 1e9
for r in range(reps):
    clf = SGDClassifier(loss="log_loss", max_iter=1, tol=None, random_state=0)
    t = time.time(); clf.fit(X, y); best = min(best, time.time() - t)
print("%.4f" % best)
PYEOF
}
ours() { # NAME FILE DIM K FITSECONDS
    best=""
    for r in $(seq "$REPS"); do
        [ "$IDLE" = 0 ] || sleep "$IDLE"
        t0=$(now)
        "$LL" train --train "$2" --threads "$TH" -H predictor_type=binary_classifier \
            -H feature_dim="$3" -H epochs=1 -H num_models="$4" --model-dir "$OUT/model" \
            >"$OUT/train.log" 2>&1
        t1=$(now)
        line=$(perl -ne '/initialize.time".*?"sum": ([\d.]+).*update.time".*?"sum": ([\d.]+).*totaltime".*?"sum": ([\d.]+)/ and printf "%.4f %.4f", $2 / 1000, ($3 - $1 - $2) / 1000' "$OUT/train.log")
        w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
        best=$(printf '%s\n%s %s\n' "$best" "$w" "$line" | awk 'NF == 3' | sort -n | head -1)
    done
    echo "$best" | awk -v n="$1" -v f="$5" '{ printf "%-30s %8.3f %8.3f %8.3f %8.2f %8.3f %8.2f %8.2f\n", n, $1, $2, $3, $3 / $2, f, f / $1, f / $2 }'
}
if [ -z "${BENCH_CONVERT_ONLY:-}" ]; then
    fd=$(fit dense "$D/d.csv")
    fs=$(fit sparse "$D/s.libsvm")
    ours "dense $DR x 100, 1 model" "$D/d.pbr" 100 1 "$fd"
    ours "dense $DR x 100, 32 models" "$D/d.pbr" 100 32 "$fd"
    ours "sparse $SR x 100k, 1 model" "$D/s.pbr" 100000 1 "$fs"
    ours "sparse $SR x 100k, 32 models" "$D/s.pbr" 100000 32 "$fs"
fi

# CSV -> RecordIO on a %.9g CSV
[ "${BENCH_CONVERT:-1}" = 0 ] && exit 0
[ -s "$D/d9.csv" ] || { cc -O2 -o "$OUT/print9g" bench/print9g.c && "$OUT/print9g" <"$D/d.csv" >"$D/d9.csv"; }
mb=$(($(wc -c <"$D/d9.csv") / 1000000))
cat "$D/d9.csv" >/dev/null
convert_best() { # THREADS: best seconds of REPS conversions (the output is left in c.pbr)
    best=1e9
    for r in $(seq "$REPS"); do
        t0=$(now); "$LL" convert --threads "$1" "$D/d9.csv" "$OUT/c.pbr" >/dev/null 2>&1; t1=$(now)
        best=$(awk -v a="$t0" -v b="$t1" -v c="$best" 'BEGIN { d = b - a; print d < c ? d : c }')
    done
    echo "$best"
}
one=$(convert_best 1)
cp "$OUT/c.pbr" "$OUT/c1.pbr"
best=$(convert_best "$TH")
py=$("$PY" bench/sdk_writer.py "$D/d9.csv" "$OUT/py.pbr")
cmp -s "$OUT/c.pbr" "$OUT/py.pbr" && cmp -s "$OUT/c1.pbr" "$OUT/py.pbr" && same="same bytes" || same="DIFFERENT bytes"
awk -v n="$mb" -v a="$best" -v o="$one" -v p="$py" -v s="$same" -v th="$TH" 'BEGIN {
    printf "CSV->RecordIO (%%.9g, %d MB): linlearn --threads %s %.3f s (%.0f MB/s; --threads 1 %.3f s, %.0f MB/s), SDK-style Python %.2f s (%.1f MB/s): %.1fx (one thread %.1fx), %s\n",
        n, th, a, n / a, o, n / o, p, n / p, p / a, p / o, s }'
rm -f "$OUT/c.pbr" "$OUT/c1.pbr" "$OUT/py.pbr"
