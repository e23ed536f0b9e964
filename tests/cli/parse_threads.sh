# CSV and LIBSVM parsed on several threads (--threads; src/parse_mt.c): convert, predict and
# train give the bytes, rows and messages of one thread, with chunk boundaries forced everywhere
# (LL_PARSE_CHUNK_BYTES), from files, gzip, stdin and a FIFO; train names a bad label file:line.
. tests/cli/lib.sh
NAME=cli_parse_threads
DS=$TD/datasets

# same_convert WHAT IN ARGS...: the output for --threads 2 and 4, with several chunk sizes, is
# the bytes of --threads 1
same_convert() {
    what=$1; in=$2; ext=$3; shift 3
    "$LL" convert --threads 1 "$@" "$in" "$T/ref.$ext" 2>/dev/null || { check "$what (one thread)" false; return; }
    ok=1
    for th in 2 4; do
        for cb in "" 1 97 4096; do
            LL_PARSE_CHUNK_BYTES=$cb "$LL" convert --threads $th "$@" "$in" "$T/mt.$ext" 2>/dev/null &&
                cmp -s "$T/ref.$ext" "$T/mt.$ext" || { ok=0; echo "    threads $th chunk '$cb' differs"; }
        done
    done
    check "$what" test $ok -eq 1
}

for d in breast_cancer diabetes digits; do
    same_convert "$d CSV -> RecordIO" "$DS/$d/train.csv" pbr
    same_convert "$d CSV -> LIBSVM" "$DS/$d/train.csv" libsvm
done
same_convert "sparse LIBSVM -> RecordIO" "$DS/sparse_synthetic/train.libsvm" pbr --index-base 0
same_convert "sparse LIBSVM -> CSV" "$DS/sparse_synthetic/train.libsvm" csv --index-base 0 --feature-dim 10000
same_convert "sparse LIBSVM -> JSON Lines (running dimension)" "$DS/sparse_synthetic/train.libsvm" jsonl --index-base 0

# awkward text: blank lines, CRLF, spaces, a header, a last line without a newline
awk 'BEGIN { srand(7); print "label,a,b,c";
    for (i = 0; i < 4000; i++) {
        if (i % 7 == 0) print "";
        if (i % 11 == 0) printf "  \r\n";
        printf "%d, %.9g,%.6g ,%g%s\n", i % 2, rand() * 1000 - 500, rand(), i, (i % 5 ? "" : "\r") }
    printf "1,2,3,4" }' >"$T/awk.csv"
same_convert "CSV with blank lines, CRLF, header" "$T/awk.csv" pbr --header
awk 'BEGIN { srand(9); for (i = 0; i < 4000; i++) {
        if (i % 9 == 0) print "# comment";
        if (i % 13 == 0) print "";
        printf "%d qid:%d", i % 2, i;
        for (j = 1 + i % 3; j < 40 + (i % 97 == 0 ? i : 0); j += 1 + int(rand() * 7)) printf " %d:%.9g", j, rand() - 0.5;
        print (i % 6 ? "" : " # tail") } }' >"$T/awk.libsvm"
same_convert "LIBSVM with comments, qid, growing dimension" "$T/awk.libsvm" pbr

# sources: gzip file, stdin, a FIFO (parallelism works on the inflated bytes)
"$LL" convert --threads 1 "$T/awk.csv" --header "$T/ref.pbr" 2>/dev/null
gzip -c "$T/awk.csv" >"$T/awk.csv.gz"
check "gzip file, 4 threads" sh -c "LL_PARSE_CHUNK_BYTES=333 $LL convert --threads 4 --header $T/awk.csv.gz $T/gz.pbr && cmp $T/ref.pbr $T/gz.pbr"
check "gzip on stdin, 2 threads" sh -c "gzip -c $T/awk.csv | LL_PARSE_CHUNK_BYTES=100 $LL convert --threads 2 --header --from csv --to recordio - - | cmp - $T/ref.pbr"
mkfifo "$T/fifo"
check "FIFO, 3 threads" sh -c "cat $T/awk.csv > $T/fifo & LL_PARSE_CHUNK_BYTES=50 $LL convert --threads 3 --header --from csv $T/fifo $T/fifo.pbr && cmp $T/ref.pbr $T/fifo.pbr"

