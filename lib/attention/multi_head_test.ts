import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertThrows, maxAbsDiff, naiveAttention, TEST_BACKENDS } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { attentionLayerCost } from "../costs.ts";
import { type Rng, rng } from "../random.ts";
import { initMultiHead, mergeHeads, multiHeadAttention, multiHeadCost, splitHeads } from "./multi_head.ts";
import { attention } from "./scaled_dot_product.ts";

// float32 kernel vs Float64 twin: tokens N(0, 1), weights N(0, 1/fan-in), outputs of order 1.
// Measured worst case 8e-7 (cpu and wasm); 1e-5 leaves room for another summation order.
const TOL = 1e-5;

/** X·W for row-major X [n, m] and W [m, p], in Float64 loops. */
function matmul(x: Float64Array, w: Float64Array, n: number, m: number, p: number): Float64Array {
  const out = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < m; c++) for (let j = 0; j < p; j++) out[i * p + j] += x[i * m + c] * w[c * p + j];
  }
  return out;
}

/** Columns [from, from + width) of a row-major [n, cols] matrix, as a packed [n, width] array. */
function columns(x: Float64Array, n: number, cols: number, from: number, width: number): Float64Array {
  const out = new Float64Array(n * width);
  for (let i = 0; i < n; i++) for (let c = 0; c < width; c++) out[i * width + c] = x[i * cols + from + c];
  return out;
}

/**
 * The slow twin: one sequence through the whole layer in Float64 loops. Projections by loops, then
 * per head h the naive attention on columns h·D … of Q, g·D … of K and g·Dv … of V with g = ⌊h·G/H⌋
 * (G key–value heads, G = H unless grouped), concatenation, output map.
 */
function naiveMultiHead(
  x: Float64Array,
  kv: Float64Array,
  T: number,
  S: number,
  d: number,
  H: number,
  Dv: number,
  w: { wq: Float64Array; wk: Float64Array; wv: Float64Array; wo: Float64Array },
  keep: (i: number, j: number) => boolean,
  G = H,
) {
  const D = d / H;
  const q = matmul(x, w.wq, T, d, d), k = matmul(kv, w.wk, S, d, G * D), v = matmul(kv, w.wv, S, d, G * Dv);
  const concat = new Float64Array(T * H * Dv), weights = new Float64Array(H * T * S); // [T, H·Dv], [H, T, S]
  for (let h = 0; h < H; h++) {
    const g = Math.floor((h * G) / H);
    const head = naiveAttention(
      columns(q, T, d, h * D, D),
      columns(k, S, G * D, g * D, D),
      columns(v, S, G * Dv, g * Dv, Dv),
      T,
      S,
      D,
      Dv,
      keep,
    );
    for (let i = 0; i < T; i++) for (let c = 0; c < Dv; c++) concat[i * H * Dv + h * Dv + c] = head.out[i * Dv + c];
    weights.set(head.w, h * T * S);
  }
  return { out: matmul(concat, w.wo, T, H * Dv, d), weights };
}

/** The weights as Float64 arrays (the exact float32 values the kernel uses). */
function weightValues(w: ReturnType<typeof initMultiHead>) {
  const f = (t: tf.Tensor) => Float64Array.from(t.dataSync());
  return { wq: f(w.wq), wk: f(w.wk), wv: f(w.wv), wo: f(w.wo) };
}

/** A float32 tensor of N(0, 1) numbers and the same numbers in Float64. */
function tokens(r: Rng, shape: number[]): [tf.Tensor, Float64Array] {
  const t = r.tensor(shape);
  return [t, Float64Array.from(t.dataSync())];
}

