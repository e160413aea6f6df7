#!/usr/bin/python3
"""Writes the PyTorch oracle fixtures that tests/oracle_test.cpp compares xdense with.

Run by hand, from anywhere, with Debian's python3-torch (a development tool only: neither the
library, the README commands nor CI need torch):

    /usr/bin/python3 tests/oracle/make_fixtures.py

It rewrites, next to this script:
  activations.json  value and gradient of each activation on a grid with extreme inputs
  losses.json       each loss and its gradient w.r.t. its input (predictions or logits)
  training.json     50 steps of SGD (plain, momentum, Nesterov) and Adam on a 4-8-6-3 MLP
and then runs the generators of the Keras components beside it (each can also run alone; each has
its own test, tests/oracle/keras_*_oracle_test.cpp):
  make_activation_fixtures.py   keras_activations.json   elu, selu, gelu, swish, softplus, ...
  make_loss_fixtures_keras.py   keras_losses.json        mae, huber, log_cosh, kl_divergence, hinges,
                                                         poisson, label-smoothed cross-entropies
  make_optimizer_fixtures.py    keras_optimizers.json    rmsprop, adagrad, adamw, nadam, adamax,
                                                         clipping and weight decay: 50-step trajectories
  make_regularizer_fixtures.py  keras_regularized.json   L2 and L1/L1L2-regularized training runs
  make_layer_fixtures.py        keras_layers.json        BatchNormalization (both modes, moving
                                                         statistics) and LayerNormalization
  make_regression_fixtures.py   torch_regression.json    test R^2 of a 64-32-1 MLP on Friedman #1
                                                         (friedman1_*.csv) over five seeds
  make_schedule_fixtures.py     keras_schedules.json     the learning-rate schedules' rate at steps 0..300
                                                         (Keras's formulas in numpy float32)

Everything is float32, as xdense computes, on torch's CPU kernels, single-threaded, from fixed
seeds; each fixture records the torch version and, per case, how the numbers were computed.
Floats are written as the exact decimal value of the float32 (Python's repr of the double it
widens to), so the C++ side reads back the very same bits.

Where Keras (which xdense follows) and PyTorch differ, the fixture says so and holds the Keras
number, computed here with torch operations:
  - binary cross-entropy on probabilities: Keras clips p to [1e-7, 1 - 1e-7] before the log
    (gradient 0 outside), torch clamps the log at -100. They agree for p inside the clip range;
    cases with p = 0 or 1 hold the Keras numbers and, for the record, torch's own.
  - categorical cross-entropy on probabilities: Keras renormalises p to sum 1 and clips it;
    torch has no such loss, so the Keras formula is evaluated with torch autograd.
  - Adam: Keras adds epsilon to sqrt(v) and folds the bias corrections into the step size,
    lr_t = lr sqrt(1 - b2^t) / (1 - b1^t); w -= lr_t m / (sqrt(v) + eps). That equals
    torch.optim.Adam only with eps_torch = eps / sqrt(1 - b2^t), which changes every step, so
    the Keras update is written out below in torch tensor operations; torch.optim.Adam with
    eps_torch = eps is run too and its distance to the Keras trajectory is recorded.
  - SGD: Keras's v = m v - lr g; w += v is torch's SGD(momentum=m, dampening=0) with v = -lr b
    (constant lr), and Keras's Nesterov w += m v - lr g is torch's nesterov=True: the fixture
    uses torch.optim.SGD itself, with the same lr and momentum.
  - binary step: torch.heaviside(x, 1) gives the value; torch defines no derivative for it, and
    the true derivative (0, undefined at 0) is recorded.
  - leaky ReLU: slope 0.3 (Keras's LeakyReLU layer default, xdense's default), passed to
    torch's F.leaky_relu(x, 0.3) explicitly (torch's own default is 0.01).
"""

import json
import math
import os
import subprocess
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
KERAS_EPSILON = 1e-7


def debian_version(package):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def provenance():
    return {
        "generator": "tests/oracle/make_fixtures.py",
        "torch_version": torch.__version__,
        "torch_debian_package": "python3-torch " + debian_version("python3-torch"),
        "python_version": sys.version.split()[0],
        "dtype": "float32",
        "threads": torch.get_num_threads(),
    }


def floats(t):
    """A tensor as a flat list of Python floats (exact widening of each float32)."""
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def matrix(t):
    t = t.detach()
    if t.dim() == 1:
        t = t.reshape(-1, 1)
    return {"rows": int(t.shape[0]), "cols": int(t.shape[1]), "values": floats(t)}


