#!/bin/sh
# bench/serve.sh - inference speed, each figure beside a baseline from the same run:
#   predict   rows/s of `linlearn predict` (CSV in, CSV out) on dense.csv (BENCH_ROWS rows,
#             default 1,000,000, label + 100 features), base: `linlearn convert` of the same
#             file to RecordIO (parsing and encoding without scoring)
#   serve     requests/s and p50/p99 latency (wrk, BENCH_CONN connections, BENCH_SECONDS s) for
#             a 1-row and a 1,000-row CSV request, base: GET /ping (HTTP alone)
# The model is trained by `linlearn train` on the first 20,000 rows. Run: sh bench/serve.sh
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=$PWD/$BUILD/linlearn
ROWS=${BENCH_ROWS:-1000000}
SECS=${BENCH_SECONDS:-10}
CONN=${BENCH_CONN:-64}
THREADS=${BENCH_THREADS:-2}
DATA=bench/data/$ROWS
OUT=bench/out/serve
GEN=${GEN_DATA:-../shared/bench/gen_data.c}
mkdir -p "$DATA" "$OUT"
if [ ! -s "$DATA/dense.csv" ]; then
    cc -O2 -o bench/data/gen_data "$GEN" -lm
    echo "generating $ROWS rows into $DATA ..."
    bench/data/gen_data "$DATA" "$ROWS"
    rm -f "$DATA/dense.libsvm" "$DATA/dense.vw" "$DATA/sparse.vw"
fi
SERVER_PID=
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; true' EXIT

head -n 20000 "$DATA/dense.csv" >"$OUT/train.csv"
"$BIN" train --train "$OUT/train.csv" -H predictor_type=binary_classifier -H epochs=1 \
    --threads 1 --model-dir "$OUT/model" >/dev/null 2>&1

now() { date +%s.%N; }
t0=$(now)
"$BIN" convert --from csv --to recordio "$DATA/dense.csv" - >/dev/null 2>&1
t1=$(now)
"$BIN" predict --model "$OUT/model" --label-column 0 --content-type text/csv --accept text/csv \
    --threads 1 "$DATA/dense.csv" - >/dev/null
t2=$(now)
base=$(echo "$t0 $t1 $ROWS" | awk '{ printf "%.0f", $3 / ($2 - $1) }')
pred=$(echo "$t1 $t2 $ROWS" | awk '{ printf "%.0f", $3 / ($2 - $1) }')

cut -d, -f2- "$DATA/dense.csv" | head -n 1000 >"$OUT/batch.csv"
head -n 1 "$OUT/batch.csv" >"$OUT/one.csv"
mklua() { # mklua FILE BODYFILE
    {
        echo 'wrk.method = "POST"'
        echo 'wrk.headers["Content-Type"] = "text/csv"'
        echo 'wrk.headers["Accept"] = "application/json"'
        printf 'local f = io.open("%s", "rb")\nwrk.body = f:read("*a")\nf:close()\n' "$2"
    } >"$1"
}
mklua "$OUT/one.lua" "$PWD/$OUT/one.csv"
mklua "$OUT/batch.lua" "$PWD/$OUT/batch.csv"
: >"$OUT/log"
"$BIN" serve --model "$OUT/model" --port 0 --threads "$THREADS" 2>"$OUT/log" &
SERVER_PID=$!
PORT=
while [ -z "$PORT" ]; do
    sleep 0.1
    PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9][0-9]*\).*/\1/p' "$OUT/log")
done
U=http://127.0.0.1:$PORT
run() { # run NAME URL [LUA]
    if [ -n "$3" ]; then s="-s $3"; else s=; fi
    # shellcheck disable=SC2086
    wrk -t2 -c"$CONN" -d"${SECS}s" --latency $s "$2" >"$OUT/$1.txt" 2>&1
    awk -v name="$1" '
        /Requests\/sec/ { rps = $2 }
        $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
        /Non-2xx/ { bad = $NF }
        END { printf "%s %s %s %s %s\n", name, rps, p50, p99, bad ? bad : 0 }' "$OUT/$1.txt"
}
ping=$(run ping "$U/ping")
one=$(run csv_1row "$U/invocations" "$OUT/one.lua")
batch=$(run csv_1000rows "$U/invocations" "$OUT/batch.lua")
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || true
SERVER_PID=

echo "rows: $ROWS  connections: $CONN  server threads: $THREADS  wrk: ${SECS}s"
printf '%-28s %12s %12s %9s %s\n' name base now now/base unit
printf '%-28s %12s %12s %9s %s\n' "predict CSV->CSV" "$base" "$pred" \
    "$(echo "$pred $base" | awk '{ printf "%.2f", $1 / $2 }')" "rows/s (base: convert CSV->RecordIO)"
pr=$(echo "$ping" | awk '{ print $2 }')
for r in "$one" "$batch"; do
    echo "$r" | awk -v base="$pr" '{ printf "%-28s %12.0f %12.0f %9.3f req/s (base: GET /ping); p50 %s p99 %s non-2xx %s\n",
        "serve " $1, base, $2, $2 / base, $3, $4, $5 }'
done
echo "$batch" | awk '{ printf "%-28s %12s %12.0f %9s rows/s through /invocations\n", "serve csv_1000rows rows", "-", $2 * 1000, "-" }'
