#!/usr/bin/env bash
# The tool under faults (issue 9, docs/reliability.md): output to /dev/full
# and to a full file system exits 1 with the path and strerror and leaves
# no broken file; a second writer on a store is refused; a report of an
# empty file leaves it untouched; a SIGKILLed search resumes without loss.
# Prints "FAULT <category> injected=N survived=N lost=N" lines.
. "$(dirname "$0")/common.bash"
F=$SRC/tests/fixtures/cli/tiny.nas
P='{"decisions": {"depth": 2, "act": "relu", "width[1]": 16, "width[2]": 8}}'

# ---- writes to /dev/full ----
n=0
for cmd in "check" "check --json" "sample --count 3" "show --arch"; do
    # shellcheck disable=SC2086
    if [ "$cmd" = "show --arch" ]; then "$NASC" show "$F" --arch "$P" >/dev/full 2>"$T/err"; else "$NASC" $cmd "$F" >/dev/full 2>"$T/err"; fi
    rc=$?
    if [ "$rc" = 1 ] && grep -qF "<stdout>: No space left on device" "$T/err"; then ok; n=$((n + 1)); else bad "nasc $cmd >/dev/full: exit $rc"; cat "$T/err" >&2; fi
done
echo "FAULT full-disk injected=4 survived=$n lost=0"

# ---- a full file system (tmpfs; needs root or a user namespace) ----
expect_exit 0 "$NASC" train "$F" --arch "$P" -o "$T/w.safetensors"
mkdir -p "$T/full"
if mount -t tmpfs -o size=64k tmpfs "$T/full" 2>/dev/null; then
    trap 'umount "$T/full" 2>/dev/null; rm -rf "$T"' EXIT
    head -c 60000 /dev/zero > "$T/full/filler" 2>/dev/null
    f0=$FAIL
    "$NASC" build "$F" --arch "$P" --weights "$T/w.safetensors" -o "$T/full/model" >"$T/out" 2>"$T/err"
    rc=$?
    [ "$rc" = 1 ] && ok || bad "build on a full fs: exit $rc"
    expect_in "$T/err" "$T/full/model"
    expect_in "$T/err" "No space left on device"
    if grep -q "^wrote" "$T/err"; then bad "build on a full fs said wrote"; else ok; fi
    [ ! -e "$T/full/model" ] && ok || bad "a broken $T/full/model was left behind"
    ls "$T/full" | grep -q tmp- && bad "a temporary file was left in $T/full" || ok
    for kind in obj llvm asm lib; do
        "$NASC" build "$F" --arch "$P" --weights "$T/w.safetensors" -o "$T/full/m.$kind" --emit $kind >/dev/null 2>"$T/err"
        rc=$?
        [ "$rc" = 1 ] && ok || bad "build --emit $kind on a full fs: exit $rc"
        [ ! -e "$T/full/m.$kind" ] && ok || bad "a broken m.$kind was left"
    done
    "$NASC" sample "$F" --count 2000 > "$T/full/points.json" 2>"$T/err"
    [ $? = 1 ] && ok || bad "sample to a full fs"
    expect_in "$T/err" "No space left on device"
    umount "$T/full"
    echo "FAULT full-disk injected=6 survived=$((6 - (FAIL - f0 > 6 ? 6 : FAIL - f0))) lost=0"
else
    echo "SKIP: cannot mount a tmpfs here (not root): the full-file-system cases are not run"
fi

