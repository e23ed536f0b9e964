#!/bin/sh
# recordio_mlio.sh - RecordIO as Amazon writes it: ML-IO's split records (plain fragments) read
# with default options in inspect, convert and train (--recordio-split auto); a corrupt stream
# still fails with byte offset and record index; a Record with a label and no features is
# converted and inspected, and refused by train and predict with its offset.
. tests/cli/lib.sh
NAME=cli_recordio_mlio
D=$TD/sagemaker/recordio-mlio
$LL convert $D/complete_records.pr $T/complete.csv 2>/dev/null
check "split records: inspect with default options" $LL inspect --validate $D/split_records.pr
check "split records: convert gives the complete records' rows" sh -c \
    "$LL convert $D/split_records.pr $T/split.csv 2>/dev/null && cmp -s $T/split.csv $T/complete.csv"
check "split records: train with default options" \
    $LL train --train $D/split_records.pr -H predictor_type=regressor -H feature_dim=3 -H epochs=1 \
    -H mini_batch_size=2 --model-dir $T/m
check_fails "split records: --recordio-split dmlc refuses them" 1 "record 0" \
    $LL inspect --validate --recordio-split dmlc $D/split_records.pr
# record 2's first fragment damaged (map entry length 0x1a -> 0x7f at byte 185)
/usr/bin/python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read()); assert b[185] == 0x1a; b[185] = 0x7f
open(sys.argv[2], "wb").write(b)' $D/split_records.pr $T/corrupt.pr
check_fails "corrupt stream: byte offset and record index" 1 "(byte 176, record 2)" \
    $LL convert $T/corrupt.pr $T/out.csv
check "corrupt stream: no output file" test ! -e $T/out.csv
# a Record with features and a label, then one with only a label
/usr/bin/python3 -c '
import struct, sys
def rec(p):
    return struct.pack("<II", 0xCED7230A, len(p)) + p + b"\0" * (-len(p) % 4)
val = lambda t: b"\x0a\x06values\x12" + bytes([len(t) + 2]) + b"\x12" + bytes([len(t)]) + t
ent = lambda f, t: bytes([f << 3 | 2, len(val(t))]) + val(t)
f32 = lambda *v: b"\x0a" + bytes([4 * len(v)]) + struct.pack("<%df" % len(v), *v)
sys.stdout.buffer.write(rec(ent(1, f32(1, 2)) + ent(2, f32(1))) + rec(ent(2, f32(0))))
' >$T/lab.pbr
check "label-only record: inspect shows it without features" sh -c \
    "$LL inspect $T/lab.pbr | grep -q '#1 (byte 52, 20 bytes) {\"features\": {}, \"label\"'"
check "label-only record: convert to CSV" sh -c "$LL convert $T/lab.pbr $T/lab.csv 2>/dev/null && [ \"\$(tail -n 1 $T/lab.csv)\" = 0 ]"
check "label-only record: convert to RecordIO keeps no features" sh -c \
    "$LL convert $T/lab.pbr $T/lab2.pbr 2>/dev/null && $LL inspect $T/lab2.pbr | grep -q '#1 (byte 52, 20 bytes) {\"features\": {}'"
check_fails "label-only record: train refuses it with its offset" 1 "(byte 52, record 1).*only a label" \
    $LL train --train $T/lab.pbr -H predictor_type=regressor -H feature_dim=2 --model-dir $T/m2
check_fails "label-only record: predict refuses it with its offset" 1 "(byte 52, record 1)" \
    $LL predict --model $T/m --content-type application/x-recordio-protobuf $T/lab.pbr $T/p.jsonl
finish
