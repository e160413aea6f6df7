#!/usr/bin/python3
"""Writes keras_optimizers.json, the fixture tests/oracle/keras_optimizers_oracle_test.cpp compares
xdense's optimizers with: 50-step trajectories of RMSprop (plain, centered, momentum, both), Adagrad,
AdamW, Nadam, Adamax, and of SGD/Adam/RMSprop with clipnorm, clipvalue, global_clipnorm and
weight_decay, on the 4-8-6-3 MLP, initial weights and batches of training.json (make_fixtures.py).

Run by hand with Debian's python3-torch (a development tool only):

    /usr/bin/python3 tests/oracle/make_optimizer_fixtures.py

Everything is float32 on torch's CPU kernels, single-threaded, from the fixed seeds of
make_fixtures.py; floats are written as the exact decimal value of each float32.

xdense follows Keras 3, so each reference trajectory is Keras's update rule (keras/src/optimizers/
*.py, base_optimizer.py) written out in torch float32 tensor operations; per-step scalars (bias
corrections, Nadam's momentum schedule) are computed in double and rounded to float32 once, as
xdense does. Then torch's own optimizer runs with the same hyperparameters and its largest distance
to the Keras trajectory is recorded with the reason they differ:
  - RMSprop: Keras divides by sqrt(v + eps), torch by sqrt(v) + eps. Keras's momentum buffer holds
    lr g / sqrt(.), torch's g / (sqrt(.) + eps) times lr later: equal for a constant lr.
  - Adagrad: Keras divides by sqrt(acc + eps), torch by sqrt(acc) + eps; both start the accumulator
    at initial_accumulator_value (torch's default is 0, Keras's 0.1: torch runs with 0.1 here).
  - AdamW: both decay w -= lr wd w before the Adam step; the Adam step differs as Adam's does
    (torch adds eps to sqrt(v_hat), Keras to sqrt(v) with the bias corrections in the step size).
  - Nadam: Keras 3's schedule is u_t = b1 (1 - 0.5 0.96^t); torch's is 0.96^(0.004 t)
    (momentum_decay = 0.004), and torch 1.13 multiplies mu_t twice into the next product.
  - Adamax: Keras divides by (1 - b1^t)(u + eps) with u = max(b2 u, |g|); torch keeps
    u = max(b2 u, |g| + eps) and divides by (1 - b1^t) u.
  - clipnorm / global_clipnorm: Keras scales by c / max(norm, c); torch.nn.utils.clip_grad_norm_ by
    min(1, c / (norm + 1e-6)). clipvalue: the same clamp (torch.nn.utils.clip_grad_value_).
    Keras's clipnorm is per variable: torch's clip_grad_norm_ is called on each parameter alone.
  - weight_decay on SGD: Keras decays w -= lr wd w (decoupled); torch.optim.SGD(weight_decay) adds
    wd w to the gradient, the same for plain SGD but not with momentum.
Each clipping case records on how many of its 50 steps the clip changed a gradient (the bounds are
chosen so that some steps are clipped and others not).
"""

import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as base  # noqa: E402  (shares the model, data and float conventions)

F32 = torch.float32


def scalar(x):
    """A per-step factor computed in double, rounded to float32 once (as xdense does)."""
    return torch.tensor(x, dtype=F32)


# --------------------------------------------------------------------------- Keras rules

class KerasOptimizer:
    """Keras 3 BaseOptimizer.apply: clip the gradients, decay the weights, then update_step."""

    def __init__(self, config):
        self.config = dict(config)
        self.lr = config.get("learning_rate", 0.001)
        self.weight_decay = config.get("weight_decay")
        self.clipnorm = config.get("clipnorm")
        self.clipvalue = config.get("clipvalue")
        self.global_clipnorm = config.get("global_clipnorm")
        self.state = None
        self.clipped_steps = 0

    def clip(self, grads):
        if self.clipnorm:
            c = self.clipnorm
            norms = [torch.sqrt(torch.sum(g * g)) for g in grads]
            self.clipped_steps += any(float(n) > c for n in norms)
            return [g * c / torch.maximum(n, scalar(c)) for g, n in zip(grads, norms)]
        if self.global_clipnorm:
            c = self.global_clipnorm
            norm = torch.sqrt(torch.sum(torch.stack([torch.sum(g * g) for g in grads])))
            self.clipped_steps += float(norm) > c
            scale = c * torch.minimum(1.0 / norm, scalar(1.0 / c))
            return [g * scale for g in grads]
        if self.clipvalue:
            v = self.clipvalue
            self.clipped_steps += any(bool((g.abs() > v).any()) for g in grads)
            return [torch.clamp(g, -v, v) for g in grads]
        return grads

    def apply(self, params, grads, t):
        if self.state is None:
            self.state = [self.new_state(p) for p in params]
        grads = self.clip(grads)
        if self.weight_decay is not None:
            for p in params:
                p.copy_(p - p * self.weight_decay * self.lr)
        self.begin_step(t)
        for p, g, s in zip(params, grads, self.state):
            self.update(p, g, s)

    def begin_step(self, t):
        pass


