# Hostile inputs and faults (docs/RELIABILITY.md): non-finite training data refused where it
# stands and never hanging, diverged training never writing a model that does not load, write
# errors on every output (stdout included) named and failing, secrets in URLs redacted.
. tests/cli/lib.sh
NAME=cli_hardening

# ---- non-finite features and labels: refused with file:line:column (text) or record (binary)
printf '1,0.5,2\n0,1.5,nan\n1,2,3\n0,1,1\n1,3,2\n' >$T/nan.csv
printf 'x,y,z\n\n1,0.5,2\n\n0,1.5,1e999\n1,2,3\n' >$T/inf.csv
printf '1,0.5,2\n-inf,1.5,1\n1,2,3\n' >$T/lab.csv
for p in binary_classifier regressor; do
    check_fails "$p: nan feature refused at its line and column" 1 'nan.csv:2:3 (byte 14): expected a finite number.*found .nan.' \
        timeout 20 $LL train --train $T/nan.csv -H predictor_type=$p --model-dir $T/m_$p --threads 1
    check "$p: no model after refusing" test ! -e $T/m_$p/model.tar.gz
    check_fails "$p: 1e999 refused (header and blank lines counted)" 1 'inf.csv:5:3 .*found .1e999.' \
        timeout 20 $LL train --train $T/inf.csv --header -H predictor_type=$p --model-dir $T/m_$p --threads 1
    check_fails "$p: -inf label refused" 1 'lab.csv:2:1 .*found .-inf.' \
        timeout 20 $LL train --train $T/lab.csv -H predictor_type=$p --model-dir $T/m_$p --threads 1
done
printf '1 1:0.5 2:2\n0 1:1.5 3:nan\n' >$T/nan.libsvm
check_fails "libsvm: nan refused at line and item" 1 'nan.libsvm:2:3 .*finite number' \
    timeout 20 $LL train --train $T/nan.libsvm -H predictor_type=regressor -H feature_dim=3 --model-dir $T/m --threads 1
# convert keeps them (they are data); training the RecordIO file refuses the record
check "convert keeps nan" $LL convert $T/nan.csv $T/nan.pbr
check_fails "recordio: nan refused naming the record" 1 'nan.pbr.*record 1.*NaN in feature 1' \
    timeout 20 $LL train --train $T/nan.pbr -H predictor_type=binary_classifier --model-dir $T/m --threads 1
printf '{"features":[1,2],"label":1}\n{"features":[1,NaN],"label":0}\n' >$T/nan.jsonl
check_fails "jsonl: NaN refused at its line" 1 'nan.jsonl:2 .*NaN in feature 1' \
    timeout 20 $LL train --train $T/nan.jsonl -H predictor_type=binary_classifier --model-dir $T/m --threads 1

# ---- finite but diverging: no hang, no model that export would refuse
printf '1,0.5,2\n0,1.5,3e38\n1,2,3\n0,1,1\n1,3,2\n' >$T/big.csv
check_fails "binary diverged: refused, no hang" 2 'training diverged' \
    timeout 30 $LL train --train $T/big.csv -H predictor_type=binary_classifier -H normalize_data=false \
    -H learning_rate=1e30 -H num_models=1 -H optimizer=sgd --model-dir $T/d1 --threads 1
check "binary diverged: nothing written" test ! -e $T/d1/model.tar.gz
check_fails "regressor diverged: refused" 2 'not writing .*model.tar.gz: .* is not finite' \
    timeout 30 $LL train --train $T/big.csv -H predictor_type=regressor -H learning_rate=1e30 \
    --model-dir $T/d2 --threads 1
check "huge but finite data trains, and its model loads" sh -c "
    timeout 30 $LL train --train $T/big.csv -H predictor_type=regressor --model-dir $T/d3 --threads 1 &&
    $LL export $T/d3/model.tar.gz >/dev/null"

# ---- write errors: stdout on a full disk fails every command, naming the output
B=$TD/datasets/breast_cancer
$LL train --train $B/train.csv -H predictor_type=binary_classifier --model-dir $T/bm --threads 1 >/dev/null 2>&1
for c in "inspect $B/train.csv" "inspect --json $B/train.csv" "export $T/bm/model.tar.gz" \
    "export --format csv $T/bm/model.tar.gz" "convert --to csv $B/train.csv -" \
    "predict --model $T/bm/model.tar.gz --label-column 0 $B/test.csv -" "inspect --help" "--version" \
    "train --train $B/train.csv -H predictor_type=binary_classifier --model-dir $T/bm2 --threads 1"; do
    check_fails "$c > /dev/full" 3 'standard output\|stdout' sh -c "$LL $c >/dev/full"
done
check_fails "predict into /dev/full (a device path)" 3 '/dev/full: write failed' \
    $LL predict --model $T/bm/model.tar.gz --label-column 0 $B/test.csv /dev/full
check "/dev/full is still a device" test -c /dev/full
# a FIFO output is written in place, not replaced by a renamed file
mkfifo $T/out.fifo
cat $T/out.fifo >$T/fifo.got &
check "convert into a FIFO" $LL convert --to csv $B/test.csv $T/out.fifo
wait
check "the FIFO is still a FIFO and got the rows" sh -c "test -p $T/out.fifo && test \$(wc -l <$T/fifo.got) -gt 100"

# ---- secrets in URLs: redacted in every message, report and file name
mkdir -p $T/www
printf '1,2,3\n0,abc,1\n' >$T/www/bad.csv
cd $T/www && /usr/bin/python3 -c '
import http.server, socketserver, sys
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
s = socketserver.TCPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()' >$T/port & hp=$!
cd - >/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do [ -s $T/port ] && break; sleep 0.2; done
PORT=$(cat $T/port)
Q='X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Security-Token=FQoGZXIvYXdzSECRET&X-Amz-Signature=deadbeefcafe'
U="http://alice:hunter2@127.0.0.1:$PORT/bad.csv?$Q"
no_secret() { ! grep -q 'hunter2\|FQoGZXIvYXdzSECRET\|deadbeefcafe\|AKIAEXAMPLE' "$@"; }
$LL inspect "$U" >$T/i.txt 2>&1
check "inspect: source shown redacted" grep -q 'source:.*http://\*\*\*@127.0.0.1:'"$PORT"'/bad.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED' $T/i.txt
check "inspect: no secret in the text report" no_secret $T/i.txt
$LL inspect --json "$U" >$T/i.json 2>&1
check "inspect --json: no secret" no_secret $T/i.json
check "inspect --json: still names the object" grep -q 'bad.csv' $T/i.json
$LL train --train "$U" -H predictor_type=regressor --model-dir $T/sm >$T/t.txt 2>&1
check "train: the data error is located" grep -q 'bad.csv.*:2:2.*abc' $T/t.txt
check "train: no secret in its data error" no_secret $T/t.txt
$LL train --train "$U" --seed "$U" >$T/u.txt 2>&1
check "usage error: no secret" no_secret $T/u.txt
check "usage error: shown redacted" grep -q 'REDACTED' $T/u.txt
$LL pipe --input-mode file --dir $T/pf --channel "train=$U" >$T/p.txt 2>&1
check "pipe --input-mode file: the file is named by the path only" test -s $T/pf/train/bad.csv
check "pipe --input-mode file: no secret in names or messages" sh -c "! ls -R $T/pf | grep -q 'X-Amz\|hunter2' && ! grep -q 'hunter2\|deadbeefcafe' $T/p.txt"
kill $hp 2>/dev/null

finish
