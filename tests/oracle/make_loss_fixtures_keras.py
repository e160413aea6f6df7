#!/usr/bin/python3
"""Writes keras_losses.json, the PyTorch oracle for the Keras losses of issue 14 (losses/*.hpp) and
for label smoothing of the cross-entropies, which tests/oracle/keras_losses_oracle_test.cpp
compares xdense with.

Run by hand, from anywhere, with Debian's python3-torch (as make_fixtures.py, whose helpers it
shares):

    /usr/bin/python3 tests/oracle/make_loss_fixtures_keras.py

Each case holds a loss name and config as make_loss() takes them, float32 inputs (predictions, or
logits when "from_logits" is true, as xdense's value_from_logits) and targets, the loss value and
its gradient w.r.t. the inputs (torch.autograd.grad). The numbers are computed in float64 on the
float32 inputs (the value kept as the double, the gradient rounded to float32): the exact value of
the Keras formula, which xdense, summing in double, should approach. "reduction" says what the
loss averages over ("entries": batch * units, "rows": the batch), which scales the gradient's
tolerance floor.

The Keras 3 formulas (keras/src/losses/losses.py) and how each reference is computed:
  - mean_absolute_error: mean |p - y|; torch.nn.functional.l1_loss is the same (gradient
    sign(p - y), 0 where p = y, as TensorFlow's abs).
  - huber: 0.5 x^2 for |x| <= delta, delta |x| - 0.5 delta^2 beyond (x = p - y);
    torch.nn.functional.huber_loss(p, y, delta=delta) is the same. torch's SmoothL1Loss(beta) is
    huber / beta, a different scale.
  - log_cosh: log(cosh(x)) = x + softplus(-2x) - log 2, written in torch ops with
    torch.logaddexp(-2x, 0) as the softplus (torch has no log-cosh loss).
  - hinge / squared_hinge: max(1 - y p, 0) (squared), averaged over batch and units, y -1/1; a
    batch whose targets are all 0 or 1 is converted to 2y - 1 first (Keras's
    convert_binary_labels_to_hinge), written in torch ops. torch's HingeEmbeddingLoss is a
    different loss (margin on distances), not comparable.
  - categorical_hinge: max(neg - pos + 1, 0), pos = sum y p, neg = max (1 - y) p, in torch ops;
    neg by torch.amax, whose gradient is shared among tied maxima as TensorFlow's reduce_max
    shares it. torch's MultiMarginLoss sums the margins over all wrong classes instead of taking
    the largest one.
  - kl_divergence: sum y log(y / p) over the units, y and p clipped to [1e-7, 1], in torch ops.
    torch.nn.functional.kl_div takes log-probabilities as its input and does not clip (a y = 0
    term is 0 there, 1e-7 log(1e-7 / p) in Keras); its value on the same case is recorded as
    "torch_value" for comparison.
  - poisson: mean p - y log(p + 1e-7); torch.nn.functional.poisson_nll_loss(p, y,
    log_input=False, eps=1e-7) is the same formula (torch's defaults, log_input=True and
    eps=1e-8, are not).
  - label smoothing: binary y' = y (1 - ls) + ls / 2, categorical y' = y (1 - ls) + ls / K.
    From logits: torch.nn.functional.binary_cross_entropy_with_logits(z, y') (torch has no
    smoothing argument there) and torch.nn.functional.cross_entropy(z, targets,
    label_smoothing=ls), whose smoothing is Keras's, for class indices and one-hot targets
    alike. On probabilities: Keras's clipped formulas (make_fixtures.keras_bce / keras_cce) on y'.
"""

import math

import torch
import torch.nn.functional as F

from make_fixtures import KERAS_EPSILON, keras_bce, keras_cce, matrix, provenance, write

F32 = torch.float32
F64 = torch.float64


