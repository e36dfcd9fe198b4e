#!/usr/bin/env python3
"""supernet_rank.py: ranking quality of supernets (bench/supernet_bench.sh).

usage: supernet_rank.py OUT E_SA NAME...
Reads OUT/alone.db (stand-alone trials) and OUT/search_NAME.db (the same
points scored by the supernet NAME), matches the trials by point, and prints
Kendall tau-b and Spearman rho between the two accuracies, plus the
supernet evaluator's cost per trial (time_recalibrate + time_eval).
Points trained stand-alone outside the store, by `nasc train --arch P
--json` with the same recipe (one JSON object a line, as it prints them),
may be added in OUT/alone_extra.jsonl.
"""
import json
import os
import sqlite3
import sys


def trials(db):
    """{canonical point JSON: metrics} of the done trials of a store."""
    rows = sqlite3.connect(db).execute(
        "select point, metrics from trials where status = 'done' order by id").fetchall()
    return {json.dumps(json.loads(p), sort_keys=True): json.loads(m) for p, m in rows}


def rank(v):
    """Ranks from 0, ties given their mean rank."""
    o = sorted(range(len(v)), key=lambda i: v[i])
    r = [0.0] * len(v)
    i = 0
    while i < len(o):
        j = i
        while j + 1 < len(o) and v[o[j + 1]] == v[o[i]]:
            j += 1
        for k in range(i, j + 1):
            r[o[k]] = (i + j) / 2
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = rank(a), rank(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra) ** .5
    vb = sum((y - mb) ** 2 for y in rb) ** .5
    return cov / (va * vb) if va and vb else float("nan")


def kendall(a, b):
    """Kendall tau-b (as scipy.stats.kendalltau)."""
    c = d = ta = tb = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            x, y = a[i] - a[j], b[i] - b[j]
            if x == 0 and y == 0:
                continue
            if x == 0:
                ta += 1
            elif y == 0:
                tb += 1
            elif x * y > 0:
                c += 1
            else:
                d += 1
    return (c - d) / (((c + d + ta) * (c + d + tb)) ** .5) if c + d else float("nan")


def main():
    out, e_sa, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    alone = trials(out + "/alone.db")
    extra = out + "/alone_extra.jsonl"
    if os.path.exists(extra):
        for line in open(extra):
            if line.strip():
                m = json.loads(line)
                alone.setdefault(json.dumps(m["point"], sort_keys=True), m)
    sa = [m["accuracy"] for m in alone.values()]
    print("   stand-alone (%s epochs): %d points, accuracy %.3f to %.3f" % (e_sa, len(sa), min(sa), max(sa)))
    for name in names:
        sup = trials(out + "/search_%s.db" % name)
        common = [p for p in alone if p in sup]
        a = [sup[p]["accuracy"] for p in common]
        b = [alone[p]["accuracy"] for p in common]
        cost = sum(sup[p]["time_recalibrate"] + sup[p]["time_eval"] for p in common) / len(common)
        print("3. %-8s supernet vs stand-alone over %d points: Kendall tau %.3f, Spearman rho %.3f"
              " (supernet accuracy %.3f to %.3f; %.2f s per evaluation = %.2f per second)"
              % (name, len(common), kendall(a, b), spearman(a, b), min(a), max(a), cost, 1 / cost))


if __name__ == "__main__":
    main()
