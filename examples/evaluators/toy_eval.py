#!/usr/bin/env python3
"""toy_eval.py: a stand-in external evaluator for `nasc search` (examples/joint.nas).

It shows the external-evaluator protocol (docs/language-guide.md, "External
evaluators") without training anything:

  exec mode (default), `evaluator = exec("python3 examples/evaluators/toy_eval.py")`:
      one process per trial; the point arrives as one JSON object on stdin;
      the metrics leave as one JSON object on the last line of stdout.
  pipe mode, `evaluator = pipe("python3 examples/evaluators/toy_eval.py --pipe")`:
      one process for the whole search; one point per input line, one metrics
      line per point, in order, flushed at once.

nasc also sets NASC_TRIAL (the trial number) and NASC_FIDELITY (the budget,
in epochs) in the environment; the score here rises with the fidelity, as a
real training run's would.

The "accuracy" is a made-up smooth function of the decisions of joint.nas plus
a small deterministic jitter, so a search has something to climb.  Replace
`score` with a call into your own training code or a benchmark table.
A point that cannot be read makes the script exit with status 1 and a message
on stderr: nasc then records the trial as failed, with that reason.
"""

import hashlib
import json
import math
import os
import sys


def jitter(decisions):
    """A repeatable pseudo-noise in [-0.005, 0.005] from the point itself."""
    text = json.dumps(decisions, sort_keys=True).encode()
    h = int.from_bytes(hashlib.sha256(text).digest()[:4], "big")
    return (h / 0xFFFFFFFF - 0.5) * 0.01


def score(decisions, fidelity):
    """Made-up accuracy: wider and larger kernels help a little, the
    learning rate is best near 0.05 (lower with less momentum, as the
    effective step is lr / (1 - momentum)), and weight decay near 1e-4."""
    width = float(decisions.get("width", 16))
    kernel = float(decisions.get("kernel", 3))
    act = decisions.get("act", "relu")
    drop = float(decisions.get("drop", 0.0))
    lr = float(decisions.get("train.lr", 0.05))
    momentum = float(decisions.get("train.momentum", 0.9))
    decay = float(decisions.get("train.weight_decay", 1e-4))
    batch = float(decisions.get("train.batch", 128))

    best_lr = 5e-2 * (1.0 - 0.9) / (1.0 - min(momentum, 0.99))
    acc = 0.86
    acc += 0.015 * math.log2(width / 16.0)
    acc += 0.004 * (kernel - 3.0) / 2.0
    acc += 0.003 if act == "hswish" else 0.0
    acc -= 0.02 * (drop - 0.2) ** 2
    acc -= 0.012 * math.log10(lr / best_lr) ** 2
    acc -= 0.004 * math.log10(max(decay, 1e-12) / 1e-4) ** 2
    acc -= 0.002 * math.log2(batch / 64.0)
    acc -= 0.03 / max(fidelity, 0.1)          # short training costs accuracy
    acc += jitter(decisions)
    return min(max(acc, 0.0), 1.0)


def evaluate(line):
    """One point (a JSON text) in, one metrics object out."""
    point = json.loads(line)
    if not isinstance(point, dict) or not isinstance(point.get("decisions"), dict):
        raise ValueError('expected {"space": ..., "decisions": {...}}')
    fidelity = float(os.environ.get("NASC_FIDELITY", "1") or 1)
    return {"accuracy": round(score(point["decisions"], fidelity), 5),
            "train_time": 0.001}


def main():
    try:
        if "--pipe" in sys.argv[1:]:
            for line in sys.stdin:
                if line.strip():
                    out = evaluate(line)
                    out["trial"] = json.loads(line).get("trial")  # echoed: nasc checks it
                    print(json.dumps(out), flush=True)
        else:
            print(json.dumps(evaluate(sys.stdin.read())))
    except (ValueError, TypeError) as err:    # json.JSONDecodeError is a ValueError
        print(f"toy_eval: bad point: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