# over HTTP (the bytes come through the remote reader and its prefetch thread)
mkdir -p "$T/www" && cp "$T/awk.csv" "$T/awk.csv.gz" "$T/www/"
(cd "$T/www" && exec /usr/bin/python3 -c '
import http.server, socketserver
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
s = socketserver.TCPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()' >"$T/port") & hp=$!
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do [ -s "$T/port" ] && break; sleep 0.2; done
PORT=$(cat "$T/port")
check "HTTP source, 2 threads" sh -c "LL_PARSE_CHUNK_BYTES=500 $LL convert --threads 2 --header http://127.0.0.1:$PORT/awk.csv $T/h.pbr && cmp $T/ref.pbr $T/h.pbr"
check "HTTP gzip source, 4 threads" sh -c "LL_PARSE_CHUNK_BYTES=70 $LL convert --threads 4 --header --from csv http://127.0.0.1:$PORT/awk.csv.gz $T/hg.pbr && cmp $T/ref.pbr $T/hg.pbr"
kill $hp 2>/dev/null

# errors: the first in input order, located as on one thread
awk 'NR >= 3000 && !a && /,/ { sub(/,/, ",x"); a = 1 } NR >= 3500 && !b && /,/ { sub(/,/, ",y"); b = 1 } { print }' "$T/awk.csv" >"$T/bad.csv"
"$LL" convert --threads 1 --header "$T/bad.csv" "$T/bad1.pbr" 2>"$T/e1"
for th in 2 4; do
    LL_PARSE_CHUNK_BYTES=64 "$LL" convert --threads $th --header "$T/bad.csv" "$T/badn.pbr" 2>"$T/en"
    check "CSV error with $th threads is the one-thread message" sh -c "grep -q 'found .x' $T/e1 && cmp $T/e1 $T/en"
done
check "no output after the error" test ! -e "$T/badn.pbr"
sed '2500s/:/;/' "$T/awk.libsvm" >"$T/bad.libsvm"
"$LL" convert --threads 1 "$T/bad.libsvm" "$T/b1.pbr" 2>"$T/e1"
LL_PARSE_CHUNK_BYTES=200 "$LL" convert --threads 4 "$T/bad.libsvm" "$T/b4.pbr" 2>"$T/en"
check "LIBSVM error with 4 threads is the one-thread message" sh -c "grep -q 'bad.libsvm:2500:' $T/e1 && cmp $T/e1 $T/en"
check_fails "bad --threads" 2 "threads takes" "$LL" convert --threads x a b

# predict: the same scores
"$LL" train --train "$DS/breast_cancer/train.csv" -H predictor_type=binary_classifier \
    -H feature_dim=30 -H epochs=2 --model-dir "$T/m" >/dev/null 2>&1
"$LL" predict --threads 1 --model "$T/m/model.tar.gz" --label-column 0 "$DS/breast_cancer/train.csv" "$T/p1.jsonl" 2>/dev/null
check "predict with 2 threads and small chunks scores the same" sh -c "LL_PARSE_CHUNK_BYTES=150 $LL predict --threads 2 --model $T/m/model.tar.gz --label-column 0 $DS/breast_cancer/train.csv $T/p2.jsonl && test -s $T/p1.jsonl && cmp $T/p1.jsonl $T/p2.jsonl"

# train: the same model for any parse chunking; a bad label named by file:line
"$LL" train --threads 1 --train "$T/awk.csv" --header -H predictor_type=binary_classifier -H feature_dim=3 \
    -H epochs=1 --model-dir "$T/t1" >/dev/null 2>&1
check "train on 2 parse threads gives the same model" sh -c "LL_PARSE_CHUNK_BYTES=300 $LL train --threads 1 --train $T/awk.csv --header -H predictor_type=binary_classifier -H feature_dim=3 -H epochs=1 --model-dir $T/t2 >/dev/null 2>&1 && test -s $T/t1/model.tar.gz && cmp $T/t1/model.tar.gz $T/t2/model.tar.gz"
printf 'y,a,b\n\n1,2,3\n\n0,1,1\n2,5,5\n1,1,1\n' >"$T/h.csv"
for th in 1 2; do
    check_fails "CSV bad label after header and blank lines: file:6 ($th threads)" 1 "h.csv:6 (byte 20): label 2 is not 0 or 1" \
        "$LL" train --threads $th --train "$T/h.csv" --header -H predictor_type=binary_classifier -H feature_dim=2 --model-dir "$T/m2"
done
printf '# c\n1 1:2\n\n0 2:1 # x\n# c\n5 1:1\n' >"$T/h.libsvm"
for th in 1 2; do
    check_fails "LIBSVM bad label after comments: file:6 ($th threads)" 1 "h.libsvm:6 (byte 25): label 5 is not 0 or 1" \
        "$LL" train --threads $th --train "$T/h.libsvm" -H predictor_type=binary_classifier -H feature_dim=2 --model-dir "$T/m2"
done
awk 'NR == 3001 { sub(/^[01],/, "7,") } { print }' "$T/awk.csv" >"$T/lab.csv"
check_fails "a bad label deep in a large CSV, 2 threads, small chunks: file:line" 1 "lab.csv:3001 (byte " \
    env LL_PARSE_CHUNK_BYTES=128 "$LL" train --threads 2 --train "$T/lab.csv" --header -H predictor_type=binary_classifier -H feature_dim=3 --model-dir "$T/m3"
printf 'y,a,b\n\n1,2,3\n\n7,1,1\n' >"$T/h7.csv"
check_fails "multiclass label out of range: file:line" 1 "h7.csv:5 (byte 14): label 7 is not a class 0..2" \
    "$LL" train --train "$T/h7.csv" --header -H predictor_type=multiclass_classifier -H num_classes=3 -H feature_dim=2 --model-dir "$T/m2"
finish
