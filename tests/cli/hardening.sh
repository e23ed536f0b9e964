# Hostile inputs and faults (docs/RELIABILITY.md): non-finite training data refused where it
# stands and never hanging, diverged training never writing a model that does not load, write
# errors on every output (stdout included) named and failing, secrets in URLs redacted (in
# messages, in names, and in the options getopt refuses), request lines no HTTP parser can route
# answered 400 by `linlearn serve`.
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

# non-finite hyperparameters are refused by name before any data is read
for h in learning_rate=nan wd=inf l1=-inf positive_example_weight_mult=nan; do
    check_fails "hyperparameter ${h%%=*}=${h#*=} refused" 2 "hyperparameter ${h%%=*}: invalid value '${h#*=}'" \
        $LL train --train $T/nan.csv -H predictor_type=binary_classifier -H $h --model-dir $T/m --threads 1
done

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

# ---- messages keep their place
printf '1 1:1 3:2\n0 2:5\n1 5:1\n' >$T/r.libsvm
check_fails "LIBSVM -> CSV without --feature-dim: refused, suggesting it" 2 'r.csv (record 2): CSV lines must all have one width.*--feature-dim' \
    $LL convert $T/r.libsvm $T/r.csv
check "... and nothing written" test ! -e $T/r.csv
check "LIBSVM -> CSV with --feature-dim: rectangular, reads back" sh -c "
    $LL convert --feature-dim 6 $T/r.libsvm $T/r6.csv && $LL inspect --validate $T/r6.csv"
/usr/bin/python3 tests/cli/mkbig_pbr.py $T/big.pbr
check_fails "dense write of a 2^62 shape names the file and record" 1 'bigd.csv (record 1): a row of dimension 4611686018427387904' \
    $LL convert --to csv $T/big.pbr $T/bigd.csv
printf '1,2\n3,4\n' | gzip >$T/g.csv.gz; printf 'junkjunk' >>$T/g.csv.gz
check_fails "bytes after a gzip member: located in both streams" 1 'after gzip member 1 (at compressed byte [0-9]*, after 8 uncompressed bytes)' \
    $LL inspect $T/g.csv.gz
printf '1,2\n3,4\0005,6\n' >$T/nul.csv
check_fails "a NUL byte in a number is shown" 1 "nul.csv:2:2 .*found '4.x005'" $LL inspect --validate $T/nul.csv

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

# ---- refused options: every command's own message, the option's text redacted
S='https://alice:hunter2@h.example/x.csv?X-Amz-Security-Token=FQoGZXIvYXdzSECRET&X-Amz-Signature=deadbeefcafe'
for c in "inspect --sourc=$S x" "train --trainn=$S" "convert --fromm=$S a b" "predict --modle=$S a b" \
    "serve --modle=$S" "export --formatt=$S m" "pipe --chanel=$S" "local-job --rot=$S" \
    "report --outt=$S a b" "train --sagemaker --sm-rot=$S"; do
    $LL $c >$T/o.txt 2>&1; st=$?
    check "'${c%%=*}=URL': exit 2, an unknown option" sh -c "test $st = 2 && grep -q 'unknown option' $T/o.txt"
    check "'${c%%=*}=URL': no secret in the message" no_secret $T/o.txt
done
check_fails "an unknown option with a suggestion" 2 "unknown option '--sm-rot'; did you mean '--sm-root'?" \
    $LL train --sagemaker --sm-rot=$S
check_fails "an option needing a value" 2 "option '--train' needs a value" $LL train --train
check_fails "an abbreviation needing a value names the option" 2 "option '--model' needs a value" $LL serve --mode
check_fails "a flag given a value" 2 "option '--json' takes no value" $LL inspect --json=$S x
$LL inspect --json=$S x >$T/o.txt 2>&1
check "... with no secret" no_secret $T/o.txt
check_fails "a flag given a value (container mode)" 2 "option '--no-checkpoints' takes no value" \
    $LL train --sagemaker --no-checkpoints=$S
check_fails "a flag given a value (serve)" 2 "option '--sagemaker' takes no value" $LL serve --sagemaker=$S
check_fails "an unknown short option inside a cluster is itself named" 2 "unknown option '-Z'" \
    $LL inspect --json -Z$S x
$LL inspect --json -Z$S x >$T/o.txt 2>&1
check "... with no secret" no_secret $T/o.txt
check_fails "a short option needing a value" 2 "option '-f' needs a value" $LL export -f
check_fails "an option that is a URL: redacted" 2 "unknown option '--https://\*\*\*@h.example/x.csv?X-Amz-Security-Token'" \
    $LL inspect --$S x
check_fails "an unknown command that is a URL: redacted" 2 "unknown command 'https://\*\*\*@h.example" $LL "$S"
$LL "--x=$S" >$T/o.txt 2>&1
check "... and as --x=URL, no secret" no_secret $T/o.txt

# ---- request lines libmicrohttpd would close without a word: 400, and serving goes on
$LL serve --model $T/bm/model.tar.gz --port 0 --threads 2 2>$T/serve.log & sp=$!
SPORT=
for i in $(seq 1 100); do
    SPORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9][0-9]*\).*/\1/p' $T/serve.log)
    [ -n "$SPORT" ] && break
    sleep 0.1
done
check "serve: up" test -n "$SPORT"
cat >$T/line.py <<'EOF'
import socket, sys
port, case = int(sys.argv[1]), sys.argv[2]
data = {"bare-get": b"GET\r\n", "garbage": b"GARBAGE\r\n\r\n", "binary": bytes(range(1, 40)) + b"\r\n\r\n",
        "tls": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64),
        "ping": b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"}[case]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(data)
out = b""
while True:
    k = s.recv(65536)
    if not k:
        break
    out += k
line = out.split(b"\r\n", 1)[0]
want = b"HTTP/1.1 200 OK" if case == "ping" else b"HTTP/1.1 400 Bad Request"
if line != want or (case != "ping" and b"Connection: close\r\n" not in out):
    print("got", out[:300])
    sys.exit(1)
print(out.decode("latin-1").split("\r\n\r\n", 1)[1])
EOF
for c in bare-get garbage binary tls; do
    check "serve: a '$c' request line is answered 400" /usr/bin/python3 $T/line.py $SPORT $c
    check "serve: /ping still 200 after '$c'" /usr/bin/python3 $T/line.py $SPORT ping
done
check "serve: the 400 says what was wrong" sh -c "/usr/bin/python3 $T/line.py $SPORT bare-get | grep -q \"request line 'GET' has no request target\""
kill $sp; wait $sp

finish
