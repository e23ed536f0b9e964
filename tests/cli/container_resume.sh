# Kill and resume: `linlearn train --sagemaker` with a checkpoint folder is killed (SIGKILL or
# SIGTERM) at random moments and restarted until it completes; the final model must equal the
# model of an uninterrupted run, bit for bit (same seed and threads). Also File vs Pipe.
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
