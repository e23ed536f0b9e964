# Kill and resume: `linlearn train --sagemaker` with a checkpoint folder is killed (SIGKILL or
# SIGTERM) at random moments and restarted until it completes; the final model must equal the
# model of an uninterrupted run, bit for bit (same seed and threads): dense CSV, then sparse
# RecordIO with each optimizer (sgd, adam, rmsprop), each killed several times. Also File vs
# Pipe.
. tests/cli/lib.sh
NAME=cli_container_resume
DS=$TD/datasets/digits
HP='{"predictor_type": "multiclass_classifier", "num_classes": "10", "epochs": "20", "mini_batch_size": "20", "num_models": "8", "early_stopping_patience": "20"}'
mkroot() {
    r=$T/$1; rm -rf "$r"; mkdir -p "$r/input/config" "$r/input/data/train" "$r/input/data/validation"
    printf '%s\n' "$HP" > "$r/input/config/hyperparameters.json"
    printf '{"train": {"TrainingInputMode": "File", "ContentType": "text/csv"}, "validation": {"TrainingInputMode": "File", "ContentType": "text/csv"}}\n' > "$r/input/config/inputdataconfig.json"
    cp $DS/train.csv "$r/input/data/train/"; cp $DS/validation.csv "$r/input/data/validation/"
}
rnd() { od -An -N2 -tu2 /dev/urandom | tr -d ' '; }
# the inode of a checkpoint file (each save writes a new file and renames it), or "none"
ck_id() { stat -c %i "$1" 2>/dev/null || echo none; }
mkroot ref
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
t0=$(ms_now)
check "uninterrupted run" sh -c "$LL train --sagemaker --threads 1 --no-checkpoints --sm-root $T/ref > $T/ref.log 2>&1"
tref=$(( $(ms_now) - t0 ))
$LL export --format csv $T/ref/model/model.tar.gz > $T/ref.csv

# kill after a random 5-80 % of the uninterrupted run time, again and again; if a round ends
# without a resume (no kill came after the first epoch), start the round over
round=0; resumes=0
while [ $resumes = 0 ] && [ $round -lt 4 ]; do
round=$((round + 1))
mkroot k; mkdir -p $T/k/checkpoints
kills=0; resumes=0; done=0; tries=0
while [ $done = 0 ] && [ $tries -lt 40 ]; do
    tries=$((tries + 1))
    $LL train --sagemaker --threads 1 --sm-root $T/k > $T/k.log.$tries 2>&1 & pid=$!
    ms=$(( tref / 20 + $(rnd) % (tref * 3 / 4 + 1) ))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    if [ $((tries % 2)) = 0 ]; then sig=KILL; else sig=TERM; fi
    kill -$sig $pid 2>/dev/null
    wait $pid 2>/dev/null; st=$?
    case $st in
        0) done=1 ;;
        137|143) kills=$((kills + 1)) ;;
        *) echo "unexpected exit $st"; cat $T/k.log.$tries | tail -3; break ;;
    esac
    grep -q 'Loaded checkpoint' $T/k.log.$tries && resumes=$((resumes + 1))
done
done
# finish if still unfinished after the tries
[ $done = 1 ] || { $LL train --sagemaker --threads 1 --sm-root $T/k > $T/k.log.last 2>&1 && done=1; }
echo "kill-and-resume: run time ${tref} ms, round $round: $tries runs, $kills kills, $resumes resumes"
check "the interrupted job completes" test $done = 1
check "it was really interrupted ($kills kills)" test $kills -ge 1
check "and resumed from checkpoints ($resumes resumes)" test $resumes -ge 1
check "no failure file after a clean finish" test ! -e $T/k/output/failure
check "resumed model equals the uninterrupted one" sh -c "$LL export --format csv $T/k/model/model.tar.gz | cmp - $T/ref.csv"
check "checkpoint file present" test -s $T/k/checkpoints/linlearn-state.ckpt

