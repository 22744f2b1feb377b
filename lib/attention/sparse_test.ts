import * as tf from "@tensorflow/tfjs";
import {
  assert,
  assertEquals,
  assertNotEqual,
  assertThrows,
  f32,
  maxAbsDiff,
  naiveAttention,
  TEST_BACKENDS,
} from "../_testing.ts";
import { initBackend } from "../backend.ts";
import { rng } from "../random.ts";
import { attention } from "./scaled_dot_product.ts";
import {
  gatherAttention,
  gatherPlan,
  patternDensity,
  sparseAttention,
  sparseIndices,
  sparseMask,
  type SparsePattern,
} from "./sparse.ts";

const TOL = 1e-5; // float32 kernel vs float64 twin, values of order 1

/** The rules of SparsePattern written directly as a predicate (random keys excluded). */
function keepTwin(T: number, S: number, pattern: SparsePattern): (i: number, j: number) => boolean {
  const { local, dilation = 1, stride, fixed, global = [], causal } = pattern;
  return (i, j) => {
    const p = i + S - T;
    if (causal && j > p) return false;
    if (global.includes(p) || global.includes(j)) return true;
    if (local !== undefined && Math.abs(p - j) <= local * dilation && (p - j) % dilation === 0) return true;
    if (stride !== undefined && (p - j) % stride === 0) return true;
    if (fixed) {
      const { block, summary = 1 } = fixed;
      if (Math.floor(j / block) === Math.floor(p / block) || j % block >= block - summary) return true;
    }
    return false;
  };
}

const DETERMINISTIC: SparsePattern[] = [
  { local: 0 },
  { local: 2 },
  { local: 1, dilation: 3 },
  { stride: 3 },
  { local: 2, stride: 3 }, // Child et al. strided (with causal below)
  { fixed: { block: 4 } },
  { fixed: { block: 3, summary: 2 } },
  { global: [0, 5] },
  { local: 1, global: [2] }, // Longformer
  { local: 1, dilation: 2, stride: 4, fixed: { block: 5 }, global: [1] },
];

Deno.test("sparseIndices() and sparseMask() keep exactly the pairs each rule names", async () => {
  await initBackend({ backend: "cpu", print: false });
  for (const base of DETERMINISTIC) {
    for (const causal of [false, true]) {
      for (const [T, S] of [[1, 1], [9, 9], [4, 11], ...(causal ? [] : [[11, 4]])]) {
        const pattern = { ...base, causal };
        if (pattern.global?.some((g) => g >= S)) continue;
        const keep = keepTwin(T, S, pattern);
        const rows = sparseIndices(T, S, pattern);
        const mask = sparseMask(T, S, pattern);
        const m = mask.dataSync();
        let kept = 0;
        for (let i = 0; i < T; i++) {
          const expected = [...Array(S).keys()].filter((j) => keep(i, j));
          kept += expected.length;
          assertEquals(rows[i], expected, `${JSON.stringify(pattern)} T=${T} S=${S} row ${i}`);
          for (let j = 0; j < S; j++) assertEquals(m[i * S + j] === 1, keep(i, j));
        }
        assertEquals(patternDensity(T, S, pattern), kept / (T * S));
        mask.dispose();
      }
    }
  }
});

Deno.test("sparseIndices() matches hand-checked rows of the papers' patterns", () => {
  // Child et al. strided, l = 4: the previous 3 keys and every 4th before.
  assertEquals(sparseIndices(12, 12, { local: 3, stride: 4, causal: true })[11], [3, 7, 8, 9, 10, 11]);
  // Child et al. fixed, l = 4, c = 1: own block so far and the last key of every earlier block.
  assertEquals(sparseIndices(12, 12, { fixed: { block: 4 }, causal: true })[9], [3, 7, 8, 9]);
  // Longformer dilated window: radius 2, dilation 2.
  assertEquals(sparseIndices(12, 12, { local: 2, dilation: 2 })[6], [2, 4, 6, 8, 10]);
  // A global query sees everything; everyone sees it.
  const rows = sparseIndices(6, 6, { local: 0, global: [4] });
  assertEquals([rows[4], rows[1]], [[0, 1, 2, 3, 4, 5], [1, 4]]);
  // Fully causal attention is local ≥ T − 1 with causal; its density is (T + 1) / 2T.
  assertEquals(patternDensity(10, 10, { local: 9, causal: true }), 55 / 100);
});

