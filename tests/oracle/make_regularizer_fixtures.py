#!/usr/bin/python3
"""Writes tests/oracle/keras_regularized.json, which tests/oracle/keras_regularized_oracle_test.cpp
compares xdense's weight regularizers with.

Run by hand, from anywhere, with Debian's python3-torch (a development tool only):

    /usr/bin/python3 tests/oracle/make_regularizer_fixtures.py

The model, initial weights and batches are those of make_fixtures.py's training fixture (the 4-8-6-3
MLP, tanh/relu/softmax, generator seed 2024), trained for 50 steps of plain SGD (lr 0.1) with Keras
regularizers on the Dense layers:
  - "l2_kernels": kernel_regularizer L2(0.01) on every layer;
  - "l1_kernels_l1l2_biases": kernel_regularizer L1(0.005), bias_regularizer L1L2(l1=0.001, l2=0.02).

torch has no per-layer regularizers: the penalty is added to the loss by hand, in Keras's form
(keras/src/regularizers/regularizers.py), and torch.autograd differentiates the sum:
    L1(l1):      l1 * sum(|w|)         d/dw = l1 * sign(w) (torch's abs'(0) = 0, as TensorFlow's)
    L2(l2):      l2 * sum(w^2)         d/dw = 2 * l2 * w
    L1L2(l1,l2): both
The loss recorded for a step is cross-entropy + penalty at the weights the step starts from: the loss
Keras's fit() reports (its compute_loss adds the layers' losses) and xdense's train_step returns.
Keras computes the penalty in float32; xdense accumulates it in double: both are within the tolerance.
torch's own weight_decay (SGD(weight_decay=wd) adds wd * w to the gradient, i.e. L2 with l2 = wd / 2, and
never reports a penalty in the loss) is not used; the note in the fixture says how it relates.
"""

import os
import sys

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ beside the fixtures
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as base  # noqa: E402  (the training fixture's model, weights and batches)

LEARNING_RATE = 0.1

# Per run: one (kernel, bias) regularizer pair per Dense layer, as Keras identifiers; None = none.
RUNS = [
    ("l2_kernels", {"class_name": "L2", "config": {"l2": 0.01}}, None),
    ("l1_kernels_l1l2_biases", {"class_name": "L1", "config": {"l1": 0.005}},
     {"class_name": "L1L2", "config": {"l1": 0.001, "l2": 0.02}}),
]


def penalty(identifier, w):
    """The Keras regularizer `identifier` on w, in torch float32 ops (Keras's formula)."""
    if identifier is None:
        return torch.zeros((), dtype=torch.float32)
    config = identifier["config"]
    l1 = torch.tensor(config.get("l1", 0.0), dtype=torch.float32)
    l2 = torch.tensor(config.get("l2", 0.0), dtype=torch.float32)
    total = torch.zeros((), dtype=torch.float32)
    if "l1" in config:
        total = total + l1 * torch.sum(torch.abs(w))
    if "l2" in config:
        total = total + l2 * torch.sum(torch.square(w))
    return total


def train(weights, batches, kernel_regularizer, bias_regularizer):
    params = [t.clone().requires_grad_(True) for pair in weights for t in pair]
    losses, penalties, snapshots = [], [], [base.snapshot(0, params)]
    for step, (x, labels) in enumerate(batches, start=1):
        data_loss = base.forward_loss(params, x, labels)
        reg = torch.zeros((), dtype=torch.float32)
        for k in range(len(base.LAYERS)):
            reg = reg + penalty(kernel_regularizer, params[2 * k]) + penalty(bias_regularizer, params[2 * k + 1])
        loss = data_loss + reg
        losses.append(float(loss))
        penalties.append(float(reg))
        gradients = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, gradients):
                p.sub_(LEARNING_RATE * g)  # torch.optim.SGD(lr) without momentum: w -= lr g
        if step % base.SNAPSHOT_EVERY == 0:
            snapshots.append(base.snapshot(step, params))
    return losses, penalties, snapshots


def main():
    torch.set_num_threads(1)
    torch.set_flush_denormal(False)
    generator = torch.Generator().manual_seed(2024)  # as make_fixtures.make_training()
    weights = base.initial_weights(generator)
    batches = base.make_batches(generator)
    runs = []
    for name, kernel_regularizer, bias_regularizer in RUNS:
        losses, penalties, snapshots = train(weights, batches, kernel_regularizer, bias_regularizer)
        runs.append({"name": name, "optimizer": "sgd", "keras": {"learning_rate": LEARNING_RATE, "momentum": 0.0,
                                                                 "nesterov": False},
                     "kernel_regularizer": kernel_regularizer, "bias_regularizer": bias_regularizer,
                     "method": "torch float32 autograd of cross_entropy + the Keras penalties written in torch ops "
                               "(see the script); w -= lr g",
                     "losses": losses, "penalties": penalties, "snapshots": snapshots})
    provenance = base.provenance()
    provenance["generator"] = "tests/oracle/make_regularizer_fixtures.py"
    layers = [{"inputs": i, "units": u, "activation": a} for i, u, a in base.LAYERS]
    base.write("keras_regularized.json", {
        "provenance": provenance,
        "model": {"layers": layers, "loss": "categorical_crossentropy (softmax output, from logits)",
                  "parameter_order": "kernel (inputs, units) row-major, then bias, for each Dense layer"},
        "torch_weight_decay_note": "torch.optim.SGD(weight_decay=wd) adds wd * w to the gradient: Keras's L2(l2) "
                                   "on every weight is weight_decay = 2 * l2, but torch never adds the penalty to "
                                   "the loss it reports, and applies it to biases too",
        "steps": base.STEPS,
        "setup": "initial_weights and batches: those of training.json (make_fixtures.py, generator seed 2024)",
        "runs": runs,
    })


if __name__ == "__main__":
    main()
