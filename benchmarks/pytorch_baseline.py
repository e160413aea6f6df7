#!/usr/bin/python3
"""PyTorch baseline of benchmarks/xdense_bench.cpp: the same workloads, the same shapes, the same CSV rows.

  mlp_epoch      784-256-128-10 ReLU, cross-entropy on logits, Adam, batch 128: seconds per epoch, shuffled,
                 batches gathered by index, loss and accuracy accumulated per batch (what xdense's fit() does)
  mlp_bn_epoch   the same with Linear, BatchNorm1d, ReLU, Dropout(0.2) per hidden layer (workload "mlp_bn");
                 BatchNorm1d with Keras's settings (momentum 0.01 in torch's convention = Keras's 0.99, eps 1e-3)
  tiny_step      2-16-1 sigmoid, BCE on logits, Adam, batch 32: microseconds per step on one fixed batch
  inference_10k  softmax(model(x)) of the 10,000 test images in one batch, under no_grad
  train_rss      peak RSS of a fresh process that loads the training set and trains one epoch

Debian's PyTorch does its matrix products in the system OpenBLAS, which torch.set_num_threads does not
bound: the OpenBLAS thread count is read from OPENBLAS_NUM_THREADS when the library loads, so this script
sets it from --blas-threads before importing torch. Run one process per (torch, BLAS) thread configuration
(benchmarks/compare.sh does). The `threads` column is the number of cores the configuration may use.
"""

import argparse
import gzip
import os
import statistics
import subprocess
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--blas-threads", type=int, default=1)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--no-fashion", action="store_true")
    p.add_argument("--fashion-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--repeats", type=int, default=0, help="0: 5, or 2 with --quick")
    p.add_argument("--samples", type=int, default=0, help="training samples per epoch; 0: 60000, or 6000 with --quick")
    p.add_argument("--workloads", default="mlp,mlp_bn,tiny,inference,rss")
    p.add_argument("--csv", action="store_true", help="print rows as CSV (no header with --no-header)")
    p.add_argument("--no-header", action="store_true")
    p.add_argument("--rss-child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    a.repeats = a.repeats or (2 if a.quick else 5)
    a.samples = a.samples or (6000 if a.quick else 60000)
    a.workloads = a.workloads.split(",")
    return a


ARGS = parse_args()
os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.blas_threads)  # before torch loads OpenBLAS
os.environ.setdefault("OMP_NUM_THREADS", str(ARGS.torch_threads))

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(ARGS.torch_threads)
CONFIG = f"torch {ARGS.torch_threads} + OpenBLAS {ARGS.blas_threads} threads"
CORES = max(ARGS.torch_threads, ARGS.blas_threads)


# ------------------------------------------------------------------ data

def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_fashion(with_test=True):
    images = os.path.join(ARGS.fashion_dir, "train-images-idx3-ubyte.gz")
    if ARGS.no_fashion or not os.path.exists(images):
        return None

    def images_of(name):
        a = read_idx(os.path.join(ARGS.fashion_dir, name))
        return torch.from_numpy(a.reshape(a.shape[0], -1).astype(np.float32) / 255.0)

    def labels_of(name):
        return torch.from_numpy(read_idx(os.path.join(ARGS.fashion_dir, name)).astype(np.int64))

    d = {"name": "fashion", "x_train": images_of("train-images-idx3-ubyte.gz"),
         "y_train": labels_of("train-labels-idx1-ubyte.gz")}
    if with_test:
        d["x_test"] = images_of("t10k-images-idx3-ubyte.gz")
        d["y_test"] = labels_of("t10k-labels-idx1-ubyte.gz")
    d["x_train"], d["y_train"] = d["x_train"][:ARGS.samples].contiguous(), d["y_train"][:ARGS.samples].contiguous()
    return d


def synthetic_fashion(train, test):
    g = torch.Generator().manual_seed(7)
    return {"name": "synthetic",
            "x_train": torch.rand(train, 784, generator=g), "y_train": torch.randint(0, 10, (train,), generator=g),
            "x_test": torch.rand(test, 784, generator=g), "y_test": torch.randint(0, 10, (test,), generator=g)}


# ------------------------------------------------------------------ workloads

def make_mlp():
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                               torch.nn.ReLU(), torch.nn.Linear(128, 10))


def make_mlp_bn():
    torch.manual_seed(1)
    layers = []
    for fan_in, units in ((784, 256), (256, 128)):
        layers += [torch.nn.Linear(fan_in, units), torch.nn.BatchNorm1d(units, eps=1e-3, momentum=0.01),
                   torch.nn.ReLU(), torch.nn.Dropout(0.2)]
    return torch.nn.Sequential(*layers, torch.nn.Linear(128, 10))