Deno.test("random keys are seeded, uniform, distinct, causal and join the other rules as a union", () => {
  const T = 200, S = 50, perRow = 5;
  const r = rng("sparse-random-test");
  const a = sparseIndices(T, S, { random: { perRow, rng: r } });
  assertEquals(sparseIndices(T, S, { random: { perRow, rng: rng("sparse-random-test") } }), a, "same seed");
  assertEquals(sparseIndices(T, S, { random: { perRow, rng: r } }), a, "the rng must not advance");
  assertNotEqual(sparseIndices(T, S, { random: { perRow, rng: rng("other") } }), a, "other seed");
  assert(a.every((row) => row.length === perRow && new Set(row).size === perRow), "perRow distinct keys");
  // Uniform over keys: chi-square with 49 degrees of freedom, bound = mean + 5 standard deviations.
  const counts = new Array(S).fill(0);
  a.flat().forEach((j) => counts[j]++);
  const expected = (T * perRow) / S;
  const chi2 = counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
  assert(chi2 < 49 + 5 * Math.sqrt(2 * 49), `chi-square ${chi2}`);
  // Causal: keys only from the past; rows with fewer than perRow past keys take them all.
  const c = sparseIndices(8, 8, { random: { perRow: 3, rng: r }, causal: true });
  c.forEach((row, i) => {
    assertEquals(row.length, Math.min(3, i + 1));
    assert(row.every((j) => j <= i), `row ${i} sees the future: ${row}`);
  });
  // BigBird = random ∪ window ∪ global, the random part unchanged by the others.
  const random = sparseIndices(30, 30, { random: { perRow: 2, rng: r } });
  const rest = sparseIndices(30, 30, { local: 1, global: [0] });
  const bigbird = sparseIndices(30, 30, { random: { perRow: 2, rng: r }, local: 1, global: [0] });
  bigbird.forEach((row, i) => assertEquals(row, [...new Set([...random[i], ...rest[i]])].sort((x, y) => x - y)));
});

