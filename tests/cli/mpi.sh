#!/bin/sh
# mpi.sh - training across hosts under a real mpirun on loopback (docs/DISTRIBUTED.md): N ranks
# train the model one process trains (within the stated float tolerance, the same selected model
# and threshold) on dense and sparse data, CSV, LIBSVM and RecordIO, a folder and an S3 prefix;
# object sharding; 16 ranks; model averaging; a killed or hung rank ends the job; resume.
# Skipped, saying why, without mpirun or with a linlearn built with MPI=0. LL_SKIP_S3=1 skips
# the S3 part; it starts its own S3 server on 127.0.0.1:7490 (or 7492, 7494; not the shared 7480).
NAME=mpi
. tests/cli/lib.sh
if ! command -v mpirun >/dev/null 2>&1; then
    skip "every mpirun check" "mpirun is not installed: scripts/install-deps installs openmpi-bin"
    finish; exit $?
fi
if ! ldd "$LL" 2>/dev/null | grep -q libmpi; then
    skip "every mpirun check" "$LL was built without MPI (make MPI=0)"
    finish; exit $?
fi
if nm "$LL" 2>/dev/null | grep -q '__[at]san_init'; then
    skip "every mpirun check" "sanitizer build: libmpi is not instrumented (its leaks and threads would be reported)"
    finish; exit $?
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
MPI="mpirun --oversubscribe --bind-to none -np"
PY=/usr/bin/python3
DS=$TD/datasets
BC="--train $DS/breast_cancer/train.csv --validation $DS/breast_cancer/validation.csv
    --test $DS/breast_cancer/test.csv -H predictor_type=binary_classifier -H epochs=4
    -H num_models=8 -H binary_classifier_model_selection_criteria=f_beta"

# same REF OUT: OUT's model is REF's within the float tolerance (max |w - w_ref| <= 1e-4 x
# max |w_ref|, bias included), with the same selected model and a threshold within 1e-4
same() {
    "$LL" export --format json "$1/model.tar.gz" > "$1/w.json" &&
    "$LL" export --format json "$2/model.tar.gz" > "$2/w.json" &&
    $PY - "$1" "$2" <<'EOF'
import json, sys
a, b = (json.load(open(d + "/w.json")) for d in sys.argv[1:3])
ma, mb = (json.load(open(d + "/m.json")) for d in sys.argv[1:3])
wa = [x for r in a["weights"] for x in r] + a["bias"]
wb = [x for r in b["weights"] for x in r] + b["bias"]
scale = max(abs(x) for x in wa) or 1.0
d = max(abs(x - y) for x, y in zip(wa, wb)) / scale
ia, ib = ma["selected_model"]["index"], mb["selected_model"]["index"]
ta, tb = a.get("threshold", 0.5), b.get("threshold", 0.5)
print("relative difference %.3g, models %d/%d, thresholds %r/%r" % (d, ia, ib, ta, tb))
sys.exit(0 if len(wa) == len(wb) and d <= 1e-4 and ia == ib and abs(ta - tb) <= 1e-4 else 1)
EOF
}
# rows_by_host OUT N: the metrics JSON lists N hosts whose rows add up to the train rows
rows_by_host() {
    $PY - "$1/m.json" "$2" "$3" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1])); n = int(sys.argv[2]); total = int(sys.argv[3])
r = m["train_rows_by_host"]
print(m["hosts"], r)
sys.exit(0 if m["hosts"] == ["algo-%d" % (i + 1) for i in range(n)] and sum(r.values()) == total
         and all(v > 0 for v in r.values()) else 1)
EOF
}
train1() { # train1 OUT args...: one plain process
    out=$1; shift; mkdir -p "$out"
    "$LL" train "$@" --model-dir "$out" --metrics-json "$out/m.json" > "$out/log" 2>&1
}
trainN() { # trainN N OUT args...: N ranks
    n=$1; out=$2; shift 2; mkdir -p "$out"
    $MPI "$n" "$LL" train --log-format sagemaker "$@" --model-dir "$out" --metrics-json "$out/m.json" > "$out/log" 2>&1
}

