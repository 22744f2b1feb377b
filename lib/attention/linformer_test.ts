import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertThrows, maxAbsDiff, naiveAttention, TEST_BACKENDS } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { type Rng, rng } from "../random.ts";
import { linformerAttention, linformerProjections, type LinformerSharing } from "./linformer.ts";
import { attention } from "./scaled_dot_product.ts";

// float32 kernel vs Float64 twin: inputs N(0, 1), E and F N(0, 1/k). Measured worst case 4e-7
// (cpu and wasm); 1e-5 leaves room for another summation order.
const TOL = 1e-5;

/** E·X for row-major E [k, S] and X [S, c], in Float64 loops. */
function project(E: Float64Array, x: Float64Array, k: number, S: number, c: number): Float64Array {
  const out = new Float64Array(k * c);
  for (let a = 0; a < k; a++) {
    for (let j = 0; j < S; j++) for (let f = 0; f < c; f++) out[a * c + f] += E[a * S + j] * x[j * c + f];
  }
  return out;
}

/** The slow twin: project keys and values along the sequence by loops, then the naive attention. */
function naiveLinformer(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  E: Float64Array,
  F: Float64Array,
  [T, S, D, Dv, kk]: readonly number[],
  scale = 1 / Math.sqrt(D),
): Float64Array {
  return naiveAttention(q, project(E, k, kk, S, D), project(F, v, kk, S, Dv), T, kk, D, Dv, () => true, scale).out;
}

/** A float32 tensor of N(0, 1) numbers and the same numbers in Float64. */
function normal(r: Rng, shape: number[]): [tf.Tensor, Float64Array] {
  const t = r.tensor(shape);
  return [t, Float64Array.from(t.dataSync())];
}

const values = (t: tf.Tensor) => Float64Array.from(t.dataSync());

for (const backend of TEST_BACKENDS) {
  Deno.test(`linformerAttention() matches the Float64 loop (project, then attend) (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("linformer-test");
    // [batch shape, T, S, D, Dv, k, scale (0 = default)]
    const cases = [
      [[], 5, 9, 4, 3, 3, 0],
      [[], 1, 6, 4, 4, 2, 0], // T = 1
      [[], 4, 7, 4, 2, 1, 0], // k = 1: one projected key, so out = F·V in every row
      [[2], 1, 8, 4, 4, 3, 0.7],
      [[2, 3], 4, 8, 8, 6, 5, 0],
      [[2, 3], 6, 16, 8, 8, 16, 0], // k = S
    ] as const;
    for (const [batch, T, S, D, Dv, kk, scale] of cases) {
      const p = linformerProjections(S, kk, r); // independent E and F
      const { E, F } = p.get(0, 0);
      const [q, qa] = normal(r, [...batch, T, D]), [k, ka] = normal(r, [...batch, S, D]);
      const [v, va] = normal(r, [...batch, S, Dv]);
      const before = tf.memory().numTensors;
      const out = linformerAttention(q, k, v, E, F, scale ? { scale } : {});
      assertEquals(out.shape, [...batch, T, Dv]);
      assertEquals(tf.memory().numTensors, before + 1, "linformerAttention() leaked tensors");
      const o = out.dataSync(), n = batch.reduce((a, b) => a * b, 1), dims = [T, S, D, Dv, kk];
      for (let b = 0; b < n; b++) {
        const twin = naiveLinformer(
          qa.subarray(b * T * D, (b + 1) * T * D),
          ka.subarray(b * S * D, (b + 1) * S * D),
          va.subarray(b * S * Dv, (b + 1) * S * Dv),
          values(E),
          values(F),
          dims,
          scale || undefined,
        );
        const err = maxAbsDiff(o.subarray(b * T * Dv, (b + 1) * T * Dv), twin);
        assert(err < TOL, `batch [${batch}] slice ${b}, T=${T} S=${S} k=${kk}: error ${err}`);
      }
      if (kk === 1) {
        const fv = project(values(F), va.subarray(0, S * Dv), 1, S, Dv); // [1, Dv]
        for (let i = 0; i < T; i++) assert(maxAbsDiff(o.subarray(i * Dv, (i + 1) * Dv), fv) < TOL, "k = 1: out ≠ F·V");
      }
      tf.dispose([q, k, v, out]);
      p.dispose();
    }
  });

  Deno.test(`linformerAttention() with k = S and E = F = I (or a permutation) is exact attention (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("linformer-identity");
    const [B, T, S, D] = [2, 5, 6, 4];
    const q = r.tensor([B, T, D]), k = r.tensor([B, S, D]), v = r.tensor([B, S, D]);
    const I = tf.eye(S);
    const perm = [3, 0, 5, 1, 4, 2];
    const P = tf.tensor2d(perm.flatMap((j) => Array.from({ length: S }, (_, c) => c === j ? 1 : 0)), [S, S]);
    const exact = attention(q, k, v);
    // Attention does not depend on the order of the keys, so permuting keys and values together changes nothing.
    for (const [name, M] of [["identity", I], ["permutation", P]] as const) {
      const out = linformerAttention(q, k, v, M, M);
      const err = maxAbsDiff(out.dataSync(), exact.output.dataSync());
      assert(err < 1e-6, `${name}: ${err}`);
      out.dispose();
    }
    // T = 1 as well.
    const q1 = tf.slice(q, [0, 2, 0], [B, 1, D]);
    const one = linformerAttention(q1, k, v, I, I), exactOne = attention(q1, k, v);
    assert(maxAbsDiff(one.dataSync(), exactOne.output.dataSync()) < 1e-6);
    tf.dispose([q, k, v, I, P, exact.output, exact.weights, q1, one, exactOne.output, exactOne.weights]);
  });
}

