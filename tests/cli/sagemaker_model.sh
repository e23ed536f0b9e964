#!/bin/sh
# sagemaker_model.sh - SageMaker Linear Learner's model.tar.gz in and out. The two real artifacts
# score in `predict` (and `serve`) as numpy computes from their bytes (the params are parsed here,
# independently of linlearn); `export --format sagemaker` writes the real layout (gzip header,
# one ustar member, a zip of four stored members without extras, the NDArray list), read back
# with Python's tarfile/zipfile; `train --sagemaker` writes that layout with linlearn's files
# beside it, and model_algo-1 alone loads to the same weights.
. tests/cli/lib.sh
NAME=cli_sagemaker_model
PY=/usr/bin/python3
SM=$TD/sagemaker/models
if ! $PY -c 'import numpy' 2>/dev/null; then
    skip "all checks" "numpy for /usr/bin/python3 is not installed"
    finish
    exit $?
fi
# PARSE: the NDArray list of a model.tar.gz, parsed with numpy: prints nothing, defines
# load(path) -> (W [D, C], b [C], threshold, predictor_type, output op)
cat >$T/sm.py <<'PYEOF'
import io, json, struct, sys, tarfile, zipfile
import numpy as np

def params(buf):
    magic, _, n = struct.unpack_from("<QQQ", buf, 0)
    assert magic == 0x112, hex(magic)
    off, arrs = 24, []
    for _ in range(n):
        m, stype, ndim = struct.unpack_from("<IiI", buf, off)
        assert m == 0xF993FAC9 and stype == 0 and ndim == 2
        dims = struct.unpack_from("<2q", buf, off + 12)
        dev, devid, dtype = struct.unpack_from("<iii", buf, off + 28)
        assert dtype == 0
        cnt = dims[0] * dims[1]
        arrs.append(np.frombuffer(buf, "<f4", cnt, off + 40).reshape(dims))
        off += 40 + 4 * cnt
    (k,) = struct.unpack_from("<Q", buf, off)
    off += 8
    names = []
    for _ in range(k):
        (l,) = struct.unpack_from("<Q", buf, off)
        names.append(buf[off + 8 : off + 8 + l].decode())
        off += 8 + l
    assert off == len(buf)
    return dict(zip(names, arrs))

def load(path):
    with tarfile.open(path, "r:gz") as t:
        z = zipfile.ZipFile(io.BytesIO(t.extractfile("model_algo-1").read()))
    p = params(z.read("mx-mod-0000.params"))
    add = json.loads(z.read("additional-params.json"))
    sym = json.loads(z.read("mx-mod-symbol.json"))
    op = sym["nodes"][sym["heads"][0][0]]["op"]
    return p["arg:fc0_weight"], p["arg:fc0_bias"].reshape(-1), add["threshold"], add["predictor_type"], op
PYEOF

# score MODEL D N: writes rows.csv (N random rows, seed 7) and want.jsonl (numpy's predictions)
score() {
    $PY -c '
import sys, json
sys.path.insert(0, sys.argv[1])
import numpy as np
from sm import load
W, b, thr, pt, op = load(sys.argv[2])
n = int(sys.argv[3])
rng = np.random.default_rng(7)
X = rng.normal(0, 2, (n, W.shape[0])).astype(np.float32)
z = X.astype(np.float64) @ W.astype(np.float64) + b.astype(np.float64)
with open(sys.argv[1] + "/rows.csv", "w") as f:
    for r in X:
        f.write(",".join(repr(float(v)) for v in r) + "\n")
with open(sys.argv[1] + "/want.jsonl", "w") as f:
    for zi in z[:, 0]:
        if op == "LogisticRegressionOutput":
            s = 1 / (1 + np.exp(-zi))
            f.write(json.dumps({"score": s, "predicted_label": int(s > thr)}) + "\n")
        else:
            f.write(json.dumps({"score": zi}) + "\n")
' $T "$1" "$2"
}
# same GOT WANT: the predictions agree to float32 precision, labels exactly
same() {
    $PY -c '
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b) > 0
for x, y in zip(a, b):
    assert abs(x["score"] - y["score"]) <= 2e-6 * max(1.0, abs(y["score"])), (x, y)
    assert x.get("predicted_label") == y.get("predicted_label"), (x, y)
print(len(a), "rows agree")
' "$1" "$2"
}

for m in titanic-binary-2018 covid-regressor-2020; do
    score $SM/$m/model.tar.gz 200
    check "$m: predict scores as numpy computes from the params" sh -c \
        "$LL predict --model $SM/$m/model.tar.gz --accept application/jsonlines $T/rows.csv $T/got.jsonl"
    check "$m: scores agree" same $T/got.jsonl $T/want.jsonl
    # the bare model_algo-1 and a folder holding model.tar.gz load the same
    rm -rf $T/u && mkdir -p $T/u/d && tar -xzf $SM/$m/model.tar.gz -C $T/u && cp $SM/$m/model.tar.gz $T/u/d/
    check "$m: bare model_algo-1" sh -c "$LL predict --model $T/u/model_algo-1 --accept application/jsonlines $T/rows.csv - | cmp -s - $T/got.jsonl"
    $PY -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' $T/u/model_algo-1 $T/u/z
    check "$m: folder of model_algo-1's files (as SageMaker hosting unpacks them)" sh -c "$LL predict --model $T/u/z --accept application/jsonlines $T/rows.csv - | cmp -s - $T/got.jsonl"
    check "$m: folder with model.tar.gz" sh -c "$LL predict --model $T/u/d --accept application/jsonlines $T/rows.csv - | cmp -s - $T/got.jsonl"
    # written back: same weights, threshold and graph, and the real layout
    check "$m: export --format sagemaker" $LL export --format sagemaker $SM/$m/model.tar.gz $T/back.tar.gz
    check "$m: written back, same weights, threshold, output node" $PY -c '
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from sm import load
a, b = load(sys.argv[2]), load(sys.argv[3])
assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]), "weights"
assert a[2:] == b[2:], (a[2:], b[2:])
' $T $SM/$m/model.tar.gz $T/back.tar.gz
    check "$m: layout member by member" $PY -c '
