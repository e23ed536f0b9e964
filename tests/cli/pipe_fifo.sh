# Pipe-mode FIFOs that misbehave (docs/RELIABILITY.md): a FIFO nobody writes, a writer that
# opens it and never writes, and SIGTERM while waiting, for `train --input-mode pipe` and
# `train --sagemaker` with a Pipe channel: each ends within --pipe-timeout-ms (or promptly on
# SIGTERM) with a message or output/failure, never blocked. Also the README's Pipe-mode example.
. tests/cli/lib.sh
NAME=cli_pipe_fifo
DS=$TD/datasets/diabetes

# ms: milliseconds since the epoch
ms() { /usr/bin/python3 -c 'import time; print(int(time.time() * 1000))'; }
# within MS COMMAND...: the command fails within MS milliseconds
within() {
    lim=$1; shift
    t0=$(ms); "$@" >$T/w.out 2>&1; st=$?; t1=$(ms)
    cat $T/w.out
    echo "exit $st after $((t1 - t0)) ms (limit $lim)"
    [ $st -ne 0 ] && [ $((t1 - t0)) -lt "$lim" ]
}
TRP="timeout 20 $LL train --train $T/p/train --input-mode pipe --content-type text/csv -H predictor_type=regressor --model-dir $T/pm --threads 1"
tr_pipe() { $TRP "$@"; }

mkdir -p $T/p
mkfifo $T/p/train_0
check "no writer: fails within the pipe timeout" within 5000 tr_pipe --pipe-timeout-ms 700
check "no writer: the message names the FIFO and the timeout" grep -q 'train_0.*no data from the Pipe-mode FIFO for 700 ms' $T/w.out
# a writer that opens the FIFO and never writes
(exec 3>$T/p/train_0; sleep 8) & wp=$!
check "silent writer: fails within the pipe timeout" within 5000 tr_pipe --pipe-timeout-ms 700
kill $wp 2>/dev/null; wait $wp 2>/dev/null
# SIGTERM while blocked on the FIFO (timeout far away)
sigterm_check() { # WHAT CMD...: the command, sent SIGTERM after its start, ends within 3 s
    what=$1; shift
    "$@" >$T/s.out 2>&1 & p=$! # a plain command (not a function): $! is its process
    sleep 0.5
    t0=$(ms); kill -TERM $p; wait $p; st=$?; t1=$(ms)
    if [ $st -ne 0 ] && [ $((t1 - t0)) -lt 3000 ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL $NAME: $what (exit $st after $((t1 - t0)) ms)"; sed 's/^/    /' $T/s.out | head
    fi
}
sigterm_check "SIGTERM ends train --input-mode pipe waiting for data" $TRP --pipe-timeout-ms 60000
check "SIGTERM: says it stopped" grep -q 'stopped by signal 15' $T/s.out
(exec 3>$T/p/train_0; sleep 8) & wp=$!
sigterm_check "SIGTERM ends train --input-mode pipe with a silent writer" $TRP --pipe-timeout-ms 60000
kill $wp 2>/dev/null; wait $wp 2>/dev/null

# the same through train --sagemaker with a Pipe channel
r=$T/sm; mkdir -p $r/input/config $r/input/data
printf '{"predictor_type": "regressor", "epochs": "2"}\n' >$r/input/config/hyperparameters.json
printf '{"train": {"TrainingInputMode": "Pipe", "ContentType": "text/csv"}}\n' >$r/input/config/inputdataconfig.json
printf '{"current_host": "algo-1", "hosts": ["algo-1"]}\n' >$r/input/config/resourceconfig.json
mkfifo $r/input/data/train_0
check "sagemaker, no writer: fails within the pipe timeout" within 5000 \
    timeout 20 $LL train --sagemaker --threads 1 --pipe-timeout-ms 700 --sm-root $r
check "sagemaker, no writer: output/failure names the FIFO" grep -q 'train_0' $r/output/failure
rm -f $r/output/failure
(exec 3>$r/input/data/train_0; sleep 8) & wp=$!
check "sagemaker, silent writer: fails within the pipe timeout" within 5000 \
    timeout 20 $LL train --sagemaker --threads 1 --pipe-timeout-ms 700 --sm-root $r
check "sagemaker, silent writer: output/failure written" grep -q 'no data from the Pipe-mode FIFO' $r/output/failure
sigterm_check "SIGTERM ends train --sagemaker on a silent Pipe channel" \
    timeout 20 $LL train --sagemaker --threads 1 --pipe-timeout-ms 60000 --sm-root $r
kill $wp 2>/dev/null; wait $wp 2>/dev/null

finish