Deno.test("linformerAttention() spreads NaN to every query: each projected row mixes all positions", async () => {
  await initBackend({ backend: "cpu", print: false });
  const r = rng("linformer-nan");
  const [T, S, D, Dv] = [3, 6, 4, 2];
  const q = r.tensor([T, D]), k = r.tensor([S, D]), v = r.tensor([S, Dv]);
  const nanAt = (t: tf.Tensor, at: number) =>
    tf.tensor2d(Float32Array.from(t.dataSync(), (x, i) => i === at ? NaN : x), t.shape as [number, number]);
  const badKey = nanAt(k, 3 * D + 1), badValue = nanAt(v, 4 * Dv + 1); // token 3's key, token 4's value feature 1
  const p = linformerProjections(S, 2, r);
  const { E, F } = p.get(0, 0);
  // Exact causal attention would keep queries before token 3 finite; here every query meets it.
  const viaKey = linformerAttention(q, badKey, v, E, F).dataSync();
  assert(viaKey.every(Number.isNaN), "a NaN key should reach every output");
  const viaValue = linformerAttention(q, k, badValue, E, F).dataSync();
  for (let i = 0; i < T; i++) {
    assert(Number.isFinite(viaValue[i * Dv]) && Number.isNaN(viaValue[i * Dv + 1]), `row ${i}: only feature 1 is NaN`);
  }
  tf.dispose([q, k, v, badKey, badValue]);
  p.dispose();
});

