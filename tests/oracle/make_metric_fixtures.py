#!/usr/bin/python3
"""Writes sklearn_metrics.json, the scikit-learn / PyTorch oracle for the metrics of issue 15
(include/xdense/metrics/*.hpp), which tests/oracle/sklearn_metrics_oracle_test.cpp compares xdense
with.

Run by hand, from anywhere, with Debian's python3-sklearn and python3-torch:

    /usr/bin/python3 tests/oracle/make_metric_fixtures.py

"data" holds seeded float32 outputs and targets by name (binary scores on few levels, so that many
tie); each case a metric name and config as make_metric() takes them, the data set it is fed and
the expected result, computed in float64 on the float32 values:
  - auc: sklearn.metrics.roc_auc_score (exact, ties 1/2).
  - pr_auc: sklearn.metrics.average_precision_score (step-wise, tied scores one step).
  - precision / recall / f1 at threshold t: sklearn's precision_score, recall_score, f1_score on
    y_pred = outputs > t (Keras's comparison), zero_division=0.
  - macro_f1 / weighted_f1: sklearn's f1_score(average="macro" / "weighted") on the argmax of the
    outputs, labels = every class of the output (as Keras's F1Score, which averages over all of
    the model's classes), zero_division=0.
  - top_k_accuracy: Keras's torch backend in_top_k, in torch: the true class's output >= the k-th
    largest of torch.topk (sklearn's top_k_accuracy_score breaks ties by position instead).
  - mse / mae / rmse: sklearn's mean_squared_error / mean_absolute_error over all values (every
    sample has the same number of outputs, so the uniform average over outputs is that mean);
    rmse the square root of the mse.
  - r2: sklearn.metrics.r2_score(multioutput="uniform_average" / "variance_weighted").
"""

import json
import os

import numpy as np
import sklearn
import sklearn.metrics as skm
import torch

rng = np.random.default_rng(15)


def f32(a):
    return np.asarray(a, dtype=np.float32)


def as_matrix(a):
    a = f32(a)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    # float32 values written as the doubles they are: they read back exactly.
    return {"rows": a.shape[0], "cols": a.shape[1], "values": [float(v) for v in a.reshape(-1)]}


data = {}  # name -> {"outputs", "targets"}: each set written once, used by several cases
cases = []


def data_set(name, outputs, targets):
    data[name] = {"outputs": as_matrix(outputs), "targets": as_matrix(targets)}
    return name


def case(metric, config, name, expected):
    cases.append({"metric": metric, "config": config, "data": name, "expected": float(expected)})


# ---------------------------------------------------------------- binary
for n, levels in [(300, 7), (257, 200)]:
    y = (rng.random(n) < 0.35).astype(np.float32)
    level = np.minimum(levels - 1, rng.integers(0, levels, n) + (y * levels // 4).astype(np.int64))
    p = f32(level / (levels - 1))
    p64, y64 = p.astype(np.float64), y.astype(np.float64)
    scores = data_set(f"binary, {levels} levels", p, y)
    case("auc", {}, scores, skm.roc_auc_score(y64, p64))
    case("pr_auc", {}, scores, skm.average_precision_score(y64, p64))
    for t in (0.5, 0.3):
        pred = (p > np.float32(t)).astype(np.int64)
        case("precision", {"threshold": t}, scores, skm.precision_score(y64, pred, zero_division=0))
        case("recall", {"threshold": t}, scores, skm.recall_score(y64, pred, zero_division=0))
        case("f1", {"threshold": t}, scores, skm.f1_score(y64, pred, zero_division=0))

# ---------------------------------------------------------------- classes
n, classes = 240, 5
truth = rng.integers(0, classes - 1, n)  # the last class is never true
logits = rng.integers(0, 6, (n, classes)).astype(np.float64)  # integer levels: ties
logits[np.arange(n), truth] += 1.5
outputs = f32(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True))
predicted = outputs.argmax(axis=1)  # numpy's argmax: the first largest, as xdense
labels = list(range(classes))
indices = data_set("classes, indices", outputs, truth)
one_hot = data_set("classes, one-hot", outputs, np.eye(classes, dtype=np.float32)[truth])
macro = skm.f1_score(truth, predicted, average="macro", labels=labels, zero_division=0)
case("macro_f1", {}, indices, macro)
case("macro_f1", {}, one_hot, macro)
case("weighted_f1", {}, indices, skm.f1_score(truth, predicted, average="weighted", labels=labels, zero_division=0))
for k in (1, 2, 3):
    scores = torch.from_numpy(outputs)
    kth = torch.topk(scores, k, dim=1).values[:, -1]
    at_truth = scores[torch.arange(n), torch.from_numpy(truth)]
    case("top_k_accuracy", {"k": k}, indices, float((at_truth >= kth).double().mean()))

# ---------------------------------------------------------------- regression
n, units = 150, 3
y = f32(rng.normal(size=(n, units)) * np.array([1.0, 10.0, 0.1]) + np.array([0.0, 100.0, -3.0]))
p = f32(y + rng.normal(size=(n, units)) * np.array([0.5, 4.0, 0.02]))
p64, y64 = p.astype(np.float64), y.astype(np.float64)
values = data_set("regression, 3 outputs", p, y)
case("mse", {}, values, skm.mean_squared_error(y64, p64))
case("mae", {}, values, skm.mean_absolute_error(y64, p64))
case("rmse", {}, values, np.sqrt(skm.mean_squared_error(y64, p64)))
case("r2", {}, values, skm.r2_score(y64, p64, multioutput="uniform_average"))
case("r2", {"class_aggregation": "variance_weighted_average"}, values,
     skm.r2_score(y64, p64, multioutput="variance_weighted"))
case("r2", {}, data_set("regression, 1 output", p[:, :1], y[:, :1]), skm.r2_score(y64[:, 0], p64[:, 0]))

fixture = {
    "generator": "tests/oracle/make_metric_fixtures.py",
    "sklearn": sklearn.__version__,
    "torch": torch.__version__,
    "numpy": np.__version__,
    "data": data,
    "cases": cases,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sklearn_metrics.json")
with open(path, "w") as out:
    json.dump(fixture, out, separators=(",", ":"))
    out.write("\n")
print(f"wrote {len(cases)} cases to {path}")
