import * as tf from "@tensorflow/tfjs";
import { multiply, subtract, transpose } from "mathjs";
import { assert, assertEquals, assertNotEqual, assertThrows, TEST_BACKENDS } from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { rng } from "../random.ts";
import { jlMinDim } from "./jl.ts";
import type { Float64Matrix } from "./matrix.ts";
import { gaussianProjection, pairwiseDistortion, sparseProjection } from "./projection.ts";
import { svd } from "./svd.ts";

const KINDS = {
  gaussian: (k: number, n: number, seed: string) => gaussianProjection(k, n, rng(seed)),
  achlioptas: (k: number, n: number, seed: string) => sparseProjection(k, n, rng(seed)),
  "very sparse": (k: number, n: number, seed: string) =>
    sparseProjection(k, n, rng(seed), { density: 1 / Math.sqrt(n) }),
};

for (const backend of TEST_BACKENDS) {
  Deno.test(`projections are drawn only from the given Rng: same seed, same matrix (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const before = tf.memory().numTensors;
    // Gaussian: entries are the stream's first k·n normals times 1/√k, row by row; the stream moves on by k·n
    const r = rng("proj-seed"), p = gaussianProjection(3, 5, r);
    const normals = rng("proj-seed").normalArray(16);
    assertEquals(
      Array.from(p.dataSync()),
      Array.from(Float32Array.from(normals.subarray(0, 15), (x) => 0 + (1 / Math.sqrt(3)) * x)),
    );
    assertEquals(r.normal(), normals[15]);
    // sparse: one uniform per entry, row by row
    const r2 = rng("proj-seed"), sp = sparseProjection(4, 6, r2, { density: 0.5 });
    const u = rng("proj-seed").uniformArray(25);
    const expected = Array.from(
      u.subarray(0, 24),
      (x) => x < 0.25 ? -1 / Math.sqrt(2) : x < 0.5 ? 1 / Math.sqrt(2) : 0,
    );
    assertEquals(Array.from(sp.dataSync()), Array.from(Float32Array.from(expected)));
    assertEquals(r2.uniform(), u[24]);
    assertEquals(tf.memory().numTensors, before + 2, "each call returns exactly one tensor");
    tf.dispose([p, sp]);
    for (const [kind, make] of Object.entries(KINDS)) {
      const [a, b, c] = [make(8, 30, "s1"), make(8, 30, "s1"), make(8, 30, "s2")];
      assertEquals(Array.from(a.dataSync()), Array.from(b.dataSync()), `${kind}: same seed, different matrix`);
      assertNotEqual(Array.from(a.dataSync()), Array.from(c.dataSync()), `${kind}: different seeds, same matrix`);
      assertEquals(a.shape, [8, 30]);
      tf.dispose([a, b, c]);
    }
    assertEquals(tf.memory().numTensors, before);
  });
}

Deno.test("the entries have the stated law: N(0, 1/k); ±1/√(k·d) with probability d/2 each", async () => {
  await initBackend({ backend: "cpu", print: false });
  const k = 16, n = 4000, count = k * n; // 64 000 entries
  const g = gaussianProjection(k, n, rng("law")), gd = Float64Array.from(g.dataSync());
  const mean = gd.reduce((a, b) => a + b, 0) / count, variance = gd.reduce((a, b) => a + b * b, 0) / count;
  // standard errors: mean √(1/k / count) = 0.001, variance √(2/count)/k = 0.00035 (0.56%)
  assert(Math.abs(mean) < 0.004, `Gaussian mean ${mean}`);
  assert(Math.abs(variance * k - 1) < 0.025, `Gaussian variance·k ${variance * k}`);
  for (const d of [1 / 3, 1 / Math.sqrt(n)]) {
    const s = sparseProjection(k, n, rng(`law/${d}`), { density: d }), sd = s.dataSync();
    const value = 1 / Math.sqrt(k * d);
    let plus = 0, minus = 0;
    for (const x of sd) {
      if (x === 0) continue;
      assert(Math.abs(Math.abs(x) - value) < 1e-6 * value, `entry ${x} is not ±${value}`);
      if (x > 0) plus++;
      else minus++;
    }
    // binomial standard error of the share of non-zeros: √(d(1−d)/count)
    const se = Math.sqrt((d * (1 - d)) / count);
    assert(Math.abs((plus + minus) / count - d) < 4 * se, `density ${(plus + minus) / count} vs ${d}`);
    assert(Math.abs(plus - minus) < 4 * Math.sqrt(plus + minus), `signs unbalanced: +${plus} −${minus}`);
    s.dispose();
  }
  g.dispose();
});

Deno.test("E‖P·x‖² = ‖x‖² with variance 2/k (+ Σx⁴/‖x‖⁴·(1/d − 3)/k when sparse), over 400 seeded draws", async () => {
  await initBackend({ backend: "cpu", print: false });
  const n = 64, k = 16, draws = 400;
  const dense = rng("x").normalArray(n), e1 = new Float64Array(n).fill(0).map((_, i) => +(i === 0));
  const variances: Record<string, number> = {};
  for (const [xName, x] of [["dense x", dense], ["x = e₁", e1]] as const) {
    const xx = x.reduce((a, b) => a + b * b, 0), x4 = x.reduce((a, b) => a + b ** 4, 0) / xx ** 2;
    for (const [kind, d] of [["gaussian", 1 / 3], ["achlioptas", 1 / 3], ["very sparse", 1 / 8]] as const) {
      const r = rng(`moments/${xName}/${kind}`);
      const ratios = Array.from({ length: draws }, () => {
        const p = kind === "gaussian" ? gaussianProjection(k, n, r) : sparseProjection(k, n, r, { density: d });
        const pd = p.dataSync();
        p.dispose();
        let sum = 0;
        for (let i = 0; i < k; i++) {
          let z = 0;
          for (let j = 0; j < n; j++) z += pd[i * n + j] * x[j];
          sum += z * z;
        }
        return sum / xx;
      });
      const mean = ratios.reduce((a, b) => a + b, 0) / draws;
      const variance = ratios.reduce((a, b) => a + (b - mean) ** 2, 0) / (draws - 1);
      const theory = 2 / k + (x4 * (1 / d - 3)) / k; // d = 1/3 for Gaussian too: the extra term is 0
      // the mean: within 4 standard errors √(theory/draws) ≈ 0.018 (0.033 for very sparse on e₁);
      // the variance: within 30% (its relative standard error is ≈ √((kurtosis − 1)/draws) ≈ 8%)
      assert(Math.abs(mean - 1) < 4 * Math.sqrt(theory / draws), `${xName} ${kind}: mean ‖Px‖²/‖x‖² = ${mean}`);
      assert(Math.abs(variance / theory - 1) < 0.3, `${xName} ${kind}: variance ${variance}, theory ${theory}`);
      variances[`${xName} ${kind}`] = variance;
    }
  }
  // the very sparse projection pays on sparse inputs: 7/16 against 2/16
  assert(variances["x = e₁ very sparse"] > 2.5 * variances["x = e₁ gaussian"], JSON.stringify(variances));
});

Deno.test("pairwise distortion falls as k grows (≈ 2/√(πk) on average) and k = jlMinDim(N, 0.5) keeps it below 0.5", async () => {
  await initBackend({ backend: "cpu", print: false });
  const N = 40, n = 200;
  const x: Float64Matrix = { data: rng("points").normalArray(N * n), shape: [N, n] };
  for (const [kind, make] of Object.entries(KINDS)) {
    let previous = Infinity;
    for (const k of [8, 32, 128, 512]) {
      const p = make(k, n, `distortion/${kind}/${k}`);
      const d = pairwiseDistortion(x, p);
      p.dispose();
      assertEquals(d.pairs, (N * (N - 1)) / 2);
      assert(d.max < previous, `${kind}: max distortion ${d.max} at k=${k} is not below ${previous}`);
      previous = d.max;
      // |χ²_k/k − 1| has mean ≈ √(2/k)·√(2/π) = 2/√(πk); measured 0.89–1.13 of it on these seeds
      const ratio = d.mean / (2 / Math.sqrt(Math.PI * k));
      assert(ratio > 0.7 && ratio < 1.3, `${kind} k=${k}: mean distortion ${d.mean} is ${ratio} × 2/√(πk)`);
      assert(d.minRatio >= 1 - d.max && d.maxRatio <= 1 + d.max);
    }
    assert(previous < 0.3, `${kind}: max distortion ${previous} at k = 512`);
    const k = jlMinDim(N, 0.5); // 178
    const p = make(k, n, `jl/${kind}`), d = pairwiseDistortion(x, p);
    p.dispose();
    assert(d.max < 0.5, `${kind}: max distortion ${d.max} at the JL dimension ${k}`);
  }
});

Deno.test("pairwiseDistortion() is 0 for isometries, exact for 2·I, matches mathjs, skips equal points", async () => {
  await initBackend({ backend: "cpu", print: false });
  const n = 6, N = 7;
  const rows = Array.from({ length: N }, (_, i) => Array.from(rng(`iso/${i}`).normalArray(n)));
  rows.push(rows[2].slice()); // a duplicate: the pair (2, 7) has no defined ratio
  const eye = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => +(i === j)));
  const id = pairwiseDistortion(rows, eye);
  assertEquals({ ...id }, { max: 0, mean: 0, minRatio: 1, maxRatio: 1, pairs: (8 * 7) / 2 - 1 });
  const twice = pairwiseDistortion(rows, eye.map((r) => r.map((v) => 2 * v)));
  assertEquals([twice.max, twice.minRatio, twice.maxRatio], [3, 4, 4]);
  const q = svd({ data: rng("iso/q").normalArray(n * n), shape: [n, n] }).u; // orthogonal
  assert(pairwiseDistortion(rows, q).max < 1e-13, "an orthogonal P changed a distance");
  // the twin: ratios by mathjs matrix products, P [3, 6]
  const p = Array.from({ length: 3 }, (_, i) => Array.from(rng(`iso/p${i}`).normalArray(n)));
  const y = multiply(rows, transpose(p)) as number[][];
  let max = 0, sum = 0, pairs = 0;
  for (let i = 0; i < rows.length; i++) {
    for (let j = i + 1; j < rows.length; j++) {
      const dx = subtract(rows[i], rows[j]) as number[], dy = subtract(y[i], y[j]) as number[];
      const xx = multiply(dx, dx) as number, yy = multiply(dy, dy) as number;
      if (xx === 0) continue;
      max = Math.max(max, Math.abs(yy / xx - 1));
      sum += Math.abs(yy / xx - 1);
      pairs++;
    }
  }
  const d = pairwiseDistortion(rows, p);
  assert(Math.abs(d.max - max) < 1e-12 * max && Math.abs(d.mean - sum / pairs) < 1e-12 * max, `${d.max} vs ${max}`);
  // tensors in, no tensors made
  const xt = tf.tensor2d(rows), pt = tf.tensor2d(p), before = tf.memory().numTensors;
  const fromTensors = pairwiseDistortion(xt, pt);
  assertEquals(tf.memory().numTensors, before);
  assertEquals(
    fromTensors,
    pairwiseDistortion(
      rows.map((r) => Array.from(Float32Array.from(r))),
      p.map((r) => Array.from(Float32Array.from(r))),
    ),
  );
  tf.dispose([xt, pt]);
});

Deno.test("the projection helpers name bad input", () => {
  const r = rng(0);
  assertThrows(
    () => gaussianProjection(0, 5, r),
    RangeError,
    "Cannot make a Gaussian projection: k must be an integer ≥ 1, got 0",
  );
  assertThrows(() => gaussianProjection(2, 1.5, r), RangeError, "n must be an integer ≥ 1, got 1.5");
  assertThrows(() => gaussianProjection(2, 3, 42 as never), TypeError, "r must be an Rng (from rng(seed)), got number");
  assertThrows(
    () => sparseProjection(2, 3, r, { density: 0 }),
    RangeError,
    "Cannot make a sparse projection: density must be in (0, 1], got 0",
  );
  assertThrows(() => sparseProjection(2, 3, r, { density: 1.5 }), RangeError, "density must be in (0, 1], got 1.5");
  assertThrows(
    () => pairwiseDistortion([[1, 2], [3, 4]], [[1, 2, 3]]),
    TypeError,
    "Cannot measure the pairwise distortion: the projection must have as many columns as the points (2), got [1,3]",
  );
  assertThrows(() => pairwiseDistortion([[1, 2]], [[1, 2]]), RangeError, "need at least two points (rows of x), got 1");
  assertThrows(
    () => pairwiseDistortion([[1, 2], [1, 2]], [[1, 2]]),
    RangeError,
    "all 2 points are equal, so no distance is defined",
  );
  assertThrows(
    () => pairwiseDistortion([[1, NaN], [1, 2]], [[1, 2]]),
    RangeError,
    "entries must be finite numbers, got NaN at (0, 1)",
  );
});
