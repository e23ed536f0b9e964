# SPDX-License-Identifier: Apache-2.0
"""LinearLearner as a scikit-learn estimator: fit/predict/score on the three predictor types,
dense and sparse inputs, the validation channel, clone, cross_val_score, GridSearchCV, and C
errors (hyperparameters, data) as exceptions carrying the C message."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, cross_val_score

import linlearn
from linlearn import LinearLearner

X, Y = make_classification(600, 10, n_informative=6, random_state=0, class_sep=1.5)


def test_params_are_sagemaker_names():
    p = LinearLearner().get_params()
    for name in linlearn.HYPERPARAMETERS:
        assert name in p
    assert p["predictor_type"] == "binary_classifier" and p["l1"] is None
    e = LinearLearner(l1=0.01, epochs=3).set_params(wd=0.1)
    assert e.hyperparameters(10) == {"predictor_type": "binary_classifier", "epochs": "3",
                                     "l1": "0.01", "wd": "0.1", "feature_dim": "10"}
    assert LinearLearner(use_bias=False).hyperparameters()["use_bias"] == "false"


def test_binary_fit_predict_score():
    clf = LinearLearner(epochs=5, seed=1).fit(X, Y)
    assert clf.score(X, Y) > 0.85
    assert clf.coef_.shape == (1, 10) and clf.intercept_.shape == (1,)
    assert 0.0 < clf.threshold_ < 1.0
    P = clf.predict_proba(X[:50])
    assert P.shape == (50, 2) and np.allclose(P.sum(axis=1), 1.0)
    # the weights explain the scores: sigmoid(x.w + b), label = score > threshold
    z = X[:50].astype(np.float32) @ clf.coef_[0] + clf.intercept_[0]
    np.testing.assert_allclose(P[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(clf.predict(X[:50]), (P[:, 1] > clf.threshold_).astype(int))


def test_same_seed_same_model():
    a = LinearLearner(epochs=3, seed=5).fit(X, Y)
    b = LinearLearner(epochs=3, seed=5).fit(X, Y)
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_string_labels_and_sparse_input():
    labels = np.where(Y == 1, "yes", "no")
    S = sp.csr_matrix(X.astype(np.float32))
    clf = LinearLearner(epochs=5).fit(S, labels)
    assert set(clf.classes_) == {"no", "yes"}
    assert clf.score(S, labels) > 0.85
    dense = LinearLearner(epochs=5).fit(X.astype(np.float32), labels)
    assert (clf.predict(X) == dense.predict(S)).mean() > 0.9
    assert clf.predict(S.tocsc()).dtype.kind == "U"


def test_multiclass():
    Xm, ym = make_classification(600, 8, n_informative=6, n_classes=3, random_state=2,
                                 class_sep=2.0)
    clf = LinearLearner(predictor_type="multiclass_classifier", epochs=5).fit(Xm, ym + 10)
    assert clf.coef_.shape == (3, 8) and clf.threshold_ is None
    assert clf.score(Xm, ym + 10) > 0.7
    P = clf.predict_proba(Xm[:5])
    assert P.shape == (5, 3) and np.allclose(P.sum(axis=1), 1.0, atol=1e-5)
    assert set(clf.predict(Xm)) <= {10, 11, 12}


def test_regressor_and_validation_channel():
    rng = np.random.RandomState(3)
    Xr = rng.randn(500, 6)
    w = np.array([1.0, -2.0, 0.5, 0.0, 3.0, 1.5])
    yr = Xr @ w + 4.0 + 0.01 * rng.randn(500)
    reg = LinearLearner(predictor_type="regressor", epochs=10)
    reg.fit(Xr[:400], yr[:400], X_val=Xr[400:], y_val=yr[400:])
    assert is_regressor(reg) and not is_classifier(reg)
    assert reg.score(Xr[400:], yr[400:]) > 0.98
    assert reg.coef_.shape == (6,) and isinstance(reg.intercept_, float)
    np.testing.assert_allclose(reg.coef_, w, atol=0.2)
    assert abs(reg.intercept_ - 4.0) < 0.3


def test_clone_cross_val_score_grid_search():
    base = LinearLearner(epochs=3, l1=0.001)
    c = clone(base)
    assert c.get_params() == base.get_params() and c is not base
    scores = cross_val_score(base, X, Y, cv=3)
    assert len(scores) == 3 and scores.min() > 0.8
    gs = GridSearchCV(LinearLearner(epochs=2), {"wd": [0.0, 0.1], "learning_rate": [0.05]},
                      cv=2).fit(X, Y)
    assert gs.best_params_["wd"] in (0.0, 0.1) and gs.best_score_ > 0.8
    assert gs.predict(X[:3]).shape == (3,)


def test_bad_hyperparameter_is_the_c_message():
    with pytest.raises(linlearn.ArgumentError) as e:
        LinearLearner(l1=-1).fit(X, Y)
    assert "l1" in str(e.value) and "-1" in str(e.value)
    with pytest.raises(linlearn.ArgumentError, match="loss"):
        LinearLearner(loss="no_such_loss").fit(X, Y)
    with pytest.raises(ValueError):  # ArgumentError is a ValueError too
        LinearLearner(epochs=0).fit(X, Y)


def test_bad_data_and_usage():
    with pytest.raises(ValueError, match="3 classes"):
        LinearLearner().fit(X[:3], [0, 1, 2])
    Xn = X.copy()
    Xn[5, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LinearLearner(epochs=1).fit(Xn, Y)
    clf = LinearLearner(epochs=1).fit(X, Y)
    with pytest.raises(linlearn.ArgumentError, match="12 does not match"):
        clf.predict(np.zeros((2, 12), np.float32))
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        LinearLearner().predict(X)


def test_float32_c_contiguous_input_is_not_copied():
    from linlearn.model import as_float32_rows
    A = np.ascontiguousarray(X, dtype=np.float32)
    assert as_float32_rows(A)[1] is A
    S = sp.csr_matrix(A)
    S.indices = S.indices.astype(np.int32)
    parts = as_float32_rows(S)
    assert parts[1] is S.data and parts[2] is S.indices
