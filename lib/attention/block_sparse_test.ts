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
  type BlockPattern,
  blockPatternDensity,
  blockPatternKeys,
  blockPatternMask,
  blockSparseAttention,
} from "./block_sparse.ts";

const TOL = 1e-5; // float32 kernel vs float64 twin, values of order 1

/** The rules of BlockPattern written directly as a predicate on tokens (random blocks excluded). */
function keepTwin(T: number, S: number, pattern: BlockPattern): (i: number, j: number) => boolean {
  const { block, window, global = [], causal } = pattern;
  return (i, j) => {
    const p = i + S - T; // the query's key position
    const qb = Math.floor(p / block), kb = Math.floor(j / block);
    if (causal && j > p) return false;
    if (global.includes(qb) || global.includes(kb)) return true;
    return window !== undefined && Math.abs(qb - kb) <= window;
  };
}

/** keep(i, j) from the kernel's own block lists (used where random blocks take part). */
function keepFromKeys(T: number, S: number, pattern: BlockPattern): (i: number, j: number) => boolean {
  const keys = blockPatternKeys(T, S, pattern);
  const b = pattern.block;
  return (i, j) => (!pattern.causal || j <= i + S - T) && keys[Math.floor(i / b)].includes(Math.floor(j / b));
}

/** Whether a pattern applies to T queries and S keys (blocks line up, global blocks exist, causal T ≤ S). */
function fits(T: number, S: number, p: BlockPattern): boolean {
  return (S - T) % p.block === 0 && !(p.global ?? []).some((g) => g >= Math.ceil(S / p.block)) &&
    !(p.causal && T > S);
}

const DETERMINISTIC: BlockPattern[] = [
  { block: 2, window: 0 },
  { block: 3, window: 1 },
  { block: 4, window: 2 },
  { block: 2, global: [1] },
  { block: 2, window: 1, global: [0, 3] }, // Longformer / BigBird-ITC without random
  { block: 1, window: 1, global: [0] }, // blocks of one token: Longformer's token-level pattern
  { block: 3, global: [0], window: 0 },
];
const SIZES = [[1, 1], [8, 8], [11, 11], [5, 11], [11, 5], [12, 24]];

Deno.test("blockPatternKeys(), blockPatternMask() and blockPatternDensity() keep exactly the pairs each rule names", async () => {
  await initBackend({ backend: "cpu", print: false });
  let checked = 0;
  for (const base of DETERMINISTIC) {
    for (const causal of [false, true]) {
      for (const [T, S] of SIZES) {
        const pattern = { ...base, causal };
        if (!fits(T, S, pattern)) continue;
        const keep = keepTwin(T, S, pattern);
        const m = blockPatternMask(T, S, pattern);
        const mask = m.dataSync();
        const keys = blockPatternKeys(T, S, pattern);
        assertEquals(keys.length, Math.ceil(T / base.block));
        let kept = 0;
        for (let i = 0; i < T; i++) {
          for (let j = 0; j < S; j++) {
            assertEquals(mask[i * S + j] === 1, keep(i, j), `${JSON.stringify(pattern)} T=${T} S=${S} (${i}, ${j})`);
            if (keep(i, j)) kept++;
          }
        }
        assertEquals(blockPatternDensity(T, S, pattern), kept / (T * S));
        keys.forEach((row) => assertEquals(row, [...row].sort((x, y) => x - y)));
        m.dispose();
        checked++;
      }
    }
  }
  assert(checked > 50, `only ${checked} cases fit`);
});

