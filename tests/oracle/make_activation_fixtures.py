#!/usr/bin/python3
"""Writes keras_activations.json, the PyTorch oracle for the Keras activations of issue 14, which
tests/oracle/keras_activations_oracle_test.cpp compares xdense with.

Run by hand, from anywhere, with Debian's python3-torch (as make_fixtures.py, whose helpers and
extreme-input grid it shares):

    /usr/bin/python3 tests/oracle/make_activation_fixtures.py

Every case is elementwise: x is make_fixtures.GRID (+-1e4, +-100, +-88, denormals, +-0, ...) followed
by -6 to 6 in steps of 0.25 (every region of the piecewise approximations), as float32; value is
f(x) and gradient is f'(x) = torch.autograd.grad(f(x).sum(), x).

The reference is the torch operation evaluated in float64 on the float32 inputs and rounded to
float32: the correctly rounded value (within float64's error) of the function Keras defines, which
is what a float32 implementation should approach. Each case also records how far torch's own
float32 kernels are from it ("torch_float32_difference"), since for some functions they lose
precision (1 + erf and 1 + tanh cancel for x < 0). Piecewise-linear hard_sigmoid is exact in float32
and its reference is torch's float32 kernel itself, bit for bit.

Where Keras (which xdense follows) and PyTorch differ, the Keras function is the reference:
  - softplus: Keras computes log(1 + e^x) stably for all x; torch's F.softplus returns x itself
    when x > threshold = 20. The reference is torch.logaddexp(x, 0) (stable, exact gradient
    sigmoid(x) at every x); the float32 results of F.softplus are the same numbers on this grid
    (log1p(e^-20) = 2e-9 is below half an ulp of 20), recorded in torch_float32_difference.
  - hard_sigmoid: Keras 3 (and torch's F.hardsigmoid) is relu6(x + 3) / 6; Keras 2 used
    clip(0.2 x + 0.5, 0, 1), not followed.
  - gelu(approximate): Keras's approximate=True, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))),
    written out in torch ops; torch's F.gelu(approximate='tanh') is the same formula.
  - elu: the gradient at x = 0 is alpha (torch, and Keras 3's JAX and TF expm1 forms); TF's
    fused EluGrad gives 1 there, the same for alpha = 1.
  - exponential: e^x overflows to +inf above 88.7228 in float32 (Keras's ops.exp and torch.exp
    alike); the float64 value rounds to inf there too. JSON has no infinity: it is written as the
    string "inf".
"""

import math

import torch
import torch.nn.functional as F

from make_fixtures import GRID, floats, provenance, write

STEPS = [-6.0 + 0.25 * k for k in range(49)]
INPUTS = GRID + STEPS


def evaluate(function, dtype):
    x = torch.tensor(INPUTS, dtype=torch.float32).to(dtype).requires_grad_(True)
    y = function(x)
    (gradient,) = torch.autograd.grad(y.sum(), x)
    return y.detach().to(torch.float32), gradient.to(torch.float32)


def json_floats(t):
    """floats(t), with the infinities (JSON has none) written as the strings "inf" and "-inf"."""
    return [v if math.isfinite(v) else ("inf" if v > 0 else "-inf") for v in floats(t)]


def largest_difference(a, b):
    both_inf = torch.isinf(a) & torch.isinf(b) & (torch.sign(a) == torch.sign(b))
    difference = torch.where(both_inf, torch.zeros_like(a), (a - b).abs())
    return float(difference.max())


def case(name, function, method, torch_float32=None, exact_float32=False):
    """`function` is the Keras function in torch ops; `torch_float32` torch's own op, if different."""
    if exact_float32:
        value, gradient = evaluate(function, torch.float32)
        reference = "torch in float32 (exact: piecewise linear)"
    else:
        value, gradient = evaluate(function, torch.float64)
        reference = "torch in float64 on the float32 inputs, rounded to float32"
    own_value, own_gradient = evaluate(torch_float32 or function, torch.float32)
    return {
        "name": name,
        "kind": "elementwise",
        "value_method": method,
        "gradient_method": "torch.autograd.grad(f(x).sum(), x)",
        "reference": reference,
        "torch_float32_difference": {"value": largest_difference(own_value, value),
                                     "gradient": largest_difference(own_gradient, gradient)},
        "x": [float(v) for v in torch.tensor(INPUTS, dtype=torch.float32).tolist()],
        "value": json_floats(value),
        "gradient": json_floats(gradient),
    }


def keras_gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def make_keras_activations():
    cases = [
        case("elu", lambda x: F.elu(x, 1.0), "torch.nn.functional.elu(x, alpha=1): x if x > 0 else expm1(x)"),
        case("elu(0.5)", lambda x: F.elu(x, 0.5), "torch.nn.functional.elu(x, alpha=0.5)"),
        case("selu", F.selu, "torch.nn.functional.selu(x): scale (x if x > 0 else alpha expm1(x)), "
             "alpha = 1.6732632423543772, scale = 1.0507009873554805 (Keras's constants)"),
        case("gelu", lambda x: F.gelu(x, approximate="none"),
             "torch.nn.functional.gelu(x, approximate='none'): x (1 + erf(x / sqrt 2)) / 2"),
        case("gelu(approximate)", keras_gelu_tanh,
             "Keras's 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) in torch ops",
             torch_float32=lambda x: F.gelu(x, approximate="tanh")),
        case("swish", F.silu, "torch.nn.functional.silu(x): x sigmoid(x)"),
        case("silu", F.silu, "torch.nn.functional.silu(x) (the alias of swish)"),
        case("softplus", lambda x: torch.logaddexp(x, torch.zeros_like(x)),
             "torch.logaddexp(x, 0) = log(1 + e^x) without overflow (Keras); torch's F.softplus has "
             "threshold 20", torch_float32=F.softplus),
        case("softsign", F.softsign, "torch.nn.functional.softsign(x): x / (1 + |x|)"),
        case("hard_sigmoid", F.hardsigmoid,
             "torch.nn.functional.hardsigmoid(x): relu6(x + 3) / 6 (Keras 3); derivative 0 at +-3",
             exact_float32=True),
        case("mish", F.mish, "torch.nn.functional.mish(x): x tanh(softplus(x))"),
        case("exponential", torch.exp, "torch.exp(x); +inf above 88.7228 in float32"),
    ]
    document = provenance()
    document["generator"] = "tests/oracle/make_activation_fixtures.py"
    write("keras_activations.json", {"provenance": document, "activations": cases})


def main():
    torch.set_num_threads(1)
    torch.set_flush_denormal(False)
    make_keras_activations()


if __name__ == "__main__":
    main()
