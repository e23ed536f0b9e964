#!/bin/sh
# bench/serve.sh - inference speed in one table, each figure beside a baseline from the same run:
#
#   predict X->Y   MB/s of input read by `linlearn predict` (one thread) from the benchmark file
#                  (BENCH_ROWS rows, default 1,000,000, 100 dense features; dense.pbr is made
#                  from dense.csv once), output (-) to /dev/null.
#                  base: `linlearn convert` of the same file to RecordIO (decoding and encoding,
#                  no scoring)
#   serve 1-row    requests/s of a 1-row CSV POST /invocations (JSON answer), p50/p99 latency.
#                  base: GET /ping (HTTP alone)
#   serve 1000-row MB/s of request body for a 1,000-row CSV POST /invocations (JSON answer).
#                  base: the same body POSTed to /ping, which reads and drops it (HTTP and body
#                  transfer alone; answered 405)
#
# wrk runs on the same machine: BENCH_THREADS server threads (default 1: wrk takes the other core), wrk -t1 with
# BENCH_CONN connections for 1-row requests (default 16) and BENCH_CONN_BATCH for batches
# (default 4), BENCH_SECONDS per figure (default 5). predict figures are the best of BENCH_REPS
# runs (default 3). The model: `linlearn train` on the first 20,000 rows, binary classifier.
# Run alone: sh bench/serve.sh   (also the last step of `make bench`)
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=$PWD/$BUILD/linlearn
ROWS=${BENCH_ROWS:-1000000}
SECS=${BENCH_SECONDS:-5}
CONN=${BENCH_CONN:-16}
CONN_BATCH=${BENCH_CONN_BATCH:-4}
THREADS=${BENCH_THREADS:-1}
REPS=${BENCH_REPS:-3}
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
HAVE_WRK=1
command -v wrk >/dev/null || HAVE_WRK=
SERVER_PID=
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; true' EXIT

CSV=$DATA/dense.csv
PBR=$OUT/dense.$ROWS.pbr
if [ ! -s "$PBR" ] || [ "$CSV" -nt "$PBR" ]; then
    "$BIN" convert --from csv --to recordio "$CSV" "$PBR" >/dev/null 2>&1
fi
M=$OUT/model.$ROWS
if [ ! -s "$M/model.tar.gz" ] || [ "$CSV" -nt "$M/model.tar.gz" ]; then
    head -n 20000 "$CSV" >"$OUT/train.csv"
    "$BIN" train --train "$OUT/train.csv" -H predictor_type=binary_classifier -H epochs=1 \
        --threads 1 --model-dir "$M" >/dev/null 2>&1
fi

now() { date +%s.%N; }
best() { # best CMD...: the shortest wall time of REPS runs, in seconds
    b=
    i=0
    while [ "$i" -lt "$REPS" ]; do
        t0=$(now)
        "$@" >/dev/null 2>&1
        t1=$(now)
        b=$(echo "$t0 $t1 $b" | awk '{ d = $2 - $1; if ($3 == "" || d < $3) print d; else print $3 }')
        i=$((i + 1))
    done
    echo "$b"
}
conv_pbr_f() { "$BIN" convert --from recordio --to recordio "$PBR" -; }
conv_csv_f() { "$BIN" convert --from csv --to recordio "$CSV" -; }
p_pbr_csv_f() { "$BIN" predict --model "$M" --threads 1 --accept text/csv "$PBR" -; }
p_pbr_pbr_f() {
    "$BIN" predict --model "$M" --threads 1 --accept application/x-recordio-protobuf "$PBR" -
}
p_csv_csv_f() {
    "$BIN" predict --model "$M" --threads 1 --label-column 0 --content-type text/csv \
        --accept text/csv "$CSV" -
}
conv_pbr=$(best conv_pbr_f)
conv_csv=$(best conv_csv_f)
p_pbr_csv=$(best p_pbr_csv_f)
p_pbr_pbr=$(best p_pbr_pbr_f)
p_csv_csv=$(best p_csv_csv_f)
pbr_mb=$(stat -c %s "$PBR")
csv_mb=$(stat -c %s "$CSV")