class KerasSGD(KerasOptimizer):
    def new_state(self, p):
        return {"v": torch.zeros_like(p)}

    def update(self, p, g, s):
        m = self.config.get("momentum", 0.0)
        if m == 0.0:
            p.sub_(g * self.lr)
        else:
            s["v"].copy_(m * s["v"] - self.lr * g)
            p.add_(s["v"])


class KerasAdam(KerasOptimizer):
    def new_state(self, p):
        return {"m": torch.zeros_like(p), "v": torch.zeros_like(p)}

    def begin_step(self, t):
        b1, b2 = self.config.get("beta_1", 0.9), self.config.get("beta_2", 0.999)
        self.alpha = scalar(self.lr * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t))

    def update(self, p, g, s):
        b1, b2 = self.config.get("beta_1", 0.9), self.config.get("beta_2", 0.999)
        eps = self.config.get("epsilon", 1e-7)
        s["m"].add_((g - s["m"]) * (1.0 - b1))
        s["v"].add_((g * g - s["v"]) * (1.0 - b2))
        p.sub_(s["m"] * self.alpha / (torch.sqrt(s["v"]) + eps))


class KerasAdamW(KerasAdam):
    def __init__(self, config):
        config = dict(config)
        config.setdefault("weight_decay", 0.004)
        super().__init__(config)


class KerasRMSprop(KerasOptimizer):
    def new_state(self, p):
        return {"v": torch.zeros_like(p), "m": torch.zeros_like(p), "a": torch.zeros_like(p)}

    def update(self, p, g, s):
        rho = self.config.get("rho", 0.9)
        momentum = self.config.get("momentum", 0.0)
        eps = self.config.get("epsilon", 1e-7)
        s["v"].copy_(rho * s["v"] + (1.0 - rho) * (g * g))
        if self.config.get("centered", False):
            s["a"].copy_(rho * s["a"] + (1.0 - rho) * g)
            denominator = s["v"] - s["a"] * s["a"] + eps
        else:
            denominator = s["v"] + eps
        increment = self.lr * g / torch.sqrt(denominator)
        if momentum > 0:
            s["m"].copy_(momentum * s["m"] + increment)
            p.sub_(s["m"])
        else:
            p.sub_(increment)


class KerasAdagrad(KerasOptimizer):
    def new_state(self, p):
        return {"acc": torch.full_like(p, self.config.get("initial_accumulator_value", 0.1))}

    def update(self, p, g, s):
        eps = self.config.get("epsilon", 1e-7)
        s["acc"].add_(g * g)
        p.sub_(self.lr * g / torch.sqrt(s["acc"] + eps))


class KerasNadam(KerasOptimizer):
    def new_state(self, p):
        return {"m": torch.zeros_like(p), "v": torch.zeros_like(p)}

    def begin_step(self, t):
        b1, b2 = self.config.get("beta_1", 0.9), self.config.get("beta_2", 0.999)
        u = [b1 * (1.0 - 0.5 * 0.96 ** s) for s in range(t + 2)]
        product = math.prod(u[1:t + 1])  # Keras's u_product after this step's update
        product_next = product * u[t + 1]
        self.m_factor = scalar(u[t + 1] / (1.0 - product_next))
        self.g_factor = scalar((1.0 - u[t]) / (1.0 - product))
        self.v_divisor = scalar(1.0 - b2 ** t)

    def update(self, p, g, s):
        b1, b2 = self.config.get("beta_1", 0.9), self.config.get("beta_2", 0.999)
        eps = self.config.get("epsilon", 1e-7)
        s["m"].add_((g - s["m"]) * (1.0 - b1))
        s["v"].add_((g * g - s["v"]) * (1.0 - b2))
        m_hat = self.m_factor * s["m"] + self.g_factor * g
        p.sub_(m_hat * self.lr / (torch.sqrt(s["v"] / self.v_divisor) + eps))


class KerasAdamax(KerasOptimizer):
    def new_state(self, p):
        return {"m": torch.zeros_like(p), "u": torch.zeros_like(p)}

    def begin_step(self, t):
        self.step_size = scalar(self.lr / (1.0 - self.config.get("beta_1", 0.9) ** t))

    def update(self, p, g, s):
        b1, b2 = self.config.get("beta_1", 0.9), self.config.get("beta_2", 0.999)
        eps = self.config.get("epsilon", 1e-7)
        s["m"].add_((g - s["m"]) * (1.0 - b1))
        s["u"].copy_(torch.maximum(b2 * s["u"], g.abs()))
        p.sub_(self.step_size * s["m"] / (s["u"] + eps))


