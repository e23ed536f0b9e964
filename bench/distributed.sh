#!/bin/sh
# bench/distributed.sh - training across hosts on this machine (docs/DISTRIBUTED.md): rows/s and
# time per step for 1 (a plain process, the baseline), 2 and 4 ranks under mpirun on loopback,
# with the time per step spent in collectives (algo-1's MPI_Allreduce and friends, waiting for
# the slowest rank included) apart from the rest. The ranks share this machine's cores, so the
# figure to read is communication per step, not the speed-up. Data: DIST_ROWS rows (default
# 40000) x DIST_D dense features (default 200), generated here; DIST_K models (default 32).
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
LL=$PWD/$BUILD/linlearn
ROWS=${DIST_ROWS:-40000}
D=${DIST_D:-200}
K=${DIST_K:-32}
MBS=${DIST_MBS:-1000}
if ! command -v mpirun >/dev/null 2>&1; then
    echo "bench/distributed: mpirun is not installed (scripts/install-deps): skipped"; exit 0
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=bench/out/distributed
mkdir -p "$out"
/usr/bin/python3 - "$out/train.csv" "$ROWS" "$D" <<'EOF'
import sys, numpy as np
path, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(7)
X = rng.standard_normal((n, d)).astype(np.float32)
w = rng.standard_normal(d)
y = (X @ w + rng.standard_normal(n) > 0).astype(np.float32)
np.savetxt(path, np.column_stack([y, X]), delimiter=",", fmt="%.6g")
EOF
ARGS="--train $out/train.csv -H predictor_type=binary_classifier -H epochs=2 -H num_models=$K
      -H mini_batch_size=$MBS --log-format sagemaker"
bytes=$(( (D * (K + 1) + K + 3) * 4 ))
echo "rows $ROWS, $D dense features, $K models, mini_batch_size $MBS: $bytes bytes allreduced a step"
printf '%-8s %12s %12s %14s %14s %10s\n' ranks rows/s ms/step comm-ms/step compute-ms/step vs-1
base=""
for n in 1 2 4; do
    if [ $n = 1 ]; then
        "$LL" train $ARGS --metrics-json "$out/m$n.json" > "$out/log$n" 2>&1
    else
        mpirun --oversubscribe --bind-to none -np $n "$LL" train $ARGS --metrics-json "$out/m$n.json" \
            > "$out/log$n" 2>&1
    fi
    line=$(/usr/bin/python3 - "$out/m$n.json" "$ROWS" "$MBS" <<'EOF'
import json, sys, math
m = json.load(open(sys.argv[1])); rows, mbs = int(sys.argv[2]), int(sys.argv[3])
d = m.get("distributed", {})
steps = d.get("steps") or m["epochs_completed"] * math.ceil(rows / mbs)
ts = d.get("train_seconds") or (m["epochs_completed"] * rows / m["rows_per_second"])
cs = d.get("comm_seconds", 0.0)
rps = m["epochs_completed"] * rows / ts
print("%.0f %.3f %.3f %.3f" % (rps, 1000 * ts / steps, 1000 * cs / steps, 1000 * (ts - cs) / steps))
EOF
)
    set -- $line
    [ -n "$base" ] || base=$1
    printf '%-8s %12s %12s %14s %14s %9.2fx\n' $n $1 $2 $3 $4 "$(echo "$1 / $base" | bc -l)"
done
