#!/usr/bin/python3
"""train_torch.py: the PyTorch side of the training benchmark.

One epoch of MLP-S or CNN-S on Fashion-MNIST with Debian's PyTorch 1.13
(SGD lr 0.05 momentum 0.9, batch 128, all 60,000 training images shuffled,
inputs scaled to [0, 1] exactly as the nasc runtime does), then test
accuracy.  Prints one JSON line like bench/train_bench.c.
    /usr/bin/python3 bench/train_torch.py mlp|cnn THREADS [SEED [unit|standard [PAIR]]]
standard: inputs standardised by the training set's mean and (population)
standard deviation, transforms.Normalize's job in a PyTorch recipe, the
counterpart of nasc's train.normalize = standard.
PAIR: the file `train_bench ... PAIR` wrote: start from nasc's initial
weights and visit the samples in nasc's order (a paired comparison).
torch.set_num_threads() does not reach OpenBLAS's pool (dense layers go
through OpenBLAS), so its thread count is set through ctypes too.
"""
import ctypes
import gzip
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn

DATA = "/usr/share/datasets/fashion-mnist"


def load(prefix):
    with gzip.open(f"{DATA}/{prefix}-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{DATA}/{prefix}-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return torch.from_numpy(x.astype(np.float32) / 255.0), torch.from_numpy(y.astype(np.int64))


def openblas_threads(n):
    for name in ("libopenblas.so.0", "libopenblasp-r0.3.21.so"):
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_set_num_threads(n)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode()
        except OSError:
            continue
    return "?"


def net(kind):
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1568, 128), nn.ReLU(), nn.Linear(128, 10))


def read_pair(path, model):
    """Loads train_bench's PAIR file into model; returns the sample order."""
    with open(path, "rb") as f:
        buf = f.read()
    pos = 0

    def take(dtype, count):
        nonlocal pos
        a = np.frombuffer(buf, dtype, count, pos)
        pos += a.nbytes
        return a

    params = list(model.parameters())
    if take(np.int64, 1)[0] != len(params):
        sys.exit(f"{path}: tensor count does not match the network")
    with torch.no_grad():
        for p in params:
            k = take(np.int64, 1)[0]
            if k != p.numel():
                sys.exit(f"{path}: a tensor has {k} values, expected {p.numel()}")
            p.copy_(torch.from_numpy(take(np.float32, k).copy()).view_as(p))
    n = take(np.int64, 1)[0]
    return torch.from_numpy(take(np.int64, n).copy())


def main():
    kind, threads = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    torch.set_num_threads(threads)
    core = openblas_threads(threads)
    torch.manual_seed(seed)
    xtr, ytr = load("train")
    xte, yte = load("t10k")
    mode = sys.argv[4] if len(sys.argv) > 4 else "unit"
    if mode == "standard":
        mean, std = xtr.double().mean().item(), xtr.double().std(unbiased=False).item()
        xtr, xte = (xtr - mean) / std, (xte - mean) / std
    model = net(kind)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    lossf = nn.CrossEntropyLoss()
    if len(sys.argv) > 5:
        perm = read_pair(sys.argv[5], model)
    else:
        perm = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(seed))
    model.train()
    t0 = time.perf_counter()
    total = 0.0
    for i in range(0, len(xtr), 128):
        idx = perm[i:i + 128]
        xb, yb = xtr[idx], ytr[idx]
        opt.zero_grad()
        loss = lossf(model(xb), yb)
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    dt = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        acc = sum((model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item()
                  for i in range(0, len(xte), 1000)) / len(xte)
    print(json.dumps({"impl": "torch", "net": kind, "mode": mode, "paired": len(sys.argv) > 5, "threads": threads, "core": core,
                      "samples_per_s": round(len(xtr) / dt, 1), "train_time": round(dt, 3),
                      "test_accuracy": round(acc, 4), "loss": round(total / len(xtr), 4)}))


if __name__ == "__main__":
    main()