def case(name, loss, config, inputs, targets, function, method, reduction, from_logits=False, note=None):
    """`function(inputs, targets)` -> scalar, in float64 on the float32 inputs; gradient by autograd."""
    inputs = inputs.to(F32)
    targets = targets.to(F32)
    x = inputs.to(F64).requires_grad_(True)
    value = function(x, targets.to(F64))
    (gradient,) = torch.autograd.grad(value, x)
    entry = {"name": name, "loss": loss, "config": config, "from_logits": from_logits, "reduction": reduction,
             "method": method, "input": matrix(inputs), "targets": matrix(targets), "value": float(value),
             "gradient": matrix(gradient.to(F32))}
    if note:
        entry["note"] = note
    return entry


def keras_hinge_targets(y):
    """Keras's convert_binary_labels_to_hinge: 2y - 1 when every target is 0 or 1."""
    binary = bool(((y == 0) | (y == 1)).all())
    return 2.0 * y - 1.0 if binary else y


def hinge(p, y):
    return torch.relu(1.0 - keras_hinge_targets(y) * p).mean()


def squared_hinge(p, y):
    return torch.relu(1.0 - keras_hinge_targets(y) * p).square().mean()


def categorical_hinge(p, y):
    pos = (y * p).sum(dim=1)
    neg = ((1.0 - y) * p).amax(dim=1)
    return torch.relu(neg - pos + 1.0).mean()


def log_cosh(p, y):
    x = p - y
    return (x + torch.logaddexp(-2.0 * x, torch.zeros_like(x)) - math.log(2.0)).mean()


def kl_divergence(p, y):
    t = torch.clamp(y, KERAS_EPSILON, 1.0)
    q = torch.clamp(p, KERAS_EPSILON, 1.0)
    return (t * torch.log(t / q)).sum(dim=1).mean()


def binary_smoothed(y, ls):
    return y * (1.0 - ls) + 0.5 * ls


def categorical_smoothed(y, ls):
    return y * (1.0 - ls) + ls / y.shape[1]


def regression_cases(g):
    cases = []
    # Errors of every size, an exact match (gradient 0), and |x| on both sides of each delta.
    p = torch.cat([torch.randn(4, 3, generator=g) * 2.0, torch.tensor([[1e4, -1e4, 0.75], [2.5, -0.2, 1e-3]])])
    y = torch.cat([torch.randn(4, 3, generator=g), torch.tensor([[-1e4, 1e4, 0.75], [0.0, 0.3, 0.0]])])
    cases.append(case("mae", "mean_absolute_error", {}, p, y, F.l1_loss,
                      "torch.nn.functional.l1_loss(p, y)", "entries"))
    cases.append(case("huber", "huber", {"delta": 1.0}, p, y, lambda a, b: F.huber_loss(a, b, delta=1.0),
                      "torch.nn.functional.huber_loss(p, y, delta=1.0)", "entries"))
    cases.append(case("huber_delta_0.5", "huber", {"delta": 0.5}, p, y, lambda a, b: F.huber_loss(a, b, delta=0.5),
                      "torch.nn.functional.huber_loss(p, y, delta=0.5)", "entries"))
    cases.append(case("log_cosh", "log_cosh", {}, p, y, log_cosh,
                      "Keras formula in torch ops: (x + logaddexp(-2x, 0) - log 2).mean(), x = p - y",
                      "entries", note="torch has no log-cosh loss"))
    return cases


