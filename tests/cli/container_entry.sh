# The image's entry points (docker/entrypoint) run as plain processes, as `docker run IMAGE
# train` and `docker run IMAGE serve` would run them: train writes the model, serve answers
# /ping and /invocations with it, SIGTERM reaches linlearn through exec.
. tests/cli/lib.sh
NAME=cli_container_entry
DS=$TD/datasets/diabetes
EP=$PWD/docker/entrypoint
export LINLEARN=$LL
R=$T/ml; mkdir -p $R/input/config $R/input/data/train
printf '{"predictor_type": "regressor", "epochs": "2", "mini_batch_size": "40"}\n' > $R/input/config/hyperparameters.json
printf '{"train": {"TrainingInputMode": "File", "ContentType": "text/csv"}}\n' > $R/input/config/inputdataconfig.json
printf '{"current_host": "algo-1", "hosts": ["algo-1"]}\n' > $R/input/config/resourceconfig.json
cp $DS/train.csv $R/input/data/train/
check "IMAGE train: exit 0" sh -c "SM_ROOT=$R $EP train --threads 1 > $T/train.log 2>&1"
check "IMAGE train: model written" test -s $R/model/model.tar.gz
check "IMAGE train: metric lines" grep -q '#quality_metric: host=algo-1, epoch=1, train mse_objective' $T/train.log
mkdir -p $T/bin; ln -s $EP $T/bin/train
rm -f $R/model/model.tar.gz
check "called as 'train' through a link" sh -c "SM_ROOT=$R $T/bin/train > /dev/null 2>&1 && test -s $R/model/model.tar.gz"
check_fails "no command: usage, exit 2" 2 "IMAGE train" sh $EP
# failure: the reason lands in output/failure
printf '{"predictor_type": "regressor", "epochs": "-1"}\n' > $R/input/config/hyperparameters.json
SM_ROOT=$R $EP train > /dev/null 2>&1; st=$?
check "IMAGE train with a bad hyperparameter: non-zero exit" test $st -ne 0
check "IMAGE train with a bad hyperparameter: output/failure" grep -q '^Customer Error: .*epochs' $R/output/failure
# SIGTERM goes to linlearn itself (exec): a long training stops with 143
printf '{"predictor_type": "regressor", "epochs": "100000", "early_stopping_patience": "100000", "mini_batch_size": "5"}\n' > $R/input/config/hyperparameters.json
SM_ROOT=$R $EP train --threads 1 > $T/long.log 2>&1 & pid=$!
sleep 0.3; kill -TERM $pid; wait $pid; st=$?
check "IMAGE train: SIGTERM reaches linlearn (exit 143)" test $st = 143
# serve: the model trained above (2 epochs), on a free port
printf '{"predictor_type": "regressor", "epochs": "2", "mini_batch_size": "40"}\n' > $R/input/config/hyperparameters.json
rm -f $R/output/failure
SM_ROOT=$R $EP train > /dev/null 2>&1
SM_ROOT=$R $EP serve --port 0 --threads 1 > $T/serve.out 2> $T/serve.err & spid=$!
port=
for i in $(seq 1 100); do
    port=$(grep -o 'port [0-9]*' $T/serve.err 2>/dev/null | head -1 | grep -o '[0-9]*$')
    [ -z "$port" ] || break
    port=$(grep -o ':[0-9][0-9]*' $T/serve.err 2>/dev/null | head -1 | tr -d :)
    [ -z "$port" ] || break
    sleep 0.05
done
check "IMAGE serve: listening ($port)" test -n "$port"
check "IMAGE serve: GET /ping 200" sh -c "curl -sf http://127.0.0.1:$port/ping > /dev/null"
row=$(head -1 $DS/test.csv | cut -d, -f2-)
check "IMAGE serve: POST /invocations scores a CSV row" sh -c "curl -sf -H 'Content-Type: text/csv' --data '$row' http://127.0.0.1:$port/invocations | grep -q score"
kill -TERM $spid; wait $spid; st=$?
check "IMAGE serve: SIGTERM, clean exit" test $st = 0
finish