# a plain run never calls MPI (lazy binding shows every MPI function the program calls)
D1="--train $DS/diabetes/train.csv -H predictor_type=regressor -H epochs=1"
check "a plain run calls no MPI function" sh -c \
    "LD_DEBUG=bindings '$LL' train $D1 2>&1 >/dev/null | grep 'linlearn \[0\] to .*libmpi' | grep -q MPI_ && exit 1 || exit 0"
check "under mpirun it joins MPI" sh -c \
    "$MPI 1 -x LD_DEBUG=bindings '$LL' train $D1 2>&1 | grep 'linlearn \[0\] to .*libmpi' | grep -q MPI_Init"

# dense CSV with validation and test (selection by f_beta: calibrated threshold)
check "dense csv, 1 process" train1 "$T/bc1" $BC
check "dense csv, 2 ranks" trainN 2 "$T/bc2" $BC
check "dense csv, 2 ranks = 1 process" same "$T/bc1" "$T/bc2"
check "dense csv, 4 ranks" trainN 4 "$T/bc4" $BC
check "dense csv, 4 ranks = 1 process" same "$T/bc1" "$T/bc4"
check "train rows by host (4)" rows_by_host "$T/bc4" 4 341
check "every log line names its host" sh -c "grep -q 'host=algo-4' '$T/bc4/log' && grep -q 'host=algo-1' '$T/bc4/log'"
check "only algo-1 writes" sh -c "[ \$(grep -c 'quality_metric: host=algo-1, test' '$T/bc4/log') -ge 1 ]"

# sparse LIBSVM (10,000 features, ~20 a row: the sparse kernel and its lazy updates)
head -2400 "$DS/sparse_synthetic/train.libsvm" > "$T/sp.libsvm"
head -800 "$DS/sparse_synthetic/validation.libsvm" > "$T/spv.libsvm"
SP="--train $T/sp.libsvm --validation $T/spv.libsvm --index-base 0 -H feature_dim=10000
    -H predictor_type=binary_classifier -H epochs=3 -H num_models=4 -H mini_batch_size=200"
check "sparse libsvm, 1 process" train1 "$T/sp1" $SP
check "sparse libsvm, 2 ranks" trainN 2 "$T/sp2" $SP
check "sparse libsvm, 2 ranks = 1 process" same "$T/sp1" "$T/sp2"
check "sparse libsvm, 4 ranks" trainN 4 "$T/sp4" $SP
check "sparse libsvm, 4 ranks = 1 process" same "$T/sp1" "$T/sp4"

# RecordIO-protobuf, dense and sparse
"$LL" convert "$DS/breast_cancer/train.csv" "$T/bc.pbr" 2>/dev/null
"$LL" convert --from libsvm --index-base 0 --feature-dim 10000 "$T/sp.libsvm" "$T/sp.pbr" 2>/dev/null
RB="--train $T/bc.pbr -H predictor_type=binary_classifier -H epochs=3 -H num_models=4"
check "dense recordio, 1 process" train1 "$T/rb1" $RB
check "dense recordio, 3 ranks" trainN 3 "$T/rb3" $RB
check "dense recordio, 3 ranks = 1 process" same "$T/rb1" "$T/rb3"
RS="--train $T/sp.pbr -H feature_dim=10000 -H predictor_type=binary_classifier -H epochs=2
    -H num_models=4 -H mini_batch_size=300"
check "sparse recordio, 1 process" train1 "$T/rs1" $RS
check "sparse recordio, 2 ranks" trainN 2 "$T/rs2" $RS
check "sparse recordio, 2 ranks = 1 process" same "$T/rs1" "$T/rs2"

# multiclass and regression (label scaling), and 16 ranks on tiny data
DG="--train $DS/digits/train.csv --validation $DS/digits/validation.csv
    -H predictor_type=multiclass_classifier -H num_classes=10 -H epochs=2 -H num_models=4"
check "multiclass, 1 process" train1 "$T/dg1" $DG
check "multiclass, 2 ranks" trainN 2 "$T/dg2" $DG
check "multiclass, 2 ranks = 1 process" same "$T/dg1" "$T/dg2"
DB="--train $DS/diabetes/train.csv --validation $DS/diabetes/validation.csv
    --test $DS/diabetes/test.csv -H predictor_type=regressor -H epochs=3 -H num_models=4"
