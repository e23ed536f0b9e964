# SPDX-License-Identifier: Apache-2.0
"""Byte equality with every vector of tests/data/recordio (inputs rebuilt from the JSON files)
and with the SDK-style reference writer; reading every vector back as the JSON says."""
import glob
import hashlib
import io
import json
import os

import numpy as np
import pytest
import scipy.sparse as sp

import linlearn
import sdk_reference as sdk
from conftest import DATA

RIO = os.path.join(DATA, "recordio")
VECTORS = sorted(glob.glob(os.path.join(RIO, "*.json")))
NP = {"float32": np.float32, "float64": np.float64, "int32": np.int64}  # SDK: int64 -> Int32


def meta(name):
    with open(os.path.join(RIO, name + ".json")) as f:
        return json.load(f)


def raw(name):
    m = meta(name)
    with open(os.path.join(RIO, m["file"]), "rb") as f:
        return f.read()


def num(v):
    return float(v) if isinstance(v, str) else v


def inputs(rows):
    """(X, labels, sparse, n_cols) for rows written by one SDK call."""
    f0 = rows[0]["features"]["values"]
    dt = NP[f0["dtype"]]
    lab = [r["label"]["values"] for r in rows if r["label"]]
    labels = None
    if lab:
        labels = np.array([num(l["values"][0]) for l in lab], dtype=NP[lab[0]["dtype"]])
    if "shape" in f0:
        n_cols = int(f0["shape"][0])
        data, ind, ptr = [], [], [0]
        for r in rows:
            t = r["features"]["values"]
            data += [num(v) for v in t.get("values", [])]
            ind += t.get("keys", [])
            ptr.append(len(data))
        X = sp.csr_matrix((np.array(data, dtype=dt), np.array(ind, dtype=np.int32),
                           np.array(ptr, dtype=np.int32)), shape=(len(rows), n_cols))
        return X, labels, True
    X = np.array([[num(v) for v in r["features"]["values"]["values"]] for r in rows], dtype=dt)
    if X.ndim == 1:
        X = X.reshape(len(rows), 0)
    return X, labels, False


SDK_FILES = ["dense_f32_labeled_7x5", "dense_f32_unlabeled_4x3", "dense_f32_1row",
             "dense_f32_1feature_5rows", "dense_f32_0features_2rows", "dense_f32_100k_features",
             "sparse_csr_f32_labeled_6x10", "dense_f64_labeled_3x4",
             "dense_f32_int_labels_multiclass_8x3", "dense_f32_labeled_10000x6"]


def write_with(mod, rows):
    X, labels, sparse = inputs(rows)
    b = io.BytesIO()
    if sparse:
        mod.write_spmatrix_to_sparse_tensor(b, X, labels)
    else:
        mod.write_numpy_to_dense_tensor(b, X, labels)
    return b.getvalue()


def test_every_vector_is_covered():
    names = {os.path.basename(p)[:-5] for p in VECTORS}
    covered = set(SDK_FILES) | {"concat_two_objects", "hand_multidim_shape",
                                "framing_raw_payloads", "split_record_cflag123",
                                "split_record_fragments_concat"}
    assert names == covered, names ^ covered


@pytest.mark.parametrize("name", SDK_FILES)
def test_sdk_vector_bytes(name):
    m = meta(name)
    data = raw(name)
    assert hashlib.sha256(data).hexdigest() == m["sha256"]
    ours = write_with(linlearn, m["rows"])
    assert ours == data
    assert write_with(sdk, m["rows"]) == data  # the reference agrees with the committed file


def test_concat_two_objects():
    a, b = meta("dense_f32_labeled_7x5"), meta("dense_f32_1row")
    out = write_with(linlearn, a["rows"]) + write_with(linlearn, b["rows"])
    assert out == raw("concat_two_objects")


def test_record_writer_streams_same_bytes():
    m = meta("dense_f32_labeled_10000x6")
    X, y, _ = inputs(m["rows"])
    b = io.BytesIO()
    with linlearn.RecordWriter(b) as w:
        for i in range(0, len(X), 777):
            w.write(X[i:i + 777], y[i:i + 777])
    assert b.getvalue() == raw("dense_f32_labeled_10000x6")
    assert w.rows == 10000


def tensor_json(v):
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "bytes":
        return {"dtype": "bytes"}
    t = getattr(v, kind)
    d = {"dtype": kind.split("_")[0], "values": list(t.values)}
    if len(t.keys):
        d["keys"] = [int(k) for k in t.keys]
    if len(t.shape):
        d["shape"] = [int(s) for s in t.shape]
    return d


def same_tensor(got, want):
    assert got["dtype"] == want["dtype"]
    wv = np.array([num(v) for v in want.get("values", [])], dtype=np.float64)
    gv = np.array(got["values"], dtype=np.float64)
    np.testing.assert_array_equal(gv, wv)
    assert got.get("keys", []) == want.get("keys", [])
    assert got.get("shape", []) == want.get("shape", [])


@pytest.mark.parametrize("path", [p for p in VECTORS if "framing" not in p],
                         ids=lambda p: os.path.basename(p)[:-5])
def test_read_records_matches_json(path):
    with open(path) as f:
        m = json.load(f)
    if m["error"]:
        pytest.skip("error vector")
    concat = m["split_reassembly"] == "concat"
    with open(os.path.join(RIO, m["file"]), "rb") as f:
        if concat:
            recs = [linlearn.Record.FromString(p)
                    for p in linlearn.recordio._payloads(f, concat=True)]
        else:
            recs = linlearn.read_records(f)
    assert len(recs) == m["num_records"]
    for rec, row in zip(recs, m["rows"]):
        for which in ("features", "label"):
            want = row[which]
            got = getattr(rec, which)
            assert sorted(got) == sorted(want)
            for k in want:
                same_tensor(tensor_json(got[k]), want[k])


def test_framing_payloads():
    m = meta("framing_raw_payloads")
    with open(os.path.join(RIO, m["file"]), "rb") as f:
        got = list(linlearn.read_recordio(f))
    assert [p.hex() for p in got] == [r["payload_hex"] for r in m["rows"]]


def test_sdk_reader_agrees_on_sdk_files():
    for name in SDK_FILES:
        ref = sdk.read_records(io.BytesIO(raw(name)))
        ours = linlearn.read_records(io.BytesIO(raw(name)))
        assert len(ref) == len(ours)
        for a, b in zip(ref, ours):
            fa = a.features["values"]
            kind = fa.WhichOneof("value")
            assert b.features["values"].WhichOneof() == kind
            np.testing.assert_array_equal(np.array(getattr(fa, kind).values),
                                          getattr(b.features["values"], kind).values)


def test_split_record_both_conventions():
    data = raw("split_record_cflag123")
    (p,) = list(linlearn.read_recordio(io.BytesIO(data)))
    assert hashlib.sha256(p).hexdigest() == meta("split_record_cflag123")["rows"][0][
        "payload_sha256"]
    frag = raw("split_record_fragments_concat")
    (q,) = list(linlearn.recordio._payloads(io.BytesIO(frag), concat=True))
    assert len(q) == 76
