#!/usr/bin/env bash
# nasc report: the SVG parses as XML and its axes are what the data asks
# for (nice ticks, from zero for trials and time, the data's range for an
# objective), every trial is drawn (failed ones marked), the two-objective
# front is joined and labelled; --html inlines it with a table; --top N.
source "$(dirname "$0")/common.bash"
F="$SRC/examples/fashion_cnn.nas"
cat > "$T/ev.py" <<'PY'
#!/usr/bin/env python3
import json, sys, zlib
p = json.loads(sys.stdin.readline())["decisions"]
h = zlib.crc32(json.dumps(p, sort_keys=True).encode()) % 1000 / 1000
if h < 0.1:
    sys.exit(3)
st = p["stages"]
w = sum(v for k, v in p.items() if k.startswith("width"))
print(json.dumps({"accuracy": round(0.7 + 0.05 * st + 0.0007 * w + 0.03 * h, 4), "latency": round(80 * st + 3 * w + 40 * h, 2)}))
PY
chmod +x "$T/ev.py"
expect_exit 0 "$NASC" search "$F" --evaluator "exec:$T/ev.py" --trials 30 --db "$T/r.db" --quiet --json
expect_exit 0 "$NASC" report "$T/r.db" --svg "$T/r.svg" --html "$T/r.html" --top 3
python3 - "$T/r.db" "$T/r.svg" "$T/r.html" <<'PY' && ok || bad "the report's SVG"
import json, math, re, sqlite3, sys
import xml.etree.ElementTree as ET
db, svg, html = sys.argv[1:]
rows = sqlite3.connect(db).execute("select id, status, objectives, finished from trials order by id").fetchall()
started = sqlite3.connect(db).execute("select started from run").fetchone()[0]
root = ET.parse(svg).getroot()          # parses as XML
ns = {"s": "http://www.w3.org/2000/svg"}
panels = {g.get("id"): g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "panel"}
assert set(panels) == {"best-vs-trials", "best-vs-time", "pareto", "importance"}, panels.keys()
def rng(g): return [float(g.get(k)) for k in ("data-xmin", "data-xmax", "data-ymin", "data-ymax")]
def nice(step):
    m = step / 10 ** math.floor(math.log10(step) + 1e-12)
    return any(abs(m - c) < 1e-9 for c in (1, 2, 5, 10))
def ticks(g, cls):
    return sorted(float(t.text) for t in g.iter("{http://www.w3.org/2000/svg}text")
                  if re.fullmatch(r"-?[0-9.]+", t.text or "") and t.get("text-anchor") == ("middle" if cls == "x" else "end"))
done = [json.loads(o) for _, s, o, _ in rows if s == "done"]
acc = [o[0] for o in done]; lat = [o[1] for o in done]
# trials: x from zero to a whole step past the last trial; y the data's range, rounded to steps
x0, x1, y0, y1 = rng(panels["best-vs-trials"])
xt = ticks(panels["best-vs-trials"], "x"); step = xt[1] - xt[0]
assert x0 == 0 and x1 >= len(rows) and x1 - step < len(rows) and nice(step), (x0, x1, xt)
assert xt[0] == x0 and xt[-1] == x1 and all(abs(b - a - step) < 1e-9 for a, b in zip(xt, xt[1:])), xt
yt = ticks(panels["best-vs-trials"], "y"); ys = yt[1] - yt[0]
assert y0 <= min(acc) < y0 + ys and y1 - ys < max(acc) <= y1 and nice(ys), (y0, y1, min(acc), max(acc))
# wall time from zero, in seconds
t0, t1, _, _ = rng(panels["best-vs-time"])
last = max(f for _, _, _, f in rows) - started
assert t0 == 0 and t1 >= last, (t0, t1, last)
# every trial drawn: done as dots or rings, failed as crosses
g = panels["best-vs-trials"]
marks = [e.get("class") for e in g if e.get("class") in ("done", "cached", "failed", "infeasible")]
assert marks.count("failed") == sum(s == "failed" for _, s, _, _ in rows), marks
assert marks.count("done") + marks.count("cached") == len(done), (marks, len(done))
# the front: joined by a line, each member labelled #id
p = panels["pareto"]
px0, px1, py0, py1 = rng(p)
assert px0 <= min(acc) and px1 >= max(acc) and py0 <= min(lat) and py1 >= max(lat)
assert any(e.get("class") == "front" and e.tag.endswith("polyline") for e in p)
labels = [t.text for t in p.iter("{http://www.w3.org/2000/svg}text") if (t.text or "").startswith("#")]
assert labels and all(re.fullmatch(r"#\d+", l) for l in labels), labels
axis = [t.text for t in p.iter("{http://www.w3.org/2000/svg}text")]
assert "maximize accuracy" in axis and "minimize latency (us)" in axis, axis
imp = [t.text for t in panels["importance"].iter("{http://www.w3.org/2000/svg}text")]
assert any((t or "").startswith("stages (best ") for t in imp), imp
h = open(html).read()
assert "<svg" in h and h.count("<tr><td") == 3 and "<table id=\"trials\">" in h, "html"
PY
expect_exit 0 "$NASC" report "$T/r.db" --top 2
[ "$(grep -c '^ *[0-9] ' "$T/out")" = 2 ] && ok || bad "--top 2 shows 2 rows: $(cat "$T/out")"
expect_exit 2 "$NASC" report "$T/r.db" --top 0
expect_exit 1 "$NASC" report "$T/missing.db"
finish
