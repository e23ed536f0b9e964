# SPDX-License-Identifier: Apache-2.0
"""Model.load / predict / save / export, and load errors carrying the C message."""
import json
import os
import tarfile

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification

import linlearn

X, Y = make_classification(300, 6, random_state=4)


@pytest.fixture(scope="module")
def trained():
    return linlearn.LinearLearner(epochs=3).fit(X, Y)


def test_save_load_predict(trained, tmp_path):
    p = tmp_path / "model.tar.gz"
    trained.model_.save(p)
    assert tarfile.is_tarfile(p)
    m = linlearn.Model.load(p)
    assert m.predictor_type == "binary_classifier" and m.feature_dim == 6
    out = m.predict(X)
    assert set(out) == {"score", "predicted_label"}
    assert out["score"].shape == (300,) and out["predicted_label"].shape == (300,)
    np.testing.assert_array_equal(out["predicted_label"], trained.predict(X))
    # sparse rows score the same as dense ones
    np.testing.assert_allclose(m.predict(sp.csr_matrix(X))["score"], out["score"], rtol=1e-5)
    # a folder holding model.tar.gz loads too
    m2 = linlearn.Model.load(tmp_path)
    np.testing.assert_array_equal(m2.weights, m.weights)


def test_multiclass_and_regressor_fields(tmp_path):
    Xm, ym = make_classification(300, 6, n_informative=4, n_classes=3, random_state=1)
    mc = linlearn.LinearLearner(predictor_type="multiclass_classifier", epochs=2).fit(Xm, ym)
    out = mc.model_.predict(Xm[:4])
    assert out["score"].shape == (4, 3) and out["predicted_label"].shape == (4,)
    reg = linlearn.LinearLearner(predictor_type="regressor", epochs=2).fit(Xm, Xm[:, 0])
    assert set(reg.model_.predict(Xm[:4])) == {"score"}


def test_export_json_and_sagemaker(trained, tmp_path):
    j = tmp_path / "m.json"
    trained.model_.export(j, format="json")
    d = json.loads(j.read_text())
    assert d["predictor_type"] == "binary_classifier" and d["feature_dim"] == 6
    np.testing.assert_allclose(np.array(d["weights"])[:, 0], trained.coef_[0], rtol=1e-6)
    X32 = X.astype(np.float32)
    want = trained.model_.predict(X32)["score"]
    for fmt in ("sagemaker", "linlearn"):
        s = tmp_path / (fmt + ".tar.gz")
        trained.model_.export(s, format=fmt)
        back = linlearn.Model.load(s)
        assert back.n_outputs == 1 and back.feature_dim == 6
        np.testing.assert_allclose(back.predict(X32)["score"], want, rtol=1e-5, atol=1e-6)


def test_export_onnx(trained, tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper
    p = tmp_path / "m.onnx"
    trained.model_.export(p, format="onnx")
    m = onnx.load(str(p))
    onnx.checker.check_model(m)
    assert [i.name for i in m.graph.input] == ["features"]
    assert {o.name for o in m.graph.output} == {"score", "predicted_label"}
    dims = m.graph.input[0].type.tensor_type.shape.dim
    assert dims[1].dim_value == 6
    # the weights inside are the model's
    init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    assert any(a.size == 6 and np.allclose(a.ravel(), trained.coef_[0], rtol=1e-6)
               for a in init.values())
    with pytest.raises(ValueError, match="unknown export format"):
        trained.model_.export(tmp_path / "x", format="pmml")


def test_load_errors_name_the_file(tmp_path):
    bad = tmp_path / "junk.tar.gz"
    bad.write_bytes(b"this is not a tarball")
    with pytest.raises(linlearn.Error) as e:
        linlearn.Model.load(bad)
    assert "junk.tar.gz" in str(e.value)
    with pytest.raises(linlearn.IOFailure) as e:
        linlearn.Model.load(tmp_path / "missing.tar.gz")
    assert isinstance(e.value, OSError) and "missing.tar.gz" in str(e.value)


SM_MODELS = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "sagemaker",
                         "models")


@pytest.mark.parametrize("name,ptype,dim", [("titanic-binary-2018", "binary_classifier", 5),
                                            ("covid-regressor-2020", "regressor", 513)])
def test_sagemaker_artifacts(name, ptype, dim):
    path = os.path.join(SM_MODELS, name, "model.tar.gz")
    m = linlearn.Model.load(path)
    assert m.predictor_type == ptype and m.feature_dim == dim
    out = m.predict(np.zeros((2, dim), np.float32))
    z = m.bias[0]
    if ptype == "binary_classifier":
        np.testing.assert_allclose(out["score"], 1 / (1 + np.exp(-z)), rtol=1e-5)
        assert abs(m.threshold - 0.4020986557006836) < 1e-6
    else:
        np.testing.assert_allclose(out["score"], z, rtol=1e-5)
    # scores follow the weights on any input: z = x.w + b (binary: sigmoid)
    x = np.random.RandomState(0).randn(4, dim).astype(np.float32)
    z = x.astype(np.float64) @ m.weights[:, 0] + m.bias[0]
    got = m.predict(x)["score"]
    want = 1 / (1 + np.exp(-z)) if ptype == "binary_classifier" else z
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