KERAS = {"sgd": KerasSGD, "adam": KerasAdam, "adamw": KerasAdamW, "rmsprop": KerasRMSprop,
         "adagrad": KerasAdagrad, "nadam": KerasNadam, "adamax": KerasAdamax}


# --------------------------------------------------------------------------- torch's own

def torch_optimizer(name, config, params):
    lr = config.get("learning_rate", 0.001)
    eps = config.get("epsilon", 1e-7)
    betas = (config.get("beta_1", 0.9), config.get("beta_2", 0.999))
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=config.get("momentum", 0.0),
                               weight_decay=config.get("weight_decay") or 0.0)
    if name == "adam" and not config.get("weight_decay"):
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps)
    if name in ("adam", "adamw"):  # Adam with a weight decay is AdamW, in Keras as in torch
        return torch.optim.AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=config.get("weight_decay", 0.004))
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=config.get("rho", 0.9), eps=eps,
                                   momentum=config.get("momentum", 0.0), centered=config.get("centered", False))
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, eps=eps,
                                   initial_accumulator_value=config.get("initial_accumulator_value", 0.1))
    if name == "nadam":
        return torch.optim.NAdam(params, lr=lr, betas=betas, eps=eps)
    if name == "adamax":
        return torch.optim.Adamax(params, lr=lr, betas=betas, eps=eps)
    raise ValueError(name)


def torch_clip(config, params):
    if config.get("clipnorm"):
        for p in params:
            torch.nn.utils.clip_grad_norm_([p], config["clipnorm"])
    elif config.get("global_clipnorm"):
        torch.nn.utils.clip_grad_norm_(params, config["global_clipnorm"])
    elif config.get("clipvalue"):
        torch.nn.utils.clip_grad_value_(params, config["clipvalue"])


# --------------------------------------------------------------------------- training

def train(weights, batches, step_function):
    params = [t.clone().requires_grad_(True) for pair in weights for t in pair]
    losses, snapshots = [], [base.snapshot(0, params)]
    for t, (x, labels) in enumerate(batches, start=1):
        loss = base.forward_loss(params, x, labels)
        losses.append(float(loss))
        gradients = torch.autograd.grad(loss, params)
        with torch.no_grad():
            step_function(params, list(gradients), t)
        if t % base.SNAPSHOT_EVERY == 0:
            snapshots.append(base.snapshot(t, params))
    return losses, snapshots


def run_case(name, optimizer, config, weights, batches, note):
    keras = KERAS[optimizer](config)
    losses, snapshots = train(weights, batches, keras.apply)
    holder = {}

    def torch_step(params, gradients, _t):
        if "optimizer" not in holder:
            holder["optimizer"] = torch_optimizer(optimizer, config, params)
        for p, g in zip(params, gradients):
            p.grad = g.clone()
        torch_clip(config, params)
        holder["optimizer"].step()

    _, torch_snapshots = train(weights, batches, torch_step)
    case = {"name": name, "optimizer": optimizer, "config": config,
            "method": "Keras 3 " + optimizer + " (with its base-optimizer options) written out in torch float32 "
                      "ops, see " + os.path.basename(__file__),
            "torch_max_abs_difference": base.max_difference(snapshots, torch_snapshots),
            "torch_note": note, "losses": losses, "snapshots": snapshots}
    if any(config.get(k) for k in ("clipnorm", "clipvalue", "global_clipnorm")):
        case["clipped_steps"] = keras.clipped_steps
    return case


EPS_NOTE = {
    "rmsprop": "torch.optim.RMSprop(alpha=rho, eps, momentum, centered): eps added to sqrt(v) instead of under it",
    "adagrad": "torch.optim.Adagrad(initial_accumulator_value=0.1, eps): eps added to sqrt(acc) instead of under it",
    "adamw": "torch.optim.AdamW(weight_decay): same decoupled decay, Adam's eps placement differs",
    "nadam": "torch.optim.NAdam (momentum_decay 0.004): schedule 0.96^(0.004 t) instead of 0.96^t, and torch 1.13 "
             "multiplies mu_t twice into mu_product_next",
    "adamax": "torch.optim.Adamax: u = max(b2 u, |g| + eps) instead of dividing by u + eps",
    "clip": "torch.nn.utils.clip_grad_norm_ scales by min(1, c / (norm + 1e-6)), Keras by c / max(norm, c); "
            "clip_grad_value_ clamps as Keras",
    "sgd_decay": "torch.optim.SGD(weight_decay) adds wd w to the gradient: the same step as Keras's decoupled "
                 "decay for plain SGD",
    "adam_clip": "Adam's eps placement differs (see training.json), clipping as Keras's",
}