# ---- sparse RecordIO (10,000 features, ~20 a row: the lazy sparse updates) with each optimizer,
# killed several times in one run (SIGTERM saves mid-epoch, with the lazy state as it is; SIGKILL
# falls back to the last epoch's checkpoint): the resumed model equals the uninterrupted one
SP=$TD/datasets/sparse_synthetic
$LL convert --from libsvm --index-base 0 --feature-dim 10000 $SP/train.libsvm $T/sp_train.pbr 2>/dev/null
head -2000 $SP/validation.libsvm > $T/sp_val.libsvm
$LL convert --from libsvm --index-base 0 --feature-dim 10000 $T/sp_val.libsvm $T/sp_val.pbr 2>/dev/null
mkroot_sp() { # NAME OPTIMIZER
    r=$T/$1; rm -rf "$r"; mkdir -p "$r/input/config" "$r/input/data/train" "$r/input/data/validation"
    printf '{"predictor_type": "binary_classifier", "feature_dim": "10000", "epochs": "10", "mini_batch_size": "20", "num_models": "8", "optimizer": "%s", "early_stopping_patience": "20"}\n' "$2" > "$r/input/config/hyperparameters.json"
    printf '{"train": {"TrainingInputMode": "File", "ContentType": "application/x-recordio-protobuf"}, "validation": {"TrainingInputMode": "File", "ContentType": "application/x-recordio-protobuf"}}\n' > "$r/input/config/inputdataconfig.json"
    cp $T/sp_train.pbr "$r/input/data/train/"; cp $T/sp_val.pbr "$r/input/data/validation/"
}
partials=0
for opt in sgd adam rmsprop; do
    mkroot_sp sref_$opt $opt
    t0=$(ms_now)
    check "sparse $opt: uninterrupted run" sh -c "$LL train --sagemaker --threads 1 --no-checkpoints --sm-root $T/sref_$opt > $T/sref_$opt.log 2>&1"
    tref=$(( $(ms_now) - t0 ))
    $LL export --format csv $T/sref_$opt/model/model.tar.gz > $T/sref_$opt.csv
    # each run is killed once it has made progress (its checkpoint was replaced: an epoch ended),
    # after a further random 0-100 % of one epoch's time, so every run but the last is killed
    # whatever the machine's load; a round with fewer than two kills that resumed is started over
    # (at most 3 rounds)
    ep_ms=$(( tref / 10 + 1 ))
    round=0; resumes=0
    while [ $resumes -lt 2 ] && [ $round -lt 3 ]; do
        round=$((round + 1))
        mkroot_sp sk_$opt $opt; mkdir -p $T/sk_$opt/checkpoints
        kills=0; resumes=0; done=0; tries=0
        while [ $done = 0 ] && [ $tries -lt 40 ]; do
            tries=$((tries + 1))
            lg=$T/sk_$opt.log.$tries
            ck=$T/sk_$opt/checkpoints/linlearn-state.ckpt
            before=$(ck_id $ck)
            $LL train --sagemaker --threads 1 --sm-root $T/sk_$opt > $lg 2>&1 & pid=$!
            i=0; while kill -0 $pid 2>/dev/null && [ "$(ck_id $ck)" = "$before" ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i + 1)); done
            ms=$(( $(rnd) % ep_ms ))
            sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
            if [ $((tries % 2)) = 0 ]; then sig=KILL; else sig=TERM; fi
            kill -$sig $pid 2>/dev/null
            wait $pid 2>/dev/null; st=$?
            case $st in
                0) done=1 ;;
                137|143) kills=$((kills + 1)) ;;
                *) echo "unexpected exit $st"; tail -3 $lg; break ;;
            esac
            grep -q 'Loaded checkpoint' $lg && resumes=$((resumes + 1))
            grep -q 'Stopped in epoch' $lg && partials=$((partials + 1))
        done
    done
    [ $done = 1 ] || { $LL train --sagemaker --threads 1 --sm-root $T/sk_$opt > $T/sk_$opt.log.last 2>&1 && done=1; }
    echo "sparse $opt: run time ${tref} ms, round $round: $tries runs, $kills kills, $resumes resumes"
    check "sparse $opt: the interrupted job completes" test $done = 1
    check "sparse $opt: killed several times ($kills kills)" test $kills -ge 2
    check "sparse $opt: resumed several times ($resumes resumes)" test $resumes -ge 2
    check "sparse $opt: resumed model equals the uninterrupted one" sh -c "$LL export --format csv $T/sk_$opt/model/model.tar.gz | cmp - $T/sref_$opt.csv"
done
echo "sparse: $partials mid-epoch checkpoints saved on SIGTERM"
check "sparse: some SIGTERM stops saved mid-epoch ($partials)" test $partials -ge 1

# SIGTERM: clean stop, exit 143, no failure file, the log says so
mkroot t; mkdir -p $T/t/checkpoints
$LL train --sagemaker --threads 1 --sm-root $T/t > $T/t.log 2>&1 & pid=$!
# the handler is installed before training logs its first line: wait for that line, not a time
check "SIGTERM: the run logged its first line" wait_for $T/t.log 'INFO' $pid
kill -TERM $pid; wait $pid; st=$?
if [ $st = 0 ]; then skip "SIGTERM stop" "the run finished before the signal"; else
check "SIGTERM: exit 143" test $st = 143
check "SIGTERM: logged" grep -q 'Stopped by SIGTERM' $T/t.log
check "SIGTERM: no failure file" test ! -e $T/t/output/failure
fi
# --checkpoint-dir points elsewhere; a Pipe-mode run resumes a File-mode run's checkpoint
mkroot c; mkdir -p $T/ck
$LL train --sagemaker --threads 1 --sm-root $T/c --checkpoint-dir $T/ck > $T/c.log 2>&1 & pid=$!
# kill once the first checkpoint is on disk (or the run has ended)
i=0; while [ ! -s $T/ck/linlearn-state.ckpt ] && kill -0 $pid 2>/dev/null && [ $i -lt 400 ]; do sleep 0.02; i=$((i + 1)); done
kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
rm -rf $T/c/input/data/train $T/c/input/data/validation
printf '{"train": {"TrainingInputMode": "Pipe", "ContentType": "text/csv"}, "validation": {"TrainingInputMode": "Pipe", "ContentType": "text/csv"}}\n' > $T/c/input/config/inputdataconfig.json
$LL pipe --dir $T/c/input/data --epochs 1000 --channel train=$DS/train.csv --channel validation=$DS/validation.csv 2>/dev/null & fp=$!
check "Pipe run continues the File run's checkpoint" sh -c "$LL train --sagemaker --threads 1 --sm-root $T/c --checkpoint-dir $T/ck > $T/c2.log 2>&1"
kill $fp 2>/dev/null; wait $fp 2>/dev/null
check "and ends with the same model" sh -c "$LL export --format csv $T/c/model/model.tar.gz | cmp - $T/ref.csv"
finish