def hinge_cases(g):
    cases = []
    scores = torch.randn(5, 3, generator=g) * 1.5
    signs = torch.where(torch.rand(5, 3, generator=g) < 0.5, -1.0, 1.0)
    bits = (signs + 1.0) / 2.0
    for loss, function in (("hinge", hinge), ("squared_hinge", squared_hinge)):
        formula = "relu(1 - y p)" + (".square()" if loss == "squared_hinge" else "") + ".mean()"
        cases.append(case(loss + "_minus_one_one", loss, {}, scores, signs, function,
                          "Keras formula in torch ops: " + formula, "entries"))
        cases.append(case(loss + "_zero_one", loss, {}, scores, bits, function,
                          "Keras formula in torch ops: y = 2y - 1 (all targets 0 or 1), then " + formula, "entries",
                          note="Keras converts a batch of 0/1 targets to -1/1"))

    # One-hot rows; the last two rows: a tie for neg (gradient shared) and a zero loss.
    p = torch.cat([torch.randn(4, 4, generator=g), torch.tensor([[0.5, 0.2, 0.5, -1.0], [0.0, 3.0, 0.5, 0.25]])])
    labels = torch.tensor([0, 3, 1, 2, 1, 1])
    cases.append(case("categorical_hinge", "categorical_hinge", {}, p, F.one_hot(labels, 4), categorical_hinge,
                      "Keras formula in torch ops: relu(amax((1 - y) p) - sum(y p) + 1).mean()", "rows",
                      note="torch.amax shares the gradient among tied maxima (row 4), as TensorFlow's "
                           "reduce_max; torch.nn.MultiMarginLoss is a different loss"))
    return cases


def probabilistic_cases(g):
    cases = []
    p = torch.cat([torch.softmax(torch.randn(4, 3, generator=g) * 2.0, dim=1),
                   torch.tensor([[0.0, 0.4, 0.6], [1e-9, 0.999, 1e-3]])])
    y = torch.cat([torch.softmax(torch.randn(4, 3, generator=g), dim=1),
                   torch.tensor([[0.0, 0.5, 0.5], [0.2, 0.8, 0.0]])])
    entry = case("kl_divergence", "kl_divergence", {}, p, y, kl_divergence,
                 "Keras formula in torch ops: y, p = clamp(., 1e-7, 1); (y log(y / p)).sum(1).mean()", "rows",
                 note="p and y are clipped to [1e-7, 1]: p = 0 or 1e-9 has gradient 0, and y = 0 adds "
                      "1e-7 log(1e-7 / p); torch.nn.functional.kl_div(log p, y, reduction='batchmean') "
                      "neither clips nor takes probabilities")
    # On the four softmax rows (no zero, nothing clipped) Keras and torch agree to ~1e-7 (the
    # clip of y = 0 aside); on all rows torch's kl_div is NaN (log 0 input).
    (p4, y4) = (p[:4].to(F32).to(F64), y[:4].to(F32).to(F64))
    entry["torch_comparison"] = {"rows": 4, "keras_value": float(kl_divergence(p4, y4)),
                                 "torch_kl_div_value": float(F.kl_div(torch.log(p4), y4, reduction="batchmean"))}
    cases.append(entry)

    rates = torch.cat([torch.rand(4, 3, generator=g) * 4.0 + 0.05, torch.tensor([[0.0, 1e-3, 25.0]])])
    counts = torch.cat([torch.randint(0, 6, (4, 3), generator=g).to(F32), torch.tensor([[0.0, 2.0, 30.0]])])
    cases.append(case("poisson", "poisson", {}, rates, counts,
                      lambda a, b: F.poisson_nll_loss(a, b, log_input=False, full=False, eps=KERAS_EPSILON),
                      "torch.nn.functional.poisson_nll_loss(p, y, log_input=False, eps=1e-7)", "entries",
                      note="torch's defaults (log_input=True, eps=1e-8) are a different formula"))
    return cases


