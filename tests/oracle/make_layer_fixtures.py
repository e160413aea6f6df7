#!/usr/bin/python3
"""Writes keras_layers.json, the PyTorch oracle for the normalisation layers of issue 14, which
tests/oracle/keras_layers_oracle_test.cpp compares xdense with.

Run by hand, from anywhere, with Debian's python3-torch (as make_fixtures.py, whose helpers it
shares):

    /usr/bin/python3 tests/oracle/make_layer_fixtures.py

Inputs, upstream gradients and weights are float32 from fixed seeds. The reference is Keras's
formula written in torch operations and evaluated in float64 on those float32 values, rounded to
float32 at the end (gradients by torch.autograd through the same formula): the value a float32
implementation should approach. Each case also records how far torch's own layer (float32) is from
it, where torch computes the same thing ("torch_float32_difference").

BatchNormalization (Keras 3, axis -1, over the rows of a (batch, features) input):
  training : mean = x.mean(0), var = ((x - mean)^2).mean(0) (biased), inv = gamma / sqrt(var + eps),
             y = x inv + (beta - mean inv); then
             moving_mean = moving_mean momentum + mean (1 - momentum),
             moving_variance = moving_variance momentum + var (1 - momentum).
  inference: the same y with mean, var = moving_mean, moving_variance; nothing moves.
  Gradients: of sum(y dy) w.r.t. x, gamma and beta, the statistics differentiated in training
  mode (they depend on x) and constant in inference mode.
Where Keras and PyTorch differ (Keras is the reference):
  - torch's momentum is the weight of the new batch: torch momentum = 1 - Keras momentum
    (torch's default 0.1 is Keras's 0.9; Keras's default is 0.99). F.batch_norm is run with
    momentum = 1 - keras_momentum and its running mean is recorded next to the Keras one.
  - torch moves running_var with the unbiased batch variance (times N / (N - 1)); Keras with the
    biased one that also normalises the batch. The fixture holds Keras's moving_variance and
    records torch's running_var for the record ("torch_running_var_after_steps").
  - epsilon: Keras's default 1e-3, torch's 1e-5; the cases pass epsilon explicitly.
LayerNormalization (Keras 3, axis -1): per row mean and biased var over the features,
  y = gamma (x - mean) / sqrt(var + eps) + beta, identical to torch's F.layer_norm with the same
  eps (torch's default 1e-5, Keras's 1e-3; passed explicitly).
"""

import torch
import torch.nn.functional as F

from make_fixtures import floats, matrix, provenance, write

torch.set_num_threads(1)


def draw(generator, rows, cols, scale=1.0, offset=0.0):
    return (torch.randn(rows, cols, generator=generator, dtype=torch.float32) * scale + offset).to(torch.float32)


def vector(generator, n, low, high):
    return (torch.rand(n, generator=generator, dtype=torch.float32) * (high - low) + low).to(torch.float32)


def largest_difference(a, b):
    return float((a.to(torch.float64) - b.to(torch.float64)).abs().max())


def keras_batch_norm(x, gamma, beta, mean, var, eps):
    inv = torch.rsqrt(var + eps) * gamma
    return x * inv + (beta - mean * inv)


