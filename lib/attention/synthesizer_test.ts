import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertNotEqual, assertThrows, maxAbsDiff, TEST_BACKENDS } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { rng } from "../random.ts";
import { initSynthesizer, synthesizerAttention, type SynthesizerWeights } from "./synthesizer.ts";

const TOL = 1e-5; // float32 kernel vs float64 twin, values of order 1

type Twin =
  | { kind: "dense"; w1: number[][]; b1: number[]; w2: number[][]; b2: number[] }
  | { kind: "random"; r: number[][] };

/** The slow twin: Float64 loops over one [T, d] slice (x and v as rows). */
function naiveSynthesizer(x: number[][], v: number[][], w: Twin, causal: boolean) {
  const T = x.length, Dv = v[0].length;
  const out: number[][] = [], weights: number[][] = [];
  for (let i = 0; i < T; i++) {
    let logits: number[];
    if (w.kind === "dense") {
      const hidden = w.b1.length;
      const h = new Array(hidden).fill(0);
      for (let c = 0; c < hidden; c++) {
        let s = w.b1[c];
        for (let e = 0; e < x[i].length; e++) s += x[i][e] * w.w1[e][c];
        h[c] = Math.max(0, s);
      }
      logits = [];
      for (let j = 0; j < T; j++) {
        let s = w.b2[j];
        for (let c = 0; c < hidden; c++) s += h[c] * w.w2[c][j];
        logits.push(s);
      }
    } else {
      logits = [...w.r[i]];
    }
    const visible = logits.map((_, j) => !causal || j <= i);
    const max = Math.max(...logits.filter((_, j) => visible[j]));
    const e = logits.map((s, j) => visible[j] ? Math.exp(s - max) : 0);
    const sum = e.reduce((a, b) => a + b, 0);
    weights.push(e.map((a) => a / sum));
    const o = new Array(Dv).fill(0);
    for (let j = 0; j < T; j++) for (let c = 0; c < Dv; c++) o[c] += weights[i][j] * v[j][c];
    out.push(o);
  }
  return { out, weights };
}

/** Weights with nonzero biases (initSynthesizer's are 0), as tensors and as the twin's arrays. */
function makeWeights(kind: "dense" | "random", d: number, T: number, hidden: number, seed: string) {
  const r = rng(seed);
  const tensors = initSynthesizer(d, T, r, { kind, hidden });
  if (tensors.kind === "dense") {
    tf.dispose([tensors.b1, tensors.b2]);
    tensors.b1 = r.tensor([hidden], 0.5) as tf.Tensor1D;
    tensors.b2 = r.tensor([T], 0.5) as tf.Tensor1D;
    const twin: Twin = {
      kind: "dense",
      w1: tensors.w1.arraySync(),
      b1: tensors.b1.arraySync(),
      w2: tensors.w2.arraySync(),
      b2: tensors.b2.arraySync(),
    };
    return { tensors, twin };
  }
  return { tensors, twin: { kind: "random", r: tensors.r.arraySync() } as Twin };
}

