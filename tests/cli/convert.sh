# End-to-end checks of `linlearn convert` and `linlearn inspect` on RecordIO inputs.
. tests/cli/lib.sh
NAME=cli_convert
R=$TD/recordio
check "SDK dense file re-encodes byte for byte" sh -c "$LL convert $R/dense_f32_labeled_10000x6.pbr $T/a.pbr && cmp $T/a.pbr $R/dense_f32_labeled_10000x6.pbr"
check "SDK sparse file re-encodes byte for byte" sh -c "$LL convert $R/sparse_csr_f32_labeled_6x10.pbr $T/s.pbr && cmp $T/s.pbr $R/sparse_csr_f32_labeled_6x10.pbr"
check "pipe through stdin and stdout" sh -c "cat $R/dense_f32_labeled_7x5.pbr | $LL convert --from recordio --to recordio - - | cmp - $R/dense_f32_labeled_7x5.pbr"
check "recordio -> jsonl -> recordio round trip" sh -c "$LL convert $R/sparse_csr_f32_labeled_6x10.pbr $T/s.jsonl && test \$(wc -l < $T/s.jsonl) -eq 6"
check "jsonl sparse row shape" grep -q '"keys": \[0, 3, 9\], "values": \[1.5, -2.0, 0.25\], "shape": \[10\]' "$T/s.jsonl"
check "dense output of sparse rows" sh -c "$LL convert --dense $R/sparse_csr_f32_labeled_6x10.pbr - --to jsonl | head -1 | grep -q '\"features\": \[1.5, 0.0, 0.0, -2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25\]'"
check "sparse output of dense rows drops zeros" sh -c "$LL convert --sparse $R/dense_f32_1feature_5rows.pbr - --to jsonl | sed -n 4p | grep -q '\"keys\": \[\]'"
check "split record (dmlc) reads as one record" sh -c "$LL inspect --json --head 0 $R/split_record_cflag123.pbr | grep -q '\"records\": 1'"
check "split record (concat mode)" sh -c "$LL inspect --json --head 0 --recordio-split concat $R/split_record_fragments_concat.pbr | grep -q '\"records\": 1'"
check "unlabelled rows have no label" sh -c "$LL convert $R/dense_f32_unlabeled_4x3.pbr - --to jsonl | head -1 | grep -vq label"
check "validate prints a verdict" sh -c "$LL inspect --validate $R/concat_two_objects.pbr | grep -q 'valid recordio, 8 records'"
head -c 300 $R/dense_f32_labeled_7x5.pbr > $T/trunc.pbr
check_fails "truncated file: exit 1, offset and record named" 1 "trunc.pbr (byte 256, record 4): truncated_payload" $LL convert $T/trunc.pbr $T/out.csv
check "no partial output after a failure" test ! -e $T/out.csv
check_fails "missing input" 3 "No such file" $LL convert $T/nope.pbr $T/x.pbr
check_fails "unknown output format" 2 "cannot tell the output format" $LL convert $R/dense_f32_1row.pbr $T/x.weird
check_fails "bad option value" 2 "index-base takes 0 or 1" $LL convert --index-base 2 a b
check_fails "big-endian magic explained" 1 "big-endian" sh -c "printf '\316\327\043\012\000\000\000\000' > $T/be.pbr; $LL inspect --validate $T/be.pbr"
check "shards by record count" sh -c "$LL convert --shard-records 4000 $R/dense_f32_labeled_10000x6.pbr $T/sh && ls $T/sh | wc -l | grep -qx 3"
check "inspect head shows the whole Record" sh -c "$LL inspect --head 1 $R/hand_multidim_shape.pbr | grep -q '\"shape\": \[3, 4\]'"
check "recordio -> csv -> recordio reproduces the SDK bytes" sh -c "$LL convert $R/dense_f32_labeled_10000x6.pbr $T/r.csv && $LL convert $T/r.csv $T/r.pbr && cmp $T/r.pbr $R/dense_f32_labeled_10000x6.pbr"
check "recordio -> libsvm -> recordio (sparse) keeps values" sh -c "$LL convert $R/sparse_csr_f32_labeled_6x10.pbr $T/s.libsvm && $LL convert --feature-dim 10 $T/s.libsvm $T/s2.pbr && $LL convert $T/s2.pbr - --to jsonl | cmp - $T/s.jsonl"
printf '1,2,3\n0,4,5\n1,x,6\n' > $T/bad.csv
check_fails "CSV error names line, column and byte" 1 "bad.csv:3:2 (byte 14)" $LL convert $T/bad.csv $T/bad.pbr
check "no output after a CSV error" test ! -e $T/bad.pbr
printf '1,2,3\n0,4\n' > $T/short.csv
check_fails "CSV field count mismatch" 1 "short.csv:2" $LL convert $T/short.csv $T/short.pbr
check "quickstart sample converts" sh -c "$LL convert examples/data/sample_train.csv $T/q.pbr && $LL inspect --json --head 0 $T/q.pbr | grep -q '\"records\": 600'"
finish