for (const backend of TEST_BACKENDS) {
  Deno.test(`multiHeadAttention() matches the Float64 loop layer, causal and not, with and without a batch (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("mha-test");
    // [B (0 = no batch axis), T, S (0 = self-attention), d, H, Dv (0 = d/H), causal]
    const cases = [
      [0, 1, 0, 8, 2, 0, false], // T = 1
      [0, 5, 0, 8, 1, 0, false], // H = 1
      [0, 6, 0, 8, 1, 0, true],
      [1, 6, 0, 16, 4, 0, true],
      [1, 6, 0, 16, 4, 0, false],
      [2, 7, 0, 16, 4, 0, false],
      [2, 5, 0, 12, 4, 0, true],
      [2, 4, 6, 16, 4, 0, false], // cross-attention
      [2, 3, 6, 16, 4, 0, true], // cross-attention, queries are the last 3 of 6 positions
      [2, 6, 0, 16, 4, 2, true], // low-rank values: Dv = 2 < D = 4
      [1, 5, 0, 8, 8, 0, false], // H = d: one feature per head
    ] as const;
    for (const [B, T, S0, d, H, dv0, causal] of cases) {
      const S = S0 || T, Dv = dv0 || d / H, batch = B ? [B] : [];
      const w = initMultiHead(d, H, r, dv0 ? { dv: dv0 } : {});
      const [x, xa] = tokens(r, [...batch, T, d]);
      const [kv, kva] = S0 ? tokens(r, [...batch, S, d]) : [undefined, xa];
      const before = tf.memory().numTensors;
      const { output, weights } = multiHeadAttention(x, w, { causal, kv, returnWeights: true });
      assertEquals(output.shape, [...batch, T, d]);
      assertEquals(weights!.shape, [...batch, H, T, S]);
      const out = output.dataSync(), wts = weights!.dataSync();
      const label = `B=${B} T=${T} S=${S} d=${d} H=${H} Dv=${Dv} causal=${causal}`;
      for (let b = 0; b < Math.max(B, 1); b++) {
        const twin = naiveMultiHead(
          xa.subarray(b * T * d, (b + 1) * T * d),
          kva.subarray(b * S * d, (b + 1) * S * d),
          T,
          S,
          d,
          H,
          Dv,
          weightValues(w),
          (i, j) => !causal || j <= i + S - T,
        );
        const errOut = maxAbsDiff(out.subarray(b * T * d, (b + 1) * T * d), twin.out);
        const errW = maxAbsDiff(wts.subarray(b * H * T * S, (b + 1) * H * T * S), twin.weights);
        assert(errOut < TOL && errW < TOL, `${label}, batch ${b}: output error ${errOut}, weights error ${errW}`);
      }
      tf.dispose([output, weights!]);
      assertEquals(tf.memory().numTensors, before, `multiHeadAttention() leaked tensors at ${label}`);
      tf.dispose([w, x, kv]);
    }
  });

  Deno.test(`multiHeadAttention() applies per-sequence masks, zeroes fully masked rows and propagates NaN like the twin (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("mha-mask");
    const [B, T, d, H] = [2, 4, 8, 2];
    const w = initMultiHead(d, H, r);
    const [x, xa] = tokens(r, [B, T, d]);
    // One mask per sequence, [B, 1, T, S]; row 1 of sequence 0 sees no key at all.
    const keepRows = [
      [[1, 1, 0, 1], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 1]],
      [[1, 0, 0, 0], [1, 1, 1, 1], [0, 1, 1, 0], [1, 1, 1, 0]],
    ];
    const mask = tf.tensor4d(keepRows.flat(2), [B, 1, T, T], "bool");
    const before = tf.memory().numTensors;
    const { output, weights } = multiHeadAttention(x, w, { mask, returnWeights: true });
    const out = output.dataSync();
    for (let b = 0; b < B; b++) {
      const twin = naiveMultiHead(
        xa.subarray(b * T * d, (b + 1) * T * d),
        xa.subarray(b * T * d, (b + 1) * T * d),
        T,
        T,
        d,
        H,
        d / H,
        weightValues(w),
        (i, j) => keepRows[b][i][j] === 1,
      );
      assert(maxAbsDiff(out.subarray(b * T * d, (b + 1) * T * d), twin.out) < TOL, `masked output differs, batch ${b}`);
    }
    // The fully masked row: zero weights in every head and a zero output (no NaN, no bias).
    assertEquals(Array.from(out.subarray(d, 2 * d)), new Array(d).fill(0));
    const wa = weights!.arraySync() as number[][][][];
    assertEquals([wa[0][0][1], wa[0][1][1]], [[0, 0, 0, 0], [0, 0, 0, 0]]);
    tf.dispose([output, weights!]);
    assertEquals(tf.memory().numTensors, before, "multiHeadAttention() leaked tensors with a mask");

    // NaN propagates as in the twin: to every query, even under the causal mask, because a masked
    // key still meets its NaN value in A·V (weight 0 × NaN = NaN).
    const pa = Float64Array.from(xa.subarray(0, T * d), (v, i) => i === 2 * d + 3 ? NaN : v);
    const poisoned = tf.tensor2d(Float32Array.from(pa), [T, d]);
    for (const causal of [false, true]) {
      const { output } = multiHeadAttention(poisoned, w, { causal });
      const twin = naiveMultiHead(pa, pa, T, T, d, H, d / H, weightValues(w), (i, j) => !causal || j <= i);
      assert(twin.out.every(Number.isNaN), "the twin spreads NaN to every output");
      assert(output.dataSync().every(Number.isNaN), `NaN did not reach every output (causal=${causal})`);
      output.dispose();
    }
    tf.dispose([w, x, mask, poisoned]);
  });

  Deno.test(`grouped-query and multi-query attention match the Float64 loop layer (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("gqa-test");
    // [B (0 = no batch axis), T, S (0 = self-attention), d, H, G, causal]
    const cases = [
      [0, 5, 0, 16, 4, 1, false], // multi-query
      [0, 5, 0, 16, 4, 2, true],
      [2, 6, 0, 24, 6, 3, true],
      [2, 3, 7, 16, 4, 2, false], // cross-attention
      [1, 4, 0, 16, 4, 4, true], // G = H: plain multi-head
    ] as const;
    for (const [B, T, S0, d, H, G, causal] of cases) {
      const S = S0 || T, batch = B ? [B] : [];
      const w = initMultiHead(d, H, r, { kvHeads: G });
      assertEquals([w.wk.shape, w.wv.shape, w.wo.shape], [[d, (G * d) / H], [d, (G * d) / H], [d, d]]);
      const [x, xa] = tokens(r, [...batch, T, d]);
      const [kv, kva] = S0 ? tokens(r, [...batch, S, d]) : [undefined, xa];
      const before = tf.memory().numTensors;
      const { output, weights } = multiHeadAttention(x, w, { causal, kv, returnWeights: true });
      assertEquals(weights!.shape, [...batch, H, T, S]);
      const out = output.dataSync(), wts = weights!.dataSync();
      const label = `B=${B} T=${T} S=${S} d=${d} H=${H} G=${G} causal=${causal}`;
      for (let b = 0; b < Math.max(B, 1); b++) {
        const twin = naiveMultiHead(
          xa.subarray(b * T * d, (b + 1) * T * d),
          kva.subarray(b * S * d, (b + 1) * S * d),
          T,
          S,
          d,
          H,
          d / H,
          weightValues(w),
          (i, j) => !causal || j <= i + S - T,
          G,
        );
        const errOut = maxAbsDiff(out.subarray(b * T * d, (b + 1) * T * d), twin.out);
        const errW = maxAbsDiff(wts.subarray(b * H * T * S, (b + 1) * H * T * S), twin.weights);
        assert(errOut < TOL && errW < TOL, `${label}, batch ${b}: output error ${errOut}, weights error ${errW}`);
      }
      tf.dispose([output, weights!]);
      assertEquals(tf.memory().numTensors, before, `multiHeadAttention() leaked tensors at ${label}`);
      tf.dispose([w, x, kv]);
    }
  });

  Deno.test(`grouped-query attention equals multi-head attention with each key–value block repeated (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("gqa-repeat");
    const [T, d, H, G] = [6, 16, 4, 2], D = d / H;
    const w = initMultiHead(d, H, r, { kvHeads: G });
    const x = r.tensor([T, d]);
    // Head h of the plain layer gets key–value block ⌊h·G/H⌋ of the grouped one.
    const repeat = (m: tf.Tensor2D) =>
      tf.concat(Array.from({ length: H }, (_, h) => tf.slice(m, [0, Math.floor((h * G) / H) * D], [d, D])), 1);
    const wide = { heads: H, wq: w.wq, wk: repeat(w.wk) as tf.Tensor2D, wv: repeat(w.wv) as tf.Tensor2D, wo: w.wo };
    const grouped = multiHeadAttention(x, w, { causal: true }).output;
    const plain = multiHeadAttention(x, wide, { causal: true }).output;
    assert(maxAbsDiff(grouped.dataSync(), plain.dataSync()) < 1e-6, "GQA differs from MHA with repeated blocks");
    tf.dispose([w, x, wide.wk, wide.wv, grouped, plain]);
  });

  Deno.test(`multiHeadAttention() with one head is single-head attention followed by W_O (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("mha-one-head");
    const w = initMultiHead(6, 1, r);
    const x = r.tensor([2, 5, 6]);
    const { output, weights } = multiHeadAttention(x, w, { causal: true, returnWeights: true });
    const expected = tf.tidy(() => {
      const proj = (m: tf.Tensor2D) => tf.reshape(tf.matMul(tf.reshape(x, [10, 6]), m), [2, 5, -1]);
      const single = attention(proj(w.wq), proj(w.wk), proj(w.wv), { causal: true });
      return { out: tf.reshape(tf.matMul(tf.reshape(single.output, [10, 6]), w.wo), [2, 5, 6]), w: single.weights };
    });
    assert(maxAbsDiff(output.dataSync(), expected.out.dataSync()) < 1e-6);
    assertEquals(weights!.shape, [2, 1, 5, 5]);
    assert(maxAbsDiff(weights!.dataSync(), expected.w.dataSync()) < 1e-6);
    tf.dispose([w, x, output, weights!, expected.out, expected.w]);
  });
}

Deno.test("splitHeads() and mergeHeads() move feature blocks to a head axis and back", async () => {
  await initBackend({ backend: "cpu", print: false });
  const [B, T, d, H] = [2, 5, 12, 3], D = d / H;
  const x = tf.tensor3d(Float32Array.from({ length: B * T * d }, (_, i) => i), [B, T, d]);
  const before = tf.memory().numTensors; // x4 and split4 below are the test's own, disposed before the check
  const split = splitHeads(x, H);
  assertEquals(split.shape, [B, H, T, D]);
  const xs = x.arraySync() as number[][][], ss = split.arraySync() as number[][][][];
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) assertEquals(ss[b][h][t], xs[b][t].slice(h * D, (h + 1) * D));
    }
  }
  const merged = mergeHeads(split);
  assertEquals(merged.shape, [B, T, d]);
  assertEquals(Array.from(merged.dataSync()), Array.from(x.dataSync()));
  // Any number of leading axes: [2, 3, T, d] → [2, 3, H, T, D] and back.
  const x4 = tf.tensor4d(Float32Array.from({ length: 6 * T * d }, (_, i) => i), [2, 3, T, d]);
  const split4 = splitHeads(x4, 4);
  assertEquals(split4.shape, [2, 3, 4, T, 3]);
  const back = mergeHeads(split4);
  assertEquals(Array.from(back.dataSync()), Array.from(x4.dataSync()));
  tf.dispose([split, merged, x4, split4, back]);
  assertEquals(tf.memory().numTensors, before, "splitHeads()/mergeHeads() leaked tensors");

  assertThrows(() => splitHeads(x, 5), RangeError, "Cannot split heads: heads must divide d (12), got 5");
  assertThrows(() => splitHeads(x, 0), RangeError, "Cannot split heads: heads must be a positive integer, got 0");
  assertThrows(() => splitHeads(x, 1.5), RangeError, "heads must be a positive integer, got 1.5");
  assertThrows(
    () => splitHeads(tf.zeros([12]), 3),
    TypeError,
    "Cannot split heads: x must be a tf.Tensor of rank 2 or more ([..., T, d]), got shape [12]",
  );
  assertThrows(
    () => mergeHeads(tf.zeros([5, 12])),
    TypeError,
    "Cannot merge heads: x must be a tf.Tensor of rank 3 or more ([..., H, T, D]), got shape [5,12]",
  );
  x.dispose();
});

Deno.test("initMultiHead() draws seeded N(0, 1/fan-in) weights of the right shapes", async () => {
  await initBackend({ backend: "cpu", print: false });
  const w = initMultiHead(64, 4, rng(7), { dv: 8 });
  assertEquals([w.heads, w.wq.shape, w.wk.shape, w.wv.shape, w.wo.shape], [4, [64, 64], [64, 64], [64, 32], [32, 64]]);
  const variance = (t: tf.Tensor) => Array.from(t.dataSync()).reduce((s, v) => s + v * v, 0) / t.size;
  // 4096 draws: the sample variance is within ±10% of 1/64 with overwhelming probability.
  for (const t of [w.wq, w.wk]) assert(Math.abs(variance(t) * 64 - 1) < 0.1, `variance ${variance(t)}`);
  assert(Math.abs(variance(w.wo) * 32 - 1) < 0.15, `W_O variance ${variance(w.wo)} should be 1/(H·Dv) = 1/32`);
  // Same seed, same weights; the Rng advances, so a second layer from one Rng differs.
  const again = initMultiHead(64, 4, rng(7), { dv: 8 });
  assertEquals(Array.from(again.wv.dataSync()), Array.from(w.wv.dataSync()));
  const r = rng(7);
  const [first, second] = [initMultiHead(8, 2, r), initMultiHead(8, 2, r)];
  assert(maxAbsDiff(first.wq.dataSync(), second.wq.dataSync()) > 0, "two layers from one Rng must differ");
  tf.dispose([w, again, first, second]);

  const fn = "Cannot initialise multi-head attention";
  assertThrows(() => initMultiHead(10, 3, rng(0)), RangeError, `${fn}: heads must divide d (10), got 3`);
  assertThrows(() => initMultiHead(8, 0, rng(0)), RangeError, `${fn}: heads must be a positive integer, got 0`);
  assertThrows(() => initMultiHead(0, 1, rng(0)), RangeError, `${fn}: d must be a positive integer, got 0`);
  assertThrows(() => initMultiHead(8, 2, rng(0), { dv: 0 }), RangeError, `${fn}: dv must be a positive integer, got 0`);
  assertThrows(
    () => initMultiHead(8, 4, rng(0), { kvHeads: 3 }),
    RangeError,
    `${fn}: kvHeads must divide heads (4), got 3`,
  );
  assertThrows(
    () => initMultiHead(8, 4, rng(0), { kvHeads: 0 }),
    RangeError,
    `${fn}: kvHeads must be a positive integer, got 0`,
  );
  assertThrows(
    () => initMultiHead(8, 2, 42 as never),
    TypeError,
    `${fn}: r must be an Rng (from rng(seed)), got number`,
  );
});

Deno.test("multiHeadAttention() names the bad argument and its shape", async () => {
  await initBackend({ backend: "cpu", print: false });
  const r = rng("mha-errors");
  const w = initMultiHead(8, 2, r);
  const x = r.tensor([2, 4, 8]);
  const bad = {
    rank4: tf.zeros([2, 3, 4, 8]),
    narrow: tf.zeros([4, 6]),
    wo: tf.zeros([4, 8]) as tf.Tensor2D,
    wv: tf.zeros([8, 5]) as tf.Tensor2D,
    kv2: tf.zeros([6, 8]),
    kvBatch: tf.zeros([3, 6, 8]),
    kvShort: tf.zeros([2, 3, 8]),
  };
  const before = tf.memory().numTensors;
  const fn = "Cannot compute multi-head attention";
  assertThrows(
    () => multiHeadAttention(bad.rank4, w),
    TypeError,
    `${fn}: x must be a tf.Tensor of shape [T, d] or [B, T, d], got shape [2,3,4,8]`,
  );
  assertThrows(
    () => multiHeadAttention(bad.narrow, w),
    TypeError,
    `${fn}: x must have d = 8 features (the rows of w.wq), got shape [4,6]`,
  );
  assertThrows(() => multiHeadAttention(x, { ...w, heads: 3 }), RangeError, `${fn}: w.heads must divide d (8), got 3`);
  assertThrows(
    () => multiHeadAttention(x, { ...w, wo: bad.wo }),
    TypeError,
    `${fn}: w.wo must have shape [8,8], got shape [4,8]`,
  );
  assertThrows(
    () => multiHeadAttention(x, { ...w, wv: bad.wv }),
    TypeError,
    `${fn}: w.wv must have shape [8, G·Dv] with G = 2, got shape [8,5]`,
  );
  assertThrows(
    () => multiHeadAttention(x, { ...w, kvHeads: 3 }),
    RangeError,
    `${fn}: w.kvHeads must divide w.heads (2), got 3`,
  );
  assertThrows(
    () => multiHeadAttention(x, { ...w, kvHeads: 1 }),
    TypeError,
    `${fn}: w.wk must have shape [8,4], got shape [8,8]`,
  );
  assertThrows(
    () => multiHeadAttention(x, { ...w, wk: undefined as never }),
    TypeError,
    `${fn}: w.wk must be a rank-2 tf.Tensor, got undefined`,
  );
  assertThrows(
    () => multiHeadAttention(x, w, { kv: bad.kv2 }),
    TypeError,
    `${fn}: kv must have shape [B, S, 8] like x ([2,4,8]), got shape [6,8]`,
  );
  assertThrows(
    () => multiHeadAttention(x, w, { kv: bad.kvBatch }),
    TypeError,
    `${fn}: kv must have the batch size of x (2), got shape [3,6,8]`,
  );
  // A causal cross-attention with fewer keys than queries: attention()'s message, and nothing leaks.
  assertThrows(
    () => multiHeadAttention(x, w, { kv: bad.kvShort, causal: true }),
    RangeError,
    "a causal mask needs at least as many keys as queries, got T=4, S=3",
  );
  assertEquals(tf.memory().numTensors, before, "a failed call leaked tensors");
  tf.dispose([w, x, bad]);
});

Deno.test("multiHeadCost() matches a hand count and attentionLayerCost() when Dv = d/H", () => {
  // T = 10 queries, S = 7 keys, d = 12, H = 3 heads (D = 4), Dv = 2: multiply–adds by hand.
  const macs = {
    q: 10 * 12 * 12, // X·W_Q: T rows × d × d
    k: 7 * 12 * 12, // X_kv·W_K: S × d × d
    v: 7 * 12 * 6, // X_kv·W_V: S × d × H·Dv
    scores: 3 * 10 * 7 * 4, // H heads × T × S × D
    mix: 3 * 10 * 7 * 2, // H × T × S × Dv
    out: 10 * 6 * 12, // concat·W_O: T × H·Dv × d
  };
  const hand = Object.values(macs).reduce((a, b) => a + b, 0); // 4932
  assertEquals(hand, 4932);
  assertEquals(multiHeadCost(10, 12, 3, { dv: 2, S: 7 }), {
    params: BigInt(144 + 144 + 72 + 72), // W_Q, W_K [12, 12]; W_V [12, 6]; W_O [6, 12]
    flops: BigInt(2 * hand),
  });
  // Low-rank values cost less than the full layer.
  assert(multiHeadCost(10, 12, 3, { dv: 2 }).flops < multiHeadCost(10, 12, 3).flops);
  // With Dv = d/H and S = T it is the single-formula count 4d², 8Td² + 4T²d, whatever H.
  for (const [T, d, H] of [[1, 1, 1], [7, 12, 3], [7, 12, 12], [512, 768, 12], [2048, 12288, 96]]) {
    assertEquals(multiHeadCost(T, d, H), attentionLayerCost(T, d), `T=${T} d=${d} H=${H}`);
    assertEquals(multiHeadCost(BigInt(T), BigInt(d), BigInt(H), { dv: d / H, S: T }), attentionLayerCost(T, d));
  }
  // GPT-3 175B (references.md): 4d² = 6.04e8 parameters, 2.68e12 FLOPs per layer at T = 2048.
  const gpt3 = multiHeadCost(2048, 12288, 96);
  assertEquals(gpt3.params, 603979776n);
  assertEquals(Number(gpt3.flops).toPrecision(3), "2.68e+12");

  // Grouped-query (G = 3 of H = 6) and multi-query (G = 1): T = 10, S = 7, d = 12, D = Dv = 2, by hand.
  const gqa = {
    q: 10 * 12 * 12,
    k: 7 * 12 * 6,
    v: 7 * 12 * 6,
    scores: 6 * 10 * 7 * 2,
    mix: 6 * 10 * 7 * 2,
    out: 10 * 12 * 12,
  };
  assertEquals(multiHeadCost(10, 12, 6, { S: 7, kvHeads: 3 }), {
    params: BigInt(144 + 72 + 72 + 144),
    flops: BigInt(2 * Object.values(gqa).reduce((a, b) => a + b, 0)),
  });
  assertEquals(multiHeadCost(10, 12, 6, { kvHeads: 1 }).params, BigInt(144 + 24 + 24 + 144));
  assertEquals(multiHeadCost(10, 12, 6, { kvHeads: 6 }), multiHeadCost(10, 12, 6));

  const fn = "Cannot count a multi-head attention layer";
  assertThrows(
    () => multiHeadCost(10, 12, 6, { kvHeads: 4 }),
    RangeError,
    `${fn}: kvHeads must divide heads (6), got 4`,
  );
  assertThrows(() => multiHeadCost(10, 12, 5), RangeError, `${fn}: heads must divide d (12), got 5`);
  assertThrows(() => multiHeadCost(0, 12, 3), RangeError, `${fn}: T must be a positive integer, got 0`);
  assertThrows(() => multiHeadCost(10, 12, 3, { dv: 0 }), RangeError, `${fn}: dv must be a positive integer, got 0`);
  assertThrows(() => multiHeadCost(10, 12, 3, { S: 1.5 }), RangeError, `${fn}: S must be a positive integer, got 1.5`);
});
