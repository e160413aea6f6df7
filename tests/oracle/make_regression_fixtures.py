#!/usr/bin/python3
"""Regression reference for xdense: PyTorch's test R^2 on a Friedman #1 problem over several seeds.

Writes, next to this script:
  friedman1_train.csv, friedman1_test.csv  the data (x1..x10, y), generated here with a fixed seed:
      y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + N(0, 1), x ~ U[0, 1]^10
      (Friedman 1991, as scikit-learn's make_friedman1; x6..x10 are noise features)
  torch_regression.json  the settings and, per training seed, PyTorch's test R^2 (and MSE)

The net, optimizer and schedule are the ones tests/oracle/regression_oracle_test.cpp trains with
xdense: inputs standardized with the training statistics, 10 -> 64 relu -> 32 relu -> 1, torch.nn.Linear's
default initialisation (xdense's "pytorch" initializer), Adam(lr 3e-3), MSE, batch 32, reshuffled every
epoch, 60 epochs. Different seeds give different initial weights and orders: the test compares the mean
R^2 over the seeds, within the spread the seeds show.

Run with Debian's python3 (python3-torch, numpy): /usr/bin/python3 tests/oracle/make_regression_fixtures.py
"""
import json
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN, TEST = 1000, 500
SEEDS = [1, 2, 3, 4, 5]
EPOCHS, BATCH, LR = 60, 32, 3e-3


def friedman1(rng, n):
    x = rng.uniform(0.0, 1.0, size=(n, 10))
    y = (10 * np.sin(np.pi * x[:, 0] * x[:, 1]) + 20 * (x[:, 2] - 0.5) ** 2 + 10 * x[:, 3] + 5 * x[:, 4]
         + rng.normal(0.0, 1.0, size=n))
    return x.astype(np.float32), y.astype(np.float32)


def write_csv(path, x, y):
    with open(path, "w") as f:
        f.write(",".join([f"x{i + 1}" for i in range(x.shape[1])] + ["y"]) + "\n")
        for row, target in zip(x, y):
            f.write(",".join("%.9g" % v for v in row) + ",%.9g\n" % target)


def read_csv(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
    return data[:, :-1], data[:, -1]


def r2(y, p):
    return 1.0 - float(np.sum((y - p) ** 2)) / float(np.sum((y - y.mean()) ** 2))


def train(seed, x_train, y_train, x_test, y_test):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(10, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32), torch.nn.ReLU(),
                                torch.nn.Linear(32, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train).reshape(-1, 1)
    for _ in range(EPOCHS):
        order = torch.randperm(len(xt))
        for first in range(0, len(xt), BATCH):
            idx = order[first:first + BATCH]
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(xt[idx]), yt[idx])
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        p = model(torch.from_numpy(x_test)).numpy().reshape(-1)
    return r2(y_test, p), float(np.mean((y_test - p) ** 2))


def main():
    train_path, test_path = os.path.join(HERE, "friedman1_train.csv"), os.path.join(HERE, "friedman1_test.csv")
    if not os.path.exists(train_path):  # the committed data is the reference; regenerate only when missing
        rng = np.random.default_rng(2026)
        write_csv(train_path, *friedman1(rng, TRAIN))
        write_csv(test_path, *friedman1(rng, TEST))
    x_train, y_train = read_csv(train_path)
    x_test, y_test = read_csv(test_path)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)  # population std, as xdense's Standardizer
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    torch.set_num_threads(1)
    results = []
    for seed in SEEDS:
        score, mse = train(seed, x_train, y_train, x_test, y_test)
        results.append({"seed": seed, "test_r2": score, "test_mse": mse})
        print(f"seed {seed}: test R^2 {score:.4f}, MSE {mse:.4f}")
    scores = [r["test_r2"] for r in results]
    out = {
        "generator": "make_regression_fixtures.py (numpy default_rng(2026), Friedman #1, noise 1)",
        "torch": torch.__version__,
        "settings": {"layers": [64, 32, 1], "activation": "relu", "init": "torch.nn.Linear default",
                     "optimizer": "adam", "learning_rate": LR, "loss": "mse", "batch_size": BATCH,
                     "epochs": EPOCHS, "standardize_inputs": True},
        "runs": results,
        "mean_test_r2": float(np.mean(scores)),
        "std_test_r2": float(np.std(scores, ddof=1)),
    }
    with open(os.path.join(HERE, "torch_regression.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"mean {out['mean_test_r2']:.4f} +- {out['std_test_r2']:.4f}")


if __name__ == "__main__":
    main()
