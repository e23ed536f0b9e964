# SPDX-License-Identifier: Apache-2.0
"""LinearLearner: a scikit-learn estimator that trains with linlearn's C trainer (ll_train)
under SageMaker's hyperparameter names and scores with ll_model_predict."""
import os
import shutil
import tempfile

import numpy as np

from . import _linlearn as _c
from .model import Model
from .recordio import write_numpy_to_dense_tensor, write_spmatrix_to_sparse_tensor

try:
    from sklearn.base import BaseEstimator
except ImportError:  # pragma: no cover - the estimator needs scikit-learn
    BaseEstimator = object

__all__ = ["LinearLearner", "HYPERPARAMETERS"]

# SageMaker Linear Learner's hyperparameters, in docs/TRAINING.md's order (predictor_type
# first). None leaves the library's default (or "auto").
HYPERPARAMETERS = (
    "predictor_type", "num_classes", "feature_dim", "mini_batch_size", "epochs",
    "accuracy_top_k", "balance_multiclass_weights", "beta_1", "beta_2", "bias_lr_mult",
    "bias_wd_mult", "binary_classifier_model_selection_criteria", "early_stopping_patience",
    "early_stopping_tolerance", "f_beta", "huber_delta", "init_bias", "init_method",
    "init_scale", "init_sigma", "l1", "learning_rate", "loss", "loss_insensitivity",
    "lr_scheduler_factor", "lr_scheduler_minimum_lr", "lr_scheduler_step", "margin",
    "momentum", "normalize_data", "normalize_label", "num_calibration_samples", "num_models",
    "num_point_for_scaler", "optimizer", "positive_example_weight_mult", "quantile",
    "target_precision", "target_recall", "unbias_data", "unbias_label", "use_bias",
    "use_lr_scheduler", "wd",
)


def _hp_text(v):
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _write_rows(f, X, y):
    if hasattr(X, "tocsr") and not isinstance(X, np.ndarray):
        X = X.tocsr()
        if X.dtype != np.float32:
            X = X.astype(np.float32)
        write_spmatrix_to_sparse_tensor(f, X, y)
    else:
        write_numpy_to_dense_tensor(f, np.asarray(X, dtype=np.float32), y)


def _check_X(X):
    """X as a 2-D float32/float64 array or sparse matrix of finite values (no copy when it
    already is one). Non-finite values are refused here: training must not see them."""
    from sklearn.utils import check_array
    return check_array(X, accept_sparse=["csr", "csc", "coo"], dtype=[np.float32, np.float64],
                       force_all_finite=True)


