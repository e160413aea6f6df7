#!/usr/bin/python3
"""Writes keras_schedules.json, the fixture tests/oracle/keras_schedules_oracle_test.cpp compares
xdense's learning-rate schedules with: the rate of every step 0..300 of ExponentialDecay,
InverseTimeDecay, PolynomialDecay, CosineDecay and PiecewiseConstantDecay in several configs
(staircase, cycle, warmup, alpha, piecewise boundaries falling exactly on steps, at step 0, a
fractional decay_steps).

Run by hand (numpy only):

    /usr/bin/python3 tests/oracle/make_schedule_fixtures.py

Each schedule is Keras 3's __call__ (keras/src/optimizers/schedules/learning_rate_schedule.py)
written out in numpy float32, in Keras's order of operations: Keras computes in the dtype of
initial_learning_rate, float32 for a Python float, and a Python scalar meeting a float32 tensor
(1 - alpha, the 0.5 and 1.0 of the cosine) is weakly typed, so float32 too. numpy 1.x would promote
such a mix to float64, so every scalar is cast to float32 explicitly here. The step is the optimizer's
int64 iteration count cast to float32 (PiecewiseConstantDecay compares it as an integer).

Floats are written as the exact decimal value of each float32 (Python's repr of the double it
widens to). Each case also records "float64_max_relative": the largest relative distance between
the float32 rates and the same formula in float64, to show what computing in float32 changes.
"""

import json
import math
import os

import numpy as np

F = np.float32
STEPS = range(0, 301)


def exponential_decay(c, step):
    initial_learning_rate = F(c["initial_learning_rate"])
    decay_steps = F(c["decay_steps"])
    decay_rate = F(c["decay_rate"])
    p = F(step) / decay_steps
    if c["staircase"]:
        p = np.floor(p)
    return initial_learning_rate * np.power(decay_rate, p)


def inverse_time_decay(c, step):
    initial_learning_rate = F(c["initial_learning_rate"])
    decay_steps = F(c["decay_steps"])
    decay_rate = F(c["decay_rate"])
    p = F(step) / decay_steps
    if c["staircase"]:
        p = np.floor(p)
    denom = F(1) + decay_rate * p
    return initial_learning_rate / denom


def polynomial_decay(c, step):
    initial_learning_rate = F(c["initial_learning_rate"])
    end_learning_rate = F(c["end_learning_rate"])
    power = F(c["power"])
    global_step = F(step)
    decay_steps = F(c["decay_steps"])
    if c["cycle"]:
        # where(step == 0, 1.0, ceil(step / self.decay_steps)): the Python decay_steps, weakly typed.
        multiplier = F(1.0) if global_step == 0 else np.ceil(global_step / F(c["decay_steps"]))
        decay_steps = decay_steps * multiplier
    else:
        global_step = np.minimum(global_step, decay_steps)
    p = global_step / decay_steps
    return (initial_learning_rate - end_learning_rate) * np.power(F(1) - p, power) + end_learning_rate


def cosine_decay_function(c, step, decay_steps, decay_from_lr):
    completed_fraction = step / decay_steps
    pi = np.array(math.pi, dtype=F)
    cosine_decayed = F(0.5) * (F(1.0) + np.cos(pi * completed_fraction))
    decayed = F(1 - c["alpha"]) * cosine_decayed + F(c["alpha"])
    return decay_from_lr * decayed


def cosine_decay(c, step):
    initial_learning_rate = F(c["initial_learning_rate"])
    decay_steps = F(c["decay_steps"])
    global_step = F(step)
    if c["warmup_target"] is None:
        global_step = np.minimum(global_step, decay_steps)
        return cosine_decay_function(c, global_step, decay_steps, initial_learning_rate)
    warmup_target = F(c["warmup_target"])
    warmup_steps = F(c["warmup_steps"])
    global_step = np.minimum(global_step, decay_steps + warmup_steps)
    if global_step < warmup_steps:
        completed_fraction = global_step / warmup_steps
        total_step_delta = warmup_target - initial_learning_rate
        return total_step_delta * completed_fraction + initial_learning_rate
    return cosine_decay_function(c, global_step - warmup_steps, decay_steps, warmup_target)