# ---- the store: a second writer, a killed search, an empty file ----
S=$SRC/tests/fixtures/cli/tiny.nas
cat > "$T/slow.sh" <<'EOS'
#!/bin/sh
cat >/dev/null
sleep 0.4
echo '{"accuracy": 0.5}'
EOS
chmod +x "$T/slow.sh"
"$NASC" search "$S" --db "$T/run.db" --trials 6 --evaluator "exec:$T/slow.sh" >/dev/null 2>"$T/first.err" &
first=$!
for _ in $(seq 100); do [ -e "$T/run.db.lock" ] && break; sleep 0.05; done
sleep 0.3
expect_exit 1 "$NASC" search "$S" --db "$T/run.db" --trials 8 --evaluator "exec:$T/slow.sh" --resume
expect_in "$T/err" "another search is writing this store (pid $first, started"
kill -KILL $first
wait $first 2>/dev/null
running=$(python3 -c "import sqlite3; print(sqlite3.connect('$T/run.db').execute(\"select count(*) from trials where status='running'\").fetchone()[0])")
expect_exit 0 "$NASC" search "$S" --db "$T/run.db" --trials 6 --evaluator "exec:$T/slow.sh" --resume
python3 -c "
import sqlite3; c = sqlite3.connect('$T/run.db')
ids = [r[0] for r in c.execute('select id from trials order by id')]
assert ids == list(range(1, len(ids) + 1)), ids
st = dict(c.execute('select status, count(*) from trials group by status').fetchall())
ev = c.execute(\"select count(*) from trials where coalesce(answered, 'evaluator') != 'cache'\").fetchone()[0]
assert 'running' not in st and ev == 6, (st, ev)" && ok || bad "resume after SIGKILL"
echo "FAULT two-writers injected=1 survived=1 lost=0"
echo "FAULT sigkill-host injected=1 survived=1 lost=0 (running then: $running)"

# a store (without its WAL side files) in a read-only folder: report reads it, writes nothing
python3 -c "import sqlite3; c = sqlite3.connect('$T/run.db'); c.execute('pragma wal_checkpoint(TRUNCATE)'); c.close()"
mkdir -p "$T/rw" "$T/ro"
cp "$T/run.db" "$T/rw/run.db"
if mount --bind "$T/rw" "$T/ro" 2>/dev/null && mount -o remount,ro,bind "$T/ro" 2>/dev/null; then
    expect_exit 0 "$NASC" report "$T/ro/run.db"
    expect_in "$T/out" " done, 0 failed, 0 infeasible, 0 unfinished"
    umount "$T/ro"
    [ "$(ls "$T/rw")" = run.db ] && ok || bad "report wrote beside a store in a read-only folder"
else
    umount "$T/ro" 2>/dev/null
    echo "SKIP: cannot bind-mount read-only here (not root): the read-only folder case is not run"
fi
: > "$T/empty.db"
expect_exit 1 "$NASC" report "$T/empty.db"
expect_in "$T/err" "not a nasc store"
[ ! -s "$T/empty.db" ] && [ ! -e "$T/empty.db-wal" ] && ok || bad "report wrote into an empty file"
head -c 4096 /dev/urandom > "$T/junk.db"
cp "$T/junk.db" "$T/junk.copy"
expect_exit 1 "$NASC" report "$T/junk.db"
cmp -s "$T/junk.db" "$T/junk.copy" && ok || bad "report changed a junk file"
echo "FAULT corrupt-store injected=2 survived=2 lost=0"
# ---- strict input types ----
f0=$FAIL
expect_exit 1 "$NASC" show "$F" --arch '{"decisions": {"depth": 2, "act": "relu", "width[1]": "16", "width[2]": 8}}'
expect_in "$T/err" "nasc: error: the point: decision 'width[1]': \"16\" is a JSON string, but it takes a number: {8, 16}"
expect_exit 1 "$NASC" show "$F" --arch '{"decisions": {"depth": 1.0, "act": "relu", "width[1]": 16}}'
expect_in "$T/err" "nasc: error: the point: decision 'depth': 1.0 is a real number, but it takes an integer: 1..2 (write 1)"
expect_exit 1 "$NASC" show "$F" --arch '{"decisions": {"depth": 1, "act": true, "width[1]": 16}}'
expect_in "$T/err" "decision 'act': true is a JSON boolean, but it takes a name (a string): {relu, tanh}"
# IDX images of the right size but the wrong shape; too few samples to split
python3 - "$T" <<'EOP'
import gzip, struct, sys
t = sys.argv[1]
def idx(path, dims, data):
    with gzip.open(path, 'wb') as f:
        f.write(struct.pack('>BBBB', 0, 0, 8, len(dims)) + b''.join(struct.pack('>I', d) for d in dims) + bytes(data))
idx(t + '/img16x4.gz', [20, 16, 4], [i % 251 for i in range(20 * 64)])
idx(t + '/lab20.gz', [20], [i % 4 for i in range(20)])
idx(t + '/img2.gz', [2, 8, 8], [7] * 128)
idx(t + '/lab2.gz', [2], [0, 1])
EOP
expect_exit 1 "$NASC" train "$F" --arch "$P" --set "train.data=idx(\"$T/img16x4.gz\", \"$T/lab20.gz\")"
expect_in "$T/err" "nasc: training failed: the $T/img16x4.gz samples have shape [1, 16, 4] but the network input is [1, 8, 8]"
expect_exit 1 "$NASC" train "$F" --arch "$P" --set "train.data=idx(\"$T/img2.gz\", \"$T/lab2.gz\")"
expect_in "$T/err" "2 samples are too few for a validation split of 0.2 (each part needs at least one)"
echo "FAULT bad-data injected=5 survived=$((5 - (FAIL - f0 > 5 ? 5 : FAIL - f0))) lost=0"
# ---- SIGKILL of nasc train at random moments: -o is whole or absent ----
D=$SRC/tests/fixtures/data
f0=$FAIL
for i in 1 2 3 4 5; do
    rm -f "$T/k.safetensors"
    "$NASC" train "$F" --arch "$P" --set train.epochs=40 -o "$T/k.safetensors" >/dev/null 2>&1 &
    pid=$!
    sleep "0.$((RANDOM % 9 + 1))"
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null
    if [ -e "$T/k.safetensors" ]; then
        "$NASC" run "$F" --arch "$P" --weights "$T/k.safetensors" --input "$D/tiny-test-images-idx3-ubyte.gz" >/dev/null 2>"$T/err" && ok || bad "a killed train left a broken $T/k.safetensors"
    else ok; fi
done
echo "FAULT sigkill-train injected=5 survived=$((5 - (FAIL - f0 > 5 ? 5 : FAIL - f0))) lost=0"

# ---- the built executable validates like nasc run, and streams ----
f0=$FAIL
expect_exit 0 "$NASC" build "$F" --arch "$P" --weights "$T/w.safetensors" -o "$T/model"
python3 - "$T" <<'EOP'
import gzip, struct, sys
t = sys.argv[1]
def idx(path, ty, dims, payload, gz=False):
    b = struct.pack('>BBBB', 0, 0, ty, len(dims)) + b''.join(struct.pack('>I', d) for d in dims) + payload
    (gzip.open if gz else open)(path, 'wb').write(b)
idx(t + '/nan.idx', 0x0D, [2, 8, 8], struct.pack('>128f', *([0.5] * 70 + [float('nan')] + [0.5] * 57)))
idx(t + '/zero.idx', 0x08, [0, 8, 8], b'')
idx(t + '/trunc.idx', 0x08, [3, 8, 8], bytes(100))
idx(t + '/trail.idx', 0x08, [1, 8, 8], bytes(70))
idx(t + '/wrong.idx', 0x08, [2, 4, 4], bytes(32))
idx(t + '/ok.idx.gz', 0x08, [5, 8, 8], bytes(range(256)) * 1 + bytes(64), gz=True)
open(t + '/raw.f32', 'wb').write(struct.pack('<128f', *([0.25] * 128)))
open(t + '/rawbad.f32', 'wb').write(struct.pack('<100f', *([0.25] * 100)))
open(t + '/rawinf.f32', 'wb').write(struct.pack('<64f', *([float('inf')] * 64)))
# a gzip bomb: 1M samples (64 MB) in about 64 KB
with gzip.open(t + '/bomb.idx.gz', 'wb') as f:
    f.write(struct.pack('>BBBBIII', 0, 0, 8, 3, 1 << 20, 8, 8))
    for _ in range(64): f.write(bytes(1 << 20))
EOP
for f in nan.idx zero.idx trunc.idx trail.idx wrong.idx ok.idx.gz raw.f32 rawbad.f32 rawinf.f32 missing.idx; do
    (cd "$T" && ./model "$f" >"$T/a.out" 2>"$T/a.err"); ra=$?
    (cd "$T" && "$NASC" run "$F" --arch "$P" --weights w.safetensors --input "$f" >"$T/b.out" 2>"$T/b.err"); rb=$?
    sed 's|^\./model: ||' "$T/a.err" > "$T/a.msg"; sed 's|^nasc: ||' "$T/b.err" > "$T/b.msg"
    if [ "$ra" = "$rb" ] && cmp -s "$T/a.out" "$T/b.out" && cmp -s "$T/a.msg" "$T/b.msg"; then ok; else
        bad "the executable and nasc run disagree on $f (exit $ra vs $rb)"; cat "$T/a.err" "$T/b.err" >&2; fi
done
grep -qx "./model: nan.idx: element 70 is not a finite number" <(cd "$T" && ./model nan.idx 2>&1) && ok || bad "NaN message"
python3 - "$T" <<'EOP' && ok || bad "the executable does not stream a 64 MB input in bounded memory"
import resource, subprocess, sys
t = sys.argv[1]
n = 0
with subprocess.Popen([t + '/model', t + '/bomb.idx.gz'], stdout=subprocess.PIPE) as p:
    for _ in p.stdout: n += 1
assert p.returncode == 0 and n == 1 << 20, (p.returncode, n)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KB
assert rss < 64 * 1024, rss  # the whole input would be 256 MB of floats
EOP
echo "FAULT bad-data injected=12 survived=$((12 - (FAIL - f0 > 12 ? 12 : FAIL - f0))) lost=0"
finish