check "regressor, 1 process" train1 "$T/db1" $DB
check "regressor, 16 ranks" trainN 16 "$T/db16" $DB
check "regressor, 16 ranks = 1 process" same "$T/db1" "$T/db16"
check "train rows by host (16)" rows_by_host "$T/db16" 16 265

# a folder of objects: at least one per host -> each host reads only its own files
mkdir -p "$T/dir"
head -200 "$DS/breast_cancer/train.csv" > "$T/dir/part-0.csv"
tail -n +201 "$DS/breast_cancer/train.csv" > "$T/dir/part-1.csv"
FD="--train $T/dir -H predictor_type=binary_classifier -H epochs=3 -H num_models=4"
check "folder, 2 ranks, sharded by object" trainN 2 "$T/fd2" $FD
check "each host read its own object" sh -c "$PY -c \"import json,sys; r=json.load(open('$T/fd2/m.json'))['train_rows_by_host']; sys.exit(0 if r=={'algo-1':200,'algo-2':141} else 1)\""
check "the log says how the channel is split" grep -q "2 objects sharded by key over 2 hosts" "$T/fd2/log"
check "folder, 1 process" train1 "$T/fd1" $FD
check "folder, 2 ranks, --shard records" trainN 2 "$T/fdr" $FD --shard records
check "folder split by record = 1 process" same "$T/fd1" "$T/fdr"
check_fails "--shard files with fewer objects than hosts" 2 "cannot be sharded over 3 hosts" \
    $MPI 3 "$LL" train $FD --shard files

# model averaging every H batches: every host ends with the same model, algo-1 writes it
check "model averaging every 2 batches, 2 ranks" trainN 2 "$T/avg" $BC --average-steps 2
check "model averaging: a model with test metrics" sh -c "grep -q '\"test:binary_f_beta\"' '$T/avg/m.json'"

# faults: a killed rank ends the job; a stopped (hung) one trips the watchdog
LONG="--train $T/sp.libsvm --index-base 0 -H feature_dim=10000 -H predictor_type=binary_classifier
    -H epochs=400 -H num_models=32 -H mini_batch_size=100 -H early_stopping_patience=1000"