for (const backend of TEST_BACKENDS) {
  Deno.test(`sparseAttention() matches the Float64 loop and masked attention() for every pattern (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("sparse-attention-test");
    const patterns: SparsePattern[] = [
      ...DETERMINISTIC,
      { random: { perRow: 3, rng: r.fork("a") } },
      { random: { perRow: 2, rng: r.fork("b") }, local: 1, global: [0] }, // BigBird
      { global: [3] }, // causal: rows 0–2 see no key
    ];
    for (const base of patterns) {
      for (const causal of [false, true]) {
        for (const [T, S, D, Dv] of [[1, 1, 4, 3], [9, 9, 8, 5], [4, 7, 4, 2]]) {
          const pattern = { ...base, causal };
          if (pattern.global?.some((g) => g >= S)) continue;
          const rows = sparseIndices(T, S, pattern);
          const keep = (i: number, j: number) => rows[i].includes(j);
          if (!pattern.random) {
            const twin = keepTwin(T, S, pattern);
            for (let i = 0; i < T; i++) for (let j = 0; j < S; j++) assertEquals(keep(i, j), twin(i, j));
          }
          const [qa, ka, va] = [r.normalArray(T * D), r.normalArray(S * D), r.normalArray(S * Dv)];
          const [q, k, v] = [f32(qa, [T, D]), f32(ka, [S, D]), f32(va, [S, Dv])];
          const before = tf.memory().numTensors;
          const out = sparseAttention(q, k, v, pattern);
          assertEquals(tf.memory().numTensors, before + 1, "sparseAttention() leaked tensors");
          const got = out.dataSync();
          const what = `${JSON.stringify({ ...pattern, random: pattern.random?.perRow })} T=${T} S=${S}`;
          const err = maxAbsDiff(got, naiveAttention(qa, ka, va, T, S, D, Dv, keep).out);
          assert(err < TOL, `${what}: error ${err} vs the Float64 loop`);
          const mask = sparseMask(T, S, pattern);
          const ref = attention(q, k, v, { mask });
          assert(maxAbsDiff(got, ref.output.dataSync()) < TOL, `${what}: differs from attention()`);
          rows.forEach((row, i) => {
            if (row.length === 0) assertEquals(Array.from(got.slice(i * Dv, (i + 1) * Dv)), new Array(Dv).fill(0));
          });
          tf.dispose([q, k, v, out, mask, ref.output, ref.weights]);
        }
      }
    }
  });

  Deno.test(`gatherAttention() handles batches, per-slice key lists, huge logits and NaN (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("sparse-batch-test");
    const [B, H, T, S, D, Dv] = [2, 3, 6, 8, 4, 5];
    const q = r.tensor([B, H, T, D]), k = r.tensor([B, H, S, D]), v = r.tensor([B, H, S, Dv]);
    const [qa, ka, va] = [q, k, v].map((t) => Float64Array.from(t.dataSync()));
    const slice = (a: Float64Array, s: number, n: number) => a.subarray(s * n, (s + 1) * n);
    // Shared pattern (global query rows go to a second group).
    const pattern: SparsePattern = { local: 1, global: [7], random: { perRow: 1, rng: r }, causal: true };
    const rows = sparseIndices(T, S, pattern);
    const shared = sparseAttention(q, k, v, pattern).dataSync();
    // Per-slice lists: a different random subset for each of the B·H slices.
    const lists = [...Array(B * H * T)].map(() => [...Array(S).keys()].filter(() => r.uniform() < 0.4));
    const perSlice = gatherAttention(q, k, v, lists, { scale: 0.7 }).dataSync();
    for (let s = 0; s < B * H; s++) {
      const [qs, ks, vs] = [slice(qa, s, T * D), slice(ka, s, S * D), slice(va, s, S * Dv)];
      const a = naiveAttention(qs, ks, vs, T, S, D, Dv, (i, j) => rows[i].includes(j)).out;
      assert(maxAbsDiff(shared.subarray(s * T * Dv, (s + 1) * T * Dv), a) < TOL, `shared pattern, slice ${s}`);
      const b = naiveAttention(qs, ks, vs, T, S, D, Dv, (i, j) => lists[s * T + i].includes(j), 0.7).out;
      assert(maxAbsDiff(perSlice.subarray(s * T * Dv, (s + 1) * T * Dv), b) < TOL, `per-slice lists, slice ${s}`);
    }
    // Huge logits: one-hot on the largest score.
    const big = tf.tensor2d([[1000, 0]]),
      keys = tf.tensor2d([[1, 0], [2, 0], [3, 0]]),
      vals = tf.tensor2d([[1], [5], [9]]);
    assertEquals(Array.from(gatherAttention(big, keys, vals, [[0, 1]], { scale: 1 }).dataSync()), [5]);
    // NaN: a NaN query spoils its row only; a NaN value spoils only the rows that see it.
    // (Row 0 is padded to width 2 with key 0, whose value is NaN: padding must not leak it.)
    const two = tf.tensor2d([[1, 0], [NaN, 0], [0, 1]]);
    const nanVals = tf.tensor2d([[NaN], [5], [9]]);
    const out = gatherAttention(two, keys, nanVals, [[1], [1, 2], [0, 2]]).dataSync();
    assert(out[0] === 5 && Number.isNaN(out[1]) && Number.isNaN(out[2]), `got ${out}`);
    tf.dispose([q, k, v, big, keys, vals, two, nanVals]);
  });
}

