#!/bin/sh
# gzip.sh - CompressionType Gzip from the command line: a gzip file and a folder of gzip parts
# read as their inflated bytes by convert/inspect, and `linlearn pipe` inflating (auto) or
# passing the gzip bytes through (--compression none) into a FIFO.
. tests/cli/lib.sh
NAME=cli_gzip
data=$TD/recordio/concat_two_objects.pbr
gzip -c "$data" > "$T/one.pbr.gz"
mkdir -p "$T/parts"
head -c 1000 "$data" | gzip -c > "$T/parts/a.gz"
tail -c +1001 "$data" | gzip -c > "$T/parts/b.gz"
"$LL" convert "$data" "$T/ref.jsonl" 2>/dev/null
n_records() { "$LL" inspect --json "$1" | grep -o '"records": *[0-9]*' | grep -o '[0-9]*$'; }
check "inspect a .pbr.gz" test "$(n_records "$T/one.pbr.gz")" = 8
check "convert a .pbr.gz" sh -c "'$LL' convert --from recordio '$T/one.pbr.gz' '$T/one.jsonl' && cmp '$T/one.jsonl' '$T/ref.jsonl'"
check "convert a folder of gzip members" sh -c "'$LL' convert --from recordio '$T/parts/' '$T/parts.jsonl' && cmp '$T/parts.jsonl' '$T/ref.jsonl'"
# pipe: auto inflates before the FIFO; none passes the gzip bytes as stored
mkdir -p "$T/fifo"
"$LL" pipe --epochs 1 --dir "$T/fifo" --channel train="$T/parts/" 2>"$T/pipe.err" & pid=$!
i=0; while [ ! -p "$T/fifo/train_0" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
cat "$T/fifo/train_0" > "$T/auto.out"; wait $pid
check "pipe inflates gzip by default" cmp "$T/auto.out" "$data"
"$LL" pipe --epochs 1 --compression none --dir "$T/fifo" --channel train="$T/parts/" 2>"$T/pipe.err" & pid=$!
i=0; while [ ! -p "$T/fifo/train_0" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
cat "$T/fifo/train_0" > "$T/none.out"; wait $pid
check "pipe --compression none passes gzip through" sh -c "cat '$T/parts/a.gz' '$T/parts/b.gz' | cmp - '$T/none.out'"
"$LL" pipe --epochs 1 --compression gzip --dir "$T/fifo" --channel train="$data" 2>"$T/pipe.err" & pid=$!
i=0; while [ ! -p "$T/fifo/train_0" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
cat "$T/fifo/train_0" > /dev/null; wait $pid; st=$?
check "--compression gzip on plain data fails naming the bytes" sh -c "[ $st -ne 0 ] && grep -q '1F 8B (found 0A 23)' '$T/pipe.err'"
check_fails "bad --compression" 2 "auto, gzip or none" "$LL" pipe --compression zip --channel train=x
finish