Deno.test("linformerAttention() refuses causal masks and names bad shapes", async () => {
  await initBackend({ backend: "cpu", print: false });
  const r = rng("linformer-errors");
  const t = {
    q: r.tensor([2, 5, 8]),
    k: r.tensor([2, 10, 8]),
    v: r.tensor([2, 10, 6]),
    E: r.tensor([4, 10]),
    F: r.tensor([3, 10]),
    E9: r.tensor([4, 9]),
    k4: r.tensor([2, 10, 4]),
    v9: r.tensor([2, 9, 6]),
    q3: r.tensor([3, 5, 8]),
    vec: r.tensor([8]),
  };
  const before = tf.memory().numTensors;
  const fn = "Cannot compute Linformer attention";
  assertThrows(
    () => linformerAttention(t.q, t.k, t.v, t.E, t.E, { causal: true }),
    RangeError,
    `${fn}: causal must be false: E and F mix all S key positions into every projected row, so any query would see future tokens`,
  );
  assertThrows(
    () => linformerAttention(t.q, t.k, t.v, t.E9, t.E9),
    TypeError,
    `${fn}: E must have shape [k, S] with S = 10 (the keys' length), got shape [4,9]`,
  );
  assertThrows(
    () => linformerAttention(t.q, t.k, t.v, t.E, t.F),
    TypeError,
    `${fn}: F must have the same shape as E ([4,10]), got shape [3,10]`,
  );
  assertThrows(
    () => linformerAttention(t.q, t.k, t.v, t.E, null as never),
    TypeError,
    `${fn}: F must have the same shape as E ([4,10]), got null`,
  );
  assertThrows(
    () => linformerAttention(t.q, t.k4, t.v, t.E, t.E),
    TypeError,
    `${fn}: keys must have the same last dimension as queries (8), got shape [2,10,4]`,
  );
  assertThrows(
    () => linformerAttention(t.q, t.k, t.v9, t.E, t.E),
    TypeError,
    `${fn}: values must have as many rows as keys (10), got shape [2,9,6]`,
  );
  assertThrows(
    () => linformerAttention(t.q3, t.k, t.v, t.E, t.E),
    TypeError,
    `${fn}: queries, keys and values must share batch dimensions, got [3,5,8], [2,10,8], [2,10,6]`,
  );
  assertThrows(
    () => linformerAttention(t.vec, t.k, t.v, t.E, t.E),
    TypeError,
    `${fn}: queries must be a tf.Tensor of rank 2 or more ([..., T, D]), got shape [8]`,
  );
  assertThrows(
    () => linformerAttention(t.q, t.k, t.v, t.E, t.E, { scale: Infinity }),
    RangeError,
    `${fn}: scale must be a finite number, got Infinity`,
  );
  assertEquals(tf.memory().numTensors, before, "a refused call made tensors");
  tf.dispose(Object.values(t));
});

Deno.test("linformerProjections() shares matrices as the paper counts: 288 / 24 / 12 / 1 for 12 layers × 12 heads", async () => {
  await initBackend({ backend: "cpu", print: false });
  const counts: Record<LinformerSharing, number> = { "none": 288, "headwise": 24, "key-value": 12, "layerwise": 1 };
  for (const [sharing, count] of Object.entries(counts) as [LinformerSharing, number][]) {
    const before = tf.memory().numTensors;
    const p = linformerProjections(8, 2, rng(sharing), { sharing, heads: 12, layers: 12 });
    assertEquals([p.count, p.matrices.length, tf.memory().numTensors - before], [count, count, count]);
    // Every matrix is used, and (layer, head) picks the sharing pattern.
    const used = new Set<tf.Tensor>();
    for (let l = 0; l < 12; l++) for (let h = 0; h < 12; h++) used.add(p.get(l, h).E).add(p.get(l, h).F);
    assertEquals(used.size, count, `${sharing}: matrices in use`);
    const [a, sameLayer, otherLayer] = [p.get(4, 2), p.get(4, 9), p.get(7, 2)];
    assertEquals(
      [a.E === a.F, a.E === sameLayer.E, a.E === otherLayer.E],
      {
        "none": [false, false, false],
        "headwise": [false, true, false],
        "key-value": [true, true, false],
        "layerwise": [true, true, true],
      }[sharing],
      sharing,
    );
    assertEquals(a.E.shape, [2, 8]);
    p.dispose();
    assertEquals(tf.memory().numTensors, before, `${sharing}: dispose() left tensors`);
  }
  // Defaults: one layer, one head, no sharing — an E and an F.
  const p = linformerProjections(8, 2, rng(0));
  assertEquals([p.count, p.sharing, p.heads, p.layers], [2, "none", 1, 1]);
  assertThrows(
    () => p.get(1, 0),
    RangeError,
    "Cannot get Linformer projections: layer must be an integer in [0, 1), got 1",
  );
  assertThrows(() => p.get(0, -1), RangeError, "head must be an integer in [0, 1), got -1");
  p.dispose();
});