LONG=$(echo $LONG) # one line: it goes through sh -c
fault() { # fault SIGNAL LIMIT_S [RANK]: signal RANK (default 1) once it trains; the job must end within LIMIT_S
    fr=${3:-1}
    rm -f "$T/pid."*
    t0=$(date +%s)
    $MPI 2 sh -c "echo \$\$ > $T/pid.\$OMPI_COMM_WORLD_RANK; exec '$LL' train --log-format sagemaker $LONG --dist-timeout 3" \
        > "$T/fault.log" 2>&1 & mp=$!
    i=0; while [ ! -s "$T/pid.$fr" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    while ! grep -q "epoch=1," "$T/fault.log" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    kill -"$1" "$(cat "$T/pid.$fr")"
    ts=$(date +%s)
    wait $mp; st=$?
    t1=$(date +%s)
    [ "$1" = STOP ] && kill -CONT "$(cat "$T/pid.$fr")" 2>/dev/null
    echo "exit $st after $((t1 - ts)) s"; tail -5 "$T/fault.log"
    [ $st -ne 0 ] && [ $((t1 - ts)) -le "$2" ]
}
named() { # the watchdog's line in the last fault's log matches $1 (else its lines are shown)
    grep -q "$1" "$T/fault.log" || { grep 'linlearn:\|watchdog\|rank' "$T/fault.log" | head -8; false; }
}
check "a killed rank ends the job (non-zero, within 20 s)" fault KILL 20
check "mpirun names the killed rank (rank 1 = algo-2)" grep -q "rank 1" "$T/fault.log"
check "a hung rank trips the watchdog (non-zero, within 20 s)" fault STOP 20
check "the watchdog names the waiting host, what it waited in and the hung host" \
    named "host algo-1 (rank 0 of 2): waited 3 s in [^(]* (step [0-9]*) for host algo-2 (rank 1), which stopped answering"
check "no host blames a host that was waiting" sh -c "! grep -q 'for host algo-1' '$T/fault.log'"
check "a hung algo-1 trips the watchdog too" fault STOP 20 0
check "algo-2's watchdog names algo-1" \
    named "host algo-2 (rank 1 of 2): waited 3 s in [^(]* (step [0-9]*) for host algo-1 (rank 0), which stopped answering"

# resume: kill a rank after a checkpoint, start again, get the uninterrupted model
RES="--train $T/sp.libsvm --index-base 0 -H feature_dim=10000 -H predictor_type=binary_classifier
    -H epochs=12 -H num_models=16 -H mini_batch_size=100 -H early_stopping_patience=1000"
RES=$(echo $RES)
check "uninterrupted run, 2 ranks" trainN 2 "$T/un" $RES
mkdir -p "$T/ck" "$T/re"
$MPI 2 sh -c "echo \$\$ > $T/rpid.\$OMPI_COMM_WORLD_RANK; exec '$LL' train --log-format sagemaker $RES --checkpoint-dir '$T/ck' --model-dir '$T/re' --metrics-json '$T/re/m.json'" \
    > "$T/re/log1" 2>&1 & mp=$!
i=0; while [ ! -f "$T/ck/linlearn-state.ckpt" ] && kill -0 $mp 2>/dev/null && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -KILL "$(cat "$T/rpid.1")" 2>/dev/null
wait $mp; st=$?
if [ $st -eq 0 ]; then
    skip "resume after a killed rank" "the run finished before the kill"
else
    check "restart, 2 ranks" sh -c "$MPI 2 '$LL' train --log-format sagemaker $RES --checkpoint-dir '$T/ck' --model-dir '$T/re' --metrics-json '$T/re/m.json' > '$T/re/log' 2>&1"
    check "the restart resumed from the checkpoint" grep -q "Loaded checkpoint" "$T/re/log"
    check "resumed model = uninterrupted model" same "$T/un" "$T/re"
fi

# mid-epoch checkpoints across hosts (--checkpoint-steps): algo-1 records every host's place in
# its share; a job killed right after one resumes inside that epoch, to the uninterrupted model
# bit for bit (split by record, and by object with shares of different lengths)
midkill() { # midkill TAG E:S ARGS...: run 2 ranks; algo-1 is SIGKILLed right after saving the
    # checkpoint inside epoch E after S steps (LINLEARN_FAULT_KILL_AT: a kill timed from outside
    # lands after the epoch's end on a fast epoch), which ends the job on both hosts
    tag=$1; at=$2; shift 2
    rm -rf "$T/ck$tag" "$T/re$tag"; mkdir -p "$T/ck$tag" "$T/re$tag"
    LINLEARN_FAULT_KILL_AT=$at $MPI 2 -x LINLEARN_FAULT_KILL_AT "$LL" train --log-format sagemaker "$@" \
        --checkpoint-dir "$T/ck$tag" --model-dir "$T/re$tag" --metrics-json "$T/re$tag/m.json" \
        > "$T/re$tag/log1" 2>&1 && return 1
    grep "Saved checkpoint" "$T/re$tag/log1" | tail -1 | grep -q "inside epoch ${at%%:*} after ${at#*:} " &&
        [ ! -s "$T/re$tag/model.tar.gz" ]
}
midresume() { # midresume TAG ARGS...: the restart must say it continues inside an epoch
    tag=$1; shift
    $MPI 2 "$LL" train --log-format sagemaker "$@" --checkpoint-dir "$T/ck$tag" --model-dir "$T/re$tag" \
        --metrics-json "$T/re$tag/m.json" > "$T/re$tag/log" 2>&1 &&
        grep -q "continuing inside epoch" "$T/re$tag/log"
}
bitsame() { "$LL" export --format csv "$1/model.tar.gz" > "$T/x1.csv" && "$LL" export --format csv "$2/model.tar.gz" | cmp - "$T/x1.csv"; }
check "checkpoints every 5 steps leave the model as it is" sh -c "mkdir -p '$T/ck5' && $MPI 2 '$LL' train --log-format sagemaker $RES --checkpoint-dir '$T/ck5' --checkpoint-steps 5 --model-dir '$T/ck5m' > '$T/ck5.log' 2>&1"
check "... bit for bit" bitsame "$T/un" "$T/ck5m"
check "algo-1 saved checkpoints inside epochs" grep -q 'Saved checkpoint inside epoch 0 after 5 mini-batch steps' "$T/ck5.log"
check "algo-1 killed right after a checkpoint inside epoch 3 (records): the job fails, no model" \
    midkill m 3:2 $RES --checkpoint-steps 2
cp -r "$T/ckm" "$T/ckm1"
check "a mid-epoch checkpoint of 2 hosts is refused by 1 process" sh -c \
    "! '$LL' train $RES --checkpoint-dir '$T/ckm1' --model-dir '$T/one' > '$T/one.log' 2>&1 && grep -q 'saved inside epoch 3 by 2 host(s); resume it with 2' '$T/one.log'"
check "restart after a kill inside an epoch resumes inside it (records)" midresume m $RES
check "mid-epoch resume = uninterrupted model, bit for bit (records)" bitsame "$T/un" "$T/rem"
mkdir -p "$T/dir2"
head -300 "$DS/breast_cancer/train.csv" > "$T/dir2/part-0.csv"
tail -n +301 "$DS/breast_cancer/train.csv" > "$T/dir2/part-1.csv"
FDS="--train $T/dir2 -H predictor_type=binary_classifier -H epochs=6 -H num_models=4 -H mini_batch_size=20"
check "object shards, uninterrupted" trainN 2 "$T/fdu" $FDS
# algo-1 has 30 mini-batches an epoch, algo-2 5: from step 6 on only algo-1 is still reading
# (checkpoints at steps 8, 16 and 24 of every epoch)
check "algo-1 killed right after a checkpoint inside epoch 2 (object shards): the job fails, no model" \
    midkill f 2:16 $FDS --checkpoint-steps 8
check "restart resumes inside the epoch (object shards of different lengths)" midresume f $FDS
check "mid-epoch resume = uninterrupted model, bit for bit (object shards)" bitsame "$T/fdu" "$T/ref"

# an S3 prefix on a throw-away server (port 7490)
if [ "${LL_SKIP_S3:-0}" = 1 ] || ! command -v radosgw >/dev/null 2>&1; then
    skip "training from an S3 prefix" "no S3 server here (radosgw missing or LL_SKIP_S3=1)"
else
    srv=$T/s3srv; up=0
    for port in 7490 7492 7494; do # another run may hold a port
        if bash scripts/s3-server start "$srv" $port > "$T/s3start.log" 2>&1; then up=1; break; fi
        bash scripts/s3-server stop "$srv" >/dev/null 2>&1; rm -rf "$srv"
    done
    if [ $up = 1 ]; then
        eval "$(bash scripts/s3-server env "$srv")"
        export AWS_ENDPOINT_URL="$S3_ENDPOINT"
        curl -s -o /dev/null --aws-sigv4 "aws:amz:${AWS_DEFAULT_REGION:-us-east-1}:s3" \
            --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -X PUT "$S3_ENDPOINT/lltest" \
            -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        "$LL" convert "$T/dir/part-0.csv" s3://lltest/mpi/part-0.csv 2>/dev/null &&
            "$LL" convert "$T/dir/part-1.csv" s3://lltest/mpi/part-1.csv 2>/dev/null
        S3="--train s3://lltest/mpi/ -H predictor_type=binary_classifier -H epochs=3 -H num_models=4"
        check "s3 prefix, 2 ranks, sharded by object" trainN 2 "$T/s32" $S3
        check "s3: each host read its own object" sh -c "$PY -c \"import json,sys; r=json.load(open('$T/s32/m.json'))['train_rows_by_host']; sys.exit(0 if r=={'algo-1':200,'algo-2':141} else 1)\""
        check "s3 prefix, 1 process" train1 "$T/s31" $S3
        check "s3 prefix, 2 ranks, --shard records" trainN 2 "$T/s3r" $S3 --shard records
        check "s3 split by record = 1 process" same "$T/s31" "$T/s3r"
        check "s3 = the same data from files" same "$T/fd1" "$T/s31"
    else
        check "start the S3 server on 7490-7494" sh -c "cat '$T/s3start.log'; false"
    fi
    bash scripts/s3-server stop "$srv" >/dev/null 2>&1
fi
finish
