#!/usr/bin/python3
"""vit_torch.py: the PyTorch side of the sequence benchmark (bench/vit_bench.sh).

The ViT of bench/vit.nas from nn.TransformerEncoderLayer (d_model 64,
4 heads, feed-forward 128, gelu, norm_first, dropout 0, batch_first):
7x7 patches (16 tokens of 49 pixels) -> Linear(49, 64) + a learned
position code -> 4 layers -> LayerNorm -> mean over tokens -> Linear(64, 10).
Trains EPOCHS epochs with Adam 1e-3, batch 128, on the first 54,000
training images in a fixed shuffle (nasc holds out 10% for validation),
inputs in [0, 1]; then test accuracy and batch-1 latency, eager and
TorchScript (trace + freeze + optimize_for_inference).  One JSON line.
    /usr/bin/python3 bench/vit_torch.py THREADS [EPOCHS] [SEED]
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
            ctypes.CDLL(name).openblas_set_num_threads(n)
            return
        except OSError:
            continue


class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(49, 64)
        self.pos = nn.Parameter(torch.randn(16, 64) * 0.02)
        layer = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, 4, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(64)
        self.head = nn.Linear(64, 10)

    def forward(self, x):  # [n, 1, 28, 28] -> 16 patches of 7x7, row-major as nasc's patches
        n = x.shape[0]
        p = x.reshape(n, 4, 7, 4, 7).permute(0, 1, 3, 2, 4).reshape(n, 16, 49)
        h = self.encoder(self.embed(p) + self.pos)
        return self.head(self.norm(h).mean(dim=1))


def latency_us(f, x, reps=300):
    with torch.no_grad():
        for _ in range(30):
            f(x)
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            f(x)
            ts.append(time.perf_counter() - t0)
    return float(np.median(ts)) * 1e6


def main():
    threads = int(sys.argv[1])
    epochs = float(sys.argv[2]) if len(sys.argv) > 2 else 1
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    torch.set_num_threads(threads)
    openblas_threads(threads)
    torch.manual_seed(seed)
    xtr, ytr = load("train")
    xte, yte = load("t10k")
    idx = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(seed))[:54000]
    xtr, ytr = xtr[idx], ytr[idx]
    m = ViT()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    steps = int(epochs * len(xtr) / 128)
    t0 = time.perf_counter()
    seen = 0
    for s in range(steps):
        k = (s * 128) % len(xtr)
        xb, yb = xtr[k:k + 128], ytr[k:k + 128]
        opt.zero_grad()
        loss = loss_fn(m(xb), yb)
        loss.backward()
        opt.step()
        seen += len(xb)
    train_s = time.perf_counter() - t0
    m.eval()
    with torch.no_grad():
        acc = float((m(xte).argmax(1) == yte).float().mean())
    one = xte[:1]
    eager = latency_us(m, one)
    with torch.no_grad():
        ts = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(m, one).eval()))
    script = latency_us(ts, one)
    print(json.dumps({"framework": f"torch {torch.__version__}", "threads": threads, "epochs": epochs,
                      "samples_per_s": round(seen / train_s, 1), "test_accuracy": round(acc, 4),
                      "latency_eager_us": round(eager, 1), "latency_torchscript_us": round(script, 1),
                      "params": sum(p.numel() for p in m.parameters())}))


if __name__ == "__main__":
    main()