Deno.test("linformerProjections() draws seeded N(0, 1/k) entries and checks its arguments", async () => {
  await initBackend({ backend: "cpu", print: false });
  const p = linformerProjections(256, 64, rng("jl"), { sharing: "key-value" });
  const e = values(p.matrices[0]);
  const mean = e.reduce((s, x) => s + x, 0) / e.length;
  const variance = e.reduce((s, x) => s + x * x, 0) / e.length;
  // 16384 draws: mean within ±4 standard errors (4/√16384/8 ≈ 0.004), variance within ±5% of 1/64.
  assert(Math.abs(mean) < 0.004 && Math.abs(variance * 64 - 1) < 0.05, `mean ${mean}, variance ${variance}`);
  // JL scaling: ‖E·x‖² ≈ ‖x‖² (for k = 64, within ±40% at ±3.2 standard deviations √(2/k)).
  const x = rng("jl-x").normalArray(256);
  const ex = project(e, x, 64, 256, 1);
  const ratio = ex.reduce((s, y) => s + y * y, 0) / x.reduce((s, y) => s + y * y, 0);
  assert(Math.abs(ratio - 1) < 0.4, `‖Ex‖²/‖x‖² = ${ratio}`);
  // The same seed gives the same matrices; the Rng advances between calls.
  const again = linformerProjections(256, 64, rng("jl"), { sharing: "key-value" });
  assertEquals(Array.from(again.matrices[0].dataSync()), Array.from(p.matrices[0].dataSync()));
  const r = rng("jl");
  const [first, second] = [linformerProjections(4, 2, r), linformerProjections(4, 2, r)];
  assert(maxAbsDiff(first.matrices[0].dataSync(), second.matrices[0].dataSync()) > 0, "the Rng must advance");
  for (const q of [p, again, first, second]) q.dispose();

  const fn = "Cannot draw Linformer projections";
  assertThrows(() => linformerProjections(8, 9, rng(0)), RangeError, `${fn}: k must be at most S (8), got 9`);
  assertThrows(() => linformerProjections(0, 1, rng(0)), RangeError, `${fn}: S must be a positive integer, got 0`);
  assertThrows(
    () => linformerProjections(8, 2, rng(0), { heads: 2.5 }),
    RangeError,
    `${fn}: heads must be a positive integer, got 2.5`,
  );
  assertThrows(
    () => linformerProjections(8, 2, rng(0), { sharing: "kv" as never }),
    RangeError,
    `${fn}: sharing must be one of "none", "headwise", "key-value", "layerwise", got "kv"`,
  );
  assertThrows(() => linformerProjections(8, 2, "seed" as never), TypeError, `${fn}: r must be an Rng`);
});

/**
 * Queries N(0, 1); keys and values drift slowly along the sequence (AR(1): x_j = 0.98·x_{j−1} + 0.2·ε_j,
 * stationary variance ≈ 1), so every row of the attention matrix is a smooth function of the key
 * position and the matrix is close to low rank (measured once with numpy at T = S = 256, 4 seeds:
 * the top 8 singular values hold 91% of ‖P‖²_F, against 62% for i.i.d. keys).
 */
function smoothInputs(r: Rng, T: number, S: number, D: number) {
  const walk = (n: number, c: number) => {
    const out = new Float64Array(n * c), state = r.normalArray(c);
    for (let j = 0; j < n; j++) {
      for (let f = 0; f < c; f++) out[j * c + f] = state[f] = 0.98 * state[f] + 0.2 * r.normal();
    }
    return out;
  };
  const qa = r.normalArray(T * D), ka = walk(S, D), va = walk(S, D);
  const f32 = (a: Float64Array, n: number) => tf.tensor2d(Float32Array.from(a), [n, D]);
  return { q: f32(qa, T), k: f32(ka, S), v: f32(va, S) };
}