Deno.test("blockPatternKeys() matches hand-checked rows of BigBird- and Longformer-like patterns", () => {
  // 8 blocks, window 1, blocks 0 and 7 global (BigBird-ITC): block 0 sees all, block 3 sees 0, 2, 3, 4, 7.
  const keys = blockPatternKeys(64, 64, { block: 8, window: 1, global: [0, 7] });
  assertEquals(keys[0], [0, 1, 2, 3, 4, 5, 6, 7]);
  assertEquals(keys[3], [0, 2, 3, 4, 7]);
  assertEquals(keys[6], [0, 5, 6, 7]);
  // Causal: the future blocks go, a global query block sees only the past.
  const causal = blockPatternKeys(64, 64, { block: 8, window: 1, global: [0, 5], causal: true });
  assertEquals([causal[3], causal[5], causal[7]], [[0, 2, 3], [0, 1, 2, 3, 4, 5], [0, 5, 6, 7]]);
  // S > T: query block a sits on key block a + (S − T)/block; the last blocks are short (10 = 4 + 4 + 2).
  assertEquals(blockPatternKeys(6, 10, { block: 4, window: 0, causal: true }), [[1], [2]]);
  // Full causal attention is one block; its density is (T + 1) / 2T.
  assertEquals(blockPatternDensity(10, 10, { block: 10, window: 0, causal: true }), 55 / 100);
  // BigBird-like at T = 4096, block 64: (3 window + 1 global + 2 random) of 64 blocks for 62 rows, 2 full rows.
  const r = rng("density");
  const big = { block: 64, window: 1, global: [0], random: { perRow: 2, rng: r } };
  const rows = blockPatternKeys(4096, 4096, big);
  assertEquals(rows.map((row) => row.length).join(), [64, 5, ...new Array(61).fill(6), 5].join());
});

Deno.test("random blocks are seeded, distinct, new to the row, causal and spread over the blocks", () => {
  const r = rng("block-random-test");
  const T = 400, b = 2, perRow = 3; // 200 query blocks over 200 key blocks
  const pattern: BlockPattern = { block: b, window: 1, global: [0], random: { perRow, rng: r } };
  const a = blockPatternKeys(T, T, pattern);
  assertEquals(blockPatternKeys(T, T, { ...pattern, random: { perRow, rng: rng("block-random-test") } }), a, "seed");
  assertEquals(blockPatternKeys(T, T, pattern), a, "the rng must not advance");
  assertNotEqual(blockPatternKeys(T, T, { ...pattern, random: { perRow, rng: rng("other") } }), a, "other seed");
  const rest = blockPatternKeys(T, T, { block: b, window: 1, global: [0] });
  const counts = new Array(T / b).fill(0);
  a.forEach((row, q) => {
    const extra = row.filter((c) => !rest[q].includes(c));
    assert(rest[q].every((c) => row.includes(c)), `row ${q} lost a window or global block`);
    // Global row 0 already sees every block; the others get exactly perRow new blocks.
    assertEquals(extra.length, q === 0 ? 0 : perRow, `row ${q}`);
    extra.forEach((c) => counts[c]++);
  });
  // Uniform over the free blocks: chi-square over blocks 1 … 199 (block 0 is global, never drawn),
  // comparing with each block's expected count (a block cannot be drawn by itself or its neighbours).
  const expected = counts.map((_, c) => {
    let e = 0;
    for (let q = 1; q < T / b; q++) if (!rest[q].includes(c)) e += perRow / (T / b - rest[q].length);
    return e;
  });
  const chi2 = counts.reduce((acc, n, c) => c === 0 ? acc : acc + (n - expected[c]) ** 2 / expected[c], 0);
  const dof = T / b - 2;
  assert(chi2 < dof + 5 * Math.sqrt(2 * dof), `chi-square ${chi2} for ${dof} degrees of freedom`);
  // Causal: random blocks come from the past only; a row with fewer free past blocks takes them all.
  const c = blockPatternKeys(16, 16, { block: 2, random: { perRow: 3, rng: r }, causal: true });
  c.forEach((row, q) => {
    assertEquals(row.length, Math.min(3, q + 1));
    assert(row.every((x) => x <= q), `row ${q} sees the future: ${row}`);
  });
});