for (const backend of TEST_BACKENDS) {
  Deno.test(`synthesizerAttention() matches the Float64 loop, dense and random, causal or not (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("synth-test");
    for (const kind of ["dense", "random"] as const) {
      for (const [T, d, hidden, Dv] of [[1, 4, 3, 2], [7, 8, 16, 5], [5, 6, 2, 3]]) {
        for (const causal of [false, true]) {
          const { tensors, twin } = makeWeights(kind, d, T, hidden, `w-${kind}-${T}`);
          const x = r.tensor([T, d]), v = r.tensor([T, Dv]);
          const before = tf.memory().numTensors;
          const { output, weights } = synthesizerAttention(x, v, tensors, { causal });
          assertEquals(tf.memory().numTensors, before + 2, "synthesizerAttention() leaked tensors");
          const ref = naiveSynthesizer(x.arraySync() as number[][], v.arraySync() as number[][], twin, causal);
          const what = `${kind} T=${T} causal=${causal}`;
          assertEquals([output.shape, weights.shape], [[T, Dv], [T, T]]);
          assert(maxAbsDiff(output.dataSync(), ref.out.flat()) < TOL, `${what}: output`);
          assert(maxAbsDiff(weights.dataSync(), ref.weights.flat()) < TOL, `${what}: weights`);
          tf.dispose([x, v, output, weights, tensors]);
        }
      }
    }
  });

  Deno.test(`synthesizerAttention() works on batches: each slice is its own sequence (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("synth-batch");
    const [B, H, T, d, hidden, Dv] = [2, 3, 6, 4, 5, 3];
    for (const kind of ["dense", "random"] as const) {
      const { tensors, twin } = makeWeights(kind, d, T, hidden, `wb-${kind}`);
      const x = r.tensor([B, H, T, d]), v = r.tensor([B, H, T, Dv]);
      const { output, weights } = synthesizerAttention(x, v, tensors, { causal: true });
      assertEquals(output.shape, [B, H, T, Dv]);
      const [xa, va, oa] = [x, v, output].map((t) => t.arraySync() as number[][][][]);
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < H; h++) {
          const ref = naiveSynthesizer(xa[b][h], va[b][h], twin, true);
          assert(maxAbsDiff(oa[b][h].flat(), ref.out.flat()) < TOL, `${kind} slice ${b},${h}`);
        }
      }
      tf.dispose([x, v, output, weights, tensors]);
    }
  });
}

Deno.test("causal Synthesizer attention leaks nothing from later tokens; random weights ignore the input", async () => {
  await initBackend({ backend: "cpu", print: false });
  const r = rng("synth-leak");
  const [T, d, Dv] = [8, 6, 4];
  const dense = initSynthesizer(d, T, r, { kind: "dense", hidden: 12 });
  const random = initSynthesizer(d, T, r, { kind: "random" });
  const xa = r.normalArray(T * d), va = r.normalArray(T * Dv);
  const later = (a: Float64Array, w: number) => a.map((x, e) => e >= 5 * w ? x + 5 * r.normal() : x);
  const x = tf.tensor2d(Float32Array.from(xa), [T, d]), v = tf.tensor2d(Float32Array.from(va), [T, Dv]);
  const x2 = tf.tensor2d(Float32Array.from(later(xa, d)), [T, d]);
  const v2 = tf.tensor2d(Float32Array.from(later(va, Dv)), [T, Dv]);
  for (const w of [dense, random]) {
    const a = synthesizerAttention(x, v, w, { causal: true }), b = synthesizerAttention(x2, v2, w, { causal: true });
    // Tokens 5…7 changed: rows 0…4 are bit-for-bit the same, the others differ.
    assertEquals(
      Array.from(b.output.dataSync().subarray(0, 5 * Dv)),
      Array.from(a.output.dataSync().subarray(0, 5 * Dv)),
    );
    assertNotEqual(Array.from(b.output.dataSync()), Array.from(a.output.dataSync()));
    tf.dispose([a.output, a.weights, b.output, b.weights]);
  }
  // Random: the weights do not depend on x at all.
  const a = synthesizerAttention(x, v, random), b = synthesizerAttention(x2, v, random);
  assertEquals(Array.from(a.weights.dataSync()), Array.from(b.weights.dataSync()));
  tf.dispose([a.output, a.weights, b.output, b.weights, x, v, x2, v2, dense, random]);
});