/** E = F = means over S/k consecutive tokens (a pooling projection, Wang et al. 2020 §4). */
function meanPool(S: number, k: number): tf.Tensor2D {
  const w = S / k; // row a averages tokens a·w … (a + 1)·w − 1
  const entries = Float32Array.from(
    { length: k * S },
    (_, i) => Math.floor((i % S) / w) === Math.floor(i / S) ? 1 / w : 0,
  );
  return tf.tensor2d(entries, [k, S]);
}

/** ‖a − b‖ / ‖b‖, the cosine between a and b, and ‖a‖ / ‖b‖, flattened. */
function compare(a: ArrayLike<number>, b: ArrayLike<number>): { err: number; cos: number; norm: number } {
  let diff = 0, bb = 0, aa = 0, ab = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    aa += a[i] * a[i];
    bb += b[i] * b[i];
    ab += a[i] * b[i];
  }
  return { err: Math.sqrt(diff / bb), cos: ab / Math.sqrt(aa * bb), norm: Math.sqrt(aa / bb) };
}

// Measured (T = 32, D = 16, mean of 4 seeds), relative error ‖Y_lin − Y‖/‖Y‖ for k = 8 / 32 / 128 (/ 256 = S):
//   mean pooling:    0.0798 / 0.0136 / 0.00234 (/ 0)  cosine 0.9967 / 0.99991 / 0.999997
//   Gaussian E = F:  9.06 / 3.81 / 1.27 (/ 0.997)     cosine −0.004 / 0.35 / 0.32 (/ 0.31),
//                                                     ‖Y_lin‖/‖Y‖ 9.0 / 4.0 / 1.15 (/ 0.64)
// Untrained Gaussian projections are not an approximation of attention: their error falls because
// the output's norm shrinks towards the exact output's while its direction stays far off, and even
// at k = S it is no better than predicting 0. Linformer learns E and F; random ones are only its start.
Deno.test("Linformer's error against exact attention falls as k grows (S = 256, smooth inputs, 4 seeds)", async () => {
  await initBackend({ backend: "cpu", print: false });
  const [T, S, D, seeds, ks] = [32, 256, 16, 4, [8, 32, 128]];
  const zero = () => ks.map(() => ({ err: 0, cos: 0, norm: 0 }));
  const mean = { gaussian: zero(), pool: zero() };
  for (let s = 0; s < seeds; s++) {
    const r = rng(`linformer-trend-${s}`);
    const { q, k, v } = smoothInputs(r, T, S, D);
    const exact = attention(q, k, v);
    const y = exact.output.dataSync();
    ks.forEach((kk, i) => {
      const p = linformerProjections(S, kk, r.fork(`E-${kk}`), { sharing: "key-value" }); // E = F
      const pool = meanPool(S, kk);
      for (const [name, E] of [["gaussian", p.get(0, 0).E], ["pool", pool]] as const) {
        const out = linformerAttention(q, k, v, E, E);
        const c = compare(out.dataSync(), y);
        for (const key of ["err", "cos", "norm"] as const) mean[name][i][key] += c[key] / seeds;
        out.dispose();
      }
      p.dispose();
      pool.dispose();
    });
    tf.dispose([q, k, v, exact.output, exact.weights]);
  }
  const report = JSON.stringify(mean);
  const [pool, gauss] = [mean.pool.map((m) => m.err), mean.gaussian.map((m) => m.err)];
  // Mean pooling converges: monotone, at least 10× smaller from k = 8 to 128, and below 1% at k = 128.
  assert(pool[0] > pool[1] && pool[1] > pool[2], `pooling error not decreasing: ${report}`);
  assert(pool[0] / pool[2] > 10 && pool[2] < 0.01 && mean.pool[2].cos > 0.999, `pooling bounds: ${report}`);
  // Gaussian: monotone, at least 3× smaller from k = 8 to 128 — yet above 1 and poorly aligned throughout.
  assert(gauss[0] > gauss[1] && gauss[1] > gauss[2], `Gaussian error not decreasing: ${report}`);
  assert(gauss[0] / gauss[2] > 3, `Gaussian ratio: ${report}`);
  assert(gauss.every((e) => e > 1) && mean.gaussian.every((m) => m.cos < 0.5), `Gaussian caveat: ${report}`);
});