import io, json, sys, tarfile, zipfile
def layout(p):
    raw = open(p, "rb").read()
    with tarfile.open(p, "r:gz") as t:
        ms = t.getmembers()
        assert [m.name for m in ms] == ["model_algo-1"] and ms[0].isreg(), ms
        m = ms[0]
        assert (m.mode & 0o777, m.uid, m.gid, m.uname, m.gname) == (0o644, 0, 0, "", ""), m
        z = zipfile.ZipFile(io.BytesIO(t.extractfile(m).read()))
    info = {}
    for i in z.infolist():
        info[i.filename] = (i.compress_type, i.create_system, i.create_version, i.extract_version,
                            i.extra, i.flag_bits, i.external_attr >> 16)
    js = {n: json.loads(z.read(n)) for n in info if n.endswith(".json")}
    sym = js["mx-mod-symbol.json"]
    graph = [(n["op"], n.get("attrs", {}).get("__shape__"), n["inputs"]) for n in sym["nodes"]]
    return raw[:10], info, js["manifest.json"], js["additional-params.json"], graph, sym["heads"], \
        len(z.read("mx-mod-0000.params"))
a, b = layout(sys.argv[1]), layout(sys.argv[2])
assert a[0] == b[0] == bytes([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]), (a[0], b[0])
for k, (x, y) in enumerate(zip(a[1:], b[1:])):
    assert x == y, (k, x, y)
' $SM/$m/model.tar.gz $T/back.tar.gz
done

# serve answers with a real SageMaker artifact
$LL serve --model $SM/titanic-binary-2018/model.tar.gz --port 0 --threads 1 2>$T/serve.log &
pid=$!
port=
for i in $(seq 1 100); do
    port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9][0-9]*\).*/\1/p' $T/serve.log)
    [ -n "$port" ] && break
    sleep 0.1
done
if [ -n "$port" ] && command -v curl >/dev/null 2>&1; then
    curl -s -H 'Content-Type: text/csv' -H 'Accept: application/jsonlines' --data-binary '1,2,3,4,5' \
        http://127.0.0.1:$port/invocations >$T/serve.jsonl
    printf '1,2,3,4,5\n' >$T/one.csv
    $LL predict --model $SM/titanic-binary-2018/model.tar.gz --accept application/jsonlines $T/one.csv $T/one.jsonl 2>/dev/null
    check "serve: a real artifact answers as predict does" cmp -s $T/serve.jsonl $T/one.jsonl
else
    check "serve: starts with a real artifact" sh -c "cat $T/serve.log; false"
fi
kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null

# train --sagemaker: SageMaker's layout, linlearn's files beside model_algo-1; both load
R=$T/ml; mkdir -p $R/input/config $R/input/data/train
printf '{"predictor_type": "binary_classifier", "epochs": "2", "feature_dim": "30"}\n' >$R/input/config/hyperparameters.json
printf '{"train": {"TrainingInputMode": "File", "ContentType": "text/csv"}}\n' >$R/input/config/inputdataconfig.json
printf '{"current_host": "algo-1", "hosts": ["algo-1"]}\n' >$R/input/config/resourceconfig.json
cp $TD/datasets/breast_cancer/train.csv $R/input/data/train/
check "train --sagemaker" sh -c "$LL train --sagemaker --sm-root $R --threads 1 >$T/ctr.log 2>&1"
check "container model.tar.gz: model_algo-1 first, linlearn's files beside" sh -c \
    "tar -tzf $R/model/model.tar.gz | tr '\n' ' ' | grep -qx 'model_algo-1 manifest.json weights.bin '"
rm -rf $T/c && mkdir $T/c && tar -xzf $R/model/model.tar.gz -C $T/c model_algo-1
$LL export --format csv $R/model/model.tar.gz >$T/own.csv
$LL export --format csv $T/c/model_algo-1 >$T/sm.csv
check "model_algo-1 alone: the same weights" cmp -s $T/own.csv $T/sm.csv
check "model_algo-1 alone: the same threshold" sh -c \
    "[ \"\$($LL export $R/model/model.tar.gz | grep -o '\"threshold\": [^,]*')\" = \"\$($LL export $T/c/model_algo-1 | grep -o '\"threshold\": [^,]*')\" ]"
# damaged params: the member and the byte offset are named
$PY -c '
import io, sys, tarfile, zipfile
z = zipfile.ZipFile(io.BytesIO(tarfile.open(sys.argv[1]).extractfile("model_algo-1").read()))
p = bytearray(z.read("mx-mod-0000.params"))
p[60] = 1  # the first array dtype: float64
out = zipfile.ZipFile(sys.argv[2], "w")
for n in z.namelist():
    out.writestr(n, bytes(p) if n.endswith(".params") else z.read(n))
out.close()
' $SM/titanic-binary-2018/model.tar.gz $T/bad_algo-1
check_fails "float64 params refused with member and offset" 1 "bad_algo-1/mx-mod-0000.params (byte 60).*not float32" \
    $LL predict --model $T/bad_algo-1 $T/one.csv -
finish