for (const backend of TEST_BACKENDS) {
  Deno.test(`blockSparseAttention() matches the Float64 loop and masked attention() for every pattern (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("block-sparse-test");
    const patterns: BlockPattern[] = [
      ...DETERMINISTIC,
      { block: 2, random: { perRow: 2, rng: r.fork("a") } },
      { block: 3, window: 1, global: [0], random: { perRow: 1, rng: r.fork("b") } }, // BigBird
      { block: 2, window: 0, global: [1, 2], random: { perRow: 2, rng: r.fork("c") } },
      { block: 2, global: [2] }, // causal: query blocks 0–1 see no key block
      { block: 2, global: [0] }, // causal: every query block sees block 0 alone, block 0 through its triangle
    ];
    let checked = 0;
    for (const base of patterns) {
      for (const causal of [false, true]) {
        for (const [T, S, D, Dv] of [[1, 1, 4, 3], [11, 11, 8, 5], [5, 11, 4, 2], [12, 12, 4, 4], [11, 5, 4, 3]]) {
          const pattern = { ...base, causal };
          if (!fits(T, S, pattern)) continue;
          const keep = keepFromKeys(T, S, pattern);
          if (!pattern.random) {
            const twin = keepTwin(T, S, pattern);
            for (let i = 0; i < T; i++) for (let j = 0; j < S; j++) assertEquals(keep(i, j), twin(i, j));
          }
          const [qa, ka, va] = [r.normalArray(T * D), r.normalArray(S * D), r.normalArray(S * Dv)];
          const [q, k, v] = [f32(qa, [T, D]), f32(ka, [S, D]), f32(va, [S, Dv])];
          const before = tf.memory().numTensors;
          const out = blockSparseAttention(q, k, v, pattern);
          assertEquals(tf.memory().numTensors, before + 1, "blockSparseAttention() leaked tensors");
          assertEquals(out.shape, [T, Dv]);
          const got = out.dataSync();
          const what = `${JSON.stringify({ ...pattern, random: pattern.random?.perRow })} T=${T} S=${S}`;
          const err = maxAbsDiff(got, naiveAttention(qa, ka, va, T, S, D, Dv, keep).out);
          assert(err < TOL, `${what}: error ${err} vs the Float64 loop`);
          const mask = blockPatternMask(T, S, pattern);
          const ref = attention(q, k, v, { mask });
          const diff = maxAbsDiff(got, ref.output.dataSync());
          assert(diff < TOL, `${what}: differs from attention() by ${diff}`);
          for (let i = 0; i < T; i++) {
            if ([...Array(S).keys()].every((j) => !keep(i, j))) {
              assertEquals(Array.from(got.slice(i * Dv, (i + 1) * Dv)), new Array(Dv).fill(0), `${what}: row ${i}`);
            }
          }
          tf.dispose([q, k, v, out, mask, ref.output, ref.weights]);
          checked++;
        }
      }
    }
    assert(checked > 60, `only ${checked} cases fit`);
  });

  Deno.test(`blockSparseAttention() handles batches [B, H, T, D], one block, T = block = 1, huge logits and NaN (${backend})`, async () => {
    await initBackend({ backend, print: false });
    const r = rng("block-sparse-batch");
    const [B, H, T, D, Dv] = [2, 3, 24, 8, 5];
    const q = r.tensor([B, H, T, D]), k = r.tensor([B, H, T, D]), v = r.tensor([B, H, T, Dv]);
    const [qa, ka, va] = [q, k, v].map((t) => Float64Array.from(t.dataSync()));
    const slice = (a: Float64Array, s: number, n: number) => a.subarray(s * n, (s + 1) * n);
    for (const causal of [false, true]) {
      const pattern: BlockPattern = { block: 4, window: 1, global: [5], random: { perRow: 1, rng: r }, causal };
      const keep = keepFromKeys(T, T, pattern);
      const before = tf.memory().numTensors;
      const out = blockSparseAttention(q, k, v, pattern, { scale: 0.7 });
      assertEquals(tf.memory().numTensors, before + 1, "blockSparseAttention() leaked tensors");
      assertEquals(out.shape, [B, H, T, Dv]);
      const got = out.dataSync();
      for (let s = 0; s < B * H; s++) {
        const twin = naiveAttention(
          slice(qa, s, T * D),
          slice(ka, s, T * D),
          slice(va, s, T * Dv),
          T,
          T,
          D,
          Dv,
          keep,
          0.7,
        );
        const err = maxAbsDiff(got.subarray(s * T * Dv, (s + 1) * T * Dv), twin.out);
        assert(err < TOL, `causal=${causal} slice ${s}: error ${err}`);
      }
      const mask = blockPatternMask(T, T, pattern);
      const ref = attention(q, k, v, { mask, scale: 0.7 });
      assert(maxAbsDiff(got, ref.output.dataSync()) < TOL, `causal=${causal}: differs from attention()`);
      tf.dispose([out, mask, ref.output, ref.weights]);
    }
    // One block (block = T) is dense attention, causal or not; so is T = block = 1.
    for (
      const [x, y, z, n] of [[q, k, v, T], [
        tf.slice(q, 0, [B, H, 1, D]),
        tf.slice(k, 0, [B, H, 1, D]),
        tf.slice(v, 0, [B, H, 1, Dv]),
        1,
      ]] as const
    ) {
      for (const causal of [false, true]) {
        const out = blockSparseAttention(x, y, z, { block: n, window: 0, causal });
        const ref = attention(x, y, z, { causal });
        assert(maxAbsDiff(out.dataSync(), ref.output.dataSync()) < TOL, `block = T = ${n}, causal=${causal}`);
        tf.dispose([out, ref.output, ref.weights]);
      }
      if (n === 1) tf.dispose([x, y, z]);
    }
    // Huge logits: one-hot on the largest visible score (key 2 is in another block, unseen).
    const big = tf.tensor2d([[1000, 0], [-1000, 0]]);
    const keys = tf.tensor2d([[1, 0], [2, 0], [3, 0], [-1, 0]]), vals = tf.tensor2d([[1], [5], [9], [7]]);
    const hot = blockSparseAttention(big, tf.slice(keys, 0, 2), tf.slice(vals, 0, 2), { block: 2, window: 0 }, {
      scale: 1,
    });
    assertEquals(Array.from(hot.dataSync()), [5, 1]);
    // NaN: a NaN query spoils its own row only; a NaN value spoils only the rows whose blocks see it.
    const nanQ = tf.tensor2d([[NaN, 0], [1, 0], [0, 1], [1, 1]]);
    const nanV = tf.tensor2d([[1], [2], [NaN], [4]]);
    const nanOut = blockSparseAttention(nanQ, keys, nanV, { block: 2, window: 0 }).dataSync();
    assert(Number.isNaN(nanOut[0]) && Number.isFinite(nanOut[1]), `query NaN: got ${nanOut}`);
    assert(Number.isNaN(nanOut[2]) && Number.isNaN(nanOut[3]), `value NaN: got ${nanOut}`);
    tf.dispose([q, k, v, big, keys, vals, hot, nanQ, nanV]);
  });
}

Deno.test("blockSparseAttention() computes only the kept blocks: softmax cells = density·T·S, no gather, no T×S", async () => {
  await initBackend({ backend: "cpu", print: false });
  const r = rng("block-sparse-work");
  const [T, D, block] = [256, 8, 16];
  const pattern: BlockPattern = { block, window: 1, global: [0, 1], random: { perRow: 1, rng: r } };
  const q = r.tensor([T, D]), k = r.tensor([T, D]), v = r.tensor([T, D]);
  const info = await tf.profile(() => blockSparseAttention(q, k, v, pattern));
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const softmaxCells = info.kernels.filter((kn) => kn.name === "Softmax").reduce(
    (a, kn) => a + size(kn.outputShapes[0]),
    0,
  );
  assertEquals(softmaxCells, blockPatternDensity(T, T, pattern) * T * T);
  assert(!info.kernels.some((kn) => kn.name === "GatherV2"), "keys must be sliced, not gathered");
  const largest = Math.max(...info.kernels.flatMap((kn) => kn.outputShapes.map(size)));
  // The two global query blocks share one [2·block, S] product: the largest intermediate.
  assertEquals(largest, 2 * block * T);
  // q, Kᵀ and V are cut into blocks once (a split tree of fan-out 4: 16 blocks = 1 + 4 splits each), never sliced
  // per query block (on wasm every slice copies its whole input); then ≤ 6 kernels per group of query blocks.
  const count = (name: string) => info.kernels.filter((kn) => kn.name === name).length;
  assertEquals([count("Slice"), count("SplitV"), count("Softmax")], [0, 3 * 5, 15]);
  assert(info.kernels.length <= 2 + 3 * 5 + 6 * 15 + 1, `${info.kernels.length} kernels`);
  tf.dispose([q, k, v, info.result as tf.Tensor]);
});

Deno.test("block-sparse attention names bad patterns and tensors", async () => {
  await initBackend({ backend: "cpu", print: false });
  const q = tf.zeros([8, 4]), k = tf.zeros([8, 4]), v = tf.zeros([8, 3]);
  const msg = "Cannot build a block pattern: ";
  assertThrows(() => blockPatternKeys(8, 8, { block: 2 }), TypeError, `${msg}pattern must give at least one of window`);
  assertThrows(
    () => blockPatternKeys(8, 8, { window: 1 } as never),
    RangeError,
    `${msg}block must be an integer ≥ 1, got undefined`,
  );
  assertThrows(
    () => blockPatternKeys(8, 8, { block: 0, window: 1 }),
    RangeError,
    `${msg}block must be an integer ≥ 1, got 0`,
  );
  assertThrows(() => blockPatternKeys(8, 8, { block: 2, windw: 1 } as never), TypeError, `${msg}unknown field "windw"`);
  assertThrows(
    () => blockPatternKeys(8, 8, { block: 2, window: -1 }),
    RangeError,
    `${msg}window must be an integer ≥ 0, got -1`,
  );
  assertThrows(
    () => blockPatternKeys(8, 8, { block: 2, window: 1.5 }),
    RangeError,
    "window must be an integer ≥ 0, got 1.5",
  );
  assertThrows(
    () => blockPatternKeys(6, 9, { block: 2, window: 1 }),
    RangeError,
    `${msg}S − T must be a multiple of block (2) so that query blocks line up with key blocks, got T=6, S=9`,
  );
  assertThrows(
    () => blockPatternMask(8, 8, { block: 3, global: [3] }),
    RangeError,
    `${msg}global blocks must be integers in [0, 3) (S=8 keys in blocks of 3), got 3`,
  );
  assertThrows(
    () => blockPatternKeys(8, 8, { block: 2, global: [-1] }),
    RangeError,
    "global blocks must be integers in [0, 4)",
  );
  assertThrows(() => blockPatternKeys(8, 8, { block: 2, global: 1 } as never), TypeError, "global must be an array");
  assertThrows(
    () => blockPatternKeys(8, 8, { block: 2, random: { perRow: 2, rng: Math.random } as never }),
    TypeError,
    "random must be { perRow, rng } with rng an Rng",
  );
  assertThrows(
    () => blockPatternKeys(8, 8, { block: 2, random: { perRow: -1, rng: rng(1) } }),
    RangeError,
    "random.perRow must be an integer ≥ 0, got -1",
  );
  assertThrows(
    () => blockPatternKeys(8, 8, { block: 2, window: 1, causal: 1 } as never),
    TypeError,
    "causal must be a boolean",
  );
  assertThrows(
    () => blockSparseAttention(q, tf.zeros([4, 4]), tf.zeros([4, 3]), { block: 2, window: 1, causal: true }),
    RangeError,
    "a causal pattern needs at least as many keys as queries, got T=8, S=4",
  );
  assertThrows(
    () => blockSparseAttention(q, tf.zeros([8, 2]), v, { block: 2, window: 1 }),
    TypeError,
    "Cannot compute block-sparse attention: keys must have the same last dimension as queries (4), got shape [8,2]",
  );
  assertThrows(
    () => blockSparseAttention(q, k, tf.zeros([6, 3]), { block: 2, window: 1 }),
    TypeError,
    "values must have as many rows as keys (8)",
  );
  assertThrows(
    () => blockSparseAttention(tf.zeros([2, 8, 4]), k, v, { block: 2, window: 1 }),
    TypeError,
    "queries, keys and values must share batch dimensions",
  );
  assertThrows(
    () => blockSparseAttention(tf.zeros([4]), k, v, { block: 2, window: 1 }),
    TypeError,
    "queries must be a tf.Tensor of rank 2 or more",
  );
  assertThrows(
    () => blockSparseAttention(q, k, v, { block: 2, window: 1 }, { scale: NaN }),
    RangeError,
    "scale must be a finite number",
  );
  tf.dispose([q, k, v]);
});