def write(name, document):
    path = os.path.join(HERE, name)
    with open(path, "w", encoding="utf-8") as out:
        json.dump(document, out, indent=1)
        out.write("\n")
    print("wrote", path)


# --------------------------------------------------------------------------- activations

# Extreme inputs: +-1e4 (exp over/underflows), +-88 (edge of float32 exp), +-100, 0 and -0,
# denormals (1e-40, 1e-44), and ordinary values.
GRID = [-1e4, -100.0, -88.0, -87.5, -20.0, -10.0, -5.0, -2.5, -1.0, -0.5, -0.1, -1e-3, -1e-40, -1e-44, -0.0,
        0.0, 1e-44, 1e-40, 1e-3, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 87.5, 88.0, 100.0, 1e4]


def elementwise(name, function, method, differentiable=True):
    x = torch.tensor(GRID, dtype=torch.float32, requires_grad=True)
    y = function(x)
    if differentiable:
        (gradient,) = torch.autograd.grad(y.sum(), x)
        gradient_method = "torch.autograd.grad(f(x).sum(), x)"
    else:
        gradient = torch.zeros_like(x)
        gradient_method = "0 (torch defines no derivative; the true derivative is 0, undefined at 0)"
    return {"name": name, "kind": "elementwise", "value_method": method, "gradient_method": gradient_method,
            "x": floats(x), "value": floats(y), "gradient": floats(gradient)}


def softmax_case():
    generator = torch.Generator().manual_seed(11)
    rows = [
        [1e4, 0.0, -1e4, 1.0],
        [88.0, 88.0, -88.0, 0.0],
        [-1e4, -1e4, -1e4, -1e4],
        [0.0, 0.0, 0.0, 0.0],
        [1e-40, -1e-40, 0.0, 1e-44],
        [100.0, 99.0, 98.0, -100.0],
        [-87.5, 0.0, 87.5, 20.0],
    ]
    random_rows = torch.randn(5, 4, generator=generator) * 3.0
    x = torch.cat([torch.tensor(rows, dtype=torch.float32), random_rows]).requires_grad_(True)
    upstream = torch.randn(x.shape, generator=generator)
    y = F.softmax(x, dim=1)
    (gradient,) = torch.autograd.grad(y, x, grad_outputs=upstream)
    return {"name": "softmax", "kind": "rows", "value_method": "torch.nn.functional.softmax(x, dim=1)",
            "gradient_method": "torch.autograd.grad(softmax(x), x, grad_outputs=upstream): J^T upstream",
            "x": matrix(x), "upstream": matrix(upstream), "value": matrix(y), "gradient": matrix(gradient)}


def make_activations():
    cases = [
        elementwise("linear", lambda x: x * 1.0, "x (identity)"),
        elementwise("binary_step", lambda x: torch.heaviside(x, torch.tensor(1.0)),
                    "torch.heaviside(x, 1): 1 for x >= 0 (also -0), else 0", differentiable=False),
        elementwise("sigmoid", torch.sigmoid, "torch.sigmoid(x)"),
        elementwise("tanh", torch.tanh, "torch.tanh(x)"),
        elementwise("relu", torch.relu, "torch.relu(x); torch's derivative at 0 is 0"),
        elementwise("leaky_relu(0.3)", lambda x: F.leaky_relu(x, 0.3),
                    "torch.nn.functional.leaky_relu(x, 0.3); derivative at 0 is the slope"),
        softmax_case(),
    ]
    write("activations.json", {"provenance": provenance(), "activations": cases})


# --------------------------------------------------------------------------- losses

def loss_case(name, loss, inputs, targets, function, method, note=None):
    """`function(inputs, targets)` -> scalar; gradient w.r.t. inputs by autograd. Inputs are logits
    when the case's name says so (xdense: value_from_logits), else predictions (xdense: value)."""
    x = inputs.clone().requires_grad_(True)
    value = function(x, targets)
    (gradient,) = torch.autograd.grad(value, x)
    case = {"name": name, "loss": loss, "from_logits": "logits" in name, "method": method, "input": matrix(x),
            "targets": matrix(targets),
            "value": float(value), "gradient": matrix(gradient)}
    if note:
        case["note"] = note
    return case