def batch_normalization_case(name, seed, rows, cols, momentum, eps, center, scale, steps=3):
    g = torch.Generator().manual_seed(seed)
    gamma = vector(g, cols, 0.5, 1.5) if scale else torch.ones(cols)
    beta = vector(g, cols, -0.5, 0.5) if center else torch.zeros(cols)
    moving_mean = vector(g, cols, -1.0, 1.0)
    moving_variance = vector(g, cols, 0.5, 2.0)
    case = {"name": name, "momentum": momentum, "epsilon": eps, "center": center, "scale": scale,
            "gamma": floats(gamma), "beta": floats(beta), "moving_mean": floats(moving_mean),
            "moving_variance": floats(moving_variance), "steps": []}
    mm = moving_mean.to(torch.float64)
    mv = moving_variance.to(torch.float64)
    torch_running_mean = moving_mean.clone()
    torch_running_var = moving_variance.clone()
    largest_torch_y = 0.0
    for step in range(steps):
        # Features with means far from 0 and various spreads.
        x = draw(g, rows, cols, scale=2.0, offset=3.0)
        dy = draw(g, rows, cols)
        xd = x.to(torch.float64).requires_grad_(True)
        gd = gamma.to(torch.float64).requires_grad_(True)
        bd = beta.to(torch.float64).requires_grad_(True)
        mean = xd.mean(0)
        var = ((xd - mean) ** 2).mean(0)  # biased
        y = keras_batch_norm(xd, gd, bd, mean, var, eps)
        dx, dgamma, dbeta = torch.autograd.grad((y * dy.to(torch.float64)).sum(), (xd, gd, bd))
        mm = mm * momentum + mean.detach() * (1.0 - momentum)
        mv = mv * momentum + var.detach() * (1.0 - momentum)
        # torch's own layer, float32, momentum = 1 - Keras's
        torch_y = F.batch_norm(x, torch_running_mean, torch_running_var, gamma, beta, training=True,
                               momentum=1.0 - momentum, eps=eps)
        largest_torch_y = max(largest_torch_y, largest_difference(torch_y, y.detach()))
        entry = {"x": matrix(x), "dy": matrix(dy), "y": matrix(y.detach().to(torch.float32)),
                 "dx": matrix(dx.to(torch.float32)), "moving_mean": floats(mm.to(torch.float32)),
                 "moving_variance": floats(mv.to(torch.float32))}
        if scale:
            entry["dgamma"] = floats(dgamma.to(torch.float32))
        if center:
            entry["dbeta"] = floats(dbeta.to(torch.float32))
        case["steps"].append(entry)
    # Inference on the moved statistics.
    x = draw(g, rows, cols, scale=2.0, offset=3.0)
    dy = draw(g, rows, cols)
    xd = x.to(torch.float64).requires_grad_(True)
    gd = gamma.to(torch.float64).requires_grad_(True)
    bd = beta.to(torch.float64).requires_grad_(True)
    y = keras_batch_norm(xd, gd, bd, mm, mv, eps)
    dx, dgamma, dbeta = torch.autograd.grad((y * dy.to(torch.float64)).sum(), (xd, gd, bd))
    inference = {"x": matrix(x), "dy": matrix(dy), "y": matrix(y.detach().to(torch.float32)),
                 "dx": matrix(dx.to(torch.float32))}
    if scale:
        inference["dgamma"] = floats(dgamma.to(torch.float32))
    if center:
        inference["dbeta"] = floats(dbeta.to(torch.float32))
    case["inference"] = inference
    case["torch_float32_difference"] = {
        "training_y": largest_torch_y,
        "running_mean_after_steps": largest_difference(torch_running_mean, mm),
    }
    case["torch_running_var_after_steps"] = floats(torch_running_var)
    return case


def layer_normalization_case(name, seed, rows, cols, eps, center, scale):
    g = torch.Generator().manual_seed(seed)
    gamma = vector(g, cols, 0.5, 1.5) if scale else torch.ones(cols)
    beta = vector(g, cols, -0.5, 0.5) if center else torch.zeros(cols)
    x = draw(g, rows, cols, scale=2.0, offset=5.0)
    dy = draw(g, rows, cols)
    xd = x.to(torch.float64).requires_grad_(True)
    gd = gamma.to(torch.float64).requires_grad_(True)
    bd = beta.to(torch.float64).requires_grad_(True)
    mean = xd.mean(1, keepdim=True)
    var = ((xd - mean) ** 2).mean(1, keepdim=True)  # biased
    inv = torch.rsqrt(var + eps) * gd
    y = xd * inv + (bd - mean * inv)  # Keras 3's form
    dx, dgamma, dbeta = torch.autograd.grad((y * dy.to(torch.float64)).sum(), (xd, gd, bd))
    torch_y = F.layer_norm(x, (cols,), gamma, beta, eps=eps)
    case = {"name": name, "epsilon": eps, "center": center, "scale": scale, "gamma": floats(gamma),
            "beta": floats(beta), "x": matrix(x), "dy": matrix(dy), "y": matrix(y.detach().to(torch.float32)),
            "dx": matrix(dx.to(torch.float32)),
            "torch_float32_difference": {"y": largest_difference(torch_y, y.detach())}}
    if scale:
        case["dgamma"] = floats(dgamma.to(torch.float32))
    if center:
        case["dbeta"] = floats(dbeta.to(torch.float32))
    return case


def main():
    document = {
        "provenance": dict(provenance(), generator="tests/oracle/make_layer_fixtures.py"),
        "method": "Keras's formulas in torch ops, float64 on float32 inputs, rounded to float32; gradients of "
                  "sum(y dy) by torch.autograd (see the generator's docstring for where Keras and torch differ)",
        "batch_normalization": [
            batch_normalization_case("momentum 0.9 (torch's default 0.1), epsilon 1e-3", 101, 16, 7, 0.9, 1e-3,
                                     True, True),
            batch_normalization_case("Keras defaults: momentum 0.99, epsilon 1e-3", 102, 32, 10, 0.99, 1e-3, True,
                                     True),
            batch_normalization_case("center=false, epsilon 1e-5", 103, 5, 4, 0.9, 1e-5, False, True),
            batch_normalization_case("scale=false", 104, 9, 3, 0.8, 1e-3, True, False),
        ],
        "layer_normalization": [
            layer_normalization_case("epsilon 1e-3 (Keras's default)", 201, 6, 13, 1e-3, True, True),
            layer_normalization_case("epsilon 1e-5 (torch's default), 40 features", 202, 4, 40, 1e-5, True, True),
            layer_normalization_case("center=false, scale=false", 203, 3, 5, 1e-3, False, False),
        ],
    }
    write("keras_layers.json", document)


if __name__ == "__main__":
    main()
