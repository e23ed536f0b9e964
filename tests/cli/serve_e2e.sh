#!/bin/sh
# serve_e2e.sh - `linlearn serve` end to end: a model written by test_serve --write-model, every
# request format against every Accept compared byte for byte with `linlearn predict` on the same
# input, scores checked against the weights by hand, the bad-request list, keep-alive, slow
# clients timing out, SIGTERM finishing the request in flight, and --sagemaker mode.
B=${LL_BUILD:-build}
BIN=${LL_BIN:-$PWD/$B/linlearn}
T=$(mktemp -d /tmp/ll_serve_e2e.XXXXXX)
pass=0
fail=0
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ok() { pass=$((pass + 1)); }
ko() { echo "FAIL: $*"; fail=$((fail + 1)); }
check() { # check NAME CONDITION-COMMAND...
    name=$1; shift
    if "$@"; then ok; else ko "$name"; fi
}

# start_server LOG ARGS... : starts linlearn serve, waits (bounded) for its port into $PORT
start_server() {
    log=$1; shift
    : >"$log" # truncated here, so the port read below is this server's
    "$BIN" serve "$@" 2>"$log" &
    SERVER_PID=$!
    PORT=
    i=0
    while [ $i -lt 100 ]; do
        PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9][0-9]*\).*/\1/p' "$log")
        [ -n "$PORT" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    cat "$log"
    return 1
}
stop_server() {
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID"
    st=$?
    SERVER_PID=
    return $st
}

"$B/tests/test_serve" --write-model "$T/bin" binary || { echo "[serve_e2e] 0 passed, 1 failed, 0 skipped"; exit 1; }
"$B/tests/test_serve" --write-model "$T/mc" multiclass
"$B/tests/test_serve" --write-model "$T/reg" regressor

printf '1,2,3\n-1,0.5,4\n0,0,2\n' >"$T/rows.csv"
printf '{"instances": [{"features": [1, 2, 3]}, {"features": [-1, 0.5, 4]}, {"data": {"features": {"keys": [2], "shape": [3], "values": [2]}}}]}' >"$T/rows.json"
printf '{"features": [1, 2, 3]}\n{"features": [-1, 0.5, 4]}\n{"data": {"features": {"keys": [2], "shape": [3], "values": [2]}}}\n' >"$T/rows.jsonl"
"$BIN" convert --from csv --to recordio --no-label "$T/rows.csv" "$T/rows.pbr" 2>/dev/null