CASES = [
    ("rmsprop", "rmsprop", {"learning_rate": 0.01, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
                            "centered": False}, EPS_NOTE["rmsprop"]),
    ("rmsprop_centered", "rmsprop", {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.0, "epsilon": 1e-7,
                                     "centered": True}, EPS_NOTE["rmsprop"]),
    ("rmsprop_momentum", "rmsprop", {"learning_rate": 0.005, "rho": 0.9, "momentum": 0.5, "epsilon": 1e-7,
                                     "centered": False}, EPS_NOTE["rmsprop"]),
    ("rmsprop_centered_momentum_large_epsilon", "rmsprop", {"learning_rate": 0.005, "rho": 0.9, "momentum": 0.9,
                                                            "epsilon": 0.01, "centered": True}, EPS_NOTE["rmsprop"]),
    ("adagrad", "adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
     EPS_NOTE["adagrad"]),
    ("adagrad_large_epsilon", "adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.0, "epsilon": 0.5},
     EPS_NOTE["adagrad"]),
    ("adamw", "adamw", {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}, EPS_NOTE["adamw"]),
    ("adamw_strong_decay", "adamw", {"learning_rate": 0.01, "weight_decay": 0.5, "beta_1": 0.9, "beta_2": 0.999,
                                     "epsilon": 1e-7}, EPS_NOTE["adamw"]),
    ("nadam", "nadam", {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}, EPS_NOTE["nadam"]),
    ("adamax", "adamax", {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
     EPS_NOTE["adamax"]),
    ("adamax_large_epsilon", "adamax", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 0.1},
     EPS_NOTE["adamax"]),
    ("sgd_clipnorm", "sgd", {"learning_rate": 0.1, "momentum": 0.0, "clipnorm": 0.3}, EPS_NOTE["clip"]),
    ("sgd_momentum_global_clipnorm", "sgd", {"learning_rate": 0.1, "momentum": 0.9, "global_clipnorm": 0.8},
     EPS_NOTE["clip"]),
    ("sgd_clipvalue", "sgd", {"learning_rate": 0.1, "momentum": 0.0, "clipvalue": 0.2}, EPS_NOTE["clip"]),
    ("adam_clipvalue", "adam", {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
                                "clipvalue": 0.1}, EPS_NOTE["adam_clip"]),
    ("rmsprop_clipnorm", "rmsprop", {"learning_rate": 0.01, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
                                     "centered": False, "clipnorm": 0.3}, EPS_NOTE["rmsprop"]),
    ("sgd_weight_decay", "sgd", {"learning_rate": 0.1, "momentum": 0.0, "weight_decay": 0.05},
     EPS_NOTE["sgd_decay"]),
    ("adam_weight_decay_global_clipnorm", "adam", {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999,
                                                   "epsilon": 1e-7, "weight_decay": 0.1, "global_clipnorm": 0.8},
     "torch.optim.AdamW(weight_decay) with clip_grad_norm_ stands in for it: eps placement and clip scale differ"),
]


def main():
    torch.set_num_threads(1)
    torch.set_flush_denormal(False)
    generator = torch.Generator().manual_seed(2024)
    weights = base.initial_weights(generator)
    batches = base.make_batches(generator)
    # The setup must be training.json's: the C++ test reads the weights and batches from there.
    with open(os.path.join(base.HERE, "training.json"), encoding="utf-8") as f:
        training = json.load(f)
    if training["initial_weights"] != [base.floats(t) for pair in weights for t in pair]:
        raise SystemExit("training.json's initial weights differ: rerun make_fixtures.py first")
    runs = []
    for name, optimizer, config, note in CASES:
        runs.append(run_case(name, optimizer, config, weights, batches, note))
        print("{:45s} torch distance {:.3g}{}".format(name, runs[-1]["torch_max_abs_difference"],
                                                       "  clipped steps {}".format(runs[-1]["clipped_steps"])
                                                       if "clipped_steps" in runs[-1] else ""))
    provenance = base.provenance()
    provenance["generator"] = "tests/oracle/" + os.path.basename(__file__)
    base.write("keras_optimizers.json", {
        "provenance": provenance,
        "setup": "model, initial weights and batches of training.json (make_fixtures.py, seed 2024)",
        "steps": base.STEPS,
        "runs": runs,
    })


if __name__ == "__main__":
    main()