Deno.test("synthesizerAttention() survives huge logits and keeps NaN in its own row", async () => {
  await initBackend({ backend: "cpu", print: false });
  const v = tf.tensor2d([[1], [5], [9]]);
  // Huge random logits: softmax is one-hot on the largest, no overflow.
  const huge: SynthesizerWeights = { kind: "random", r: tf.tensor2d([[1e4, 0, -1e4], [0, 3e4, 0], [0, 0, 1e30]]) };
  const { output, weights } = synthesizerAttention(tf.zeros([3, 2]), v, huge);
  assertEquals(Array.from(output.dataSync()), [1, 5, 9]);
  // Dense: a NaN token spoils its own row of weights only (B_i depends on x_i alone).
  const dense = initSynthesizer(2, 3, rng("nan"), { kind: "dense" });
  const x = tf.tensor2d([[1, 0], [NaN, 0], [0, 1]]);
  const res = synthesizerAttention(x, v, dense);
  const out = res.output.dataSync();
  assert(Number.isFinite(out[0]) && Number.isNaN(out[1]) && Number.isFinite(out[2]), `got ${out}`);
  tf.dispose([v, huge, output, weights, dense, x, res.output, res.weights]);
});

Deno.test("initSynthesizer() is seeded and scaled by 1/√fan-in", async () => {
  await initBackend({ backend: "cpu", print: false });
  const a = initSynthesizer(64, 32, rng(5), { kind: "dense", hidden: 256 });
  const b = initSynthesizer(64, 32, rng(5), { kind: "dense", hidden: 256 });
  assert(a.kind === "dense" && b.kind === "dense");
  assertEquals(Array.from(a.w1.dataSync()), Array.from(b.w1.dataSync()));
  assertEquals([a.w1.shape, a.b1.shape, a.w2.shape, a.b2.shape], [[64, 256], [256], [256, 32], [32]]);
  // std of 16 384 normal draws: within 5% of 1/√64 and 1/√256.
  const std = (t: tf.Tensor) => Math.sqrt(Array.from(t.dataSync()).reduce((s, x) => s + x * x, 0) / t.size);
  assert(Math.abs(std(a.w1) * 8 - 1) < 0.05, `w1 std ${std(a.w1)}`);
  assert(Math.abs(std(a.w2) * 16 - 1) < 0.05, `w2 std ${std(a.w2)}`);
  const c = initSynthesizer(64, 32, rng(6), { kind: "random" });
  assert(c.kind === "random");
  assertEquals(c.r.shape, [32, 32]);
  tf.dispose([a, b, c]);
});

Deno.test("Synthesizer functions name bad input", async () => {
  await initBackend({ backend: "cpu", print: false });
  const r = rng(0);
  assertThrows(
    () => initSynthesizer(4, 0, r, { kind: "dense" }),
    RangeError,
    "Cannot initialise a Synthesizer: T must be a positive integer, got 0",
  );
  assertThrows(
    () => initSynthesizer(4, 3, r, { kind: "conv" as never }),
    RangeError,
    'kind must be "dense" or "random", got "conv"',
  );
  assertThrows(() => initSynthesizer(4, 3, Math.random as never, { kind: "random" }), TypeError, "r must be an Rng");
  const w = initSynthesizer(4, 3, r, { kind: "dense" });
  const msg = "Cannot compute Synthesizer attention: ";
  assertThrows(
    () => synthesizerAttention(tf.zeros([5, 4]), tf.zeros([5, 2]), w),
    RangeError,
    `${msg}the weights were made for T=3 tokens, got x with T=5`,
  );
  assertThrows(
    () => synthesizerAttention(tf.zeros([3, 6]), tf.zeros([3, 2]), w),
    TypeError,
    `${msg}w1 must have 6 rows (x's width), got shape [4,4]`,
  );
  assertThrows(
    () => synthesizerAttention(tf.zeros([3, 4]), tf.zeros([4, 2]), w),
    TypeError,
    `${msg}values must have shape [3,Dv] like x [3,4], got [4,2]`,
  );
  assertThrows(
    () => synthesizerAttention(tf.zeros([3, 4]), tf.zeros([3, 2]), { kind: "x" } as never),
    RangeError,
    `${msg}weights.kind must be "dense" or "random", got "x"`,
  );
  assertThrows(
    () => synthesizerAttention(tf.zeros([3]), tf.zeros([3, 2]), w),
    TypeError,
    `${msg}x must be a tf.Tensor of rank 2 or more`,
  );
  tf.dispose(w);
});