Deno.test("the skipping kernel's work is O(T·W), not T·S: no intermediate reaches T×S", async () => {
  await initBackend({ backend: "cpu", print: false });
  const r = rng("sparse-work");
  const [T, D, Dv] = [256, 8, 8];
  const pattern: SparsePattern = { local: 2, global: [0] }; // Longformer: 255 rows of ≤ 6 keys, 1 full row
  const plan = gatherPlan(sparseIndices(T, T, pattern));
  assertEquals(plan.buckets.map((b) => [b.rows.length, b.width]), [[T - 1, 6], [1, T]]);
  assertEquals(plan.cells, (T - 1) * 6 + T);
  assertEquals(plan.kept, patternDensity(T, T, pattern) * T * T);
  // One group only when no row is much longer than the others.
  assertEquals(gatherPlan(sparseIndices(T, T, { local: 3 })).buckets.length, 1);
  const q = r.tensor([T, D]), k = r.tensor([T, D]), v = r.tensor([T, Dv]);
  const info = await tf.profile(() => sparseAttention(q, k, v, pattern));
  const largest = Math.max(...info.kernels.flatMap((kn) => kn.outputShapes.map((s) => s.reduce((a, b) => a * b, 1))));
  assert(info.kernels.some((kn) => kn.name === "GatherV2"), "expected the keys to be gathered");
  assert(largest <= plan.cells * Math.max(D, Dv), `an intermediate has ${largest} elements > cells·D`);
  // The bound is meaningful: a kernel that formed any [T, S] scores tensor would break it.
  assert(plan.cells * Math.max(D, Dv) < T * T, "the test needs cells·D < T·S");
  tf.dispose([q, k, v, info.result as tf.Tensor]);
});

Deno.test("sparse attention names bad patterns, key lists and tensors", async () => {
  await initBackend({ backend: "cpu", print: false });
  const q = tf.zeros([5, 4]), k = tf.zeros([6, 4]), v = tf.zeros([6, 3]);
  const msg = "Cannot build a sparse pattern: ";
  assertThrows(() => sparseIndices(5, 5, {}), TypeError, `${msg}pattern must give at least one of local`);
  assertThrows(() => sparseIndices(5, 5, { windw: 3 } as never), TypeError, `${msg}unknown field "windw"`);
  assertThrows(() => sparseIndices(5, 5, { local: -1 }), RangeError, `${msg}local must be an integer ≥ 0, got -1`);
  assertThrows(() => sparseIndices(5, 5, { stride: 0 }), RangeError, "stride must be an integer ≥ 1, got 0");
  assertThrows(() => sparseIndices(5, 5, { stride: 2, dilation: 2 }), TypeError, "dilation needs local");
  assertThrows(
    () => sparseIndices(5, 5, { global: [5] }),
    RangeError,
    "global positions must be integers in [0, 5), got 5",
  );
  assertThrows(
    () => sparseIndices(5, 5, { fixed: { block: 2, summary: 3 } }),
    RangeError,
    "fixed.summary must be at most fixed.block (2), got 3",
  );
  assertThrows(
    () => sparseIndices(5, 5, { random: { perRow: 2, rng: Math.random } as never }),
    TypeError,
    "random must be { perRow, rng } with rng an Rng",
  );
  assertThrows(
    () => sparseAttention(k, q, q, { local: 1, causal: true }),
    RangeError,
    "a causal pattern needs at least as many keys as queries, got T=6, S=5",
  );
  assertThrows(
    () => sparseAttention(q, tf.zeros([6, 2]), v, { local: 1 }),
    TypeError,
    "Cannot compute sparse attention: keys must have the same last dimension as queries (4), got shape [6,2]",
  );
  assertThrows(() => sparseAttention(q, k, q, { local: 1 }), TypeError, "values must have as many rows as keys (6)");
  assertThrows(
    () => gatherAttention(q, k, v, [[0]]),
    TypeError,
    "Cannot compute gathered attention: keys must be 5 lists (one per query), got 1",
  );
  assertThrows(
    () => gatherAttention(q, k, v, [[0], [6], [], [], []]),
    RangeError,
    "keys[1] must hold integers in [0, 6), got 6",
  );
  assertThrows(
    () => gatherAttention(q, k, v, [[0], [2, 2], [], [], []]),
    RangeError,
    "keys[1] must not repeat a key, got 2 twice",
  );
  assertThrows(() => gatherAttention(q, k, v, [[0]], { scale: Infinity }), RangeError, "scale must be a finite number");
  tf.dispose([q, k, v]);
});
