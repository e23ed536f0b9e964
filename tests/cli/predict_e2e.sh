#!/bin/sh
# predict_e2e.sh - `linlearn predict`: formats from extensions and from the first bytes, stdin to
# stdout, the same bytes whatever the mini-batch size, streaming a large input in bounded
# memory, and errors naming the row and both feature counts.
B=${LL_BUILD:-build}
BIN=${LL_BIN:-$PWD/$B/linlearn}
T=$(mktemp -d /tmp/ll_predict_e2e.XXXXXX)
pass=0
fail=0
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
ok() { pass=$((pass + 1)); }
ko() { echo "FAIL: $*"; fail=$((fail + 1)); }
check() {
    name=$1; shift
    if "$@"; then ok; else ko "$name"; fi
}

"$B/tests/test_serve" --write-model "$T/m" binary
"$B/tests/test_serve" --write-model "$T/reg" regressor
printf '1,2,3\n-1,0.5,4\n0,0,2\n' >"$T/rows.csv"
printf '{"features": [1, 2, 3]}\n{"features": [-1, 0.5, 4]}\n{"features": [0, 0, 2]}\n' >"$T/rows.jsonl"
"$BIN" convert --from csv --to recordio --no-label "$T/rows.csv" "$T/rows.pbr" 2>/dev/null

# output format from OUT's extension; input format from IN's extension
"$BIN" predict --model "$T/m" "$T/rows.csv" "$T/a.jsonl" 2>/dev/null
check "jsonl output" [ "$(head -n 1 "$T/a.jsonl")" = '{"score": 0.3429895341396332, "predicted_label": 0}' ]
check "jsonl rows" [ "$(wc -l <"$T/a.jsonl")" = 3 ]
"$BIN" predict --model "$T/m" "$T/rows.pbr" "$T/b.jsonl" 2>/dev/null
check "recordio input, same predictions" cmp -s "$T/a.jsonl" "$T/b.jsonl"
# stdin to stdout, formats sniffed from the first bytes
cat "$T/rows.jsonl" | "$BIN" predict --model "$T/m" --accept application/jsonlines - - >"$T/c.jsonl"
check "jsonl sniffed from stdin" cmp -s "$T/a.jsonl" "$T/c.jsonl"
cat "$T/rows.pbr" | "$BIN" predict --model "$T/m" --accept application/jsonlines - - >"$T/d.jsonl"
check "recordio sniffed from stdin" cmp -s "$T/a.jsonl" "$T/d.jsonl"
# CSV output: predicted_label,score
"$BIN" predict --model "$T/m" --accept text/csv "$T/rows.csv" - >"$T/e.csv"
check "csv output" [ "$(head -n 1 "$T/e.csv")" = '0,0.34298953' ]
# a labelled CSV: the label column is skipped
printf '7,1,2,3\n' | "$BIN" predict --model "$T/m" --label-column 0 --content-type text/csv --accept text/csv - - >"$T/f.csv"
check "label column skipped" [ "$(cat "$T/f.csv")" = '0,0.34298953' ]

# a larger input: identical bytes with mini-batches of 1, 7 and 1000 rows; bounded memory
awk 'BEGIN { for (i = 0; i < 200000; i++) printf "%d,%.3f,%d\n", i % 7, (i % 13) / 4.0, i % 5 - 2 }' >"$T/big.csv"
/usr/bin/time -f '%M' -o "$T/mem" "$BIN" predict --threads 1 --model "$T/reg" --accept application/json "$T/big.csv" "$T/big1.json" 2>/dev/null
"$BIN" predict --model "$T/reg" --mini-batch-size 7 --accept application/json "$T/big.csv" "$T/big7.json" 2>/dev/null
check "mini-batch size does not change the output" cmp -s "$T/big1.json" "$T/big7.json"
head -n 5 "$T/big.csv" >"$T/small.csv"
"$BIN" predict --model "$T/reg" --mini-batch-size 1 --accept application/json "$T/small.csv" "$T/s1.json" 2>/dev/null
"$BIN" predict --model "$T/reg" --accept application/json "$T/small.csv" "$T/s2.json" 2>/dev/null
check "mini-batch 1" cmp -s "$T/s1.json" "$T/s2.json"
n=$(grep -o '"score"' "$T/big1.json" | wc -l)
check "200000 predictions" [ "$n" = 200000 ]
kb=$(cat "$T/mem")
bytes=$(wc -c <"$T/big.csv")
echo "peak RSS ${kb} kB for a $bytes-byte input"
check "streaming: peak RSS under 40 MB on one thread" [ "$kb" -lt 40000 ]
# on every core (parse workers, 2 x threads + 1 chunks in flight): the same output, and a
# five times larger input does not raise the peak (bounded, not growing with the input)
/usr/bin/time -f '%M' -o "$T/mem2" "$BIN" predict --threads 2 --model "$T/reg" --accept application/json "$T/big.csv" "$T/big2.json" 2>/dev/null
check "two threads: the one-thread output" cmp -s "$T/big1.json" "$T/big2.json"
for i in 1 2 3 4 5; do cat "$T/big.csv"; done >"$T/big5.csv"
/usr/bin/time -f '%M' -o "$T/mem5" "$BIN" predict --threads 2 --model "$T/reg" --accept application/json "$T/big5.csv" /dev/null 2>/dev/null
kb2=$(cat "$T/mem2"); kb5=$(cat "$T/mem5")
echo "peak RSS on two threads: ${kb2} kB, ${kb5} kB for five times the input"
check "two threads: peak RSS does not grow with the input" [ "$kb5" -lt $((kb2 + kb2 / 4 + 4000)) ]

# errors: the row and both counts, exit status 1 (bad data), no partial output file
printf '1,2,3\n4,5\n' >"$T/bad.csv"
printf '1,2,3\n' >"$T/ok.csv"
printf '{"features": [1, 2]}\n' >"$T/bad.jsonl"
"$BIN" predict --model "$T/m" "$T/bad.jsonl" "$T/out.json" 2>"$T/err"
st=$?
check "wrong width exit 1" [ "$st" = 1 ]
check "wrong width message" grep -q 'input: 2 does not match the feature dimension of the model: 3.*(row 1)' "$T/err"
check "no partial output" [ ! -e "$T/out.json" ]
"$BIN" predict --model "$T/m" "$T/bad.csv" "$T/out.json" 2>"$T/err"
check "bad csv names the line" grep -q 'bad.csv:2' "$T/err"
"$BIN" predict --model "$T/m" --accept text/html "$T/ok.csv" - 2>/dev/null
check "unsupported accept is a usage error" [ $? = 2 ]
"$BIN" predict --model "$T/nope" "$T/ok.csv" - 2>/dev/null
check "missing model fails" [ $? != 0 ]

echo "[predict_e2e] $pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