def mlp_epoch(data, with_bn=False):
    x, y = data["x_train"], data["y_train"]
    n = x.shape[0]
    model = make_mlp_bn() if with_bn else make_mlp()
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    cpu = time.process_time()
    for _ in range(ARGS.repeats):
        start = time.perf_counter()
        order = torch.randperm(n)
        loss_sum, correct = 0.0, 0
        for first in range(0, n, 128):
            index = order[first:first + 128]
            xb, yb = x[index], y[index]
            optimizer.zero_grad()
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(index)
            correct += (out.argmax(1) == yb).sum().item()
        times.append(time.perf_counter() - start)
    cpu = (time.process_time() - cpu) / ARGS.repeats
    note = f"{n} samples; {CONFIG}"
    if data["name"] == "fashion" and "x_test" in data:
        model.eval()
        with torch.no_grad():
            accuracy = (model(data["x_test"]).argmax(1) == data["y_test"]).float().mean().item()
        note += f"; test accuracy {accuracy:.4f} after {ARGS.repeats} epochs"
    return row("mlp_bn_epoch" if with_bn else "mlp_epoch", data["name"], "s", times, cpu, n, note)


def inference(data):
    x = data["x_test"]
    model = make_mlp()
    times = []
    repeats = max(ARGS.repeats, 5)
    with torch.no_grad():
        torch.softmax(model(x), 1)
        cpu = time.process_time()
        for _ in range(repeats):
            start = time.perf_counter()
            torch.softmax(model(x), 1)
            times.append(time.perf_counter() - start)
        cpu = (time.process_time() - cpu) / repeats
    name = "inference_10k" if x.shape[0] == 10000 else "inference"
    return row(name, data["name"], "s", times, cpu, x.shape[0], f"{x.shape[0]} images, one batch; {CONFIG}")


def tiny_step():
    torch.manual_seed(5)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Sigmoid(), torch.nn.Linear(16, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    x = torch.randn(32, 2)
    y = torch.randint(0, 2, (32, 1)).float()
    steps = 300 if ARGS.quick else 3000

    def run():
        for _ in range(steps):
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()

    run()
    times = []
    repeats = max(ARGS.repeats, 5)
    cpu = time.process_time()
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) / steps * 1e6)
    cpu = (time.process_time() - cpu) / repeats / steps * 1e6
    # samples/s = 32 samples per step / (median us * 1e-6)
    return row("tiny_step", "synthetic", "us", times, cpu, 32e6, f"one batch of 32; {CONFIG}")


def train_rss(data_name):
    command = [sys.executable, os.path.abspath(__file__), "--rss-child", "--samples", str(ARGS.samples),
               "--fashion-dir", ARGS.fashion_dir, "--torch-threads", "1", "--blas-threads", "1"]
    if data_name != "fashion":
        command.append("--no-fashion")
    start = time.perf_counter()
    # The child reports its own VmHWM: RUSAGE_CHILDREN would keep this parent's high-water mark
    # from before the child's exec().
    rss = float(subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()[-1])
    seconds = time.perf_counter() - start
    return {"workload": "train_rss", "data": data_name, "threads": 1, "unit": "MB", "median": rss, "min": rss,
            "cpu": 0.0, "samples_per_s": ARGS.samples / seconds,
            "note": "fresh process: import + load + 1 epoch at 1 thread"}


def peak_rss_mb():
    """VmHWM of this process's address space (since its exec), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def rss_child():
    data = load_fashion(with_test=False) or synthetic_fashion(ARGS.samples, 0)
    ARGS.repeats = 1
    mlp_epoch(data)
    print(f"{peak_rss_mb():.1f}")


def row(workload, data_name, unit, values, cpu, samples, note):
    """A result row; `cpu` is the mean process CPU time per repetition, in `unit`."""
    median = statistics.median(values)
    return {"workload": workload, "data": data_name, "threads": CORES, "unit": unit, "median": median,
            "min": min(values), "cpu": cpu, "samples_per_s": samples / median, "note": note}


# ------------------------------------------------------------------ main

def main():
    if ARGS.rss_child:
        rss_child()
        return
    sets = [synthetic_fashion(ARGS.samples, 1000 if ARGS.quick else 10000)]
    fashion = load_fashion()
    if fashion is not None:
        sets.append(fashion)
    rows = []
    for data in sets:
        if "mlp" in ARGS.workloads:
            rows.append(mlp_epoch(data))
        if "mlp_bn" in ARGS.workloads:
            rows.append(mlp_epoch(data, with_bn=True))
        if "inference" in ARGS.workloads:
            rows.append(inference(data))
    if "tiny" in ARGS.workloads:
        rows.append(tiny_step())
    if "rss" in ARGS.workloads:
        rows.append(train_rss(sets[-1]["name"]))
    columns = ["workload", "data", "threads", "unit", "median", "min", "cpu", "samples_per_s", "gflop_s",
               "bound_fraction", "peak_rss_mb", "note"]
    if not ARGS.no_header:
        print(",".join(columns) if ARGS.csv else f"PyTorch {torch.__version__}, {CONFIG}")
    for r in rows:
        r.setdefault("gflop_s", 0)
        r.setdefault("bound_fraction", 0)
        r["peak_rss_mb"] = peak_rss_mb()
        if ARGS.csv:
            print(",".join(f"{r[c]:.6g}" if isinstance(r[c], float) else str(r[c]) for c in columns))
        else:
            print(f"{r['workload']:<14} {r['data']:<10} {r['threads']:>3} {r['median']:>11.4g} {r['min']:>11.4g} "
                  f"{r['cpu']:>11.4g} {r['unit']:<4} {r['samples_per_s']:>12.4g}  {r['note']}")


if __name__ == "__main__":
    main()
