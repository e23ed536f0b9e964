# SPDX-License-Identifier: Apache-2.0
"""linlearn: SageMaker's Linear Learner and RecordIO-protobuf, in C, for Python.

    import numpy as np, linlearn
    with open("train.pbr", "wb") as f:
        linlearn.write_numpy_to_dense_tensor(f, X.astype(np.float32), y.astype(np.float32))
    clf = linlearn.LinearLearner(predictor_type="binary_classifier", epochs=5).fit(X, y)
    print(clf.score(X_test, y_test), clf.coef_, clf.threshold_)
"""
from ._linlearn import (LL_VERSION, ArgumentError, Error, IOFailure, OutOfMemory,
                        ParseError, RemoteError, StateError, TooBig)
from .estimator import HYPERPARAMETERS, LinearLearner
from .model import Model
from .recordio import (Record, RecordReader, RecordWriter, read_recordio, read_records,
                       write_numpy_to_dense_tensor, write_spmatrix_to_sparse_tensor)

__version__ = LL_VERSION
__all__ = [
    "Error", "ParseError", "ArgumentError", "IOFailure", "TooBig", "OutOfMemory",
    "RemoteError", "StateError", "LinearLearner", "HYPERPARAMETERS", "Model", "Record",
    "RecordReader", "RecordWriter", "read_records", "read_recordio",
    "write_numpy_to_dense_tensor", "write_spmatrix_to_sparse_tensor",
]