class LinearLearner(BaseEstimator):
    """SageMaker's Linear Learner as a scikit-learn estimator.

    LinearLearner(predictor_type="binary_classifier", epochs=10, l1=0.001, ...): every
    SageMaker hyperparameter is a constructor argument under its own name (None: default).
    seed and threads are linlearn's (same seed and threads: the same model).

    After fit: model_ (a linlearn.Model), coef_, intercept_, threshold_ (binary), classes_
    (classifiers), n_features_in_.
    """

    def __init__(self, predictor_type="binary_classifier", num_classes=None, feature_dim=None,
                 mini_batch_size=None, epochs=None, accuracy_top_k=None,
                 balance_multiclass_weights=None, beta_1=None, beta_2=None, bias_lr_mult=None,
                 bias_wd_mult=None, binary_classifier_model_selection_criteria=None,
                 early_stopping_patience=None, early_stopping_tolerance=None, f_beta=None,
                 huber_delta=None, init_bias=None, init_method=None, init_scale=None,
                 init_sigma=None, l1=None, learning_rate=None, loss=None,
                 loss_insensitivity=None, lr_scheduler_factor=None,
                 lr_scheduler_minimum_lr=None, lr_scheduler_step=None, margin=None,
                 momentum=None, normalize_data=None, normalize_label=None,
                 num_calibration_samples=None, num_models=None, num_point_for_scaler=None,
                 optimizer=None, positive_example_weight_mult=None, quantile=None,
                 target_precision=None, target_recall=None, unbias_data=None,
                 unbias_label=None, use_bias=None, use_lr_scheduler=None, wd=None, seed=0,
                 threads=1):
        self.predictor_type = predictor_type
        self.num_classes = num_classes
        self.feature_dim = feature_dim
        self.mini_batch_size = mini_batch_size
        self.epochs = epochs
        self.accuracy_top_k = accuracy_top_k
        self.balance_multiclass_weights = balance_multiclass_weights
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.bias_lr_mult = bias_lr_mult
        self.bias_wd_mult = bias_wd_mult
        self.binary_classifier_model_selection_criteria = \
            binary_classifier_model_selection_criteria
        self.early_stopping_patience = early_stopping_patience
        self.early_stopping_tolerance = early_stopping_tolerance
        self.f_beta = f_beta
        self.huber_delta = huber_delta
        self.init_bias = init_bias
        self.init_method = init_method
        self.init_scale = init_scale
        self.init_sigma = init_sigma
        self.l1 = l1
        self.learning_rate = learning_rate
        self.loss = loss
        self.loss_insensitivity = loss_insensitivity
        self.lr_scheduler_factor = lr_scheduler_factor
        self.lr_scheduler_minimum_lr = lr_scheduler_minimum_lr
        self.lr_scheduler_step = lr_scheduler_step
        self.margin = margin
        self.momentum = momentum
        self.normalize_data = normalize_data
        self.normalize_label = normalize_label
        self.num_calibration_samples = num_calibration_samples
        self.num_models = num_models
        self.num_point_for_scaler = num_point_for_scaler
        self.optimizer = optimizer
        self.positive_example_weight_mult = positive_example_weight_mult
        self.quantile = quantile
        self.target_precision = target_precision
        self.target_recall = target_recall
        self.unbias_data = unbias_data
        self.unbias_label = unbias_label
        self.use_bias = use_bias
        self.use_lr_scheduler = use_lr_scheduler
        self.wd = wd
        self.seed = seed
        self.threads = threads

    # scikit-learn decides classifier or regressor from this (stratified folds, scorers)
    @property
    def _estimator_type(self):
        return "regressor" if self.predictor_type == "regressor" else "classifier"

    def _more_tags(self):
        return {"allow_nan": False, "requires_y": True}

    def hyperparameters(self, n_features=None, n_classes=None):
        """The hyperparameters.json this estimator trains with: {name: str}."""
        hp = {}
        for name in HYPERPARAMETERS:
            v = getattr(self, name)
            if v is not None:
                hp[name] = _hp_text(v)
        if "feature_dim" not in hp and n_features is not None:
            hp["feature_dim"] = str(n_features)
        if (self.predictor_type == "multiclass_classifier" and "num_classes" not in hp
                and n_classes is not None):
            hp["num_classes"] = str(n_classes)
        return hp

    def _encode_y(self, y, fitting):
        y = np.asarray(y)
        if y.ndim != 1:
            y = y.ravel()
        if self.predictor_type == "regressor":
            return y.astype(np.float32)
        if fitting:
            self.classes_ = np.unique(y)
            if self.predictor_type == "binary_classifier" and len(self.classes_) > 2:
                raise ValueError("binary_classifier: y holds {} classes; use "
                                 "predictor_type='multiclass_classifier'".format(
                                     len(self.classes_)))
        idx = np.searchsorted(self.classes_, y)
        bad = (idx >= len(self.classes_)) | (self.classes_[np.minimum(
            idx, len(self.classes_) - 1)] != y)
        if bad.any():
            raise ValueError("y holds labels not seen in training: {!r}".format(
                np.unique(y[bad])[:5]))
        if self.predictor_type == "binary_classifier" and len(self.classes_) == 1:
            # one class: it is the positive one when it is 1 (or True), else the negative
            pos = self.classes_[0] in (1, True)
            return np.full(len(y), 1.0 if pos else 0.0, dtype=np.float32)
        return idx.astype(np.float32)

    def fit(self, X, y, X_val=None, y_val=None):
        """Trains on X, y (numpy or scipy.sparse; classes of y mapped to 0..K-1), with X_val,
        y_val as SageMaker's validation channel (model selection, threshold, early stopping).
        Errors of the C side (a bad hyperparameter, bad data) raise linlearn.Error subclasses
        with its message."""
        if X_val is not None and y_val is None:
            raise ValueError("X_val given without y_val")
        X = _check_X(X)
        n, d = X.shape
        yy = self._encode_y(y, True)
        if len(yy) != n:
            raise ValueError("X has {} rows but y has {} labels".format(n, len(yy)))
        n_classes = len(self.classes_) if self.predictor_type != "regressor" else None
        hp = self.hyperparameters(d, n_classes)
        _c.check_hparams(hp)
        tmp = tempfile.mkdtemp(prefix="linlearn-fit-")
        try:
            tr = os.path.join(tmp, "train.pbr")
            with open(tr, "wb") as f:
                _write_rows(f, X, yy)
            va = None
            if X_val is not None:
                X_val = _check_X(X_val)
                va = os.path.join(tmp, "validation.pbr")
                yv = self._encode_y(y_val, False)
                with open(va, "wb") as f:
                    _write_rows(f, X_val, yv)
            md = os.path.join(tmp, "model")
            os.mkdir(md)
            _c.train(hp, tr, va, md, int(self.seed), int(self.threads))
            self.model_ = Model.load(os.path.join(md, "model.tar.gz"))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.n_features_in_ = d
        w = self.model_.weights
        b = self.model_.bias
        if self.predictor_type == "regressor":
            self.coef_ = w[:, 0].copy()
            self.intercept_ = float(b[0])
        else:
            self.coef_ = w.T.copy()
            self.intercept_ = b.copy()
        self.threshold_ = (self.model_.threshold
                           if self.predictor_type == "binary_classifier" else None)
        return self

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            from sklearn.exceptions import NotFittedError
            raise NotFittedError("this LinearLearner is not fitted yet; call fit first")

    def predict(self, X):
        """Predicted labels (classes of y for classifiers) or values (regressor)."""
        self._check_fitted()
        out = self.model_.predict(X)
        if self.predictor_type == "regressor":
            return out["score"].astype(np.float64)
        lab = out["predicted_label"].astype(np.int64)
        if len(self.classes_) == 1:
            return np.full(len(lab), self.classes_[0])
        return self.classes_[lab]

    def predict_proba(self, X):
        """Class probabilities, columns in classes_ order (binary: logistic loss only)."""
        self._check_fitted()
        if self.predictor_type == "regressor":
            raise AttributeError("predict_proba is for classifiers")
        out = self.model_.predict(X)
        if self.predictor_type == "binary_classifier":
            if self.model_.loss not in ("logistic", ""):
                raise ValueError("predict_proba needs loss='logistic' (this model was trained "
                                 "with {}: its scores are not probabilities)".format(
                                     self.model_.loss))
            p = out["score"].astype(np.float64)
            return np.column_stack([1.0 - p, p])
        return out["score"].astype(np.float64)

    def decision_function(self, X):
        """The model's score per row (binary: the positive class's score)."""
        self._check_fitted()
        return self.model_.predict(X)["score"].astype(np.float64)

    def score(self, X, y, sample_weight=None):
        """Accuracy (classifiers) or R^2 (regressor), as scikit-learn's mixins."""
        if self.predictor_type == "regressor":
            from sklearn.metrics import r2_score
            return r2_score(y, self.predict(X), sample_weight=sample_weight)
        from sklearn.metrics import accuracy_score
        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)