def smoothing_cases(g):
    cases = []
    z = torch.cat([torch.tensor([[1e4, -1e4, 0.0, 88.0], [-88.0, 20.0, -20.0, 1e-40]]), torch.randn(3, 4, generator=g) * 3])
    y = torch.cat([torch.tensor([[1, 1, 0, 0], [1, 1, 0, 0.5]]), (torch.rand(3, 4, generator=g) < 0.5).to(F32)])
    ls = 0.1
    cases.append(case("bce_logits_smoothing_0.1", "binary_crossentropy", {"label_smoothing": ls}, z, y,
                      lambda a, b: F.binary_cross_entropy_with_logits(a, binary_smoothed(b, ls)),
                      "torch.nn.functional.binary_cross_entropy_with_logits(z, y (1 - ls) + ls / 2)", "entries",
                      from_logits=True))
    p = torch.tensor([[0.5, 1e-6, 0.999999, 0.2], [0.01, 0.3, 0.99, 0.7], [0.0, 1.0, 0.25, 1e-3]])
    t = torch.tensor([[1, 0, 1, 0], [1, 0, 0, 1], [1, 0, 0.25, 1]])
    ls = 0.2
    cases.append(case("bce_probabilities_smoothing_0.2", "binary_crossentropy", {"label_smoothing": ls}, p, t,
                      lambda a, b: keras_bce(a, binary_smoothed(b, ls)),
                      "Keras formula in torch ops on y' = y (1 - ls) + ls / 2: q = clamp(p, 1e-7, 1 - 1e-7); "
                      "-(y' log q + (1 - y') log(1 - q)).mean()", "entries"))

    z = torch.cat([torch.tensor([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0], [88.0, -88.0, 0.0], [0.0, 0.0, 0.0]]),
                   torch.randn(4, 3, generator=g) * 4.0])
    labels = torch.tensor([1, 1, 0, 2, 0, 2, 1, 0])
    ls = 0.1
    cases.append(case("cce_logits_integer_targets_smoothing_0.1", "categorical_crossentropy", {"label_smoothing": ls},
                      z, labels.to(F32).reshape(-1, 1),
                      lambda a, b: F.cross_entropy(a, b.reshape(-1).long(), label_smoothing=ls),
                      "torch.nn.functional.cross_entropy(z, class_indices, label_smoothing=0.1)", "rows",
                      from_logits=True))
    cases.append(case("cce_logits_one_hot_targets_smoothing_0.1", "categorical_crossentropy", {"label_smoothing": ls},
                      z, F.one_hot(labels, 3),
                      lambda a, b: F.cross_entropy(a, b, label_smoothing=ls),
                      "torch.nn.functional.cross_entropy(z, one_hot, label_smoothing=0.1)", "rows",
                      from_logits=True))
    soft = torch.softmax(torch.randn(4, 3, generator=g), dim=1)
    ls = 0.3
    cases.append(case("cce_logits_soft_targets_smoothing_0.3", "categorical_crossentropy", {"label_smoothing": ls},
                      torch.randn(4, 3, generator=g) * 3, soft,
                      lambda a, b: F.cross_entropy(a, b, label_smoothing=ls),
                      "torch.nn.functional.cross_entropy(z, soft_targets, label_smoothing=0.3)", "rows",
                      from_logits=True))
    p = torch.tensor([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05], [1e-3, 0.998, 1e-3], [0.4, 0.4, 0.4]])
    t = torch.tensor([[0, 0, 1], [1, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=F32)
    ls = 0.2
    cases.append(case("cce_probabilities_smoothing_0.2", "categorical_crossentropy", {"label_smoothing": ls}, p, t,
                      lambda a, b: keras_cce(a, categorical_smoothed(b, ls)),
                      "Keras formula in torch ops on y' = y (1 - ls) + ls / K: q = clamp(p / p.sum(1), 1e-7, "
                      "1 - 1e-7); -(y' log q).sum(1).mean()", "rows"))
    return cases


def main():
    torch.set_num_threads(1)
    torch.set_flush_denormal(False)
    g = torch.Generator().manual_seed(14)
    cases = regression_cases(g) + hinge_cases(g) + probabilistic_cases(g) + smoothing_cases(g)
    document = {"provenance": dict(provenance(), generator="tests/oracle/make_loss_fixtures_keras.py",
                                   computed_in="float64 on float32 inputs; gradients rounded to float32"),
                "losses": cases}
    write("keras_losses.json", document)


if __name__ == "__main__":
    main()
