# SPDX-License-Identifier: Apache-2.0
"""Trained Linear Learner models: load (linlearn's model.tar.gz or an unpacked folder, and
whatever else ll_model_load reads), predict with SageMaker's response fields, save, export."""
import json
import os
import tempfile

import numpy as np

from . import _linlearn as _c

__all__ = ["Model", "as_float32_rows"]


def as_float32_rows(X):
    """X as the C scorer takes it, without a copy where the layout allows: ("dense", array)
    for a C-contiguous float32 matrix, ("csr", data, indices, indptr, n_cols) for CSR float32
    with int32 indices; anything else is converted once."""
    if hasattr(X, "tocsr") and not isinstance(X, np.ndarray):
        csr = X if X.format == "csr" else X.tocsr()
        data = csr.data if csr.data.dtype == np.float32 else csr.data.astype(np.float32)
        idx = csr.indices if csr.indices.dtype == np.int32 else csr.indices.astype(np.int32)
        ptr = csr.indptr
        if ptr.dtype not in (np.int32, np.int64):
            ptr = ptr.astype(np.int64)
        return ("csr", np.ascontiguousarray(data), np.ascontiguousarray(idx),
                np.ascontiguousarray(ptr), csr.shape[1])
    a = np.asarray(X)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2:
        raise ValueError("expected a 2-D array of features, got {} dimensions".format(a.ndim))
    return ("dense", np.ascontiguousarray(a, dtype=np.float32))


def _write_atomic(path, data):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ll_model_format
_FORMATS = {"linlearn": 0, "sagemaker": 1, "onnx": 2}


class Model:
    """A model as ll_model_load reads it.

    m = Model.load("model/model.tar.gz")
    out = m.predict(X)        # {"score": ..., "predicted_label": ...} as numpy arrays
    m.save("copy.tar.gz"); m.export("weights.json", format="json")
    """

    def __init__(self, cmodel):
        self._m = cmodel
        info = cmodel.info()
        self.predictor_type = info["predictor_type"]
        self.feature_dim = int(info["feature_dim"])
        self.n_outputs = int(info["n_outputs"])
        self.threshold = float(info["threshold"])
        self.loss = info["loss"]
        self.weights = np.frombuffer(info["weights"], dtype=np.float32).reshape(
            self.feature_dim, self.n_outputs)
        self.bias = np.frombuffer(info["bias"], dtype=np.float32)

    @classmethod
    def load(cls, path):
        """Loads path (model.tar.gz, a folder holding it or its unpacked files). Failures raise
        linlearn.Error subclasses with the C library's message."""
        return cls(_c.CModel(os.fspath(path)))

    def _scores(self, X):
        rows = as_float32_rows(X)
        if rows[0] == "dense":
            s, l = self._m.predict_dense(rows[1])
            n = rows[1].shape[0]
        else:
            s, l = self._m.predict_csr(rows[1], rows[2], rows[3], rows[4])
            n = len(rows[3]) - 1
        scores = np.frombuffer(s, dtype=np.float32).reshape(n, self.n_outputs)
        labels = np.frombuffer(l, dtype=np.float32)
        return scores, labels

    def predict(self, X):
        """Scores X (numpy or scipy.sparse, raw features). Returns SageMaker's response fields
        as arrays: binary {"score" (n,), "predicted_label" (n,)}, multiclass {"score" (n, C),
        "predicted_label" (n,)}, regressor {"score" (n,)}."""
        scores, labels = self._scores(X)
        if self.predictor_type == "regressor":
            return {"score": scores[:, 0]}
        if self.predictor_type == "binary_classifier":
            return {"score": scores[:, 0], "predicted_label": labels}
        return {"score": scores, "predicted_label": labels}

    def save(self, path):
        """Writes linlearn's model.tar.gz to path (ll_model_export: a temporary name, then
        renamed), whatever the model was loaded from."""
        self._m.export(os.fspath(path), _FORMATS["linlearn"])

    def to_dict(self):
        """The `linlearn export --format json` fields."""
        return {
            "predictor_type": self.predictor_type,
            "feature_dim": self.feature_dim,
            "n_outputs": self.n_outputs,
            "threshold": self.threshold,
            "loss": self.loss,
            "bias": [float(v) for v in self.bias],
            "weights": [[float(v) for v in row] for row in self.weights],
        }

    def export(self, path, format="json"):
        """Exports the model: "json" (the fields of `linlearn export --format json`),
        "linlearn" (as save), "sagemaker" (SageMaker's model.tar.gz, model_algo-1, for
        SageMaker's own Linear Learner image) or "onnx" (input "features" [N, D] float32,
        outputs "score" [N, C] and "predicted_label" [N]); all but json by ll_model_export."""
        path = os.fspath(path)
        if format == "json":
            _write_atomic(path, (json.dumps(self.to_dict()) + "\n").encode())
        elif format in _FORMATS:
            self._m.export(path, _FORMATS[format])
        else:
            raise ValueError("unknown export format {!r}: json, linlearn, sagemaker or "
                             "onnx".format(format))

    def __repr__(self):
        return "Model(predictor_type={!r}, feature_dim={}, n_outputs={})".format(
            self.predictor_type, self.feature_dim, self.n_outputs)