def piecewise_constant_decay(c, step):
    boundaries = [np.int64(b) for b in c["boundaries"]]
    values = [F(v) for v in c["values"]]
    step = np.int64(step)
    result = F(0)
    result += F(step <= boundaries[0]) * values[0]
    result += F(step > boundaries[-1]) * values[-1]
    for low, high, value in zip(boundaries[:-1], boundaries[1:], values[1:-1]):
        result += F((step > low) & (step <= high)) * value
    return result


SCHEDULES = {
    "ExponentialDecay": exponential_decay,
    "InverseTimeDecay": inverse_time_decay,
    "PolynomialDecay": polynomial_decay,
    "CosineDecay": cosine_decay,
    "PiecewiseConstantDecay": piecewise_constant_decay,
}

# Keras's get_config() of each case ("name" included, as Keras writes it).
CASES = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.96, "staircase": False}),
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.96, "staircase": True}),
    ("ExponentialDecay", {"initial_learning_rate": 0.01, "decay_steps": 2.5, "decay_rate": 0.5, "staircase": False}),
    ("ExponentialDecay", {"initial_learning_rate": 0.003, "decay_steps": 7, "decay_rate": 1.01, "staircase": True}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5, "staircase": False}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5, "staircase": True}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 1.0, "decay_rate": 0.5, "staircase": False}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 100, "end_learning_rate": 0.0001,
                         "power": 1.0, "cycle": False}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 120, "end_learning_rate": 0.01,
                         "power": 0.5, "cycle": False}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 70, "end_learning_rate": 0.01,
                         "power": 2.0, "cycle": True}),
    ("PolynomialDecay", {"initial_learning_rate": 0.0, "decay_steps": 50, "end_learning_rate": 0.05,
                         "power": 1.0, "cycle": False}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 200, "alpha": 0.0,
                     "warmup_target": None, "warmup_steps": 0}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 250, "alpha": 0.1,
                     "warmup_target": None, "warmup_steps": 0}),
    ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 200, "alpha": 0.0,
                     "warmup_target": 0.1, "warmup_steps": 50}),
    ("CosineDecay", {"initial_learning_rate": 0.01, "decay_steps": 100, "alpha": 0.05,
                     "warmup_target": 0.1, "warmup_steps": 25}),
    ("CosineDecay", {"initial_learning_rate": 0.01, "decay_steps": 100, "alpha": 0.0,
                     "warmup_target": 0.1, "warmup_steps": 0}),
    ("PiecewiseConstantDecay", {"boundaries": [100, 200], "values": [0.1, 0.05, 0.01]}),
    ("PiecewiseConstantDecay", {"boundaries": [0, 1, 299], "values": [1.0, 0.5, 0.25, 0.125]}),
    ("PiecewiseConstantDecay", {"boundaries": [150], "values": [0.003, 0.0007]}),
]

KERAS_NAMES = {"PiecewiseConstantDecay": "PiecewiseConstant"}


def in_float64(function, config, step):
    """The same formula with every float32 cast turned into float64."""
    global F
    saved = F
    F = np.float64
    try:
        return float(function(config, step))
    finally:
        F = saved


def main():
    cases = []
    for class_name, config in CASES:
        function = SCHEDULES[class_name]
        rates = []
        worst = 0.0
        for step in STEPS:
            rate = function(config, step)
            assert rate.dtype == np.float32, (class_name, config, step, rate.dtype)
            rates.append(float(rate))
            wide = in_float64(function, config, step)
            if wide != 0.0:
                worst = max(worst, abs(float(rate) - wide) / abs(wide))
        keras_config = dict(config, name=KERAS_NAMES.get(class_name, class_name))
        cases.append({"class_name": class_name, "config": keras_config, "first_step": STEPS[0],
                      "rates": rates, "float64_max_relative": worst})
    document = {
        "generator": "tests/oracle/make_schedule_fixtures.py",
        "source": "keras/src/optimizers/schedules/learning_rate_schedule.py (Keras 3), in numpy float32",
        "numpy": np.__version__,
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras_schedules.json")
    with open(path, "w") as out:
        json.dump(document, out, indent=1)
        out.write("\n")
    print("wrote", path, "with", len(cases), "cases of", len(STEPS), "steps")
    for case in cases:
        print("  %-24s float64 differs by up to %.2e relative" % (case["class_name"], case["float64_max_relative"]))


if __name__ == "__main__":
    main()