def keras_bce(p, y):
    q = torch.clamp(p, KERAS_EPSILON, 1.0 - KERAS_EPSILON)
    return -(y * torch.log(q) + (1.0 - y) * torch.log(1.0 - q)).mean()


def keras_cce(p, y):
    q = torch.clamp(p / p.sum(dim=1, keepdim=True), KERAS_EPSILON, 1.0 - KERAS_EPSILON)
    return -(y * torch.log(q)).sum(dim=1).mean()


def make_losses():
    g = torch.Generator().manual_seed(5)
    f32 = torch.float32
    cases = []

    # mean squared error, including large and tiny differences
    p = torch.cat([torch.randn(4, 3, generator=g), torch.tensor([[1e4, -1e4, 1e-40]])])
    y = torch.cat([torch.randn(4, 3, generator=g), torch.tensor([[-1e4, 1e4, 0.0]])])
    cases.append(loss_case("mse", "mean_squared_error", p, y, F.mse_loss,
                           "torch.nn.functional.mse_loss(p, y) (mean over all entries)"))

    # binary cross-entropy on probabilities inside the clip range: torch and Keras agree
    p = torch.tensor([[0.5, 1e-6, 0.999999], [0.01, 0.3, 0.99], [0.7, 0.25, 1e-3], [0.9, 0.5, 0.2]], dtype=f32)
    y = torch.tensor([[1, 0, 1], [1, 0, 0], [0, 1, 0.25], [1, 0.5, 0]], dtype=f32)
    cases.append(loss_case("bce_probabilities", "binary_crossentropy", p, y, F.binary_cross_entropy,
                           "torch.nn.functional.binary_cross_entropy(p, y)"))

    # p at exactly 0 and 1: Keras clips (finite loss, zero gradient), torch clamps log at -100.
    # The clip bounds are evaluated in float64, where 1 - 1e-7 is exact (xdense's contract); in
    # float32, as Keras runs it, 1 - 1e-7 rounds to 1 - 1.19e-7, recorded as keras_float32_value.
    p = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.5, 0.2]], dtype=f32)
    y = torch.tensor([[1, 0, 0], [1, 1, 0]], dtype=f32)
    case = loss_case("bce_probabilities_at_0_and_1", "binary_crossentropy", p.double(), y.double(), keras_bce,
                     "Keras formula with torch ops in float64: q = clamp(p, 1e-7, 1 - 1e-7); "
                     "-(y log q + (1 - y) log(1 - q)).mean(); gradient by autograd (0 where clipped)",
                     note="torch.nn.functional.binary_cross_entropy differs here: it clamps log at -100, "
                          "so p = 0 with y = 1 costs 100 instead of -log(1e-7) = 16.118, and its gradient "
                          "(p - y) / max(p (1 - p), 1e-12) / N is about -8.3e10 instead of 0. Keras itself, "
                          "in float32, clips at float32(1 - 1e-7) = 1 - 2^-23: p = 1 with y = 0 costs "
                          "-log(2^-23) = 15.942 there instead of 16.118")
    case["keras_float32_value"] = float(keras_bce(p, y))
    tp = p.clone().requires_grad_(True)
    torch_value = F.binary_cross_entropy(tp, y)
    (torch_gradient,) = torch.autograd.grad(torch_value, tp)
    case["torch_value"] = float(torch_value)
    case["torch_gradient"] = matrix(torch_gradient)
    cases.append(case)

    # binary cross-entropy from logits, extreme logits, hard and soft targets
    z = torch.tensor([[1e4, -1e4, 0.0, 88.0], [-88.0, 20.0, -20.0, 1e-40], [2.5, -0.5, 100.0, -100.0]], dtype=f32)
    y = torch.tensor([[1, 1, 0, 0], [1, 1, 0, 0.5], [0.3, 1, 0, 1]], dtype=f32)
    cases.append(loss_case("bce_logits", "binary_crossentropy", z, y, F.binary_cross_entropy_with_logits,
                           "torch.nn.functional.binary_cross_entropy_with_logits(z, y)"))

    # categorical cross-entropy from logits: integer and one-hot targets, extreme logits
    z = torch.cat([torch.tensor([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0], [88.0, -88.0, 0.0], [0.0, 0.0, 0.0],
                                 [1e-40, 0.0, -1e-40]], dtype=f32), torch.randn(3, 3, generator=g) * 4.0])
    labels = torch.tensor([1, 1, 0, 2, 0, 2, 1, 0])
    cases.append(loss_case("cce_logits_integer_targets", "categorical_crossentropy", z, labels.to(f32).reshape(-1, 1),
                           lambda x, t: F.cross_entropy(x, t.reshape(-1).long()),
                           "torch.nn.functional.cross_entropy(z, class_indices)"))
    one_hot = F.one_hot(labels, 3).to(f32)
    cases.append(loss_case("cce_logits_one_hot_targets", "categorical_crossentropy", z, one_hot, F.cross_entropy,
                           "torch.nn.functional.cross_entropy(z, one_hot) (probability targets)"))
    soft = torch.softmax(torch.randn(4, 3, generator=g), dim=1)
    cases.append(loss_case("cce_logits_soft_targets", "categorical_crossentropy", torch.randn(4, 3, generator=g) * 3,
                           soft, F.cross_entropy, "torch.nn.functional.cross_entropy(z, soft_targets)"))

    # categorical cross-entropy on probabilities (no softmax before it): Keras's formula
    p = torch.tensor([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05], [1e-3, 0.998, 1e-3], [0.4, 0.4, 0.4]], dtype=f32)
    cases.append(loss_case("cce_probabilities", "categorical_crossentropy", p,
                           torch.tensor([[0, 0, 1], [1, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=f32), keras_cce,
                           "Keras formula with torch ops: q = clamp(p / p.sum(1), 1e-7, 1 - 1e-7); "
                           "-(y log q).sum(1).mean(); gradient by autograd",
                           note="torch has no loss on probabilities that renormalises p; "
                                "nll_loss(log p) has the same value on rows summing to 1, "
                                "but a different (equally valid on the simplex) gradient"))

    write("losses.json", {"provenance": provenance(), "losses": cases})


# --------------------------------------------------------------------------- training

STEPS = 50
BATCH = 8
LAYERS = [(4, 8, "tanh"), (8, 6, "relu"), (6, 3, "softmax")]
SNAPSHOT_EVERY = 10


def initial_weights(generator):
    """Glorot-uniform kernels (inputs, units) as Keras and xdense store them, small random biases."""
    weights = []
    for inputs, units, _ in LAYERS:
        limit = math.sqrt(6.0 / (inputs + units))
        kernel = (torch.rand(inputs, units, generator=generator) * 2.0 - 1.0) * limit
        bias = torch.randn(units, generator=generator) * 0.1
        weights.append((kernel, bias))
    return weights


def make_batches(generator):
    """Inputs N(0, 1); class = argmax of a fixed linear map of x (learnable, not trivially)."""
    mixing = torch.randn(4, 3, generator=generator)
    batches = []
    for _ in range(STEPS):
        x = torch.randn(BATCH, 4, generator=generator)
        labels = torch.argmax(x @ mixing + 0.3 * torch.randn(BATCH, 3, generator=generator), dim=1)
        batches.append((x, labels))
    return batches


def forward_loss(params, x, labels):
    h = x
    for k, (_, _, activation) in enumerate(LAYERS):
        kernel, bias = params[2 * k], params[2 * k + 1]
        h = h @ kernel + bias  # kernel (inputs, units): y = x . W + b, as xdense and Keras
        if activation == "tanh":
            h = torch.tanh(h)
        elif activation == "relu":
            h = torch.relu(h)
    return F.cross_entropy(h, labels)  # softmax + categorical cross-entropy from the logits


def snapshot(step, params):
    return {"step": step, "weights": [floats(p) for p in params]}


def train(weights, batches, make_optimizer=None, keras_adam=None):
    """Trains a copy of `weights`; returns (losses, snapshots). Either a torch optimizer factory or
    Keras Adam hyperparameters (lr, beta1, beta2, epsilon)."""
    params = [t.clone().requires_grad_(True) for pair in weights for t in pair]
    optimizer = make_optimizer(params) if make_optimizer else None
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    losses, snapshots = [], [snapshot(0, params)]
    for step, (x, labels) in enumerate(batches, start=1):
        loss = forward_loss(params, x, labels)
        losses.append(float(loss))
        gradients = torch.autograd.grad(loss, params)
        with torch.no_grad():
            if optimizer:
                for p, g in zip(params, gradients):
                    p.grad = g
                optimizer.step()
            else:
                lr, b1, b2, eps = keras_adam
                # Keras 3 Adam.update_step, step size in double then float32 (as xdense):
                alpha = torch.tensor(lr * math.sqrt(1.0 - b2 ** step) / (1.0 - b1 ** step), dtype=torch.float32)
                for p, g, (m, v) in zip(params, gradients, moments):
                    m.add_((g - m) * (1.0 - b1))
                    v.add_((g * g - v) * (1.0 - b2))
                    p.sub_(m * alpha / (torch.sqrt(v) + eps))
        if step % SNAPSHOT_EVERY == 0:
            snapshots.append(snapshot(step, params))
    return losses, snapshots


def max_difference(a, b):
    return max(abs(x - y) for sa, sb in zip(a, b) for wa, wb in zip(sa["weights"], sb["weights"])
               for x, y in zip(wa, wb))


def make_training():
    generator = torch.Generator().manual_seed(2024)
    weights = initial_weights(generator)
    batches = make_batches(generator)
    runs = []

    sgd_lr, momentum = 0.1, 0.9
    for name, keras, factory in [
        ("sgd", {"learning_rate": sgd_lr, "momentum": 0.0, "nesterov": False},
         lambda ps: torch.optim.SGD(ps, lr=sgd_lr)),
        ("sgd_momentum", {"learning_rate": sgd_lr, "momentum": momentum, "nesterov": False},
         lambda ps: torch.optim.SGD(ps, lr=sgd_lr, momentum=momentum, dampening=0.0)),
        ("sgd_nesterov", {"learning_rate": sgd_lr, "momentum": momentum, "nesterov": True},
         lambda ps: torch.optim.SGD(ps, lr=sgd_lr, momentum=momentum, dampening=0.0, nesterov=True)),
    ]:
        losses, snapshots = train(weights, batches, make_optimizer=factory)
        runs.append({"name": name, "optimizer": "sgd", "keras": keras,
                     "method": "torch.optim.SGD(lr={}, momentum={}, dampening=0, nesterov={}): equal to Keras's "
                               "form for a constant lr".format(sgd_lr, keras["momentum"], keras["nesterov"]),
                     "losses": losses, "snapshots": snapshots})

    adam = {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7}
    hyper = (adam["learning_rate"], adam["beta1"], adam["beta2"], adam["epsilon"])
    losses, snapshots = train(weights, batches, keras_adam=hyper)
    _, torch_snapshots = train(weights, batches, make_optimizer=lambda ps: torch.optim.Adam(
        ps, lr=hyper[0], betas=(hyper[1], hyper[2]), eps=hyper[3]))
    runs.append({"name": "adam", "optimizer": "adam", "keras": adam,
                 "method": "Keras Adam written out in torch float32 ops (see the script): "
                           "m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); "
                           "w -= lr sqrt(1 - b2^t)/(1 - b1^t) m / (sqrt(v) + eps)",
                 "torch_optim_adam_max_abs_difference": max_difference(snapshots, torch_snapshots),
                 "torch_optim_adam_note": "largest |w_keras - w_torch| over the snapshots when torch.optim.Adam "
                                          "runs with eps = 1e-7: torch adds eps to sqrt(v_hat) = sqrt(v) / "
                                          "sqrt(1 - b2^t), which is Keras's update with eps * sqrt(1 - b2^t)",
                 "losses": losses, "snapshots": snapshots})

    layers = [{"inputs": i, "units": u, "activation": a} for i, u, a in LAYERS]
    write("training.json", {
        "provenance": provenance(),
        "model": {"layers": layers, "loss": "categorical_crossentropy (softmax output, from logits)",
                  "parameter_order": "kernel (inputs, units) row-major, then bias, for each Dense layer"},
        "steps": STEPS,
        "initial_weights": [floats(t) for pair in weights for t in pair],
        "batches": [{"x": matrix(x), "labels": [int(v) for v in labels]} for x, labels in batches],
        "runs": runs,
    })


KERAS_GENERATORS = ["make_activation_fixtures", "make_loss_fixtures_keras", "make_optimizer_fixtures",
                    "make_regularizer_fixtures", "make_layer_fixtures", "make_regression_fixtures",
                    "make_schedule_fixtures"]


def main():
    torch.set_num_threads(1)
    torch.set_flush_denormal(False)
    make_activations()
    make_losses()
    make_training()
    import importlib  # the generators import this module: loaded once it is complete
    for name in KERAS_GENERATORS:
        importlib.import_module(name).main()


if __name__ == "__main__":
    main()
