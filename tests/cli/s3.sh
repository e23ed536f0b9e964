#!/bin/sh
# s3.sh - starts one throw-away S3 server (Ceph radosgw, memstore, 127.0.0.1 only) for the whole
# run, runs the online part of test_s3 and CLI round trips against it, and always stops it.
# Needs `scripts/install-deps --s3`. LL_SKIP_S3=1 skips it and says so in the result line. It runs
# under `make tsan` too (about 50 s there).
BUILD=${LL_BUILD:-build}
BIN=${LL_BIN:-$PWD/$BUILD/linlearn}
if [ "${LL_SKIP_S3:-0}" = 1 ]; then echo "s3: SKIPPED (LL_SKIP_S3=1)"; echo "[s3] 0 passed, 0 failed, 1 skipped"; exit 0; fi
if ! command -v radosgw >/dev/null 2>&1; then
    echo "s3: radosgw is not installed; run scripts/install-deps --s3 (or set LL_SKIP_S3=1)"
    echo "[s3] 0 passed, 0 failed, 1 skipped"; exit 0
fi
dir=$(mktemp -d /tmp/ll_s3_XXXXXX)
free_port() { # the first pair port, port+1 from $1 that nobody answers on
    p=$1
    while [ $p -lt $(($1 + 100)) ]; do
        if ! bash -c "echo >/dev/tcp/127.0.0.1/$p" 2>/dev/null &&
           ! bash -c "echo >/dev/tcp/127.0.0.1/$((p + 1))" 2>/dev/null; then echo $p; return; fi
        p=$((p + 2))
    done 2>/dev/null
    echo $1
}
cleanup() { bash scripts/s3-server stop "$dir/srv" >/dev/null 2>&1; rm -rf "$dir"; }
trap cleanup EXIT INT TERM
passed=0; failed=0
ok() { passed=$((passed + 1)); }
bad() { echo "FAIL s3: $1"; failed=$((failed + 1)); }
# other runs on the machine may take a port between the check and the start: try 3 times
started=0
for base in 17480 17540 17600; do
    port=$(free_port $base)
    if bash scripts/s3-server start "$dir/srv" $port > "$dir/start.log" 2>&1; then started=1; break; fi
    bash scripts/s3-server stop "$dir/srv" >/dev/null 2>&1; rm -rf "$dir/srv"
done
if [ $started = 0 ]; then
    cat "$dir/start.log"; echo "[s3] 0 passed, 1 failed, 0 skipped"; exit 1
fi
eval "$(bash scripts/s3-server env "$dir/srv")"
export AWS_ENDPOINT_URL="$S3_ENDPOINT"
# the C tests (pagination, errors, resume through the proxy, multipart, sharding)
out=$("$BUILD/tests/test_s3" 2>&1); st=$?
echo "$out" | grep -v '^\[test_s3\]'
p=$(echo "$out" | sed -n 's/^\[test_s3\] \([0-9]*\) passed, \([0-9]*\) failed, [0-9]* skipped$/\1/p')
f=$(echo "$out" | sed -n 's/^\[test_s3\] \([0-9]*\) passed, \([0-9]*\) failed, [0-9]* skipped$/\2/p')
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
[ $st -eq 0 ] || [ "${f:-1}" -ne 0 ] || failed=$((failed + 1))
# CLI: convert and upload shards in one step, then read them back through inspect and convert
data=${LL_TESTDATA:-tests/data}/recordio/concat_two_objects.pbr
"$BIN" convert --shard-records 3 "$data" s3://lltest/cli/ 2>"$dir/err" && ok || { cat "$dir/err"; bad "convert to s3 prefix"; }
"$BIN" convert s3://lltest/cli/ "$dir/back.jsonl" 2>/dev/null && "$BIN" convert "$data" "$dir/ref.jsonl" 2>/dev/null &&
    cmp -s "$dir/back.jsonl" "$dir/ref.jsonl" && ok || bad "read back the uploaded shards"
n=$("$BIN" inspect --json s3://lltest/cli/ | grep -o '"records": *[0-9]*' | grep -o '[0-9]*$')
[ "$n" = 8 ] && ok || bad "inspect s3 prefix ($n records)"
# progress on an S3 prefix: the total comes from the listing, so the line has a percent
"$BIN" convert --progress s3://lltest/cli/ "$dir/prog.jsonl" 2>"$dir/prog.err" &&
    tr '\r' '\n' < "$dir/prog.err" | grep -qE '\([0-9]+%\)' && ok || { cat "$dir/prog.err"; bad "progress percent for an s3 prefix"; }
# a wrong secret: exit status 4, the message names the bucket and code, never the secret
msg=$(AWS_SECRET_ACCESS_KEY=NotTheSecret42 "$BIN" inspect s3://lltest/cli/ 2>&1); st=$?
[ $st -eq 4 ] && echo "$msg" | grep -q SignatureDoesNotMatch && ! echo "$msg" | grep -q NotTheSecret42 && ok || bad "wrong secret: $st $msg"
msg=$("$BIN" inspect s3://lltest/cli/nope.pbr 2>&1); st=$?
[ $st -eq 4 ] && echo "$msg" | grep -q "s3://lltest/cli/nope.pbr" && ok || bad "missing key: $st $msg"
# pipe mode over S3, 2 epochs, read by plain cat; File mode copies the objects
mkdir -p "$dir/fifo"
"$BIN" pipe --dir "$dir/fifo" --epochs 2 --channel train=s3://lltest/cli/ & pid=$!
cat "$dir/fifo/train_0" > "$dir/e0" 2>/dev/null || { sleep 1; cat "$dir/fifo/train_0" > "$dir/e0"; }
while [ ! -p "$dir/fifo/train_1" ] && kill -0 $pid 2>/dev/null; do sleep 0.1; done
cat "$dir/fifo/train_1" > "$dir/e1"
wait $pid; st=$?
cmp -s "$dir/e0" "$data" && cmp -s "$dir/e1" "$data" && [ $st -eq 0 ] && ok || bad "pipe mode epochs ($st)"
"$BIN" pipe --input-mode file --dir "$dir/files" --channel train=s3://lltest/cli/ 2>/dev/null &&
    [ "$(ls "$dir/files/train" | wc -l)" = 3 ] && cat "$dir/files/train"/* | cmp -s - "$data" && ok || bad "file mode copy"
# local-job against this server (tests/cli/lib_container_s3.sh)
[ -f tests/cli/lib_container_s3.sh ] && . tests/cli/lib_container_s3.sh
echo "[s3] $passed passed, $failed failed, 0 skipped"
[ $failed -eq 0 ]