if [ -n "$HAVE_WRK" ]; then
    cut -d, -f2- "$CSV" | head -n 1000 >"$OUT/batch.csv"
    head -n 1 "$OUT/batch.csv" >"$OUT/one.csv"
    batch_bytes=$(stat -c %s "$OUT/batch.csv")
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
    "$BIN" serve --model "$M" --port 0 --threads "$THREADS" 2>"$OUT/log" &
    SERVER_PID=$!
    PORT=
    while [ -z "$PORT" ]; do
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/log" >&2; exit 1; }
        sleep 0.1
        PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9][0-9]*\).*/\1/p' "$OUT/log")
    done
    U=http://127.0.0.1:$PORT
    wrkrun() { # wrkrun NAME CONNECTIONS URL [LUA] -> "req/s p50_ms p99_ms non2xx errors"
        if [ -n "$4" ]; then s="-s $4"; else s=; fi
        # shellcheck disable=SC2086
        wrk -t1 -c"$2" -d"${SECS}s" --latency $s "$3" >"$OUT/$1.txt" 2>&1
        awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                              if (v ~ /s$/) return v * 1000; return v }
            /Requests\/sec/ { rps = $2 }
            $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
            /Non-2xx/ { bad = $NF } /Socket errors/ { err = 1 }
            END { printf "%s %.3f %.3f %d %d\n", rps, p50, p99, bad, err }' "$OUT/$1.txt"
    }
    ping=$(wrkrun ping "$CONN" "$U/ping")
    one=$(wrkrun csv_1row "$CONN" "$U/invocations" "$OUT/one.lua")
    sed 's/^wrk.headers\["Content-Type"\].*//' "$OUT/batch.lua" >"$OUT/batch_ping.lua"
    bping=$(wrkrun body_to_ping "$CONN_BATCH" "$U/ping" "$OUT/batch_ping.lua")
    batch=$(wrkrun csv_1000rows "$CONN_BATCH" "$U/invocations" "$OUT/batch.lua")
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
    SERVER_PID=
fi

echo "rows: $ROWS  predict: best of $REPS, one thread  serve: --threads $THREADS, wrk -t1" \
    "-c$CONN (1-row) -c$CONN_BATCH (1000-row), ${SECS}s each, wrk on the same cores"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-26s %10s %10s %9s  %s\n' name base now now/base "unit (base) and notes"
row() { # row NAME BASE NOW UNIT
    echo "$2 $3" | awk -v n="$1" -v u="$4" '{ printf "%-26s %10.1f %10.1f %9.2f  %s\n", n, $1, $2, $2 / $1, u }'
}
mbs() { echo "$1 $2" | awk '{ printf "%.1f", $1 / $2 / 1e6 }'; }
rps() { echo "$1 $2" | awk '{ printf "%.0f", $1 / $2 }'; }
row "predict RecordIO->CSV" "$(mbs "$pbr_mb" "$conv_pbr")" "$(mbs "$pbr_mb" "$p_pbr_csv")" \
    "MB/s of input (convert RecordIO->RecordIO); $(rps "$ROWS" "$p_pbr_csv") rows/s"
row "predict RecordIO->RecordIO" "$(mbs "$pbr_mb" "$conv_pbr")" "$(mbs "$pbr_mb" "$p_pbr_pbr")" \
    "MB/s of input (convert RecordIO->RecordIO); $(rps "$ROWS" "$p_pbr_pbr") rows/s"
row "predict CSV->CSV" "$(mbs "$csv_mb" "$conv_csv")" "$(mbs "$csv_mb" "$p_csv_csv")" \
    "MB/s of input (convert CSV->RecordIO); $(rps "$ROWS" "$p_csv_csv") rows/s"
if [ -z "$HAVE_WRK" ]; then
    echo "serve figures skipped: wrk is not installed (apt-get install wrk)"
    exit 0
fi
set -- $one
row "serve 1-row CSV" "$(echo "$ping" | cut -d' ' -f1)" "$1" \
    "req/s (GET /ping); p50 $2 ms, p99 $3 ms, non-2xx $4, socket errors $5"
set -- $batch
bb=$(echo "$bping $batch_bytes" | awk '{ printf "%.1f", $1 * $6 / 1e6 }')
nb=$(echo "$1 $batch_bytes" | awk '{ printf "%.1f", $1 * $2 / 1e6 }')
row "serve 1000-row CSV" "$bb" "$nb" \
    "MB/s of body (same body to /ping); $1 req/s, p50 $2 ms, p99 $3 ms, non-2xx $4, socket errors $5"
