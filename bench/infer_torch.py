#!/usr/bin/python3
"""infer_torch.py: nasc's JIT against PyTorch 1.13 (eager and TorchScript),
same architectures, same weights, same threads, in the same run.

It runs bench/infer_bench (the C half), which exports the weights of MLP-S,
MLP-L and CNN-S as raw float32 plus reference inputs/outputs, then loads
them into torch models, checks that both give the same outputs, and times
batch-1 latency and batch-1024 throughput.  With --config both (the
default) it does this twice, in child processes: with the default OpenBLAS
and with OPENBLAS_CORETYPE=SkylakeX (OpenBLAS reads it when loaded), and
prints both tables.  Needs Debian's python3-torch: run with /usr/bin/python3.
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run_c_bench(exe, out_dir, threads, quick):
    cmd = [exe, "--out", out_dir, "--threads", str(threads)] + (["--quick"] if quick else [])
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    rows = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    peak = next(r for r in rows if "sgemm_1024_gflops" in r)
    nets = {r["net"]: r for r in rows if "net" in r}
    return peak, nets


def models(torch):
    nn = torch.nn
    return {
        "mlp_s": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)),
        "mlp_l": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024),
                                       nn.ReLU(), nn.Linear(1024, 10)),
        "cnn_s": lambda: nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                       nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                       nn.Linear(1568, 128), nn.ReLU(), nn.Linear(128, 10)),
    }


def load_weights(torch, model, path):
    """Parameters in node order = PyTorch's parameters() order (weight, bias per layer)."""
    import numpy as np
    flat = np.fromfile(path, dtype="<f4")
    off = 0
    with torch.no_grad():
        for p in model.parameters():
            n = p.numel()
            p.copy_(torch.from_numpy(flat[off:off + n].copy()).view_as(p))
            off += n
    if off != flat.size:
        raise SystemExit(f"{path}: {flat.size} floats, model has {off}")


def median_ms(fn, x, budget_s):
    fn(x)
    t0 = time.perf_counter()
    fn(x)
    one = max(time.perf_counter() - t0, 1e-6)
    inner = max(1, int(0.02 / one))
    groups = max(3, min(41, int(budget_s / (one * inner))))
    times = []
    for _ in range(groups):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn(x)
        times.append((time.perf_counter() - t0) / inner)
    return statistics.median(times) * 1e3


def set_threads(torch, n):
    torch.set_num_threads(n)
    for lib in ("libopenblas.so.0", "libopenblas.so"):
        try:
            ctypes.CDLL(lib).openblas_set_num_threads(n)
            break
        except OSError:
            continue


def one_config(args):
    import numpy as np
    import torch
    set_threads(torch, args.threads)
    with tempfile.TemporaryDirectory(prefix="nasc-infer-") as d:
        peak, nets = run_c_bench(args.bench, d, args.threads, args.quick)
        out = {"config": os.environ.get("OPENBLAS_CORETYPE", "default"), "threads": args.threads,
               "sgemm_gflops": peak["sgemm_1024_gflops"], "openblas_core": peak["openblas_core"], "nets": {}}
        budget = 0.3 if args.quick else 1.5
        for name, make in models(torch).items():
            m = make().eval()
            load_weights(torch, m, os.path.join(d, name + ".params"))
            xin = torch.from_numpy(np.fromfile(os.path.join(d, name + ".in"), dtype="<f4").reshape(4, 1, 28, 28))
            ref = np.fromfile(os.path.join(d, name + ".out"), dtype="<f4").reshape(4, 10)
            r = {"nasc": nets[name]}
            x1 = torch.rand(1, 1, 28, 28)          # not inference tensors: oneDNN refuses those
            xb = torch.rand(1024, 1, 28, 28)
            with torch.inference_mode():
                got = m(xin).numpy()
                r["max_rel_err_vs_nasc"] = float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-6))
                r["eager_b1_us"] = median_ms(m, x1, budget) * 1e3
                r["eager_b1024_ms"] = median_ms(m, xb, budget * 2)
            with torch.no_grad():
                ts = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(m, x1)))
                r["ts_b1_us"] = median_ms(ts, x1, budget) * 1e3
                r["ts_b1024_ms"] = median_ms(ts, xb, budget * 2)
            out["nets"][name] = r
        return out


def table(res):
    lines = [f"### OpenBLAS {res['config']} (core {res['openblas_core']}), {res['threads']} thread(s); "
             f"sgemm 1024^3 peak {res['sgemm_gflops']:.0f} GFLOP/s", "",
             "| net | nasc JIT | PyTorch eager | TorchScript | speedup vs eager | vs TorchScript |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, r in res["nets"].items():
        n = r["nasc"]
        lines.append(f"| {name} batch 1 (us) | {n['latency_us_b1']:.1f} | {r['eager_b1_us']:.1f} | {r['ts_b1_us']:.1f} "
                     f"| {r['eager_b1_us'] / n['latency_us_b1']:.1f}x | {r['ts_b1_us'] / n['latency_us_b1']:.1f}x |")
    for name, r in res["nets"].items():
        n = r["nasc"]
        lines.append(f"| {name} batch 1024 (ms) | {n['ms_b1024']:.2f} | {r['eager_b1024_ms']:.2f} | {r['ts_b1024_ms']:.2f} "
                     f"| {r['eager_b1024_ms'] / n['ms_b1024']:.1f}x | {r['ts_b1024_ms'] / n['ms_b1024']:.1f}x |")
    lines.append("")
    for name, r in res["nets"].items():
        n = r["nasc"]
        gf = n["mflop"] * 1024 / n["ms_b1024"]
        lines.append(f"- {name}: JIT compile at the search level {n['compile_cpu_ms_search']:.1f} ms CPU "
                     f"({n['compile_ms_search']:.1f} ms wall), O3 {n['compile_cpu_ms_o3']:.1f} ms CPU; "
                     f"batch-1 latency of search-level code {n['latency_us_b1_search']:.1f} us; "
                     f"batch 1024 {gf:.0f} GFLOP/s = {100 * gf / res['sgemm_gflops']:.0f}% of sgemm peak; "
                     f"max rel. difference to PyTorch {r['max_rel_err_vs_nasc']:.1e}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--bench", default=os.path.join(here, "..", "build", "infer_bench"), help="the infer_bench binary")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--config", choices=["both", "default", "skylakex", "child"], default="both")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true", help="print the raw results as JSON too")
    args = ap.parse_args()
    if args.config == "child":
        print(json.dumps(one_config(args)))
        return
    configs = ["default", "skylakex"] if args.config == "both" else [args.config]
    for cfg in configs:
        env = dict(os.environ)
        env.pop("OPENBLAS_CORETYPE", None)
        if cfg == "skylakex":
            env["OPENBLAS_CORETYPE"] = "SkylakeX"
        cmd = [sys.executable, os.path.abspath(__file__), "--config", "child", "--bench", args.bench,
               "--threads", str(args.threads)] + (["--quick"] if args.quick else [])
        res = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        print(table(res))
        print()
        if args.json:
            print(json.dumps(res))


if __name__ == "__main__":
    main()
