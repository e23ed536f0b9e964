# SPDX-License-Identifier: Apache-2.0
"""Small training sets against plain fits (issue 11, item 6), run by tests/cli/small_data.sh.

linlearn trains with default hyperparameters (predictor_type, num_classes only; no validation
channel, as in a first experiment) on small samples of tests/data/datasets and on each whole
train split; scikit-learn fits the same rows at test time: ordinary least squares for the
regressor, logistic regression (C=1, lbfgs, features standardised on the sample) for the
classifiers. Both are scored on the data set's test split. One line per case:
"ok|bad NAME: linlearn X reference Y", then "mean DATASET: D" lines.
Limits: test MSE at most 5 % above OLS's; accuracy at most 0.04 below the logistic fit's (4 of
114 breast_cancer test rows, 14 of 360 digits rows), and on average over a data set's cases at
most 0.015 below.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.preprocessing import StandardScaler

LL, TD = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="llsmall.")

CASES = [  # data set, predictor, extra hyperparameters, sample sizes (None: the whole split)
    ("diabetes", "regressor", [], [14, 30, 60, None]),
    ("breast_cancer", "binary_classifier", [], [30, 60, 120, None]),
    ("digits", "multiclass_classifier", ["num_classes=10"], [120, 300, None]),
]
SEEDS = [0, 1, 2]


def load(path):
    a = np.loadtxt(path, delimiter=",")
    return a[:, 1:], a[:, 0]


def linlearn(train, pred, extra, test):
    mj = os.path.join(TMP, "metrics.json")
    cmd = [LL, "train", "--train", train, "--test", test, "-H", "predictor_type=" + pred,
           "--metrics-json", mj, "--threads", "1"]
    for e in extra:
        cmd += ["-H", e]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(mj) as f:
        return json.load(f)["metrics"]


bad = 0
for ds, pred, extra, sizes in CASES:
    X, y = load(f"{TD}/datasets/{ds}/train.csv")
    test = f"{TD}/datasets/{ds}/test.csv"
    Xt, yt = load(test)
    diffs = []
    for n in sizes:
        for seed in SEEDS if n else [0]:
            idx = np.random.RandomState(seed).permutation(len(y))[:n] if n else np.arange(len(y))
            classes = len(set(y[idx]))
            if pred != "regressor" and classes < (2 if pred == "binary_classifier" else 10):
                continue
            path = os.path.join(TMP, "sample.csv")
            np.savetxt(path, np.column_stack([y[idx], X[idx]]), delimiter=",", fmt="%.9g")
            m = linlearn(path, pred, extra, test)
            name = f"{ds} {n or 'all'} rows, seed {seed}"
            if pred == "regressor":
                ref = np.mean((LinearRegression().fit(X[idx], y[idx]).predict(Xt) - yt) ** 2)
                got = m["test:mse"]
                ok = got <= 1.05 * ref
                print(f"{'ok' if ok else 'bad'} {name}: linlearn test mse {got:.6g} "
                      f"reference (OLS) {ref:.6g}")
            else:
                sc = StandardScaler().fit(X[idx])
                fit = LogisticRegression(max_iter=10000).fit(sc.transform(X[idx]), y[idx])
                ref = float(np.mean(fit.predict(sc.transform(Xt)) == yt))
                key = ("test:binary_classification_accuracy" if pred == "binary_classifier"
                       else "test:multiclass_accuracy")
                got = m[key]
                diffs.append(got - ref)
                ok = got >= ref - 0.04
                print(f"{'ok' if ok else 'bad'} {name}: linlearn test accuracy {got:.4f} "
                      f"reference (logistic) {ref:.4f}")
            bad += not ok
    if diffs:
        mean = float(np.mean(diffs))
        print(f"{'ok' if mean >= -0.015 else 'bad'} {ds} mean accuracy difference {mean:+.4f}")
        bad += mean < -0.015
sys.exit(1 if bad else 0)
