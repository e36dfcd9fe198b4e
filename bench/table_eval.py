#!/usr/bin/env python3
"""table_eval.py TABLE.json: a `pipe` evaluator that answers each point
from a table of pre-trained results instead of training it (the strategy
benchmark of bench/README-proxies.md).

TABLE.json is the --json output of `nasc proxies FILE --points N`: its
"rows" hold each point with its trained validation accuracy.  One JSON
point a line in, {"accuracy": ...} out; a point missing from the table is
an error line, which fails the trial."""
import json
import sys


def key(point):
    return json.dumps(point["decisions"], sort_keys=True)


def main():
    with open(sys.argv[1]) as f:
        rows = json.load(f)["rows"]
    table = {key(r["point"]): r["accuracy"] for r in rows}
    for line in sys.stdin:
        p = json.loads(line)
        acc = table.get(key(p))
        print(json.dumps({"accuracy": acc} if acc is not None else {"error": "not in the table"}), flush=True)


if __name__ == "__main__":
    main()