for kind in bin mc reg; do
    if ! start_server "$T/log" --model "$T/$kind/model.tar.gz" --port 0 --threads 2; then
        ko "$kind: server start"
        continue
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/ping")
    check "$kind ping" [ "$code" = 200 ]
    for ct in text/csv application/json application/jsonlines application/x-recordio-protobuf; do
        case $ct in
        text/csv) f=rows.csv ;; application/json) f=rows.json ;;
        application/jsonlines) f=rows.jsonl ;; *) f=rows.pbr ;;
        esac
        for acc in application/json application/jsonlines application/x-recordio-protobuf text/csv; do
            curl -s -o "$T/got" -H "Content-Type: $ct" -H "Accept: $acc" \
                --data-binary "@$T/$f" "http://127.0.0.1:$PORT/invocations"
            "$BIN" predict --model "$T/$kind" --content-type "$ct" --accept "$acc" \
                "$T/$f" "$T/want" 2>/dev/null
            check "$kind $ct -> $acc equals predict" cmp -s "$T/got" "$T/want"
        done
    done
    # scores by hand from the weights (test_serve.c): binary w=(0.5,-1,0.25) b=0.1,
    # regressor w=(1,2,3) b=0.5
    curl -s -o "$T/got" -H "Content-Type: text/csv" -H "Accept: text/csv" \
        --data-binary "@$T/rows.csv" "http://127.0.0.1:$PORT/invocations"
    case $kind in
    bin) exp='1,2,3,0.1;-1,0.5,4,0.1;0,0,2,0.1' ;;
    reg) exp='1,2,3,0.5;-1,0.5,4,0.5;0,0,2,0.5' ;;
    *) exp= ;;
    esac
    if [ -n "$exp" ]; then
        res=$(awk -F, -v spec="$exp" -v kind="$kind" '
            BEGIN { n = split(spec, rows, ";") }
            { split(rows[NR], x, ",")
              if (kind == "bin") { z = x[4] + 0.5*x[1] - 1*x[2] + 0.25*x[3]; s = 1/(1+exp(-z))
                                   lab = s > 0.5 ? 1 : 0; got = $2; if ($1 != lab) bad = 1 }
              else { s = x[4] + 1*x[1] + 2*x[2] + 3*x[3]; got = $1 }
              d = got - s; if (d < 0) d = -d; if (d > 1e-6 * (1 + (s < 0 ? -s : s))) bad = 1 }
            END { print (NR == n && !bad) ? "ok" : "bad" }' "$T/got")
        check "$kind scores by hand" [ "$res" = ok ]
    fi
    # the real regressor reply spelling: a float32 widened and printed as Python's repr
    if [ "$kind" = reg ]; then
        body=$(curl -s -H "Content-Type: text/csv" --data-binary "0.1,0,0" "http://127.0.0.1:$PORT/invocations")
        check "reg json default accept" [ "$body" = '{"predictions": [{"score": 0.6000000238418579}]}' ]
    fi
    check "$kind stops on SIGTERM with status 0" stop_server
done

# a model trained by `linlearn train` on breast_cancer: the server's answers equal predict's
# and the scores computed by hand from `linlearn export`'s weights and threshold
D=${LL_TESTDATA:-$PWD/tests/data}/datasets/breast_cancer
if [ -f "$D/train.csv" ] &&
    "$BIN" train --train "$D/train.csv" --validation "$D/validation.csv" -H predictor_type=binary_classifier \
        -H epochs=3 --threads 1 --model-dir "$T/bc" >/dev/null 2>&1 &&
    start_server "$T/log" --model "$T/bc" --port 0 --threads 2; then
    cut -d, -f2- "$D/test.csv" >"$T/bc.csv"
    awk 'BEGIN { printf "{\"instances\": [" } { printf "%s{\"features\": [%s]}", (NR > 1 ? ", " : ""), $0 }
         END { printf "]}" }' "$T/bc.csv" >"$T/bc.json"
    "$BIN" convert --from csv --to recordio --no-label "$T/bc.csv" "$T/bc.pbr" 2>/dev/null
    for ct in text/csv application/json application/x-recordio-protobuf; do
        case $ct in text/csv) f=bc.csv ;; application/json) f=bc.json ;; *) f=bc.pbr ;; esac
        curl -s -o "$T/got" -H "Content-Type: $ct" -H "Accept: text/csv" --data-binary "@$T/$f" \
            "http://127.0.0.1:$PORT/invocations"
        "$BIN" predict --model "$T/bc" --content-type "$ct" --accept text/csv "$T/$f" "$T/want" 2>/dev/null
        check "trained model: $ct equals predict" cmp -s "$T/got" "$T/want"
    done
    "$BIN" export --format csv "$T/bc" >"$T/w.csv"
    thr=$("$BIN" export "$T/bc" | sed -n 's/.*"threshold": \([^,]*\),.*/\1/p')
    res=$(awk -F, -v thr="$thr" '
        FNR == NR { if ($1 == "bias") b = $2; else if ($1 != "feature") w[$1] = $2; next }
        FILENAME ~ /bc.csv$/ { z = b; for (j = 1; j <= NF; j++) z += $j * w[j - 1]
                               p[FNR] = 1 / (1 + exp(-z)); n = FNR; next }
        { d = $2 - p[FNR]; if (d < 0) d = -d; if (d > 1e-3) bad++
          lab = p[FNR] > thr ? 1 : 0; m = p[FNR] - thr; if (m < 0) m = -m
          if ($1 != lab && m > 1e-3) bad++; rows++ }
        END { print (rows == n && rows > 100 && !bad) ? "ok" : "bad " bad " rows " rows }' \
        "$T/w.csv" "$T/bc.csv" "$T/got")
    check "trained model: scores and labels by hand from the weights ($res)" [ "$res" = ok ]
    stop_server
else
    ko "train and serve breast_cancer"
fi

# bad requests (binary model), a small payload limit and a short timeout
if start_server "$T/log" --model "$T/bin" --port 0 --threads 2 --max-payload 64K --timeout 1; then
    U="http://127.0.0.1:$PORT/invocations"
    req() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
    code=$(req -H 'Content-Type: text/csv' --data-binary '1,2' "$U")
    check "wrong width 400" [ "$code" = 400 ]
    check "wrong width counts" grep -q '"expected": 3, "received": 2' "$T/body"
    code=$(req -H 'Content-Type: text/csv' --data-binary "$(printf '1,2,3\n4,zz,6')" "$U")
    check "bad csv 400 with line and column" sh -c "[ $code = 400 ] && grep -q '\"line\": 2, \"column\": 2' '$T/body'"
    code=$(req -H 'Content-Type: application/json' --data-binary '{"instances": [{"features": [1, 2, 3]' "$U")
    check "bad json 400 with offset" sh -c "[ $code = 400 ] && grep -q '\"offset\": 37' '$T/body'"
    code=$(req -H 'Content-Type: application/x-recordio-protobuf' --data-binary 'not recordio' "$U")
    check "bad recordio 400" sh -c "[ $code = 400 ] && grep -q '\"offset\"' '$T/body'"
    code=$(req -H 'Content-Type: text/plain' --data-binary '1,2,3' "$U")
    check "unsupported content type 415" [ "$code" = 415 ]
    code=$(req -H 'Content-Type: text/csv' -H 'Accept: text/html' --data-binary '1,2,3' "$U")
    check "unsupported accept 406" [ "$code" = 406 ]
    head -c 20000000 /dev/zero | tr '\0' '1' >"$T/big"
    start=$(date +%s)
    code=$(req -H 'Content-Type: text/csv' --data-binary "@$T/big" "$U")
    check "20 MB body 413 (limit 64K)" [ "$code" = 413 ]
    check "413 answered before the body is read" [ $(( $(date +%s) - start )) -le 3 ]
    code=$(req -H 'Content-Type: text/csv' -H 'Transfer-Encoding: chunked' --data-binary "@$T/big" "$U")
    check "chunked body over the limit 413" [ "$code" = 413 ]
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/execution-parameters")
    check "execution-parameters" [ "$code" = 200 ]
    # keep-alive: the second request reuses the connection
    n=$(curl -sv -o /dev/null -o /dev/null "http://127.0.0.1:$PORT/ping" "http://127.0.0.1:$PORT/ping" 2>&1 | grep -ci 're-using existing connection')
    check "keep-alive" [ "$n" -ge 1 ]
    # a client that sends headers and half a body, then stalls, is dropped after --timeout 1
    elapsed=$(bash -c '
        exec 3<>/dev/tcp/127.0.0.1/'"$PORT"' || exit 1
        printf "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 100\r\n\r\n1,2" >&3
        s=$(date +%s); timeout 10 cat <&3 >/dev/null; echo $(( $(date +%s) - s ))')
    check "stalled client closed by the server (${elapsed}s)" [ -n "$elapsed" ] && [ "$elapsed" -le 4 ]
    # still healthy after all that
    code=$(req -H 'Content-Type: text/csv' --data-binary '1,2,3' "$U")
    check "healthy after bad requests" [ "$code" = 200 ]
    stop_server
else
    ko "server start (bad requests)"
fi

# SIGTERM: the slow request in flight finishes with 200, new connections are refused, exit 0
head -c 60000 /dev/zero | tr '\0' '\n' | sed 's/^/1,2,3/' | head -n 8000 >"$T/slow.csv"
if start_server "$T/log" --model "$T/bin" --port 0 --threads 2; then
    curl -s -o "$T/slow.out" -w '%{http_code}' --limit-rate 20K -H 'Expect:' -H 'Content-Type: text/csv' \
        -H 'Accept: text/csv' --data-binary "@$T/slow.csv" "http://127.0.0.1:$PORT/invocations" >"$T/slow.code" &
    CURL_PID=$!
    sleep 0.7
    kill -TERM "$SERVER_PID"
    sleep 0.3
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/ping")
    check "no new connections after SIGTERM" [ "$code" = 000 ]
    wait "$CURL_PID"
    wait "$SERVER_PID"
    st=$?
    SERVER_PID=
    check "server exit 0 after SIGTERM" [ "$st" = 0 ]
    check "request in flight answered 200" [ "$(cat "$T/slow.code")" = 200 ]
    check "request in flight complete" [ "$(wc -l <"$T/slow.out")" = 8000 ]
else
    ko "server start (SIGTERM)"
fi

# --sagemaker: /opt/ml/model holds the unpacked model.tar.gz; port from SAGEMAKER_BIND_TO_PORT
mkdir -p "$T/ml/model" && tar -xzf "$T/reg/model.tar.gz" -C "$T/ml/model"
if SAGEMAKER_BIND_TO_PORT=0 start_server "$T/log" --sagemaker --sm-root "$T/ml"; then
    check "sagemaker mode binds 0.0.0.0" grep -q 'listening on http://0.0.0.0:' "$T/log"
    body=$(curl -s -H "Content-Type: text/csv" --data-binary "0.1,0,0" "http://127.0.0.1:$PORT/invocations")
    check "sagemaker mode serves /opt/ml/model" [ "$body" = '{"predictions": [{"score": 0.6000000238418579}]}' ]
    stop_server
else
    ko "sagemaker mode start"
fi

echo "[serve_e2e] $pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
