// ort_check.js: the ONNX Runtime side of the ONNX export test (tests/cli/onnx.sh).
//
//   node ort_check.js prep IMAGES.idx[.gz] N OUT.f32
//       the first N images as raw float32 (uint8 / 255, as nasc run scales
//       them), so nasc run and ONNX Runtime read the very same floats;
//   node ort_check.js compare MODEL.onnx IN.f32 SHAPE ARGMAX.txt LOGITS.txt TOL
//       runs the model in ONNX Runtime on IN.f32 (SHAPE: the sample shape,
//       e.g. 1,28,28) and compares with `nasc run` (ARGMAX.txt: its class
//       per line; LOGITS.txt: its --logits lines).  Exit 0 only if every
//       argmax agrees and every logit is within TOL; prints a summary.
'use strict';
const fs = require('fs');
const zlib = require('zlib');

function fail(msg) {
  console.error('ort_check: ' + msg);
  process.exit(1);
}

function prep(idxPath, n, outPath) {
  let b = fs.readFileSync(idxPath);
  if (b[0] === 0x1f && b[1] === 0x8b) b = zlib.gunzipSync(b);
  if (b[0] || b[1] || b[2] !== 0x08) fail(idxPath + ': not a uint8 IDX file');
  const rank = b[3];
  const dims = [];
  for (let i = 0; i < rank; i++) dims.push(b.readUInt32BE(4 + 4 * i));
  const per = dims.slice(1).reduce((a, d) => a * d, 1);
  const count = Math.min(n, dims[0]);
  const x = new Float32Array(count * per);
  const off = 4 + 4 * rank;
  for (let i = 0; i < x.length; i++) x[i] = b[off + i] / 255;
  fs.writeFileSync(outPath, Buffer.from(x.buffer));
  console.log(`${count} images of ${per} values`);
}

function lines(path) {
  return fs.readFileSync(path, 'utf8').split('\n').filter((l) => l.length);
}

async function compare(model, inPath, shape, argmaxPath, logitsPath, tol) {
  const ort = require('onnxruntime-node');
  const dims = shape.split(',').map(Number);
  const per = dims.reduce((a, d) => a * d, 1);
  const raw = fs.readFileSync(inPath);
  const x = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
  const n = x.length / per;
  const sess = await ort.InferenceSession.create(model);
  const out = await sess.run({ input: new ort.Tensor('float32', x, [n, ...dims]) });
  const y = out.output.data;
  const k = y.length / n;
  const want = lines(argmaxPath).map(Number);
  const logits = lines(logitsPath).map((l) => l.split(' ').map(Number));
  if (want.length !== n || logits.length !== n) fail(`nasc run printed ${want.length} rows, the input holds ${n}`);
  let bad = 0, worst = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (y[i * k + j] > y[i * k + best]) best = j;
    if (best !== want[i]) bad++;
    if (logits[i].length !== k) fail(`row ${i}: nasc run printed ${logits[i].length} logits, ONNX Runtime ${k}`);
    for (let j = 0; j < k; j++) worst = Math.max(worst, Math.abs(y[i * k + j] - logits[i][j]));
  }
  console.log(`${n} samples, ${k} outputs: ${bad} argmax mismatches, max |logit diff| ${worst.toExponential(2)}`);
  if (bad || !(worst <= tol)) process.exit(1);
}

const [mode, ...a] = process.argv.slice(2);
if (mode === 'prep' && a.length === 3) prep(a[0], Number(a[1]), a[2]);
else if (mode === 'compare' && a.length === 6)
  compare(a[0], a[1], a[2], a[3], a[4], Number(a[5])).catch((e) => fail(String(e && e.message ? e.message : e)));
else fail('usage: ort_check.js prep IDX N OUT.f32 | compare MODEL IN.f32 SHAPE ARGMAX LOGITS TOL');
